/*
 * pidfile - the supervisor's pid file
 *
 * pidfile_write() writes the calling process's pid ("1234\n") to path,
 * atomically (temporary file, then rename), mode 0644.  It refuses when
 * path names a live process other than the caller (another instance
 * runs): -1 with a message in err.  A stale file is replaced.
 *
 * pidfile_read() parses the pid in path: 0 and *pid, or -1 with a
 * message in err (missing file, garbage, a pid below 2).
 *
 * pidfile_remove() removes path if it still holds the caller's pid.
 */
#ifndef MR_PIDFILE_H
#define MR_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

int	pidfile_write(const char *path, char *err, size_t errlen);
int	pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen);
void	pidfile_remove(const char *path);

#endif
