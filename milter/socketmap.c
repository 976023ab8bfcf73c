/*
 * socketmap - the socketmap server of the daemon (Postfix socketmap:,
 * Sendmail K... socket maps), answering from the live configuration
 *
 * Interface in socketmap.h.  socketmap_open() binds "inet:PORT@HOST",
 * "inet6:PORT@HOST" or "unix:/path" (as root, before privileges go);
 * "inet:PORT" without HOST binds the loopback address, not every
 * interface (the metrics port too);
 * socketmap_start() starts a listener thread; socketmap_stop() stops it
 * and every connection; socketmap_log_counters() logs the counters.
 *
 * One thread per connection, at most SM_MAX_CONNS at a time.  Postfix and
 * Sendmail keep one
 * persistent connection per process that uses the map, so connections
 * are few (tens to a few hundred) and each carries a stream of small
 * requests answered from memory: a blocking thread each is the simplest
 * correct server, and unlike a single poll loop it answers on every core
 * at once.  Each thread waits with poll(2) on its socket and on a stop
 * pipe, so idle connections are closed after SM_IDLE_SECONDS and stop is
 * immediate; writes are bounded by SO_SNDTIMEO.
 *
 * Slow clients cannot hold the slots.  A request must arrive whole within
 * SM_REQUEST_SECONDS of its first octet (Postfix writes it at once), or
 * the connection is closed.  When all slots are taken, or the new
 * client's address already holds SM_MAX_PER_PEER of them (inet only: unix
 * clients have no address), the new connection takes the slot of a slow
 * one: first the one whose request has been incomplete the longest (for
 * more than SM_SLOW_MS), else the one that has waited the longest (idle
 * since its last answer, or in a request; Postfix reconnects when it
 * finds a persistent connection closed).  A client that asks often
 * keeps being served.
 *
 * Protocol: requests are netstrings "NAME KEY" of at most SM_REQUEST_MAX
 * octets (10000, the limit of Postfix's socketmap client); each is
 * parsed once (maps_parse()), answered by maps_lookup() on the config of
 * live_acquire(), released right after, so a reload changes the next
 * answer, and formatted only when sent (maps_format()).  Pipelined
 * requests are answered in order.  A malformed or oversized netstring
 * gets "PERM reason" and the connection is closed; nothing else is
 * affected.  Requests of the "rcpt" map (maps-only mode) are decisions:
 * the address of a recipients "verify" rule gets its callout
 * (verify_recipient(), the milter's cache and limits) before the
 * answer, and maplog_rcpt() logs one line for each, from the answer's
 * own decision.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lib/maps.h"
#include "netstring.h"
#include "sockspec.h"
#include "live.h"
#include "log.h"
#include "maplog.h"
#include "metrics.h"
#include "socketmap.h"
#include "verify.h"

#define SM_MAX_CONNS	512
#define SM_MAX_PER_PEER	(SM_MAX_CONNS / 2)
#define SM_IDLE_SECONDS	60
#define SM_REQUEST_SECONDS 10	/* first to last octet of one request */
#define SM_SLOW_MS	1000	/* incomplete this long: slow */
#define SM_EVICT_WAIT_MS 2000	/* for an evicted thread to let go */
#define SM_BACKLOG	128
#define SM_REQUEST_MAX	NETSTRING_QUERY_MAX	/* Postfix socketmap limit */
#define SM_BUF_SIZE	(SM_REQUEST_MAX + 32)
#define SM_STACK_SIZE	(256 * 1024)

/* One connection slot; fd and peer change under sm.lock only. */
struct sm_slot {
	int		fd;		/* -1: free */
	int		peer_family;	/* AF_INET/AF_INET6, 0: no address */
	unsigned char	peer[16];
	atomic_llong	partial_since;	/* ms: request incomplete; 0: none */
	atomic_llong	active_at;	/* ms: last request answered */
	atomic_int	evicted;
};

