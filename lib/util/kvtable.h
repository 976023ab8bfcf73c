/*
 * kvtable - a static lookup table, searched as Postfix searches it
 * (interface in kvtable.c)
 */
#ifndef MR_KVTABLE_H
#define MR_KVTABLE_H

#include <stddef.h>

struct kvpair {
	char		*key;
	char		*value;
	int		 kind;		/* the caller's type of entry, 0 */
};

struct kvtable {
	struct kvpair	*v;		/* sorted by key after kvtable_sort() */
	size_t		 n, cap;
};

void	kvtable_init(struct kvtable *t);
int	kvtable_add(struct kvtable *t, const char *key, const char *value);
int	kvtable_add_kind(struct kvtable *t, const char *key,
	    const char *value, int kind);
const struct kvpair *kvtable_find(const struct kvtable *t, const char *key);
int	kvtable_parse(struct kvtable *t, const char *text);
void	kvtable_sort(struct kvtable *t);
const char *kvtable_get(const struct kvtable *t, const char *key);
const char *kvtable_search(const struct kvtable *t, const char *key);
const struct kvpair *kvtable_search_entry(const struct kvtable *t,
	    const char *key);
const char *kvtable_parent(const char *key);
int	kvtable_equal(const struct kvtable *a, const struct kvtable *b);
void	kvtable_free(struct kvtable *t);

#endif
