/*
 * check_address - unit tests of address_parse() (lib/address.c)
 *
 * A table of RCPT TO arguments with the expected kind, routing flags,
 * local part and domain, or -1 for malformed input; then loops over every
 * truncation of a few well-formed paths, explicit lengths with embedded
 * NULs and text past len, and the length limits.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

#define BAD	-1

struct acase {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	int		 rc;
	int		 kind;
	unsigned	 routing;
	const char	*local;
	const char	*domain;
};

#define D	ADDR_DOMAIN
#define L	ADDR_LITERAL
#define PM	ADDR_POSTMASTER
#define UQ	ADDR_UNQUALIFIED
#define NUL_	ADDR_NULL
#define RS	ADDR_ROUTE_SOURCE
#define RP	ADDR_ROUTE_PERCENT
#define RB	ADDR_ROUTE_BANG
#define RQ	ADDR_ROUTE_QUOTED_AT

static const struct acase cases[] = {
	/* plain forms */
	{ "<u@example.com>", 0, 0, D, 0, "u", "example.com" },
	{ "u@example.com", 0, 0, D, 0, "u", "example.com" },
	{ "  <u@example.com>  ", 0, 0, D, 0, "u", "example.com" },
	{ "\t<u@example.com>\t", 0, 0, D, 0, "u", "example.com" },
	{ " u@example.com ", 0, 0, D, 0, "u", "example.com" },
	{ "<U.Ser@EXAMPLE.COM>", 0, 0, D, 0, "U.Ser", "example.com" },
	{ "<u@example.com.>", 0, 0, D, 0, "u", "example.com" },
	{ "<u@Sub.Example.COM.>", 0, 0, D, 0, "u", "sub.example.com" },
	{ "<first.last+tag@sub.example.com>", 0, 0, D, 0, "first.last+tag",
	    "sub.example.com" },
	{ "<#$&'*+-/=?^_`{|}~@example.com>", 0, 0, D, 0,
	    "#$&'*+-/=?^_`{|}~", "example.com" },
	{ "<u@a-b_c.example>", 0, 0, D, 0, "u", "a-b_c.example" },
	{ "<postmaster@example.com>", 0, 0, D, 0, "postmaster",
	    "example.com" },
	{ "<\"a b\\\"c\"@example.com>", 0, 0, D, 0, "a b\"c", "example.com" },
	{ "<\"a\\\\b\"@example.com>", 0, 0, D, 0, "a\\b", "example.com" },
	{ "<\"<a>,;:\"@example.com>", 0, 0, D, 0, "<a>,;:", "example.com" },
	{ "<\"a.\"@example.com>", 0, 0, D, 0, "a.", "example.com" },
	/* sender-specified routing */
	{ "<user%victim.test@example.com>", 0, 0, D, RP, "user%victim.test",
	    "example.com" },
	{ "<victim.test!u@example.com>", 0, 0, D, RB, "victim.test!u",
	    "example.com" },
	{ "<a!b%c@example.com>", 0, 0, D, RP | RB, "a!b%c", "example.com" },
	{ "<\"a@b\"@example.com>", 0, 0, D, RQ, "a@b", "example.com" },
	{ "\"a@b\"@example.com", 0, 0, D, RQ, "a@b", "example.com" },
	{ "<\"u@victim.test\"@example.com>", 0, 0, D, RQ, "u@victim.test",
	    "example.com" },
	{ "<\"a\\@b\"@example.com>", 0, 0, D, RQ, "a@b", "example.com" },
	{ "<\"a%b\"@example.com>", 0, 0, D, RP, "a%b", "example.com" },
	{ "<\"a!b\"@example.com>", 0, 0, D, RB, "a!b", "example.com" },
	{ "<@x.test:u@example.com>", 0, 0, D, RS, "u", "example.com" },
	{ "@x.test:u@example.com", 0, 0, D, RS, "u", "example.com" },
	{ "<@a.test,@b.test:u@example.com>", 0, 0, D, RS, "u",
	    "example.com" },
	{ "<@x.test:user%y.test@example.com>", 0, 0, D, RS | RP,
	    "user%y.test", "example.com" },
	{ "<@x.test:\"a@b\"@example.com>", 0, 0, D, RS | RQ, "a@b",
	    "example.com" },
	{ "<@X.TEST:u@[192.0.2.1]>", 0, 0, L, RS, "u", "[192.0.2.1]" },
	/* address literals */
	{ "<u@[127.0.0.1]>", 0, 0, L, 0, "u", "[127.0.0.1]" },
	{ "u@[192.0.2.1]", 0, 0, L, 0, "u", "[192.0.2.1]" },
	{ "<u@[IPv6:::1]>", 0, 0, L, 0, "u", "[IPv6:::1]" },
	{ "<u@[ipv6:2001:DB8::1]>", 0, 0, L, 0, "u", "[IPv6:2001:db8::1]" },
	{ "<u@[IPv6:2001:db8:0:0:0:0:0:1]>", 0, 0, L, 0, "u",
	    "[IPv6:2001:db8::1]" },
	{ "<u@[IPv6:::ffff:192.0.2.1]>", 0, 0, L, 0, "u",
	    "[IPv6:::ffff:192.0.2.1]" },
	{ "<\"a b\"@[10.0.0.1]>", 0, 0, L, 0, "a b", "[10.0.0.1]" },
	{ "<u%v@[10.0.0.1]>", 0, 0, L, RP, "u%v", "[10.0.0.1]" },
	/* null path, postmaster, unqualified */
	{ "<>", 0, 0, NUL_, 0, "", "" },
	{ "  <>  ", 0, 0, NUL_, 0, "", "" },
	{ "<Postmaster>", 0, 0, PM, 0, "Postmaster", "" },
	{ "<postmaster>", 0, 0, PM, 0, "postmaster", "" },
	{ "POSTMASTER", 0, 0, PM, 0, "POSTMASTER", "" },
	{ "<user>", 0, 0, UQ, 0, "user", "" },
	{ "user", 0, 0, UQ, 0, "user", "" },
	{ "<postmasters>", 0, 0, UQ, 0, "postmasters", "" },
	{ "<\"postmaster\">", 0, 0, UQ, 0, "postmaster", "" },
	{ "<\"u@victim.test\">", 0, 0, UQ, RQ, "u@victim.test", "" },
	{ "<u%victim.test>", 0, 0, UQ, RP, "u%victim.test", "" },
	/* internationalized names: domains become A-labels */
	{ "<u@b\xc3\xbc" "cher.example>", 0, 0, D, 0, "u",
	    "xn--bcher-kva.example" },
	{ "<u@B\xc3\x9c" "CHER.Example.>", 0, 0, D, 0, "u",
	    "xn--bcher-kva.example" },
	{ "<u@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88>",
	    0, 0, D, 0, "u", "xn--r8jz45g.xn--zckzah" },
	{ "<u@xn--bcher-kva.example>", 0, 0, D, 0, "u",
	    "xn--bcher-kva.example" },
	{ "<j\xc3\xb6ran@example.com>", 0, 0, D, 0, "j\xc3\xb6ran",
	    "example.com" },
	{ "<\"j\xc3\xb6 ran\"@example.com>", 0, 0, D, 0, "j\xc3\xb6 ran",
	    "example.com" },
	{ "<\xe2\x82\xac\xf0\x9f\x98\x80@example.com>", 0, 0, D, 0,
	    "\xe2\x82\xac\xf0\x9f\x98\x80", "example.com" },
	/* explicit lengths: text past len is not looked at */
	{ "<u@example.com>XYZ", 15, 0, D, 0, "u", "example.com" },
	{ "<u@example.com>\0<v@evil.test>", 15, 0, D, 0, "u",
	    "example.com" },
	{ "u@example.comevil", 13, 0, D, 0, "u", "example.com" },

	/* malformed: brackets and quotes */
	{ "<u@example.com", 0, BAD, 0, 0, NULL, NULL },
	{ "u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<", 0, BAD, 0, 0, NULL, NULL },
	{ ">", 0, BAD, 0, 0, NULL, NULL },
	{ "<<u@example.com>>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com>>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u<v@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "\"u@example.com", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"a\"b@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<a\"b\"@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"a\\>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"\"@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"a\"@b@example.com>", 0, BAD, 0, 0, NULL, NULL },
	/* spaces, control characters, NUL */
	{ "<u @example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@ example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@exa mple.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "< u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com >", 0, BAD, 0, 0, NULL, NULL },
	{ "u v@example.com", 0, BAD, 0, 0, NULL, NULL },
	{ "<u\x01@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com\x7f>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@exam\tple.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com>\r\n", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"a\x01\"@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"a\\\x01\"@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u\0@example.com>", 16, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com\0>", 16, BAD, 0, 0, NULL, NULL },
	{ "u@example.com\0", 14, BAD, 0, 0, NULL, NULL },
	{ "\0", 1, BAD, 0, 0, NULL, NULL },
	{ "", 0, BAD, 0, 0, NULL, NULL },
	{ "   ", 0, BAD, 0, 0, NULL, NULL },
	/* local part */
	{ "<@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "@example.com", 0, BAD, 0, 0, NULL, NULL },
	{ "<u..v@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<.u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u.@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<.>", 0, BAD, 0, 0, NULL, NULL },
	{ "<a@b@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u(comment)@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u\\@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<a,b@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<j\xc3@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\xc0\xafu@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\xed\xa0\x80@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\xf4\x90\x80\x80@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<\"\xff\"@example.com>", 0, BAD, 0, 0, NULL, NULL },
	/* domain */
	{ "<u@>", 0, BAD, 0, 0, NULL, NULL },
	{ "u@", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com@>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example..com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@.example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com..>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@.>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@-example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example-.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@exa%mple.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@example.com,>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@\"example.com\">", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@b\xfc" "cher.example>", 0, BAD, 0, 0, NULL, NULL },
	/* address literals */
	{ "<u@[127.0.0.256]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[127.0.0.1>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[127.0.0.1]x>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[127.1]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[tag:content]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[::1]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[IPv6:1.2.3.4]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[IPv6:::1%eth0]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[IPv6:]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[IPv6:2001:db8::1]extra>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[ 127.0.0.1]>", 0, BAD, 0, 0, NULL, NULL },
	{ "<u@[[127.0.0.1]]>", 0, BAD, 0, 0, NULL, NULL },
	/* source routes */
	{ "<@:u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x.test,u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x.test,:u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x.test:>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x.test:postmaster>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x.test:u>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x..test:u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@[192.0.2.1]:u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x.test;u@example.com>", 0, BAD, 0, 0, NULL, NULL },
	{ "<@x.test:@y.test:u@example.com>", 0, BAD, 0, 0, NULL, NULL },
};

static void
expect_case(const struct acase *c)
{
	struct address	 a;
	const char	*why = NULL;
	size_t		 len = c->len ? c->len : strlen(c->in);
	int		 rc;

	rc = address_parse(c->in, len, &a, &why);
	if (c->rc == BAD) {
		ck_assert_msg(rc == -1, "accepted malformed \"%s\" (%zu)",
		    c->in, len);
		ck_assert_msg(why != NULL && why[0] != '\0',
		    "no reason for \"%s\"", c->in);
		return;
	}
	ck_assert_msg(rc == 0, "rejected \"%s\": %s", c->in,
	    why ? why : "?");
	ck_assert_msg((int)a.kind == c->kind, "\"%s\": kind %d, want %d",
	    c->in, (int)a.kind, c->kind);
	ck_assert_msg(a.routing == c->routing,
	    "\"%s\": routing %#x, want %#x", c->in, a.routing, c->routing);
	ck_assert_str_eq(a.local, c->local);
	ck_assert_str_eq(a.domain, c->domain);
}

START_TEST(test_table)
{
	expect_case(&cases[_i]);
}
END_TEST

/* Every proper prefix of a bracketed path is malformed. */
static const char *const whole[] = {
	"<u@example.com>",
	"<\"a b\\\"c\"@example.com>",
	"<@a.test,@b.test:u@example.com>",
	"<u@[IPv6:2001:db8::1]>",
	"<u%victim.test@example.com>",
	"<\"u@victim.test\"@example.com>",
	"<Postmaster>",
};

START_TEST(test_truncated)
{
	struct address	 a;
	const char	*why, *in = whole[_i];
	size_t		 n, len = strlen(in);
	char		*copy;

	ck_assert_int_eq(address_parse(in, len, &a, &why), 0);
	for (n = 0; n < len; n++) {
		/* an exact-size heap copy lets ASan catch overreads */
		copy = malloc(n ? n : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, in, n);
		why = NULL;
		ck_assert_msg(address_parse(copy, n, &a, &why) == -1,
		    "accepted truncated \"%.*s\"", (int)n, in);
		ck_assert_ptr_nonnull(why);
		free(copy);
	}
}
END_TEST

static char *
repeat(char c, size_t n, const char *prefix, const char *suffix)
{
	size_t	 pl = strlen(prefix), sl = strlen(suffix);
	char	*s = malloc(pl + n + sl + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

static int
parse_str(const char *s, struct address *a)
{
	const char	*why;

	return address_parse(s, strlen(s), a, &why);
}

START_TEST(test_local_max)
{
	struct address	 a;
	char		*s;

	s = repeat('a', LOCAL_MAX, "<", "@example.com>");
	ck_assert_int_eq(parse_str(s, &a), 0);
	ck_assert_uint_eq(strlen(a.local), LOCAL_MAX);
	free(s);
	s = repeat('a', LOCAL_MAX + 1, "<", "@example.com>");
	ck_assert_int_eq(parse_str(s, &a), -1);
	free(s);
	/* quoted: limit applies to the unescaped text */
	s = repeat('a', LOCAL_MAX, "<\"", "\"@example.com>");
	ck_assert_int_eq(parse_str(s, &a), 0);
	ck_assert_uint_eq(strlen(a.local), LOCAL_MAX);
	free(s);
	s = repeat('a', LOCAL_MAX + 1, "<\"", "\"@example.com>");
	ck_assert_int_eq(parse_str(s, &a), -1);
	free(s);
	s = repeat('a', LOCAL_MAX, "<", ">");
	ck_assert_int_eq(parse_str(s, &a), 0);
	ck_assert_int_eq(a.kind, ADDR_UNQUALIFIED);
	free(s);
	s = repeat('a', LOCAL_MAX + 1, "<", ">");
	ck_assert_int_eq(parse_str(s, &a), -1);
	free(s);
}
END_TEST

/* A name of n octets: labels of 63 'a' joined by dots. */
static char *
long_name(size_t n, size_t label)
{
	char	*s = malloc(n + 1);
	size_t	 i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		s[i] = (i % (label + 1) == label) ? '.' : 'a';
	s[n] = '\0';
	if (s[n - 1] == '.')
		s[n - 1] = 'b';
	return s;
}

START_TEST(test_domain_max)
{
	struct address	 a;
	char		 buf[ADDRESS_MAX * 2];
	char		*name;

	name = long_name(DOMAIN_MAX, LABEL_MAX);
	snprintf(buf, sizeof(buf), "<u@%s>", name);
	ck_assert_int_eq(parse_str(buf, &a), 0);
	ck_assert_str_eq(a.domain, name);
	snprintf(buf, sizeof(buf), "<u@%s.>", name);
	ck_assert_int_eq(parse_str(buf, &a), 0);
	ck_assert_str_eq(a.domain, name);
	free(name);
	name = long_name(DOMAIN_MAX + 1, LABEL_MAX);
	snprintf(buf, sizeof(buf), "<u@%s>", name);
	ck_assert_int_eq(parse_str(buf, &a), -1);
	free(name);
	/* labels of 63 and 64 octets */
	name = repeat('a', LABEL_MAX, "<u@", ".example>");
	ck_assert_int_eq(parse_str(name, &a), 0);
	free(name);
	name = repeat('a', LABEL_MAX + 1, "<u@", ".example>");
	ck_assert_int_eq(parse_str(name, &a), -1);
	free(name);
	/* an over-long domain in a source route */
	name = long_name(DOMAIN_MAX + 1, LABEL_MAX);
	snprintf(buf, sizeof(buf), "<@%s:u@example.com>", name);
	ck_assert_int_eq(parse_str(buf, &a), -1);
	free(name);
}
END_TEST

START_TEST(test_address_max)
{
	struct address	 a;
	char		*s, *name;
	size_t		 pad;

	/* exactly ADDRESS_MAX octets, valid: local + route */
	name = repeat('a', 60, "", "");
	s = malloc(ADDRESS_MAX + 8);
	ck_assert_ptr_nonnull(s);
	snprintf(s, ADDRESS_MAX + 8, "<@%s.test,@%s.test,@%s.test,@%s.test:",
	    name, name, name, name);
	pad = ADDRESS_MAX - strlen(s) - strlen("@example.com>");
	memset(s + strlen(s), 'u', pad);
	s[ADDRESS_MAX - strlen("@example.com>")] = '\0';
	strcat(s, "@example.com>");
	ck_assert_uint_eq(strlen(s), ADDRESS_MAX);
	ck_assert_int_eq(parse_str(s, &a), 0);
	ck_assert_uint_eq(a.routing, ADDR_ROUTE_SOURCE);
	/* one more octet in the route is too long */
	memmove(s + 3, s + 2, ADDRESS_MAX - 1);
	s[2] = 'b';
	ck_assert_uint_eq(strlen(s), ADDRESS_MAX + 1);
	ck_assert_int_eq(parse_str(s, &a), -1);
	free(s);
	free(name);
	/* surrounding spaces do not count */
	s = repeat(' ', 1000, "", "<u@example.com>");
	ck_assert_int_eq(parse_str(s, &a), 0);
	free(s);
}
END_TEST

START_TEST(test_null_path_fields)
{
	struct address	 a;

	memset(&a, 'x', sizeof(a));
	ck_assert_int_eq(parse_str("<>", &a), 0);
	ck_assert_int_eq(a.kind, ADDR_NULL);
	ck_assert_uint_eq(a.routing, 0);
	ck_assert_str_eq(a.local, "");
	ck_assert_str_eq(a.domain, "");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("address");
	TCase	*tc = tcase_create("parse");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_truncated, 0,
	    (int)(sizeof(whole) / sizeof(whole[0])));
	tcase_add_test(tc, test_local_max);
	tcase_add_test(tc, test_domain_max);
	tcase_add_test(tc, test_address_max);
	tcase_add_test(tc, test_null_path_fields);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
