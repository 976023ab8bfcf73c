/*
 * log - the daemon's log: syslog, or stderr in the foreground
 *
 * log_open() chooses the destination once at start-up: syslog with the
 * named facility ("mail", "daemon", "local0".."local7"), or stderr when
 * foreground is set (lines "ident[pid]: text", written with one write(2)
 * each so that threads never interleave).  Direct syslog(3) calls of
 * other code (libmilter) also reach stderr in the foreground
 * (LOG_PERROR).  It returns 0, or -1 for an unknown facility name.
 *
 * log_info(), log_warning() ("warning: " prefix) and log_error()
 * ("error: ") log one line at LOG_INFO, LOG_WARNING and LOG_ERR.  Safe
 * from any thread; never fail.  A line is cut at LOG_LINE_MAX octets.
 *
 * log_line() logs text[0..len) as one line at a priority, as it is (no
 * format): for hot paths that build their line with plain copies.
 *
 * log_quote() copies text into buf for a "key=value" log field: bytes
 * below 0x20, 0x7f, '"' and '\\' become "\xHH", and so does the space
 * unless quoted is set (the value goes between double quotes); the
 * result is cut at buflen - 1 octets (the cut is marked with "...").
 * It returns buf.
 */
#ifndef MR_LOG_H
#define MR_LOG_H

#include <stddef.h>
#include <syslog.h>

#define LOG_LINE_MAX	2048

int	log_open(const char *ident, int foreground, const char *facility);
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warning(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_line(int priority, const char *text, size_t len);
char	*log_quote(const char *text, size_t len, int quoted, char *buf,
	    size_t buflen);

#endif
