/*
 * maplog - decision lines of the socketmap's maps-only lookups
 *
 * Interface in maplog.c.
 */
#ifndef MR_MAPLOG_H
#define MR_MAPLOG_H

#include <stddef.h>

#include "../lib/maps.h"

void	maplog_rcpt(const char *key, size_t len, const struct map_answer *a);

#endif
