/*
 * config - load /etc/milter-relay.conf (libconfig) and its domains_file
 *
 * config_load() reads the file (see milter-relay.conf(5)) and returns a
 * complete, immutable configuration: daemon settings, the relay policy
 * and the rule set (inline "domains" list plus "domains_file").  It
 * returns NULL on the first error and writes "FILE:LINE: reason" into
 * err; nothing is half loaded.  Unknown settings, wrong types, bad
 * values and duplicate patterns are errors.
 *
 * config_load_domains_file() adds the rules of a flat domains_file to a
 * rule set: one rule a line, "pattern [relay=...] [smarthost=...]
 * [transport=...] [reply=\"...\"]", blank lines and lines starting with
 * "# " (hash, space) or "#" alone ignored; a line starting with "#"
 * followed by a non-space is an exact-match pattern.  0 or -1 with
 * "FILE:LINE: reason" in err.
 *
 * config_parse_domains_line() parses one such line (the unit that the
 * domains_file fuzz target drives); 0 added, 1 comment or blank, -1 error.
 * config_domains_line_pattern() writes the canonical pattern of a
 * domains_file line into canon (PATTERN_MAX + 1 octets): 0, 1 for a
 * comment or a blank line, -1 for a line that does not split (no message:
 * config_parse_domains_line() gives it).
 * config_parse_domains_row() adds the row that rulerow_split() would make
 * of a line, with the same checks and messages, 0 or -1: for a row that
 * rulerow_format() accepted (a rules_source row), the line need not be
 * split again, since rulerow_split() of that line gives the row back.
 *
 * rules_source ("postgresql:CONNINFO") and rules_cache (a path, relative
 * to the config file's directory) are only checked and kept here: the
 * daemon adds the database's rules (milter/source.c); config_load()
 * itself never opens a connection.  rules_cache needs rules_source.
 *
 * One builder, one immutable configuration: config_begin() reads the
 * file (settings, inline rules, domains_file) into a builder, or NULL
 * with err; rules are added to it, config_builder_rules() being the rule
 * set for rows (config_parse_domains_row(), pgsource_load()) and
 * config_builder_file() adding a domains_file (rules_cache);
 * config_builder_config() reads its settings.  config_begin_flags() is
 * config_begin() with CONFIG_RECORD (the domains_file's lines are recorded
 * as they are read, lib/filediff.h, for the next reload to diff against;
 * config_builder_record() takes that record, NULL when there is none or
 * the file changed while it was read) or CONFIG_NO_DOMAINS_FILE (the
 * settings and the inline rules only; the domains_file is not read).
 * config->domains_file is the domains_file's path as opened, either way.  config_finish() returns
 * the immutable configuration with everything derived from all the
 * rules at once: the TLS policy table (config->tls: the rows' tls
 * settings too, a smart host given two policies refused) and the smart
 * hosts' credentials (config->sasl, saslpasswd.h, a hop given two
 * refused alike); or NULL with the reason in err.  No table is built
 * twice.  config_finish() and config_abort() free the builder.
 * config_load() is config_begin() then config_finish() ("PATH: reason").
 * config_begin_over() is a builder over a finished configuration whose
 * file can no longer be read (a restarted worker whose file and database
 * both fail: the last file rules plus rules_cache): its settings, and a
 * new rule set with its rules added again ("rule \"PATTERN\": reason"
 * when one is refused now, e.g. its recipients_file is gone), or NULL
 * with err.  The configuration is not changed until config_finish()
 * succeeds, which returns it with the new rule set and the tables
 * derived from all of it; a failed finish, or config_abort(), leaves it
 * exactly as it was (rule set, TLS and credentials tables).
 *
 * config_free() releases everything (NULL is fine).
 */
#ifndef MR_CONFIG_H
#define MR_CONFIG_H

#include <stddef.h>

#include "localmail.h"
#include "netaddr.h"
#include "rulerow.h"
#include "ruleset.h"

#define CONFIG_DEFAULT_PATH	"/etc/milter-relay.conf"
#define CONFIG_SOURCE_PGSQL	"postgresql:"	/* rules_source prefix */
/* how long the milter waits for the MTA's next command, in seconds */
#define CONFIG_MILTER_TIMEOUT	1800
#define CONFIG_MILTER_TIMEOUT_MAX	86400

enum unmatched_policy {
	UNMATCHED_REJECT,	/* 554 5.7.1 <addr>: Relay access denied */
	UNMATCHED_TEMPFAIL,	/* 451 4.7.1 */
	UNMATCHED_CONTINUE	/* leave it to the MTA */
};

