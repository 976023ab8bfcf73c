/*
 * check_verify - unit tests of the callout pieces in lib/
 *
 * vcache (lib/vcache.c): put and get, positive and negative lifetimes
 * judged at read time, unknown results not kept, the size bound, the
 * file kept across close and open.  callout (lib/callout.c): the hops of
 * every smart host form and of a rule without one; the RCPT path with
 * and without quoting; a probe to a closed port is unknown.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callout.h"
#include "decide.h"
#include "ruleset.h"
#include "vcache.h"

static char dir[64];
static char path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_verify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache.lmdb", dir);
}

static void
teardown(void)
{
	char	lock[160];

	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(path);
	unlink(lock);
	rmdir(dir);
}

START_TEST(test_cache)
{
	struct vcache		*c;
	enum recipient_status	 st;
	char			 err[256];

	c = vcache_open(path, 1000, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(vcache_get(c, "a@x.test", 1000, 100, 10, &st), 0);
	ck_assert_int_eq(vcache_put(c, "a@x.test", RECIPIENT_VALID, 1000, 100,
	    10), 0);
	ck_assert_int_eq(vcache_put(c, "b@x.test", RECIPIENT_INVALID, 1000,
	    100, 10), 0);
	ck_assert_int_eq(vcache_put(c, "c@x.test", RECIPIENT_UNKNOWN, 1000,
	    100, 10), 0);
	ck_assert_int_eq(vcache_get(c, "a@x.test", 1050, 100, 10, &st), 1);
	ck_assert_int_eq(st, RECIPIENT_VALID);
	ck_assert_int_eq(vcache_get(c, "b@x.test", 1005, 100, 10, &st), 1);
	ck_assert_int_eq(st, RECIPIENT_INVALID);
	/* negative lifetime over, positive not */
	ck_assert_int_eq(vcache_get(c, "b@x.test", 1010, 100, 10, &st), 0);
	ck_assert_int_eq(vcache_get(c, "a@x.test", 1099, 100, 10, &st), 1);
	ck_assert_int_eq(vcache_get(c, "a@x.test", 1100, 100, 10, &st), 0);
	/* lifetimes of the reader, not of the writer */
	ck_assert_int_eq(vcache_get(c, "a@x.test", 1100, 1000, 10, &st), 1);
	ck_assert_int_eq(vcache_get(c, "c@x.test", 1001, 100, 10, &st), 0);
	ck_assert_uint_eq(vcache_count(c), 2);
	vcache_close(c);
	/* kept across close and open */
	c = vcache_open(path, 1000, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(vcache_get(c, "a@x.test", 1050, 100, 10, &st), 1);
	ck_assert_int_eq(st, RECIPIENT_VALID);
	vcache_close(c);
}
END_TEST

START_TEST(test_cache_bound)
{
	struct vcache		*c;
	enum recipient_status	 st;
	char			 err[256], key[32];
	int			 i;

	c = vcache_open(path, 16, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "u%d@x.test", i);
		ck_assert_int_eq(vcache_put(c, key, RECIPIENT_VALID, 1000 + i,
		    100000, 100000), 0);
		ck_assert_uint_le(vcache_count(c), 16);
	}
	/* the newest stays */
	ck_assert_int_eq(vcache_get(c, "u199@x.test", 1200, 100000, 100000,
	    &st), 1);
	ck_assert_int_eq(vcache_get(c, "u0@x.test", 1200, 100000, 100000,
	    &st), 0);
	vcache_close(c);
}
END_TEST

START_TEST(test_cache_open_fails)
{
	char	err[256];

	ck_assert_ptr_null(vcache_open("/nonexistent/dir/cache.lmdb", 100,
	    err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/cache.lmdb"));
}
END_TEST

static void
check_hops(const char *smarthost, const char *domain, const char *host,
    unsigned port, int mx)
{
	struct rule		r;
	struct callout_hop	hops[CALLOUT_HOPS_MAX];

	memset(&r, 0, sizeof(r));
	r.smarthost = smarthost;
	ck_assert_uint_eq(callout_hops(&r, domain, hops, CALLOUT_HOPS_MAX), 1);
	ck_assert_str_eq(hops[0].host, host);
	ck_assert_uint_eq(hops[0].port, port);
	ck_assert_int_eq(hops[0].mx, mx);
}

START_TEST(test_hops)
{
	check_hops("mail.example.net", "x.test", "mail.example.net", 25, 0);
	check_hops("mail.example.net:2525", "x.test", "mail.example.net",
	    2525, 0);
	check_hops("mx:example.net", "x.test", "example.net", 25, 1);
	check_hops("[192.0.2.7]", "x.test", "192.0.2.7", 25, 0);
	check_hops("[192.0.2.7]:26", "x.test", "192.0.2.7", 26, 0);
	check_hops("192.0.2.7:27", "x.test", "192.0.2.7", 27, 0);
	check_hops("[2001:db8::7]:28", "x.test", "2001:db8::7", 28, 0);
	check_hops(NULL, "x.test", "x.test", 25, 1);
}
END_TEST

START_TEST(test_hop_list)
{
	struct rule		r;
	struct callout_hop	hops[CALLOUT_HOPS_MAX];

	memset(&r, 0, sizeof(r));
	r.smarthost = "[192.0.2.7],mx:b.test:2525,[2001:db8::7]";
	ck_assert_uint_eq(callout_hops(&r, "x.test", hops, CALLOUT_HOPS_MAX),
	    3);
	ck_assert_str_eq(hops[0].host, "192.0.2.7");
	ck_assert_uint_eq(hops[0].port, 25);
	ck_assert_str_eq(hops[1].host, "b.test");
	ck_assert_uint_eq(hops[1].port, 2525);
	ck_assert_int_eq(hops[1].mx, 1);
	ck_assert_str_eq(hops[2].host, "2001:db8::7");
	ck_assert_uint_eq(callout_hops(&r, "x.test", hops, 2), 2);
}
END_TEST

START_TEST(test_rcpt_path)
{
	char	out[600];

	ck_assert_int_eq(callout_rcpt_path("alice", "x.test", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "<alice@x.test>");
	ck_assert_int_eq(callout_rcpt_path("a.b+c", "x.test", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "<a.b+c@x.test>");
	ck_assert_int_eq(callout_rcpt_path("a b\"c", "x.test", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "<\"a b\\\"c\"@x.test>");
	ck_assert_int_eq(callout_rcpt_path("a..b", "x.test", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "<\"a..b\"@x.test>");
	ck_assert_int_eq(callout_rcpt_path("a\r\nRSET", "x.test", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(callout_rcpt_path("alice", "x.test", out, 10), -1);
}
END_TEST

START_TEST(test_probe_refused)
{
	struct callout_hop	hop;
	struct callout_answer	a;

	memset(&hop, 0, sizeof(hop));
	snprintf(hop.host, sizeof(hop.host), "127.0.0.1");
	hop.port = 1;		/* tcpmux: nobody listens */
	callout_probe(&hop, 1, "test", "<a@x.test>", 2000, &a);
	ck_assert_int_eq(a.status, RECIPIENT_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(a.reply, "cannot connect"));
	callout_probe(&hop, 0, "test", "<a@x.test>", 2000, &a);
	ck_assert_int_eq(a.status, RECIPIENT_UNKNOWN);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("verify");
	tc = tcase_create("verify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_cache_bound);
	tcase_add_test(tc, test_cache_open_fails);
	tcase_add_test(tc, test_hops);
	tcase_add_test(tc, test_hop_list);
	tcase_add_test(tc, test_rcpt_path);
	tcase_add_test(tc, test_probe_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
