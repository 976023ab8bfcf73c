/*
 * testutil - helpers shared by the Check unit tests (test/unit/check_*.c)
 *
 * unit_config_load(text) writes text to a temporary file, loads it with
 * config_load() and removes the file; the calling test fails (a Check
 * assertion naming config_load's error) when it does not load.  The
 * caller frees the result with config_free().  unit_config_try() is the
 * same without the assertion: NULL and config_load's error in err.
 *
 * unit_tmpdir(dir, len, name) makes a fresh directory /tmp/NAME.XXXXXX
 * into dir (a Check fixture's setup); unit_tmpdir_remove(dir) removes it
 * with all it holds (the teardown).
 *
 * unit_listen_loopback(backlog, &port) listens on 127.0.0.1, on a port
 * the kernel picks (returned in port): the descriptor.
 *
 * unit_skip(suite, fmt, ...) reports a test that cannot run here (not
 * root, say) as a skip (unitskip.c): listed by make unit and make check,
 * a failure of the calling test under MR_REQUIRE_ALL=1.  The test
 * returns after it.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

struct config;

#include <stddef.h>

struct config	*unit_config_load(const char *);
struct config	*unit_config_try(const char *, char *, size_t);
void		 unit_tmpdir(char *, size_t, const char *);
void		 unit_tmpdir_remove(const char *);
int		 unit_listen_loopback(int, unsigned *);
void		 unit_skip(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
