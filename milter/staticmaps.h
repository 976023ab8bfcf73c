/*
 * staticmaps - static mode: the rule set as LMDB tables Postfix reads
 * (interface in staticmaps.c)
 */
#ifndef MR_STATICMAPS_H
#define MR_STATICMAPS_H

#include "config.h"

struct kvtable;

#define STATICMAPS_MODE	0644	/* tables without secrets */
#define STATICMAPS_LIVE	0x01	/* the configuration is in force */

enum staticmaps_result {
	STATICMAPS_OK,		/* written, or up to date */
	STATICMAPS_REFUSED,	/* the tables cannot express the rule set */
	STATICMAPS_FAILED	/* not written (I/O, memory) */
};

typedef void staticmaps_say_fn(const char *msg);

enum staticmaps_result staticmaps_publish(const struct config *config,
	    int flags);
int	staticmaps_check(const struct config *config, char *err,
	    size_t errlen);
size_t	staticmaps_idn_rules(const struct config *config,
	    staticmaps_say_fn *say);
int	staticmaps_retry_due(void);
int	staticmaps_wait_ms(void);
int	staticmaps_release(void);
int	staticmaps_read(const char *path, struct kvtable *table, char *err,
	    size_t errlen);
int	staticmaps_write(const char *path, const struct kvtable *table,
	    int mode, char *err, size_t errlen);

#endif
