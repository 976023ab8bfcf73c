/*
 * testutil - helpers shared by the Check unit tests; see testutil.h
 *
 * Linked into every test/unit/check_* binary by the Makefile.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

struct config *
unit_config_load(const char *text)
{
	char		 path[] = "/tmp/check_unit.XXXXXX", err[512];
	struct config	*c;
	int		 fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = config_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(c != NULL, "config_load: %s", err);
	return c;
}
