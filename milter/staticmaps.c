/*
 * staticmaps - static mode: the rule set as LMDB tables Postfix reads
 *
 * staticmaps_publish() is called once for every configuration the worker
 * has just published (start, reload, rules_source notification), never
 * per recipient, by one thread at a time.  When the configuration sets
 * maps_dir, it keeps in that directory the tables of export.h, as
 * Postfix's lmdb: tables (one unnamed database a file, opened
 * MDB_NOSUBDIR; every key and every value ends with a NUL byte, as
 * postmap(1) writes them):
 *
 *	access.lmdb		postfix-access (check_recipient_access,
 *				first for every client: the replies of
 *				deny rules, and the names held, below)
 *	relay_domains.lmdb	postfix-relay-domains (relay_domains)
 *	transport.lmdb		postfix-transport (transport_maps)
 *	tls_policy.lmdb		postfix-tls-policy (smtp_tls_policy_maps)
 *
 * When the new rule set is a later generation of the one last written
 * (overlay.h: a PostgreSQL change, a domains_file diff) and the settings
 * the entries depend on are the same (export_settings()), only the keys
 * whose entries changed are written: export_below() makes the entries at
 * and below each name whose rules changed (its subtree: an entry is left
 * out when a parent's says the same, and deny carve-outs depend on the
 * rules above) from the old rules and from the new, and their difference
 * is put and deleted in one LMDB write transaction a table on the file
 * in place (NUL-terminated keys and values, as postmap(1) writes them),
 * access.lmdb first.  tls_policy.lmdb (one entry a next hop) is made
 * whole and compared with the file.  Postfix opens its lmdb: tables
 * MDB_NOLOCK with an fcntl(2) lock of its own (slmdb.c, dict_lmdb.c):
 * each lookup takes a shared lock and a new read transaction, so the
 * writer takes the exclusive lock for its transaction, as postmap -i
 * does, and every later lookup of smtpd and trivial-rewrite sees the
 * new keys (no restart needed: dict_lmdb is DICT_FLAG_MULTI_WRITER, whose
 * time stamp dict_changed_name() does not watch).  A growing table gets
 * its map size raised to the file's size plus room for the new entries
 * (readers then see MDB_MAP_RESIZED and adopt it, slmdb_recover()).
 * After relay_domains or transport changed, access.lmdb is written whole
 * as well (aside, renamed): smtpd keeps the addresses it resolved while
 * the process runs, and the renamed table has it restart after its
 * session, as before.
 *
 * The whole files are written instead (each table exported whole and
 * compared with the file in place; each that differs, or is missing,
 * written aside as NAME.lmdb.tmp, synced, and renamed over NAME.lmdb,
 * access.lmdb first: Postfix never sees a half-written table, and its
 * daemons notice the unlinked file by themselves and re-open it after
 * their session) for the first write, a rule set not a generation of the
 * last written (a full reload), other settings, after a failed write or
 * while every name is held, for a change of more than
 * STATICMAPS_INPLACE_MIN patterns and more than 1/STATICMAPS_INPLACE_PART
 * of the rules (a sorted table appended whole costs less than as many
 * random puts, and the subtrees to export approach the set), and when an
 * in-place write meets MDB_MAP_FULL or a reader holding its lock for
 * STATICMAPS_LOCK_MS.  The log says "updated N keys in place" or
 * "wrote TABLES ... (whole files: why)"; milter_relay_static_writes_total
 * counts result="in_place" apart from result="ok".
 *
 * smtpd(8) re-opens a renamed access table at its next session (and
 * sees a key written in place at its next lookup), but relay_domains
 * and transport are trivial-rewrite(8)'s, which takes up to about 16 s
 * to notice a renamed table, and its clients cache an answer for 30 s
 * (smtpd keeps what it resolved while it runs).  So every name whose
 * relay permission or route changed is held (routehold.h): the access
 * table answers 451 4.7.1 for it, to every client, for
 * ROUTEHOLD_SECONDS.  staticmaps_wait_ms() says how long
 * until a hold is up (-1: none held); staticmaps_release() then takes
 * the held entries whose time is up out of the access table (written
 * whole and renamed: smtpd forgets what it resolved during the hold).
 * Mail for a changed name is never relayed or routed by the old tables.
 * The tables are the exporter's typed entries (export_table()), never
 * printed and parsed back; a held entry is known by its kind, not by its
 * reply (a deny rule may read like one).  The held names and the access
 * table last written are remembered in memory, and the held names with
 * their times in maps_dir/holds (written before the access table), where
 * a restarted worker finds them.  A table created where there was none
 * holds nothing (Postfix cannot have used the old one).  An update in
 * place holds the same names: the holds are made from the entries below
 * the changed names, old and new, and the access table's entries
 * elsewhere are the last written, with the holds that are up let go.
 *
 * staticmaps_publish() returns STATICMAPS_OK, or, with the tables
 * already in maps_dir left as they were and the error logged (naming
 * the rule) and counted (milter_relay_static_writes_total):
 * STATICMAPS_REFUSED when the exporter cannot express the rule set (a
 * deny exception in a relayed namespace, ...: such a rule set needs
 * maps-only mode, contrib/postfix/main-maps.cf), STATICMAPS_FAILED when
 * a table cannot be written (then staticmaps_retry_due() says when to
 * publish the rules in force again).  The worker calls it before a
 * reload takes effect, and refuses the reload when it fails: the tables
 * are never older than the rules in force.  With STATICMAPS_LIVE (the
 * configuration is in force already: start, retry) a failure holds
 * every name of the tables in place instead, until a publish succeeds;
 * when that fails too, Postfix answers from tables older than the rules
 * in force: metrics_static_stale() marks them stale (the gauge
 * milter_relay_static_tables_stale, /healthz 503) until a write or a
 * hold succeeds.
 * staticmaps_check() is the export alone, for -t: 0, or -1 with the
 * rule named in err.
 *
 * Postfix refuses every recipient domain with an 8-bit octet before the
 * tables (main-static.cf: the tables hold A-labels, and Postfix does not
 * map a U-label as the rules do), so a relay or route rule whose name
 * has an A-label ("xn--") is reached in static mode only in that form,
 * by trusted clients too.  staticmaps_idn_rules() hands say() one
 * sentence for each such rule, both forms named (the first
 * STATICMAPS_IDN_SAY, then how many more), and returns how many there
 * are: -t calls it, and a publish logs it for the rules it wrote (every
 * rule when written whole, the changed ones when in place), once a
 * load.
 *
 * staticmaps_read() and staticmaps_write() read and write one such table
 * file (saslmaps.c writes its secret one with them, mode 0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <idn2.h>
#include <lmdb.h>

#include "config.h"
#include "export.h"
#include "kvtable.h"
#include "overlay.h"
#include "routehold.h"
#include "ruleset.h"
#include "safefile.h"
#include "strutil.h"

#include "log.h"
#include "metrics.h"
#include "staticmaps.h"

#define STATICMAPS_MAP_MIN	(1024 * 1024)	/* LMDB map size, bytes */
#define STATICMAPS_MAP_FACTOR	4	/* map size per byte of a table */
#define STATICMAPS_HOLDS	"holds"	/* the held names, in maps_dir */
#define STATICMAPS_RETRY_MS	5000	/* a failed write tried again */
#define STATICMAPS_LOCK_MS	5000	/* waiting for Postfix's readers */
#define STATICMAPS_INPLACE_MIN	64	/* changed patterns: in place, */
#define STATICMAPS_INPLACE_PART	8	/* or up to 1/8 of the rules */
#define STATICMAPS_IDN_SAY	10	/* A-label rules named, the rest counted */

