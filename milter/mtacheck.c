/*
 * mtacheck - what "milter-relay -t" says about the MTA beside it
 *
 * SYNOPSIS
 *	#include "mtacheck.h"
 *
 *	int	mtacheck_rules(config, say)
 *	int	mtacheck_dirs(config, say)
 *	int	mtacheck_postfix(config, say)
 *
 * DESCRIPTION
 *	Each function hands every finding, a sentence, to say() and returns
 *	how many it found.  Findings are warnings: the file loads, but mail
 *	will not go as the rules say.  -t prints them (and still passes);
 *	the daemon logs what mtacheck_dirs() finds when it starts.
 *
 *	mtacheck_rules(): a rule that sets no tls sharing a smart host with
 *	a rule that does.  Postfix looks the TLS policy up by next hop, so
 *	the first rule's mail gets the second's policy (deferred when the
 *	host cannot do it); both rules are named.  The same for credentials:
 *	a rule without auth_file sharing a smart host with a rule that has
 *	one (Postfix looks sasl_passwd up by next hop, so the first rule's
 *	mail is sent with the second's username and password).
 *
 *	mtacheck_dirs(): the directories the daemon writes, as its user
 *	(the configuration's "user" when running as root): maps_dir (static
 *	mode) and, when a rule has recipients = "verify", the directory of
 *	the callout cache (without it every RCPT makes a callout).
 *
 *	mtacheck_postfix(): when postconf(1) is found in PATH, Postfix's
 *	parameters (postconf honours MAIL_CONFIG, so a private config
 *	directory can be checked) for the mode in use: static when maps_dir
 *	is set, milter mode when smtpd_milters names the milter socket,
 *	maps-only when smtpd_relay_restrictions (or
 *	smtpd_recipient_restrictions) asks the socketmap's rcpt map, or
 *	relay_domains its relay map.  It names:
 *	  - each rule that covers one of Postfix's own names (myhostname,
 *	    mydestination, virtual_alias_domains, virtual_mailbox_domains):
 *	    that mail no longer reaches Postfix's own delivery;
 *	  - relay_domains, transport_maps, smtp_tls_policy_maps (when rules
 *	    set tls) that do not ask milter-relay; in maps-only mode
 *	    relay_domains that does ask the socketmap instead: smtpd keeps
 *	    each address's class while it runs (its resolve cache), so
 *	    reject_unauth_destination would relay the names of a removed
 *	    rule for untrusted clients while that smtpd runs; and
 *	    smtpd_recipient_restrictions with its own
 *	    reject_unauth_destination (or defer_) not after the rcpt map,
 *	    which refuses what the rules relay (fail closed);
 *	  - a missing reject_unauth_destination, Debian's own
 *	    smtpd_relay_restrictions (defer_unauth_destination) still in
 *	    force or set twice in main.cf, the access lookup of deny rules
 *	    missing or (maps-only, static) after permit_mynetworks;
 *	  - milter_default_action other than tempfail (milter mode);
 *	  - rules that set tls without a tlsmgr service in master.cf;
 *	  - rules with auth_file while maps_dir is unset, or Postfix's
 *	    smtp_sasl_auth_enable is not yes, or smtp_sasl_password_maps
 *	    does not name maps_dir/sasl_passwd, or smtp_sasl_security_options
 *	    (the options of a session without TLS) lacks noplaintext, so
 *	    PLAIN and LOGIN could send the password in clear if a session
 *	    ever went on without TLS.  With such rules maps_dir
 *	    does not mean static mode (the table is written in every mode):
 *	    the mode is Postfix's (milter, socketmap, else static).
 *	Without postconf it finds nothing; with a postconf that fails it
 *	says so once.
 *
 * DIAGNOSTICS
 *	Return values count findings; nothing here fails -t.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "domain.h"
#include "nexthop.h"
#include "pflist.h"
#include "ruleset.h"
#include "saslpasswd.h"
#include "sockspec.h"
#include "tlspolicy.h"

#include "mtacheck.h"

#define SAY_MAX		1024
#define PF_VALUE_MAX	4096
#define PF_TOKEN_MAX	512
#define OWN_NAMES_MAX	64

/* the Postfix parameters mtacheck_postfix() reads, in postconf's order */
enum pf_param {
	PF_CONFIG_DIRECTORY,
	PF_MYHOSTNAME,
	PF_MYDESTINATION,
	PF_VIRTUAL_ALIAS_DOMAINS,
	PF_VIRTUAL_MAILBOX_DOMAINS,
	PF_RELAY_DOMAINS,
	PF_TRANSPORT_MAPS,
	PF_SMTPD_RELAY_RESTRICTIONS,
	PF_SMTPD_RECIPIENT_RESTRICTIONS,
	PF_SMTPD_MILTERS,
	PF_MILTER_DEFAULT_ACTION,
	PF_SMTP_TLS_POLICY_MAPS,
	PF_SMTP_SASL_AUTH_ENABLE,
	PF_SMTP_SASL_PASSWORD_MAPS,
	PF_SMTP_SASL_SECURITY_OPTIONS,
	PF_NPARAMS
};

