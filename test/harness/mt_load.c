/*
 * mt_load - load mode of milter-test (see mt_load.h)
 *
 * Each worker thread owns one connection at a time.  Recipients are handed
 * out from a shared atomic counter, a message's worth at a time, so the
 * total is exact whatever the number of threads.  Macros are sent per
 * stage like Postfix's defaults (milter_connect_macros etc., reduced to
 * what a test client knows), or only the ones the filter asked for:
 *	connect: j {daemon_name} v
 *	mail:    {mail_addr} and {auth_authen} {auth_type} with --auth
 *	rcpt:    {rcpt_addr}
 * The latency of a RCPT is the time from sending its packets to reading
 * the final reply; replies the filter does not send (no-reply flag) are
 * counted but not timed.  SIGUSR1 ends the run as --duration-max does
 * (a test stops the load once the event it waited for was seen).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfdef.h>

#include "mt_conn.h"
#include "mt_expect.h"
#include "mt_load.h"
#include "mt_pack.h"

#define ADDR_MAX	1024

static volatile sig_atomic_t load_stop;	/* SIGUSR1: time is up */

struct shared {
	const struct mt_load_opts *o;
	atomic_long	 next;		/* recipients handed out */
	long		 deadline_ms;
	char		**rcpts;	/* from -f, or NULL */
	size_t		 nrcpts;
	struct mt_expect exp;
	int		 has_expect;
};

struct worker {
	pthread_t	 tid;
	struct shared	*sh;
	struct mt_conn	 conn;
	struct mt_macros m_conn;
	struct mt_macros m_mail;
	struct mt_macros m_rcpt;
	long		 kinds[MT_KIND_COUNT];	/* RCPT outcomes */
	long		 rcpts;
	long		 msgs;
	long		 sessions;
	long		 unexpected;	/* RCPT replies not meeting --expect */
	long		 stage_fail;	/* connect/mail/eom refused */
	long		 errors;	/* sessions lost */
	char		 err[300];
	uint32_t	*lat;
	size_t		 nlat;
	size_t		 lat_size;
};

static long
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

void
mt_load_defaults(struct mt_load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connections = 4;
	o->recipients = 1000;
	o->per_message = 5;
	o->per_session = 1;
	o->client = "203.0.113.1";
	o->duration_max = 600;
	o->timeout_ms = 10000;
}

static void
free_rcpts(struct shared *sh)
{
	size_t	i;

	for (i = 0; i < sh->nrcpts; i++)
		free(sh->rcpts[i]);
	free(sh->rcpts);
}

/* One address a line, with or without <>; blank and # lines skipped. */
static int
read_rcpts(struct shared *sh, const char *file)
{
	FILE	 *fp;
	char	  line[ADDR_MAX], **p;
	size_t	  size = 0, len;

	if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, "milter-test: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		len = strspn(line, " \t");
		memmove(line, line + len, strlen(line + len) + 1);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (sh->nrcpts == size) {
			size = size ? size * 2 : 1024;
			if ((p = realloc(sh->rcpts, size * sizeof(*p))) == NULL)
				goto nomem;
			sh->rcpts = p;
		}
		len = strlen(line) + 3;
		if ((sh->rcpts[sh->nrcpts] = malloc(len)) == NULL)
			goto nomem;
		snprintf(sh->rcpts[sh->nrcpts++], len, line[0] == '<' ?
		    "%s" : "<%s>", line);
	}
	fclose(fp);
	if (sh->nrcpts == 0) {
		fprintf(stderr, "milter-test: %s: no recipients\n", file);
		return -1;
	}
	return 0;
nomem:
	fclose(fp);
	fprintf(stderr, "milter-test: out of memory\n");
	return -1;
}

