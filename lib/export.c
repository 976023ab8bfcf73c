/*
 * export - print the rule set as static MTA lookup tables
 *
 * See export.h for the formats.  Every value is the socketmap server's
 * own answer (maps_decided(), what maps_lookup() answers from the same
 * decision), so the static table and the server cannot disagree on what
 * a name maps to; this module only decides which keys a table needs.
 * The postfix-access table's values come from the same decision
 * (decide_domain(), as the access map decides), typed: a deny rule's
 * reply is taken from the rule, never cut out of a reply text formatted
 * for one recipient.
 *
 * For each name that carries rules (walk order: a name before the names
 * below it) it decides the name itself and a probe name just below it
 * that no rule is written at (what every other name below gets), once
 * for all the tables of a call.  It emulates the MTA's search over the
 * entries written so far (those of the parents) and writes an entry
 * when the answer differs from what the parents' entries give, or when
 * a rule is written there.
 * An entry that must say "no" where the format has no way to say it is
 * an error naming the rule.
 */
#include <search.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "domain.h"
#include "export.h"
#include "maps.h"
#include "overlay.h"
#include "rcptlist.h"
#include "reply.h"
#include "strutil.h"
#include "saslpasswd.h"
#include "tlspolicy.h"

#define PROBE_LABEL_MAX	3	/* probe labels "0" to "zzz" */
#define EXPORT_TABLE_SLACK 64	/* spare room in the hash table of keys */


#define KIND_EXACT	0x01
#define KIND_NAMESPACE	0x02
#define KIND_SUBDOMAINS	0x04

/*
 * What decide_domain() found for a name and for the probe below it,
 * asked by the first table that needs them and kept for the others.
 */
struct export_seen {
	const struct rule *rule, *below_rule;	/* NULL: no rule */
	unsigned char	 outcome, enforced;	/* enum outcome */
	unsigned char	 below_outcome, below_enforced;
	char		 label[PROBE_LABEL_MAX + 1];	/* the probe's */
	signed char	 has_below;	/* export_probe()'s result */
	unsigned char	 decided;
};

/* The names carrying rules, walk order, with the KIND_* written at each. */
struct export_names {
	char		**names;
	unsigned char	*kinds;
	struct export_seen *seen;	/* nnames of them */
	/* the recipients "list" rules with a list, walk order, for
	   export_listed() */
	const struct rule **lists;
	size_t		 nlists, caplists;
	size_t		 nnames, capnames;
	char		*err;
	size_t		 errlen;
};

struct export_state {
	const struct config *config;
	enum export_format format;
	const struct export_names *nm;	/* shared by the tables of a call */
	struct kvtable	*entries;	/* the caller's, walk order */
	struct hsearch_data table;	/* key -> index in entries */
	int		 table_made;
	int		 advice;	/* relay_domains: no parent match */
	int		 flags;		/* EXPORT_DENY_BY_ACCESS, ... */
	const struct rule *listed;	/* export_listed(): the last rule */
	/* export_answer()'s last answer: a name and its probe share a rule */
	struct map_answer last;
	const struct rule *last_rule;
	enum outcome	 last_enforced;
	int		 last_made;
	char		*err;
	size_t		 errlen;
};

static int	export_collect(const char *pattern, const struct rule *rule,
		    void *arg);
static int	export_run(const struct config *config,
		    const char *const *below, size_t nbelow,
		    const enum export_format *formats, size_t n, int flags,
		    struct kvtable *outs, FILE *notes, char *err,
		    size_t errlen);
static int	export_collect_below(const struct config *config,
		    const char *const *below, size_t nbelow,
		    struct export_names *nm);
static int	export_collect_at(const struct config *config,
		    const char *name, struct export_names *nm);
static int	export_name(struct export_state *st, size_t i);
static void	export_decide(struct export_state *st, size_t i,
		    char *probe);
static int	export_answer(struct export_state *st, const char *domain,
		    const struct rule *rule, enum outcome outcome,
		    enum outcome enforced, char *buf, const char **value);
static const char *export_access(struct export_state *st,
		    const struct rule *rule, enum outcome outcome, char *buf);
static int	export_listed(struct export_state *st,
		    const struct rule *rule);
static int	export_set(struct export_state *st, const char *key,
		    const char *value, enum export_kind kind);
