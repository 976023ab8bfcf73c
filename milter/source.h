/*
 * source - a configuration with the rules of its rules_source
 *
 * Interface in source.c.
 */
#ifndef MR_SOURCE_H
#define MR_SOURCE_H

#include <stddef.h>

#include "config.h"

#define SOURCE_CACHE	0x01	/* use and write rules_cache (the daemon) */
#define SOURCE_CACHE_ONLY 0x02	/* rules_cache, not the database */

struct config *source_load(const char *path, int flags, int *from_cache,
	    char *err, size_t errlen);
const char *source_conninfo(const struct config *config);
int	source_add_cache(struct config *config, char *err, size_t errlen);

#endif