enum staticmaps_table {
	TABLE_ACCESS,		/* renamed first: the holds before the rest */
	TABLE_RELAY,
	TABLE_TRANSPORT,
	TABLE_TLS,
	TABLE_COUNT
};

static const struct {
	const char		*name;	/* NAME.lmdb */
	enum export_format	 format;
} staticmaps_tables[TABLE_COUNT] = {
	[TABLE_ACCESS] = { "access", EXPORT_POSTFIX_ACCESS },
	[TABLE_RELAY] = { "relay_domains", EXPORT_POSTFIX_RELAY_DOMAINS },
	[TABLE_TRANSPORT] = { "transport", EXPORT_POSTFIX_TRANSPORT },
	[TABLE_TLS] = { "tls_policy", EXPORT_POSTFIX_TLS_POLICY },
};

/*
 * The held names, the directory of the last tables written, and the next
 * time a name's hold is up (monotonic ms, 0: none).
 */
static struct routehold staticmaps_holds;
static int staticmaps_holds_read;
static char *staticmaps_dir;
static struct kvtable staticmaps_access;	/* as last written, typed */
static struct kvtable staticmaps_deny;	/* its deny rules' entries */
static atomic_llong staticmaps_due_ms;
static atomic_llong staticmaps_retry_ms;	/* a failed write again, 0 */
static int staticmaps_held_all;	/* every name held: no release */
/* the rules last written (held) and export_settings() of them, or NULL */
static struct ruleset *staticmaps_rules;
static char *staticmaps_settings;

/* The names whose rules changed, and a table to tell a key below them. */
struct staticmaps_scope {
	char		**names;
	size_t		 n, cap;
	struct hsearch_data table;
	int		 made;
};

/* staticmaps_idn_note(): where the sentences go, how many rules so far */
struct staticmaps_idn {
	staticmaps_say_fn *say;
	size_t		 n;
};

enum staticmaps_way {
	WAY_DONE,		/* updated in place */
	WAY_WHOLE,		/* the whole files instead: why says why */
	WAY_REFUSED,		/* STATICMAPS_REFUSED */
	WAY_FAILED		/* STATICMAPS_FAILED */
};

static enum staticmaps_result staticmaps_whole(const struct config *config,
		    int flags, double start, const char *why);
static enum staticmaps_way staticmaps_inplace(const struct config *config,
		    size_t *keys, const char **why, char *err, size_t errlen);
static int	staticmaps_changes(const struct config *config,
		    struct staticmaps_scope *sc, const char **why);
static int	staticmaps_in_scope(struct staticmaps_scope *sc,
		    const char *key);
static void	staticmaps_scope_free(struct staticmaps_scope *sc);
static int	staticmaps_access_merge(const struct kvtable *released,
		    const struct kvtable *part, const struct routehold *holds,
		    struct staticmaps_scope *sc, struct kvtable *out);
static int	staticmaps_apply(const char *path, const struct kvtable *old,
		    const struct kvtable *new, struct staticmaps_scope *sc,
		    size_t *keys, char *err, size_t errlen);
static int	staticmaps_update(const char *path,
		    const struct kvtable *puts, const struct kvtable *dels,
		    char *err, size_t errlen);
static void	staticmaps_remember(const struct config *config);
static void	staticmaps_forget(void);
static int	staticmaps_note(const char *pattern, const struct rule *rule,
		    void *arg);
static int	staticmaps_export(const struct config *config,
		    struct kvtable *new, struct kvtable *deny, char *err,
		    size_t errlen);
static void	staticmaps_result(const char *dir, enum staticmaps_result rc,
		    int flags, const char *err);
static void	staticmaps_hold_all(const char *dir);
static int	staticmaps_hold(const char *dir, const struct kvtable *old,
		    const struct kvtable *new, const struct kvtable *deny,
		    int had_tables, struct routehold *holds,
		    struct kvtable *access);
static int	staticmaps_holds_save(const char *dir,
		    const struct routehold *holds, char *err, size_t errlen);
static void	staticmaps_keep(struct kvtable *to, struct kvtable *from);
static int	staticmaps_idn_note(const char *pattern,
		    const struct rule *rule, void *arg);
static void	staticmaps_idn_more(const struct staticmaps_idn *idn);
static void	staticmaps_idn_changed(const struct config *config,
		    struct staticmaps_scope *sc);
static void	staticmaps_say_log(const char *msg);
static double	staticmaps_now(void);
static void	staticmaps_set_due(void);
static void	staticmaps_path(char *path, const char *dir,
		    enum staticmaps_table table, const char *suffix);

enum staticmaps_result
staticmaps_publish(const struct config *config, int flags)
{
	enum staticmaps_result rc;
	char		 err[ERRMSG_MAX];
	const char	*why = NULL;
	size_t		 keys = 0;
	double		 start = staticmaps_now();

	if (config == NULL || config->maps_dir == NULL)
		return STATICMAPS_OK;
	switch (staticmaps_inplace(config, &keys, &why, err, sizeof(err))) {
	case WAY_WHOLE:
		return staticmaps_whole(config, flags, start, why);
	case WAY_DONE:
		if (keys == 0)
			log_info("static maps: the tables in \"%s\" are up "
			    "to date (%.2f s)", config->maps_dir,
			    staticmaps_now() - start);
		else
			log_info("static maps: updated %zu keys in place in "
			    "\"%s\" (%.2f s)", keys, config->maps_dir,
			    staticmaps_now() - start);
		if (staticmaps_holds.n > 0)
			log_info("static maps: %zu names held (451 4.7.1) "
			    "until Postfix's address resolver has the new "
			    "tables", staticmaps_holds.n);
		metrics_add(keys == 0 ? MC_STATIC_OK : MC_STATIC_INPLACE);
		metrics_static_stale(0);
		return STATICMAPS_OK;
	case WAY_REFUSED:
		rc = STATICMAPS_REFUSED;
		break;
	case WAY_FAILED:
	default:
		rc = STATICMAPS_FAILED;
		break;
	}
	staticmaps_result(config->maps_dir, rc, flags, err);
	return rc;
}

