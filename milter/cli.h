/*
 * cli - the diagnostics of the command-line faces (interface in cli.c)
 */
#ifndef MR_CLI_H
#define MR_CLI_H

void	cli_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
