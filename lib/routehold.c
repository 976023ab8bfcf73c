/*
 * routehold - hold the mail of names whose route just changed in the
 * static tables
 *
 * NAME
 *	routehold - the names static mode answers with a 451 for a while
 * SYNOPSIS
 *	#include "routehold.h"
 *
 *	void routehold_init(struct routehold *h);
 *	int routehold_add(struct routehold *h, const char *key,
 *	    double until);
 *	void routehold_expire(struct routehold *h, double now);
 *	int routehold_changes(struct routehold *h,
 *	    const struct routehold_tables *tables, double until);
 *	int routehold_access(const struct routehold *h,
 *	    const struct routehold_tables *tables,
 *	    const struct kvtable *access, struct kvtable *out);
 *	int routehold_has(const struct routehold *h, const char *key);
 *	int routehold_is_held(const char *value);
 *	double routehold_next(const struct routehold *h);
 *	void routehold_free(struct routehold *h);
 * DESCRIPTION
 *	In static mode Postfix reads the relay_domains and transport
 *	tables in trivial-rewrite(8), which looks for a changed table at
 *	most every 10 seconds and, once it has found one, still answers
 *	each client connected to it once more from the old table; its
 *	clients keep the last answer for up to 30 s.  smtpd(8) reads the
 *	access table itself and re-opens it at its next session.  So a
 *	name whose relay permission or route changed would, for some
 *	seconds, be relayed or routed by the old tables.  Static mode
 *	holds such names instead: the access table, checked first for
 *	every client, answers "451 4.7.1 ... try again later" for them
 *	for ROUTEHOLD_SECONDS after the change; then the entry goes and
 *	the new relay_domains and transport tables decide.
 *
 *	A routehold is the set of held keys (table keys, "name" or
 *	".name") with the time each is held until, in the caller's clock.
 *	routehold_add() holds key until then (a later time of a key
 *	already held wins): 0, or -1 when out of memory.
 *	routehold_expire() lets go of the keys held until now or before.
 *
 *	routehold_changes() holds, until then, every key of the four
 *	tables at which Postfix's answer (the relay_domains value and the
 *	transport value, each searched as kvtable_search() does) differs
 *	between the old and the new tables: 0, or -1 when out of memory.
 *	Only keys at or below a key whose entry was added, removed or
 *	changed are compared.
 *
 *	routehold_access() writes into out (an empty table) the access
 *	table to publish: the entries of access (the deny rules' table,
 *	whose replies win where they have an entry), the held value at
 *	each held key without a reply of its own (the deny reply where
 *	access refuses the key through a parent's entry), and, at each key
 *	of the four tables below a held key, the answer access would give
 *	there anyway (or DUNNO), so that the search for a name whose
 *	answer did not change stops before the held entry above it: 0, or
 *	-1 when out of memory.
 *
 *	routehold_has() is 1 when key is held, else 0.
 *	routehold_is_held() is 1 when an access table value is the held
 *	answer (how a restarted daemon finds the keys it held, and how the
 *	entries of the keys let go are found).
 *	routehold_next() is the earliest time a key is held until, or 0
 *	when none is held.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "reply.h"
#include "routehold.h"
#include "strutil.h"

#define ROUTEHOLD_TABLES 4

/* The keys of the four tables in order, each once. */
struct routehold_keys {
	const struct kvtable *t[ROUTEHOLD_TABLES];
	size_t		 i[ROUTEHOLD_TABLES];
};

static void	routehold_keys_start(struct routehold_keys *it,
		    const struct routehold_tables *tables);
static const char *routehold_keys_next(struct routehold_keys *it);
static int	routehold_append(struct routehold *h, const char *key,
		    double until);
static int	routehold_diff(const struct kvtable *a,
		    const struct kvtable *b, struct routehold *changed);
static int	routehold_cmp(const void *a, const void *b);
static void	routehold_sort(struct routehold *h);
static const char *routehold_value(void);

