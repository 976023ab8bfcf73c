/*
 * mt_scenario - run a scenario file against a filter
 *
 *	mt_scenario_run(file, socket, timeout_ms, verbose)
 *		runs FILE (format in mt_scenario.c and README.md) against the
 *		filter at SOCKET.  Prints "FILE:LINE: expected X, got Y" on
 *		stderr for each expectation that fails, and one summary line
 *		on stdout.  Returns 0 when every expectation held, 1 when one
 *		failed, 2 for a syntax error in the file or a connection or
 *		protocol error (timeout included), also printed with
 *		FILE:LINE.
 */
#ifndef MT_SCENARIO_H
#define MT_SCENARIO_H

extern int mt_scenario_run(const char *, const char *, int, int);

#endif
