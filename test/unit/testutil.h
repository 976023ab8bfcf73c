/*
 * testutil - helpers shared by the Check unit tests (test/unit/check_*.c)
 *
 * unit_config_load(text) writes text to a temporary file, loads it with
 * config_load() and removes the file; the calling test fails (a Check
 * assertion naming config_load's error) when it does not load.  The
 * caller frees the result with config_free().
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

struct config;

struct config	*unit_config_load(const char *);

#endif