void
routehold_init(struct routehold *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
}

int
routehold_add(struct routehold *h, const char *key, double until)
{
	int	 in_order;

	in_order = h->n == 0 || strcmp(h->v[h->n - 1].key, key) < 0;
	if (routehold_append(h, key, until) == -1)
		return -1;
	if (!in_order)
		routehold_sort(h);
	return 0;
}

/* Add key at the end, unsorted. */
static int
routehold_append(struct routehold *h, const char *key, double until)
{
	struct routehold_entry *p;
	size_t		 cap;

	if (h->n == h->cap) {
		cap = h->cap ? 2 * h->cap : 64;
		if ((p = realloc(h->v, cap * sizeof(*p))) == NULL)
			return -1;
		h->v = p;
		h->cap = cap;
	}
	if ((h->v[h->n].key = strdup(key)) == NULL)
		return -1;
	h->v[h->n].until = until;
	h->n++;
	return 0;
}

void
routehold_expire(struct routehold *h, double now)
{
	size_t	 i, out = 0;

	for (i = 0; i < h->n; i++) {
		if (h->v[i].until <= now)
			free(h->v[i].key);
		else
			h->v[out++] = h->v[i];
	}
	h->n = out;
}

int
routehold_changes(struct routehold *h, const struct routehold_tables *tables,
    double until)
{
	struct routehold	 changed;	/* keys with a different entry */
	struct routehold_keys	 it;
	const struct kvtable	*pairs[2][2] = {
		{ tables->old_relay, tables->new_relay },
		{ tables->old_transport, tables->new_transport },
	};
	const char		*key, *k;
	size_t			 t;
	int			 rc = -1, touched;

	routehold_init(&changed);
	for (t = 0; t < 2; t++)
		if (routehold_diff(pairs[t][0], pairs[t][1], &changed) == -1)
			goto out;
	routehold_sort(&changed);
	if (changed.n == 0) {
		rc = 0;
		goto out;
	}
	routehold_keys_start(&it, tables);
	while ((key = routehold_keys_next(&it)) != NULL) {
		for (touched = 0, k = key; k != NULL && !touched;
		    k = kvtable_parent(k))
			touched = routehold_has(&changed, k);
		if (!touched)
			continue;
		for (t = 0; t < 2; t++)
			if (!str_same(kvtable_search(pairs[t][0], key),
			    kvtable_search(pairs[t][1], key)))
				break;
		if (t < 2 && routehold_append(h, key, until) == -1)
			goto out;
	}
	rc = 0;
out:
	routehold_sort(h);
	routehold_free(&changed);
	return rc;
}

int
routehold_access(const struct routehold *h,
    const struct routehold_tables *tables, const struct kvtable *access,
    struct kvtable *out)
{
	struct routehold_keys it;
	const char	*key, *k, *value;
	size_t		 i;
	int		 below;

	for (i = 0; i < access->n; i++) {
		value = access->v[i].value;
		if (strcmp(value, EXPORT_VALUE_DUNNO) == 0 &&
		    routehold_has(h, access->v[i].key))
			value = routehold_value();
		if (kvtable_add(out, access->v[i].key, value) == -1)
			return -1;
	}
	if (h->n == 0) {
		kvtable_sort(out);
		return 0;
	}
	for (i = 0; i < h->n; i++) {
		if (kvtable_get(access, h->v[i].key) != NULL)
			continue;
		/* a deny rule refuses it anyway, and says so itself */
		value = kvtable_search(access, h->v[i].key);
		if (value == NULL || strcmp(value, EXPORT_VALUE_DUNNO) == 0)
			value = routehold_value();
		if (kvtable_add(out, h->v[i].key, value) == -1)
			return -1;
	}
	routehold_keys_start(&it, tables);
	while ((key = routehold_keys_next(&it)) != NULL) {
		if (kvtable_get(access, key) != NULL || routehold_has(h, key))
			continue;
		for (below = 0, k = kvtable_parent(key); k != NULL && !below;
		    k = kvtable_parent(k))
			below = routehold_has(h, k);
		if (!below)
			continue;
		if ((value = kvtable_search(access, key)) == NULL)
			value = EXPORT_VALUE_DUNNO;
		if (kvtable_add(out, key, value) == -1)
			return -1;
	}
	kvtable_sort(out);
	return 0;
}

