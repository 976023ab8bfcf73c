/*
 * check_reply - unit tests of lib/reply.c
 *
 * Every kind of reply (code, enhanced code, text), how the recipient is
 * shown in it (brackets and blanks stripped, unprintable octets and '%'
 * as '?', cut at 256 octets), a deny rule's own reply, and the '%'
 * escape for smfi_setreply().  reply_valid() is tested in check_ruleset.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "reply.h"

struct rcase {
	enum reply_kind	 kind;
	const char	*rcpt;
	const char	*rcode;
	const char	*xcode;
	const char	*text;
};

static const struct rcase cases[] = {
	{ REPLY_SYNTAX, "<u@x>", "501", "5.1.3",
	    "Bad recipient address syntax" },
	{ REPLY_ROUTING, "<@a:u@x>", "554", "5.7.1",
	    "<@a:u@x>: Sender-specified routing is not allowed" },
	{ REPLY_DENIED, " <u@x> ", "554", "5.7.1",
	    "<u@x>: Relay access denied" },
	{ REPLY_DENIED, "u%v@x", "554", "5.7.1",
	    "<u?v@x>: Relay access denied" },
	{ REPLY_DENIED, "u\tv\x80@x", "554", "5.7.1",
	    "<u?v?@x>: Relay access denied" },
	{ REPLY_DENIED_LATER, "<u@x>", "451", "4.7.1",
	    "<u@x>: Relay access temporarily denied, try again later" },
	{ REPLY_UNAVAILABLE, "<u@x>", "451", "4.7.1",
	    "Relay decision unavailable, try again later" },
	{ REPLY_UNAVAILABLE, NULL, "451", "4.7.1",
	    "Relay decision unavailable, try again later" },
	{ REPLY_ROUTE_MISMATCH, "<u@x>", "451", "4.7.1",
	    "<u@x>: Relay route mismatch, try again later" },
	{ REPLY_ROUTE_PENDING, "<u@x>", "451", "4.7.1",
	    "Relay route being updated, try again later" },
};

START_TEST(test_kinds)
{
	const struct rcase	*t = &cases[_i];
	struct decision		 d;

	memset(&d, 0, sizeof(d));
	reply_set(&d, t->kind, t->rcpt, t->rcpt ? strlen(t->rcpt) : 0);
	ck_assert_str_eq(d.rcode, t->rcode);
	ck_assert_str_eq(d.xcode, t->xcode);
	ck_assert_str_eq(d.text, t->text);
}
END_TEST

START_TEST(test_long_address)
{
	char		 rcpt[1000];
	struct decision	 d;

	memset(rcpt, 'a', sizeof(rcpt));
	reply_set(&d, REPLY_DENIED, rcpt, sizeof(rcpt));
	ck_assert_uint_eq(strlen(d.text),
	    1 + 256 + strlen(">: Relay access denied"));
}
END_TEST

START_TEST(test_rule)
{
	struct decision	 d;

	reply_rule(&d, "550 5.7.1 No relaying for you");
	ck_assert_str_eq(d.rcode, "550");
	ck_assert_str_eq(d.xcode, "5.7.1");
	ck_assert_str_eq(d.text, "No relaying for you");
	reply_rule(&d, "450 4.7.25");
	ck_assert_str_eq(d.rcode, "450");
	ck_assert_str_eq(d.xcode, "4.7.25");
	ck_assert_str_eq(d.text, "");
	reply_clear(&d);
	ck_assert_str_eq(d.rcode, "");
	ck_assert_str_eq(d.xcode, "");
	ck_assert_str_eq(d.text, "");
}
END_TEST

START_TEST(test_format)
{
	char	out[64];

	reply_format(REPLY_ROUTE_PENDING, out, sizeof(out));
	ck_assert_str_eq(out,
	    "451 4.7.1 Relay route being updated, try again later");
	reply_format(REPLY_DENIED, out, sizeof(out));
	ck_assert_str_eq(out, "554 5.7.1 Relay access denied");
	reply_format(REPLY_SYNTAX, out, 8);
	ck_assert_str_eq(out, "501 5.1");
}
END_TEST

START_TEST(test_escape)
{
	char	out[8];

	reply_escape("a%b", out, sizeof(out));
	ck_assert_str_eq(out, "a%%b");
	reply_escape("%%%%%%", out, sizeof(out));
	ck_assert_str_eq(out, "%%%%%%");
	reply_escape("abcdefghij", out, sizeof(out));
	ck_assert_str_eq(out, "abcdef");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("reply");
	TCase	*tc = tcase_create("reply");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_kinds, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_long_address);
	tcase_add_test(tc, test_rule);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_escape);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