static int	export_probe(struct export_state *st, const char *name,
		    char *probe);
static const char *export_inherited(struct export_state *st,
		    const char *name);
static int	export_emit(struct export_state *st, const char *prefix,
		    const char *name, const char *value);
static int	export_denied(struct export_state *st, const char *prefix,
		    const char *name);
static int	export_refuse(struct export_state *st, const char *domain,
		    const char *below, const char *why);
static void	export_free(struct export_state *st);
static int	export_pass(const struct config *config,
		    enum export_format format, int flags,
		    const struct export_names *nm, struct kvtable *out,
		    FILE *notes, char *err, size_t errlen);
static void	export_names_free(struct export_names *nm);
static int	export_tls(const struct config *config, struct kvtable *out,
		    char *err, size_t errlen);

static int
export_is_deny(const struct rule *rule)
{
	return rule->relay == RELAY_DENY;
}

/* A rule the access table has entries for with EXPORT_RECIPIENTS. */
static int
export_is_deny_or_rcpt(const struct rule *rule)
{
	return rule->relay == RELAY_DENY ||
	    rule->recipients != RECIPIENTS_ANY;
}

/* prefix and name (a rule's name: fits DOMAIN_MAX + 8 bytes) into key. */
static void
export_key(char *key, const char *prefix, const char *name)
{
	size_t	 p = strlen(prefix);

	memcpy(key, prefix, p);
	memcpy(key + p, name, strlen(name) + 1);
}

static int
export_is_secret(enum export_format format)
{
	return format == EXPORT_POSTFIX_SASL_PASSWD ||
	    format == EXPORT_SENDMAIL_AUTHINFO;
}

int
export_format_parse(const char *name, enum export_format *out)
{
	enum tablefmt	 f;

	if (tablefmt_parse(name, &f) == -1)
		return -1;
	*out = (enum export_format)f;
	return 0;
}

const char *
export_format_name(enum export_format format)
{
	return tablefmt_name((enum tablefmt)format);
}

int
export_write(const struct config *config, enum export_format format,
    FILE *out, FILE *notes, char *err, size_t errlen)
{
	return export_write_flags(config, format, 0, out, notes, err,
	    errlen);
}

int
export_write_flags(const struct config *config, enum export_format format,
    int flags, FILE *out, FILE *notes, char *err, size_t errlen)
{
	struct kvtable	 t;
	int		 rc;

	/* secrets: printed by their module, never held in a table here */
	if (export_is_secret(format) && config != NULL)
		return saslpasswd_print(config->sasl,
		    format == EXPORT_POSTFIX_SASL_PASSWD ? SASLPASSWD_POSTFIX :
		    SASLPASSWD_SENDMAIL, export_format_name(format), out, err,
		    errlen);
	kvtable_init(&t);
	rc = export_table(config, format, flags, &t, notes, err, errlen);
	if (rc == 0)
		rc = export_print(format, &t, out, err, errlen);
	kvtable_free(&t);
	return rc;
}

int
export_print(enum export_format format, const struct kvtable *t, FILE *out,
    char *err, size_t errlen)
{
	size_t	i;

	fprintf(out, "# milter-relay export %s: %zu entries\n",
	    export_format_name(format), t->n);
	for (i = 0; i < t->n; i++)
		fprintf(out, "%s\t%s\n", t->v[i].key, t->v[i].value);
	if (fflush(out) == EOF || ferror(out)) {
		snprintf(err, errlen, "write error");
		return -1;
	}
	return 0;
}

int
export_table(const struct config *config, enum export_format format,
    int flags, struct kvtable *out, FILE *notes, char *err, size_t errlen)
{
	return export_tables(config, &format, 1, flags, out, notes, err,
	    errlen);
}

int
export_tables(const struct config *config, const enum export_format *formats,
    size_t n, int flags, struct kvtable *outs, FILE *notes, char *err,
    size_t errlen)
{
	return export_run(config, NULL, 0, formats, n, flags, outs, notes,
	    err, errlen);
}

int
export_below(const struct config *config, const char *const *names,
    size_t nnames, const enum export_format *formats, size_t n, int flags,
    struct kvtable *outs, char *err, size_t errlen)
{
	return export_run(config, names, nnames, formats, n, flags, outs,
	    NULL, err, errlen);
}

