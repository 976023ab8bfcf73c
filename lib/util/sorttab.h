/*
 * sorttab - arrays of entries kept sorted by a string key
 * (interface in sorttab.c)
 */
#ifndef MR_SORTTAB_H
#define MR_SORTTAB_H

#include <stddef.h>

/* Fold the repeat dup into kept: 0, or -1 to refuse the repeat. */
typedef int sorttab_fold_fn(void *kept, void *dup, void *arg);

void	*sorttab_grow(void *v, size_t n, size_t *cap, size_t size);
int	sorttab_sort(void *v, size_t *n, size_t size, sorttab_fold_fn *fold,
	    void *arg);
void	*sorttab_find(const void *v, size_t n, size_t size, const char *key);
int	sorttab_sorted_after(const void *v, size_t n, size_t size,
	    const char *key);

#endif
