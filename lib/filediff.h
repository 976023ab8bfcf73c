/*
 * filediff - what changed in a file of lines since a generation read it
 *
 * Interface in filediff.c.
 */
#ifndef MR_FILEDIFF_H
#define MR_FILEDIFF_H

#include <stddef.h>

#define FILEDIFF_OK	0
#define FILEDIFF_FULL	1	/* cannot tell the change: read it all */
#define FILEDIFF_FAIL	(-1)	/* a callback refused a line */

struct filediff;

/* The lines changed, each handed to the caller in turn. */
struct filediff_change {
	/* 0 to go on; FILEDIFF_FULL or FILEDIFF_FAIL to stop with it */
	int	(*removed)(const char *line, size_t len, void *arg);
	int	(*added)(const char *line, size_t len, unsigned long lineno,
		    void *arg);
	void	*arg;
	size_t	 max;		/* lines changed at most, else FULL */
	/* set by filediff_update() */
	size_t	 nadded;
	size_t	 nremoved;
	int	 append;	/* the file only grew */
};

struct filediff *filediff_record(const char *path, int fd);
void	filediff_line(struct filediff *d, const char *line, size_t len);
int	filediff_end(struct filediff *d);
int	filediff_update(const struct filediff *old, const char *path,
	    struct filediff_change *ch, struct filediff **next);
const char *filediff_path(const struct filediff *d);
size_t	filediff_bytes(const struct filediff *d);
void	filediff_free(struct filediff *d);

#endif
