/*
 * check_netstring - unit tests of lib/util/netstring.c
 *
 * A decode table (complete, partial, malformed, over the maximum), every
 * prefix of valid netstrings (always "need more"), several netstrings in
 * one buffer, and encode/decode round trips including binary payloads
 * and buffers that are one octet short.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

struct dcase {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	size_t		 max;
	ssize_t		 rc;
	const char	*data;		/* payload when rc > 0 */
	size_t		 data_len;
};

static const struct dcase decode_cases[] = {
	{ "0:,", 0, 100, 3, "", 0 },
	{ "5:hello,", 0, 100, 8, "hello", 5 },
	{ "5:hello,rest", 0, 100, 8, "hello", 5 },
	{ "12:hello world!,", 0, 100, 16, "hello world!", 12 },
	{ "3:a,b,", 0, 100, 6, "a,b", 3 },
	{ "3:\0\1\2,", 6, 100, 6, "\0\1\2", 3 },
	{ "5:hello,", 0, 5, 8, "hello", 5 },		/* exactly max */
	{ "0:,", 0, 0, 3, "", 0 },
	{ "10:0123456789,", 0, 10, 14, "0123456789", 10 },
	/* need more input */
	{ "", 0, 100, 0, NULL, 0 },
	{ "5", 0, 100, 0, NULL, 0 },
	{ "5:", 0, 100, 0, NULL, 0 },
	{ "5:hell", 0, 100, 0, NULL, 0 },
	{ "5:hello", 0, 100, 0, NULL, 0 },
	{ "99", 0, 100, 0, NULL, 0 },
	{ "10000", 0, 10000, 0, NULL, 0 },
	{ "0", 0, 100, 0, NULL, 0 },
	{ "0:", 0, 100, 0, NULL, 0 },
	/* malformed */
	{ ":hello,", 0, 100, -1, NULL, 0 },
	{ "x:a,", 0, 100, -1, NULL, 0 },
	{ "-1:a,", 0, 100, -1, NULL, 0 },
	{ "+1:a,", 0, 100, -1, NULL, 0 },
	{ " 1:a,", 0, 100, -1, NULL, 0 },
	{ "1 :a,", 0, 100, -1, NULL, 0 },
	{ "01:a,", 0, 100, -1, NULL, 0 },
	{ "00:,", 0, 100, -1, NULL, 0 },
	{ "05", 0, 100, -1, NULL, 0 },
	{ "5:hello;", 0, 100, -1, NULL, 0 },
	{ "5:hello!x", 0, 100, -1, NULL, 0 },
	{ "3:hello,", 0, 100, -1, NULL, 0 },
	{ "1x", 0, 100, -1, NULL, 0 },
	{ "5;hello,", 0, 100, -1, NULL, 0 },
	{ "\0", 1, 100, -1, NULL, 0 },
	/* over the maximum: refused before the payload arrives */
	{ "6:hello!,", 0, 5, -1, NULL, 0 },
	{ "6", 0, 5, -1, NULL, 0 },
	{ "101", 0, 100, -1, NULL, 0 },
	{ "10001", 0, 10000, -1, NULL, 0 },
	{ "100000", 0, 10000, -1, NULL, 0 },
	{ "1:a,", 0, 0, -1, NULL, 0 },
	{ "99999999999999999999999999:", 0, 10000, -1, NULL, 0 },
	{ "18446744073709551616:", 0, (size_t)-1, -1, NULL, 0 },
};

START_TEST(test_decode)
{
	const struct dcase	*c = &decode_cases[_i];
	const char		*data = NULL, *why = NULL;
	size_t			 data_len = 12345;
	size_t			 len = c->len ? c->len : strlen(c->in);
	char			*copy;
	ssize_t			 rc;

	/* exact-size heap copy: ASan catches any read past len */
	copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, c->in, len);
	rc = netstring_decode(copy, len, c->max, &data, &data_len, &why);
	ck_assert_msg(rc == c->rc, "\"%s\" max %zu: %zd, want %zd", c->in,
	    c->max, rc, c->rc);
	if (rc > 0) {
		ck_assert_uint_eq(data_len, c->data_len);
		ck_assert(data >= copy && data + data_len <= copy + len);
		ck_assert(memcmp(data, c->data, data_len) == 0);
	} else if (rc < 0) {
		ck_assert_ptr_nonnull(why);
	}
	free(copy);
}
END_TEST

