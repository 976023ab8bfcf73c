/*
 * vcache - the cache of recipient verification results (LMDB)
 *
 * Interface comment in vcache.c.
 */
#ifndef MR_VCACHE_H
#define MR_VCACHE_H

#include <stddef.h>
#include <time.h>

#include "decide.h"

struct vcache;

struct vcache *vcache_open(const char *path, size_t max_entries, char *err,
	    size_t errlen);
int	vcache_get(struct vcache *cache, const char *key, time_t now,
	    long positive_expire, long negative_expire,
	    enum recipient_status *status);
int	vcache_put(struct vcache *cache, const char *key,
	    enum recipient_status status, time_t now, long positive_expire,
	    long negative_expire);
size_t	vcache_count(struct vcache *cache);
void	vcache_close(struct vcache *cache);

#endif
