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
 *	policies are a configuration error naming both (hoptable.c keeps
 *	such tables, keyed by hoptable_key(): "[h]" and "[h]:25" are one).
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
 *	tlspolicy_walk() calls fn(key, value) for every hop in key order (the
 *	static policy table of "milter-relay export"); a non-zero return
 *	stops it and is returned.  tlspolicy_free() frees a table (NULL is
 *	fine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hoptable.h"
#include "ruleset.h"
#include "strutil.h"
#include "tlspolicy.h"

#define SENDMAIL_ENCRYPT	"ENCR:112"

struct tlspolicy {
	struct hoptable	 t;
};

/* has_policy - a rule whose hops get its TLS policy */
static int
has_policy(const struct rule *rule)
{
	return rule->tls != TLS_UNSET;
}

/* same_policy - two rules give their hops one policy */
static int
same_policy(const struct rule *a, const struct rule *b)
{
	return a->tls == b->tls && str_same(a->tls_match, b->tls_match);
}

/* policy_conflict - the message for one hop given two policies */
static void
policy_conflict(const struct hop_entry *a, const struct hop_entry *b,
    char *err, size_t errlen)
{
	const struct rule *ra = a->rule, *rb = b->rule;

	snprintf(err, errlen, "smart host %s has tls = \"%s\"%s%s "
	    "in rule \"%s\" but tls = \"%s\"%s%s in rule \"%s\": "
	    "Postfix looks TLS policy up by next hop",
	    a->key, tls_level_name(ra->tls),
	    ra->tls_match != NULL ? " tls_match = " : "",
	    ra->tls_match != NULL ? ra->tls_match : "", a->pattern,
	    tls_level_name(rb->tls),
	    rb->tls_match != NULL ? " tls_match = " : "",
	    rb->tls_match != NULL ? rb->tls_match : "", b->pattern);
}

/* tlspolicy_build - the table of hops, conflicts refused */
int
tlspolicy_build(const struct ruleset *set, struct tlspolicy **out,
    char *err, size_t errlen)
{
	struct tlspolicy *tp;

	*out = NULL;
	if ((tp = calloc(1, sizeof(*tp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (hoptable_build(set, has_policy, same_policy, policy_conflict,
	    &tp->t, err, errlen) == -1) {
		free(tp);
		return -1;
	}
	if (tp->t.n == 0) {
		tlspolicy_free(tp);
		return 0;
	}
	*out = tp;
	return 0;
}

static int
policy_format(const struct hop_entry *e, char *value, size_t valuelen)
{
	const struct rule *r = e->rule;
	int	n;

	n = snprintf(value, valuelen, "%s%s%s", tls_level_name(r->tls),
	    r->tls_match != NULL ? " match=" : "", r->tls_match != NULL ?
	    r->tls_match : "");
	return n < 0 || (size_t)n >= valuelen ? -1 : 1;
}

/* tlspolicy_postfix - the policy for Postfix's next-hop key */
int
tlspolicy_postfix(const struct tlspolicy *tp, const char *key, size_t len,
    char *value, size_t valuelen)
{
	const struct hop_entry *e;
	struct nexthop	 hop;
	const char	*why;
	char		 k[TLSPOLICY_KEY_MAX + 1];

	if (tp == NULL || len == 0 || key[0] == '.' ||
	    nexthop_parse_mta(key, len, NEXTHOP_POSTFIX, &hop, &why) == -1 ||
	    hoptable_key(&hop, k, sizeof(k)) == -1)
		return 0;
	if ((e = hoptable_find(&tp->t, k)) == NULL)
		return 0;
	return policy_format(e, value, valuelen);
}

/* tlspolicy_sendmail - TLS_Srv: for a server name or address */
int
tlspolicy_sendmail(const struct tlspolicy *tp, const char *host, size_t len,
    char *value, size_t valuelen)
{
	const struct hop_entry *e, *best;
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
	for (i = 0; i < tp->t.n; i++) {
		e = &tp->t.v[i];
		if (strcmp(e->host, hop.host) == 0 &&
		    (best == NULL || e->rule->tls > best->rule->tls))
			best = e;
	}
	if (best == NULL || best->rule->tls < TLS_ENCRYPT)
		return 0;
	if (best->rule->tls == TLS_ENCRYPT)
		n = snprintf(value, valuelen, "%s", SENDMAIL_ENCRYPT);
	else {
		cn = best->rule->tls_match;
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

	for (i = 0; tp != NULL && i < tp->t.n; i++) {
		if (policy_format(&tp->t.v[i], value, sizeof(value)) == -1)
			return -1;
		if ((rc = fn(tp->t.v[i].key, value, arg)) != 0)
			return rc;
	}
	return 0;
}

/* tlspolicy_free - release a table */
void
tlspolicy_free(struct tlspolicy *tp)
{
	if (tp == NULL)
		return;
	hoptable_free(&tp->t);
	free(tp);
}