/*
 * The tables written whole: each one that differs from the file in place
 * written aside and renamed over it; why (NULL: the first write) says
 * why not in place.
 */
static enum staticmaps_result
staticmaps_whole(const struct config *config, int flags, double start,
    const char *why)
{
	struct kvtable	 old[TABLE_COUNT], new[TABLE_COUNT], deny;
	struct routehold holds;		/* the new ones: kept on success */
	char		 path[TABLE_COUNT][PATH_MAX], tmp[PATH_MAX];
	char		 err[ERRMSG_MAX], names[128];
	int		 changed[TABLE_COUNT], missing[TABLE_COUNT];
	int		 i;
	size_t		 len;
	enum staticmaps_result rc = STATICMAPS_FAILED;

	routehold_init(&holds);
	kvtable_init(&deny);
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_init(&old[i]);
		kvtable_init(&new[i]);
		staticmaps_path(path[i], config->maps_dir, i, "");
	}
	if (strlen(config->maps_dir) + sizeof("/relay_domains.lmdb.tmp") >
	    PATH_MAX) {
		errmsg_set(err, sizeof(err), "maps_dir \"%s\" is too long",
		    config->maps_dir);
		goto out;
	}
	if (staticmaps_export(config, new, &deny, err, sizeof(err)) == -1) {
		rc = STATICMAPS_REFUSED;
		goto out;
	}
	for (i = 0; i < TABLE_COUNT; i++)
		if ((missing[i] = staticmaps_read(path[i], &old[i], err,
		    sizeof(err))) == -1)
			goto out;
	if (staticmaps_hold(config->maps_dir, old, new, &deny,
	    !missing[TABLE_RELAY] && !missing[TABLE_TRANSPORT], &holds,
	    &new[TABLE_ACCESS]) == -1) {
		errmsg_set(err, sizeof(err), "out of memory");
		goto out;
	}
	names[0] = '\0';
	for (i = 0, len = 0; i < TABLE_COUNT; i++) {
		changed[i] = missing[i] || !kvtable_equal(&old[i], &new[i]);
		if (!changed[i])
			continue;
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		if (staticmaps_write(tmp, &new[i], STATICMAPS_MODE, err,
		    sizeof(err)) == -1)
			goto out;
		len += (size_t)snprintf(names + len, len < sizeof(names) ?
		    sizeof(names) - len : 0, "%s%s", len ? ", " : "",
		    staticmaps_tables[i].name);
	}
	/* the holds before the access table that answers them */
	if (staticmaps_holds_save(config->maps_dir, &holds, err,
	    sizeof(err)) == -1)
		goto out;
	for (i = 0; i < TABLE_COUNT; i++) {
		if (!changed[i])
			continue;
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		if (rename(tmp, path[i]) == -1) {
			errmsg_set(err, sizeof(err), "rename \"%s\": %s", tmp,
			    strerror(errno));
			goto out;
		}
	}
	staticmaps_keep(&staticmaps_access, &new[TABLE_ACCESS]);
	staticmaps_keep(&staticmaps_deny, &deny);
	routehold_free(&staticmaps_holds);
	staticmaps_holds = holds;
	routehold_init(&holds);
	staticmaps_set_due();
	staticmaps_held_all = 0;
	atomic_store(&staticmaps_retry_ms, 0);
	if (names[0] == '\0')
		log_info("static maps: the tables in \"%s\" are up to date "
		    "(%.2f s)", config->maps_dir, staticmaps_now() - start);
	else
		log_info("static maps: wrote %s in \"%s\" (%.2f s%s%s)", names,
		    config->maps_dir, staticmaps_now() - start,
		    why != NULL ? "; whole files: " : "", why != NULL ? why : "");
	staticmaps_remember(config);
	if (staticmaps_holds.n > 0)
		log_info("static maps: %zu names held (451 4.7.1) until "
		    "Postfix's address resolver has the new tables",
		    staticmaps_holds.n);
	(void)staticmaps_idn_rules(config, staticmaps_say_log);
	rc = STATICMAPS_OK;
out:
	for (i = 0; rc != STATICMAPS_OK && i < TABLE_COUNT; i++) {
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		unlink(tmp);
	}
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_free(&old[i]);
		kvtable_free(&new[i]);
	}
	kvtable_free(&deny);
	routehold_free(&holds);
	staticmaps_result(config->maps_dir, rc, flags, err);
	return rc;
}

int
staticmaps_check(const struct config *config, char *err, size_t errlen)
{
	struct kvtable	 new[TABLE_COUNT], deny;
	int		 i, rc;

	if (config == NULL || config->maps_dir == NULL)
		return 0;
	kvtable_init(&deny);
	for (i = 0; i < TABLE_COUNT; i++)
		kvtable_init(&new[i]);
	rc = staticmaps_export(config, new, &deny, err, errlen);
	for (i = 0; i < TABLE_COUNT; i++)
		kvtable_free(&new[i]);
	kvtable_free(&deny);
	return rc;
}

size_t
staticmaps_idn_rules(const struct config *config, staticmaps_say_fn *say)
{
	struct staticmaps_idn idn = { say, 0 };

	if (config == NULL || config->maps_dir == NULL)
		return 0;
	(void)ruleset_walk(config->rules, staticmaps_idn_note, &idn);
	staticmaps_idn_more(&idn);
	return idn.n;
}

/* A rule that relays or routes a name with an A-label: named, or counted. */
static int
staticmaps_idn_note(const char *pattern, const struct rule *rule, void *arg)
{
	struct staticmaps_idn *idn = arg;
	const char	*name, *p;
	char		*ulabel = NULL, msg[ERRMSG_MAX];
	int		 prefix = pattern[0] == '#' || pattern[0] == '.';

	if (rule == NULL || rule == &rule_tombstone ||
	    rule->relay == RELAY_DENY)
		return 0;
	name = pattern + prefix;
	for (p = name; p != NULL && strncmp(p, "xn--", 4) != 0;
	    p = strchr(p, '.') != NULL ? strchr(p, '.') + 1 : NULL)
		;
	if (p == NULL || idn->n++ >= STATICMAPS_IDN_SAY)
		return 0;
	if (idn2_to_unicode_8z8z(name, &ulabel, 0) != IDN2_OK)
		ulabel = NULL;
	snprintf(msg, sizeof(msg), "static mode: rule \"%.*s%s\" (%s) is "
	    "reachable only in its A-label form: Postfix refuses 8-bit "
	    "domains (main-static.cf)", prefix, pattern,
	    ulabel != NULL ? ulabel : name, pattern);
	idn2_free(ulabel);
	idn->say(msg);
	return 0;
}