int
routehold_is_held(const char *value)
{
	return strcmp(value, routehold_value()) == 0;
}

double
routehold_next(const struct routehold *h)
{
	double	 next = 0;
	size_t	 i;

	for (i = 0; i < h->n; i++)
		if (next == 0 || h->v[i].until < next)
			next = h->v[i].until;
	return next;
}

void
routehold_free(struct routehold *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		free(h->v[i].key);
	free(h->v);
	routehold_init(h);
}

/* Add to changed (unsorted) the keys whose entry differs in a and b. */
static int
routehold_diff(const struct kvtable *a, const struct kvtable *b,
    struct routehold *changed)
{
	const char	*key;
	size_t		 i = 0, j = 0;
	int		 c;

	while (i < a->n || j < b->n) {
		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = strcmp(a->v[i].key, b->v[j].key);
		if (c < 0)
			key = a->v[i++].key;
		else if (c > 0)
			key = b->v[j++].key;
		else {
			key = strcmp(a->v[i].value, b->v[j].value) != 0 ?
			    a->v[i].key : NULL;
			i++;
			j++;
		}
		if (key != NULL && routehold_append(changed, key, 0) == -1)
			return -1;
	}
	return 0;
}

/* "451 4.7.1 text": the access table's answer for a held name */
static const char *
routehold_value(void)
{
	static char	 value[REPLY_MAX + 1];

	if (value[0] == '\0')
		reply_format(REPLY_ROUTE_PENDING, value, sizeof(value));
	return value;
}

static void
routehold_keys_start(struct routehold_keys *it,
    const struct routehold_tables *tables)
{
	it->t[0] = tables->old_relay;
	it->t[1] = tables->old_transport;
	it->t[2] = tables->new_relay;
	it->t[3] = tables->new_transport;
	memset(it->i, 0, sizeof(it->i));
}

/* The least key not returned yet of the four sorted tables, or NULL. */
static const char *
routehold_keys_next(struct routehold_keys *it)
{
	const char	*least = NULL, *key;
	size_t		 j;

	for (j = 0; j < ROUTEHOLD_TABLES; j++) {
		if (it->i[j] == it->t[j]->n)
			continue;
		key = it->t[j]->v[it->i[j]].key;
		if (least == NULL || strcmp(key, least) < 0)
			least = key;
	}
	if (least == NULL)
		return NULL;
	for (j = 0; j < ROUTEHOLD_TABLES; j++)
		if (it->i[j] < it->t[j]->n &&
		    strcmp(it->t[j]->v[it->i[j]].key, least) == 0)
			it->i[j]++;
	return least;
}

int
routehold_has(const struct routehold *h, const char *key)
{
	size_t	 lo = 0, hi = h->n, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(key, h->v[mid].key)) == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int
routehold_cmp(const void *a, const void *b)
{
	const struct routehold_entry *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* Sort by key; of a repeated key the latest time stays. */
static void
routehold_sort(struct routehold *h)
{
	size_t	 i, out;

	if (h->n < 2)
		return;
	qsort(h->v, h->n, sizeof(*h->v), routehold_cmp);
	for (i = 1, out = 0; i < h->n; i++) {
		if (strcmp(h->v[out].key, h->v[i].key) == 0) {
			if (h->v[i].until > h->v[out].until)
				h->v[out].until = h->v[i].until;
			free(h->v[i].key);
			continue;
		}
		h->v[++out] = h->v[i];
	}
	h->n = out + 1;
}
