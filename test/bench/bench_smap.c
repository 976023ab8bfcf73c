/*
 * bench_smap - load client for the socketmap server (milter/socketmap.c)
 *
 * usage: bench_smap -p PORT [-H HOST] [-c CONNS] [-n REQUESTS] -f KEYS
 *	      [-t SECONDS]
 *
 * Opens CONNS TCP connections to HOST:PORT (default 127.0.0.1), one
 * thread each, and sends REQUESTS netstring queries in total (default
 * 100000), one at a time per connection as Postfix's socketmap client
 * does: write "LEN:MAP KEY," and read the answer before the next one.
 * The queries are the lines of KEYS ("MAP KEY", e.g. "relay
 * example.com"), used in a cycle, each thread starting at its own
 * offset.  -t bounds the run (default 600 s).
 *
 * It prints one line:
 *
 *	requests=N seconds=S lookups_per_s=R ok=A notfound=B temp=C perm=D
 *	    errors=E
 *
 * where ok..perm count the answers by their first word and errors the
 * connections lost.  Exit 0 when every request got an answer, 1 when
 * one did not, 2 on a usage error or when no connection could be made.
 * No thresholds: test/bench/run.sh judges the figures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "netstring.h"

#define KEY_MAX		512
#define ANSWER_MAX	(NETSTRING_QUERY_MAX + 16)
#define CONNS_MAX	256

enum answer { ANS_OK, ANS_NOTFOUND, ANS_TEMP, ANS_PERM, ANS_N };

struct keys {
	char		**line;
	size_t		  n;
};

struct job {
	const struct keys *keys;
	struct sockaddr_in addr;
	size_t		  first;
	double		  deadline;
	atomic_long	 *left;
	atomic_long	 *count;	/* ANS_N counters */
	atomic_long	 *errors;
};

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_smap -p PORT [-H HOST] [-c CONNS] "
	    "[-n REQUESTS] -f KEYS [-t SECONDS]\n");
	exit(2);
}

static int
keys_load(const char *path, struct keys *k)
{
	FILE	*fp;
	char	 buf[KEY_MAX];
	size_t	 cap = 0, len;

	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	k->line = NULL;
	k->n = 0;
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		len = strcspn(buf, "\r\n");
		buf[len] = '\0';
		if (len == 0 || buf[0] == '#')
			continue;
		if (k->n == cap) {
			cap = cap ? cap * 2 : 1024;
			k->line = realloc(k->line, cap * sizeof(*k->line));
			if (k->line == NULL)
				break;
		}
		if ((k->line[k->n] = strdup(buf)) == NULL)
			break;
		k->n++;
	}
	fclose(fp);
	if (k->n == 0) {
		fprintf(stderr, "%s: no keys\n", path);
		return -1;
	}
	return 0;
}

static int
conn_open(const struct sockaddr_in *addr)
{
	struct timeval	tv = { 10, 0 };
	int		fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= w;
	}
	return 0;
}

/* Read one netstring answer; its kind, or -1 when the connection broke. */
static int
answer_read(int fd, char *buf, size_t size)
{
	const char	*data, *why;
	size_t		 have = 0, dlen;
	ssize_t		 r, used;

	for (;;) {
		used = netstring_decode(buf, have, size, &data, &dlen, &why);
		if (used < 0)
			return -1;
		if (used > 0)
			break;
		if (have == size)
			return -1;
		if ((r = read(fd, buf + have, size - have)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		have += r;
	}
	if (dlen >= 2 && strncmp(data, "OK", 2) == 0)
		return ANS_OK;
	if (dlen >= 8 && strncmp(data, "NOTFOUND", 8) == 0)
		return ANS_NOTFOUND;
	if (dlen >= 4 && strncmp(data, "TEMP", 4) == 0)
		return ANS_TEMP;
	return ANS_PERM;
}

static void *
job_run(void *arg)
{
	struct job	*j = arg;
	char		 req[KEY_MAX + 16], ans[ANSWER_MAX];
	const char	*key;
	size_t		 i = j->first;
	ssize_t		 len;
	int		 fd, kind;

	if ((fd = conn_open(&j->addr)) == -1) {
		atomic_fetch_add(j->errors, 1);
		return NULL;
	}
	while (atomic_fetch_sub(j->left, 1) > 0) {
		if ((i & 1023) == 0 && now() > j->deadline)
			break;
		key = j->keys->line[i++ % j->keys->n];
		len = netstring_encode(key, strlen(key), req, sizeof(req));
		if (len < 0 || write_all(fd, req, len) == -1 ||
		    (kind = answer_read(fd, ans, sizeof(ans))) == -1) {
			atomic_fetch_add(j->errors, 1);
			break;
		}
		atomic_fetch_add_explicit(&j->count[kind], 1,
		    memory_order_relaxed);
	}
	close(fd);
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct keys	 keys;
	struct job	 jobs[CONNS_MAX];
	pthread_t	 tid[CONNS_MAX];
	struct sockaddr_in addr;
	atomic_long	 left, errors = 0, count[ANS_N];
	const char	*host = "127.0.0.1", *file = NULL;
	long		 n = 100000, port = 0, seconds = 600, total = 0;
	double		 t0, t1;
	int		 c, conns = 4, i;

	while ((c = getopt(argc, argv, "H:p:c:n:f:t:")) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = strtol(optarg, NULL, 10);
			break;
		case 'c':
			conns = atoi(optarg);
			break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'f':
			file = optarg;
			break;
		case 't':
			seconds = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (port <= 0 || port > 65535 || file == NULL || conns < 1 ||
	    conns > CONNS_MAX || n < 1 || seconds < 1)
		usage();
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "bench_smap: bad IPv4 address %s\n", host);
		return 2;
	}
	if (keys_load(file, &keys) == -1)
		return 2;
	atomic_init(&left, n);
	for (i = 0; i < ANS_N; i++)
		atomic_init(&count[i], 0);
	t0 = now();
	for (i = 0; i < conns; i++) {
		jobs[i].keys = &keys;
		jobs[i].addr = addr;
		jobs[i].first = keys.n / conns * i;
		jobs[i].deadline = t0 + seconds;
		jobs[i].left = &left;
		jobs[i].count = count;
		jobs[i].errors = &errors;
		if (pthread_create(&tid[i], NULL, job_run, &jobs[i]) != 0) {
			fprintf(stderr, "bench_smap: pthread_create failed\n");
			return 2;
		}
	}
	for (i = 0; i < conns; i++)
		pthread_join(tid[i], NULL);
	t1 = now();
	for (i = 0; i < ANS_N; i++)
		total += count[i];
	printf("requests=%ld seconds=%.3f lookups_per_s=%.1f ok=%ld "
	    "notfound=%ld temp=%ld perm=%ld errors=%ld\n", total, t1 - t0,
	    total / (t1 - t0), (long)count[ANS_OK], (long)count[ANS_NOTFOUND],
	    (long)count[ANS_TEMP], (long)count[ANS_PERM], (long)errors);
	if (errors == (long)conns)
		return 2;
	return total == n && errors == 0 ? 0 : 1;
}