char *
export_settings(const struct config *config)
{
	char	*text;

	/* a name's decision, for no client and no mailer (decide.h) */
	if (asprintf(&text, "unmatched=%d log_only=%d verify_unknown=%d "
	    "unknown_reply=%s%s", (int)config->policy.unmatched,
	    config->policy.log_only, (int)config->policy.verify_unknown,
	    config->verify.unknown_reply != NULL ? "=" : "-",
	    config->verify.unknown_reply != NULL ?
	    config->verify.unknown_reply : "") == -1)
		return NULL;
	return text;
}

const char *
export_key_domain(const char *key)
{
	const char	*at;

	if ((at = strchr(key, '@')) != NULL)
		return at + 1;
	return key[0] == '.' ? key + 1 : key;
}

/*
 * The tables of the names that carry rules: all of them (below NULL),
 * or those at or below the names of below and those above them.
 */
static int
export_run(const struct config *config, const char *const *below,
    size_t nbelow, const enum export_format *formats, size_t n, int flags,
    struct kvtable *outs, FILE *notes, char *err, size_t errlen)
{
	struct export_names nm;
	size_t		 k;
	int		 rc = 0;

	if (config == NULL || config->rules == NULL) {
		snprintf(err, errlen, "no rule set");
		return -1;
	}
	memset(&nm, 0, sizeof(nm));
	nm.err = err;
	nm.errlen = errlen;
	for (k = 0; rc == 0 && k < n; k++) {
		if (formats[k] == EXPORT_POSTFIX_TLS_POLICY) {
			rc = export_tls(config, &outs[k], err, errlen);
			continue;
		}
		if (export_is_secret(formats[k])) {
			snprintf(err, errlen, "%s: text only",
			    export_format_name(formats[k]));
			rc = -1;
			break;
		}
		/* only deny rules' names have access entries (carve-outs) */
		if (formats[k] == EXPORT_POSTFIX_ACCESS &&
		    !ruleset_any(config->rules, flags & EXPORT_RECIPIENTS ?
		    export_is_deny_or_rcpt : export_is_deny))
			continue;
		/* the names once, for every table */
		if (nm.names == NULL) {
			rc = below == NULL ? ruleset_walk(config->rules,
			    export_collect, &nm) : export_collect_below(config,
			    below, nbelow, &nm);
			if (rc == 0 && (nm.seen = calloc(nm.nnames + 1,
			    sizeof(*nm.seen))) == NULL) {
				snprintf(err, errlen, "out of memory");
				rc = -1;
			}
		}
		if (rc == 0)
			rc = export_pass(config, formats[k], flags, &nm,
			    &outs[k], notes, err, errlen);
	}
	export_names_free(&nm);
	for (k = 0; rc != 0 && k < n; k++)
		kvtable_free(&outs[k]);
	return rc == 0 ? 0 : -1;
}

/*
 * The names carrying rules at or below the names of below, and above
 * them (a name before the names below it): those below inherit their
 * entries.  A name at or below another of below is the other's.
 */
static int
export_collect_below(const struct config *config, const char *const *below,
    size_t nbelow, struct export_names *nm)
{
	struct hsearch_data given, above;
	ENTRY		 item, *found;
	const char	*name, *p;
	size_t		 i, k;
	int		 rc = 0, covered;

	memset(&given, 0, sizeof(given));
	memset(&above, 0, sizeof(above));
	if (hcreate_r(nbelow + EXPORT_TABLE_SLACK, &given) == 0 ||
	    hcreate_r(nbelow * 4 + EXPORT_TABLE_SLACK, &above) == 0)
		goto nomem;
	for (i = 0; i < nbelow; i++) {
		item.key = (char *)below[i];
		item.data = NULL;
		if (hsearch_r(item, ENTER, &found, &given) == 0)
			goto nomem;
	}
	for (i = 0; rc == 0 && i < nbelow; i++) {
		name = below[i];
		/* once, and not below another name given */
		item.key = (char *)name;
		if (hsearch_r(item, FIND, &found, &given) == 0 ||
		    found->data != NULL)
			continue;
		found->data = (void *)name;
		for (covered = 0, p = strchr(name, '.'); p != NULL &&
		    !covered; p = strchr(p + 1, '.')) {
			item.key = (char *)(p + 1);
			covered = hsearch_r(item, FIND, &found, &given) != 0;
		}
		if (covered)
			continue;
		/* the names above it, top down, once */
		for (k = strlen(name); rc == 0 && k-- > 0;) {
			if (name[k] != '.')
				continue;
			item.key = (char *)(name + k + 1);
			item.data = NULL;
			if (hsearch_r(item, FIND, &found, &above) != 0)
				continue;
			if (hsearch_r(item, ENTER, &found, &above) == 0)
				goto nomem;
			rc = export_collect_at(config, name + k + 1, nm);
		}
		if (rc == 0)
			rc = ruleset_walk_below(config->rules, name,
			    export_collect, nm);
	}
	hdestroy_r(&given);
	hdestroy_r(&above);
	return rc;
nomem:
	hdestroy_r(&given);
	hdestroy_r(&above);
	snprintf(nm->err, nm->errlen, "out of memory");
	return -1;
}