START_TEST(test_prefixes_need_more)
{
	static const char *const good[] = {
		"0:,", "5:hello,", "12:hello world!,", "17:relay example.com,",
	};
	const char	*data, *why;
	size_t		 data_len, n, len;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		len = strlen(good[i]);
		for (n = 0; n < len; n++)
			ck_assert_msg(netstring_decode(good[i], n, 10000,
			    &data, &data_len, &why) == 0,
			    "prefix %zu of \"%s\"", n, good[i]);
		ck_assert_int_eq(netstring_decode(good[i], len, 10000, &data,
		    &data_len, &why), (ssize_t)len);
	}
}
END_TEST

START_TEST(test_several)
{
	static const char buf[] = "5:relay,0:,3:a:b,11:example.com,4:x";
	static const char *const want[] = { "relay", "", "a:b", "example.com" };
	const char	*data, *why;
	size_t		 data_len, off, len = strlen(buf);
	ssize_t		 rc;
	size_t		 k;

	off = 0;
	for (k = 0; k < 4; k++) {
		rc = netstring_decode(buf + off, len - off, 100, &data,
		    &data_len, &why);
		ck_assert_int_gt(rc, 0);
		ck_assert_uint_eq(data_len, strlen(want[k]));
		ck_assert(memcmp(data, want[k], data_len) == 0);
		off += (size_t)rc;
	}
	/* the last one is incomplete */
	ck_assert_int_eq(netstring_decode(buf + off, len - off, 100, &data,
	    &data_len, &why), 0);
	ck_assert_str_eq(buf + off, "4:x");
}
END_TEST

START_TEST(test_encode)
{
	char	out[64];

	memset(out, 'X', sizeof(out));
	ck_assert_int_eq(netstring_encode("hello", 5, out, sizeof(out)), 8);
	ck_assert(memcmp(out, "5:hello,", 8) == 0);
	ck_assert_int_eq(out[8], 'X');		/* nothing written past */
	ck_assert_int_eq(netstring_encode("", 0, out, sizeof(out)), 3);
	ck_assert(memcmp(out, "0:,", 3) == 0);
	ck_assert_int_eq(netstring_encode(NULL, 0, out, 3), 3);
	/* exactly big enough, and one octet short */
	ck_assert_int_eq(netstring_encode("hello", 5, out, 8), 8);
	ck_assert_int_eq(netstring_encode("hello", 5, out, 7), -1);
	ck_assert_int_eq(netstring_encode("hello", 5, out, 2), -1);
	ck_assert_int_eq(netstring_encode("hello", 5, out, 0), -1);
	ck_assert_int_eq(netstring_encode("", 0, out, 2), -1);
	ck_assert_int_eq(netstring_encode("0123456789", 10, out, 14), 14);
	ck_assert(memcmp(out, "10:0123456789,", 14) == 0);
	ck_assert_int_eq(netstring_encode("0123456789", 10, out, 13), -1);
}
END_TEST

START_TEST(test_round_trip)
{
	static char	 payload[NETSTRING_QUERY_MAX];
	static char	 out[NETSTRING_QUERY_MAX + 16];
	const char	*data, *why;
	size_t		 data_len, len, i;
	ssize_t		 n;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (char)(i * 7 + 3);	/* binary, with NULs and ',' */
	for (len = 0; len <= NETSTRING_QUERY_MAX; len += len < 20 ? 1 : 997) {
		n = netstring_encode(payload, len, out, sizeof(out));
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(netstring_decode(out, (size_t)n,
		    NETSTRING_QUERY_MAX, &data, &data_len, &why), n);
		ck_assert_uint_eq(data_len, len);
		ck_assert(memcmp(data, payload, len) == 0);
		/* one octet less is "need more" */
		ck_assert_int_eq(netstring_decode(out, (size_t)n - 1,
		    NETSTRING_QUERY_MAX, &data, &data_len, &why), 0);
	}
	n = netstring_encode(payload, NETSTRING_QUERY_MAX, out, sizeof(out));
	ck_assert_int_eq(n, 5 + 1 + NETSTRING_QUERY_MAX + 1);
	/* and a max one smaller refuses it at once */
	ck_assert_int_eq(netstring_decode(out, 5, NETSTRING_QUERY_MAX - 1,
	    &data, &data_len, &why), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("netstring");
	TCase	*tc = tcase_create("netstring");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_decode, 0,
	    (int)(sizeof(decode_cases) / sizeof(decode_cases[0])));
	tcase_add_test(tc, test_prefixes_need_more);
	tcase_add_test(tc, test_several);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
