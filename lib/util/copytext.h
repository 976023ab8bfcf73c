/*
 * copytext - one row of PostgreSQL's COPY text format
 *
 * Interface in copytext.c.
 */
#ifndef MR_COPYTEXT_H
#define MR_COPYTEXT_H

#include <stddef.h>
#include <stdio.h>

int	copytext_split(char *row, size_t len, const char **field,
	    size_t nfield, char *err, size_t errlen);
int	copytext_put(FILE *fp, const char *value, int last);

#endif
