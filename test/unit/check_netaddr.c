/*
 * check_netaddr - unit tests of lib/util/netaddr.c
 *
 * Address parsing and IPv4-mapped folding, sockaddr conversion, CIDR
 * syntax (prefix bounds, host bits, strict prefix digits) and membership
 * tables covering /0, /32, /128, partial-byte prefixes and mapped
 * addresses on either side.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "netaddr.h"

struct pcase {
	const char	*in;
	int		 rc;
	int		 family;
	const char	*formatted;	/* netaddr_format() of the result */
};

static const struct pcase parse_cases[] = {
	{ "127.0.0.1", 0, AF_INET, "127.0.0.1" },
	{ "0.0.0.0", 0, AF_INET, "0.0.0.0" },
	{ "255.255.255.255", 0, AF_INET, "255.255.255.255" },
	{ "::1", 0, AF_INET6, "::1" },
	{ "::", 0, AF_INET6, "::" },
	{ "2001:DB8:0:0:0:0:0:7", 0, AF_INET6, "2001:db8::7" },
	{ "::ffff:192.0.2.1", 0, AF_INET, "192.0.2.1" },
	{ "::FFFF:c000:0201", 0, AF_INET, "192.0.2.1" },
	{ "::192.0.2.1", 0, AF_INET6, "::192.0.2.1" },	/* compatible, not mapped */
	{ "::fffe:192.0.2.1", 0, AF_INET6, "::fffe:c000:201" },
	{ "64:ff9b::192.0.2.1", 0, AF_INET6, "64:ff9b::c000:201" },
	{ "256.0.0.1", -1, 0, NULL },
	{ "1.2.3", -1, 0, NULL },
	{ "01.2.3.4", -1, 0, NULL },
	{ "1.2.3.4 ", -1, 0, NULL },
	{ " 1.2.3.4", -1, 0, NULL },
	{ "[::1]", -1, 0, NULL },
	{ "::1%lo", -1, 0, NULL },
	{ "1.2.3.4/32", -1, 0, NULL },
	{ "1.2.3.4:25", -1, 0, NULL },
	{ ":::", -1, 0, NULL },
	{ "", -1, 0, NULL },
	{ "localhost", -1, 0, NULL },
};

START_TEST(test_parse)
{
	const struct pcase	*c = &parse_cases[_i];
	struct netaddr		 a;
	char			 buf[64];

	ck_assert_msg(netaddr_parse(c->in, &a) == c->rc, "\"%s\"", c->in);
	if (c->rc != 0)
		return;
	ck_assert_int_eq(a.family, c->family);
	netaddr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, c->formatted);
}
END_TEST

START_TEST(test_parse_null_and_small_buffer)
{
	struct netaddr	a;
	char		buf[4];

	ck_assert_int_eq(netaddr_parse(NULL, &a), -1);
	ck_assert_int_eq(netaddr_parse("192.0.2.1", &a), 0);
	memset(buf, 'x', sizeof(buf));
	netaddr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_sockaddr)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct sockaddr_un	sun;
	struct netaddr		a;
	char			buf[64];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	ck_assert_int_eq(inet_pton(AF_INET, "203.0.113.5", &sin.sin_addr), 1);
	ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)&sin, &a),
	    0);
	ck_assert_int_eq(a.family, AF_INET);
	netaddr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "203.0.113.5");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1",
	    &sin6.sin6_addr), 1);
	ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a),
	    0);
	ck_assert_int_eq(a.family, AF_INET);
	netaddr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.0.0.1");

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::25",
	    &sin6.sin6_addr), 1);
	ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a),
	    0);
	ck_assert_int_eq(a.family, AF_INET6);
	netaddr_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8::25");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)&sun, &a),
	    -1);
	ck_assert_int_eq(netaddr_from_sockaddr(NULL, &a), -1);
}
END_TEST

/* netlist_add syntax: 1 good, 0 bad */
struct acase {
	const char	*cidr;
	int		 ok;
};

static const struct acase add_cases[] = {
	{ "0.0.0.0/0", 1 },
	{ "127.0.0.0/8", 1 },
	{ "192.0.2.1", 1 },
	{ "192.0.2.1/32", 1 },
	{ "192.0.2.128/25", 1 },
	{ "::/0", 1 },
	{ "::1/128", 1 },
	{ "::1", 1 },
	{ "2001:db8::/32", 1 },
	{ "2001:db8:8000::/33", 1 },
	{ "::ffff:10.0.0.0/104", 1 },
	{ "::ffff:0.0.0.0/96", 1 },
	{ "::ffff:192.0.2.7/128", 1 },
	{ "::ffff:192.0.2.7", 1 },
	/* prefix out of range or malformed */
	{ "192.0.2.0/33", 0 },
	{ "2001:db8::/129", 0 },
	{ "192.0.2.0/-1", 0 },
	{ "192.0.2.0/+24", 0 },
	{ "192.0.2.0/024", 0 },
	{ "192.0.2.0/00", 0 },
	{ "192.0.2.0/", 0 },
	{ "192.0.2.0/ 24", 0 },
	{ "192.0.2.0/24 ", 0 },
	{ "192.0.2.0/24/24", 0 },
	{ "192.0.2.0/1000", 0 },
	{ "192.0.2.0/4294967320", 0 },
	{ "/24", 0 },
	{ "", 0 },
	{ "192.0.2/24", 0 },
	{ "example.com/24", 0 },
	{ "[::1]/128", 0 },
	/* host bits below the prefix */
	{ "192.0.2.1/24", 0 },
	{ "127.0.0.1/8", 0 },
	{ "192.0.2.129/25", 0 },
	{ "0.0.0.1/0", 0 },
	{ "::1/0", 0 },
	{ "2001:db8::1/64", 0 },
	{ "2001:db8:8000::/32", 0 },
	{ "::ffff:10.0.0.1/104", 0 },
	{ "::ffff:0.0.0.0/95", 0 },
	{ "::ffff:0.0.0.0/80", 0 },
};

