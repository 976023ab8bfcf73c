/*
 * strutil - small string helpers that know nothing of mail
 *
 * NAME
 *	strutil - string helpers
 * SYNOPSIS
 *	#include "strutil.h"
 *
 *	int str_same(const char *a, const char *b);
 * DESCRIPTION
 *	str_same() is 1 when a and b are both NULL or both hold the same
 *	text, else 0: the compare of optional settings and values.
 *
 *	ERRMSG_MAX is the size of the buffers that receive the error
 *	messages of the library ("FILE:LINE: reason").
 */
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
