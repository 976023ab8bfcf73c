/*
 * unitskip - a unit test that cannot run here says so; see testutil.h
 *
 * Check has no skipped state: unit_skip() prints "SKIP: test/unit/SUITE:
 * WHAT" and appends the same line without "SKIP: " to $MR_SKIP_LOG (the
 * Makefile's unit target sets it and lists the lines at the end, make
 * check lists them with the areas' skips), or, under MR_REQUIRE_ALL=1,
 * fails the calling test.  Its own object in the archive, so that a suite
 * that calls only this links no config code.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void
unit_skip(const char *suite, const char *fmt, ...)
{
	char		 what[512];
	const char	*env;
	FILE		*log;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	env = getenv("MR_REQUIRE_ALL");
	if (env != NULL && strcmp(env, "1") == 0)
		ck_abort_msg("test/unit/%s: %s (MR_REQUIRE_ALL=1: nothing may "
		    "be skipped)", suite, what);
	printf("SKIP: test/unit/%s: %s\n", suite, what);
	fflush(stdout);
	env = getenv("MR_SKIP_LOG");
	if (env == NULL || *env == '\0')
		return;
	log = fopen(env, "a");
	ck_assert_msg(log != NULL, "MR_SKIP_LOG %s cannot be opened", env);
	fprintf(log, "test/unit/%s: %s\n", suite, what);
	fclose(log);
}
