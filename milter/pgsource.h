/*
 * pgsource - rules from a PostgreSQL table, through libpq
 *
 * Interface in pgsource.c.
 */
#ifndef MR_PGSOURCE_H
#define MR_PGSOURCE_H

#include <stddef.h>
#include <stdio.h>

#include "ruleset.h"

#define PGSOURCE_OK	0
#define PGSOURCE_BAD	(-1)	/* a row is refused */
#define PGSOURCE_DOWN	(-2)	/* no connection, or the query failed */

int	pgsource_load(struct ruleset *rules, const char *conninfo, FILE *snap,
	    char *err, size_t errlen);
int	pgsource_store(const char *conninfo, char **lines, size_t n,
	    char *err, size_t errlen);
char	*pgsource_mask(const char *conninfo, char *buf, size_t len);
int	pgsource_has_secret(const char *conninfo);
int	pgsource_listen_start(const char *conninfo, void (*reload)(void),
	    char *err, size_t errlen);
void	pgsource_listen_stop(void);

#endif
