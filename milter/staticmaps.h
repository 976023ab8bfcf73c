/*
 * staticmaps - static mode: the rule set as LMDB tables Postfix reads
 * (interface in staticmaps.c)
 */
#ifndef MR_STATICMAPS_H
#define MR_STATICMAPS_H

#include "config.h"

int	staticmaps_publish(const struct config *config);
int	staticmaps_wait_ms(void);
int	staticmaps_release(void);

#endif
