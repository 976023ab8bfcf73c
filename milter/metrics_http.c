/*
 * metrics_http - the HTTP endpoint of the metrics (libmicrohttpd)
 *
 * SYNOPSIS
 *	#include "metrics_http.h"
 *
 *	int	metrics_http_open(const char *spec, char *err, size_t errlen);
 *	int	metrics_http_start(int fd, char *err, size_t errlen);
 *	int	metrics_http_fd(void);
 *	int	metrics_http_timeout(int max_ms);
 *	void	metrics_http_run(void);
 *	void	metrics_http_forget(void);
 *	void	metrics_http_stop(void);
 *
 * DESCRIPTION
 *	metrics_http_open() binds "inet:PORT@HOST" or "inet6:PORT@HOST"
 *	(as root, before privileges go, like the other sockets) and
 *	returns the listening socket.
 *
 *	metrics_http_start() has libmicrohttpd serve it from the
 *	supervisor, which outlives every worker and reads the counters of
 *	the shared mapping (metrics.c).  No thread: the supervisor forks
 *	workers, and a fork while another thread holds a lock (of malloc,
 *	of a sanitizer) could leave the child stuck.  The supervisor's loop
 *	polls metrics_http_fd() (libmicrohttpd's epoll descriptor) with at
 *	most metrics_http_timeout() milliseconds (max_ms, or less when a
 *	connection times out sooner) and calls metrics_http_run(), which
 *	does what is ready and never blocks.
 *
 *	GET /metrics	200, every metric in the Prometheus text format
 *	GET /healthz	200 "ok" while a worker serves a loaded rule set
 *			and static mode's tables are not stale, 503
 *			otherwise with the reason (metrics_unhealthy())
 *	other paths	404; other methods on these paths 405
 *
 *	HEAD works as GET without the body.  A scrape takes no lock that
 *	mail takes: it reads atomic counters; the worker does not see it.
 *	Many or malformed requests cost the supervisor little and the
 *	worker nothing:
 *	  - connections at once: at most HTTP_CONN_MAX, and at most the
 *	    open-file limit (RLIMIT_NOFILE) less HTTP_FD_RESERVE, the
 *	    supervisor's own (pipes and sockets of a worker restart, the
 *	    log); beyond that libmicrohttpd accepts no more and new clients
 *	    wait in the listen backlog;
 *	  - time: a connection is closed after HTTP_TIMEOUT idle
 *	    (libmicrohttpd restarts that timer at each octet), and in any
 *	    case HTTP_DEADLINE after it was accepted, whatever it sends:
 *	    metrics_http_run() shuts such a connection down (shutdown(2);
 *	    libmicrohttpd then closes it), and metrics_http_timeout()
 *	    wakes the loop for the next deadline;
 *	  - memory: HTTP_MEMORY per connection.
 *	A client that keeps HTTP_CONN_MAX connections open, opening new
 *	ones as the old are closed, still delays other scrapes by up to
 *	HTTP_DEADLINE each time: the port is for loopback or a trusted
 *	network.
 *
 *	metrics_http_forget() is for a forked worker: it closes its copies
 *	of the server's listening and epoll descriptors and of every open
 *	HTTP connection (a fork keeps them all).
 *	metrics_http_stop() stops the server and closes the socket; without
 *	a server metrics_http_fd() is -1 and the others do nothing.
 *
 * DIAGNOSTICS
 *	metrics_http_open() returns -1 and metrics_http_start() -1 with a
 *	message in err.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sockspec.h"

#include "metrics.h"
#include "metrics_http.h"
#include "socketmap.h"

#define HTTP_CONN_MAX	1024
#define HTTP_FD_RESERVE	64		/* descriptors the supervisor keeps */
#define HTTP_TIMEOUT	10		/* s, idle */
#define HTTP_DEADLINE	10		/* s, a connection in all */
#define HTTP_MEMORY	(32 * 1024)	/* per connection */
#define HTTP_CTYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define HTTP_CTYPE_TEXT	"text/plain; charset=utf-8"

static struct MHD_Daemon *http_daemon;
/*
 * In a forked worker: the supervisor's daemon, its descriptors closed but
 * its memory kept (and reachable, so LeakSanitizer does not count it):
 * MHD_stop_daemon() there could shut the socket the supervisor serves.
 */
static struct MHD_Daemon *volatile http_inherited;	/* a store kept */
static int http_fd = -1;

/* An open HTTP connection (libmicrohttpd's socket context). */
struct http_conn {
	struct http_conn *prev, *next;
	int		 fd;
	struct timespec	 deadline;
	int		 shut;		/* shutdown(2) done */
};
static struct http_conn *http_conns;

/* http_conn_limit - the connections the open-file limit leaves room for */
static unsigned
http_conn_limit(void)
{
	struct rlimit	rl;
	rlim_t		n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return HTTP_CONN_MAX;
	n = rl.rlim_cur > 2 * HTTP_FD_RESERVE ? rl.rlim_cur -
	    HTTP_FD_RESERVE : rl.rlim_cur / 2;
	if (n > HTTP_CONN_MAX)
		n = HTTP_CONN_MAX;
	return n > 0 ? (unsigned)n : 1;
}

