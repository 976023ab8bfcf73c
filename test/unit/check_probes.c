/*
 * check_probes - the callout bounds of milter/verify.c, one client at a time
 *
 * verify_recipient() is called from threads of the test as from milter
 * threads, with verify.max_probes 4 and verify.max_probes_per_client 2,
 * for a "verify" rule whose smart host is a listener of the test
 * (loopback, a port the kernel picks) that accepts every connection and
 * answers nothing, so each callout runs until verify.timeout.  Five
 * distinct addresses of one client at once: exactly two callouts reach
 * the listener, the three others are answered at once, unknown, "too
 * many callouts for this client" (counted busy); then a second client's
 * RCPT, while those two still run, gets a callout of its own.  Without
 * the per-client bound the first client takes four callouts (all of
 * max_probes) and the second client is refused.
 *
 * The test waits for events: the listener's accept count and the RCPTs
 * answered, each wait bounded by twice verify.timeout (a failure, not a
 * hang).  The metrics module is replaced by counters of the test.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "testutil.h"

#include "../../milter/metrics.h"
#include "../../milter/verify.h"

#define TIMEOUT_S	5	/* verify.timeout */
#define WAIT_S		(2 * TIMEOUT_S)	/* any wait for an event */
#define STORM		5	/* the first client's addresses */
#define PER_CLIENT	"too many callouts for this client"

/* The metrics module of the daemon, as counters of the test. */
static atomic_ulong counters[MC_COUNT];

void
metrics_add(enum metrics_counter c)
{
	atomic_fetch_add(&counters[c], 1);
}

uint64_t
metrics_get(enum metrics_counter c)
{
	return atomic_load(&counters[c]);
}

/* What the test waits for, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int accepted;		/* connections the listener took */
static int answered;		/* RCPTs verify_recipient() returned */
static int stop;

/* The listener: accepts, counts, keeps every connection open, silent. */
static int lfd;
static unsigned port;

static void *
listener_main(void *arg)
{
	struct pollfd	p;
	int		fds[16], n, i, fd;

	(void)arg;
	n = 0;
	for (;;) {
		pthread_mutex_lock(&lock);
		if (stop) {
			pthread_mutex_unlock(&lock);
			break;
		}
		pthread_mutex_unlock(&lock);
		p.fd = lfd;
		p.events = POLLIN;
		if (poll(&p, 1, 50) != 1)
			continue;
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		if (n < (int)(sizeof(fds) / sizeof(fds[0])))
			fds[n++] = fd;
		else
			close(fd);
		pthread_mutex_lock(&lock);
		accepted++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	return NULL;
}

static void
listener_start(pthread_t *t)
{
	lfd = unit_listen_loopback(16, &port);
	ck_assert_int_eq(pthread_create(t, NULL, listener_main, NULL), 0);
}

/* One RCPT of one client, in a thread of its own. */
struct rcpt {
	const struct config	*config;
	struct client		 client;
	char			 addr[64];
	struct decision		 d;
	char			 reason[128];
	pthread_t		 thread;
};

static void *
rcpt_main(void *arg)
{
	struct rcpt	*r = arg;

	decide_rcpt(r->config, &r->client, r->addr, strlen(r->addr), NULL,
	    &r->d);
	if (r->d.verify)
		verify_recipient(r->config, &r->client, r->addr, &r->d);
	snprintf(r->reason, sizeof(r->reason), "%s", decision_reason(&r->d));
	pthread_mutex_lock(&lock);
	answered++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void
rcpt_start(struct rcpt *r, const struct config *config, const char *ip,
    int n)
{
	memset(r, 0, sizeof(*r));
	r->config = config;
	r->client.has_addr = 1;
	r->client.addr.family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, ip, r->client.addr.bytes), 1);
	snprintf(r->addr, sizeof(r->addr), "<user%d@corp.test>", n);
	ck_assert_int_eq(pthread_create(&r->thread, NULL, rcpt_main, r), 0);
}

/* wait_for - until accepted + answered reach n: 0, or -1 after WAIT_S */
static int
wait_for(int n)
{
	struct timespec	ts;
	int		rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_S;
	pthread_mutex_lock(&lock);
	while (accepted + answered < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cond, &lock, &ts);
	rc = accepted + answered >= n ? 0 : -1;
	pthread_mutex_unlock(&lock);
	return rc;
}

START_TEST(test_per_client)
{
	char		 dir[] = "/tmp/check_probes.XXXXXX", text[1024];
	char		 cache[64];
	struct config	*config;
	struct rcpt	 a[STORM], b;
	pthread_t	 listener;
	int		 i, refused, a_accepted;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cache, sizeof(cache), "%s/verify.lmdb", dir);
	listener_start(&listener);
	snprintf(text, sizeof(text),
	    "policy = { unmatched = \"reject\"; };\n"
	    "verify = { cache = \"%s\"; timeout = \"%ds\";\n"
	    "  max_probes = 4; max_probes_per_client = 2;\n"
	    "  helo_name = \"front.test\"; };\n"
	    "domains = (\n"
	    "  { match = \"corp.test\"; recipients = \"verify\";\n"
	    "    smarthost = \"[127.0.0.1]:%u\"; }\n"
	    ");\n", cache, TIMEOUT_S, port);
	config = unit_config_load(text);

	/* one client, five addresses at once: each gets a callout or not */
	for (i = 0; i < STORM; i++)
		rcpt_start(&a[i], config, "192.0.2.1", i);
	ck_assert_msg(wait_for(STORM) == 0, "after %d s: %d callouts, %d "
	    "RCPTs answered", WAIT_S, accepted, answered);
	pthread_mutex_lock(&lock);
	a_accepted = accepted;
	pthread_mutex_unlock(&lock);

	/* another client while those callouts run: one of its own */
	rcpt_start(&b, config, "192.0.2.2", 99);
	ck_assert_msg(wait_for(STORM + 1) == 0, "the second client: neither "
	    "a callout nor an answer in %d s", WAIT_S);

	for (i = 0; i < STORM; i++)
		pthread_join(a[i].thread, NULL);
	pthread_join(b.thread, NULL);
	pthread_mutex_lock(&lock);
	stop = 1;
	pthread_mutex_unlock(&lock);
	pthread_join(listener, NULL);
	close(lfd);

	for (refused = i = 0; i < STORM; i++) {
		ck_assert_int_eq(a[i].d.outcome, OUTCOME_TEMPFAIL);
		if (strcmp(a[i].reason, PER_CLIENT) == 0)
			refused++;
		else
			ck_assert_msg(strstr(a[i].reason, "too many") == NULL,
			    "RCPT %d: \"%s\"", i, a[i].reason);
	}
	ck_assert_msg(a_accepted == 2, "the first client started %d "
	    "callouts, want 2", a_accepted);
	ck_assert_msg(refused == STORM - 2, "%d of the first client's RCPTs "
	    "refused as \"" PER_CLIENT "\", want %d", refused, STORM - 2);
	ck_assert_msg(strstr(b.reason, "too many") == NULL, "the second "
	    "client: \"%s\"", b.reason);
	ck_assert_int_eq(accepted, 3);
	ck_assert_uint_eq(metrics_get(MC_VERIFY_PROBES), 3);
	ck_assert_uint_eq(metrics_get(MC_VERIFY_BUSY), STORM - 2);
	config_free(config);
	unlink(cache);
	snprintf(text, sizeof(text), "%s-lock", cache);
	unlink(text);
	rmdir(dir);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("probes");
	tc = tcase_create("probes");
	tcase_set_timeout(tc, 4 * WAIT_S);
	tcase_add_test(tc, test_per_client);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