static const char *const pf_names[PF_NPARAMS] = {
	"config_directory", "myhostname", "mydestination",
	"virtual_alias_domains", "virtual_mailbox_domains", "relay_domains",
	"transport_maps", "smtpd_relay_restrictions",
	"smtpd_recipient_restrictions", "smtpd_milters",
	"milter_default_action", "smtp_tls_policy_maps",
	"smtp_sasl_auth_enable", "smtp_sasl_password_maps",
	"smtp_sasl_security_options"
};

struct pf {
	char	 value[PF_NPARAMS][PF_VALUE_MAX];
	int	 twice[PF_NPARAMS];	/* "overriding earlier entry" */
};

/* sayf - format a finding and hand it to say */
static void
sayf(mtacheck_say_fn *say, const char *fmt, ...)
{
	char	 buf[SAY_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say(buf);
}

/* --- rules: one smart host, one TLS policy ------------------------------ */

struct tlsshare {
	const struct config *config;
	mtacheck_say_fn	*say;
	struct nexthop	 hop;		/* the shared hop */
	char		 with[PATTERN_MAX + 1];	/* the rule with tls */
	int		 n;
};

/* tls_with_hop - walk: the first rule with tls whose hops include hop */
static int
tls_with_hop(const char *pattern, const struct rule *rule, void *arg)
{
	struct tlsshare *ts = arg;

	if (rule->tls == 0 || rule->smarthost == NULL ||
	    !nexthop_list_has(rule->smarthost, &ts->hop))
		return 0;
	snprintf(ts->with, sizeof(ts->with), "%s", pattern);
	return 1;
}

/* tls_plain_rule - walk: a rule without tls on a hop that has a policy */
static int
tls_plain_rule(const char *pattern, const struct rule *rule, void *arg)
{
	struct tlsshare *ts = arg;
	struct nexthop	 hop, key_hop;
	const char	*cursor;
	char		 key[TLSPOLICY_KEY_MAX + 1], value[TLSPOLICY_VALUE_MAX];

	if (rule->tls != 0 || rule->smarthost == NULL ||
	    rule->relay == RELAY_DENY)
		return 0;
	cursor = rule->smarthost;
	while (nexthop_list_next(&cursor, &hop) == 1) {
		key_hop = hop;
		if (hoptable_key(&key_hop, key, sizeof(key)) == -1 ||
		    tlspolicy_postfix(ts->config->tls, key, strlen(key), value,
		    sizeof(value)) != 1)
			continue;
		ts->hop = hop;
		snprintf(ts->with, sizeof(ts->with), "?");
		(void)ruleset_walk(ts->config->rules, tls_with_hop, ts);
		sayf(ts->say, "rule \"%s\" sets no tls but shares smart host "
		    "%s with rule \"%s\" (tls %s): Postfix looks the TLS "
		    "policy up by next hop, so its mail gets that policy too "
		    "(deferred when the host cannot do it); give both rules "
		    "the same tls", pattern, key, ts->with, value);
		ts->n++;
		break;
	}
	return 0;
}

/* --- rules: one smart host, one set of credentials -------------------- */

/* auth_plain_rule - walk: a rule without auth_file on a hop that has one */
static int
auth_plain_rule(const char *pattern, const struct rule *rule, void *arg)
{
	struct tlsshare *ts = arg;
	const struct hop_entry *e;
	struct nexthop	 hop;
	const char	*cursor;
	char		 key[HOPTABLE_KEY_MAX + 1];

	if (rule->auth != NULL || rule->smarthost == NULL ||
	    rule->relay == RELAY_DENY)
		return 0;
	cursor = rule->smarthost;
	while (nexthop_list_next(&cursor, &hop) == 1) {
		if (hoptable_key(&hop, key, sizeof(key)) == -1 ||
		    (e = saslpasswd_find(ts->config->sasl, key)) == NULL)
			continue;
		sayf(ts->say, "rule \"%s\" has no auth_file but shares smart "
		    "host %s with rule \"%s\" (auth_file %s): Postfix looks "
		    "credentials up by next hop, so its mail is sent with "
		    "those credentials too; give both rules the same "
		    "auth_file, or the rule its own smart host", pattern, key,
		    e->pattern, e->rule->auth->path);
		ts->n++;
		break;
	}
	return 0;
}

int
mtacheck_rules(const struct config *config, mtacheck_say_fn *say)
{
	struct tlsshare ts;

	memset(&ts, 0, sizeof(ts));
	ts.config = config;
	ts.say = say;
	if (config->tls != NULL)
		(void)ruleset_walk(config->rules, tls_plain_rule, &ts);
	if (config->sasl != NULL)
		(void)ruleset_walk(config->rules, auth_plain_rule, &ts);
	return ts.n;
}

/* --- directories the daemon writes ------------------------------------ */

/* dir_problem - why the daemon's user cannot write dir, or NULL */
static const char *
dir_problem(const char *dir, const struct config *config, char *buf,
    size_t len)
{
	struct stat	 st;
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gid;

	if (stat(dir, &st) == -1) {
		snprintf(buf, len, "%s", strerror(errno));
		return buf;
	}
	if (!S_ISDIR(st.st_mode))
		return "not a directory";
	if (geteuid() != 0 || config->user == NULL)
		return access(dir, W_OK | X_OK) == 0 ? NULL :
		    "not writable by this user";
	if ((pw = getpwnam(config->user)) == NULL)
		return NULL;	/* -t names an unknown user elsewhere */
	gid = pw->pw_gid;
	if (config->group != NULL && (gr = getgrnam(config->group)) != NULL)
		gid = gr->gr_gid;
	if ((st.st_uid == pw->pw_uid && (st.st_mode & S_IWUSR)) ||
	    ((st.st_gid == gid || st.st_gid == pw->pw_gid) &&
	    (st.st_mode & S_IWGRP)) || (st.st_mode & S_IWOTH))
		return NULL;
	snprintf(buf, len, "not writable by user %s", config->user);
	return buf;
}

/* is_verify - ruleset_any(): a rule with recipients = "verify" */
static int
is_verify(const struct rule *rule)
{
	return rule->recipients == RECIPIENTS_VERIFY;
}

int
mtacheck_dirs(const struct config *config, mtacheck_say_fn *say)
{
	char		 buf[256], dir[PATH_MAX];
	const char	*why, *cache, *slash;
	int		 n = 0;

	if (config->maps_dir != NULL && (why = dir_problem(config->maps_dir,
	    config, buf, sizeof(buf))) != NULL) {
		sayf(say, "maps_dir %s: %s: static mode cannot write Postfix's "
		    "tables (create it, owned by the daemon's user)",
		    config->maps_dir, why);
		n++;
	}
	if (!ruleset_any(config->rules, is_verify))
		return n;
	cache = config->verify.cache != NULL ? config->verify.cache :
	    VERIFY_CACHE_DEFAULT;
	if ((slash = strrchr(cache, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
		    (int)(slash == cache ? 1 : slash - cache), cache);
	if ((why = dir_problem(dir, config, buf, sizeof(buf))) != NULL) {
		sayf(say, "recipients = \"verify\": the cache's directory %s: "
		    "%s: callouts run without a cache, one for every RCPT "
		    "(create it, owned by the daemon's user; the systemd unit "
		    "makes /var/lib/milter-relay)", dir, why);
		n++;
	}
	return n;
}

/* --- Postfix ---------------------------------------------------------- */

/* pf_index - position of the first element for which match() holds, -1 */
static int
pf_index(const char *list, int (*match)(const char *, const char *),
    const char *arg)
{
	char	 tok[PF_TOKEN_MAX];
	int	 i;

	for (i = 0; pflist_next(&list, tok, sizeof(tok)); i++)
		if (match(tok, arg))
			return i;
	return -1;
}

static int
match_word(const char *tok, const char *word)
{
	return strcmp(tok, word) == 0;
}

/* match_table - tok is the table arg ("socketmap:...:relay", ".../access") */
static int
match_table(const char *tok, const char *table)
{
	size_t	 tl = strlen(tok), l = strlen(table);

	if (table[0] == '/')	/* a file: any lookup type */
		return tl > l && tok[tl - l - 1] == ':' &&
		    strcmp(tok + tl - l, table) == 0;
	return strcmp(tok, table) == 0;
}

/* pf_read - run postconf; 0, 1 no postconf, -1 failed (said) */
static int
pf_read(struct pf *pf, mtacheck_say_fn *say)
{
	char	 cmd[1024], line[PF_VALUE_MAX + 128], *v;
	size_t	 len;
	FILE	*fp;
	int	 i, status;

	len = (size_t)snprintf(cmd, sizeof(cmd), "command -v postconf "
	    ">/dev/null 2>&1 || exit 99; exec postconf -x");
	for (i = 0; i < PF_NPARAMS && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " %s",
		    pf_names[i]);
	if (len >= sizeof(cmd) - 8)
		return -1;
	strcat(cmd, " 2>&1");
	if ((fp = popen(cmd, "r")) == NULL)
		return 1;
	memset(pf, 0, sizeof(*pf));
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (i = 0; i < PF_NPARAMS; i++) {
			len = strlen(pf_names[i]);
			if (strncmp(line, pf_names[i], len) == 0 &&
			    strncmp(line + len, " =", 2) == 0) {
				v = line + len + 2;
				v += strspn(v, " ");
				snprintf(pf->value[i], sizeof(pf->value[i]),
				    "%s", v);
			}
			if ((v = strstr(line, "overriding earlier entry: "))
			    != NULL && strncmp(v + 26, pf_names[i], len) == 0 &&
			    v[26 + len] == '=')
				pf->twice[i] = 1;
		}
		if (strncmp(line, "postconf: fatal: ", 17) == 0)
			sayf(say, "postconf: %s", line + 17);
	}
	status = pclose(fp);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 99)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		sayf(say, "postconf failed: Postfix's configuration not checked");
		return -1;
	}
	return 0;
}

