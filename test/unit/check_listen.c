/*
 * check_listen - unit tests of milter/listen.c, the socket file's mode and
 * owner
 *
 * listen_finish() runs as root on a path in a directory the service user
 * may own: a socket swapped for a symbolic link to another file between
 * bind(2) and listen_finish() must leave that file alone (mode and owner)
 * and stop the start; the real socket gets its owner; listen_umask() makes
 * bind(2) create the socket with the wanted mode.  The owner test needs
 * root: a skip (unit_skip(), a failure under MR_REQUIRE_ALL=1) otherwise.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../milter/daemon.h"
#include "testutil.h"

static char	dir[64];

static void
setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "check_listen");
}

static void
teardown(void)
{
	unit_tmpdir_remove(dir);
}

/* a listening unix socket at path, made with listen_umask(mode) */
static int
make_socket(const char *path, int mode)
{
	struct sockaddr_un sun;
	mode_t	old;
	int	fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	old = umask(listen_umask(mode));
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

START_TEST(test_umask_mode)
{
	char	path[128], spec[140], err[256];
	struct stat st;
	int	fd;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	fd = make_socket(path, 0660);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	ck_assert_int_eq(listen_finish(spec, 0660, (uid_t)-1, (gid_t)-1, err,
	    sizeof(err)), 0);
	close(fd);
}
END_TEST

/* The socket was replaced by a link to a root-owned 0600 file. */
START_TEST(test_symlink_swap)
{
	char	path[128], target[128], spec[140], err[256];
	struct stat st;
	int	fd;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(target, sizeof(target), "%s/secret", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0600), 0);
	close(fd);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(listen_finish(spec, 0660, 65534, 65534, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "was it replaced?") != NULL, "%s", err);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, getuid());
	ck_assert_uint_eq(st.st_gid, getgid());
}
END_TEST

/* The socket was replaced by a hard link or another file: refused too. */
START_TEST(test_not_a_socket)
{
	char	path[128], spec[140], err[256];
	struct stat st;
	int	fd;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0660);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0660), 0);
	close(fd);
	ck_assert_int_eq(listen_finish(spec, 0660, 65534, 65534, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, getuid());
}
END_TEST

START_TEST(test_owner)
{
	char	path[128], spec[140], err[256];
	struct stat st;
	int	fd;

	if (geteuid() != 0) {
		unit_skip("check_listen", "test_owner: not root: the socket's "
		    "owner (listen_finish's chown) NOT checked");
		return;
	}
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	fd = make_socket(path, 0660);
	ck_assert_msg(listen_finish(spec, 0660, 65534, 65534, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, 65534);
	ck_assert_uint_eq(st.st_gid, 65534);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	close(fd);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("listen");
	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_umask_mode);
	tcase_add_test(tc, test_symlink_swap);
	tcase_add_test(tc, test_not_a_socket);
	tcase_add_test(tc, test_owner);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