START_TEST(test_add)
{
	const struct acase	*c = &add_cases[_i];
	struct netlist		*list = netlist_new();
	const char		*why = NULL;
	int			 rc;

	ck_assert_ptr_nonnull(list);
	rc = netlist_add(list, c->cidr, &why);
	if (c->ok) {
		ck_assert_msg(rc == 0, "\"%s\": %s", c->cidr, why);
		ck_assert_uint_eq(netlist_count(list), 1);
	} else {
		ck_assert_msg(rc == -1, "accepted \"%s\"", c->cidr);
		ck_assert_ptr_nonnull(why);
		ck_assert_uint_eq(netlist_count(list), 0);
	}
	netlist_free(list);
}
END_TEST

START_TEST(test_add_messages)
{
	struct netlist	*list = netlist_new();
	const char	*why;

	ck_assert_int_eq(netlist_add(list, "192.0.2.1/24", &why), -1);
	ck_assert_str_eq(why, "host bits set below the prefix length");
	ck_assert_int_eq(netlist_add(list, "192.0.2.0/33", &why), -1);
	ck_assert_str_eq(why, "bad prefix length (0-32)");
	ck_assert_int_eq(netlist_add(list, "::/129", &why), -1);
	ck_assert_str_eq(why, "bad prefix length (0-128)");
	ck_assert_int_eq(netlist_add(list, "nonsense", &why), -1);
	ck_assert_str_eq(why, "bad network address");
	ck_assert_int_eq(netlist_add(NULL, "::1", &why), -1);
	netlist_free(list);
}
END_TEST

/* Membership: one network, one client, expected 1 or 0. */
struct mcase {
	const char	*net;
	const char	*client;
	int		 in;
};