static struct {
	int		listen_fd;
	int		stop_pipe[2];
	int		running;
	pthread_t	listener;
	pthread_mutex_t	lock;
	pthread_cond_t	idle;		/* nconns dropped to 0 */
	pthread_cond_t	freed;		/* a slot was freed */
	struct sm_slot	slots[SM_MAX_CONNS];
	int		nconns;
} sm = {
	.listen_fd = -1,
	.stop_pipe = { -1, -1 },
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.freed = PTHREAD_COND_INITIALIZER,
};

static int	sm_open_unix(const char *path, char *err, size_t errlen);
static int	sm_open_inet(const char *spec, int family, char *err,
		    size_t errlen);
static void	*sm_listen(void *arg);
static void	*sm_serve(void *arg);
static int	sm_request(int fd, const char *data, size_t len);
static void	sm_verify(const struct config *config,
		    const struct map_request *r, struct map_answer *a);
static int	sm_send(int fd, const struct map_answer *a);
static int	sm_send_perm(int fd, const char *why);
static void	sm_conn_done(int slot);

int
socketmap_open(const char *spec, char *err, size_t errlen)
{
	enum sockspec_kind kind;
	const char	*rest;

	if (sockspec_parse(spec, &kind, &rest) == -1) {
		snprintf(err, errlen, "%s: want " SOCKSPEC_SYNTAX, spec);
		return -1;
	}
	switch (kind) {
	case SOCKSPEC_UNIX:
		return sm_open_unix(rest, err, errlen);
	case SOCKSPEC_INET:
		return sm_open_inet(rest, AF_INET, err, errlen);
	case SOCKSPEC_INET6:
	default:
		return sm_open_inet(rest, AF_INET6, err, errlen);
	}
}

static int
sm_open_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int		 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix:%s: bad or too long path", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, SM_BACKLOG) == -1) {
		snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * "PORT@HOST" or "PORT"; HOST may be in brackets.  Without HOST the
 * loopback address (127.0.0.1, ::1): every interface must be asked for
 * ("inet:PORT@0.0.0.0", "inet6:PORT@[::]").
 */
static int
sm_open_inet(const char *spec, int family, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	struct sockspec_inet in;
	char		 port[16];
	const char	*host, *why;
	int		 fd, rc, on = 1;

	if (sockspec_inet(spec, &in, &why) == -1) {
		snprintf(err, errlen, "%s: %s", spec, why);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", in.port);
	host = in.host;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	/* without AI_PASSIVE, no host is the loopback address */
	hints.ai_flags = (host[0] != '\0' ? AI_PASSIVE : 0) | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, SM_BACKLOG) == -1) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
