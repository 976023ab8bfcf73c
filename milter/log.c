/*
 * log - the daemon's log: syslog, or stderr in the foreground
 *
 * See log.h.  In the foreground every line goes to stderr with one
 * write(2), prefixed "ident[pid]: " like syslog's LOG_PERROR copy.  The
 * pid is read once a process (a pthread_atfork() child handler forgets
 * it in the worker), not once a line: getpid(2) is a system call, and
 * system calls are most of what a decision costs (test/bench/README.md).
 */
#define SYSLOG_NAMES
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static int	 log_foreground;
static char	 log_ident[64] = "milter-relay";
static atomic_int log_pid;		/* getpid(2) once a process, not a line */

static int
log_facility(const char *name)
{
	CODE	*c;

	if (name == NULL)
		return LOG_MAIL;
	for (c = facilitynames; c->c_name != NULL; c++)
		if (strcmp(c->c_name, name) == 0)
			return c->c_val;
	return -1;
}

static void
log_forget_pid(void)
{
	atomic_store_explicit(&log_pid, 0, memory_order_relaxed);
}

static void
log_register_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, log_forget_pid);
}

int
log_open(const char *ident, int foreground, const char *facility)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int	 fac;

	if ((fac = log_facility(facility)) == -1)
		return -1;
	/* a forked child (the worker) must not print its parent's pid */
	(void)pthread_once(&once, log_register_atfork);
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_foreground = foreground;
	openlog(log_ident, LOG_PID | LOG_NDELAY | (foreground ? LOG_PERROR : 0),
	    fac);
	return 0;
}

static void
log_vmsg(int priority, const char *prefix, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	int	 n, m, pid;
	ssize_t	 w;

	if (!log_foreground) {
		n = vsnprintf(line, sizeof(line), fmt, ap);
		if (n < 0)
			return;
		syslog(priority, "%s%s", prefix, line);
		return;
	}
	if ((pid = atomic_load_explicit(&log_pid, memory_order_relaxed)) == 0) {
		pid = getpid();
		atomic_store_explicit(&log_pid, pid, memory_order_relaxed);
	}
	n = snprintf(line, sizeof(line), "%s[%ld]: %s", log_ident,
	    (long)pid, prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	do
		w = write(STDERR_FILENO, line, n);
	while (w == -1 && errno == EINTR);
}

void
log_msg(int priority, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(priority, "", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void
log_warning(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

char *
log_quote(const char *text, size_t len, int quoted, char *buf,
    size_t buflen)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 i, o;
	unsigned char c;

	if (buflen == 0)
		return buf;
	for (i = 0, o = 0; i < len && text[i] != '\0'; i++) {
		c = (unsigned char)text[i];
		if (c < 0x20 || (c == ' ' && !quoted) || c == 0x7f ||
		    c == '"' || c == '\\') {
			if (o + 4 >= buflen)
				break;
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			if (o + 1 >= buflen)
				break;
			buf[o++] = c;
		}
	}
	if (i < len && text[i] != '\0' && buflen > 4) {
		if (o > buflen - 4)
			o = buflen - 4;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