/* The A-label rules past the first STATICMAPS_IDN_SAY, counted. */
static void
staticmaps_idn_more(const struct staticmaps_idn *idn)
{
	char		 msg[ERRMSG_MAX];

	if (idn->n <= STATICMAPS_IDN_SAY)
		return;
	snprintf(msg, sizeof(msg), "static mode: %zu more rules are reachable "
	    "only in their A-label form (%zu in all): Postfix refuses 8-bit "
	    "domains (main-static.cf)", idn->n - STATICMAPS_IDN_SAY, idn->n);
	idn->say(msg);
}

/* The changed rules of an update in place with an A-label, logged. */
static void
staticmaps_idn_changed(const struct config *config,
    struct staticmaps_scope *sc)
{
	static const char *const prefixes[] = { "#", "", "." };
	struct staticmaps_idn idn = { staticmaps_say_log, 0 };
	ENTRY		 item, *found;
	char		 pattern[PATTERN_MAX + 1];
	size_t		 i, k;

	for (i = 0; i < sc->n; i++) {
		/* a name noted twice (two of its patterns changed): once */
		item.key = sc->names[i];
		if (hsearch_r(item, FIND, &found, &sc->table) == 0 ||
		    found->data != NULL)
			continue;
		found->data = found;
		for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
			snprintf(pattern, sizeof(pattern), "%s%s",
			    prefixes[k], sc->names[i]);
			(void)staticmaps_idn_note(pattern,
			    overlay_rule(config->rules, pattern), &idn);
		}
	}
	staticmaps_idn_more(&idn);
}

static void
staticmaps_say_log(const char *msg)
{
	log_warning("%s", msg);
}

/*
 * The tables in maps_dir brought from the rules last written to config's
 * by the keys whose entries changed, each table in one LMDB write
 * transaction on the file in place: WAY_DONE with the number of keys
 * written, WAY_REFUSED or WAY_FAILED with err, or WAY_WHOLE with why
 * when the whole files are to be written instead.
 */
static enum staticmaps_way
staticmaps_inplace(const struct config *config, size_t *keys,
    const char **why, char *err, size_t errlen)
{
	static const enum export_format formats[TABLE_COUNT] = {
		[TABLE_ACCESS] = EXPORT_POSTFIX_ACCESS,
		[TABLE_RELAY] = EXPORT_POSTFIX_RELAY_DOMAINS,
		[TABLE_TRANSPORT] = EXPORT_POSTFIX_TRANSPORT,
		[TABLE_TLS] = EXPORT_POSTFIX_TLS_POLICY,
	};
	struct staticmaps_scope sc;
	struct kvtable	 old[TABLE_COUNT], new[TABLE_COUNT];
	struct kvtable	 tls, deny, released, part, access;
	struct routehold holds;
	struct routehold_tables tables = {
		&old[TABLE_RELAY], &old[TABLE_TRANSPORT],
		&new[TABLE_RELAY], &new[TABLE_TRANSPORT],
	};
	struct config	 last;
	char		 path[PATH_MAX], tmp[PATH_MAX];
	double		 now = staticmaps_now();
	size_t		 i, before = 0, resolved = 0;
	int		 t, rc, written = 0;
	enum staticmaps_way way = WAY_FAILED;

	memset(&sc, 0, sizeof(sc));
	routehold_init(&holds);
	kvtable_init(&tls);
	kvtable_init(&deny);
	kvtable_init(&released);
	kvtable_init(&part);
	kvtable_init(&access);
	for (t = 0; t < TABLE_COUNT; t++) {
		kvtable_init(&old[t]);
		kvtable_init(&new[t]);
	}
	if ((rc = staticmaps_changes(config, &sc, why)) != 0) {
		way = rc == 1 ? WAY_WHOLE : WAY_FAILED;
		if (rc == -1)
			errmsg_set(err, errlen, "out of memory");
		goto out;
	}
	/* the entries at and below the changed names, before and after */
	last = *config;
	last.rules = staticmaps_rules;
	if (export_below(&last, (const char *const *)sc.names, sc.n,
	    formats, TABLE_TLS, EXPORT_DENY_BY_ACCESS | EXPORT_RECIPIENTS,
	    old, err, errlen) == -1) {
		*why = "the rules last written do not export again";
		way = WAY_WHOLE;
		goto out;
	}
	if (export_below(config, (const char *const *)sc.names, sc.n,
	    formats, TABLE_COUNT, EXPORT_DENY_BY_ACCESS | EXPORT_RECIPIENTS,
	    new, err, errlen) == -1) {
		way = WAY_REFUSED;
		goto out;
	}
	for (t = 0; t < TABLE_COUNT; t++) {
		kvtable_sort(&old[t]);
		kvtable_sort(&new[t]);
	}
	/* the holds: as staticmaps_hold() makes them, for these keys */
	routehold_expire(&staticmaps_holds, now);
	if (routehold_copy(&holds, &staticmaps_holds) == -1 ||
	    routehold_changes(&holds, &tables, now + ROUTEHOLD_SECONDS) == -1)
		goto nomem;
	/* the deny rules' table, and the access table made of it */
	for (i = 0; i < staticmaps_deny.n; i++)
		if (!staticmaps_in_scope(&sc, staticmaps_deny.v[i].key) &&
		    kvtable_add_kind(&deny, staticmaps_deny.v[i].key,
		    staticmaps_deny.v[i].value, staticmaps_deny.v[i].kind) == -1)
			goto nomem;
	for (i = 0; i < new[TABLE_ACCESS].n; i++)
		if (staticmaps_in_scope(&sc, new[TABLE_ACCESS].v[i].key) &&
		    kvtable_add_kind(&deny, new[TABLE_ACCESS].v[i].key,
		    new[TABLE_ACCESS].v[i].value,
		    new[TABLE_ACCESS].v[i].kind) == -1)
			goto nomem;
	kvtable_sort(&deny);
	if (routehold_access(&holds, &tables, &new[TABLE_ACCESS], &part) ==
	    -1 || routehold_release(&holds, &staticmaps_access,
	    &staticmaps_deny, &released) == -1 ||
	    staticmaps_access_merge(&released, &part, &holds, &sc,
	    &access) == -1)
		goto nomem;
	staticmaps_path(path, config->maps_dir, TABLE_TLS, "");
	if (staticmaps_read(path, &tls, err, errlen) != 0) {
		*why = "tls_policy.lmdb does not read";
		way = WAY_WHOLE;
		goto out;
	}
	/* the holds before the access table that answers them */
	if (staticmaps_holds_save(config->maps_dir, &holds, err, errlen) == -1)
		goto out;
	for (t = 0; t < TABLE_COUNT; t++) {
		staticmaps_path(path, config->maps_dir, t, "");
		rc = staticmaps_apply(path, t == TABLE_ACCESS ?
		    &staticmaps_access : t == TABLE_TLS ? &tls : &old[t],
		    t == TABLE_ACCESS ? &access : &new[t], t == TABLE_ACCESS ||
		    t == TABLE_TLS ? NULL : &sc, keys, err, errlen);
		if (rc == -1)
			goto out;
		if (rc == 1) {
			/* whole files: holding what was written already */
			if (written) {
				routehold_free(&staticmaps_holds);
				staticmaps_holds = holds;
				routehold_init(&holds);
			}
			*why = err;
			way = WAY_WHOLE;
			goto out;
		}
		written = 1;
		if (t == TABLE_RELAY || t == TABLE_TRANSPORT)
			resolved += *keys - before;
		before = *keys;
	}
	/*
	 * Postfix's lmdb: tables see the keys at their next lookup, but an
	 * smtpd process keeps the addresses it resolved (relay permission,
	 * route) while it runs: a new access table file, as a whole write
	 * makes it, has it restart after its session, as before.
	 */
	if (resolved > 0) {
		staticmaps_path(path, config->maps_dir, TABLE_ACCESS, "");
		staticmaps_path(tmp, config->maps_dir, TABLE_ACCESS, ".tmp");
		if (staticmaps_write(tmp, &access, STATICMAPS_MODE, err,
		    errlen) == -1)
			goto out;
		if (rename(tmp, path) == -1) {
			errmsg_set(err, errlen, "rename \"%s\": %s", tmp,
			    strerror(errno));
			unlink(tmp);
			goto out;
		}
	}
	staticmaps_keep(&staticmaps_access, &access);
	staticmaps_keep(&staticmaps_deny, &deny);
	routehold_free(&staticmaps_holds);
	staticmaps_holds = holds;
	routehold_init(&holds);
	staticmaps_set_due();
	atomic_store(&staticmaps_retry_ms, 0);
	staticmaps_remember(config);
	staticmaps_idn_changed(config, &sc);
	way = WAY_DONE;
	goto out;
nomem:
	errmsg_set(err, errlen, "out of memory");
out:
	staticmaps_scope_free(&sc);
	for (t = 0; t < TABLE_COUNT; t++) {
		kvtable_free(&old[t]);
		kvtable_free(&new[t]);
	}
	kvtable_free(&tls);
	kvtable_free(&deny);
	kvtable_free(&released);
	kvtable_free(&part);
	kvtable_free(&access);
	routehold_free(&holds);
	return way;
}

