/*
 * check_pflist - unit tests of lib/util/pflist.c
 *
 * Separators, braces (inline tables, milters with settings), an
 * unbalanced brace, an unclosed one, a cut copy, the end of the list.
 */
#include <check.h>
#include <string.h>

#include "pflist.h"

struct pcase {
	const char	*in;
	const char	*want[5];	/* the elements, NULL-terminated */
};

static const struct pcase cases[] = {
	{ "a, b\tc\n d", { "a", "b", "c", "d", NULL } },
	{ "  ,, ", { NULL } },
	{ "", { NULL } },
	{ "permit_mynetworks,\n\tcheck_recipient_access regexp:{{/@x y/ 554 z}},"
	    " reject", { "permit_mynetworks", "check_recipient_access",
	    "regexp:{{/@x y/ 554 z}}", "reject", NULL } },
	{ "{ unix:m.sock, default_action=accept }, inet:h:1",
	    { "{ unix:m.sock, default_action=accept }", "inet:h:1", NULL } },
	{ "a} b", { "a}", "b", NULL } },
	{ "x {a b", { "x", "{a b", NULL } },
};

START_TEST(test_elements)
{
	const struct pcase *t = &cases[_i];
	const char	*cursor = t->in;
	char		 buf[64];
	size_t		 i, n;

	for (i = 0; t->want[i] != NULL; i++) {
		n = pflist_next(&cursor, buf, sizeof(buf));
		ck_assert_uint_eq(n, strlen(t->want[i]));
		ck_assert_str_eq(buf, t->want[i]);
	}
	ck_assert_uint_eq(pflist_next(&cursor, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(pflist_next(&cursor, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(test_cut)
{
	const char	*cursor = "abcdefgh, ij";
	char		 buf[4];

	ck_assert_uint_eq(pflist_next(&cursor, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "abc");
	ck_assert_uint_eq(pflist_next(&cursor, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "ij");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("pflist");
	TCase	*tc = tcase_create("pflist");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_elements, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_cut);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