/* pf_has_tlsmgr - 1 when master.cf has a tlsmgr service, 0 not, -1 unknown */
static int
pf_has_tlsmgr(void)
{
	char	 line[512];
	FILE	*fp;
	int	 found = 0;

	if ((fp = popen("postconf -M tlsmgr/unix 2>/dev/null", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "tlsmgr", 6) == 0)
			found = 1;
	(void)pclose(fp);
	return found;
}

/* own_names - rules covering Postfix's own names */
static int
own_names(const struct config *config, const struct pf *pf,
    const char *dir, mtacheck_say_fn *say)
{
	static const enum pf_param params[] = { PF_MYHOSTNAME,
	    PF_MYDESTINATION, PF_VIRTUAL_ALIAS_DOMAINS,
	    PF_VIRTUAL_MAILBOX_DOMAINS };
	char	 seen[OWN_NAMES_MAX][DOMAIN_MAX + 1], tok[PF_TOKEN_MAX];
	char	 name[DOMAIN_MAX + 1], pattern[PATTERN_MAX + 1];
	const char *list, *why, *what;
	const struct rule *rule;
	size_t	 i, j, nseen = 0, name_len;
	int	 n = 0;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		list = pf->value[params[i]];
		while (pflist_next(&list, tok, sizeof(tok))) {
			if (strpbrk(tok, ":/$[") != NULL ||
			    domain_normalize(tok, strlen(tok), name, &why) == -1)
				continue;
			for (j = 0; j < nseen; j++)
				if (strcmp(seen[j], name) == 0)
					break;
			if (j < nseen || nseen == OWN_NAMES_MAX)
				continue;
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			if ((rule = ruleset_lookup(config->rules, name,
			    &name_len)) == NULL)
				continue;
			rule_format_pattern(rule, name + strlen(name) -
			    name_len, name_len, pattern, sizeof(pattern));
			if (rule->relay == RELAY_DENY)
				what = "is refused";
			else if (rule->smarthost != NULL)
				what = "goes to the rule's smart host, not to "
				    "Postfix's own delivery";
			else if (rule->relay == RELAY_TRUSTED)
				what = "is refused to untrusted clients";
			else
				what = "is decided by the rule, not left to "
				    "Postfix";
			sayf(say, "postfix (%s): rule \"%s\" covers %s, "
			    "Postfix's %s: mail to it (postmaster@%s too) %s; "
			    "narrow the rule or change %s", dir, pattern, name,
			    pf_names[params[i]], name, what,
			    pf_names[params[i]]);
			n++;
		}
	}
	return n;
}

