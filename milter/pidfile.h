/*
 * pidfile - the supervisor's pid file
 *
 * pidfile_write() writes the calling process's pid ("1234\n") to path,
 * atomically (temporary file, then rename), mode 0644, and keeps it open
 * with a POSIX write lock (fcntl) held for the caller's life: the lock
 * is how others tell that the file's process is the one that wrote it.
 * It refuses when path names a live process other than the caller
 * (another instance runs): -1 with a message in err.  A stale file is
 * replaced.  The lock is not inherited by forked children, and the caller
 * must not open and close path again while it holds it (POSIX drops the
 * lock on the first close of any descriptor of the file).
 *
 * pidfile_read() parses the pid in path: 0 and *pid, or -1 with a
 * message in err (missing file, garbage, a pid below 2).
 *
 * pidfile_owner() tells whether pid is the process that wrote path and
 * still runs: 1 when pid holds the file's lock, 0 when no process or
 * another one holds it (a stale file, a recycled pid), -1 with a message
 * in err when path cannot be opened.
 *
 * pidfile_remove() removes path if it still holds the caller's pid, and
 * releases the lock.
 */
#ifndef MR_PIDFILE_H
#define MR_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

int	pidfile_write(const char *path, char *err, size_t errlen);
int	pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen);
int	pidfile_owner(const char *path, pid_t pid, char *err, size_t errlen);
void	pidfile_remove(const char *path);

#endif
