/*
 * check_metrics - unit tests of milter/metrics.c (the shared counters and
 * their Prometheus text exposition)
 *
 * metrics.c is compiled into this test (it has no libmilter dependency);
 * the log function is replaced here.  Tests: label values are escaped;
 * decisions are counted by outcome and reason (enum decide_reason),
 * each reason under the label dashboards and alerts know (the whole
 * list, in order), a reason out of range as "other", a syntax error as
 * "bad address syntax" whatever the parser said; rule hits count the
 * inline rules of the configuration in use only, and a rule a reload
 * removed is no longer exported; histogram buckets are cumulative; a
 * failed reload moves its counter and not the success timestamp;
 * /healthz needs a loaded rule set and a serving worker; counts made by
 * a forked child (a worker) are seen by the parent (the supervisor);
 * socketmap lookups are counted by map and answer.
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
decision(int outcome, int reason, const char *detail, const char *pattern)
{
	struct decision d;

	memset(&d, 0, sizeof(d));
	d.outcome = outcome;
	d.reason = (enum decide_reason)reason;
	d.detail = detail;
	snprintf(d.pattern, sizeof(d.pattern), "%s", pattern);
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

	decision(OUTCOME_ACCEPT, DECIDE_REASON_RELAY, NULL, "");
	decision(OUTCOME_ACCEPT, DECIDE_REASON_RELAY, NULL, "");
	decision(OUTCOME_TEMPFAIL, DECIDE_REASON_COUNT, NULL, "");
	decision(OUTCOME_TEMPFAIL, -1, NULL, "");
	decision(OUTCOME_REJECT, DECIDE_REASON_SYNTAX, "unbalanced quote", "");
	t = exposition();
	has(t, "milter_relay_rcpt_decisions_total{outcome=\"accept\","
	    "reason=\"relay rule\"} 2");
	has(t, "milter_relay_rcpt_decisions_total{outcome=\"tempfail\","
	    "reason=\"other\"} 2");
	has(t, "milter_relay_rcpt_decisions_total{outcome=\"reject\","
	    "reason=\"bad address syntax\"} 1");
	hasnt(t, "unbalanced quote");
	has(t, "milter_relay_rcpt_decision_duration_seconds_count 5");
	ck_assert_uint_eq(metrics_decisions(OUTCOME_ACCEPT), 2);
	free(t);
}
END_TEST

/* The reason labels, in the order of the exposition. */
static const char *const labels[] = {
	"relay rule",
	"trusted-only rule, trusted client",
	"trusted-only rule, untrusted client",
	"deny rule",
	"no rule",
	"no rule, trusted client",
	"address literal",
	"address literal, trusted client",
	"unqualified address",
	"unqualified address, trusted client",
	"postmaster",
	"sender-specified routing",
	"null recipient",
	"bad address syntax",
	"route mismatch",
	"no configuration",
	"no configuration loaded",
	"no session context",
	"cannot decide",
	"MTA final delivery",
	"other"
};
#define NLABELS	(sizeof(labels) / sizeof(labels[0]))

/* Each reason counts under its own label. */
START_TEST(test_reason_label)
{
	char	*t, line[256];

	ck_assert_uint_eq(NLABELS, DECIDE_REASON_COUNT);
	decision(OUTCOME_CONTINUE, _i, NULL, "");
	t = exposition();
	snprintf(line, sizeof(line), "milter_relay_rcpt_decisions_total{"
	    "outcome=\"continue\",reason=\"%s\"} 1", labels[_i]);
	has(t, line);
	ck_assert_uint_eq(metrics_decisions(OUTCOME_CONTINUE), 1);
	free(t);
}
END_TEST

/* Every label of every outcome, in order, and no other. */
START_TEST(test_reason_labels)
{
	static const char *const outcome[] = {
		"accept", "reject", "tempfail", "continue"
	};
	char	*t, *want = NULL;
	size_t	 i, o, len = 0;
	FILE	*fp;

	fp = open_memstream(&want, &len);
	ck_assert_ptr_nonnull(fp);
	fputs("# TYPE milter_relay_rcpt_decisions_total counter\n", fp);
	for (o = 0; o < 4; o++)
		for (i = 0; i < NLABELS; i++)
			fprintf(fp, "milter_relay_rcpt_decisions_total{"
			    "outcome=\"%s\",reason=\"%s\"} 0\n", outcome[o],
			    labels[i]);
	fputs("# HELP milter_relay_rcpt_decision_duration_seconds ", fp);
	fclose(fp);
	t = exposition();
	ck_assert_msg(strstr(t, want) != NULL, "labels differ:\n%s", t);
	free(want);
	free(t);
}
END_TEST

/*
 * Socketmap lookups: by map (the names Postfix and Sendmail ask) and
 * answer; a request that did not parse as "other", an unknown status as
 * "perm".
 */
START_TEST(test_socketmap)
{
	static const char *const names[] = {
		"relay", "transport", "mailertable", "access", "rcpt",
		"recipients", "tls", "other"
	};
	static const char *const answer[] = {
		"ok", "notfound", "temp", "perm"
	};
	char	*t, line[256];
	size_t	 i, a;

	/* names[i] is enum map_name i; -1 (a request that did not parse) */
	for (i = 0; i < 8; i++)
		for (a = 0; a <= i % 4; a++)
			metrics_socketmap(i < 7 ? (int)i : -1, (int)a,
			    metrics_now());
	metrics_socketmap(MAP_RELAY, MAP_PERM, metrics_now());
	metrics_socketmap(MAP_POSTFIX_TLS, 17, metrics_now());
	t = exposition();
	for (i = 0; i < 8; i++)
		for (a = 0; a < 4; a++) {
			snprintf(line, sizeof(line),
			    "milter_relay_socketmap_lookups_total{map=\"%s\","
			    "answer=\"%s\"} %d", names[i], answer[a],
			    (a <= i % 4) + (i == 0 && a == 3) +
			    (i == 6 && a == 3));
			has(t, line);
		}
	has(t, "milter_relay_socketmap_lookup_duration_seconds_count"
	    "{map=\"other\"} 4");
	ck_assert_uint_eq(metrics_socketmap_answers(MAP_OK), 8);
	ck_assert_uint_eq(metrics_socketmap_answers(MAP_PERM), 4);
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
	decision(OUTCOME_ACCEPT, DECIDE_REASON_RELAY, NULL, "example.com");
	decision(OUTCOME_ACCEPT, DECIDE_REASON_RELAY, NULL, "#x.example");
	decision(OUTCOME_ACCEPT, DECIDE_REASON_RELAY, NULL,
	    "from-a-file.example");
	t = exposition();
	has(t, "milter_relay_rule_hits_total{rule=\"example.com\"} 1");
	has(t, "milter_relay_rule_hits_total{rule=\"#x.example\"} 1");
	hasnt(t, "from-a-file.example");
	has(t, "milter_relay_rules 2");
	free(t);
	metrics_loaded(b, 1);
	decision(OUTCOME_ACCEPT, DECIDE_REASON_RELAY, NULL, "example.com");
	decision(OUTCOME_ACCEPT, DECIDE_REASON_RELAY, NULL, "#x.example");
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
			decision(OUTCOME_REJECT, DECIDE_REASON_DENY, NULL, "");
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
	tcase_add_loop_test(tc, test_reason_label, 0, (int)NLABELS);
	tcase_add_test(tc, test_reason_labels);
	tcase_add_test(tc, test_socketmap);
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
