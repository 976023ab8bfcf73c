/*
 * rulerow - one rule as a row of named fields, to and from a line
 *
 * Interface in rulerow.c.
 */
#ifndef MR_RULEROW_H
#define MR_RULEROW_H

#include <stddef.h>

#define RULEROW_FIELDS_MAX	16	/* key=value fields of one rule */

struct rulerow {
	const char	*pattern;
	size_t		 n;
	const char	*key[RULEROW_FIELDS_MAX];
	const char	*value[RULEROW_FIELDS_MAX];
};

int	rulerow_format(const struct rulerow *row, char *buf, size_t buflen,
	    char *err, size_t errlen);
int	rulerow_split(char *line, struct rulerow *row, char *err,
	    size_t errlen);

#endif