/* socketmap_table - "socketmap:inet:HOST:PORT:" of the config, or "" */
static void
socketmap_table(const struct config *config, char *buf, size_t len)
{
	enum sockspec_kind kind;
	struct sockspec_inet in;
	const char	*rest, *why;

	buf[0] = '\0';
	if (config->socketmap == NULL ||
	    sockspec_parse(config->socketmap, &kind, &rest) == -1 ||
	    kind == SOCKSPEC_UNIX || sockspec_inet(rest, &in, &why) == -1 ||
	    in.host[0] == '\0')
		return;
	snprintf(buf, len, kind == SOCKSPEC_INET6 ?
	    "socketmap:inet:[%s]:%u:" : "socketmap:inet:%s:%u:", in.host,
	    in.port);
}

/* names_milter - smtpd_milters names the config's milter socket */
static int
names_milter(const char *milters, const char *socket)
{
	enum sockspec_kind kind;
	struct sockspec_inet in;
	const char	*rest, *path, *why;
	char		 tok[PF_TOKEN_MAX], port[16];
	size_t		 tl, pl;

	if (socket == NULL || sockspec_parse(socket, &kind, &rest) == -1)
		return 0;
	port[0] = '\0';
	if (kind != SOCKSPEC_UNIX && sockspec_inet(rest, &in, &why) == 0 &&
	    in.host[0] != '\0')
		snprintf(port, sizeof(port), "%u", in.port);
	while (pflist_next(&milters, tok, sizeof(tok))) {
		if (tok[0] == '{')	/* { inet:..., settings } */
			memmove(tok, tok + 1 + strspn(tok + 1, " "),
			    strlen(tok));
		tok[strcspn(tok, ", }")] = '\0';
		if (kind == SOCKSPEC_UNIX && (strncmp(tok, "unix:", 5) == 0 ||
		    tok[0] == '/')) {
			path = tok[0] == '/' ? tok : tok + 5;
			tl = strlen(path);
			pl = strlen(rest);
			/* relative to the queue directory, or absolute */
			if (tl <= pl && strcmp(rest + pl - tl, path) == 0 &&
			    (tl == pl || rest[pl - tl - 1] == '/'))
				return 1;
		} else if (port[0] != '\0' && strncmp(tok, "inet", 4) == 0) {
			pl = strlen(port);
			tl = strlen(tok);
			if (tl > pl && tok[tl - pl - 1] == ':' &&
			    strcmp(tok + tl - pl, port) == 0)
				return 1;
		}
	}
	return 0;
}