enum route_check {
	ROUTE_CHECK_OFF,
	ROUTE_CHECK_LOG,	/* log when the MTA routes elsewhere (default) */
	ROUTE_CHECK_ENFORCE	/* and tempfail that recipient */
};

enum verify_unknown {
	VERIFY_UNKNOWN_TEMPFAIL,	/* 450 4.1.1 (default) */
	VERIFY_UNKNOWN_ACCEPT
};

/* The "verify" group: recipient callouts and their cache. */
struct verify_settings {
	char		*cache;		/* LMDB file; NULL: VERIFY_CACHE_DEFAULT */
	long		 positive_expire;	/* seconds */
	long		 negative_expire;	/* seconds */
	long		 cache_size;		/* entries */
	long		 timeout_ms;		/* one probe, in all */
	long		 max_probes;		/* at once */
	long		 max_probes_per_client;	/* at once, per address */
	char		*helo_name;		/* NULL: the host name */
	char		*unknown_reply;		/* NULL: the default */
};

#define VERIFY_CACHE_DEFAULT	"/var/lib/milter-relay/verify.lmdb"
#define VERIFY_POSITIVE_EXPIRE	(31L * 86400)	/* as Postfix */
#define VERIFY_NEGATIVE_EXPIRE	(3L * 86400)	/* as Postfix */
#define VERIFY_CACHE_SIZE	100000L
#define VERIFY_TIMEOUT_MS	8000L	/* below Sendmail's 10 s R= */
#define VERIFY_MAX_PROBES	32L
#define VERIFY_MAX_PROBES_CLIENT 8L

struct policy {
	enum unmatched_policy unmatched;
	struct netlist	*trusted_networks;
	int		trust_authenticated;	/* default 1 */
	int		trust_local_socket;	/* unix-socket clients; default 0 */
	int		log_only;		/* mode = "log-only" */
	enum route_check route_check;
	struct localmail local_mailers;	/* default local, virtual, lmtp */
	enum verify_unknown verify_unknown;
};

struct saslpasswd;
struct tlspolicy;

struct config {
	char		*path;		/* file it was loaded from */
	/* daemon settings; NULL when unset */
	char		*socket;
	char		*socketmap;
	char		*metrics;	/* HTTP endpoint, inet:PORT@HOST */
	char		*user;
	char		*group;
	char		*pidfile;
	char		*maps_dir;	/* static mode: LMDB tables, or NULL */
	char		*syslog_facility;
	int		socket_mode;	/* -1 when unset */
	int		milter_timeout;	/* s, CONFIG_MILTER_TIMEOUT default */
	char		*rules_source;	/* "postgresql:CONNINFO", or NULL */
	char		*rules_cache;	/* snapshot of its rules, or NULL */
	char		*domains_file;	/* its path as opened, or NULL */
	struct policy	policy;
	struct verify_settings verify;
	struct ruleset	*rules;
	struct tlspolicy *tls;		/* next hop -> TLS policy, or NULL */
	struct saslpasswd *sasl;	/* next hop -> credentials, or NULL */
	/* canonical patterns of the inline "domains" list, in order */
	char		**inline_patterns;
	size_t		ninline_patterns;
};

struct config *config_load(const char *path, char *err, size_t errlen);
int	config_load_domains_file(struct ruleset *rules, const char *path,
	    char *err, size_t errlen);
int	config_parse_domains_line(struct ruleset *rules, const char *line,
	    size_t len, char *err, size_t errlen);
int	config_parse_domains_row(struct ruleset *rules,
	    const struct rulerow *row, char *err, size_t errlen);
int	config_domains_line_pattern(const char *line, size_t len,
	    char *canon);
struct config_builder;
struct filediff;
#define CONFIG_RECORD		0x01	/* the domains_file's filediff */
#define CONFIG_NO_DOMAINS_FILE	0x02	/* settings and inline rules */
struct config_builder *config_begin(const char *path, char *err,
	    size_t errlen);
struct config_builder *config_begin_flags(const char *path, int flags,
	    char *err, size_t errlen);
struct config_builder *config_begin_over(struct config *config, char *err,
	    size_t errlen);
struct filediff *config_builder_record(struct config_builder *b);
struct ruleset *config_builder_rules(struct config_builder *b);
const struct config *config_builder_config(const struct config_builder *b);
int	config_builder_file(struct config_builder *b, const char *path,
	    char *err, size_t errlen);
struct config *config_finish(struct config_builder *b, char *err,
	    size_t errlen);
void	config_abort(struct config_builder *b);
void	config_free(struct config *config);

#endif
