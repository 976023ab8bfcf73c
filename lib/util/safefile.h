/*
 * safefile - write a file under a temporary name, rename it into place
 *
 * See safefile.c.
 */
#ifndef MR_SAFEFILE_H
#define MR_SAFEFILE_H

#include <stddef.h>
#include <stdio.h>

struct safefile;

struct safefile *safefile_open(const char *path, FILE **out, char *err,
	    size_t errlen);
int	safefile_commit(struct safefile *sf, char *err, size_t errlen);
void	safefile_abort(struct safefile *sf);

#endif
