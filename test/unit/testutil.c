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
