/*
 * sorttab - arrays of entries kept sorted by a string key
 *
 * NAME
 *	sorttab - the one grow, sort, fold and search of the sorted tables
 * SYNOPSIS
 *	#include "sorttab.h"
 *
 *	void	*sorttab_grow(void *v, size_t n, size_t *cap, size_t size);
 *	int	sorttab_sort(void *v, size_t *n, size_t size,
 *	    sorttab_fold_fn *fold, void *arg);
 *	void	*sorttab_find(const void *v, size_t n, size_t size,
 *	    const char *key);
 *	int	sorttab_sorted_after(const void *v, size_t n, size_t size,
 *	    const char *key);
 * DESCRIPTION
 *	A sorted table is an array v of n entries of size octets each,
 *	in an allocation of *cap entries, whose first member is its key, a
 *	"char *" (or an array of "char *" itself: each entry is then its
 *	key).  The callers keep their typed arrays (struct kvpair,
 *	struct routehold_entry ...); this module only grows, sorts and
 *	searches them, in strcmp() order (LMDB's order for keys stored
 *	with their NUL).
 *
 *	sorttab_grow() makes room for entry n: v itself when n < *cap,
 *	else v reallocated to twice its entries (16 at first), *cap
 *	updated.  The array to use, or NULL when out of memory (v is then
 *	unchanged and still the caller's).
 *
 *	sorttab_sort() sorts the n entries by key and folds each repeat
 *	of a key into the entry kept before it: fold(kept, dup, arg) must
 *	take what it keeps of dup into kept and release the rest of dup;
 *	*n is the number of entries left.  fold NULL: a repeat stays.
 *	When fold returns -1 the sort stops folding: every entry not yet
 *	folded stays in v[0..*n) (the caller frees them as usual) and
 *	sorttab_sort() returns -1; else 0.  kept and dup are the first two
 *	entries of the repeat, kept first in the sorted order.
 *
 *	sorttab_find() is the entry of key in a sorted table, or NULL.
 *
 *	sorttab_sorted_after() is 1 when the table stays sorted with key
 *	appended (it is empty, or its last key is less than key), else 0.
 * DIAGNOSTICS
 *	sorttab_grow() returns NULL when out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "sorttab.h"

#define SORTTAB_FIRST	16	/* entries of a table's first allocation */

/* sorttab_key - the key of an entry, its first member */
static const char *
sorttab_key(const void *entry)
{
	return *(char *const *)entry;
}

/* sorttab_cmp - qsort(): two entries by key */
static int
sorttab_cmp(const void *a, const void *b)
{
	return strcmp(sorttab_key(a), sorttab_key(b));
}

/* sorttab_key_cmp - bsearch(): a key and an entry */
static int
sorttab_key_cmp(const void *key, const void *entry)
{
	return strcmp(key, sorttab_key(entry));
}

/* sorttab_grow - room for entry n */
void *
sorttab_grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t	 ncap;

	if (n < *cap)
		return v;
	ncap = *cap == 0 ? SORTTAB_FIRST : *cap * 2;
	if ((v = reallocarray(v, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return v;
}

/* sorttab_sort - sort by key, fold the repeats */
int
sorttab_sort(void *v, size_t *n, size_t size, sorttab_fold_fn *fold,
    void *arg)
{
	char	*base = v;
	size_t	 i, out;
	int	 folding = fold != NULL;

	if (*n < 2)
		return 0;
	qsort(v, *n, size, sorttab_cmp);
	if (!folding)
		return 0;
	for (i = 1, out = 0; i < *n; i++) {
		if (folding && sorttab_cmp(base + out * size,
		    base + i * size) == 0) {
			if (fold(base + out * size, base + i * size,
			    arg) == 0)
				continue;
			folding = 0;
		}
		out++;
		if (out != i)
			memcpy(base + out * size, base + i * size, size);
	}
	*n = out + 1;
	return folding ? 0 : -1;
}

/* sorttab_find - the entry of key */
void *
sorttab_find(const void *v, size_t n, size_t size, const char *key)
{
	if (n == 0)
		return NULL;
	return bsearch(key, v, n, size, sorttab_key_cmp);
}

/* sorttab_sorted_after - key may be appended in order */
int
sorttab_sorted_after(const void *v, size_t n, size_t size, const char *key)
{
	return n == 0 || strcmp(sorttab_key((const char *)v + (n - 1) * size),
	    key) < 0;
}
