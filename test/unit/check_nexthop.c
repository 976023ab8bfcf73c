/*
 * check_nexthop - unit tests of lib/nexthop.c
 *
 * One hop in rule syntax (normalized or refused with its reason), in
 * Postfix and Sendmail syntax, formatted in each syntax; lists:
 * normalization, refusals (empty, duplicate, too many), the iterator,
 * Postfix and Sendmail renderings of whole routes (and what Sendmail
 * cannot express), conversion from MTA lists; the routing check against
 * the MTA's macros; Sendmail mailer names and ports.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nexthop.h"

struct pcase {
	const char	*in;
	const char	*rule;		/* NULL: refused */
	const char	*postfix;	/* or why, when refused */
	const char	*sendmail;
};

static const struct pcase parse_cases[] = {
	{ "mail.example.net", "mail.example.net", "[mail.example.net]",
	    "[mail.example.net]" },
	{ "Mail.Example.NET.", "mail.example.net", "[mail.example.net]",
	    "[mail.example.net]" },
	{ "mx:Example.NET:2525", "mx:example.net:2525", "example.net:2525",
	    "example.net" },
	{ "192.0.2.7", "192.0.2.7", "[192.0.2.7]", "[192.0.2.7]" },
	{ "[192.0.2.7]:26", "[192.0.2.7]:26", "[192.0.2.7]:26",
	    "[192.0.2.7]" },
	{ "[2001:DB8:0::7]:025", "[2001:db8::7]:25", "[2001:db8::7]:25",
	    "[IPv6:2001:db8::7]" },
	{ "b\xc3\xbc" "cher.de", "xn--bcher-kva.de", "[xn--bcher-kva.de]",
	    "[xn--bcher-kva.de]" },
	{ "", NULL, "empty smart host", NULL },
	{ "mx:", NULL, "empty smart host", NULL },
	{ "2001:db8::7", NULL, "IPv6 address must be in brackets", NULL },
	{ "[mail.test]", NULL, "brackets must hold an IPv4 or IPv6 address",
	    NULL },
	{ "[192.0.2.7", NULL, "missing ']' in smart host", NULL },
	{ "[192.0.2.7]25", NULL, "junk after ']' in smart host", NULL },
	{ "mx:192.0.2.7", NULL, "mx: needs a host name, not an address",
	    NULL },
	{ "192.0.2.300", NULL, "bad IPv4 address", NULL },
	{ "mail.123", NULL, "bad host name (numeric top-level label)", NULL },
	{ "a.test:0", NULL, "bad port (1 to 65535)", NULL },
	{ "a.test:65536", NULL, "bad port (1 to 65535)", NULL },
	{ "a.test:-1", NULL, "bad port (1 to 65535)", NULL },
	{ "mx.:1", NULL, "host \"mx\" with a port reads as mx:PORT", NULL },
	{ "mx", "mx", "[mx]", "[mx]" },
	{ "mx:mx:1", "mx:mx:1", "mx:1", "mx" },
};

