/*
 * config - load /etc/milter-relay.conf (libconfig) and its domains_file
 *
 * Interface in config.h.  config_load() reads the file with libconfig,
 * then walks every setting itself: a name it does not know, a value of
 * the wrong type or a bad value stops the load with "FILE:LINE: reason"
 * (FILE is the file the setting came from, so @include works).  The
 * inline "domains" list is added first, then the domains_file, which is
 * read line by line and parsed by hand (a million lines in well under a
 * second).  A duplicate pattern names both places it was given.  The
 * TLS policy table (tlspolicy.c) is built last; two rules giving one
 * smart host different policies are an error naming both.  On any
 * error everything built so far is freed and NULL returned.
 *
 * domains_file lines: "pattern [key=value]...", keys relay, smarthost
 * (hops separated by commas), transport, reply, tls and tls_match; a value
 * is a word or a "quoted string" with \" and \\ escapes.  Lines are at
 * most DOMAINS_LINE_MAX octets. Every line ends with a newline: a last
 * line without one is the mark of a file read while it was being written,
 * and is refused ("incomplete last line") rather than loaded as a shorter
 * rule.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "config.h"
#include "domain.h"
#include "filediff.h"
#include "authfile.h"
#include "netaddr.h"
#include "rcptlist.h"
#include "rulerow.h"
#include "ruleset.h"
#include "saslpasswd.h"
#include "sockspec.h"
#include "strutil.h"
#include "tlspolicy.h"

#define DOMAINS_LINE_MAX	4096

/* What a load needs to say where a duplicate was first given. */
struct load {
	const char	*path;		/* main config file */
	config_setting_t *domains;	/* inline list, or NULL */
	struct config	*config;	/* being loaded */
	int		 flags;		/* config_begin_flags() */
	struct filediff	*record;	/* CONFIG_RECORD: the domains_file's */
	char		*err;
	size_t		 errlen;
};

/*
 * The file a setting came from: libconfig names an @include file as
 * written, which is relative to the config file's directory.
 */
static const char *
source_file(const char *path, const char *file, char *buf, size_t len)
{
	const char	*slash;

	if (file == NULL || strcmp(file, path) == 0)
		return path;
	slash = strrchr(path, '/');
	if (file[0] == '/' || slash == NULL)
		return file;
	snprintf(buf, len, "%.*s/%s", (int)(slash - path), path, file);
	return buf;
}

static const char *
setting_file(const struct load *ld, const config_setting_t *s, char *buf,
    size_t len)
{
	return source_file(ld->path, config_setting_source_file(s), buf, len);
}

static int
setting_error(const struct load *ld, const config_setting_t *s,
    const char *fmt, ...)
{
	char	msg[ERRMSG_MAX], file[PATH_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errmsg_set(ld->err, ld->errlen, "%s:%u: %s",
	    setting_file(ld, s, file, sizeof(file)),
	    config_setting_source_line(s), msg);
	return -1;
}

static int
get_string(const struct load *ld, const config_setting_t *s,
    const char **out)
{
	*out = "";
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		setting_error(ld, s, "%s must be a string",
		    config_setting_name(s));
		return -1;
	}
	*out = config_setting_get_string(s);
	return 0;
}

/*
 * smarthost: one string, or an array of strings (hops in preference
 * order) joined with ',' for smarthost_normalize() to check.
 */
static int
get_smarthosts(const struct load *ld, const config_setting_t *s, char *buf,
    size_t buflen)
{
	const config_setting_t	*e;
	const char		*v;
	size_t			 o, len;
	int			 i, n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		if (strlen(v) >= buflen)
			return setting_error(ld, s, "smarthost too long");
		memcpy(buf, v, strlen(v) + 1);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return setting_error(ld, s, "smarthost must be a string or "
		    "an array of strings");
	if ((n = config_setting_length(s)) == 0)
		return setting_error(ld, s, "smarthost: empty list");
	for (o = 0, i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return setting_error(ld, s, "smarthost must be a "
			    "string or an array of strings");
		v = config_setting_get_string(e);
		if (*v == '\0' || strchr(v, ',') != NULL)
			return setting_error(ld, s, "smarthost: element %d "
			    "must be one non-empty next hop", i + 1);
		len = strlen(v);
		if (o + len + 2 > buflen)
			return setting_error(ld, s, "smarthost: list too long");
		if (i > 0)
			buf[o++] = ',';
		memcpy(buf + o, v, len + 1);
		o += len;
	}
	return 0;
}

static int
dup_string(const struct load *ld, const config_setting_t *s, char **out)
{
	const char	*v;

	if (get_string(ld, s, &v) == -1)
		return -1;
	if (*v == '\0')
		return setting_error(ld, s, "%s must not be empty",
		    config_setting_name(s));
	free(*out);
	if ((*out = strdup(v)) == NULL)
		return setting_error(ld, s, "out of memory");
	return 0;
}

static int
get_bool(const struct load *ld, const config_setting_t *s, int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return setting_error(ld, s, "%s must be true or false",
		    config_setting_name(s));
	*out = config_setting_get_bool(s);
	return 0;
}

/* One of words[] (NULL-terminated); its index in *out. */
static int
get_choice(const struct load *ld, const config_setting_t *s,
    const char *const *words, const char *expect, int *out)
{
	const char	*v;
	int		 i;

	if (get_string(ld, s, &v) == -1)
		return -1;
	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return setting_error(ld, s, "bad %s \"%s\" (%s)",
	    config_setting_name(s), v, expect);
}

/*
 * A socket address; own: one the daemon opens itself (the socketmap),
 * whose PORT@HOST is checked now (libmilter reads the milter's own).
 */
