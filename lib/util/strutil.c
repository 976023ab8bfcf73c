/*
 * strutil - small string helpers that know nothing of mail
 *
 * NAME
 *	strutil - string helpers
 * SYNOPSIS
 *	#include "strutil.h"
 *
 *	int str_same(const char *a, const char *b);
 *	void str_append(char *out, size_t outlen, size_t *at,
 *	    const char *s);
 *	void errmsg_set(char *err, size_t errlen, const char *fmt, ...);
 * DESCRIPTION
 *	str_same() is 1 when a and b are both NULL or both hold the same
 *	text, else 0: the compare of optional settings and values.
 *
 *	str_append() copies s to out + *at, cut to fit outlen octets
 *	with its NUL (*at < outlen), and moves *at past it: snprintf()'s
 *	"%s%s..." without its cost, for the hot paths.
 *
 *	errmsg_set() formats a message into err (errlen octets, cut to
 *	fit); with errlen 0 it writes nothing, so a caller that wants no
 *	message passes NULL, 0.
 *
 *	ERRMSG_MAX is the size of the buffers that receive the error
 *	messages of the library ("FILE:LINE: reason").  ERRMSG_INCOMPLETE
 *	is the reason of a file whose last line has no newline (a file
 *	cut while being written), which every reader of lines refuses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strutil.h"

/* str_same - equal strings, NULL equal only to NULL */
int
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* str_append - s at out + *at, cut to fit */
void
str_append(char *out, size_t outlen, size_t *at, const char *s)
{
	size_t	n = strlen(s);

	if (n > outlen - 1 - *at)
		n = outlen - 1 - *at;
	memcpy(out + *at, s, n);
	*at += n;
	out[*at] = '\0';
}

/* errmsg_set - format an error message, if one is wanted */
void
errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
