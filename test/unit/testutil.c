/*
 * testutil - helpers shared by the Check unit tests; see testutil.h
 *
 * Linked into every test/unit/check_* binary by the Makefile.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

struct config *
unit_config_try(const char *text, char *err, size_t errlen)
{
	char		 path[] = "/tmp/check_unit.XXXXXX";
	struct config	*c;
	int		 fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = config_load(path, err, errlen);
	unlink(path);
	return c;
}

struct config *
unit_config_load(const char *text)
{
	char		 err[512];
	struct config	*c;

	c = unit_config_try(text, err, sizeof(err));
	ck_assert_msg(c != NULL, "config_load: %s", err);
	return c;
}

void
unit_tmpdir(char *dir, size_t len, const char *name)
{
	ck_assert_int_lt(snprintf(dir, len, "/tmp/%s.XXXXXX", name), (int)len);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

void
unit_tmpdir_remove(const char *dir)
{
	char	cmd[PATH_MAX + 16];

	if (dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int
unit_listen_loopback(int backlog, unsigned *port)
{
	struct sockaddr_in	sin;
	socklen_t		len;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	len = sizeof(sin);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}
