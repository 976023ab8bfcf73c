/*
 * staticmaps - static mode: the rule set as LMDB tables Postfix reads
 * (interface in staticmaps.c)
 */
#ifndef MR_STATICMAPS_H
#define MR_STATICMAPS_H

#include <stddef.h>
#include <time.h>

#include "config.h"

#define STATICMAPS_MODE	0644	/* tables without secrets */

struct kvtable;

int	staticmaps_publish(const struct config *config);
int	staticmaps_wait_ms(void);
int	staticmaps_release(void);
int	staticmaps_read(const char *path, struct kvtable *table,
	    struct timespec *mtime, char *err, size_t errlen);
int	staticmaps_write(const char *path, const struct kvtable *table,
	    int mode, char *err, size_t errlen);

#endif