/* overlay_walk_changes() callback: a changed pattern's name, once. */
static int
staticmaps_note(const char *pattern, const struct rule *rule, void *arg)
{
	struct staticmaps_scope *sc = arg;
	char		**p;

	(void)rule;
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? 2 * sc->cap : 16;
		if ((p = reallocarray(sc->names, sc->cap,
		    sizeof(*p))) == NULL)
			return -1;
		sc->names = p;
	}
	if ((sc->names[sc->n] = strdup(pattern[0] == '#' ||
	    pattern[0] == '.' ? pattern + 1 : pattern)) == NULL)
		return -1;
	sc->n++;
	return 0;
}

/*
 * The names whose rules changed since the rules last written, into sc:
 * 0, 1 with why when the tables are to be written whole, -1 out of
 * memory.
 */
static int
staticmaps_changes(const struct config *config, struct staticmaps_scope *sc,
    const char **why)
{
	ENTRY		 item, *found;
	char		*settings, path[PATH_MAX];
	size_t		 i, max;
	int		 rc, t;

	if (staticmaps_rules == NULL) {
		*why = staticmaps_dir != NULL ? "the last write failed" : NULL;
		return 1;
	}
	if (staticmaps_held_all) {
		*why = "every name is held";
		return 1;
	}
	if (!str_same(staticmaps_dir, config->maps_dir)) {
		*why = "maps_dir changed";
		return 1;
	}
	if ((settings = export_settings(config)) == NULL)
		return -1;
	rc = str_same(settings, staticmaps_settings);
	free(settings);
	if (!rc) {
		*why = "the policy changed";
		return 1;
	}
	for (t = 0; t < TABLE_COUNT; t++) {
		staticmaps_path(path, config->maps_dir, t, "");
		if (access(path, F_OK) == -1) {
			*why = "a table is missing";
			return 1;
		}
	}
	rc = overlay_walk_changes(staticmaps_rules, config->rules,
	    staticmaps_note, sc);
	if (rc == OVERLAY_UNRELATED) {
		*why = "a full reload";
		return 1;
	}
	if (rc != 0)
		return -1;
	/* a big change costs less written whole: sorted, appended */
	max = ruleset_count(config->rules) / STATICMAPS_INPLACE_PART;
	if (sc->n > STATICMAPS_INPLACE_MIN && sc->n > max) {
		*why = "a large change";
		return 1;
	}
	if (hcreate_r(2 * sc->n + 16, &sc->table) == 0)
		return -1;
	sc->made = 1;
	for (i = 0; i < sc->n; i++) {
		item.key = sc->names[i];
		item.data = NULL;
		if (hsearch_r(item, ENTER, &found, &sc->table) == 0)
			return -1;
	}
	return 0;
}

/* 1 when key is at or below a name whose rules changed. */
static int
staticmaps_in_scope(struct staticmaps_scope *sc, const char *key)
{
	ENTRY		 item, *found;
	const char	*p;

	for (p = export_key_domain(key); p != NULL; p = strchr(p, '.') ?
	    strchr(p, '.') + 1 : NULL) {
		item.key = (char *)p;
		item.data = NULL;
		if (hsearch_r(item, FIND, &found, &sc->table) != 0)
			return 1;
	}
	return 0;
}

static void
staticmaps_scope_free(struct staticmaps_scope *sc)
{
	size_t	 i;

	if (sc->made)
		hdestroy_r(&sc->table);
	for (i = 0; i < sc->n; i++)
		free(sc->names[i]);
	free(sc->names);
	memset(sc, 0, sizeof(*sc));
}

/*
 * The access table to publish: part's entries (routehold_access() of the
 * entries below the changed names) at the keys below them, released's
 * (the table last written, the holds that are up let go) elsewhere, less
 * its entries below a hold let go.
 */
static int
staticmaps_access_merge(const struct kvtable *released,
    const struct kvtable *part, const struct routehold *holds,
    struct staticmaps_scope *sc, struct kvtable *out)
{
	const struct kvpair *e;
	const char	*k;
	size_t		 i;
	int		 below;

	for (i = 0; i < released->n; i++) {
		e = &released->v[i];
		if (staticmaps_in_scope(sc, e->key))
			continue;
		for (below = e->kind != EXPORT_KIND_BELOW, k =
		    kvtable_parent(e->key); k != NULL && !below;
		    k = kvtable_parent(k))
			below = routehold_has(holds, k);
		if (below && kvtable_add_kind(out, e->key, e->value,
		    e->kind) == -1)
			return -1;
	}
	for (i = 0; i < part->n; i++) {
		e = &part->v[i];
		if (staticmaps_in_scope(sc, e->key) &&
		    kvtable_add_kind(out, e->key, e->value, e->kind) == -1)
			return -1;
	}
	kvtable_sort(out);
	return 0;
}

