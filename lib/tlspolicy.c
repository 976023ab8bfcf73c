/*
 * NAME
 *	tlspolicy - TLS policy per next hop, for Postfix and Sendmail
 * SYNOPSIS
 *	#include "tlspolicy.h"
 *
 *	int	tlspolicy_build(set, out, err, errlen)
 *	int	tlspolicy_postfix(tp, key, len, value, valuelen)
 *	int	tlspolicy_sendmail(tp, host, len, value, valuelen)
 *	int	tlspolicy_walk(tp, fn, arg)
 *	int	tlspolicy_key(hop, key, keylen)
 *	void	tlspolicy_free(tp)
 * DESCRIPTION
 *	A rule may set "tls" (none, may, encrypt, dane, verify, secure: the
 *	levels of Postfix's smtp_tls_policy_maps) and "tls_match" (Postfix's
 *	match= attribute, for verify and secure) for its smart hosts.
 *
 *	Postfix looks its TLS policy up by next hop, not by recipient
 *	(src/smtp/smtp_tls_policy.c, policy_create() and
 *	tls_policy_lookup()): the key is each destination of the transport
 *	next-hop list verbatim, as smtp_connect_inet() splits it on commas
 *	and blanks: "[host]:port", "[host]", "host:port", or "host" for an
 *	MX hop, which alone is also looked up by its parents (".domain",
 *	answered NOTFOUND here).  So one hop has one policy, whichever
 *	rule's mail goes there, and two rules giving one hop different
 *	policies are a configuration error naming both.
 *
 *	A rule's tls and tls_match are checked, and the level words
 *	spelled, by tls_valid() and tls_level_name() of rulevalue.c.
 *
 *	tlspolicy_build() makes the table of every hop of every rule that
 *	sets tls: 0 and a table (NULL when no rule sets tls), or -1 with a
 *	message naming the hop and both rules.  It walks the patterns only
 *	when one of the set's distinct rules sets tls (ruleset_any()), so a
 *	million rules without tls cost no walk.
 *
 *	tlspolicy_postfix() answers Postfix's key (Postfix next-hop syntax):
 *	1 with the policy in value ("encrypt", "verify match=mail.example"),
 *	0 when the table has none for it (also for keys that are no next
 *	hop), -1 when value is too small.  "[h]" and "[h]:25" are one hop.
 *
 *	tlspolicy_sendmail() answers Sendmail's access map for a server name
 *	or address (the part after "TLS_Srv:"), as its tls_server ruleset
 *	wants it: "ENCR:112" for encrypt, "VERIFY+CN:name" for verify, secure
 *	and dane with a single tls_match name, else "VERIFY+CN" (the
 *	certificate names the server); 0 for none, may or no entry.  A host
 *	that several hops (ports) share gets the strongest level.
 *
 *	tlspolicy_key() writes the key of a hop (Postfix syntax, port 25
 *	dropped: "[h]" and "[h]:25" are one hop; hop->port is changed so):
 *	0, or -1 when key is too small.  The credentials of authenticated
 *	smart hosts (saslpasswd.c) are keyed by it too.
 *
 *	tlspolicy_walk() calls fn(key, value) for every hop in key order (the
 *	static policy table of "milter-relay export"); a non-zero return
 *	stops it and is returned.  tlspolicy_free() frees a table (NULL is
 *	fine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ruleset.h"
#include "tlspolicy.h"

#define SENDMAIL_ENCRYPT	"ENCR:112"

struct tls_entry {
	char		*key;		/* Postfix next hop, port 25 omitted */
	char		*host;		/* the hop's host, for Sendmail */
	unsigned char	 level;
	const char	*match;		/* interned in the rule set */
	char		*pattern;	/* the first rule that set it */
};

struct tlspolicy {
	struct tls_entry *entries;
	size_t		 n, cap;
};

