/*
 * NAME
 *	safefile - write a file under a temporary name, rename it into place
 * SYNOPSIS
 *	#include "safefile.h"
 *
 *	struct safefile *safefile_open(const char *path, FILE **out,
 *	    char *err, size_t errlen);
 *	int	safefile_commit(struct safefile *sf, char *err, size_t errlen);
 *	void	safefile_abort(struct safefile *sf);
 * DESCRIPTION
 *	A reader (the daemon loading its domains_file on a reload) must see
 *	either the old file or the new one, never a file cut half-way.
 *	safefile_open() creates "PATH.XXXXXX" in the directory of path, mode
 *	0644, and returns a stream on it in *out.  safefile_commit() flushes
 *	it, fsync(2)s it and renames it to path (atomic within a file
 *	system); safefile_abort() removes it.  Both free sf, which must not
 *	be used again.
 * DIAGNOSTICS
 *	safefile_open() returns NULL, safefile_commit() -1, with a reason
 *	in err naming the file; after a failed commit the temporary file is
 *	gone and path is as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

struct safefile {
	char	*path;
	char	*tmp;
	FILE	*fp;
};

/* safefile_free - release sf, removing the temporary file */
static void
safefile_free(struct safefile *sf, int unlink_tmp)
{
	if (sf->fp != NULL)
		fclose(sf->fp);
	if (unlink_tmp)
		(void)unlink(sf->tmp);
	free(sf->path);
	free(sf->tmp);
	free(sf);
}

/* safefile_open - create the temporary file beside path */
struct safefile *
safefile_open(const char *path, FILE **out, char *err, size_t errlen)
{
	struct safefile *sf;
	int	 fd;

	if ((sf = calloc(1, sizeof(*sf))) == NULL ||
	    (sf->path = strdup(path)) == NULL ||
	    asprintf(&sf->tmp, "%s.XXXXXX", path) == -1) {
		if (sf != NULL)
			free(sf->path);
		free(sf);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if ((fd = mkstemp(sf->tmp)) == -1) {
		snprintf(err, errlen, "%s: %s", sf->tmp, strerror(errno));
		free(sf->path);
		free(sf->tmp);
		free(sf);
		return NULL;
	}
	if (fchmod(fd, 0644) == -1 || (sf->fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", sf->tmp, strerror(errno));
		close(fd);
		safefile_free(sf, 1);
		return NULL;
	}
	*out = sf->fp;
	return sf;
}

/* safefile_commit - flush, sync and rename the file into place */
int
safefile_commit(struct safefile *sf, char *err, size_t errlen)
{
	FILE	*fp = sf->fp;

	sf->fp = NULL;
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1) {
		snprintf(err, errlen, "%s: %s", sf->tmp, strerror(errno));
		fclose(fp);
		safefile_free(sf, 1);
		return -1;
	}
	if (fclose(fp) == EOF) {
		snprintf(err, errlen, "%s: %s", sf->tmp, strerror(errno));
		safefile_free(sf, 1);
		return -1;
	}
	if (rename(sf->tmp, sf->path) == -1) {
		snprintf(err, errlen, "rename %s to %s: %s", sf->tmp,
		    sf->path, strerror(errno));
		safefile_free(sf, 1);
		return -1;
	}
	safefile_free(sf, 0);
	return 0;
}

/* safefile_abort - remove the temporary file, leave path alone */
void
safefile_abort(struct safefile *sf)
{
	if (sf != NULL)
		safefile_free(sf, 1);
}
