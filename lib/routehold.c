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
 *	int routehold_copy(struct routehold *to,
 *	    const struct routehold *from);
 *	void routehold_expire(struct routehold *h, double now);
 *	int routehold_changes(struct routehold *h,
 *	    const struct routehold_tables *tables, double until);
 *	int routehold_access(const struct routehold *h,
 *	    const struct routehold_tables *tables,
 *	    const struct kvtable *access, struct kvtable *out);
 *	int routehold_release(const struct routehold *h,
 *	    const struct kvtable *access, const struct kvtable *deny,
 *	    struct kvtable *out);
 *	int routehold_save(const struct routehold *h, double now,
 *	    time_t wall, FILE *out);
 *	int routehold_load(struct routehold *h, const char *text,
 *	    double now, time_t wall);
 *	int routehold_has(const struct routehold *h, const char *key);
 *	const char *routehold_value(void);
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
 *	routehold_copy() adds the holds of from to to: 0, or -1 when out
 *	of memory.  routehold_expire() lets go of the keys held until now
 *	or before.
 *
 *	routehold_changes() holds, until then, every key of the four
 *	tables at which Postfix's answer (the relay_domains value and the
 *	transport value, each searched as kvtable_search() does) differs
 *	between the old and the new tables: 0, or -1 when out of memory.
 *	Only keys at or below a key whose entry was added, removed or
 *	changed are compared.
 *
 *	routehold_access() writes into out (an empty table) the access
 *	table to publish, typed (export.h's kinds): the entries of access
 *	(the deny rules' table, whose replies win where they have an
 *	entry), an EXPORT_KIND_HOLD entry with the held value at each held
 *	key without a reply of its own (the deny reply where access
 *	refuses the key through a parent's entry) and instead of each
 *	EXPORT_KIND_RCPT entry (a listed address's DUNNO, a verify rule's
 *	restriction) that answers for a held name, and, at each key of the
 *	four tables below a held key, an EXPORT_KIND_BELOW entry with the
 *	answer access would give there anyway (or DUNNO), so that the
 *	search for a name whose answer did not change stops before the
 *	held entry above it: 0, or -1 when out of memory.
 *
 *	routehold_release() writes into out (an empty table) the access
 *	table access (one routehold_access() wrote) with the holds let go
 *	that h no longer has: an EXPORT_KIND_HOLD entry at a key not held
 *	goes, or becomes deny's entry at that key again.  A hold is known
 *	by its kind, never by its text: a deny rule whose reply reads as
 *	the held answer stays.  0, or -1 when out of memory.
 *
 *	routehold_save() prints the holds as "key<TAB>time" lines, time in
 *	wall-clock seconds (wall is now in the wall clock, now in the
 *	caller's), for a restarted daemon: 0, or -1 on an output error.
 *	routehold_load() adds the holds of such text, each held as long
 *	as its time says and never longer than ROUTEHOLD_SECONDS from
 *	wall; lines that do not parse, keys longer than a domain name and
 *	past times are skipped: 0, or -1 when out of memory.
 *
 *	routehold_has() is 1 when key is held, else 0.  routehold_value()
 *	is the held answer, "451 4.7.1 ..." (reply.h's REPLY_ROUTE_PENDING).
 *	routehold_next() is the earliest time a key is held until, or 0
 *	when none is held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "export.h"
#include "reply.h"
#include "routehold.h"
#include "sorttab.h"
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
static int	routehold_rcpt_held(const struct routehold *h,
		    const struct routehold_tables *tables, const char *key);
static void	routehold_sort(struct routehold *h);

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

	in_order = sorttab_sorted_after(h->v, h->n, sizeof(*h->v), key);
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

	if ((p = sorttab_grow(h->v, h->n, &h->cap, sizeof(*p))) == NULL)
		return -1;
	h->v = p;
	if ((h->v[h->n].key = strdup(key)) == NULL)
		return -1;
	h->v[h->n].until = until;
	h->n++;
	return 0;
}

int
routehold_copy(struct routehold *to, const struct routehold *from)
{
	size_t	 i;

	for (i = 0; i < from->n; i++)
		if (routehold_append(to, from->v[i].key,
		    from->v[i].until) == -1)
			return -1;
	routehold_sort(to);
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
	const struct kvpair *e;
	const char	*key, *k, *value;
	size_t		 i;
	int		 below, kind, rc;

	for (i = 0; i < access->n; i++) {
		value = access->v[i].value;
		kind = access->v[i].kind;
		if ((kind == EXPORT_KIND_NO &&
		    routehold_has(h, access->v[i].key)) ||
		    (kind == EXPORT_KIND_RCPT &&
		    routehold_rcpt_held(h, tables, access->v[i].key))) {
			value = routehold_value();
			kind = EXPORT_KIND_HOLD;
		}
		if (kvtable_add_kind(out, access->v[i].key, value, kind) == -1)
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
		e = kvtable_search_entry(access, h->v[i].key);
		if (e != NULL && e->kind == EXPORT_KIND_REPLY)
			rc = kvtable_add_kind(out, h->v[i].key, e->value,
			    e->kind);
		else
			rc = kvtable_add_kind(out, h->v[i].key,
			    routehold_value(), EXPORT_KIND_HOLD);
		if (rc == -1)
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
		if (kvtable_add_kind(out, key, value, EXPORT_KIND_BELOW) == -1)
			return -1;
	}
	kvtable_sort(out);
	return 0;
}

int
routehold_release(const struct routehold *h, const struct kvtable *access,
    const struct kvtable *deny, struct kvtable *out)
{
	const struct kvpair *e;
	size_t		 i;

	for (i = 0; i < access->n; i++) {
		e = &access->v[i];
		if (e->kind == EXPORT_KIND_HOLD && !routehold_has(h, e->key) &&
		    (e = kvtable_find(deny, e->key)) == NULL)
			continue;
		if (kvtable_add_kind(out, e->key, e->value, e->kind) == -1)
			return -1;
	}
	kvtable_sort(out);
	return 0;
}

int
routehold_save(const struct routehold *h, double now, time_t wall, FILE *out)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		/* rounded up: a little late rather than early */
		fprintf(out, "%s\t%lld\n", h->v[i].key, (long long)wall +
		    (long long)(h->v[i].until - now) + 1);
	return fflush(out) == EOF || ferror(out) ? -1 : 0;
}

int
routehold_load(struct routehold *h, const char *text, double now,
    time_t wall)
{
	struct kvtable	 t;
	long long	 until;
	size_t		 i;
	char		*end;
	int		 rc = -1;

	kvtable_init(&t);
	if (kvtable_parse(&t, text) == -1)
		goto out;
	for (i = 0; i < t.n; i++) {
		errno = 0;
		until = strtoll(t.v[i].value, &end, 10);
		if (errno != 0 || end == t.v[i].value || *end != '\0' ||
		    until <= (long long)wall ||
		    strlen(t.v[i].key) > DOMAIN_MAX + 1)
			continue;
		if (until - (long long)wall > ROUTEHOLD_SECONDS)
			until = (long long)wall + ROUTEHOLD_SECONDS;
		if (routehold_append(h, t.v[i].key,
		    now + (double)(until - (long long)wall)) == -1)
			goto out;
	}
	rc = 0;
out:
	routehold_sort(h);
	kvtable_free(&t);
	return rc;
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

/*
 * 1 when an access key of EXPORT_KIND_RCPT ("user@domain" or a domain)
 * answers for a name held: its domain, or the parent key that gives the
 * domain its answer in the four tables, is held.
 */
static int
routehold_rcpt_held(const struct routehold *h,
    const struct routehold_tables *tables, const char *key)
{
	const char	*k, *at;

	if ((at = strchr(key, '@')) != NULL)
		key = at + 1;
	for (k = key; k != NULL; k = kvtable_parent(k)) {
		if (routehold_has(h, k))
			return 1;
		if (kvtable_get(tables->old_relay, k) != NULL ||
		    kvtable_get(tables->old_transport, k) != NULL ||
		    kvtable_get(tables->new_relay, k) != NULL ||
		    kvtable_get(tables->new_transport, k) != NULL)
			return 0;
	}
	return 0;
}

/* "451 4.7.1 text": the access table's answer for a held name */
const char *
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
	return sorttab_find(h->v, h->n, sizeof(*h->v), key) != NULL;
}

/* routehold_fold - of a repeated key the latest time stays */
static int
routehold_fold(void *kept, void *dup, void *arg)
{
	struct routehold_entry *k = kept, *d = dup;

	(void)arg;
	if (d->until > k->until)
		k->until = d->until;
	free(d->key);
	return 0;
}

/* Sort by key; of a repeated key the latest time stays. */
static void
routehold_sort(struct routehold *h)
{
	(void)sorttab_sort(h->v, &h->n, sizeof(*h->v), routehold_fold, NULL);
}