/*
 * The file at path (holding old) brought to new, at the keys below the
 * names of sc (NULL: all), in place; *keys counts the keys written.  0,
 * 1 with the reason in err when the file is to be written whole (its
 * map is full, a reader holds it), -1 on error (err).
 */
static int
staticmaps_apply(const char *path, const struct kvtable *old,
    const struct kvtable *new, struct staticmaps_scope *sc, size_t *keys,
    char *err, size_t errlen)
{
	struct kvtable	 puts, dels;
	size_t		 i = 0, j = 0;
	int		 c, rc = -1;

	kvtable_init(&puts);
	kvtable_init(&dels);
	while (i < old->n || j < new->n) {
		c = i == old->n ? 1 : j == new->n ? -1 :
		    strcmp(old->v[i].key, new->v[j].key);
		if (c < 0) {
			if ((sc == NULL || staticmaps_in_scope(sc,
			    old->v[i].key)) && kvtable_add(&dels,
			    old->v[i].key, "") == -1)
				goto nomem;
			i++;
			continue;
		}
		if ((sc == NULL || staticmaps_in_scope(sc, new->v[j].key)) &&
		    (c > 0 || strcmp(old->v[i].value, new->v[j].value) != 0) &&
		    kvtable_add(&puts, new->v[j].key, new->v[j].value) == -1)
			goto nomem;
		if (c == 0)
			i++;
		j++;
	}
	rc = 0;
	if (puts.n + dels.n > 0 &&
	    (rc = staticmaps_update(path, &puts, &dels, err, errlen)) == 0)
		*keys += puts.n + dels.n;
	goto out;
nomem:
	errmsg_set(err, errlen, "out of memory");
out:
	kvtable_free(&puts);
	kvtable_free(&dels);
	return rc;
}

/*
 * Delete dels' keys and put puts' entries in the LMDB file at path, in
 * one write transaction, under the exclusive fcntl lock that Postfix's
 * lmdb: readers (MDB_NOLOCK, a shared lock a lookup) and postmap -i
 * keep: no reader is on a page the transaction reuses, and each lookup
 * after it sees it.  0, 1 with the reason in err when the file is to be
 * written whole instead (MDB_MAP_FULL, the lock not had within
 * STATICMAPS_LOCK_MS), -1 on error.
 */
