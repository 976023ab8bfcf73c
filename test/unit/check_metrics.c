/*
 * check_metrics - unit tests of milter/metrics.c (the shared counters and
 * their Prometheus text exposition)
 *
 * metrics.c is compiled into this test (it has no libmilter dependency);
 * the log function is replaced here.  Tests: label values are escaped;
 * decisions are counted by outcome and reason, unknown reasons as
 * "other", syntax errors as "bad address syntax"; rule hits count the
 * inline rules of the configuration in use only, and a rule a reload
 * removed is no longer exported; histogram buckets are cumulative; a
 * failed reload moves its counter and not the success timestamp;
 * /healthz needs a loaded rule set and a serving worker; counts made by
 * a forked child (a worker) are seen by the parent (the supervisor).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../milter/metrics.c"
#include "testutil.h"

void
log_warning(const char *fmt, ...)
{
	(void)fmt;
}

/* the exposition, in a buffer the caller frees */
static char *
exposition(void)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(metrics_format(fp), 0);
	fclose(fp);
	return buf;
}

static void
has(const char *text, const char *line)
{
	char	 want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	ck_assert_msg(strstr(text, want) != NULL, "no line \"%s\"", line);
}

static void
hasnt(const char *text, const char *part)
{
	ck_assert_msg(strstr(text, part) == NULL, "\"%s\" is there", part);
}

static void
decision(int outcome, const char *reason, const char *pattern,
    const char *rcode)
{
	struct decision d;

	memset(&d, 0, sizeof(d));
	d.outcome = outcome;
	d.reason = reason;
	snprintf(d.pattern, sizeof(d.pattern), "%s", pattern);
	if (rcode != NULL) {
		snprintf(d.rcode, sizeof(d.rcode), "%s", rcode);
		snprintf(d.xcode, sizeof(d.xcode), "5.1.3");
	}
	metrics_decision(&d, metrics_now());
}

START_TEST(test_escape)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;

	fp = open_memstream(&buf, &len);
	label(fp, "a\"b\\c\nd");
	fclose(fp);
	ck_assert_str_eq(buf, "a\\\"b\\\\c\\nd");
	free(buf);
}
END_TEST

START_TEST(test_decisions)
{
	char	*t;

	decision(OUTCOME_ACCEPT, "relay rule", "", NULL);
	decision(OUTCOME_ACCEPT, "relay rule", "", NULL);
	decision(OUTCOME_TEMPFAIL, "a reason nobody knows", "", NULL);
	decision(OUTCOME_REJECT, "unbalanced quote", "", "501");
	t = exposition();
	has(t, "milter_relay_rcpt_decisions_total{outcome=\"accept\","
	    "reason=\"relay rule\"} 2");
	has(t, "milter_relay_rcpt_decisions_total{outcome=\"tempfail\","
	    "reason=\"other\"} 1");
	has(t, "milter_relay_rcpt_decisions_total{outcome=\"reject\","
	    "reason=\"bad address syntax\"} 1");
	has(t, "milter_relay_rcpt_decision_duration_seconds_count 4");
	ck_assert_uint_eq(metrics_decisions(OUTCOME_ACCEPT), 2);
	free(t);
}
END_TEST

