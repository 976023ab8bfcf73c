/*
 * maplog - decision lines of the socketmap's maps-only lookups
 *
 * Interface in maplog.c.
 */
#ifndef MR_MAPLOG_H
#define MR_MAPLOG_H

#include <stddef.h>

#include "../lib/config.h"

void	maplog_request(const struct config *config, const char *request,
	    size_t len, const char *answer);

#endif