/* The rules written at name (not below it), collected. */
static int
export_collect_at(const struct config *config, const char *name,
    struct export_names *nm)
{
	static const char *const prefixes[] = { "#", "", "." };
	const struct rule *rule;
	char		 pattern[PATTERN_MAX + 1];
	size_t		 k;
	int		 rc;

	for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		export_key(pattern, prefixes[k], name);
		if ((rule = overlay_rule(config->rules, pattern)) != NULL &&
		    (rc = export_collect(pattern, rule, nm)) != 0)
			return rc;
	}
	return 0;
}

/* One table of the names. */
static int
export_pass(const struct config *config, enum export_format format,
    int flags, const struct export_names *nm, struct kvtable *out,
    FILE *notes, char *err, size_t errlen)
{
	struct export_state st;
	size_t		 i;
	int		 rc = 0;

	memset(&st, 0, sizeof(st));
	st.config = config;
	st.format = format;
	st.flags = flags;
	st.nm = nm;
	st.entries = out;
	st.err = err;
	st.errlen = errlen;
	/* at most "name" and ".name" (or "To:name") a name */
	if (hcreate_r(2 * nm->nnames + EXPORT_TABLE_SLACK, &st.table) == 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st.table_made = 1;
	for (i = 0; rc == 0 && i < nm->nnames; i++)
		rc = export_name(&st, i);
	if (rc == 0 && format == EXPORT_POSTFIX_ACCESS &&
	    (flags & EXPORT_RECIPIENTS))
		for (i = 0; rc == 0 && i < nm->nlists; i++)
			rc = export_listed(&st, nm->lists[i]);
	if (rc == 0 && st.advice && notes != NULL)
		fprintf(notes, "milter-relay: exact or subdomains-only rules: "
		    "this relay_domains table is right only when "
		    "parent_domain_matches_subdomains does not list "
		    "relay_domains, e.g.\n  parent_domain_matches_subdomains "
		    "= debug_peer_list smtpd_access_maps\n");
	export_free(&st);
	return rc;
}

struct tls_export {
	const struct config *config;
	struct kvtable	*out;
	char		*err;
	size_t		 errlen;
};

/* tlspolicy_walk() callback: the socketmap's answer for one next hop. */
static int
export_tls_hop(const char *key, const char *value, void *arg)
{
	struct tls_export *te = arg;
	struct map_answer a;

	(void)value;
	maps_lookup(te->config, MAP_POSTFIX_TLS, key, strlen(key), &a);
	if (a.status != MAP_OK) {
		snprintf(te->err, te->errlen, "%s: no answer from the tls map",
		    key);
		return -1;
	}
	if (kvtable_add_kind(te->out, key, a.value, EXPORT_KIND_TLS) == -1) {
		snprintf(te->err, te->errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The static smtp_tls_policy_maps table: one entry a next hop that a
 * rule gives a TLS policy, keyed as Postfix looks it up.
 */
static int
export_tls(const struct config *config, struct kvtable *out, char *err,
    size_t errlen)
{
	struct tls_export te;

	memset(&te, 0, sizeof(te));
	te.config = config;
	te.out = out;
	te.err = err;
	te.errlen = errlen;
	if (tlspolicy_walk(config->tls, export_tls_hop, &te) != 0) {
		kvtable_free(out);
		return -1;
	}
	return 0;
}

/* ruleset_walk() callback: list each name once with the kinds at it. */
static int
export_collect(const char *pattern, const struct rule *rule, void *arg)
{
	struct export_names *nm = arg;
	const char	*name;
	unsigned char	 kind;
	void		*p;

	name = pattern;
	if (rule->kind == RULE_EXACT || rule->kind == RULE_SUBDOMAINS)
		name++;
	if (rule->recipients == RECIPIENTS_LIST && rule->rcptlist != NULL) {
		if (nm->nlists == nm->caplists) {
			nm->caplists = nm->caplists ? 2 * nm->caplists : 16;
			p = realloc(nm->lists, nm->caplists *
			    sizeof(*nm->lists));
			if (p == NULL)
				goto nomem;
			nm->lists = p;
		}
		nm->lists[nm->nlists++] = rule;
	}
	kind = rule->kind == RULE_EXACT ? KIND_EXACT :
	    rule->kind == RULE_NAMESPACE ? KIND_NAMESPACE : KIND_SUBDOMAINS;
	if (nm->nnames > 0 && strcmp(nm->names[nm->nnames - 1], name) == 0) {
		nm->kinds[nm->nnames - 1] |= kind;
		return 0;
	}
	if (nm->nnames == nm->capnames) {
		nm->capnames = nm->capnames ? 2 * nm->capnames : 256;
		p = realloc(nm->names, nm->capnames * sizeof(*nm->names));
		if (p == NULL)
			goto nomem;
		nm->names = p;
		p = realloc(nm->kinds, nm->capnames);
		if (p == NULL)
			goto nomem;
		nm->kinds = p;
	}
	if ((nm->names[nm->nnames] = strdup(name)) == NULL)
		goto nomem;
	nm->kinds[nm->nnames++] = kind;
	return 0;
nomem:
	snprintf(nm->err, nm->errlen, "out of memory");
	return -1;
}

/* Free the names. */
static void
export_names_free(struct export_names *nm)
{
	size_t	i;

	for (i = 0; i < nm->nnames; i++)
		free(nm->names[i]);
	free(nm->names);
	free(nm->kinds);
	free(nm->seen);
	free(nm->lists);
}

/*
 * Decide name i and the probe below it, unless an earlier table did;
 * the probe (when it has one) into probe.
 */
static void
export_decide(struct export_state *st, size_t i, char *probe)
{
	struct export_seen *seen = &st->nm->seen[i];
	const char	*name = st->nm->names[i];
	struct decision	 d;
	size_t		 n, len;

	if (seen->decided) {
		if (seen->has_below != 1)
			return;
		n = strlen(seen->label);
		memcpy(probe, seen->label, n);
		probe[n] = '.';
		memcpy(probe + n + 1, name, strlen(name) + 1);
		return;
	}
	seen->decided = 1;
	decide_domain(st->config, NULL, name, &d);
	seen->rule = d.rule;
	seen->outcome = d.outcome;
	seen->enforced = d.enforced;
	/* -1 leaves its error to export_name(), which asks again */
	seen->has_below = export_probe(st, name, probe);
	if (seen->has_below != 1)
		return;
	len = strlen(probe) - strlen(name) - 1;
	memcpy(seen->label, probe, len);
	seen->label[len] = '\0';
	decide_domain(st->config, NULL, probe, &d);
	seen->below_rule = d.rule;
	seen->below_outcome = d.outcome;
	seen->below_enforced = d.enforced;
}

/* The entries one name needs. */
static int
export_name(struct export_state *st, size_t i)
{
	const struct export_seen *seen = &st->nm->seen[i];
	const char	*name = st->nm->names[i], *inherited;
	const char	*self, *below = NULL;
	char		 probe[DOMAIN_MAX + 1];
	char		 selfbuf[MAPS_ANSWER_MAX], belowbuf[MAPS_ANSWER_MAX];
	int		 has_below, access;
	unsigned char	 kinds = st->nm->kinds[i];

	access = st->format == EXPORT_SENDMAIL_ACCESS;
	export_decide(st, i, probe);
	if (export_answer(st, name, seen->rule, seen->outcome,
	    seen->enforced, selfbuf, &self) == -1)
		return -1;
	has_below = seen->has_below;
	if (has_below == -1)
		return export_probe(st, name, probe);	/* the error again */
	if (has_below && export_answer(st, probe, seen->below_rule,
	    seen->below_outcome, seen->below_enforced, belowbuf,
	    &below) == -1)
		return -1;
	inherited = export_inherited(st, name);
	if (access) {
		/* One key covers the name and everything below it. */
		if (has_below && !str_same(self, below)) {
			return export_refuse(st, self != NULL ? name : probe,
			    self != NULL ? NULL : name, "a Sendmail access "
			    "entry covers a name and all names below it "
			    "alike");
		}
		if (!str_same(self, inherited) || (self != NULL && kinds))
			if (export_emit(st, "To:", name, self) == -1)
				return -1;
		return 0;
	}
	if (st->format == EXPORT_POSTFIX_RELAY_DOMAINS && has_below &&
	    !str_same(self, below))
		st->advice = 1;
	if (!str_same(self, inherited) ||
	    (self != NULL && (kinds & (KIND_EXACT | KIND_NAMESPACE))))
		if (export_emit(st, "", name, self) == -1)
			return -1;
	if (has_below && (!str_same(below, inherited) ||
	    (below != NULL && (kinds & (KIND_NAMESPACE | KIND_SUBDOMAINS)))))
		if (export_emit(st, ".", name, below) == -1)
			return -1;
	return 0;
}

/*
 * The answer of the format's map for domain, decided as rule with
 * outcome and enforced: the value (in buf, MAPS_ANSWER_MAX bytes) or NULL.
 */
static int
export_answer(struct export_state *st, const char *domain,
    const struct rule *rule, enum outcome outcome, enum outcome enforced,
    char *buf, const char **value)
{
	static const enum map_name maps[] = {
		[EXPORT_POSTFIX_TRANSPORT] = MAP_POSTFIX_TRANSPORT,
		[EXPORT_POSTFIX_RELAY_DOMAINS] = MAP_RELAY,
		[EXPORT_SENDMAIL_MAILERTABLE] = MAP_SENDMAIL_MAILERTABLE,
		[EXPORT_SENDMAIL_ACCESS] = MAP_RELAY,
		[EXPORT_POSTFIX_TLS_POLICY] = MAP_POSTFIX_TLS,
		[EXPORT_POSTFIX_ACCESS] = MAP_SENDMAIL_ACCESS,	/* unused */
	};
	const struct map_answer *a = &st->last;
	char		 text[MAPS_ANSWER_MAX];

	*value = NULL;
	if (st->format == EXPORT_POSTFIX_ACCESS) {
		*value = export_access(st, rule, outcome, buf);
		return 0;
	}
	if (!st->last_made || rule != st->last_rule ||
	    enforced != st->last_enforced) {
		maps_decided(maps[st->format], rule, enforced, &st->last);
		st->last_rule = rule;
		st->last_enforced = enforced;
		st->last_made = 1;
	}
	switch (a->status) {
	case MAP_OK:
		memcpy(buf, a->value, strlen(a->value) + 1);
		*value = buf;
		return 0;
	case MAP_NOTFOUND:
		return 0;
	default:
		maps_format(a, text, sizeof(text));
		snprintf(st->err, st->errlen, "%s: %s", domain, text);
		return -1;
	}
}

/*
 * The access table's answer, in buf, for a name whose decision found rule
 * with outcome (as the socketmap's access map decides): a deny rule's
 * reply, its own or the default one without the recipient (the entry
 * stands for every name it covers, and Postfix puts the recipient before
 * the text); with
 * EXPORT_RECIPIENTS, for the recipients setting of a relaying rule, the
 * unknown user reply ("list") or Postfix's own verification ("verify");
 * or NULL.
 */
static const char *
export_access(struct export_state *st, const struct rule *rule,
    enum outcome outcome, char *buf)
{
	const size_t	 len = REPLY_MAX + 1;

	if (rule == NULL)
		return NULL;
	if (rule->relay == RELAY_DENY) {
		if (outcome != OUTCOME_REJECT)
			return NULL;
		if (rule->reply != NULL)
			snprintf(buf, len, "%s", rule->reply);
		else
			reply_format(REPLY_DENIED, buf, len);
	} else if (!(st->flags & EXPORT_RECIPIENTS))
		return NULL;
	else if (rule->recipients == RECIPIENTS_LIST) {
		if (st->config->verify.unknown_reply != NULL)
			snprintf(buf, len, "%s",
			    st->config->verify.unknown_reply);
		else
			reply_format(REPLY_UNKNOWN_USER_TABLE, buf, len);
	} else if (rule->recipients == RECIPIENTS_VERIFY)
		snprintf(buf, len, "%s", EXPORT_VALUE_VERIFY);
	else
		return NULL;
	return buf;
}

_Static_assert(REPLY_MAX + 1 <= MAPS_ANSWER_MAX,
    "export_access() writes a reply into a map answer's buffer");

/*
 * EXPORT_RECIPIENTS, a list rule (walk order, as export_collect() saw
 * them): the addresses its recipients_file names, each DUNNO in the
 * access table, where this rule decides for its domain ("@domain": the
 * domain's own entry).
 */
static int
export_listed(struct export_state *st, const struct rule *rule)
{
	struct decision	 d;
	const char	*entry, *domain;
	size_t		 i;

	if (rule == st->listed)
		return 0;
	st->listed = rule;
	for (i = 0; (entry = rcptlist_entry(rule->rcptlist, i)) != NULL;
	    i++) {
		domain = strchr(entry, '@') + 1;
		decide_domain(st->config, NULL, domain, &d);
		if (d.rule != rule)
			continue;
		if (export_set(st, entry[0] == '@' ? domain : entry,
		    EXPORT_VALUE_DUNNO, EXPORT_KIND_RCPT) == -1)
			return -1;
	}
	return 0;
}

/* key's entry is value now, added or replaced. */
static int
export_set(struct export_state *st, const char *key, const char *value,
    enum export_kind kind)
{
	struct kvpair	*e;
	ENTRY		 item, *found;
	char		*copy;

	item.key = (char *)key;
	item.data = NULL;
	if (strchr(key, '@') != NULL ||
	    hsearch_r(item, FIND, &found, &st->table) == 0) {
		if (kvtable_add_kind(st->entries, key, value, kind) == -1)
			goto nomem;
		if (strchr(key, '@') != NULL)
			return 0;
		item.key = st->entries->v[st->entries->n - 1].key;
		item.data = (void *)(uintptr_t)(st->entries->n - 1);
		if (hsearch_r(item, ENTER, &found, &st->table) == 0)
			goto nomem;
		return 0;
	}
	e = &st->entries->v[(uintptr_t)found->data];
	if ((copy = strdup(value)) == NULL)
		goto nomem;
	free(e->value);
	e->value = copy;
	e->kind = kind;
	return 0;
nomem:
	snprintf(st->err, st->errlen, "out of memory");
	return -1;
}

/*
 * A name just below name that no rule is written at (so it gets what
 * every such name gets): 1 with it in probe, 0 when no name fits below
 * name, -1 when none was found.
 */
static int
export_probe(struct export_state *st, const char *name, char *probe)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	const size_t	 base = sizeof(digits) - 1;
	char		 label[PROBE_LABEL_MAX + 1];
	size_t		 len, name_len, k, v, tries;
	int		 j;

	len = strlen(name);
	if (len + 2 > DOMAIN_MAX)
		return 0;
	for (tries = 1, k = 0; k < PROBE_LABEL_MAX; k++)
		tries *= base;
	for (k = 0; k < tries; k++) {
		j = sizeof(label) - 1;
		label[j] = '\0';
		v = k;
		do {
			label[--j] = digits[v % base];
			v /= base;
		} while (v > 0);
		if (len + 1 + strlen(label + j) > DOMAIN_MAX)
			break;
		/* fits: checked above */
		v = strlen(label + j);
		memcpy(probe, label + j, v);
		probe[v] = '.';
		memcpy(probe + v + 1, name, len + 1);
		if (ruleset_lookup(st->config->rules, probe, &name_len) ==
		    NULL || name_len < strlen(probe))
			return 1;
	}
	snprintf(st->err, st->errlen, "%s: no free name below it to probe",
	    name);
	return -1;
}

/*
 * What the entries already written give for name when it has no entry of
 * its own: the MTA's search over its parents, nearest first.
 */
static const char *
export_inherited(struct export_state *st, const char *name)
{
	ENTRY		 item, *found;
	const struct kvpair *e;
	const char	*parent;
	char		 key[DOMAIN_MAX + 8];
	int		 access;

	access = st->format == EXPORT_SENDMAIL_ACCESS;
	for (parent = strchr(name, '.'); parent != NULL;
	    parent = strchr(parent + 1, '.')) {
		export_key(key, access ? "To:" : ".", parent + 1);
		item.key = key;
		item.data = NULL;
		if (hsearch_r(item, FIND, &found, &st->table) == 0)
			continue;
		e = &st->entries->v[(uintptr_t)found->data];
		return e->kind == EXPORT_KIND_NO ? NULL : e->value;
	}
	return NULL;
}

/* Add "prefix+name value"; a NULL value is "no" in the format's words. */
static int
export_emit(struct export_state *st, const char *prefix, const char *name,
    const char *value)
{
	static const enum export_kind kinds[] = {
		[EXPORT_POSTFIX_TRANSPORT] = EXPORT_KIND_ROUTE,
		[EXPORT_POSTFIX_RELAY_DOMAINS] = EXPORT_KIND_RELAY,
		[EXPORT_SENDMAIL_MAILERTABLE] = EXPORT_KIND_ROUTE,
		[EXPORT_SENDMAIL_ACCESS] = EXPORT_KIND_RELAY,
		[EXPORT_POSTFIX_TLS_POLICY] = EXPORT_KIND_TLS,
		[EXPORT_POSTFIX_ACCESS] = EXPORT_KIND_REPLY,
	};
	ENTRY		 item, *found;
	char		 key[DOMAIN_MAX + 8], probe[DOMAIN_MAX + 1];
	enum export_kind kind = kinds[st->format];

	if (value == NULL) {
		kind = EXPORT_KIND_NO;
		if (st->format == EXPORT_POSTFIX_TRANSPORT)
			value = MAPS_VALUE_NOCHANGE;
		else if (st->format == EXPORT_SENDMAIL_ACCESS)
			value = MAPS_VALUE_SKIP;
		else if (st->format == EXPORT_POSTFIX_ACCESS)
			value = EXPORT_VALUE_DUNNO;
		else if (export_denied(st, prefix, name))
			return 0;	/* the access table refuses it first */
		else {
			if (prefix[0] == '.' &&
			    export_probe(st, name, probe) == 1)
				return export_refuse(st, probe, name, "the "
				    "table cannot exclude it from its "
				    "parent's entry");
			return export_refuse(st, name, NULL, "the table cannot "
			    "exclude it from its parent's entry");
		}
	}
	export_key(key, prefix, name);
	if (kvtable_add_kind(st->entries, key, value, kind) == -1)
		goto nomem;
	item.key = st->entries->v[st->entries->n - 1].key;
	/* the index, not a pointer: entries move on realloc */
	item.data = (void *)(uintptr_t)(st->entries->n - 1);
	if (hsearch_r(item, ENTER, &found, &st->table) == 0)
		goto nomem;
	return 0;
nomem:
	snprintf(st->err, st->errlen, "out of memory");
	return -1;
}

/*
 * With EXPORT_DENY_BY_ACCESS: 1 when the postfix-access table refuses
 * name (prefix "") or the names below it (prefix "."), checked first.
 */
static int
export_denied(struct export_state *st, const char *prefix, const char *name)
{
	struct map_answer a;
	char		 probe[DOMAIN_MAX + 1];
	const char	*key = name;

	if (!(st->flags & EXPORT_DENY_BY_ACCESS))
		return 0;
	if (prefix[0] == '.') {
		if (export_probe(st, name, probe) != 1)
			return 0;
		key = probe;
	}
	maps_lookup(st->config, MAP_SENDMAIL_ACCESS, key, strlen(key), &a);
	return a.status == MAP_OK;
}

/*
 * Fail, naming the rule that decides for domain (a probe standing for
 * the names below "below", when not NULL).
 */
static int
export_refuse(struct export_state *st, const char *domain, const char *below,
    const char *why)
{
	struct decision	d;

	decide_domain(st->config, NULL, domain, &d);
	snprintf(st->err, st->errlen, "%s cannot express rule \"%s\" "
	    "(for %s%s): %s", export_format_name(st->format),
	    d.pattern[0] != '\0' ? d.pattern : domain,
	    below != NULL ? "the names below " : "",
	    below != NULL ? below : domain, why);
	return -1;
}

static void
export_free(struct export_state *st)
{
	if (st->table_made)
		hdestroy_r(&st->table);
}