enum pf_mode { MODE_MILTER, MODE_MAPS, MODE_STATIC };

/* table - what mode wants in a parameter: SM + map, or maps_dir/file */
static void
table(const struct config *config, const char *sm, enum pf_mode mode,
    const char *map, const char *file, char *buf, size_t len)
{
	if (mode == MODE_STATIC)
		snprintf(buf, len, "%s/%s", config->maps_dir, file);
	else
		snprintf(buf, len, "%s%s", sm, map);
}

/* asks - list has table; else a finding */
static int
asks(const struct pf *pf, enum pf_param p, const char *want,
    const char *dir, const char *consequence, mtacheck_say_fn *say)
{
	if (pf_index(pf->value[p], match_table, want) >= 0)
		return 0;
	sayf(say, "postfix (%s): %s = %s does not ask milter-relay (%s%s): %s",
	    dir, pf_names[p], pf->value[p][0] != '\0' ? pf->value[p] :
	    "(empty)", want[0] == '/' ? "lmdb:" : "",
	    want, consequence);
	return 1;
}

/* restrictions - smtpd_relay_restrictions for the mode */
static int
restrictions(const struct pf *pf, enum pf_mode mode, const char *access,
    const char *dir, mtacheck_say_fn *say)
{
	const char *rr = pf->value[PF_SMTPD_RELAY_RESTRICTIONS];
	int	 n = 0, at, mynet, defer = 0;

	if (pf->twice[PF_SMTPD_RELAY_RESTRICTIONS]) {
		sayf(say, "postfix (%s): main.cf sets smtpd_relay_restrictions "
		    "more than once (Debian's line left next to ours?): Postfix "
		    "uses the last one only; remove the other", dir);
		n++;
	}
	if (pf_index(rr, match_word, "defer_unauth_destination") >= 0) {
		defer = 1;
		sayf(say, "postfix (%s): smtpd_relay_restrictions has "
		    "defer_unauth_destination, Debian's default: mail to "
		    "domains no rule relays is deferred (4xx) and retried for "
		    "days; replace the line (README, step 6)", dir);
		n++;
	}
	if (!defer &&
	    pf_index(rr, match_word, "reject_unauth_destination") < 0 &&
	    pf_index(pf->value[PF_SMTPD_RECIPIENT_RESTRICTIONS], match_word,
	    "reject_unauth_destination") < 0) {
		sayf(say, "postfix (%s): neither smtpd_relay_restrictions nor "
		    "smtpd_recipient_restrictions has reject_unauth_destination"
		    ": %s", dir, mode == MODE_MILTER ? "Postfix's own relay "
		    "check is gone, only the milter stands between clients "
		    "and relaying" : "Postfix relays every recipient the access "
		    "lookup leaves alone (an open relay)");
		n++;
	}
	if ((at = pf_index(rr, match_table, access)) < 0) {
		sayf(say, "postfix (%s): smtpd_relay_restrictions has no "
		    "check_recipient_access %s%s: %s", dir,
		    access[0] == '/' ? "lmdb:" : "", access, mode == MODE_MILTER ?
		    "deny rules' names get Postfix's \"Relay access denied\", "
		    "not the rules' replies" : "deny rules are not applied "
		    "before Postfix relays");
		n++;
	} else if (mode != MODE_MILTER &&
	    (mynet = pf_index(rr, match_word, "permit_mynetworks")) >= 0 &&
	    mynet < at) {
		sayf(say, "postfix (%s): in smtpd_relay_restrictions %s comes "
		    "after permit_mynetworks: trusted clients relay to deny "
		    "rules' names", dir, access);
		n++;
	}
	return n;
}

