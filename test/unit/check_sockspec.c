/*
 * check_sockspec - unit tests of lib/util/sockspec.c and lib/util/strutil.c
 *
 * Every prefix in lower and upper case, bare paths, and what is refused;
 * PORT@HOST, PORT@[HOST] and PORT, and every malformed port and host;
 * which addresses sockspec_local() takes for this machine only;
 * str_same() with NULLs; str_append() cut to fit as snprintf() cuts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockspec.h"
#include "strutil.h"

struct scase {
	const char		*in;
	int			 rc;
	enum sockspec_kind	 kind;
	const char		*rest;
};

static const struct scase cases[] = {
	{ "unix:/run/m.sock", 0, SOCKSPEC_UNIX, "/run/m.sock" },
	{ "UNIX:/run/m.sock", 0, SOCKSPEC_UNIX, "/run/m.sock" },
	{ "local:/run/m.sock", 0, SOCKSPEC_UNIX, "/run/m.sock" },
	{ "Local:rel", 0, SOCKSPEC_UNIX, "rel" },
	{ "/run/m.sock", 0, SOCKSPEC_UNIX, "/run/m.sock" },
	{ "inet:10026@127.0.0.1", 0, SOCKSPEC_INET, "10026@127.0.0.1" },
	{ "INET:10026", 0, SOCKSPEC_INET, "10026" },
	{ "inet6:10026@[::1]", 0, SOCKSPEC_INET6, "10026@[::1]" },
	{ "Inet6:1@::1", 0, SOCKSPEC_INET6, "1@::1" },
	{ "run/m.sock", -1, 0, NULL },
	{ "tcp:25@host", -1, 0, NULL },
	{ "", -1, 0, NULL },
	{ "inet", -1, 0, NULL },
};

START_TEST(test_parse)
{
	const struct scase	*t = &cases[_i];
	enum sockspec_kind	 kind;
	const char		*rest = NULL;

	ck_assert_int_eq(sockspec_parse(t->in, &kind, &rest), t->rc);
	if (t->rc == 0) {
		ck_assert_int_eq(kind, t->kind);
		ck_assert_str_eq(rest, t->rest);
	}
}
END_TEST

struct icase {
	const char	*in;
	int		 rc;
	unsigned	 port;
	const char	*host;		/* or the reason when rc is -1 */
};

static const struct icase inet_cases[] = {
	{ "10026@127.0.0.1", 0, 10026, "127.0.0.1" },
	{ "10026", 0, 10026, "" },
	{ "1@[::1]", 0, 1, "::1" },
	{ "65535@::1", 0, 65535, "::1" },
	{ "025@mx.example", 0, 25, "mx.example" },
	{ "0@127.0.0.1", -1, 0, "bad port (1 to 65535)" },
	{ "65536", -1, 0, "bad port (1 to 65535)" },
	{ "99999999999999999999@h", -1, 0, "bad port (1 to 65535)" },
	{ "", -1, 0, "bad port (1 to 65535)" },
	{ "@h", -1, 0, "bad port (1 to 65535)" },
	{ "smtp@h", -1, 0, "bad port (1 to 65535)" },
	{ "+25@h", -1, 0, "bad port (1 to 65535)" },
	{ "2 5@h", -1, 0, "bad port (1 to 65535)" },
	{ "25@", -1, 0, "empty host" },
	{ "25@[]", -1, 0, "empty host" },
	{ "25@[::1", -1, 0, "unclosed '[' in host" },
	{ "25@[", -1, 0, "unclosed '[' in host" },
};

START_TEST(test_inet)
{
	const struct icase	*t = &inet_cases[_i];
	struct sockspec_inet	 in;
	const char		*why = NULL;

	ck_assert_int_eq(sockspec_inet(t->in, &in, &why), t->rc);
	if (t->rc == 0) {
		ck_assert_uint_eq(in.port, t->port);
		ck_assert_str_eq(in.host, t->host);
	} else
		ck_assert_str_eq(why, t->host);
}
END_TEST