socketmap_start(int fd, char *err, size_t errlen)
{
	int	i, rc;

	if (sm.running) {
		snprintf(err, errlen, "socketmap already running");
		return -1;
	}
	if (pipe2(sm.stop_pipe, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < SM_MAX_CONNS; i++)
		sm.slots[i].fd = -1;
	sm.nconns = 0;
	sm.listen_fd = fd;
	if ((rc = pthread_create(&sm.listener, NULL, sm_listen, NULL)) != 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		close(sm.stop_pipe[0]);
		close(sm.stop_pipe[1]);
		sm.stop_pipe[0] = sm.stop_pipe[1] = -1;
		return -1;
	}
	sm.running = 1;
	return 0;
}

void
socketmap_stop(void)
{
	int	i;

	if (!sm.running)
		return;
	/* Never drained: every poll(2) on it sees it readable from now on. */
	while (write(sm.stop_pipe[1], "S", 1) == -1 && errno == EINTR)
		;
	pthread_join(sm.listener, NULL);
	pthread_mutex_lock(&sm.lock);
	for (i = 0; i < SM_MAX_CONNS; i++)
		if (sm.slots[i].fd != -1)
			(void)shutdown(sm.slots[i].fd, SHUT_RDWR);
	while (sm.nconns > 0)
		pthread_cond_wait(&sm.idle, &sm.lock);
	pthread_mutex_unlock(&sm.lock);
	close(sm.stop_pipe[0]);
	close(sm.stop_pipe[1]);
	sm.stop_pipe[0] = sm.stop_pipe[1] = -1;
	close(sm.listen_fd);
	sm.listen_fd = -1;
	sm.running = 0;
}

/* socketmap_log_counters - the SIGUSR1 line, a view of metrics.c */
void
socketmap_log_counters(void)
{
	unsigned long long ok, nf, temp, perm;
	int		 open;

	pthread_mutex_lock(&sm.lock);
	open = sm.nconns;
	pthread_mutex_unlock(&sm.lock);
	ok = metrics_socketmap_answers(MAP_OK);
	nf = metrics_socketmap_answers(MAP_NOTFOUND);
	temp = metrics_socketmap_answers(MAP_TEMP);
	perm = metrics_socketmap_answers(MAP_PERM);
	log_info("socketmap: connections=%llu refused=%llu open=%d "
	    "requests=%llu ok=%llu notfound=%llu errors=%llu malformed=%llu "
	    "idle_closed=%llu slow_closed=%llu evicted=%llu",
	    (unsigned long long)metrics_get(MC_SM_CONNECTIONS),
	    (unsigned long long)metrics_get(MC_SM_REFUSED), open,
	    ok + nf + temp + perm, ok, nf, temp + perm,
	    (unsigned long long)metrics_get(MC_SM_MALFORMED),
	    (unsigned long long)metrics_get(MC_SM_IDLE_CLOSED),
	    (unsigned long long)metrics_get(MC_SM_SLOW_CLOSED),
	    (unsigned long long)metrics_get(MC_SM_EVICTED));
}

/* sm_now - monotonic milliseconds */
static long long
sm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sm_peer - the address of an inet client (family 0 for unix clients) */
static void
sm_peer(const struct sockaddr_storage *ss, int *family, unsigned char *addr)
{
	memset(addr, 0, 16);
	*family = 0;
	if (ss->ss_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		*family = AF_INET;
	} else if (ss->ss_family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
		*family = AF_INET6;
	}
}

static int
sm_same_peer(const struct sm_slot *s, int family, const unsigned char *addr)
{
	return s->peer_family == family && memcmp(s->peer, addr, 16) == 0;
}

/*
 * sm_victim - the slot a new client may take (family != 0: among that
 * peer's slots only): the request incomplete for the longest time, over
 * SM_SLOW_MS; else the connection that has waited the longest, for the
 * rest of its request or for its next one; -1 when none is left.  Under
 * sm.lock.
 */
static int
sm_victim(int family, const unsigned char *addr, long long now)
{
	struct sm_slot	*s;
	long long	 t, best_t = 0;
	int		 i, class, best = -1, best_class = 2;

	for (i = 0; i < SM_MAX_CONNS; i++) {
		s = &sm.slots[i];
		if (s->fd == -1 || atomic_load(&s->evicted))
			continue;
		if (family != 0 && !sm_same_peer(s, family, addr))
			continue;
		t = atomic_load(&s->partial_since);
		class = t != 0 && now - t >= SM_SLOW_MS ? 0 : 1;
		if (t == 0)
			t = atomic_load(&s->active_at);
		if (class < best_class || (class == best_class && t < best_t)) {
			best = i;
			best_class = class;
			best_t = t;
		}
	}
	return best;
}

/*
 * sm_slot_take - a slot for a new connection from the given peer, taken
 * from a slow client if the slots or the peer's share are used up; -1:
 * refused.  Under sm.lock (released while the evicted thread ends).
 */
static int
sm_slot_take(int fd, int family, const unsigned char *addr)
{
	struct sm_slot	*s;
	struct timespec	 ts;
	long long	 now;
	int		 i, n, slot, victim;

	now = sm_now();
	slot = -1;
	n = 0;
	for (i = 0; i < SM_MAX_CONNS; i++) {
		s = &sm.slots[i];
		if (s->fd == -1) {
			if (slot == -1)
				slot = i;
		} else if (family != 0 && sm_same_peer(s, family, addr))
			n++;
	}
	if (n >= SM_MAX_PER_PEER || slot == -1) {
		victim = sm_victim(n >= SM_MAX_PER_PEER ? family : 0, addr,
		    now);
		if (victim == -1)
			return -1;
		s = &sm.slots[victim];
		atomic_store(&s->evicted, 1);
		(void)shutdown(s->fd, SHUT_RDWR);
		metrics_add(MC_SM_EVICTED);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += SM_EVICT_WAIT_MS / 1000;
		while (s->fd != -1)
			if (pthread_cond_timedwait(&sm.freed, &sm.lock,
			    &ts) != 0)
				break;
		if (s->fd != -1)
			return -1;
		slot = victim;
	}
	s = &sm.slots[slot];
	s->fd = fd;
	s->peer_family = family;
	memcpy(s->peer, addr, 16);
	atomic_store(&s->partial_since, 0);
	atomic_store(&s->active_at, now);
	atomic_store(&s->evicted, 0);
	sm.nconns++;
	return slot;
}

/* The listener thread: accept and hand each connection a thread. */
static void *
sm_listen(void *arg)
{
	struct pollfd	 pfd[2];
	struct sockaddr_storage ss;
	socklen_t	 sslen;
	pthread_attr_t	 attr;
	pthread_t	 tid;
	intptr_t	 slot;
	unsigned char	 peer[16];
	int		 fd, family;

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SM_STACK_SIZE);
	pfd[0].fd = sm.listen_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sm.stop_pipe[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_error("socketmap: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		sslen = sizeof(ss);
		fd = accept4(sm.listen_fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED)
				log_warning("socketmap: accept: %s",
				    strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				(void)poll(NULL, 0, 100);
			continue;
		}
		sm_peer(&ss, &family, peer);
		pthread_mutex_lock(&sm.lock);
		slot = sm_slot_take(fd, family, peer);
		pthread_mutex_unlock(&sm.lock);
		if (slot == -1) {
			metrics_add(MC_SM_REFUSED);
			close(fd);
			continue;
		}
		metrics_add(MC_SM_CONNECTIONS);
		if (pthread_create(&tid, &attr, sm_serve, (void *)slot) != 0) {
			log_warning("socketmap: cannot start a thread");
			sm_conn_done((int)slot);
		}
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

/* One connection: read, answer every complete request, until done. */
static void *
sm_serve(void *arg)
{
	struct timeval	 tv = { SM_IDLE_SECONDS, 0 };
	struct pollfd	 pfd[2];
	struct sm_slot	*s;
	const char	*data, *why;
	char		*buf;
	size_t		 len = 0, dlen;
	ssize_t		 n, used;
	long long	 now, left;
	int		 slot = (int)(intptr_t)arg, fd, rc, timeout;

	s = &sm.slots[slot];
	fd = s->fd;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((buf = malloc(SM_BUF_SIZE)) == NULL) {
		log_warning("socketmap: out of memory");
		sm_conn_done(slot);
		return NULL;
	}
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sm.stop_pipe[0];
	pfd[1].events = POLLIN;
	for (;;) {
		/* Answer what is complete. */
		used = netstring_decode(buf, len, SM_REQUEST_MAX, &data,
		    &dlen, &why);
		if (used > 0) {
			if (sm_request(fd, data, dlen) == -1)
				break;
			memmove(buf, buf + used, len - (size_t)used);
			len -= (size_t)used;
			/* the next request's clock starts now */
			now = sm_now();
			atomic_store(&s->active_at, now);
			atomic_store(&s->partial_since, len > 0 ? now : 0);
			continue;
		}
		if (used == -1 || len == SM_BUF_SIZE) {
			metrics_add(MC_SM_MALFORMED);
			(void)sm_send_perm(fd, used == -1 ? why :
			    "request too long");
			break;
		}
		/* idle: SM_IDLE_SECONDS; in a request: what is left of it */
		timeout = SM_IDLE_SECONDS * 1000;
		if (len > 0) {
			left = atomic_load(&s->partial_since) +
			    SM_REQUEST_SECONDS * 1000 - sm_now();
			if (left <= 0) {
				metrics_add(MC_SM_SLOW_CLOSED);
				break;
			}
			if (left < timeout)
				timeout = (int)left;
		}
		rc = poll(pfd, 2, timeout);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == 0 && len > 0)
			continue;	/* the deadline, checked above */
		if (rc == 0)
			metrics_add(MC_SM_IDLE_CLOSED);
		if (rc <= 0 || pfd[1].revents != 0)
			break;
		n = read(fd, buf + len, SM_BUF_SIZE - len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (len == 0)
			atomic_store(&s->partial_since, sm_now());
		len += (size_t)n;
	}
	free(buf);
	sm_conn_done(slot);
	return NULL;
}

/*
 * Answer one request; -1 when the connection must close.  Parsed once,
 * decided once; a recipients "verify" address of the rcpt map gets its
 * callout here (this thread waits for it, as a milter thread does).
 */
static int
sm_request(int fd, const char *data, size_t len)
{
	const struct config *config;
	struct map_request r;
	struct map_answer a;
	uint64_t	 start;
	int		 map = -1;

	start = metrics_now();
	if (maps_parse(data, len, &r, &a) == 0) {
		map = (int)r.map;
		config = live_acquire();
		maps_lookup(config, r.map, r.key, r.len, &a);
		if (maps_pending(&a))
			sm_verify(config, &r, &a);
		if (r.map == MAP_POSTFIX_RCPT)
			maplog_rcpt(r.key, r.len, &a);
		live_release(config);
	}
	metrics_socketmap(map, a.status, start);
	return sm_send(fd, &a);
}

/* sm_verify - the callout of a pending rcpt answer, then its answer */
static void
sm_verify(const struct config *config, const struct map_request *r,
    struct map_answer *a)
{
	char	rcpt[SM_REQUEST_MAX + 1];

	memcpy(rcpt, r->key, r->len);
	rcpt[r->len] = '\0';
	/* the SMTP client is not known here: no per-client bound */
	verify_recipient(config, NULL, rcpt, &a->decision);
	maps_settle(config, r->key, r->len, a);
}

/* A PERM answer for a request that is not even a netstring. */
static int
sm_send_perm(int fd, const char *why)
{
	struct map_answer a;

	a.status = MAP_PERM;
	a.why = why;
	a.value[0] = '\0';
	return sm_send(fd, &a);
}

/* Send one answer as a netstring; -1 when the connection must close. */
static int
sm_send(int fd, const struct map_answer *a)
{
	char	 answer[MAPS_ANSWER_MAX], out[MAPS_ANSWER_MAX + 16];
	ssize_t	 n, off, total;
	size_t	 len;

	len = maps_format(a, answer, sizeof(answer));
	total = netstring_encode(answer, len, out, sizeof(out));
	if (total == -1)
		return -1;
	for (off = 0; off < total; off += n) {
		n = send(fd, out + off, (size_t)(total - off), MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return -1;
	}
	return 0;
}

static void
sm_conn_done(int slot)
{
	pthread_mutex_lock(&sm.lock);
	close(sm.slots[slot].fd);
	sm.slots[slot].fd = -1;
	pthread_cond_broadcast(&sm.freed);
	if (--sm.nconns == 0)
		pthread_cond_broadcast(&sm.idle);
	pthread_mutex_unlock(&sm.lock);
}