static int
lat_add(struct worker *w, long us)
{
	uint32_t	*p;
	size_t		 size;

	if (w->nlat == w->lat_size) {
		size = w->lat_size ? w->lat_size * 2 : 4096;
		if ((p = realloc(w->lat, size * sizeof(*p))) == NULL)
			return -1;
		w->lat = p;
		w->lat_size = size;
	}
	w->lat[w->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	return 0;
}

static int
fail(struct worker *w, const char *what)
{
	if (w->err[0] == '\0')
		snprintf(w->err, sizeof(w->err), "%s: %s", what, w->conn.err);
	w->errors++;
	return -1;
}

/* Outcomes after which an MTA goes on with the message. */
static int
goes_on(enum mt_kind k)
{
	return k == MT_CONTINUE || k == MT_ACCEPT || k == MT_NOREPLY ||
	    k == MT_SKIPPED || k == MT_SKIP;
}

/*
 * One RCPT.  *accepted counts recipients not refused; *decided is set when
 * the filter accepted or discarded the whole message.
 */
static int
send_rcpt(struct worker *w, const char *addr, int *accepted, int *decided)
{
	struct shared	*sh = w->sh;
	struct mt_reply	 rep;
	unsigned char	 buf[ADDR_MAX + 2];
	char		*argv[1];
	size_t		 len;
	long		 t0, t1;

	argv[0] = (char *)addr;
	len = mt_pack_strings(buf, sizeof(buf), argv, 1);
	if (mt_macros_set(&w->m_rcpt, "{rcpt_addr}", addr) < 0) {
		snprintf(w->conn.err, sizeof(w->conn.err), "out of memory");
		return fail(w, "RCPT");
	}
	t0 = now_us();
	if (mt_conn_event(&w->conn, SMFIC_RCPT, &w->m_rcpt, buf, len,
	    &rep) < 0)
		return fail(w, "RCPT");
	t1 = now_us();
	if (rep.kind != MT_NOREPLY && rep.kind != MT_SKIPPED &&
	    lat_add(w, t1 - t0) < 0) {
		snprintf(w->conn.err, sizeof(w->conn.err), "out of memory");
		return fail(w, "RCPT");
	}
	w->kinds[rep.kind]++;
	w->rcpts++;
	if (sh->has_expect && !mt_expect_match(&sh->exp, &rep))
		w->unexpected++;
	if (goes_on(rep.kind) && rep.kind != MT_SKIP)
		(*accepted)++;
	if (rep.kind == MT_ACCEPT || rep.kind == MT_DISCARD)
		*decided = 1;
	return 0;
}

/* A recipient the MTA would not show the filter: the message is decided. */
static void
count_unsent(struct worker *w)
{
	struct mt_reply	rep;

	memset(&rep, 0, sizeof(rep));
	rep.kind = MT_UNSENT;
	w->kinds[MT_UNSENT]++;
	w->rcpts++;
	if (w->sh->has_expect && !mt_expect_match(&w->sh->exp, &rep))
		w->unexpected++;
}

static int
send_message_end(struct worker *w)
{
	static const unsigned char hdr[] = "Subject\0milter-test load";
	static const char body[] = "milter-test load\r\n";
	struct mt_reply	rep;

	if (mt_conn_event(&w->conn, SMFIC_DATA, NULL, NULL, 0, &rep) < 0)
		return fail(w, "DATA");
	if (goes_on(rep.kind) && mt_conn_event(&w->conn, SMFIC_HEADER, NULL,
	    hdr, sizeof(hdr), &rep) < 0)
		return fail(w, "HEADER");
	if (goes_on(rep.kind) && mt_conn_event(&w->conn, SMFIC_EOH, NULL,
	    NULL, 0, &rep) < 0)
		return fail(w, "EOH");
	if (goes_on(rep.kind) && mt_conn_event(&w->conn, SMFIC_BODY, NULL,
	    body, sizeof(body) - 1, &rep) < 0)
		return fail(w, "BODY");
	if (goes_on(rep.kind) && mt_conn_event(&w->conn, SMFIC_BODYEOB, NULL,
	    NULL, 0, &rep) < 0)
		return fail(w, "EOM");
	if (!goes_on(rep.kind))
		w->stage_fail++;
	return 0;
}

/*
 * Take the recipients of one message: 1 with *start and *n set, 0 when
 * none are left or time is up.
 */
static int
claim(struct worker *w, long *start, long *n)
{
	struct shared	*sh = w->sh;

	if (load_stop || now_us() / 1000 >= sh->deadline_ms)
		return 0;
	*start = atomic_fetch_add(&sh->next, sh->o->per_message);
	if (*start >= sh->o->recipients)
		return 0;
	*n = sh->o->recipients - *start;
	if (*n > sh->o->per_message)
		*n = sh->o->per_message;
	return 1;
}

/* One message with recipients START..START+N-1: 0 sent, -1 error. */
static int
send_message(struct worker *w, long start, long n)
{
	struct shared	*sh = w->sh;
	struct mt_reply	 rep;
	unsigned char	 buf[64];
	char		 addr[ADDR_MAX], *argv[1];
	long		 i;
	int		 accepted = 0, decided = 0;
	argv[0] = "<sender@example.net>";
	if (mt_conn_event(&w->conn, SMFIC_MAIL, &w->m_mail, buf,
	    mt_pack_strings(buf, sizeof(buf), argv, 1), &rep) < 0)
		return fail(w, "MAIL");
	if (!goes_on(rep.kind)) {
		w->stage_fail++;
		if (mt_conn_abort(&w->conn, NULL) < 0)
			return fail(w, "ABORT");
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (decided) {
			count_unsent(w);
			continue;
		}
		if (sh->rcpts != NULL)
			snprintf(addr, sizeof(addr), "%s",
			    sh->rcpts[(size_t)(start + i) % sh->nrcpts]);
		else
			snprintf(addr, sizeof(addr), "<rcpt%ld@example.com>",
			    start + i);
		if (send_rcpt(w, addr, &accepted, &decided) < 0)
			return -1;
	}
	if (accepted > 0 && !decided) {
		if (send_message_end(w) < 0)
			return -1;
	} else if (mt_conn_abort(&w->conn, NULL) < 0)
		return fail(w, "ABORT");
	w->msgs++;
	return 0;
}

/* One session: 1 go on, 0 done, -1 error. */
static int
run_session(struct worker *w)
{
	const struct mt_load_opts *o = w->sh->o;
	struct mt_reply	 rep;
	unsigned char	 buf[512];
	size_t		 len;
	long		 start, n;
	int		 i, rc = 1;

	if (!claim(w, &start, &n))
		return 0;
	if (mt_conn_open(&w->conn, o->socket, o->timeout_ms, 0) < 0) {
		fail(w, o->socket);
		mt_conn_close(&w->conn);
		return -1;
	}
	w->sessions++;
	len = mt_pack_connect(buf, sizeof(buf), "client.example.net",
	    o->client, 40000);
	if (mt_conn_event(&w->conn, SMFIC_CONNECT, &w->m_conn, buf, len,
	    &rep) < 0) {
		fail(w, "CONNECT");
		mt_conn_close(&w->conn);
		return -1;
	}
	if (!goes_on(rep.kind)) {
		w->stage_fail++;
		rc = 0;
	}
	for (i = 0; rc == 1; ) {
		if (send_message(w, start, n) < 0) {
			rc = -1;
			break;
		}
		if (++i == o->per_session)
			break;
		rc = claim(w, &start, &n);
	}
	if (rc < 0) {
		mt_conn_close(&w->conn);
		return -1;
	}
	if (mt_conn_quit(&w->conn) < 0)
		return fail(w, "QUIT");
	return rc;
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	while (run_session(w) > 0)
		continue;
	return NULL;
}

/* --macro STAGE:NAME=VALUE */
static int
extra_macro(struct worker *w, const char *spec)
{
	struct mt_macros *m;
	const char	 *colon, *eq;
	char		  name[128];
	size_t		  len;

	if ((colon = strchr(spec, ':')) == NULL ||
	    (eq = strchr(colon, '=')) == NULL ||
	    (len = (size_t)(eq - colon - 1)) == 0 || len >= sizeof(name))
		return -1;
	if (strncmp(spec, "connect:", 8) == 0)
		m = &w->m_conn;
	else if (strncmp(spec, "mail:", 5) == 0)
		m = &w->m_mail;
	else if (strncmp(spec, "rcpt:", 5) == 0)
		m = &w->m_rcpt;
	else
		return -1;
	memcpy(name, colon + 1, len);
	name[len] = '\0';
	return mt_macros_set(m, name, eq + 1);
}

static int
set_macros(struct worker *w, const struct mt_load_opts *o)
{
	int	i;

	if (mt_macros_set(&w->m_conn, "j", "mx.example.org") < 0 ||
	    mt_macros_set(&w->m_conn, "{daemon_name}", "milter-test") < 0 ||
	    mt_macros_set(&w->m_conn, "v", "milter-test") < 0 ||
	    mt_macros_set(&w->m_mail, "{mail_addr}", "sender@example.net") < 0)
		return -1;
	if (o->auth != NULL &&
	    (mt_macros_set(&w->m_mail, "{auth_type}", "PLAIN") < 0 ||
	    mt_macros_set(&w->m_mail, "{auth_authen}", o->auth) < 0))
		return -1;
	for (i = 0; i < o->nmacros; i++)
		if (extra_macro(w, o->macros[i]) < 0)
			return -1;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint32_t
percentile(const uint32_t *v, size_t n, int p)
{
	size_t	rank;

	if (n == 0)
		return 0;
	rank = (n * (size_t)p + 99) / 100;
	return v[rank > 0 ? rank - 1 : 0];
}

struct totals {
	long	 kinds[MT_KIND_COUNT];
	long	 rcpts, msgs, sessions, unexpected, stage_fail, errors;
	uint32_t *lat;
	size_t	 nlat;
	double	 secs;
};

static int
merge(struct totals *t, struct worker *ws, int n)
{
	size_t	total = 0;
	int	i, k;

	for (i = 0; i < n; i++)
		total += ws[i].nlat;
	if ((t->lat = malloc((total ? total : 1) * sizeof(uint32_t))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < MT_KIND_COUNT; k++)
			t->kinds[k] += ws[i].kinds[k];
		t->rcpts += ws[i].rcpts;
		t->msgs += ws[i].msgs;
		t->sessions += ws[i].sessions;
		t->unexpected += ws[i].unexpected;
		t->stage_fail += ws[i].stage_fail;
		t->errors += ws[i].errors;
		if (ws[i].nlat > 0)
			memcpy(t->lat + t->nlat, ws[i].lat,
			    ws[i].nlat * sizeof(uint32_t));
		t->nlat += ws[i].nlat;
		if (ws[i].err[0] != '\0')
			fprintf(stderr, "milter-test: connection %d: %s\n", i,
			    ws[i].err);
	}
	qsort(t->lat, t->nlat, sizeof(uint32_t), cmp_u32);
	return 0;
}

static void
report(const struct mt_load_opts *o, const struct totals *t)
{
	double	rps = t->secs > 0 ? t->rcpts / t->secs : 0;
	double	mps = t->secs > 0 ? t->msgs / t->secs : 0;
	int	k;

	printf("milter-test load: %d connections, %ld recipients sent "
	    "(%d/message, %d messages/session), %.3f s\n", o->connections,
	    t->rcpts, o->per_message, o->per_session, t->secs);
	printf("  recipients/s %.1f  messages/s %.1f\n", rps, mps);
	printf("  RCPT latency p50 %u us  p99 %u us  max %u us (%zu timed)\n",
	    percentile(t->lat, t->nlat, 50), percentile(t->lat, t->nlat, 99),
	    t->nlat ? t->lat[t->nlat - 1] : 0, t->nlat);
	printf("  RCPT replies");
	for (k = 0; k < MT_KIND_COUNT; k++)
		if (t->kinds[k] > 0)
			printf(" %s=%ld", mt_kind_name(k), t->kinds[k]);
	printf("\n  sessions %ld  errors %ld  refused stages %ld  "
	    "unexpected %ld\n", t->sessions, t->errors, t->stage_fail,
	    t->unexpected);
	if (o->json) {
		printf("{\"connections\":%d,\"rcpts\":%ld,\"msgs\":%ld,"
		    "\"sessions\":%ld,\"seconds\":%.6f,\"rcpts_per_s\":%.1f,"
		    "\"msgs_per_s\":%.1f,\"p50_us\":%u,\"p99_us\":%u,"
		    "\"max_us\":%u", o->connections, t->rcpts, t->msgs,
		    t->sessions, t->secs, rps, mps,
		    percentile(t->lat, t->nlat, 50),
		    percentile(t->lat, t->nlat, 99),
		    t->nlat ? t->lat[t->nlat - 1] : 0);
		for (k = 0; k < MT_KIND_COUNT; k++)
			printf(",\"%s\":%ld", mt_kind_name(k), t->kinds[k]);
		printf(",\"errors\":%ld,\"stage_fail\":%ld,\"unexpected\":%ld}"
		    "\n", t->errors, t->stage_fail, t->unexpected);
		return;
	}
	printf("rcpts=%ld msgs=%ld sessions=%ld seconds=%.6f rcpts_per_s=%.1f"
	    " msgs_per_s=%.1f p50_us=%u p99_us=%u max_us=%u", t->rcpts,
	    t->msgs, t->sessions, t->secs, rps, mps,
	    percentile(t->lat, t->nlat, 50), percentile(t->lat, t->nlat, 99),
	    t->nlat ? t->lat[t->nlat - 1] : 0);
	for (k = 0; k < MT_KIND_COUNT; k++)
		printf(" %s=%ld", mt_kind_name(k), t->kinds[k]);
	printf(" errors=%ld stage_fail=%ld unexpected=%ld\n", t->errors,
	    t->stage_fail, t->unexpected);
}

static int
parse_expect(struct shared *sh, const char *spec)
{
	char	 buf[MT_TEXT_MAX], *argv[64], err[256], *p;
	int	 argc = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (p = strtok(buf, " \t"); p != NULL && argc < 64;
	    p = strtok(NULL, " \t"))
		argv[argc++] = p;
	if (mt_expect_parse(&sh->exp, argv, argc, err, sizeof(err)) < 0) {
		fprintf(stderr, "milter-test: --expect: %s\n", err);
		return -1;
	}
	sh->has_expect = 1;
	return 0;
}

static int
start_workers(struct shared *sh, struct worker *ws, int n)
{
	int	i, rc;

	for (i = 0; i < n; i++) {
		ws[i].sh = sh;
		ws[i].conn.fd = -1;
		if (set_macros(&ws[i], sh->o) < 0) {
			fprintf(stderr, "milter-test: bad --macro (want "
			    "connect:|mail:|rcpt:NAME=VALUE) or too many\n");
			return i;
		}
		if ((rc = pthread_create(&ws[i].tid, NULL, worker_main,
		    &ws[i])) != 0) {
			fprintf(stderr, "milter-test: pthread_create: %s\n",
			    strerror(rc));
			return i;
		}
	}
	return n;
}

static int
run_workers(struct shared *sh, struct totals *t)
{
	struct worker	*ws;
	long		 t0;
	int		 i, started, n = sh->o->connections;

	if ((ws = calloc((size_t)n, sizeof(*ws))) == NULL) {
		fprintf(stderr, "milter-test: out of memory\n");
		return -1;
	}
	t0 = now_us();
	sh->deadline_ms = t0 / 1000 + (long)(sh->o->duration_max * 1000);
	started = start_workers(sh, ws, n);
	for (i = 0; i < started; i++)
		pthread_join(ws[i].tid, NULL);
	t->secs = (now_us() - t0) / 1e6;
	i = started == n ? merge(t, ws, n) : -1;
	for (n = 0; n < sh->o->connections; n++) {
		mt_macros_free(&ws[n].m_conn);
		mt_macros_free(&ws[n].m_mail);
		mt_macros_free(&ws[n].m_rcpt);
		free(ws[n].lat);
	}
	free(ws);
	return i;
}

/* load_on_usr1 - SIGUSR1: stop handing out recipients */
static void
load_on_usr1(int sig)
{
	(void)sig;
	load_stop = 1;
}

int
mt_load_run(const struct mt_load_opts *o)
{
	struct shared	sh;
	struct totals	t;
	struct sigaction sa;
	int		rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = load_on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	memset(&sh, 0, sizeof(sh));
	memset(&t, 0, sizeof(t));
	sh.o = o;
	atomic_init(&sh.next, 0);
	if ((o->expect != NULL && parse_expect(&sh, o->expect) < 0) ||
	    (o->rcpt_file != NULL && read_rcpts(&sh, o->rcpt_file) < 0)) {
		free_rcpts(&sh);
		return 2;
	}
	if (mt_pack_connect((unsigned char [512]){ 0 }, 512, "x", o->client,
	    0) == 0) {
		fprintf(stderr, "milter-test: -a: bad client address %s\n",
		    o->client);
		return 2;
	}
	rc = run_workers(&sh, &t);
	free_rcpts(&sh);
	if (rc < 0) {
		free(t.lat);
		return 2;
	}
	report(o, &t);
	free(t.lat);
	if (t.sessions == 0)
		return 2;
	if (t.errors > 0 || (sh.has_expect && (t.unexpected > 0 ||
	    t.stage_fail > 0)))
		return 1;
	return 0;
}