static int
staticmaps_update(const char *path, const struct kvtable *puts,
    const struct kvtable *dels, char *err, size_t errlen)
{
	MDB_env		*env = NULL;
	MDB_txn		*txn = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	struct flock	 fl;
	struct stat	 st;
	struct timespec	 pause = { 0, 10 * 1000 * 1000 };
	size_t		 mapsize, i;
	int		 e, fd, waited, locked = 0, rc = -1;

	if (stat(path, &st) == -1) {
		errmsg_set(err, errlen, "\"%s\": %s", path, strerror(errno));
		return -1;
	}
	/* room for the new entries, as staticmaps_write() makes it */
	for (mapsize = (size_t)st.st_size + STATICMAPS_MAP_MIN, i = 0;
	    i < puts->n; i++)
		mapsize += STATICMAPS_MAP_FACTOR * (strlen(puts->v[i].key) +
		    strlen(puts->v[i].value) + 2);
	if ((e = mdb_env_create(&env)) != 0 ||
	    (e = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (e = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_NOSYNC, STATICMAPS_MODE)) != 0 ||
	    (e = mdb_env_get_fd(env, &fd)) != 0)
		goto fail;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	for (waited = 0; fcntl(fd, F_SETLK, &fl) == -1; waited += 10) {
		if ((errno != EACCES && errno != EAGAIN && errno != EINTR) ||
		    waited >= STATICMAPS_LOCK_MS) {
			errmsg_set(err, errlen, "\"%s\": lock: %s", path,
			    strerror(errno));
			rc = waited >= STATICMAPS_LOCK_MS ? 1 : -1;
			goto out;
		}
		nanosleep(&pause, NULL);
	}
	locked = 1;
	if ((e = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (e = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto fail;
	for (i = 0; i < dels->n; i++) {
		k.mv_data = dels->v[i].key;
		k.mv_size = strlen(dels->v[i].key) + 1;	/* with the NUL */
		if ((e = mdb_del(txn, dbi, &k, NULL)) != 0 &&
		    e != MDB_NOTFOUND)
			goto fail;
	}
	for (i = 0; i < puts->n; i++) {
		k.mv_data = puts->v[i].key;
		k.mv_size = strlen(puts->v[i].key) + 1;
		v.mv_data = puts->v[i].value;
		v.mv_size = strlen(puts->v[i].value) + 1;
		if ((e = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			goto fail;
	}
	e = mdb_txn_commit(txn);
	txn = NULL;
	if (e != 0 || (e = mdb_env_sync(env, 1)) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	errmsg_set(err, errlen, "\"%s\": %s", path, mdb_strerror(e));
	if (e == MDB_MAP_FULL)
		rc = 1;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (locked) {
		fl.l_type = F_UNLCK;
		(void)fcntl(fd, F_SETLK, &fl);
	}
	if (env != NULL)
		mdb_env_close(env);
	return rc;
}

/* The rules just written: the next publish may update them in place. */
static void
staticmaps_remember(const struct config *config)
{
	staticmaps_forget();
	staticmaps_settings = export_settings(config);
	if (staticmaps_settings != NULL)
		staticmaps_rules = ruleset_hold(config->rules);
	if (!str_same(staticmaps_dir, config->maps_dir)) {
		free(staticmaps_dir);
		staticmaps_dir = strdup(config->maps_dir);
	}
}

/* The files are not known: written whole next time. */
static void
staticmaps_forget(void)
{
	ruleset_free(staticmaps_rules);
	staticmaps_rules = NULL;
	free(staticmaps_settings);
	staticmaps_settings = NULL;
}

/* The tables of the rule set, typed and sorted: 0, or -1 (err). */
static int
staticmaps_export(const struct config *config, struct kvtable *new,
    struct kvtable *deny, char *err, size_t errlen)
{
	enum export_format formats[TABLE_COUNT];
	struct kvtable	 out[TABLE_COUNT];
	int		 i;

	for (i = 0; i < TABLE_COUNT; i++) {
		formats[i] = staticmaps_tables[i].format;
		kvtable_init(&out[i]);
	}
	/* one walk of the rules for the four tables */
	if (export_tables(config, formats, TABLE_COUNT, EXPORT_DENY_BY_ACCESS |
	    EXPORT_RECIPIENTS, out, NULL, err, errlen) == -1)
		return -1;
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_sort(&out[i]);
		*(i == TABLE_ACCESS ? deny : &new[i]) = out[i];
	}
	return 0;
}

/*
 * Count and log the result of a publish.  A failure keeps the tables in
 * place; for a configuration already in force (STATICMAPS_LIVE) every
 * name of them is held too, and a failed write is tried again.
 */
static void
staticmaps_result(const char *dir, enum staticmaps_result rc, int flags,
    const char *err)
{
	switch (rc) {
	case STATICMAPS_OK:
		metrics_add(MC_STATIC_OK);
		metrics_static_stale(0);
		return;
	case STATICMAPS_REFUSED:
		metrics_add(MC_STATIC_REFUSED);
		log_error("static maps: %s; %s (run Postfix on this rule set "
		    "in maps-only mode: contrib/postfix/main-maps.cf)", err,
		    flags & STATICMAPS_LIVE ? "holding every name of the "
		    "previous tables" : "keeping the previous tables and "
		    "rules");
		break;
	case STATICMAPS_FAILED:
		/* the files are not known: the next publish writes them whole */
		staticmaps_forget();
		metrics_add(MC_STATIC_FAILED);
		log_error("static maps: %s; %s; trying again in %d s", err,
		    flags & STATICMAPS_LIVE ? "holding every name of the "
		    "previous tables" : "keeping the previous tables and "
		    "rules", STATICMAPS_RETRY_MS / 1000);
		atomic_store(&staticmaps_retry_ms,
		    (long long)(staticmaps_now() * 1000) + STATICMAPS_RETRY_MS);
		break;
	}
	if (flags & STATICMAPS_LIVE)
		staticmaps_hold_all(dir);
}

/*
 * Fail closed: the access table in dir with every key of the relay_domains
 * and transport tables in dir held, until a publish succeeds.
 */
static void
staticmaps_hold_all(const char *dir)
{
	struct kvtable	 t[TABLE_COUNT], out;
	const struct kvpair *e;
	char		 path[PATH_MAX], tmp[PATH_MAX], err[ERRMSG_MAX];
	size_t		 i;
	int		 j, rc;

	kvtable_init(&out);
	for (j = 0; j < TABLE_COUNT; j++)
		kvtable_init(&t[j]);
	for (j = 0; j < TABLE_COUNT; j++) {
		staticmaps_path(path, dir, j, "");
		if (staticmaps_read(path, &t[j], err, sizeof(err)) == -1)
			goto fail;
	}
	/*
	 * The access table in place with its refusals (4xx, 5xx) kept and
	 * every other entry held (a DUNNO or a listed address would answer
	 * before a hold above it), and every other key of relay_domains and
	 * transport held.
	 */
	for (i = 0; i < t[TABLE_ACCESS].n; i++) {
		e = &t[TABLE_ACCESS].v[i];
		if (e->value[0] == '4' || e->value[0] == '5')
			rc = kvtable_add_kind(&out, e->key, e->value,
			    EXPORT_KIND_NONE);
		else
			rc = kvtable_add_kind(&out, e->key, routehold_value(),
			    EXPORT_KIND_HOLD);
		if (rc == -1)
			goto nomem;
	}
	for (j = TABLE_RELAY; j <= TABLE_TRANSPORT; j++)
		for (i = 0; i < t[j].n; i++)
			if (kvtable_get(&t[TABLE_ACCESS], t[j].v[i].key) ==
			    NULL && kvtable_add_kind(&out, t[j].v[i].key,
			    routehold_value(), EXPORT_KIND_HOLD) == -1)
				goto nomem;
	kvtable_sort(&out);
	staticmaps_path(path, dir, TABLE_ACCESS, "");
	staticmaps_path(tmp, dir, TABLE_ACCESS, ".tmp");
	if (staticmaps_write(tmp, &out, STATICMAPS_MODE, err,
	    sizeof(err)) == -1)
		goto fail;
	if (rename(tmp, path) == -1) {
		errmsg_set(err, sizeof(err), "rename \"%s\": %s", tmp,
		    strerror(errno));
		unlink(tmp);
		goto fail;
	}
	staticmaps_held_all = 1;
	metrics_static_stale(0);
	log_warning("static maps: every name of the tables in \"%s\" held "
	    "(451 4.7.1) until the rules are written", dir);
	goto out;
nomem:
	errmsg_set(err, sizeof(err), "out of memory");
fail:
	/* Postfix answers from the tables in place, older than the rules */
	metrics_static_stale(1);
	log_error("static maps: holding every name: %s; the tables in \"%s\" "
	    "are stale (milter_relay_static_tables_stale, /healthz 503)",
	    err, dir);
out:
	for (j = 0; j < TABLE_COUNT; j++)
		kvtable_free(&t[j]);
	kvtable_free(&out);
}

int
staticmaps_retry_due(void)
{
	long long	 due = atomic_load(&staticmaps_retry_ms);

	return due != 0 && due <= (long long)(staticmaps_now() * 1000);
}

/*
 * The holds whose time is up: their entries leave the access table in
 * place, the rest of it stays as the last publish wrote it (so this
 * needs no configuration: a reload that failed since changes nothing).
 */
int
staticmaps_release(void)
{
	struct kvtable	 new;
	char		 path[PATH_MAX], tmp[PATH_MAX], err[ERRMSG_MAX];
	size_t		 before = staticmaps_holds.n;
	int		 rc = -1;

	routehold_expire(&staticmaps_holds, staticmaps_now());
	if (staticmaps_dir == NULL || staticmaps_held_all) {
		staticmaps_set_due();
		return 0;
	}
	kvtable_init(&new);
	staticmaps_path(path, staticmaps_dir, TABLE_ACCESS, "");
	staticmaps_path(tmp, staticmaps_dir, TABLE_ACCESS, ".tmp");
	if (routehold_release(&staticmaps_holds, &staticmaps_access,
	    &staticmaps_deny, &new) == -1) {
		errmsg_set(err, sizeof(err), "out of memory");
		goto out;
	}
	if (!kvtable_equal(&new, &staticmaps_access)) {
		if (staticmaps_holds_save(staticmaps_dir, &staticmaps_holds,
		    err, sizeof(err)) == -1 ||
		    staticmaps_write(tmp, &new, STATICMAPS_MODE, err,
		    sizeof(err)) == -1)
			goto out;
		/*
		 * Renamed, never in place: smtpd processes restart after
		 * their session and forget what they resolved during the
		 * hold (trivial-rewrite may have answered from the old
		 * tables then).
		 */
		if (rename(tmp, path) == -1) {
			errmsg_set(err, sizeof(err), "rename \"%s\": %s", tmp,
			    strerror(errno));
			unlink(tmp);
			goto out;
		}
		log_info("static maps: let go of %zu held names in \"%s\"",
		    before - staticmaps_holds.n, staticmaps_dir);
		staticmaps_keep(&staticmaps_access, &new);
	}
	rc = 0;
out:
	kvtable_free(&new);
	staticmaps_set_due();
	if (rc == -1) {
		log_error("static maps: letting go of held names: %s; "
		    "trying again in a second", err);
		atomic_store(&staticmaps_due_ms,
		    (long long)(staticmaps_now() * 1000) + 1000);
	}
	return rc;
}

int
staticmaps_wait_ms(void)
{
	long long	 due, retry, now;

	due = atomic_load(&staticmaps_due_ms);
	retry = atomic_load(&staticmaps_retry_ms);
	if (due == 0 || (retry != 0 && retry < due))
		due = retry;
	if (due == 0)
		return -1;
	now = (long long)(staticmaps_now() * 1000);
	if (due <= now)
		return 0;
	return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

/*
 * The access table to publish: the deny rules' table with the holds
 * (see above), the holds held now and those of this change in holds (an
 * empty set).  A restarted worker first reads what it held from
 * dir/holds.
 */
static int
staticmaps_hold(const char *dir, const struct kvtable *old,
    const struct kvtable *new, const struct kvtable *deny, int had_tables,
    struct routehold *holds, struct kvtable *access)
{
	struct routehold_tables tables = {
		&old[TABLE_RELAY], &old[TABLE_TRANSPORT],
		&new[TABLE_RELAY], &new[TABLE_TRANSPORT],
	};
	double		 now = staticmaps_now();
	char		 path[PATH_MAX], *text = NULL;
	size_t		 len = 0;
	FILE		*f;
	int		 rc = 0;

	if (!staticmaps_holds_read) {
		snprintf(path, sizeof(path), "%s/%s", dir, STATICMAPS_HOLDS);
		if ((f = fopen(path, "r")) != NULL) {
			if (getdelim(&text, &len, '\0', f) != -1)
				rc = routehold_load(&staticmaps_holds, text,
				    now, time(NULL));
			free(text);
			fclose(f);
		}
		if (rc == -1)
			return -1;
		staticmaps_holds_read = 1;
	}
	routehold_expire(&staticmaps_holds, now);
	if (routehold_copy(holds, &staticmaps_holds) == -1)
		return -1;
	if (had_tables && routehold_changes(holds, &tables,
	    now + ROUTEHOLD_SECONDS) == -1)
		return -1;
	return routehold_access(holds, &tables, deny, access);
}

/* dir/holds: the names held and until when, for a restarted worker. */
static int
staticmaps_holds_save(const char *dir, const struct routehold *holds,
    char *err, size_t errlen)
{
	struct safefile	*sf;
	char		 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", dir, STATICMAPS_HOLDS);
	if ((sf = safefile_open(path, &f, err, errlen)) == NULL)
		return -1;
	if (routehold_save(holds, staticmaps_now(), time(NULL), f) == -1) {
		safefile_abort(sf);
		errmsg_set(err, errlen, "\"%s\": write error", path);
		return -1;
	}
	return safefile_commit(sf, err, errlen);
}

/* Keep from (emptied) in to, freeing what to held. */
static void
staticmaps_keep(struct kvtable *to, struct kvtable *from)
{
	kvtable_free(to);
	*to = *from;
	kvtable_init(from);
}

/*
 * The table in place at path: 0, 1 when there is none (an empty table),
 * -1 on error.
 */
int
staticmaps_read(const char *path, struct kvtable *table, char *err,
    size_t errlen)
{
	MDB_env		*env = NULL;
	MDB_txn		*txn = NULL;
	MDB_cursor	*cur = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	struct stat	 st;
	int		 e, op;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 1;
		errmsg_set(err, errlen, "\"%s\": %s", path, strerror(errno));
		return -1;
	}
	if ((e = mdb_env_create(&env)) != 0 ||
	    (e = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_RDONLY, 0644)) != 0 ||
	    (e = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (e = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 ||
	    (e = mdb_cursor_open(txn, dbi, &cur)) != 0)
		goto done;
	for (op = MDB_FIRST; (e = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		/* written by staticmaps_write(): both end with their NUL */
		if (k.mv_size == 0 || v.mv_size == 0 ||
		    ((char *)k.mv_data)[k.mv_size - 1] != '\0' ||
		    ((char *)v.mv_data)[v.mv_size - 1] != '\0') {
			e = MDB_CORRUPTED;
			goto done;
		}
		if (kvtable_add(table, k.mv_data, v.mv_data) == -1) {
			e = ENOMEM;
			goto done;
		}
	}
	if (e == MDB_NOTFOUND)
		e = 0;
done:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	if (e != 0) {
		errmsg_set(err, errlen, "\"%s\": %s", path, mdb_strerror(e));
		return -1;
	}
	kvtable_sort(table);
	return 0;
}

/* The table as a new LMDB file at path, of that mode. */
int
staticmaps_write(const char *path, const struct kvtable *table, int mode,
    char *err, size_t errlen)
{
	MDB_env		*env = NULL;
	MDB_txn		*txn = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	size_t		 mapsize, i;
	int		 e;

	if (unlink(path) == -1 && errno != ENOENT) {
		errmsg_set(err, errlen, "unlink \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	for (mapsize = STATICMAPS_MAP_MIN, i = 0; i < table->n; i++)
		mapsize += STATICMAPS_MAP_FACTOR * (strlen(table->v[i].key) +
		    strlen(table->v[i].value) + 2);
	if ((e = mdb_env_create(&env)) != 0 ||
	    (e = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (e = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_NOSYNC, (mdb_mode_t)mode)) != 0 ||
	    (e = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (e = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto fail;
	for (i = 0; i < table->n; i++) {
		k.mv_data = table->v[i].key;
		k.mv_size = strlen(table->v[i].key) + 1;	/* with the NUL */
		v.mv_data = table->v[i].value;
		v.mv_size = strlen(table->v[i].value) + 1;
		/* sorted: appended, no page splits in the middle */
		if ((e = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
			goto fail;
	}
	e = mdb_txn_commit(txn);
	txn = NULL;
	if (e != 0 || (e = mdb_env_sync(env, 1)) != 0)
		goto fail;
	mdb_env_close(env);
	return 0;
fail:
	errmsg_set(err, errlen, "\"%s\": %s", path, mdb_strerror(e));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return -1;
}

/* DIR/NAME.lmdb and a suffix, in PATH_MAX bytes (cut: open fails). */
static void
staticmaps_path(char *path, const char *dir, enum staticmaps_table table,
    const char *suffix)
{
	snprintf(path, PATH_MAX, "%s/%s.lmdb%s", dir,
	    staticmaps_tables[table].name, suffix);
}

/* The next time a hold is up, a little late rather than early. */
static void
staticmaps_set_due(void)
{
	double	 next = routehold_next(&staticmaps_holds);

	atomic_store(&staticmaps_due_ms, next == 0 ? 0 :
	    (long long)(next * 1000) + 1);
}

/* Seconds on the monotonic clock. */
static double
staticmaps_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
