/*
 * pflist - the elements of a Postfix list parameter (interface in pflist.c)
 */
#ifndef MR_PFLIST_H
#define MR_PFLIST_H

#include <stddef.h>

size_t	pflist_next(const char **cursor, char *buf, size_t len);

#endif