static int
get_socket(const struct load *ld, const config_setting_t *s, int own,
    char **out)
{
	const char		*v, *rest, *why;
	enum sockspec_kind	 kind;
	struct sockspec_inet	 in;

	if (get_string(ld, s, &v) == -1)
		return -1;
	if (sockspec_parse(v, &kind, &rest) == -1)
		return setting_error(ld, s, "bad %s \"%s\" (" SOCKSPEC_SYNTAX
		    ")", config_setting_name(s), v);
	if (own && kind != SOCKSPEC_UNIX &&
	    sockspec_inet(rest, &in, &why) == -1)
		return setting_error(ld, s, "bad %s \"%s\": %s",
		    config_setting_name(s), v, why);
	return dup_string(ld, s, out);
}

/* "inet:PORT@HOST" or "inet6:PORT@HOST", PORT 1-65535, for HTTP. */
static int
get_metrics(const struct load *ld, const config_setting_t *s, char **out)
{
	const char		*v, *rest, *why;
	enum sockspec_kind	 kind;
	struct sockspec_inet	 in;

	if (get_string(ld, s, &v) == -1)
		return -1;
	if (sockspec_parse(v, &kind, &rest) == -1 || kind == SOCKSPEC_UNIX ||
	    sockspec_inet(rest, &in, &why) == -1)
		return setting_error(ld, s, "bad metrics \"%s\" ("
		    SOCKSPEC_INET_SYNTAX ")", v);
	return dup_string(ld, s, out);
}

static int
get_mode(const struct load *ld, const config_setting_t *s, int *out)
{
	const char	*v;
	size_t		 i;
	long		 mode;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		goto bad;
	v = config_setting_get_string(s);
	for (i = 0; v[i] != '\0'; i++)
		if (v[i] < '0' || v[i] > '7')
			goto bad;
	if (i == 0 || i > 4)
		goto bad;
	mode = strtol(v, NULL, 8);
	if (mode > 0777)
		goto bad;
	*out = (int)mode;
	return 0;
bad:
	return setting_error(ld, s, "socket_mode must be a string of octal "
	    "digits, e.g. \"0660\"");
}

static int
get_timeout(const struct load *ld, const config_setting_t *s, int *out)
{
	int	v;

	if (config_setting_type(s) != CONFIG_TYPE_INT)
		return setting_error(ld, s, "%s must be a number of seconds",
		    config_setting_name(s));
	v = config_setting_get_int(s);
	if (v < 1 || v > CONFIG_MILTER_TIMEOUT_MAX)
		return setting_error(ld, s, "%s must be 1 to %d seconds",
		    config_setting_name(s), CONFIG_MILTER_TIMEOUT_MAX);
	*out = v;
	return 0;
}

static int
get_facility(const struct load *ld, const config_setting_t *s, char **out)
{
	static const char *const names[] = {
		"auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr",
		"mail", "news", "syslog", "user", "uucp", "local0", "local1",
		"local2", "local3", "local4", "local5", "local6", "local7",
		NULL
	};
	int	i;

	if (get_choice(ld, s, names, "a syslog facility such as mail or "
	    "local0", &i) == -1)
		return -1;
	return dup_string(ld, s, out);
}

static int
load_networks(const struct load *ld, const config_setting_t *s,
    struct netlist *list)
{
	const config_setting_t	*e;
	const char		*why;
	int			 i, n;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return setting_error(ld, s, "trusted_networks must be a list "
		    "of strings, e.g. [ \"127.0.0.0/8\", \"::1/128\" ]");
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return setting_error(ld, e, "trusted_networks must "
			    "be a list of strings");
		if (netlist_add(list, config_setting_get_string(e),
		    &why) == -1)
			return setting_error(ld, e, "bad network \"%s\": %s",
			    config_setting_get_string(e), why);
	}
	return 0;
}

static int
load_mailers(const struct load *ld, const config_setting_t *s,
    struct localmail *lm)
{
	const config_setting_t	*e;
	const char		*why;
	int			 i, n;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return setting_error(ld, s, "local_mailers must be a list of "
		    "strings, e.g. [ \"local\", \"virtual\", \"lmtp\" ]");
	memset(lm, 0, sizeof(*lm));
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return setting_error(ld, e, "local_mailers must be "
			    "a list of strings");
		if (localmail_add(lm, config_setting_get_string(e),
		    &why) == -1)
			return setting_error(ld, e, "bad local mailer "
			    "\"%s\": %s", config_setting_get_string(e), why);
	}
	return 0;
}

static int
load_policy(const struct load *ld, const config_setting_t *g,
    struct policy *p)
{
	static const char *const unmatched[] = {
		"reject", "tempfail", "continue", NULL
	};
	static const char *const modes[] = { "enforce", "log-only", NULL };
	static const char *const checks[] = { "off", "log", "enforce", NULL };
	static const char *const unknown[] = { "tempfail", "accept", NULL };
	const config_setting_t	*s;
	const char		*name;
	int			 i, n, v;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return setting_error(ld, g, "policy must be a group { ... }");
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(s);
		if (strcmp(name, "unmatched") == 0) {
			if (get_choice(ld, s, unmatched,
			    "reject, tempfail or continue", &v) == -1)
				return -1;
			p->unmatched = (enum unmatched_policy)v;
		} else if (strcmp(name, "trusted_networks") == 0) {
			if (load_networks(ld, s, p->trusted_networks) == -1)
				return -1;
		} else if (strcmp(name, "trust_authenticated") == 0) {
			if (get_bool(ld, s, &p->trust_authenticated) == -1)
				return -1;
		} else if (strcmp(name, "trust_local_socket") == 0) {
			if (get_bool(ld, s, &p->trust_local_socket) == -1)
				return -1;
		} else if (strcmp(name, "mode") == 0) {
			if (get_choice(ld, s, modes, "enforce or log-only",
			    &v) == -1)
				return -1;
			p->log_only = v == 1;
		} else if (strcmp(name, "route_check") == 0) {
			if (get_choice(ld, s, checks, "off, log or enforce",
			    &v) == -1)
				return -1;
			p->route_check = (enum route_check)v;
		} else if (strcmp(name, "local_mailers") == 0) {
			if (load_mailers(ld, s, &p->local_mailers) == -1)
				return -1;
		} else if (strcmp(name, "verify_unknown") == 0) {
			if (get_choice(ld, s, unknown, "tempfail or accept",
			    &v) == -1)
				return -1;
			p->verify_unknown = (enum verify_unknown)v;
		} else
			return setting_error(ld, s, "unknown setting "
			    "\"policy.%s\"", name);
	}
	return 0;
}

