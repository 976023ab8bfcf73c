/*
 * strutil - small string helpers that know nothing of mail
 * (interface in strutil.c)
 */
#ifndef MR_STRUTIL_H
#define MR_STRUTIL_H

#include <stddef.h>

#define ERRMSG_MAX	1024	/* an error message, "FILE:LINE: reason" */

/* A file cut while being written: its last line has no newline. */
#define ERRMSG_INCOMPLETE \
	"incomplete last line (no newline at the end of the file)"

int	str_same(const char *a, const char *b);
void	str_append(char *out, size_t outlen, size_t *at, const char *s);
void	errmsg_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
