/*
 * cli - the diagnostics of the command-line faces
 *
 * NAME
 *	cli - one way to tell the user of a subcommand what went wrong
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	void cli_error(const char *fmt, ...);
 * DESCRIPTION
 *	cli_error() writes "milter-relay: " and the formatted message, then
 *	a newline, to standard error, as warnx(3) does: for the
 *	subcommands and for the start-up of the daemon before its log is
 *	open.  It leaves errno as it found it.  The caller then returns
 *	its sysexits.h status.  Usage
 *	texts are not diagnostics; they are printed by each subcommand.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

#define CLI_PROGNAME	"milter-relay"

/* cli_error - "milter-relay: message" on standard error */
void
cli_error(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	fputs(CLI_PROGNAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = saved;
}