/*
 * A duration: a number of seconds, or a string "N" followed by ms, s, m,
 * h or d; in units of unit_ms milliseconds, from min to max of them.
 */
static int
get_duration(const struct load *ld, const config_setting_t *s,
    long unit_ms, long min, long max, long *out)
{
	const char	*v;
	char		*end;
	long long	 n, mul;

	if (config_setting_type(s) == CONFIG_TYPE_INT) {
		n = (long long)config_setting_get_int(s) * 1000;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		errno = 0;
		n = strtoll(v, &end, 10);
		if (end == v || *v == '-' || *v == '+' || errno != 0 ||
		    n > 100000000)
			goto bad;
		if (strcmp(end, "ms") == 0)
			mul = 1;
		else if (strcmp(end, "s") == 0 || *end == '\0')
			mul = 1000;
		else if (strcmp(end, "m") == 0)
			mul = 60000;
		else if (strcmp(end, "h") == 0)
			mul = 3600000;
		else if (strcmp(end, "d") == 0)
			mul = 86400000;
		else
			goto bad;
		n *= mul;
	} else
		goto bad;
	n /= unit_ms;
	if (n < min || n > max)
		return setting_error(ld, s, "%s out of range",
		    config_setting_name(s));
	*out = (long)n;
	return 0;
bad:
	return setting_error(ld, s, "%s must be a duration such as 30s, "
	    "10m, 3h or 31d", config_setting_name(s));
}

static int
get_count(const struct load *ld, const config_setting_t *s, long min,
    long max, long *out)
{
	long long	v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return setting_error(ld, s, "%s must be a number",
		    config_setting_name(s));
	v = config_setting_get_int64(s);
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	if (v < min || v > max)
		return setting_error(ld, s, "%s must be from %ld to %ld",
		    config_setting_name(s), min, max);
	*out = (long)v;
	return 0;
}