START_TEST(test_inet_host_max)
{
	struct sockspec_inet	 in;
	const char		*why = NULL;
	char			 spec[SOCKSPEC_HOST_MAX + 16];

	memset(spec, 'h', sizeof(spec));
	memcpy(spec, "25@", 3);
	spec[3 + SOCKSPEC_HOST_MAX] = '\0';
	ck_assert_int_eq(sockspec_inet(spec, &in, &why), 0);
	ck_assert_uint_eq(strlen(in.host), SOCKSPEC_HOST_MAX);
	spec[3 + SOCKSPEC_HOST_MAX] = 'h';
	spec[4 + SOCKSPEC_HOST_MAX] = '\0';
	ck_assert_int_eq(sockspec_inet(spec, &in, &why), -1);
	ck_assert_str_eq(why, "host too long");
}
END_TEST

START_TEST(test_local)
{
	ck_assert_int_eq(sockspec_local("unix:/run/x.sock"), 1);
	ck_assert_int_eq(sockspec_local("/run/x.sock"), 1);
	ck_assert_int_eq(sockspec_local("inet:10026"), 1);
	ck_assert_int_eq(sockspec_local("inet6:10026"), 1);
	ck_assert_int_eq(sockspec_local("inet:10026@127.0.0.1"), 1);
	ck_assert_int_eq(sockspec_local("inet:10026@127.1.2.3"), 1);
	ck_assert_int_eq(sockspec_local("inet:10026@localhost"), 1);
	ck_assert_int_eq(sockspec_local("inet6:10026@[::1]"), 1);
	ck_assert_int_eq(sockspec_local("inet6:10026@::1"), 1);
	ck_assert_int_eq(sockspec_local("inet:10026@0.0.0.0"), 0);
	ck_assert_int_eq(sockspec_local("inet:10026@192.0.2.1"), 0);
	ck_assert_int_eq(sockspec_local("inet6:10026@[::]"), 0);
	ck_assert_int_eq(sockspec_local("inet:10026@mx.example"), 0);
	ck_assert_int_eq(sockspec_local("tcp:10026"), 0);
	/* what sockspec_inet() refuses is not taken for local */
	ck_assert_int_eq(sockspec_local("inet:x@127.0.0.1"), 0);
	ck_assert_int_eq(sockspec_local("inet:10026@"), 0);
	ck_assert_int_eq(sockspec_local("inet6:10026@[::1"), 0);
}
END_TEST

START_TEST(test_str_same)
{
	ck_assert_int_eq(str_same(NULL, NULL), 1);
	ck_assert_int_eq(str_same("a", NULL), 0);
	ck_assert_int_eq(str_same(NULL, "a"), 0);
	ck_assert_int_eq(str_same("a", "a"), 1);
	ck_assert_int_eq(str_same("a", "b"), 0);
	ck_assert_int_eq(str_same("", ""), 1);
}
END_TEST

START_TEST(test_str_append)
{
	char	buf[8];
	size_t	at = 0;

	str_append(buf, sizeof(buf), &at, "<");
	str_append(buf, sizeof(buf), &at, "ab");
	ck_assert_str_eq(buf, "<ab");
	ck_assert_uint_eq(at, 3);
	str_append(buf, sizeof(buf), &at, "");
	ck_assert_str_eq(buf, "<ab");
	/* cut to 7 octets and the NUL, as snprintf(buf, 8, ...) */
	str_append(buf, sizeof(buf), &at, ">: text");
	ck_assert_str_eq(buf, "<ab>: t");
	ck_assert_uint_eq(at, 7);
	str_append(buf, sizeof(buf), &at, "more");
	ck_assert_str_eq(buf, "<ab>: t");
	ck_assert_uint_eq(at, 7);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sockspec");
	TCase	*tc = tcase_create("sockspec");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_inet, 0,
	    (int)(sizeof(inet_cases) / sizeof(inet_cases[0])));
	tcase_add_test(tc, test_inet_host_max);
	tcase_add_test(tc, test_local);
	tcase_add_test(tc, test_str_same);
	tcase_add_test(tc, test_str_append);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
