/*
 * kvtable - a static lookup table, searched as Postfix searches it
 *
 * NAME
 *	kvtable - "key value" entries in memory, sorted, with Postfix's
 *	search order over domain keys
 * SYNOPSIS
 *	#include "kvtable.h"
 *
 *	void kvtable_init(struct kvtable *t);
 *	int kvtable_add(struct kvtable *t, const char *key,
 *	    const char *value);
 *	int kvtable_add_kind(struct kvtable *t, const char *key,
 *	    const char *value, int kind);
 *	int kvtable_parse(struct kvtable *t, const char *text);
 *	void kvtable_sort(struct kvtable *t);
 *	const char *kvtable_get(const struct kvtable *t, const char *key);
 *	const struct kvpair *kvtable_find(const struct kvtable *t,
 *	    const char *key);
 *	const char *kvtable_search(const struct kvtable *t, const char *key);
 *	const struct kvpair *kvtable_search_entry(const struct kvtable *t,
 *	    const char *key);
 *	const char *kvtable_parent(const char *key);
 *	int kvtable_equal(const struct kvtable *a, const struct kvtable *b);
 *	void kvtable_free(struct kvtable *t);
 * DESCRIPTION
 *	A kvtable holds the entries of one table of export.h (or of an
 *	LMDB file written from one), each key and value copied, each with
 *	a kind: the caller's type of the entry (export.h's enum
 *	export_kind), which no file holds (0 when read back).
 *
 *	kvtable_add() appends a copy of key and value of kind 0 (the
 *	table is then unsorted), kvtable_add_kind() one of that kind.
 *	kvtable_parse() adds the "key<TAB>value" lines of text, skipping
 *	comment lines and lines without a TAB, and sorts.  All three
 *	return 0, or -1 when out of memory.  kvtable_sort() sorts by
 *	key (strcmp order, which is also LMDB's order for keys stored with
 *	their NUL); of a repeated key (the tables have none) one entry
 *	stays.
 *
 *	kvtable_get() is the value of key in a sorted table, or NULL;
 *	kvtable_find() its entry, or NULL.
 *	kvtable_search() searches key as Postfix searches a table whose
 *	map is not in parent_domain_matches_subdomains: key itself, then
 *	".parent" for each parent, nearest first (for "a.b.c": "a.b.c",
 *	".b.c", ".c"; for ".b.c": ".b.c", ".c"); the first value found,
 *	or NULL; kvtable_search_entry() that entry.  kvtable_parent() is
 *	the next key of that search after key (a pointer into key), or
 *	NULL after the last.
 *
 *	kvtable_equal() is 1 when two sorted tables hold the same entries
 *	(keys and values; the kinds are not compared).
 *	kvtable_free() frees the entries; the table is empty again.
 */
#include <stdlib.h>
#include <string.h>

#include "kvtable.h"
#include "sorttab.h"

void
kvtable_init(struct kvtable *t)
{
	t->v = NULL;
	t->n = t->cap = 0;
}

/* Append key and value, which the table now owns: 0, or -1 (freed). */
static int
kvtable_take(struct kvtable *t, char *key, char *value, int kind)
{
	struct kvpair	*p;

	if (key == NULL || value == NULL ||
	    (p = sorttab_grow(t->v, t->n, &t->cap, sizeof(*p))) == NULL)
		goto fail;
	t->v = p;
	t->v[t->n].key = key;
	t->v[t->n].value = value;
	t->v[t->n].kind = kind;
	t->n++;
	return 0;
fail:
	free(key);
	free(value);
	return -1;
}

int
kvtable_add(struct kvtable *t, const char *key, const char *value)
{
	return kvtable_take(t, strdup(key), strdup(value), 0);
}

int
kvtable_add_kind(struct kvtable *t, const char *key, const char *value,
    int kind)
{
	return kvtable_take(t, strdup(key), strdup(value), kind);
}

int
kvtable_parse(struct kvtable *t, const char *text)
{
	const char	*line, *end, *tab;

	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		if (*line == '#' || (tab = memchr(line, '\t',
		    (size_t)(end - line))) == NULL)
			continue;
		if (kvtable_take(t, strndup(line, (size_t)(tab - line)),
		    strndup(tab + 1, (size_t)(end - tab - 1)), 0) == -1)
			return -1;
	}
	kvtable_sort(t);
	return 0;
}

/* kvtable_fold - of a repeated key, the later entry stays */
static int
kvtable_fold(void *kept, void *dup, void *arg)
{
	struct kvpair	*k = kept, *d = dup;

	(void)arg;
	free(k->key);
	free(k->value);
	*k = *d;
	return 0;
}

void
kvtable_sort(struct kvtable *t)
{
	(void)sorttab_sort(t->v, &t->n, sizeof(*t->v), kvtable_fold, NULL);
}

const struct kvpair *
kvtable_find(const struct kvtable *t, const char *key)
{
	return sorttab_find(t->v, t->n, sizeof(*t->v), key);
}

const char *
kvtable_get(const struct kvtable *t, const char *key)
{
	const struct kvpair *e = kvtable_find(t, key);

	return e != NULL ? e->value : NULL;
}

const char *
kvtable_parent(const char *key)
{
	const char	*dot;

	dot = strchr(key + (key[0] == '.'), '.');
	return dot != NULL && dot[1] != '\0' ? dot : NULL;
}

const struct kvpair *
kvtable_search_entry(const struct kvtable *t, const char *key)
{
	const struct kvpair *e;

	for (; key != NULL; key = kvtable_parent(key))
		if ((e = kvtable_find(t, key)) != NULL)
			return e;
	return NULL;
}

const char *
kvtable_search(const struct kvtable *t, const char *key)
{
	const struct kvpair *e = kvtable_search_entry(t, key);

	return e != NULL ? e->value : NULL;
}

int
kvtable_equal(const struct kvtable *a, const struct kvtable *b)
{
	size_t	 i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return 0;
	return 1;
}

void
kvtable_free(struct kvtable *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].value);
	}
	free(t->v);
	kvtable_init(t);
}
