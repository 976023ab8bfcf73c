/*
 * strutil - small string helpers that know nothing of mail
 * (interface in strutil.c)
 */
#ifndef MR_STRUTIL_H
#define MR_STRUTIL_H

int	str_same(const char *a, const char *b);

#endif
