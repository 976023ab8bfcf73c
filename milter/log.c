/*
 * log - the daemon's log: syslog, or stderr in the foreground
 *
 * See log.h.  In the foreground every line goes to stderr with one
 * write(2), prefixed "ident[pid]: " like syslog's LOG_PERROR copy.  The
 * prefix is made once a process (again in a forked child), not once a
 * line: getpid(2) is a system call, and system calls are most of what a
 * decision costs (test/bench/README.md).  Lines that threads log while
 * another thread is writing are written by that thread in one write(2)
 * (group commit, log_write()).  log_line() copies a line made by the
 * caller without a printf pass.
 */
#define SYSLOG_NAMES
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"


static int	 log_foreground;
static char	 log_ident[64] = "milter-relay";
/*
 * "ident[pid]: " of the foreground lines, made once a process: in
 * log_open() and, in a forked child (the worker), by a pthread_atfork()
 * handler that runs before the child has other threads.
 */
static char	 log_prefix[96];
static size_t	 log_prefix_len;

/* group commit of foreground lines, see log_write() */
#define LOG_QUEUE_MAX	(64 * 1024)
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int	 log_writing;		/* a thread is in write(2) */
static size_t	 log_queued;
static char	 log_queue[LOG_QUEUE_MAX];
static char	 log_batch[LOG_QUEUE_MAX];

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
log_set_prefix(void)
{
	int	 n;

	n = snprintf(log_prefix, sizeof(log_prefix), "%s[%ld]: ", log_ident,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(log_prefix))
		n = 0;
	log_prefix_len = n;
}

/* fork(2): the child gets the lock free and nothing of the parent's queue */
static void
log_fork_prepare(void)
{
	pthread_mutex_lock(&log_lock);
}

static void
log_fork_parent(void)
{
	pthread_mutex_unlock(&log_lock);
}

static void
log_fork_child(void)
{
	log_writing = 0;
	log_queued = 0;
	pthread_mutex_unlock(&log_lock);
	log_set_prefix();
}

static void
log_register_atfork(void)
{
	(void)pthread_atfork(log_fork_prepare, log_fork_parent,
	    log_fork_child);
}

int
log_open(const char *ident, int foreground, const char *facility)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int	 fac;

	if ((fac = log_facility(facility)) == -1)
		return -1;
	(void)pthread_once(&once, log_register_atfork);
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_set_prefix();
	log_foreground = foreground;
	openlog(log_ident, LOG_PID | LOG_NDELAY | (foreground ? LOG_PERROR : 0),
	    fac);
	return 0;
}

static void
log_write_all(const char *buf, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(STDERR_FILENO, buf, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		n -= w;
	}
}

/*
 * One foreground line: the prefix, text, a newline.  Group commit: the
 * thread that finds no write under way writes its line, then whatever
 * lines other threads queued meanwhile, until none is left; a thread
 * that finds a write under way only queues its line (a copy, no system
 * call) for that writer.  Lines are whole in every write(2); none is
 * dropped (a full queue is written by its own thread).
 */
static void
log_write(char *line, size_t n)
{
	line[n++] = '\n';
	pthread_mutex_lock(&log_lock);
	if (log_writing) {
		if (n <= sizeof(log_queue) - log_queued) {
			memcpy(log_queue + log_queued, line, n);
			log_queued += n;
			pthread_mutex_unlock(&log_lock);
			return;
		}
		pthread_mutex_unlock(&log_lock);
		log_write_all(line, n);
		return;
	}
	log_writing = 1;
	pthread_mutex_unlock(&log_lock);
	log_write_all(line, n);
	pthread_mutex_lock(&log_lock);
	while (log_queued > 0) {
		/* only the writer touches log_batch */
		n = log_queued;
		memcpy(log_batch, log_queue, n);
		log_queued = 0;
		pthread_mutex_unlock(&log_lock);
		log_write_all(log_batch, n);
		pthread_mutex_lock(&log_lock);
	}
	log_writing = 0;
	pthread_mutex_unlock(&log_lock);
}

static void
log_vmsg(int priority, const char *prefix, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	size_t	 n, plen;
	int	 m;

	if (!log_foreground) {
		m = vsnprintf(line, sizeof(line), fmt, ap);
		if (m < 0)
			return;
		syslog(priority, "%s%s", prefix, line);
		return;
	}
	if (log_prefix_len == 0)
		log_set_prefix();	/* before log_open(): one thread */
	plen = strlen(prefix);
	n = log_prefix_len + plen;
	memcpy(line, log_prefix, log_prefix_len);
	memcpy(line + log_prefix_len, prefix, plen);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	log_write(line, n);
}

void
log_line(int priority, const char *text, size_t len)
{
	char	 line[LOG_LINE_MAX];
	size_t	 n;

	if (!log_foreground) {
		syslog(priority, "%.*s", (int)(len > INT_MAX ? INT_MAX : len),
		    text);
		return;
	}
	if (log_prefix_len == 0)
		log_set_prefix();
	if (len > sizeof(line) - 2 - log_prefix_len)
		len = sizeof(line) - 2 - log_prefix_len;
	memcpy(line, log_prefix, log_prefix_len);
	memcpy(line + log_prefix_len, text, len);
	n = log_prefix_len + len;
	log_write(line, n);
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