static int
load_verify(const struct load *ld, const config_setting_t *g,
    struct verify_settings *v)
{
	const config_setting_t	*s;
	const char		*name, *why, *text;
	int			 i, n, rc;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return setting_error(ld, g, "verify must be a group { ... }");
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(s);
		if (strcmp(name, "cache") == 0)
			rc = dup_string(ld, s, &v->cache);
		else if (strcmp(name, "positive_expire") == 0)
			rc = get_duration(ld, s, 1000, 1, 3650L * 86400,
			    &v->positive_expire);
		else if (strcmp(name, "negative_expire") == 0)
			rc = get_duration(ld, s, 1000, 1, 3650L * 86400,
			    &v->negative_expire);
		else if (strcmp(name, "timeout") == 0)
			rc = get_duration(ld, s, 1, 100, 300000,
			    &v->timeout_ms);
		else if (strcmp(name, "cache_size") == 0)
			rc = get_count(ld, s, 16, 100000000, &v->cache_size);
		else if (strcmp(name, "max_probes") == 0)
			rc = get_count(ld, s, 1, 4096, &v->max_probes);
		else if (strcmp(name, "max_probes_per_client") == 0)
			rc = get_count(ld, s, 1, 4096,
			    &v->max_probes_per_client);
		else if (strcmp(name, "helo_name") == 0) {
			rc = dup_string(ld, s, &v->helo_name);
			if (rc == 0 && strspn(v->helo_name,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-.[]:") != strlen(v->helo_name))
				rc = setting_error(ld, s, "bad helo_name");
		} else if (strcmp(name, "unknown_reply") == 0) {
			rc = get_string(ld, s, &text);
			if (rc == 0 && reply_valid(text, &why) == -1)
				rc = setting_error(ld, s, "bad unknown_reply "
				    "\"%s\": %s", text, why);
			if (rc == 0 && text[0] != '5')
				rc = setting_error(ld, s, "unknown_reply "
				    "must be a 5xx reply");
			if (rc == 0)
				rc = dup_string(ld, s, &v->unknown_reply);
		} else
			rc = setting_error(ld, s, "unknown setting "
			    "\"verify.%s\"", name);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Remember the canonical pattern of an inline rule (metrics count them). */
static int
inline_pattern_add(const struct load *ld, const config_setting_t *match,
    const char *pattern)
{
	struct config	*c = ld->config;
	char		 canon[PATTERN_MAX + 1], **v;
	const char	*why;

	if (c == NULL || pattern_normalize(pattern, canon, &why) != 0)
		return 0;
	v = realloc(c->inline_patterns, (c->ninline_patterns + 1) *
	    sizeof(*v));
	if (v == NULL)
		return setting_error(ld, match, "out of memory");
	c->inline_patterns = v;
	if ((v[c->ninline_patterns] = strdup(canon)) == NULL)
		return setting_error(ld, match, "out of memory");
	c->ninline_patterns++;
	return 0;
}

/* Where the inline list first gives pattern (canonical), before entry
 * limit; the setting, or NULL. */
static const config_setting_t *
domains_first(const struct load *ld, const char *pattern, int limit)
{
	const config_setting_t	*e, *m;
	char			 canon[PATTERN_MAX + 1];
	const char		*why;
	int			 i, n;

	if (ld->domains == NULL)
		return NULL;
	n = config_setting_length(ld->domains);
	if (limit >= 0 && limit < n)
		n = limit;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(ld->domains, (unsigned)i);
		m = config_setting_get_member(e, "match");
		if (m == NULL || config_setting_type(m) != CONFIG_TYPE_STRING)
			continue;
		if (pattern_normalize(config_setting_get_string(m), canon,
		    &why) == 0 && strcmp(canon, pattern) == 0)
			return m;
	}
	return NULL;
}

static int
load_domain(const struct load *ld, struct ruleset *rules,
    const config_setting_t *e, int index)
{
	const config_setting_t	*s, *match, *first;
	struct rule_spec	 spec;
	const char		*name, **field, *why;
	char			 msg[ERRMSG_MAX], canon[PATTERN_MAX + 1];
	char			 file[PATH_MAX];
	char			 hosts[SMARTHOST_MAX + 1];
	int			 i, n;

	if (config_setting_type(e) != CONFIG_TYPE_GROUP)
		return setting_error(ld, e, "each entry of domains must be "
		    "a group { match = \"...\"; ... }");
	memset(&spec, 0, sizeof(spec));
	match = NULL;
	n = config_setting_length(e);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(e, (unsigned)i);
		name = config_setting_name(s);
		if (strcmp(name, "match") == 0) {
			match = s;
			continue;
		} else if (strcmp(name, "smarthost") == 0) {
			if (get_smarthosts(ld, s, hosts, sizeof(hosts)) == -1)
				return -1;
			spec.smarthost = hosts;
			continue;
		}
		if ((field = rule_spec_field(&spec, name)) == NULL)
			return setting_error(ld, s, "unknown setting \"%s\" "
			    "in domains entry", name);
		if (get_string(ld, s, field) == -1)
			return -1;
	}
	if (match == NULL)
		return setting_error(ld, e, "domains entry without match");
	if (get_string(ld, match, &name) == -1)
		return -1;
	if (ruleset_add(rules, name, &spec, msg, sizeof(msg)) == 0)
		return inline_pattern_add(ld, match, name);
	if (ruleset_has_pattern(rules, name) &&
	    pattern_normalize(name, canon, &why) == 0 &&
	    (first = domains_first(ld, canon, index)) != NULL)
		return setting_error(ld, match, "%s (first at %s:%u)", msg,
		    setting_file(ld, first, file, sizeof(file)),
		    config_setting_source_line(first));
	return setting_error(ld, match, "%s", msg);
}

static int
load_domains(const struct load *ld, const config_setting_t *list,
    struct ruleset *rules)
{
	int	i, n;

