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
#define PGSOURCE_FULL	(-3)	/* the change cannot be told: read all */

/* What a daemon knows of the rows it holds. */
struct pgsource_mark {
	char	*snapshot;	/* of the last read; NULL: no change log */
	int	 exact;		/* every row's pattern canonical, none
				   with tls, tls_match or recipients_file */
};

int	pgsource_load(struct ruleset *rules, const char *conninfo, FILE *snap,
	    struct pgsource_mark *mark, char *err, size_t errlen);
/* A change read by pgsource_update(). */
struct pgsource_change {
	size_t	 max;		/* more rows changed: PGSOURCE_FULL */
	FILE	*lines;		/* the rows read, as lines, or NULL */
	FILE	*patterns;	/* the patterns changed, a line each, or NULL */
	size_t	 changed;	/* how many patterns changed */
};

int	pgsource_update(struct ruleset *next, const struct ruleset *files,
	    const char *conninfo, struct pgsource_mark *mark,
	    struct pgsource_change *ch, char *err, size_t errlen);
void	pgsource_mark_clear(struct pgsource_mark *mark);
int	pgsource_store(const char *conninfo, char **lines, size_t n,
	    char *err, size_t errlen);
char	*pgsource_mask(const char *conninfo, char *buf, size_t len);
int	pgsource_has_secret(const char *conninfo);
int	pgsource_listen_start(const char *conninfo, void (*reload)(void),
	    char *err, size_t errlen);
void	pgsource_listen_stop(void);

#endif