/* maps_relay - maps-only: the rcpt map alone relays, not relay_domains */
static int
maps_relay(const struct pf *pf, const char *want, const char *rcpt,
    const char *dir, mtacheck_say_fn *say)
{
	const char *rr = pf->value[PF_SMTPD_RECIPIENT_RESTRICTIONS];
	int	 n = 0, at, unauth;

	/* a second reject_unauth_destination no rcpt map's OK precedes */
	if ((unauth = pf_index(rr, match_word, "reject_unauth_destination")) < 0)
		unauth = pf_index(rr, match_word, "defer_unauth_destination");
	if (unauth >= 0 &&
	    ((at = pf_index(rr, match_table, rcpt)) < 0 || at > unauth)) {
		sayf(say, "postfix (%s): smtpd_recipient_restrictions has "
		    "%s_unauth_destination without check_recipient_access %s "
		    "before it: in maps-only mode relayed domains are not in "
		    "relay_domains, so it refuses untrusted clients' mail the "
		    "rules relay; remove it (smtpd_relay_restrictions has it)",
		    dir, pf_index(rr, match_word, "reject_unauth_destination")
		    >= 0 ? "reject" : "defer", rcpt);
		n++;
	}
	if (pf_index(pf->value[PF_RELAY_DOMAINS], match_table, want) < 0)
		return n;
	sayf(say, "postfix (%s): relay_domains = %s asks milter-relay in "
	    "maps-only mode: smtpd keeps each address's relay class while "
	    "it runs (its resolve cache), so after a reload that removes a "
	    "rule, untrusted clients relay to the addresses it had resolved "
	    "(an open relay) while that smtpd runs; set relay_domains = "
	    "(empty): the rcpt map decides (contrib/postfix/main-maps.cf)",
	    dir, pf->value[PF_RELAY_DOMAINS]);
	return n + 1;
}

