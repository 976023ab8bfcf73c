/*
 * check_callout - the callout's SMTP dialogue and MX lookup (lib/callout.c)
 *
 * A scripted SMTP server in a thread of the test (loopback, a port the
 * kernel picks, every wait bounded) answers each stage as the test says:
 * 4xx and 5xx at the greeting, EHLO, MAIL and RCPT; the HELO fallback
 * after a 5xx to EHLO (and none after a 4xx), a 4xx to that HELO;
 * multi-line replies, also one whose lines disagree on the code; a server
 * that stalls at the greeting, EHLO, MAIL or RCPT (the probe's own time
 * limit, unknown); a second hop asked when the first defers.  A 4xx
 * to RCPT is unknown, never a valid user; DATA is never sent; QUIT is.
 *
 * A scripted DNS server (TCP, loopback, a port of its own, set as the
 * thread's resolver) answers MX queries with an answer of 65000 octets,
 * larger than the first buffer of the lookup: the lowest preference, the
 * last record, must be found (the lookup grows its buffer and asks
 * again; it read past a 2048-octet buffer before).  callout_mx_parse()
 * and callout_reply_line() on their own.
 *
 * A name server that never answers (UDP, loopback) behind a resolver
 * configured to be patient (three tries of 3 s): a probe of 500 ms over
 * two MX hops and a named host gives up at its time limit, unknown,
 * having asked one query in all (the first MX lookup waits one second,
 * once; no lookup starts after the limit), and the thread's resolver
 * keeps its own settings.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "callout.h"
#include "decide.h"
#include "testutil.h"

#define WAIT_MS		5000	/* any wait of the servers */
#define PROBE_MS	3000	/* a probe that does not stall */
#define STALL_MS	300	/* a probe against a stalling server */
#define SILENT_MS	500	/* a probe against a silent name server */

/*
 * What the scripted server answers at each stage; NULL: it stalls there
 * (reads on, answers nothing).  Lines of a multi-line reply are separated
 * by "\r\n"; the server adds the last one.
 */
struct script {
	const char	*greet, *ehlo, *helo, *mail, *rcpt;
	int		 lfd;
	unsigned	 port;
	char		 log[512];	/* the verbs received, space-separated */
	pthread_t	 thread;
	int		 outlasted;	/* a stall ended by WAIT_MS, not EOF */
};

static int
wait_fd(int fd, int ms)
{
	struct pollfd	p;

	p.fd = fd;
	p.events = POLLIN;
	return poll(&p, 1, ms) == 1 ? 0 : -1;
}

static int
send_reply(int fd, const char *text)
{
	char	buf[1024];
	int	n;

	n = snprintf(buf, sizeof(buf), "%s\r\n", text);
	return write(fd, buf, (size_t)n) == n ? 0 : -1;
}