static const struct mcase member_cases[] = {
	/* /0 */
	{ "0.0.0.0/0", "1.2.3.4", 1 },
	{ "0.0.0.0/0", "255.255.255.255", 1 },
	{ "0.0.0.0/0", "::ffff:1.2.3.4", 1 },
	{ "0.0.0.0/0", "::1", 0 },
	{ "::/0", "2001:db8::1", 1 },
	{ "::/0", "::1", 1 },
	{ "::/0", "1.2.3.4", 0 },
	{ "::/0", "::ffff:1.2.3.4", 0 },
	/* /32 and /128 */
	{ "192.0.2.7/32", "192.0.2.7", 1 },
	{ "192.0.2.7/32", "192.0.2.6", 0 },
	{ "192.0.2.7/32", "192.0.2.8", 0 },
	{ "192.0.2.7", "192.0.2.7", 1 },
	{ "192.0.2.7", "::ffff:192.0.2.7", 1 },
	{ "::1/128", "::1", 1 },
	{ "::1/128", "::2", 0 },
	{ "::1/128", "127.0.0.1", 0 },
	{ "2001:db8::7/128", "2001:db8::7", 1 },
	{ "2001:db8::7", "2001:db8::8", 0 },
	/* byte and partial-byte prefixes */
	{ "127.0.0.0/8", "127.0.0.1", 1 },
	{ "127.0.0.0/8", "127.255.255.255", 1 },
	{ "127.0.0.0/8", "128.0.0.1", 0 },
	{ "127.0.0.0/8", "126.255.255.255", 0 },
	{ "192.0.2.128/25", "192.0.2.128", 1 },
	{ "192.0.2.128/25", "192.0.2.255", 1 },
	{ "192.0.2.128/25", "192.0.2.127", 0 },
	{ "10.0.0.0/9", "10.127.255.255", 1 },
	{ "10.0.0.0/9", "10.128.0.0", 0 },
	{ "128.0.0.0/1", "200.1.1.1", 1 },
	{ "128.0.0.0/1", "100.1.1.1", 0 },
	{ "192.0.2.0/31", "192.0.2.1", 1 },
	{ "192.0.2.0/31", "192.0.2.2", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8:8000::/33", "2001:db8:8000::1", 1 },
	{ "2001:db8:8000::/33", "2001:db8:7fff::1", 0 },
	{ "fe80::/10", "febf::1", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	{ "2001:db8::/127", "2001:db8::1", 1 },
	{ "2001:db8::/127", "2001:db8::2", 0 },
	/* mapped addresses, both ways */
	{ "127.0.0.0/8", "::ffff:127.0.0.1", 1 },
	{ "127.0.0.0/8", "::ffff:128.0.0.1", 0 },
	{ "::ffff:127.0.0.0/104", "127.0.0.1", 1 },
	{ "::ffff:127.0.0.0/104", "::ffff:127.9.9.9", 1 },
	{ "::ffff:127.0.0.0/104", "128.0.0.1", 0 },
	{ "::ffff:0.0.0.0/96", "8.8.8.8", 1 },
	{ "::ffff:0.0.0.0/96", "2001:db8::1", 0 },
	{ "::ffff:192.0.2.7", "192.0.2.7", 1 },
	{ "::ffff:192.0.2.7", "192.0.2.8", 0 },
	/* not mapped: ::a.b.c.d and ::fffe: stay IPv6 */
	{ "127.0.0.0/8", "::127.0.0.1", 0 },
	{ "127.0.0.0/8", "::fffe:127.0.0.1", 0 },
	{ "::127.0.0.0/104", "127.0.0.1", 0 },
};

START_TEST(test_member)
{
	const struct mcase	*c = &member_cases[_i];
	struct netlist		*list = netlist_new();
	struct netaddr		 a;
	const char		*why;

	ck_assert_msg(netlist_add(list, c->net, &why) == 0, "\"%s\"", c->net);
	ck_assert_int_eq(netaddr_parse(c->client, &a), 0);
	ck_assert_msg(netlist_contains(list, &a) == c->in,
	    "%s in %s: want %d", c->client, c->net, c->in);
	netlist_free(list);
}
END_TEST

START_TEST(test_unfolded_mapped_client)
{
	struct netlist	*list = netlist_new();
	struct netaddr	 a;
	const char	*why;

	/* a client built by hand, mapped but not folded, still matches */
	ck_assert_int_eq(netlist_add(list, "10.0.0.0/8", &why), 0);
	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:10.1.2.3", a.bytes), 1);
	ck_assert_int_eq(netlist_contains(list, &a), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:11.1.2.3", a.bytes), 1);
	ck_assert_int_eq(netlist_contains(list, &a), 0);
	netlist_free(list);
}
END_TEST

START_TEST(test_list)
{
	static const char *const nets[] = {
		"127.0.0.0/8", "::1/128", "192.0.2.0/24", "2001:db8::/48",
		"10.0.0.0/8", "172.16.0.0/12", "198.51.100.7",
	};
	struct netlist	*list = netlist_new();
	struct netaddr	 a;
	const char	*why;
	size_t		 i;
	char		 buf[64];

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		ck_assert_int_eq(netlist_add(list, nets[i], &why), 0);
	ck_assert_uint_eq(netlist_count(list), 7);
	/* a failed add changes nothing */
	ck_assert_int_eq(netlist_add(list, "10.0.0.1/8", &why), -1);
	ck_assert_uint_eq(netlist_count(list), 7);
	/* one client in each network, and around the edges */
	for (i = 0; i < 256; i++) {
		snprintf(buf, sizeof(buf), "172.%zu.0.1", i);
		ck_assert_int_eq(netaddr_parse(buf, &a), 0);
		ck_assert_int_eq(netlist_contains(list, &a),
		    i >= 16 && i <= 31);
	}
	ck_assert_int_eq(netaddr_parse("2001:db8:0:ffff::1", &a), 0);
	ck_assert_int_eq(netlist_contains(list, &a), 1);
	ck_assert_int_eq(netaddr_parse("2001:db8:1::1", &a), 0);
	ck_assert_int_eq(netlist_contains(list, &a), 0);
	ck_assert_int_eq(netaddr_parse("198.51.100.7", &a), 0);
	ck_assert_int_eq(netlist_contains(list, &a), 1);
	ck_assert_int_eq(netaddr_parse("203.0.113.5", &a), 0);
	ck_assert_int_eq(netlist_contains(list, &a), 0);
	ck_assert_int_eq(netlist_contains(NULL, &a), 0);
	ck_assert_uint_eq(netlist_count(NULL), 0);
	netlist_free(list);
	netlist_free(NULL);
}
END_TEST

START_TEST(test_empty_list)
{
	struct netlist	*list = netlist_new();
	struct netaddr	 a;

	ck_assert_int_eq(netaddr_parse("127.0.0.1", &a), 0);
	ck_assert_int_eq(netlist_contains(list, &a), 0);
	ck_assert_uint_eq(netlist_count(list), 0);
	netlist_free(list);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("netaddr");
	TCase	*tc = tcase_create("netaddr");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof(parse_cases) / sizeof(parse_cases[0])));
	tcase_add_test(tc, test_parse_null_and_small_buffer);
	tcase_add_test(tc, test_sockaddr);
	tcase_add_loop_test(tc, test_add, 0,
	    (int)(sizeof(add_cases) / sizeof(add_cases[0])));
	tcase_add_test(tc, test_add_messages);
	tcase_add_loop_test(tc, test_member, 0,
	    (int)(sizeof(member_cases) / sizeof(member_cases[0])));
	tcase_add_test(tc, test_unfolded_mapped_client);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_empty_list);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