/* credentials - Postfix's smtp client and the table of auth_file rules */
static int
credentials(const struct config *config, const struct pf *pf,
    const char *dir, mtacheck_say_fn *say)
{
	char	 want[PATH_MAX];
	int	 n = 0;

	if (config->sasl == NULL)
		return 0;
	if (config->maps_dir == NULL) {
		sayf(say, "rules have auth_file but maps_dir is unset: "
		    "milter-relay writes the credentials for Postfix "
		    "(sasl_passwd.lmdb) there, in every mode");
		return 1;
	}
	if (strcmp(pf->value[PF_SMTP_SASL_AUTH_ENABLE], "yes") != 0) {
		sayf(say, "postfix (%s): rules have auth_file but "
		    "smtp_sasl_auth_enable = %s: their smart hosts get no "
		    "password", dir, pf->value[PF_SMTP_SASL_AUTH_ENABLE]);
		n++;
	}
	snprintf(want, sizeof(want), "%s/sasl_passwd", config->maps_dir);
	n += asks(pf, PF_SMTP_SASL_PASSWORD_MAPS, want, dir, "the rules' "
	    "smart hosts get no password from their auth_file", say);
	if (pf_index(pf->value[PF_SMTP_SASL_SECURITY_OPTIONS], match_word,
	    "noplaintext") < 0) {
		sayf(say, "postfix (%s): rules have auth_file but "
		    "smtp_sasl_security_options = %s lacks noplaintext: "
		    "PLAIN and LOGIN would send the password in clear on a "
		    "session without TLS; set it to noanonymous, noplaintext "
		    "(smtp_sasl_tls_security_options = noanonymous for TLS "
		    "sessions)", dir,
		    pf->value[PF_SMTP_SASL_SECURITY_OPTIONS][0] != '\0' ?
		    pf->value[PF_SMTP_SASL_SECURITY_OPTIONS] : "(empty)");
		n++;
	}
	return n;
}

