/*
 * check_live - unit tests of milter/live.c (the reference-counted
 * configuration swap of the daemon)
 *
 * live.c is compiled into this test (it has no libmilter dependency);
 * config_free() and the log functions are replaced here, so the test
 * sees exactly which configurations are freed and when.  Tests: nothing
 * published yields NULL (the daemon then fails closed); a replace frees
 * the old configuration once its last reader let go, and not before;
 * under eight reader threads and a thousand replaces no reader ever sees
 * an older configuration after a newer one, none is freed while in use,
 * and every one is freed exactly once.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../milter/live.c"

#define MAX_CONFIGS	2048

static atomic_int freed[MAX_CONFIGS];	/* by generation */
static atomic_int in_use[MAX_CONFIGS];	/* readers holding it */
static atomic_int freed_in_use;		/* frees of a config in use */
static atomic_int log_calls;

void
log_warning(const char *fmt, ...)
{
	(void)fmt;
	atomic_fetch_add(&log_calls, 1);
}

void
log_error(const char *fmt, ...)
{
	(void)fmt;
	atomic_fetch_add(&log_calls, 1);
}

/* the generation lives in socket_mode: any int field would do */
void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	if (atomic_load(&in_use[c->socket_mode]) != 0)
		atomic_fetch_add(&freed_in_use, 1);
	atomic_fetch_add(&freed[c->socket_mode], 1);
	free(c);
}

static struct config *
config_gen(int gen)
{
	struct config *c;

	c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->socket_mode = gen;
	return c;
}

static void
reset(void)
{
	int	 i;

	for (i = 0; i < MAX_CONFIGS; i++) {
		atomic_store(&freed[i], 0);
		atomic_store(&in_use[i], 0);
	}
	atomic_store(&freed_in_use, 0);
}

START_TEST(test_nothing_published)
{
	ck_assert_ptr_null(live_acquire());
	live_release(NULL);
	live_shutdown();
	ck_assert_ptr_null(live_acquire());
}
END_TEST

struct holder {
	const struct config *config;
	atomic_int	 release;
};

static void *
holder_main(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = { 0, 1000000L };

	while (!atomic_load(&h->release))
		nanosleep(&ts, NULL);
	atomic_fetch_sub(&in_use[h->config->socket_mode], 1);
	live_release(h->config);
	return NULL;
}

START_TEST(test_replace_waits_for_reader)
{
	struct holder h;
	pthread_t tid;
	const struct config *c;
	struct timespec ts = { 0, 20000000L };

	reset();
	live_replace(config_gen(1));
	h.config = live_acquire();
	ck_assert_ptr_nonnull(h.config);
	ck_assert_int_eq(h.config->socket_mode, 1);
	atomic_fetch_add(&in_use[1], 1);
	atomic_store(&h.release, 0);
	ck_assert_int_eq(pthread_create(&tid, NULL, holder_main, &h), 0);
	nanosleep(&ts, NULL);
	/* tell the holder to let go while live_replace() drains */
	atomic_store(&h.release, 1);
	live_replace(config_gen(2));
	pthread_join(tid, NULL);
	ck_assert_int_eq(atomic_load(&freed[1]), 1);
	ck_assert_int_eq(atomic_load(&freed_in_use), 0);
	c = live_acquire();
	ck_assert_int_eq(c->socket_mode, 2);
	ck_assert_int_eq(atomic_load(&freed[2]), 0);
	live_release(c);
	live_shutdown();
	ck_assert_int_eq(atomic_load(&freed[2]), 1);
	ck_assert_ptr_null(live_acquire());
}
END_TEST

START_TEST(test_old_reader_keeps_config)
{
	const struct config *old, *c;

	reset();
	live_replace(config_gen(3));
	old = live_acquire();
	atomic_fetch_add(&in_use[3], 1);
	/* nothing else runs: replace gives up draining after a while */
	live_replace(config_gen(4));
	ck_assert_int_eq(atomic_load(&freed[3]), 0);
	ck_assert_int_eq(old->socket_mode, 3);
	c = live_acquire();
	ck_assert_int_eq(c->socket_mode, 4);
	live_release(c);
	atomic_fetch_sub(&in_use[3], 1);
	live_release(old);	/* the last reader frees it */
	ck_assert_int_eq(atomic_load(&freed[3]), 1);
	live_shutdown();
	ck_assert_int_eq(atomic_load(&freed[4]), 1);
	ck_assert_int_eq(atomic_load(&freed_in_use), 0);
}
END_TEST

static atomic_int stress_stop;
static atomic_int stress_bad;

static void *
reader_main(void *arg)
{
	const struct config *c;
	int	 last = 0, gen;
	long	 n = 0;

	(void)arg;
	while (!atomic_load(&stress_stop) || n < 1000) {
		c = live_acquire();
		if (c == NULL) {
			atomic_fetch_add(&stress_bad, 1);
			continue;
		}
		gen = c->socket_mode;
		atomic_fetch_add(&in_use[gen], 1);
		if (gen < last || atomic_load(&freed[gen]) != 0)
			atomic_fetch_add(&stress_bad, 1);
		last = gen;
		atomic_fetch_sub(&in_use[gen], 1);
		live_release(c);
		n++;
	}
	return NULL;
}

START_TEST(test_stress)
{
	pthread_t tids[8];
	int	 i, gens = 1000;

	reset();
	atomic_store(&stress_stop, 0);
	atomic_store(&stress_bad, 0);
	live_replace(config_gen(1));
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&tids[i], NULL, reader_main,
		    NULL), 0);
	for (i = 2; i <= gens; i++)
		live_replace(config_gen(i));
	atomic_store(&stress_stop, 1);
	for (i = 0; i < 8; i++)
		pthread_join(tids[i], NULL);
	live_shutdown();
	ck_assert_int_eq(atomic_load(&stress_bad), 0);
	ck_assert_int_eq(atomic_load(&freed_in_use), 0);
	for (i = 1; i <= gens; i++)
		ck_assert_msg(atomic_load(&freed[i]) == 1,
		    "generation %d freed %d times", i,
		    atomic_load(&freed[i]));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("live");
	TCase	*tc = tcase_create("live");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_nothing_published);
	tcase_add_test(tc, test_replace_waits_for_reader);
	tcase_add_test(tc, test_old_reader_keeps_config);
	tcase_add_test(tc, test_stress);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
