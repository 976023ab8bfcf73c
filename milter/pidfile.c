/*
 * pidfile - the supervisor's pid file
 *
 * See pidfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

/* the written pid file, open and locked while the process runs */
static int pidfile_fd = -1;

/* pidfile_lock - a whole-file write lock on fd, or -1 */
static int
pidfile_lock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

int
pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen)
{
	char	 buf[32], *end;
	ssize_t	 n;
	long	 v;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    v < 2 || v > INT_MAX) {
		snprintf(err, errlen, "%s: does not hold a process id", path);
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

int
pidfile_write(const char *path, char *err, size_t errlen)
{
	char	 tmp[PATH_MAX], buf[32], ignored[128];
	pid_t	 old;
	int	 fd, len;

	if (pidfile_read(path, &old, ignored, sizeof(ignored)) == 0 &&
	    old != getpid() && kill(old, 0) == 0) {
		snprintf(err, errlen, "%s: process %ld is running; another "
		    "milter-relay?", path, (long)old);
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld", path,
	    (long)getpid()) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC,
	    0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, len) != len || fchmod(fd, 0644) == -1 ||
	    pidfile_lock(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (pidfile_fd != -1)
		close(pidfile_fd);
	pidfile_fd = fd;
	return 0;
}

int
pidfile_owner(const char *path, pid_t pid, char *err, size_t errlen)
{
	struct flock fl;
	int	 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	rc = fcntl(fd, F_GETLK, &fl);
	close(fd);
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return fl.l_type != F_UNLCK && fl.l_pid == pid;
}

void
pidfile_remove(const char *path)
{
	char	 ignored[128];
	pid_t	 pid;

	if (path == NULL)
		return;
	if (pidfile_read(path, &pid, ignored, sizeof(ignored)) == 0 &&
	    pid == getpid())
		(void)unlink(path);
	if (pidfile_fd != -1) {
		close(pidfile_fd);
		pidfile_fd = -1;
	}
}