int
mtacheck_postfix(const struct config *config, mtacheck_say_fn *say)
{
	struct pf	*pf;
	enum pf_mode	 mode;
	char		 sm[128], want[PATH_MAX], dir[PATH_MAX];
	char		 rcpt[PATH_MAX];
	const char	*mname;
	int		 n = 0;

	if ((pf = malloc(sizeof(*pf))) == NULL)
		return 0;
	if (pf_read(pf, say) != 0) {
		free(pf);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", pf->value[PF_CONFIG_DIRECTORY]);
	n += own_names(config, pf, dir, say);
	socketmap_table(config, sm, sizeof(sm));
	snprintf(rcpt, sizeof(rcpt), "%srcpt", sm);
	/* with credentials, maps_dir is there in every mode (sasl_passwd) */
	if (config->maps_dir != NULL && config->sasl == NULL)
		mode = MODE_STATIC;
	else if (names_milter(pf->value[PF_SMTPD_MILTERS], config->socket))
		mode = MODE_MILTER;
	else if (sm[0] != '\0' &&
	    (pf_index(pf->value[PF_SMTPD_RELAY_RESTRICTIONS], match_table,
	    rcpt) >= 0 || pf_index(pf->value[PF_SMTPD_RECIPIENT_RESTRICTIONS],
	    match_table, rcpt) >= 0 || pf_index(pf->value[PF_RELAY_DOMAINS],
	    match_table, (snprintf(want, sizeof(want), "%srelay", sm), want))
	    >= 0))
		mode = MODE_MAPS;
	else if (config->maps_dir != NULL)
		mode = MODE_STATIC;
	else {
		sayf(say, "postfix (%s): does not use this milter-relay: "
		    "smtpd_milters does not name %s, smtpd_relay_restrictions "
		    "does not ask %s", dir, config->socket != NULL ?
		    config->socket : "its socket", sm[0] != '\0' ? rcpt :
		    "its socketmap");
		free(pf);
		return n + 1;
	}
	mname = mode == MODE_STATIC ? "static mode" : mode == MODE_MAPS ?
	    "maps-only mode" : "milter mode";
	table(config, sm, mode, "relay", "relay_domains", want, sizeof(want));
	if (mode == MODE_MAPS)
		n += maps_relay(pf, want, rcpt, dir, say);
	else
		n += asks(pf, PF_RELAY_DOMAINS, want, dir, mode == MODE_MILTER ?
		    "domains the rules relay get Postfix's \"Relay access "
		    "denied\" before the milter is asked" : "Postfix does not "
		    "relay what the rules relay", say);
	table(config, sm, mode, "transport", "transport", want, sizeof(want));
	n += asks(pf, PF_TRANSPORT_MAPS, want, dir, "mail goes Postfix's "
	    "default way, not to the rules' smart hosts", say);
	table(config, sm, mode, mode == MODE_MAPS ? "rcpt" : "access",
	    "access", want, sizeof(want));
	n += restrictions(pf, mode, want, dir, say);
	if (mode == MODE_MILTER &&
	    strcmp(pf->value[PF_MILTER_DEFAULT_ACTION], "tempfail") != 0) {
		sayf(say, "postfix (%s): milter_default_action = %s: while the "
		    "milter is down Postfix should defer mail (tempfail), not "
		    "pass it unchecked", dir, pf->value[PF_MILTER_DEFAULT_ACTION]);
		n++;
	}
	if (config->tls != NULL) {
		table(config, sm, mode, "tls", "tls_policy", want, sizeof(want));
		n += asks(pf, PF_SMTP_TLS_POLICY_MAPS, want, dir, "the tls of "
		    "the rules is not applied", say);
		if (pf_has_tlsmgr() == 0) {
			sayf(say, "postfix (%s): rules set tls (%s) but master.cf "
			    "has no tlsmgr service: Postfix's smtp client logs "
			    "errors and keeps no TLS session cache; add Debian's "
			    "tlsmgr line", dir, mname);
			n++;
		}
	}
	n += credentials(config, pf, dir, say);
	free(pf);
	return n;
}
