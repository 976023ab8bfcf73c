/*
 * strutil - small string helpers that know nothing of mail
 *
 * NAME
 *	strutil - string helpers
 * SYNOPSIS
 *	#include "strutil.h"
 *
 *	int str_same(const char *a, const char *b);
 *	void errmsg_set(char *err, size_t errlen, const char *fmt, ...);
 * DESCRIPTION
 *	str_same() is 1 when a and b are both NULL or both hold the same
 *	text, else 0: the compare of optional settings and values.
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