START_TEST(test_rule_hits)
{
	struct config *a, *b;
	char	*t;

	a = unit_config_load("domains = ( { match = \"Example.COM\"; },"
	    " { match = \"#x.example\"; } );");
	b = unit_config_load("domains = ( { match = \"#x.example\"; },"
	    " { match = \".new.example\"; } );");
	metrics_loaded(a, 0);
	decision(OUTCOME_ACCEPT, "relay rule", "example.com", NULL);
	decision(OUTCOME_ACCEPT, "relay rule", "#x.example", NULL);
	decision(OUTCOME_ACCEPT, "relay rule", "from-a-file.example", NULL);
	t = exposition();
	has(t, "milter_relay_rule_hits_total{rule=\"example.com\"} 1");
	has(t, "milter_relay_rule_hits_total{rule=\"#x.example\"} 1");
	hasnt(t, "from-a-file.example");
	has(t, "milter_relay_rules 2");
	free(t);
	metrics_loaded(b, 1);
	decision(OUTCOME_ACCEPT, "relay rule", "example.com", NULL);
	decision(OUTCOME_ACCEPT, "relay rule", "#x.example", NULL);
	t = exposition();
	hasnt(t, "rule=\"example.com\"");
	has(t, "milter_relay_rule_hits_total{rule=\"#x.example\"} 2");
	has(t, "milter_relay_rule_hits_total{rule=\".new.example\"} 0");
	has(t, "milter_relay_reloads_total{result=\"success\"} 1");
	free(t);
	config_free(a);
	config_free(b);
}
END_TEST

START_TEST(test_histogram)
{
	struct histogram h;
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;

	memset(&h, 0, sizeof(h));
	observe(&h, metrics_now() - 2000000);	/* 2 ms ago */
	observe(&h, metrics_now() + 1000);	/* clock skew: 0 */
	fp = open_memstream(&buf, &len);
	histogram(fp, "x_seconds", "map", "relay", &h);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(buf,
	    "x_seconds_bucket{map=\"relay\",le=\"5e-06\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf,
	    "x_seconds_bucket{map=\"relay\",le=\"0.001\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(buf,
	    "x_seconds_bucket{map=\"relay\",le=\"0.0025\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(buf,
	    "x_seconds_bucket{map=\"relay\",le=\"+Inf\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(buf, "x_seconds_count{map=\"relay\"} 2\n"));
	free(buf);
}
END_TEST

START_TEST(test_reload_failed)
{
	struct config *a;
	char	*t, line[128];
	int64_t	 ts;

	a = unit_config_load("domains = ( { match = \"example.com\"; } );");
	metrics_loaded(a, 0);
	ts = atomic_load(&m->last_success);
	ck_assert_int_gt(ts, 0);
	atomic_store(&m->last_success, 12345);
	metrics_reload_failed();
	t = exposition();
	has(t, "milter_relay_reloads_total{result=\"failed\"} 1");
	has(t, "milter_relay_reloads_total{result=\"success\"} 0");
	snprintf(line, sizeof(line),
	    "milter_relay_last_reload_success_timestamp_seconds 12345");
	has(t, line);
	free(t);
	config_free(a);
}
END_TEST

START_TEST(test_healthy)
{
	struct config *a;

	ck_assert_int_eq(metrics_healthy(), 0);
	metrics_serving(1);
	ck_assert_int_eq(metrics_healthy(), 0);	/* nothing loaded */
	a = unit_config_load("domains = ( { match = \"example.com\"; } );");
	metrics_loaded(a, 0);
	ck_assert_int_eq(metrics_healthy(), 1);
	metrics_serving(0);
	ck_assert_int_eq(metrics_healthy(), 0);
	config_free(a);
}
END_TEST

START_TEST(test_shared)
{
	pid_t	 pid;
	int	 status, i;

	ck_assert_int_eq(metrics_init(), 0);
	metrics_add(MC_SESSIONS);
	for (i = 0; i < 2; i++) {	/* a worker, then its restart */
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			metrics_add(MC_SESSIONS);
			decision(OUTCOME_REJECT, "deny rule", "", NULL);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		metrics_add(MC_WORKER_RESTARTS);
	}
	ck_assert_uint_eq(metrics_get(MC_SESSIONS), 3);
	ck_assert_uint_eq(metrics_decisions(OUTCOME_REJECT), 2);
	ck_assert_uint_eq(metrics_get(MC_WORKER_RESTARTS), 2);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("metrics");
	SRunner	*sr;
	int	 failed;

	/* CK_FORK=yes: each test starts from zeroed private counters */
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_rule_hits);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_reload_failed);
	tcase_add_test(tc, test_healthy);
	tcase_add_test(tc, test_shared);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