/* http_notify - keep the list of open connections and their deadlines */
static void
http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *i;
	struct http_conn *hc;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		i = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (i == NULL || (hc = calloc(1, sizeof(*hc))) == NULL)
			return;
		hc->fd = i->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &hc->deadline);
		hc->deadline.tv_sec += HTTP_DEADLINE;
		if ((hc->next = http_conns) != NULL)
			hc->next->prev = hc;
		http_conns = hc;
		*socket_context = hc;
		return;
	}
	if ((hc = *socket_context) == NULL)
		return;
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		http_conns = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	free(hc);
	*socket_context = NULL;
}

/* http_ms_left - milliseconds until a deadline, 0 when past */
static long
http_ms_left(const struct timespec *deadline, const struct timespec *now)
{
	long	ms;

	ms = (deadline->tv_sec - now->tv_sec) * 1000 +
	    (deadline->tv_nsec - now->tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* http_expire - shut down every connection past its deadline */
static void
http_expire(void)
{
	struct http_conn *hc;
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (hc = http_conns; hc != NULL; hc = hc->next)
		if (!hc->shut && http_ms_left(&hc->deadline, &now) == 0) {
			(void)shutdown(hc->fd, SHUT_RDWR);
			hc->shut = 1;
		}
}

int
metrics_http_open(const char *spec, char *err, size_t errlen)
{
	enum sockspec_kind kind;
	const char *rest;

	if (sockspec_parse(spec, &kind, &rest) == -1 ||
	    kind == SOCKSPEC_UNIX) {
		snprintf(err, errlen, "%s: want " SOCKSPEC_INET_SYNTAX, spec);
		return -1;
	}
	/* the socketmap's opener binds inet sockets the same way */
	return socketmap_open(spec, err, errlen);
}

/* http_send - queue a response made from buf (taken) or text (copied) */
static enum MHD_Result
http_send(struct MHD_Connection *c, unsigned status, const char *ctype,
    char *buf, size_t len, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (buf != NULL)
		r = MHD_create_response_from_buffer(len, buf,
		    MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(strlen(text),
		    (void *)text, MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
http_metrics(struct MHD_Connection *c)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return http_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    HTTP_CTYPE_TEXT, NULL, 0, "out of memory\n");
	rc = metrics_format(fp);
	if (fclose(fp) != 0 || rc != 0) {
		free(buf);
		return http_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    HTTP_CTYPE_TEXT, NULL, 0, "out of memory\n");
	}
	return http_send(c, MHD_HTTP_OK, HTTP_CTYPE_METRICS, buf, len, NULL);
}

static enum MHD_Result
http_answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	const char *why;
	char	*buf;
	int	 known, get;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)con_cls;
	known = strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0;
	get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	*upload_size = 0;	/* a body is never read */
	if (!known)
		return http_send(c, MHD_HTTP_NOT_FOUND, HTTP_CTYPE_TEXT, NULL,
		    0, "not found\n");
	if (!get)
		return http_send(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    HTTP_CTYPE_TEXT, NULL, 0, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return http_metrics(c);
	if ((why = metrics_unhealthy()) == NULL)
		return http_send(c, MHD_HTTP_OK, HTTP_CTYPE_TEXT, NULL, 0,
		    "ok\n");
	if (asprintf(&buf, "%s\n", why) == -1)
		return http_send(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    HTTP_CTYPE_TEXT, NULL, 0, "unhealthy\n");
	return http_send(c, MHD_HTTP_SERVICE_UNAVAILABLE, HTTP_CTYPE_TEXT,
	    buf, strlen(buf), NULL);
}

int
metrics_http_start(int fd, char *err, size_t errlen)
{
	http_daemon = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL,
	    http_answer, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, http_conn_limit(),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify, NULL,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY,
	    MHD_OPTION_END);
	if (http_daemon == NULL) {
		snprintf(err, errlen, "libmicrohttpd cannot serve the "
		    "metrics socket");
		return -1;
	}
	http_fd = fd;
	return 0;
}

int
metrics_http_fd(void)
{
	const union MHD_DaemonInfo *i;

	if (http_daemon == NULL)
		return -1;
	i = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_EPOLL_FD);
	return i != NULL ? i->epoll_fd : -1;
}

int
metrics_http_timeout(int max_ms)
{
	MHD_UNSIGNED_LONG_LONG t;
	const struct http_conn *hc;
	struct timespec	 now;
	long		 ms;

	if (http_daemon == NULL)
		return max_ms;
	if (MHD_get_timeout(http_daemon, &t) == MHD_YES &&
	    t < (MHD_UNSIGNED_LONG_LONG)max_ms)
		max_ms = (int)t;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (hc = http_conns; hc != NULL; hc = hc->next)
		if (!hc->shut && (ms = http_ms_left(&hc->deadline, &now)) <
		    max_ms)
			max_ms = (int)ms;
	return max_ms;
}

void
metrics_http_run(void)
{
	if (http_daemon == NULL)
		return;
	http_expire();
	(void)MHD_run(http_daemon);
}

void
metrics_http_forget(void)
{
	const union MHD_DaemonInfo *i;
	struct http_conn *hc;

	if (http_daemon == NULL)
		return;
	i = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (i != NULL && i->epoll_fd >= 0)
		(void)close(i->epoll_fd);
	(void)close(http_fd);
	for (hc = http_conns; hc != NULL; hc = hc->next)
		(void)close(hc->fd);
	http_inherited = http_daemon;
	http_daemon = NULL;
	http_fd = -1;
}

void
metrics_http_stop(void)
{
	if (http_daemon == NULL)
		return;
	/* libmicrohttpd closes the listening socket */
	MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
	http_fd = -1;
}
