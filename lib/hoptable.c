/*
 * NAME
 *	hoptable - a table of next hops, each given by one rule
 * SYNOPSIS
 *	#include "hoptable.h"
 *
 *	int	hoptable_key(hop, key, keylen)
 *	int	hoptable_build(set, takes, same, conflict, t, err, errlen)
 *	const struct hop_entry *hoptable_find(t, key)
 *	void	hoptable_free(t)
 * DESCRIPTION
 *	Postfix looks some per-destination settings up by next hop, not by
 *	recipient: the TLS policy (smtp_tls_policy_maps, tlspolicy.c) and
 *	the SASL credentials (smtp_sasl_password_maps, saslpasswd.c), each
 *	destination of a transport's next-hop list verbatim.  So one hop has
 *	one setting whichever rule's mail goes there, and two rules giving
 *	one hop different settings are a configuration error naming both.
 *
 *	hoptable_key() writes the key of a hop: Postfix syntax, port 25 as
 *	no port ("[h]" and "[h]:25" are one hop; hop->port is changed so):
 *	0, or -1 when key is too small.
 *
 *	hoptable_build() fills t (zeroed by the caller) with every hop of
 *	every rule for which takes() is 1, sorted by key, one entry a key:
 *	0; -1 with "out of memory" in err; or -1 with conflict()'s message in
 *	err when two rules give one hop settings that same() tells apart
 *	(conflict() gets the first two such entries).  It walks the patterns
 *	only when one of the set's distinct rules is taken (ruleset_any()),
 *	so a million rules without the setting cost no walk.  On -1 the
 *	table is freed.
 *
 *	hoptable_find() is the entry of a key, or NULL.  hoptable_free()
 *	releases the entries (the rules are the rule set's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoptable.h"
#include "ruleset.h"
#include "sorttab.h"

struct build {
	struct hoptable	*t;
	hoptable_takes_fn *takes;
	hoptable_same_fn *same;
	hoptable_conflict_fn *conflict;
	char		*err;
	size_t		 errlen;
};

/* hoptable_key - the key of a hop: Postfix syntax, port 25 as none */
int
hoptable_key(struct nexthop *hop, char *key, size_t keylen)
{
	if (hop->port == NEXTHOP_PORT_DEFAULT)
		hop->port = 0;
	return nexthop_format(hop, NEXTHOP_POSTFIX, key, keylen);
}

static void
entry_clear(struct hop_entry *e)
{
	free(e->key);
	free(e->host);
	free(e->pattern);
}

/* entry_fold - one hop given by two rules: the same settings, or -1 */
static int
entry_fold(void *kept, void *dup, void *arg)
{
	struct build	*b = arg;
	struct hop_entry *a = kept, *e = dup;

	if (!b->same(a->rule, e->rule)) {
		b->conflict(a, e, b->err, b->errlen);
		return -1;
	}
	entry_clear(e);
	return 0;
}

/* build_rule - the hops of one rule that is taken */
static int
build_rule(const char *pattern, const struct rule *rule, void *arg)
{
	struct build	*b = arg;
	struct hoptable	*t = b->t;
	struct hop_entry *e;
	struct nexthop	 hop;
	const char	*cursor;
	char		 key[HOPTABLE_KEY_MAX + 1];

	if (rule->smarthost == NULL || !b->takes(rule))
		return 0;
	cursor = rule->smarthost;
	while (nexthop_list_next(&cursor, &hop) == 1) {
		if (hoptable_key(&hop, key, sizeof(key)) == -1)
			continue;
		if ((e = sorttab_grow(t->v, t->n, &t->cap,
		    sizeof(*e))) == NULL)
			goto nomem;
		t->v = e;
		e = &t->v[t->n++];
		e->rule = rule;
		e->family = hop.family;
		e->port = hop.port;
		e->key = strdup(key);
		e->host = strdup(hop.host);
		e->pattern = strdup(pattern);
		if (e->key == NULL || e->host == NULL || e->pattern == NULL)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(b->err, b->errlen, "out of memory");
	return -1;
}

/* hoptable_build - every hop of the rules taken, conflicts refused */
int
hoptable_build(const struct ruleset *set, hoptable_takes_fn *takes,
    hoptable_same_fn *same, hoptable_conflict_fn *conflict,
    struct hoptable *t, char *err, size_t errlen)
{
	struct build	 b;

	b.t = t;
	b.takes = takes;
	b.same = same;
	b.conflict = conflict;
	b.err = err;
	b.errlen = errlen;
	if ((ruleset_any(set, takes) &&
	    ruleset_walk(set, build_rule, &b) != 0) ||
	    sorttab_sort(t->v, &t->n, sizeof(*t->v), entry_fold, &b) == -1) {
		hoptable_free(t);
		return -1;
	}
	return 0;
}

/* hoptable_find - the entry of a key */
const struct hop_entry *
hoptable_find(const struct hoptable *t, const char *key)
{
	if (t == NULL)
		return NULL;
	return sorttab_find(t->v, t->n, sizeof(*t->v), key);
}

/* hoptable_free - release the entries */
void
hoptable_free(struct hoptable *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		entry_clear(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}
