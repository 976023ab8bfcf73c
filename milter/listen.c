/*
 * listen - preparing the daemon's listening sockets
 *
 * See daemon.h: listen_unix_path(), listen_prepare(), listen_finish().
 * libmilter itself creates the milter socket (smfi_opensocket()); these
 * run just before (stale socket) and just after (owner).
 *
 * Root runs these in a directory the service user may own, who can
 * replace the fresh socket with a link to any file between bind(2) and
 * a chmod(2) or chown(2) by name.  So the mode comes from the umask at
 * bind(2) (the caller sets it: listen_umask()), and listen_finish() sets
 * the owner through a descriptor of the file itself (O_PATH|O_NOFOLLOW),
 * after checking that it is a socket: a symbolic link is never followed,
 * anything else is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockspec.h"
#include "daemon.h"

/* 1 and the path for a unix socket spec, 0 for inet, -1 if too long */
int
listen_unix_path(const char *spec, char *path, size_t pathlen)
{
	enum sockspec_kind kind;
	const char	*p;

	if (sockspec_parse(spec, &kind, &p) == 0) {
		if (kind != SOCKSPEC_UNIX)
			return 0;
	} else if (strchr(spec, ':') == NULL)
		p = spec;		/* libmilter: a path without prefix */
	else
		return 0;
	if (strlen(p) >= pathlen ||
	    strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -1;
	strcpy(path, p);
	return 1;
}

int
listen_prepare(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int	 fd, r, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	r = listen_unix_path(spec, sun.sun_path, sizeof(sun.sun_path));
	if (r == -1) {
		snprintf(err, errlen, "%s: socket path too long", spec);
		return -1;
	}
	if (r == 0)
		return 0;
	if (lstat(sun.sun_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", sun.sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket",
		    sun.sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "%s: another process listens on this "
		    "socket (milter-relay already running?)", sun.sun_path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		snprintf(err, errlen, "%s: cannot tell whether the socket is "
		    "in use: %s", sun.sun_path, strerror(saved));
		return -1;
	}
	if (unlink(sun.sun_path) == -1) {
		snprintf(err, errlen, "%s: cannot remove stale socket: %s",
		    sun.sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* listen_umask - the umask that makes bind(2) create a socket of mode */
mode_t
listen_umask(int mode)
{
	return (mode_t)(~mode & 0777);
}

int
listen_finish(const char *spec, int mode, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	char	 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	int	 fd;

	if (listen_unix_path(spec, path, sizeof(path)) != 1)
		return 0;
	/* the file itself, never what a link points to */
	if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) || (int)(st.st_mode & 07777) != mode) {
		snprintf(err, errlen, "%s: not the socket just created (a "
		    "%s of mode %04o): was it replaced?", path,
		    S_ISLNK(st.st_mode) ? "symbolic link" :
		    S_ISSOCK(st.st_mode) ? "socket" : "file",
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == -1) {
		snprintf(err, errlen, "%s: chown: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