START_TEST(test_parse)
{
	const struct pcase	*t = &parse_cases[_i];
	struct nexthop		 hop;
	const char		*why = NULL;
	char			 buf[NEXTHOP_TEXT_MAX + 1];
	int			 rc;

	rc = nexthop_parse(t->in, strlen(t->in), &hop, &why);
	if (t->rule == NULL) {
		ck_assert_msg(rc == -1, "%s accepted", t->in);
		ck_assert_str_eq(why, t->postfix);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", t->in, why);
	ck_assert_int_eq(nexthop_format(&hop, NEXTHOP_RULE, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, t->rule);
	ck_assert_int_eq(nexthop_format(&hop, NEXTHOP_POSTFIX, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, t->postfix);
	ck_assert_int_eq(nexthop_format(&hop, NEXTHOP_SENDMAIL, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, t->sendmail);
	/* too small a buffer fails, never truncates silently */
	ck_assert_int_eq(nexthop_format(&hop, NEXTHOP_RULE, buf,
	    strlen(t->rule)), -1);
}
END_TEST

START_TEST(test_parse_mta)
{
	struct nexthop	 hop;
	const char	*why;
	char		 buf[NEXTHOP_TEXT_MAX + 1];

	ck_assert_int_eq(nexthop_parse_mta("[Mail.Test]:2525", 16,
	    NEXTHOP_POSTFIX, &hop, &why), 0);
	ck_assert_int_eq(hop.mx, 0);
	ck_assert_int_eq(hop.family, 0);
	ck_assert_uint_eq(hop.port, 2525);
	ck_assert_str_eq(hop.host, "mail.test");
	ck_assert_int_eq(nexthop_parse_mta("mx.test", 7, NEXTHOP_POSTFIX,
	    &hop, &why), 0);
	ck_assert_int_eq(hop.mx, 1);
	ck_assert_uint_eq(nexthop_port(&hop), 25);
	ck_assert_int_eq(nexthop_parse_mta("[IPv6:2001:db8::1]", 18,
	    NEXTHOP_SENDMAIL, &hop, &why), 0);
	ck_assert_int_eq(hop.family, AF_INET6);
	nexthop_format(&hop, NEXTHOP_RULE, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[2001:db8::1]");
	ck_assert_int_eq(nexthop_parse_mta("[IPv6:2001:db8::1]", 18,
	    NEXTHOP_POSTFIX, &hop, &why), -1);
	ck_assert_int_eq(nexthop_parse_mta("[10.0.0.1]", 10,
	    NEXTHOP_POSTFIX, &hop, &why), 0);
	nexthop_format(&hop, NEXTHOP_RULE, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[10.0.0.1]");
	ck_assert_int_eq(nexthop_parse_mta("[10.0.0.1", 9, NEXTHOP_POSTFIX,
	    &hop, &why), -1);
	ck_assert_str_eq(why, "missing ']'");
	ck_assert_int_eq(nexthop_parse_mta("", 0, NEXTHOP_POSTFIX, &hop,
	    &why), -1);
}
END_TEST

START_TEST(test_same)
{
	struct nexthop	 a, b;
	const char	*why;

	ck_assert_int_eq(nexthop_parse("192.0.2.1", 9, &a, &why), 0);
	ck_assert_int_eq(nexthop_parse("[192.0.2.1]:25", 14, &b, &why), 0);
	ck_assert_int_eq(nexthop_same(&a, &b), 1);
	ck_assert_int_eq(nexthop_parse("[192.0.2.1]:26", 14, &b, &why), 0);
	ck_assert_int_eq(nexthop_same(&a, &b), 0);
	ck_assert_int_eq(nexthop_parse("mx:a.test", 9, &a, &why), 0);
	ck_assert_int_eq(nexthop_parse("A.test", 6, &b, &why), 0);
	ck_assert_int_eq(nexthop_same(&a, &b), 1);
	ck_assert_int_eq(nexthop_parse("b.test", 6, &b, &why), 0);
	ck_assert_int_eq(nexthop_same(&a, &b), 0);
}
END_TEST

struct lcase {
	const char	*in;
	const char	*out;		/* NULL: refused, why in postfix */
	const char	*postfix;	/* transport(5) route */
	const char	*sendmail;	/* mailertable route, NULL: refused */
};

static const struct lcase list_cases[] = {
	{ "[192.0.2.25]", "[192.0.2.25]", "smtp:[192.0.2.25]",
	    "esmtp:[192.0.2.25]" },
	{ "[192.0.2.25],[192.0.2.26]:2525", "[192.0.2.25],[192.0.2.26]:2525",
	    "smtp:[192.0.2.25],[192.0.2.26]:2525", NULL },
	{ " a.test:2525 , mx:B.test:2525,[2001:db8::1]:2525",
	    "a.test:2525,mx:b.test:2525,[2001:db8::1]:2525",
	    "smtp:[a.test]:2525,b.test:2525,[2001:db8::1]:2525",
	    "esmtp2525:[a.test]:b.test:[IPv6:2001:db8::1]" },
	{ "a.test:25,b.test", "a.test:25,b.test",
	    "smtp:[a.test]:25,[b.test]", "esmtp:[a.test]:[b.test]" },
	{ "", NULL, "empty smart host", NULL },
	{ "a.test,", NULL, "empty hop in smart host list", NULL },
	{ ",a.test", NULL, "empty hop in smart host list", NULL },
	{ "a.test, ,b.test", NULL, "empty hop in smart host list", NULL },
	{ "a.test,A.TEST.", NULL, "duplicate hop in smart host list", NULL },
	{ "[192.0.2.1],192.0.2.1:25", NULL,
	    "duplicate hop in smart host list", NULL },
	{ "a.test,[b.test]", NULL,
	    "brackets must hold an IPv4 or IPv6 address", NULL },
	{ "h1.test,h2.test,h3.test,h4.test,h5.test,h6.test,h7.test,h8.test,"
	    "h9.test", NULL, "more than 8 hops in a smart host list", NULL },
};

START_TEST(test_list)
{
	const struct lcase	*t = &list_cases[_i];
	char			 out[NEXTHOP_LIST_TEXT_MAX + 1], route[1024];
	const char		*why = NULL;
	int			 rc;

	rc = nexthop_list_normalize(t->in, out, sizeof(out), &why);
	if (t->out == NULL) {
		ck_assert_msg(rc == -1, "%s accepted", t->in);
		ck_assert_str_eq(why, t->postfix);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", t->in, why);
	ck_assert_str_eq(out, t->out);
	ck_assert_int_eq(nexthop_route(out, NULL, NEXTHOP_POSTFIX, route,
	    sizeof(route), &why), 0);
	ck_assert_str_eq(route, t->postfix);
	rc = nexthop_route(out, "relay", NEXTHOP_SENDMAIL, route,
	    sizeof(route), &why);
	if (t->sendmail == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(why, "different ports") != NULL, "%s",
		    why);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(route, t->sendmail);
	}
	/* normalized input stays the same */
	ck_assert_int_eq(nexthop_list_normalize(t->out, route,
	    sizeof(route), &why), 0);
	ck_assert_str_eq(route, t->out);
	/* a buffer one octet short fails */
	ck_assert_int_eq(nexthop_list_normalize(t->in, out, strlen(t->out),
	    &why), -1);
}
END_TEST

START_TEST(test_list_iterate)
{
	const char	*list = "mx:a.test,[192.0.2.1]:2525,[2001:db8::1]";
	const char	*cursor = list;
	struct nexthop	 hop;

	ck_assert_int_eq(nexthop_list_next(&cursor, &hop), 1);
	ck_assert_str_eq(hop.host, "a.test");
	ck_assert_int_eq(hop.mx, 1);
	ck_assert_uint_eq(nexthop_port(&hop), 25);
	ck_assert_int_eq(nexthop_list_next(&cursor, &hop), 1);
	ck_assert_str_eq(hop.host, "192.0.2.1");
	ck_assert_int_eq(hop.family, AF_INET);
	ck_assert_uint_eq(nexthop_port(&hop), 2525);
	ck_assert_int_eq(nexthop_list_next(&cursor, &hop), 1);
	ck_assert_str_eq(hop.host, "2001:db8::1");
	ck_assert_int_eq(hop.family, AF_INET6);
	ck_assert_int_eq(nexthop_list_next(&cursor, &hop), 0);
	ck_assert_int_eq(nexthop_list_next(&cursor, &hop), 0);
	cursor = "bad..name";
	ck_assert_int_eq(nexthop_list_next(&cursor, &hop), -1);
	cursor = NULL;
	ck_assert_int_eq(nexthop_list_next(&cursor, &hop), 0);
	ck_assert_int_eq(nexthop_parse("[192.0.2.1]:2525", 16, &hop,
	    &cursor), 0);
	ck_assert_int_eq(nexthop_list_has(list, &hop), 1);
	hop.port = 0;
	ck_assert_int_eq(nexthop_list_has(list, &hop), 0);
}
END_TEST

static const struct {
	const char	*in;
	int		 sendmail;
	unsigned	 port;
	const char	*out;		/* NULL: refused */
} from_mta_cases[] = {
	{ "[10.0.0.1],[10.0.0.2]:2525", 0, 0, "[10.0.0.1],[10.0.0.2]:2525" },
	{ "[10.0.0.1] ,  mx.test", 0, 0, "[10.0.0.1],mx:mx.test" },
	{ "[h1.test]:h2.test", 1, 2526, "h1.test:2526,mx:h2.test:2526" },
	{ "[IPv6:2001:db8::1]:[10.0.0.1]", 1, 0, "[2001:db8::1],[10.0.0.1]" },
	{ "[10.0.0.1]:[10.0.0.1]", 1, 0, NULL },
	{ "[10.0.0.1]::h.test", 1, 0, NULL },
	{ "[IPv6:2001:db8::1]", 0, 0, NULL },
	{ "", 0, 0, NULL },
	{ " , ", 0, 0, NULL },
};

START_TEST(test_from_mta)
{
	char		 out[NEXTHOP_LIST_TEXT_MAX + 1];
	const char	*why;
	int		 rc;

	rc = nexthop_list_from_mta(from_mta_cases[_i].in,
	    from_mta_cases[_i].sendmail ? NEXTHOP_SENDMAIL : NEXTHOP_POSTFIX,
	    from_mta_cases[_i].port, out, sizeof(out), &why);
	if (from_mta_cases[_i].out == NULL) {
		ck_assert_msg(rc == -1, "%s accepted: %s",
		    from_mta_cases[_i].in, out);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", from_mta_cases[_i].in, why);
	ck_assert_str_eq(out, from_mta_cases[_i].out);
}
END_TEST

static const struct {
	const char	*list;
	const char	*mailer;
	const char	*host;
	int		 covers;
} covers_cases[] = {
	/* Postfix: the transport and the next hop (one or the list) */
	{ "[10.0.0.1]", "smtp", "[10.0.0.1]", 1 },
	{ "[10.0.0.1]", "smtp", "[10.0.0.2]", 0 },
	{ "[10.0.0.1]:2525", "smtp", "[10.0.0.1]:2525", 1 },
	{ "[10.0.0.1]:2525", "smtp", "[10.0.0.1]", 0 },
	{ "[10.0.0.1],[10.0.0.2]:2525", "smtp", "[10.0.0.2]:2525", 1 },
	{ "[10.0.0.1],[10.0.0.2]:2525", "smtp",
	    "[10.0.0.1],[10.0.0.2]:2525", 1 },
	{ "[10.0.0.1],[10.0.0.2]:2525", "smtp",
	    "[10.0.0.1], [10.0.0.3]:2525", 0 },
	{ "mx:a.test", "smtp", "A.Test.", 1 },
	{ "a.test:26", "relay", "[a.test]:26", 1 },
	/* Sendmail: the mailer carries the port, hosts split by ':' */
	{ "[10.0.0.1]:2525", "esmtp2525", "[10.0.0.1]", 1 },
	{ "[10.0.0.1]:2525", "esmtp", "[10.0.0.1]", 0 },
	{ "[10.0.0.1]:2525,[10.0.0.2]:2525", "esmtp2525",
	    "[10.0.0.1]:[10.0.0.2]", 1 },
	{ "[2001:db8::1]", "esmtp", "[IPv6:2001:db8::1]", 1 },
	{ "h1.test,mx:h2.test", "esmtp", "h1.test:[h2.test]", 1 },
	{ "h1.test", "esmtp", "h1.test:h3.test", 0 },
	{ "h1.test", "esmtp", "[h1.test", 0 },
	{ "h1.test", "esmtp", ",", 0 },
	{ "h1.test", NULL, "h1.test", 1 },
};

START_TEST(test_covers)
{
	ck_assert_msg(nexthop_route_covers(covers_cases[_i].list,
	    covers_cases[_i].mailer, covers_cases[_i].host) ==
	    covers_cases[_i].covers, "%s vs %s:%s", covers_cases[_i].list,
	    covers_cases[_i].mailer, covers_cases[_i].host);
}
END_TEST

START_TEST(test_mailer)
{
	char		buf[NEXTHOP_MAILER_MAX];
	unsigned	port;

	ck_assert_int_eq(nexthop_mailer(0, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "esmtp");
	ck_assert_int_eq(nexthop_mailer(25, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "esmtp");
	ck_assert_int_eq(nexthop_mailer(2525, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "esmtp2525");
	ck_assert_int_eq(nexthop_mailer(2525, buf, 9), -1);
	ck_assert_int_eq(nexthop_mailer_port("esmtp2525", &port), 0);
	ck_assert_uint_eq(port, 2525);
	ck_assert_int_eq(nexthop_mailer_port("esmtp", &port), -1);
	ck_assert_int_eq(nexthop_mailer_port("esmtp0", &port), -1);
	ck_assert_int_eq(nexthop_mailer_port("esmtp99999", &port), -1);
	ck_assert_int_eq(nexthop_mailer_port("esmtpx", &port), -1);
	ck_assert_int_eq(nexthop_mailer_port("smtp25", &port), -1);
}
END_TEST

static Suite *
nexthop_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("nexthop");
	tc = tcase_create("nexthop");
	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof(parse_cases) / sizeof(parse_cases[0])));
	tcase_add_test(tc, test_parse_mta);
	tcase_add_test(tc, test_same);
	tcase_add_loop_test(tc, test_list, 0,
	    (int)(sizeof(list_cases) / sizeof(list_cases[0])));
	tcase_add_test(tc, test_list_iterate);
	tcase_add_loop_test(tc, test_from_mta, 0,
	    (int)(sizeof(from_mta_cases) / sizeof(from_mta_cases[0])));
	tcase_add_loop_test(tc, test_covers, 0,
	    (int)(sizeof(covers_cases) / sizeof(covers_cases[0])));
	tcase_add_test(tc, test_mailer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(nexthop_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