	if (config_setting_type(list) != CONFIG_TYPE_LIST)
		return setting_error(ld, list, "domains must be a list "
		    "( { match = \"...\"; }, ... )");
	n = config_setting_length(list);
	for (i = 0; i < n; i++)
		if (load_domain(ld, rules,
		    config_setting_get_elem(list, (unsigned)i), i) == -1)
			return -1;
	return 0;
}

/* row_spec - the fields of a row named by rule_spec_field() */
static int
row_spec(const struct rulerow *row, struct rule_spec *spec, char *err,
    size_t errlen)
{
	const char	**field;
	size_t		 i;

	memset(spec, 0, sizeof(*spec));
	for (i = 0; i < row->n; i++) {
		if ((field = rule_spec_field(spec, row->key[i])) == NULL) {
			errmsg_set(err, errlen, "unknown setting \"%s\"",
			    row->key[i]);
			return -1;
		}
		if (*field != NULL) {
			errmsg_set(err, errlen, "%s given twice", row->key[i]);
			return -1;
		}
		*field = row->value[i];
	}
	return 0;
}

/*
 * domains_file lines: split by rulerow_split() (the one tokenizer of a
 * "pattern key=value ..." line), the fields then named by
 * rule_spec_field().  1 for comments and blank lines.
 */
static int
line_split(char *buf, char **pattern, struct rule_spec *spec, char *err,
    size_t errlen)
{
	struct rulerow	 row;
	int		 rc;

	if ((rc = rulerow_split(buf, &row, err, errlen)) != 0)
		return rc;
	*pattern = (char *)row.pattern;
	return row_spec(&row, spec, err, errlen);
}

/* Copy a line into buf, NUL-terminated; -1 when too long or with NUL. */
static int
line_copy(const char *line, size_t len, char *buf, size_t buflen,
    char *err, size_t errlen)
{
	if (len >= buflen) {
		errmsg_set(err, errlen, "line longer than %zu octets", buflen - 1);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		errmsg_set(err, errlen, "NUL octet in line");
		return -1;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	return 0;
}

int
config_parse_domains_line(struct ruleset *rules, const char *line,
    size_t len, char *err, size_t errlen)
{
	char		 buf[DOMAINS_LINE_MAX + 1];
	char		*pattern;
	struct rule_spec spec;
	int		 rc;

	if (line_copy(line, len, buf, sizeof(buf), err, errlen) == -1)
		return -1;
	rc = line_split(buf, &pattern, &spec, err, errlen);
	if (rc != 0)
		return rc;
	return ruleset_add(rules, pattern, &spec, err, errlen) == 0 ? 0 : -1;
}

int
config_parse_domains_row(struct ruleset *rules, const struct rulerow *row,
    char *err, size_t errlen)
{
	struct rule_spec spec;

	if (row_spec(row, &spec, err, errlen) == -1)
		return -1;
	return ruleset_add(rules, row->pattern, &spec, err, errlen) == 0 ?
	    0 : -1;
}

/* config_domains_line_pattern - the canonical pattern of a line */
int
config_domains_line_pattern(const char *line, size_t len, char *canon)
{
	char		 buf[DOMAINS_LINE_MAX + 1];
	char		*pattern = NULL;
	const char	*why;
	struct rule_spec spec;
	int		 rc;

	if (line_copy(line, len, buf, sizeof(buf), NULL, 0) == -1 ||
	    (rc = line_split(buf, &pattern, &spec, NULL, 0)) == -1)
		return -1;
	if (rc == 1)
		return 1;
	return pattern_normalize(pattern, canon, &why) == -1 ? -1 : 0;
}

/* The first line of the file before limit giving canonical pattern. */
static unsigned long
file_first(FILE *fp, const char *pattern, unsigned long limit)
{
	char		*line, *p, buf[DOMAINS_LINE_MAX + 1], canon[PATTERN_MAX + 1];
	const char	*why;
	struct rule_spec spec;
	size_t		 cap;
	ssize_t		 n;
	unsigned long	 lineno, found;

	line = NULL;
	cap = 0;
	found = 0;
	rewind(fp);
	for (lineno = 1; lineno < limit &&
	    (n = getline(&line, &cap, fp)) != -1; lineno++) {
		/* a line that does not parse is not the one: no message */
		if (line_copy(line, (size_t)n, buf, sizeof(buf), NULL, 0) == -1 ||
		    line_split(buf, &p, &spec, NULL, 0) != 0)
			continue;
		if (pattern_normalize(p, canon, &why) == 0 &&
		    strcmp(canon, pattern) == 0) {
			found = lineno;
			break;
		}
	}
	free(line);
	return found;
}

/* Add "(first at FILE:LINE)" to a duplicate's message. */
static void
file_duplicate(const struct load *ld, FILE *fp, const char *path,
    unsigned long lineno, struct ruleset *rules, const char *line,
    size_t len, char *msg, size_t msglen)
{
	char			 buf[DOMAINS_LINE_MAX + 1], canon[PATTERN_MAX + 1];
	char			*pattern, file[PATH_MAX];
	const char		*why;
	const config_setting_t	*first;
	struct rule_spec	 spec;
	unsigned long		 at;
	size_t			 used;

	/* the line failed to load already: no second message */
	if (line_copy(line, len, buf, sizeof(buf), NULL, 0) == -1 ||
	    line_split(buf, &pattern, &spec, NULL, 0) != 0 ||
	    !ruleset_has_pattern(rules, pattern) ||
	    pattern_normalize(pattern, canon, &why) == -1)
		return;
	used = strlen(msg);
	if ((at = file_first(fp, canon, lineno)) != 0)
		snprintf(msg + used, msglen - used, " (first at %s:%lu)",
		    path, at);
	else if (ld != NULL && (first = domains_first(ld, canon, -1)) != NULL)
		snprintf(msg + used, msglen - used, " (first at %s:%u)",
		    setting_file(ld, first, file, sizeof(file)),
		    config_setting_source_line(first));
}

/* Lines in fp, then back to its start: the rule set sizes itself once. */
static size_t
count_lines(FILE *fp)
{
	char		 buf[65536];
	const char	*p, *end;
	size_t		 n, lines;

	lines = 0;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		for (p = buf, end = buf + n;
		    (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			lines++;
	rewind(fp);
	return lines + 1;
}

static int
domains_file_load(struct load *ld, struct ruleset *rules,
    const char *path, char *err, size_t errlen)
{
	FILE		*fp;
	struct filediff	*rec;
	char		*line, msg[ERRMSG_MAX];
	size_t		 cap, lines;
	ssize_t		 n;
	unsigned long	 lineno;
	int		 rc;

	if ((fp = fopen(path, "r")) == NULL) {
		errmsg_set(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	rec = ld != NULL && (ld->flags & CONFIG_RECORD) ?
	    filediff_record(path, fileno(fp)) : NULL;
	lines = count_lines(fp);
	if (ruleset_reserve(rules, lines + lines / 16) == -1) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		fclose(fp);
		return -1;
	}
	line = NULL;
	cap = 0;
	rc = 0;
	for (lineno = 1; (n = getline(&line, &cap, fp)) != -1; lineno++) {
		/* a file cut while being written: refuse, do not guess */
		if (line[n - 1] != '\n') {
			errmsg_set(err, errlen, "%s:%lu: %s", path, lineno,
			    ERRMSG_INCOMPLETE);
			rc = -1;
			break;
		}
		filediff_line(rec, line, (size_t)n);
		if (config_parse_domains_line(rules, line, (size_t)n, msg,
		    sizeof(msg)) != -1)
			continue;
		file_duplicate(ld, fp, path, lineno, rules, line, (size_t)n,
		    msg, sizeof(msg));
		errmsg_set(err, errlen, "%s:%lu: %s", path, lineno, msg);
		rc = -1;
		break;
	}
	if (rc == 0 && ferror(fp)) {
		errmsg_set(err, errlen, "%s:%lu: read error: %s", path, lineno,
		    strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(fp);
	/* a record of no use (out of memory, changed while read): none */
	if (rc == 0 && filediff_end(rec) == 0)
		ld->record = rec;
	else
		filediff_free(rec);
	return rc;
}

int
config_load_domains_file(struct ruleset *rules, const char *path,
    char *err, size_t errlen)
{
	return domains_file_load(NULL, rules, path, err, errlen);
}

/* domains_file relative to the directory of the config file. */
static char *
relative_path(const char *config_path, const char *file)
{
	const char	*slash;
	char		*out;

	slash = strrchr(config_path, '/');
	if (file[0] == '/' || slash == NULL)
		return strdup(file);
	if (asprintf(&out, "%.*s/%s", (int)(slash - config_path),
	    config_path, file) == -1)
		return NULL;
	return out;
}

/*
 * "postgresql:CONNINFO".  The value is never echoed: a connection
 * string may hold a password.
 */
static int
get_rules_source(const struct load *ld, const config_setting_t *s,
    char **out)
{
	const char	*v;

	if (get_string(ld, s, &v) == -1)
		return -1;
	if (strncmp(v, CONFIG_SOURCE_PGSQL, strlen(CONFIG_SOURCE_PGSQL)) != 0
	    || v[strlen(CONFIG_SOURCE_PGSQL)] == '\0')
		return setting_error(ld, s, "rules_source must be "
		    "\"%sCONNINFO\" (a libpq connection string or URI)",
		    CONFIG_SOURCE_PGSQL);
	return dup_string(ld, s, out);
}

/* maps_dir: an absolute path to an existing directory. */
static int
get_maps_dir(const struct load *ld, const config_setting_t *s, char **out)
{
	struct stat	 st;

	if (dup_string(ld, s, out) == -1)
		return -1;
	if ((*out)[0] != '/')
		return setting_error(ld, s, "maps_dir must be an absolute "
		    "path");
	if (stat(*out, &st) == -1)
		return setting_error(ld, s, "maps_dir \"%s\": %s", *out,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return setting_error(ld, s, "maps_dir \"%s\": not a "
		    "directory", *out);
	return 0;
}

/* A path setting made relative to the directory of the config file. */
static int
relative_set(const struct load *ld, const config_setting_t *s, char **path)
{
	char	*abs;

	if ((abs = relative_path(ld->path, *path)) == NULL)
		return setting_error(ld, s, "out of memory");
	free(*path);
	*path = abs;
	return 0;
}

/* recipients_file names are relative to the config file's directory */
static int
rules_dir(const struct load *ld, struct ruleset *rules, const char *path)
{
	const char	*slash;
	char		*dir;
	int		 rc;

	if ((slash = strrchr(path, '/')) == NULL)
		return 0;
	if (asprintf(&dir, "%.*s", slash == path ? 1 : (int)(slash - path),
	    path) == -1) {
		errmsg_set(ld->err, ld->errlen, "%s: out of memory", path);
		return -1;
	}
	rc = ruleset_set_dir(rules, dir);
	free(dir);
	if (rc == -1)
		errmsg_set(ld->err, ld->errlen, "%s: out of memory", path);
	return rc;
}

/*
 * An auth_file may be owned by the service user and readable by the
 * service group: "user" and "group" when set (unknown: only root), else the
 * process's own.
 */
static void
rules_service(const struct config *c, struct ruleset *rules)
{
	struct passwd	*pw;
	struct group	*gr;
	long		 uid = -1, gid = -1;

	if (c->user != NULL)
		uid = (pw = getpwnam(c->user)) != NULL ? (long)pw->pw_uid :
		    (long)(uid_t)-2;
	if (c->group != NULL)
		gid = (gr = getgrnam(c->group)) != NULL ? (long)gr->gr_gid :
		    (long)(gid_t)-2;
	ruleset_set_auth_service(rules, uid, gid);
}

static int
load_top(struct load *ld, const config_setting_t *root, struct config *c,
    const config_setting_t **file)
{
	const config_setting_t	*s;
	const char		*name;
	int			 i, n, rc;

	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		name = config_setting_name(s);
		if (strcmp(name, "socket") == 0)
			rc = get_socket(ld, s, 0, &c->socket);
		else if (strcmp(name, "socketmap") == 0)
			rc = get_socket(ld, s, 1, &c->socketmap);
		else if (strcmp(name, "metrics") == 0)
			rc = get_metrics(ld, s, &c->metrics);
		else if (strcmp(name, "socket_mode") == 0)
			rc = get_mode(ld, s, &c->socket_mode);
		else if (strcmp(name, "milter_timeout") == 0)
			rc = get_timeout(ld, s, &c->milter_timeout);
		else if (strcmp(name, "user") == 0)
			rc = dup_string(ld, s, &c->user);
		else if (strcmp(name, "group") == 0)
			rc = dup_string(ld, s, &c->group);
		else if (strcmp(name, "pidfile") == 0)
			rc = dup_string(ld, s, &c->pidfile);
		else if (strcmp(name, "maps_dir") == 0)
			rc = get_maps_dir(ld, s, &c->maps_dir);
		else if (strcmp(name, "syslog_facility") == 0)
			rc = get_facility(ld, s, &c->syslog_facility);
		else if (strcmp(name, "policy") == 0)
			rc = load_policy(ld, s, &c->policy);
		else if (strcmp(name, "verify") == 0)
			rc = load_verify(ld, s, &c->verify);
		else if (strcmp(name, "domains") == 0) {
			ld->domains = (config_setting_t *)s;
			rc = config_setting_type(s) == CONFIG_TYPE_LIST ? 0 :
			    setting_error(ld, s, "domains must be a list "
			    "( { match = \"...\"; }, ... )");
		} else if (strcmp(name, "rules_source") == 0)
			rc = get_rules_source(ld, s, &c->rules_source);
		else if (strcmp(name, "rules_cache") == 0) {
			rc = dup_string(ld, s, &c->rules_cache);
			if (rc == 0 && relative_set(ld, s, &c->rules_cache) == -1)
				rc = -1;
		} else if (strcmp(name, "domains_file") == 0) {
			*file = s;
			rc = get_string(ld, s, &name);
			if (rc == 0 && *name == '\0')
				rc = setting_error(ld, s, "domains_file must "
				    "not be empty");
		} else
			rc = setting_error(ld, s, "unknown setting \"%s\"",
			    name);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static struct config *
config_new(const char *path)
{
	struct config	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->socket_mode = -1;
	c->milter_timeout = CONFIG_MILTER_TIMEOUT;
	c->policy.unmatched = UNMATCHED_REJECT;
	c->policy.trust_authenticated = 1;
	c->policy.route_check = ROUTE_CHECK_LOG;
	localmail_default(&c->policy.local_mailers);
	c->verify.positive_expire = VERIFY_POSITIVE_EXPIRE;
	c->verify.negative_expire = VERIFY_NEGATIVE_EXPIRE;
	c->verify.cache_size = VERIFY_CACHE_SIZE;
	c->verify.timeout_ms = VERIFY_TIMEOUT_MS;
	c->verify.max_probes = VERIFY_MAX_PROBES;
	c->verify.max_probes_per_client = VERIFY_MAX_PROBES_CLIENT;
	c->path = strdup(path);
	c->policy.trusted_networks = netlist_new();
	c->rules = ruleset_new();
	if (c->path == NULL || c->policy.trusted_networks == NULL ||
	    c->rules == NULL) {
		config_free(c);
		return NULL;
	}
	return c;
}

static int
config_parse(config_t *cf, const char *path, char *err, size_t errlen)
{
	char	*dir, *slash, file[PATH_MAX];
	int	 saved;

	if ((dir = strdup(path)) == NULL) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		config_set_include_dir(cf, *dir == '\0' ? "/" : dir);
	}
	free(dir);
	errno = 0;
	if (config_read_file(cf, path) == CONFIG_TRUE)
		return 0;
	saved = errno;
	if (config_error_type(cf) == CONFIG_ERR_FILE_IO &&
	    config_error_line(cf) == 0)
		errmsg_set(err, errlen, "%s: cannot read: %s", path,
		    saved != 0 ? strerror(saved) : config_error_text(cf));
	else
		errmsg_set(err, errlen, "%s:%d: %s", source_file(path,
		    config_error_file(cf), file, sizeof(file)),
		    config_error_line(cf), config_error_text(cf));
	return -1;
}

/*
 * config_derive - the tables derived from rules, TLS and credentials,
 * into c with rules as its rule set (c's own is freed when it is another);
 * on failure c is left as it was
 */
static int
config_derive(struct config *c, struct ruleset *rules, char *err,
    size_t errlen)
{
	struct tlspolicy	*tp;
	struct saslpasswd	*sp;

	if (tlspolicy_build(rules, &tp, err, errlen) == -1)
		return -1;
	if (saslpasswd_build(rules, &sp, err, errlen) == -1) {
		tlspolicy_free(tp);
		return -1;
	}
	if (c->rules != rules) {
		ruleset_free(c->rules);
		c->rules = rules;
	}
	tlspolicy_free(c->tls);
	c->tls = tp;
	saslpasswd_free(c->sasl);
	c->sasl = sp;
	return 0;
}

/*
 * A configuration whose rule set is still being added to: config's own
 * (config_begin()), or a new set beside a finished config's, which stays
 * the caller's until config_finish() succeeds (config_begin_over()).
 */
struct config_builder {
	struct config	*config;
	struct ruleset	*rules;		/* the set rules are added to */
	int		 over;		/* config is the caller's */
	struct filediff	*record;	/* CONFIG_RECORD, until taken */
};

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config_builder *b;
	struct config	*c;
	char		 msg[ERRMSG_MAX];

	if ((b = config_begin(path, err, errlen)) == NULL)
		return NULL;
	if ((c = config_finish(b, msg, sizeof(msg))) == NULL)
		errmsg_set(err, errlen, "%s: %s", path, msg);
	return c;
}

/* rule_spec_of - the settings of a rule as ruleset_add() takes them */
static void
rule_spec_of(const struct rule *r, struct rule_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->relay = rule_relay_name(r->relay);
	spec->smarthost = r->smarthost;
	spec->transport = r->transport;
	spec->reply = r->reply;
	spec->recipients = rule_recipients_name(r->recipients);
	spec->recipients_file = r->rcptlist != NULL ?
	    rcptlist_path(r->rcptlist) : NULL;
	spec->tls = r->tls != TLS_UNSET ? tls_level_name(r->tls) : NULL;
	spec->tls_match = r->tls_match;
	spec->auth_file = r->auth != NULL ? r->auth->path : NULL;
}

struct rules_copy {
	struct ruleset	*to;
	char		*err;
	size_t		 errlen;
};

/* ruleset_walk() callback: one rule added again to the new set */
static int
rules_copy_one(const char *pattern, const struct rule *rule, void *arg)
{
	struct rules_copy *rc = arg;
	struct rule_spec spec;
	char		 msg[ERRMSG_MAX];

	rule_spec_of(rule, &spec);
	if (ruleset_add(rc->to, pattern, &spec, msg, sizeof(msg)) == 0)
		return 0;
	errmsg_set(rc->err, rc->errlen, "rule \"%s\": %s", pattern, msg);
	return -1;
}

/*
 * config_begin_over - a builder of the rules of the finished c plus those
 * added: a new rule set with c's rules added again (their files by the
 * paths they were read from), c's settings; c is not changed
 */
struct config_builder *
config_begin_over(struct config *c, char *err, size_t errlen)
{
	struct config_builder	*b;
	struct rules_copy	 rc;
	struct load		 ld;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->rules = ruleset_new()) == NULL) {
		free(b);
		errmsg_set(err, errlen, "out of memory");
		return NULL;
	}
	b->config = c;
	b->over = 1;
	memset(&ld, 0, sizeof(ld));
	ld.path = c->path;
	ld.err = err;
	ld.errlen = errlen;
	rc.to = b->rules;
	rc.err = err;
	rc.errlen = errlen;
	rules_service(c, b->rules);
	if (rules_dir(&ld, b->rules, c->path) == -1)
		goto fail;
	if (ruleset_reserve(b->rules, ruleset_count(c->rules)) == -1) {
		errmsg_set(err, errlen, "out of memory");
		goto fail;
	}
	if (ruleset_walk(c->rules, rules_copy_one, &rc) != 0)
		goto fail;
	return b;
fail:
	config_abort(b);
	return NULL;
}

/* config_begin - the file's settings and rules, nothing derived yet */
struct config_builder *
config_begin(const char *path, char *err, size_t errlen)
{
	return config_begin_flags(path, 0, err, errlen);
}

/* config_begin_flags - config_begin(), the domains_file recorded or not read */
struct config_builder *
config_begin_flags(const char *path, int flags, char *err, size_t errlen)
{
	config_t		 cf;
	struct config_builder	*b = NULL;
	struct config		*c;
	struct load		 ld;
	const config_setting_t	*file;
	char			*fpath;
	int			 rc;

	if ((c = config_new(path)) == NULL) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	config_init(&cf);
	rc = config_parse(&cf, path, err, errlen);
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.err = err;
	ld.errlen = errlen;
	ld.config = c;
	ld.flags = flags;
	file = NULL;
	if (rc == 0)
		rc = load_top(&ld, config_root_setting(&cf), c, &file);
	/* with rules_source the rows change the rules: no file diff */
	if (c->rules_source != NULL)
		ld.flags &= ~CONFIG_RECORD;
	if (rc == 0)
		rc = rules_dir(&ld, c->rules, path);
	if (rc == 0)
		rules_service(c, c->rules);
	if (rc == 0 && ld.domains != NULL)
		rc = load_domains(&ld, ld.domains, c->rules);
	if (rc == 0 && file != NULL) {
		fpath = relative_path(path, config_setting_get_string(file));
		if (fpath == NULL)
			rc = setting_error(&ld, file, "out of memory");
		else if (!(flags & CONFIG_NO_DOMAINS_FILE))
			rc = domains_file_load(&ld, c->rules, fpath, err,
			    errlen);
		c->domains_file = fpath;
	}
	if (rc == 0 && c->rules_cache != NULL && c->rules_source == NULL)
		rc = setting_error(&ld, config_lookup(&cf, "rules_cache"),
		    "rules_cache without rules_source");
	config_destroy(&cf);
	if (rc == 0 && (b = calloc(1, sizeof(*b))) == NULL) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	if (rc == -1) {
		filediff_free(ld.record);
		config_free(c);
		return NULL;
	}
	b->config = c;
	b->rules = c->rules;
	b->record = ld.record;
	return b;
}

/* config_builder_rules - the rule set a builder adds rows to */
struct ruleset *
config_builder_rules(struct config_builder *b)
{
	return b->rules;
}

/* config_builder_config - its settings, read only (rules_source, ...) */
const struct config *
config_builder_config(const struct config_builder *b)
{
	return b->config;
}

/* config_builder_record - the domains_file's record, taken (or NULL) */
struct filediff *
config_builder_record(struct config_builder *b)
{
	struct filediff	*d = b->record;

	b->record = NULL;
	return d;
}

/* config_builder_file - the rules of a domains_file, added */
int
config_builder_file(struct config_builder *b, const char *path, char *err,
    size_t errlen)
{
	return config_load_domains_file(b->rules, path, err, errlen);
}

/*
 * config_finish - the immutable configuration, everything derived once:
 * the TLS policy table and the smart hosts' credentials of all the rules
 * (file and rows alike).  The builder is gone either way; a failed
 * finish frees its configuration, but leaves a config_begin_over() one
 * as it was.
 */
struct config *
config_finish(struct config_builder *b, char *err, size_t errlen)
{
	struct config	*c = b->config;

	if (config_derive(c, b->rules, err, errlen) == -1) {
		config_abort(b);
		return NULL;
	}
	filediff_free(b->record);
	free(b);
	return c;
}

/* config_abort - drop a builder and what it holds (not the caller's) */
void
config_abort(struct config_builder *b)
{
	if (b == NULL)
		return;
	if (b->over)
		ruleset_free(b->rules);
	else
		config_free(b->config);
	filediff_free(b->record);
	free(b);
}

void
config_free(struct config *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->socket);
	free(c->socketmap);
	free(c->metrics);
	for (i = 0; i < c->ninline_patterns; i++)
		free(c->inline_patterns[i]);
	free(c->inline_patterns);
	free(c->user);
	free(c->group);
	free(c->pidfile);
	free(c->maps_dir);
	free(c->syslog_facility);
	free(c->rules_source);
	free(c->rules_cache);
	free(c->domains_file);
	netlist_free(c->policy.trusted_networks);
	free(c->verify.cache);
	free(c->verify.helo_name);
	free(c->verify.unknown_reply);
	ruleset_free(c->rules);
	tlspolicy_free(c->tls);
	saslpasswd_free(c->sasl);
	free(c);
}