/* tlspolicy_key - the table key of a hop: Postfix syntax, port 25 as none */
int
tlspolicy_key(struct nexthop *hop, char *key, size_t keylen)
{
	if (hop->port == NEXTHOP_PORT_DEFAULT)
		hop->port = 0;
	return nexthop_format(hop, NEXTHOP_POSTFIX, key, keylen);
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tls_entry *)a)->key,
	    ((const struct tls_entry *)b)->key);
}

struct build {
	struct tlspolicy *tp;
	char		*err;
	size_t		 errlen;
};

static int
build_rule(const char *pattern, const struct rule *rule, void *arg)
{
	struct build	*b = arg;
	struct tlspolicy *tp = b->tp;
	struct tls_entry *e;
	struct nexthop	 hop;
	const char	*cursor;
	char		 key[TLSPOLICY_KEY_MAX + 1];

	if (rule->tls == TLS_UNSET || rule->smarthost == NULL)
		return 0;
	cursor = rule->smarthost;
	while (nexthop_list_next(&cursor, &hop) == 1) {
		if (tlspolicy_key(&hop, key, sizeof(key)) == -1)
			continue;
		if (tp->n == tp->cap) {
			tp->cap = tp->cap == 0 ? 16 : tp->cap * 2;
			e = realloc(tp->entries, tp->cap * sizeof(*e));
			if (e == NULL) {
				snprintf(b->err, b->errlen, "out of memory");
				return -1;
			}
			tp->entries = e;
		}
		e = &tp->entries[tp->n];
		e->level = rule->tls;
		e->match = rule->tls_match;
		e->key = strdup(key);
		e->host = strdup(hop.host);
		e->pattern = strdup(pattern);
		tp->n++;
		if (e->key == NULL || e->host == NULL || e->pattern == NULL) {
			snprintf(b->err, b->errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int
same_match(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* has_policy - a rule that build_rule() would take */
static int
has_policy(const struct rule *rule)
{
	return rule->tls != TLS_UNSET && rule->smarthost != NULL;
}

/* tlspolicy_build - the table of hops, conflicts refused */
int
tlspolicy_build(const struct ruleset *set, struct tlspolicy **out,
    char *err, size_t errlen)
{
	struct tlspolicy *tp;
	struct build	 b;
	struct tls_entry *a, *e;
	size_t		 i, o;

	*out = NULL;
	if ((tp = calloc(1, sizeof(*tp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	b.tp = tp;
	b.err = err;
	b.errlen = errlen;
	/* a million rules without tls: no walk of their patterns */
	if (ruleset_any(set, has_policy) && ruleset_walk(set, build_rule, &b) != 0) {
		tlspolicy_free(tp);
		return -1;
	}
	if (tp->n == 0) {
		tlspolicy_free(tp);
		return 0;
	}
	qsort(tp->entries, tp->n, sizeof(*tp->entries), entry_cmp);
	for (o = 0, i = 0; i < tp->n; i++) {
		e = &tp->entries[i];
		a = o > 0 ? &tp->entries[o - 1] : NULL;
		if (a == NULL || strcmp(a->key, e->key) != 0) {
			tp->entries[o++] = *e;
			continue;
		}
		if (a->level != e->level || !same_match(a->match, e->match)) {
			snprintf(err, errlen, "smart host %s has tls = \"%s\"%s%s "
			    "in rule \"%s\" but tls = \"%s\"%s%s in rule \"%s\": "
			    "Postfix looks TLS policy up by next hop",
			    a->key, tls_level_name(a->level),
			    a->match != NULL ? " tls_match = " : "",
			    a->match != NULL ? a->match : "", a->pattern,
			    tls_level_name(e->level),
			    e->match != NULL ? " tls_match = " : "",
			    e->match != NULL ? e->match : "", e->pattern);
			for (; i < tp->n; i++) {
				free(tp->entries[i].key);
				free(tp->entries[i].host);
				free(tp->entries[i].pattern);
			}
			tp->n = o;
			tlspolicy_free(tp);
			return -1;
		}
		free(e->key);
		free(e->host);
		free(e->pattern);
	}
	tp->n = o;
	*out = tp;
	return 0;
}

static int
policy_format(const struct tls_entry *e, char *value, size_t valuelen)
{
	int	n;

	n = snprintf(value, valuelen, "%s%s%s", tls_level_name(e->level),
	    e->match != NULL ? " match=" : "", e->match != NULL ? e->match :
	    "");
	return n < 0 || (size_t)n >= valuelen ? -1 : 1;
}

/* tlspolicy_postfix - the policy for Postfix's next-hop key */
int
tlspolicy_postfix(const struct tlspolicy *tp, const char *key, size_t len,
    char *value, size_t valuelen)
{
	struct tls_entry want, *e;
	struct nexthop	 hop;
	const char	*why;
	char		 k[TLSPOLICY_KEY_MAX + 1];

	if (tp == NULL || len == 0 || key[0] == '.' ||
	    nexthop_parse_mta(key, len, NEXTHOP_POSTFIX, &hop, &why) == -1 ||
	    tlspolicy_key(&hop, k, sizeof(k)) == -1)
		return 0;
	want.key = k;
	e = bsearch(&want, tp->entries, tp->n, sizeof(*e), entry_cmp);
	if (e == NULL)
		return 0;
	return policy_format(e, value, valuelen);
}

/* tlspolicy_sendmail - TLS_Srv: for a server name or address */
int
tlspolicy_sendmail(const struct tlspolicy *tp, const char *host, size_t len,
    char *value, size_t valuelen)
{
	const struct tls_entry *e, *best;
	struct nexthop	 hop;
	const char	*why, *cn;
	char		 addr[NEXTHOP_TEXT_MAX + 3];
	size_t		 i;
	int		 n;

	if (tp == NULL || len == 0 || len > NEXTHOP_TEXT_MAX)
		return 0;
	if (len > 5 && strncasecmp(host, "IPv6:", 5) == 0) {
		/* ${server_addr} of an IPv6 server: "IPv6:2001:db8::1" */
		snprintf(addr, sizeof(addr), "[%.*s]", (int)len, host);
		host = addr;
		len += 2;
	}
	if (nexthop_parse_mta(host, len, NEXTHOP_SENDMAIL, &hop, &why) == -1)
		return 0;
	best = NULL;
	for (i = 0; i < tp->n; i++) {
		e = &tp->entries[i];
		if (strcmp(e->host, hop.host) == 0 &&
		    (best == NULL || e->level > best->level))
			best = e;
	}
	if (best == NULL || best->level < TLS_ENCRYPT)
		return 0;
	if (best->level == TLS_ENCRYPT)
		n = snprintf(value, valuelen, "%s", SENDMAIL_ENCRYPT);
	else {
		cn = best->match;
		if (cn != NULL && (strchr(cn, ':') != NULL ||
		    strcmp(cn, "hostname") == 0 || strcmp(cn, "nexthop") == 0 ||
		    strcmp(cn, "dot-nexthop") == 0))
			cn = NULL;
		n = snprintf(value, valuelen, "VERIFY+CN%s%s",
		    cn != NULL ? ":" : "", cn != NULL ? cn : "");
	}
	return n < 0 || (size_t)n >= valuelen ? -1 : 1;
}

/* tlspolicy_walk - every hop and its policy, in key order */
int
tlspolicy_walk(const struct tlspolicy *tp, tlspolicy_walk_fn *fn, void *arg)
{
	char	value[TLSPOLICY_VALUE_MAX + 1];
	size_t	i;
	int	rc;

	for (i = 0; tp != NULL && i < tp->n; i++) {
		if (policy_format(&tp->entries[i], value, sizeof(value)) == -1)
			return -1;
		if ((rc = fn(tp->entries[i].key, value, arg)) != 0)
			return rc;
	}
	return 0;
}

/* tlspolicy_free - release a table */
void
tlspolicy_free(struct tlspolicy *tp)
{
	size_t	i;

	if (tp == NULL)
		return;
	for (i = 0; i < tp->n; i++) {
		free(tp->entries[i].key);
		free(tp->entries[i].host);
		free(tp->entries[i].pattern);
	}
	free(tp->entries);
	free(tp);
}