/* read_line - one command line (CRLF cut); -1 at EOF or after WAIT_MS */
static int
read_line(int fd, char *line, size_t len)
{
	size_t	n;
	char	c;

	for (n = 0; n + 1 < len;) {
		if (wait_fd(fd, WAIT_MS) == -1 || read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

/*
 * stall - answer nothing, read until the client closes (0) or nothing
 * comes for WAIT_MS (1: the client outlasted the stall)
 */
static int
stall(int fd)
{
	char	buf[256];

	while (wait_fd(fd, WAIT_MS) == 0)
		if (read(fd, buf, sizeof(buf)) <= 0)
			return 0;
	return 1;
}

static void *
server_main(void *arg)
{
	struct script	*s = arg;
	const char	*reply;
	char		 line[512], verb[5];
	int		 fd;

	if (wait_fd(s->lfd, WAIT_MS) == -1 ||
	    (fd = accept(s->lfd, NULL, NULL)) == -1)
		return NULL;
	if (s->greet == NULL) {
		s->outlasted = stall(fd);
		close(fd);
		return NULL;
	}
	(void)send_reply(fd, s->greet);
	while (read_line(fd, line, sizeof(line)) == 0) {
		memcpy(verb, line, sizeof(verb) - 1);
		verb[sizeof(verb) - 1] = '\0';
		snprintf(s->log + strlen(s->log), sizeof(s->log) -
		    strlen(s->log), "%s%s", s->log[0] != '\0' ? " " : "", verb);
		if (strcasecmp(verb, "QUIT") == 0) {
			(void)send_reply(fd, "221 bye");
			break;
		}
		reply = strcasecmp(verb, "EHLO") == 0 ? s->ehlo :
		    strcasecmp(verb, "HELO") == 0 ? s->helo :
		    strcasecmp(verb, "MAIL") == 0 ? s->mail :
		    strcasecmp(verb, "RCPT") == 0 ? s->rcpt : "502 no";
		if (reply == NULL) {
			s->outlasted = stall(fd);
			break;
		}
		(void)send_reply(fd, reply);
	}
	close(fd);
	return NULL;
}


static void
server_start(struct script *s)
{
	s->log[0] = '\0';
	s->outlasted = 0;
	s->lfd = unit_listen_loopback(4, &s->port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void
server_join(struct script *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
}

static void
hop_set(struct callout_hop *h, unsigned port)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->host, sizeof(h->host), "127.0.0.1");
	h->port = port;
}

/* probe - one callout to the scripted server s; the answer in a */
static void
probe(struct script *s, long ms, struct callout_answer *a)
{
	struct callout_hop	h;

	server_start(s);
	hop_set(&h, s->port);
	callout_probe(&h, 1, "front.test", "<alice@corp.test>", ms, a);
	server_join(s);
	ck_assert_ptr_null(strstr(s->log, "DATA"));
}

static const struct {
	struct script		 s;
	enum recipient_status	 want;
	const char		*log;		/* the verbs the server saw */
} dialogues[] = {
	{ { "220 ok", "250 ok", "250 ok", "250 ok", "250 2.1.5 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_VALID, "EHLO MAIL RCPT QUIT" },
	{ { "220 ok", "250 ok", "250 ok", "250 ok", "550 5.1.1 no such user",
	    0, 0, "", 0, 0 }, RECIPIENT_INVALID, "EHLO MAIL RCPT QUIT" },
	/* a temporary refusal of RCPT says nothing about the user */
	{ { "220 ok", "250 ok", "250 ok", "250 ok", "450 4.2.0 try later",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO MAIL RCPT QUIT" },
	{ { "220 ok", "250 ok", "250 ok", "250 ok", "452 4.5.3 too many",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO MAIL RCPT QUIT" },
	/* the greeting */
	{ { "421 4.3.2 busy", "250 ok", "250 ok", "250 ok", "250 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "QUIT" },
	{ { "554 5.7.1 go away", "250 ok", "250 ok", "250 ok", "250 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "QUIT" },
	/* EHLO: 5xx falls back to HELO, 4xx does not */
	{ { "220 ok", "502 5.5.1 no EHLO", "250 ok", "250 ok", "250 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_VALID, "EHLO HELO MAIL RCPT QUIT" },
	{ { "220 ok", "502 5.5.1 no EHLO", "250 ok", "250 ok", "550 no",
	    0, 0, "", 0, 0 }, RECIPIENT_INVALID, "EHLO HELO MAIL RCPT QUIT" },
	{ { "220 ok", "421 4.3.2 busy", "250 ok", "250 ok", "250 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO QUIT" },
	{ { "220 ok", "500 no", "550 no", "250 ok", "250 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO HELO QUIT" },
	/* the HELO after a 5xx to EHLO deferred: unknown, no MAIL */
	{ { "220 ok", "502 5.5.1 no EHLO", "421 4.3.2 busy", "250 ok",
	    "250 ok", 0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO HELO QUIT" },
	/* MAIL FROM:<> refused either way: no statement about the user */
	{ { "220 ok", "250 ok", "250 ok", "451 4.3.0 later", "250 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO MAIL QUIT" },
	{ { "220 ok", "250 ok", "250 ok", "553 5.7.1 no null sender",
	    "550 no", 0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO MAIL QUIT" },
	/* multi-line replies */
	{ { "220-mx.corp.test\r\n220-more\r\n220 ready",
	    "250-mx.corp.test\r\n250-PIPELINING\r\n250 8BITMIME", "250 ok",
	    "250 ok", "550-5.1.1 no\r\n550 5.1.1 such user",
	    0, 0, "", 0, 0 }, RECIPIENT_INVALID, "EHLO MAIL RCPT QUIT" },
	{ { "220 ok", "250 ok", "250 ok", "250 ok",
	    "250-2.1.5 ok\r\n250 2.1.5 really", 0, 0, "", 0, 0 },
	    RECIPIENT_VALID, "EHLO MAIL RCPT QUIT" },
	/* lines that disagree on the code: not a reply, the session ends */
	{ { "220 ok", "250 ok", "250 ok", "250 ok", "250-ok\r\n550 no",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "EHLO MAIL RCPT" },
	/* not a reply at all */
	{ { "hello", "250 ok", "250 ok", "250 ok", "250 ok",
	    0, 0, "", 0, 0 }, RECIPIENT_UNKNOWN, "" },
};

START_TEST(test_dialogue)
{
	struct script		s;
	struct callout_answer	a;

	s = dialogues[_i].s;
	probe(&s, PROBE_MS, &a);
	ck_assert_msg(a.status == dialogues[_i].want, "dialogue %d: status "
	    "%d, want %d (reply \"%s\")", _i, a.status, dialogues[_i].want,
	    a.reply);
	ck_assert_msg(strcmp(s.log, dialogues[_i].log) == 0, "dialogue %d: "
	    "server saw \"%s\", want \"%s\"", _i, s.log, dialogues[_i].log);
	if (a.status != RECIPIENT_UNKNOWN)
		ck_assert_msg(strncmp(a.reply, dialogues[_i].s.rcpt, 3) == 0,
		    "dialogue %d: reply \"%s\"", _i, a.reply);
}
END_TEST

/*
 * A server that answers nothing from a stage on (NULL): the probe ends at
 * its own limit (STALL_MS, "time limit reached"), unknown, although every
 * later stage would have said 250; it closes the connection while the
 * server still waits (the server's stall ends by EOF, not by WAIT_MS).
 */
static const struct {
	struct script		 s;
	const char		*log;		/* the verbs the server saw */
} stalls[] = {
	{ { NULL, "250 ok", "250 ok", "250 ok", "250 ok", 0, 0, "", 0, 0 },
	    "" },
	{ { "220 ok", NULL, "250 ok", "250 ok", "250 ok", 0, 0, "", 0, 0 },
	    "EHLO" },
	{ { "220 ok", "250 ok", "250 ok", NULL, "250 ok", 0, 0, "", 0, 0 },
	    "EHLO MAIL" },
	{ { "220 ok", "250 ok", "250 ok", "250 ok", NULL, 0, 0, "", 0, 0 },
	    "EHLO MAIL RCPT" },
};

START_TEST(test_stall)
{
	struct script		s;
	struct callout_answer	a;

	s = stalls[_i].s;
	probe(&s, STALL_MS, &a);
	ck_assert_msg(a.status == RECIPIENT_UNKNOWN, "stall %d: status %d "
	    "(reply \"%s\")", _i, a.status, a.reply);
	ck_assert_msg(strcmp(a.reply, "time limit reached") == 0, "stall %d: "
	    "reply \"%s\"", _i, a.reply);
	ck_assert_msg(strcmp(s.log, stalls[_i].log) == 0, "stall %d: server "
	    "saw \"%s\", want \"%s\"", _i, s.log, stalls[_i].log);
	ck_assert_msg(!s.outlasted, "stall %d: the probe of %d ms waited "
	    "out the server's stall of %d ms", _i, STALL_MS, WAIT_MS);
}
END_TEST

/* the first hop defers RCPT, the second answers */
START_TEST(test_next_hop)
{
	struct script		s1, s2;
	struct callout_hop	h[2];
	struct callout_answer	a;
	char			want[64];

	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	s1.greet = s2.greet = "220 ok";
	s1.ehlo = s1.mail = s2.ehlo = s2.mail = "250 ok";
	s1.rcpt = "451 4.3.0 later";
	s2.rcpt = "550 5.1.1 unknown";
	server_start(&s1);
	server_start(&s2);
	hop_set(&h[0], s1.port);
	hop_set(&h[1], s2.port);
	callout_probe(h, 2, "front.test", "<bob@corp.test>", PROBE_MS, &a);
	server_join(&s1);
	server_join(&s2);
	ck_assert_int_eq(a.status, RECIPIENT_INVALID);
	snprintf(want, sizeof(want), "127.0.0.1:%u", s2.port);
	ck_assert_str_eq(a.hop, want);
	ck_assert_str_eq(s1.log, "EHLO MAIL RCPT QUIT");
	ck_assert_str_eq(s2.log, "EHLO MAIL RCPT QUIT");
}
END_TEST

START_TEST(test_reply_line)
{
	struct callout_reply	r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(callout_reply_line(&r, "250-a", 5), 0);
	ck_assert_int_eq(callout_reply_line(&r, "250-b", 5), 0);
	ck_assert_int_eq(callout_reply_line(&r, "250", 3), 1);
	ck_assert_int_eq(r.code, 250);
	ck_assert_str_eq(r.text, "250-a");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(callout_reply_line(&r, "550 no\001", 7), 1);
	ck_assert_str_eq(r.text, "550 no?");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(callout_reply_line(&r, "25", 2), -1);
	ck_assert_int_eq(callout_reply_line(&r, "2500", 4), -1);
	ck_assert_int_eq(callout_reply_line(&r, "150 x", 5), -1);
	ck_assert_int_eq(callout_reply_line(&r, "650 x", 5), -1);
	ck_assert_int_eq(callout_reply_line(&r, "2a0 x", 5), -1);
	ck_assert_int_eq(callout_reply_line(&r, "450-a", 5), 0);
	ck_assert_int_eq(callout_reply_line(&r, "250 b", 5), -1);
}
END_TEST

/*
 * The scripted DNS server: answers one MX query over TCP with nrr MX
 * records; the last one, preference 1, names "127.0.0.1"; the others,
 * preference 10, long names in .invalid.
 */
struct dns {
	int		lfd;
	unsigned	port;
	int		nrr;
	size_t		sent;		/* the answer's length */
	atomic_int	stop;		/* the test to the thread */
	pthread_t	thread;
};

static size_t
put_name(unsigned char *p, const char *dotted)
{
	const char	*label, *dot;
	size_t		 n = 0, l;

	for (label = dotted; *label != '\0'; label = dot + (*dot == '.')) {
		dot = strchr(label, '.');
		if (dot == NULL)
			dot = label + strlen(label);
		l = (size_t)(dot - label);
		p[n++] = (unsigned char)l;
		memcpy(p + n, label, l);
		n += l;
	}
	p[n++] = 0;
	return n;
}

/* dns_answer - the answer to the query q[0..qlen) (TCP framing) on fd */
static void
dns_answer(struct dns *d, int fd, const unsigned char *q, size_t qlen)
{
	unsigned char	*ans;
	char		 name[128];
	size_t		 n, rd;
	ssize_t		 r;
	int		 i;

	/* the question: its name, type and class (no EDNS record kept) */
	for (n = 2 + 12; n < qlen && q[n] != 0; n += 1 + q[n])
		;
	n += 1 + 4;
	if (n > qlen)
		return;
	ans = calloc(1, 70000);
	ck_assert_ptr_nonnull(ans);
	/* header: the query's id, QR RD RA, 1 question, nrr answers */
	memcpy(ans + 2, q + 2, n - 2);
	ans[2 + 2] = 0x81;
	ans[2 + 3] = 0x80;
	ans[2 + 6] = (unsigned char)(d->nrr >> 8);
	ans[2 + 7] = (unsigned char)d->nrr;
	ans[2 + 10] = ans[2 + 11] = 0;
	for (i = 0; i < d->nrr; i++) {
		ans[n++] = 0xc0;	/* the question's name */
		ans[n++] = 12;
		ans[n++] = 0;
		ans[n++] = ns_t_mx;
		ans[n++] = 0;
		ans[n++] = ns_c_in;
		memset(ans + n, 0, 3);
		ans[n + 3] = 60;	/* TTL */
		n += 4;
		if (i == d->nrr - 1)
			snprintf(name, sizeof(name), "127.0.0.1");
		else
			snprintf(name, sizeof(name), "mx%04d.%.50s.invalid", i,
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		rd = 2 + put_name(ans + n + 4, name);
		ans[n++] = (unsigned char)(rd >> 8);
		ans[n++] = (unsigned char)rd;
		ans[n++] = 0;
		ans[n++] = i == d->nrr - 1 ? 1 : 10;
		n += rd - 2;
	}
	ans[0] = (unsigned char)((n - 2) >> 8);
	ans[1] = (unsigned char)(n - 2);
	d->sent = n - 2;
	for (rd = 0; rd < n; rd += (size_t)r)
		if ((r = write(fd, ans + rd, n - rd)) <= 0)
			break;
	free(ans);
}

/* dns_main - answer every query of every connection until told to stop */
static void *
dns_main(void *arg)
{
	struct dns	*d = arg;
	unsigned char	 q[512];
	size_t		 qlen;
	ssize_t		 r;
	struct timespec	 t0, t;
	int		 fd;

	fd = -1;
	qlen = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (t = t0; !atomic_load(&d->stop) &&
	    t.tv_sec - t0.tv_sec < WAIT_MS / 1000;
	    clock_gettime(CLOCK_MONOTONIC, &t)) {
		if (fd == -1) {
			if (wait_fd(d->lfd, 10) == 0)
				fd = accept(d->lfd, NULL, NULL);
			continue;
		}
		if (wait_fd(fd, 10) == -1)
			continue;
		if ((r = read(fd, q + qlen, sizeof(q) - qlen)) <= 0) {
			close(fd);
			fd = -1;
			qlen = 0;
			continue;
		}
		qlen += (size_t)r;
		if (qlen >= 2 + 12 && qlen >= 2 + (size_t)(q[0] << 8 | q[1])) {
			dns_answer(d, fd, q, qlen);
			qlen = 0;
		}
	}
	if (fd != -1)
		close(fd);
	return NULL;
}

/* An MX answer of 65000 octets: the last, lowest preference, is found. */
START_TEST(test_mx_large)
{
	struct script		s;
	struct dns		d;
	struct callout_hop	h;
	struct callout_answer	a;
	char			want[64];

	memset(&s, 0, sizeof(s));
	s.greet = "220 ok";
	s.ehlo = s.mail = "250 ok";
	s.rcpt = "550 5.1.1 unknown";
	memset(&d, 0, sizeof(d));
	d.nrr = 800;			/* 81 octets each */
	d.lfd = unit_listen_loopback(4, &d.port);
	ck_assert_int_eq(res_init(), 0);
	_res.nscount = 1;
	_res.nsaddr_list[0].sin_family = AF_INET;
	_res.nsaddr_list[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	_res.nsaddr_list[0].sin_port = htons((unsigned short)d.port);
	_res.options |= RES_USEVC;	/* TCP: no 512-octet UDP limit */
	_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	_res.retry = 1;
	_res.retrans = 2;
	ck_assert_int_eq(pthread_create(&d.thread, NULL, dns_main, &d), 0);
	server_start(&s);
	memset(&h, 0, sizeof(h));
	snprintf(h.host, sizeof(h.host), "big.test");
	h.port = s.port;
	h.mx = 1;
	callout_probe(&h, 1, "front.test", "<bob@big.test>", PROBE_MS, &a);
	atomic_store(&d.stop, 1);
	pthread_join(d.thread, NULL);
	close(d.lfd);
	/* the server takes no connection when the lookup failed */
	server_join(&s);
	ck_assert_uint_gt(d.sent, 64000);
	snprintf(want, sizeof(want), "127.0.0.1:%u", s.port);
	ck_assert_msg(a.status == RECIPIENT_INVALID, "status %d, hop %s, "
	    "reply \"%s\"", a.status, a.hop, a.reply);
	ck_assert_str_eq(a.hop, want);
}
END_TEST

/* A name server that reads queries and answers none: how many it read. */
struct silent {
	int		fd;
	unsigned	port;
	int		queries;
	atomic_int	stop;		/* the test to the thread */
	pthread_t	thread;
};

static void *
silent_main(void *arg)
{
	struct silent	*d = arg;
	unsigned char	 q[512];

	while (!atomic_load(&d->stop))
		if (wait_fd(d->fd, 10) == 0 &&
		    recv(d->fd, q, sizeof(q), 0) > 0)
			d->queries++;
	return NULL;
}

START_TEST(test_dns_silent)
{
	struct silent		d;
	struct sockaddr_in	sin;
	socklen_t		len;
	struct callout_hop	h[3];
	struct callout_answer	a;

	memset(&d, 0, sizeof(d));
	d.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(d.fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(d.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	len = sizeof(sin);
	ck_assert_int_eq(getsockname(d.fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(res_init(), 0);
	_res.nscount = 1;
	_res.nsaddr_list[0] = sin;
	_res.options &= ~(unsigned long)(RES_USEVC | RES_DNSRCH |
	    RES_DEFNAMES);
	_res.retry = 3;			/* a patient resolver: 9 s a name */
	_res.retrans = 3;
	ck_assert_int_eq(pthread_create(&d.thread, NULL, silent_main, &d), 0);
	memset(h, 0, sizeof(h));
	snprintf(h[0].host, sizeof(h[0].host), "silent.test");
	snprintf(h[1].host, sizeof(h[1].host), "other.test");
	snprintf(h[2].host, sizeof(h[2].host), "mx.other.test");
	h[0].mx = h[1].mx = 1;
	h[0].port = h[1].port = h[2].port = 25;
	callout_probe(h, 3, "front.test", "<bob@silent.test>", SILENT_MS,
	    &a);
	atomic_store(&d.stop, 1);
	pthread_join(d.thread, NULL);
	close(d.fd);
	ck_assert_msg(a.status == RECIPIENT_UNKNOWN, "status %d, hop %s, "
	    "reply \"%s\"", a.status, a.hop, a.reply);
	ck_assert_msg(d.queries == 1, "the name server saw %d queries, "
	    "want 1 (reply \"%s\")", d.queries, a.reply);
	ck_assert_str_eq(a.reply, "time limit reached");
	ck_assert_int_eq(_res.retry, 3);
	ck_assert_int_eq(_res.retrans, 3);
}
END_TEST

START_TEST(test_mx_parse)
{
	unsigned char		 buf[512];
	struct callout_mx	 mx[4];
	size_t			 n;

	memset(buf, 0, sizeof(buf));
	buf[5] = 1;			/* one question */
	buf[7] = 2;			/* two answers */
	n = 12 + put_name(buf + 12, "x.test");
	buf[n + 1] = ns_t_mx;
	buf[n + 3] = ns_c_in;
	n += 4;
	/* pref 20 b.x.test, then pref 5 a.x.test */
	buf[n++] = 0xc0; buf[n++] = 12; buf[n++] = 0; buf[n++] = ns_t_mx;
	buf[n++] = 0; buf[n++] = ns_c_in; n += 4;
	buf[n++] = 0; buf[n++] = 2 + 4;
	buf[n++] = 0; buf[n++] = 20; buf[n++] = 1; buf[n++] = 'b';
	buf[n++] = 0xc0; buf[n++] = 12;
	buf[n++] = 0xc0; buf[n++] = 12; buf[n++] = 0; buf[n++] = ns_t_mx;
	buf[n++] = 0; buf[n++] = ns_c_in; n += 4;
	buf[n++] = 0; buf[n++] = 2 + 4;
	buf[n++] = 0; buf[n++] = 5; buf[n++] = 1; buf[n++] = 'a';
	buf[n++] = 0xc0; buf[n++] = 12;
	ck_assert_int_eq(callout_mx_parse(buf, n, mx, 4), 2);
	ck_assert_str_eq(mx[0].host, "a.x.test");
	ck_assert_uint_eq(mx[0].pref, 5);
	ck_assert_str_eq(mx[1].host, "b.x.test");
	ck_assert_int_eq(callout_mx_parse(buf, n, mx, 1), 1);
	/* cut short: malformed */
	ck_assert_int_eq(callout_mx_parse(buf, n - 3, mx, 4), -1);
	ck_assert_int_eq(callout_mx_parse(buf, 5, mx, 4), -1);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("callout");
	tc = tcase_create("callout");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_dialogue, 0,
	    (int)(sizeof(dialogues) / sizeof(dialogues[0])));
	tcase_add_loop_test(tc, test_stall, 0,
	    sizeof(stalls) / sizeof(stalls[0]));
	tcase_add_test(tc, test_next_hop);
	tcase_add_test(tc, test_reply_line);
	tcase_add_test(tc, test_mx_large);
	tcase_add_test(tc, test_dns_silent);
	tcase_add_test(tc, test_mx_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
