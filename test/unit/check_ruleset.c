/*
 * check_ruleset - unit tests of lib/util/domain.c, lib/ruleset.c and
 * lib/rulevalue.c
 *
 * domain_normalize() on a table of names (case, trailing dot, IDN, length
 * limits, label syntax); smarthost, reply and transport checks; the exact
 * error messages of ruleset_add(); lookups with their matched name length;
 * interning; walk order; and a randomized comparison of ruleset_lookup()
 * with an independent reference (a sorted array of patterns searched with
 * a parent walk) over sets large enough to rebuild the trie many times.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "ruleset.h"

#define L63	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L61	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define N253	L63 "." L63 "." L63 "." L61

struct ncase {
	const char	*in;
	const char	*out;		/* NULL: error */
	const char	*why;		/* expected error */
};

static const struct ncase ncases[] = {
	{ "example.com", "example.com", NULL },
	{ "Example.COM", "example.com", NULL },
	{ "example.com.", "example.com", NULL },
	{ "EXAMPLE.COM.", "example.com", NULL },
	{ "com", "com", NULL },
	{ "a-b.c_d.123", "a-b.c_d.123", NULL },
	{ "_dmarc.example.com", "_dmarc.example.com", NULL },
	{ "xn--bcher-kva.de", "xn--bcher-kva.de", NULL },
	{ "XN--BCHER-KVA.DE", "xn--bcher-kva.de", NULL },
	{ "b\xc3\xbc" "cher.de", "xn--bcher-kva.de", NULL },
	{ "B\xc3\x9c" "CHER.DE", "xn--bcher-kva.de", NULL },
	{ "b\xc3\xbc" "cher.de.", "xn--bcher-kva.de", NULL },
	{ "fa\xc3\x9f.de", "xn--fa-hia.de", NULL },
	{ "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
	    "xn--r8jz45g.xn--zckzah", NULL },
	{ L63 ".com", L63 ".com", NULL },
	{ N253, N253, NULL },
	{ N253 ".", N253, NULL },
	{ "", NULL, "empty domain name" },
	{ ".", NULL, "empty domain name" },
	{ "example.com..", NULL, "empty label in domain name" },
	{ ".example.com", NULL, "empty label in domain name" },
	{ "a..b", NULL, "empty label in domain name" },
	{ "-a.com", NULL, "label starts with a hyphen" },
	{ "a.-b.com", NULL, "label starts with a hyphen" },
	{ "a-.com", NULL, "label ends with a hyphen" },
	{ "a.com-", NULL, "label ends with a hyphen" },
	{ "a b.com", NULL, "bad character in domain name" },
	{ "exa$mple.com", NULL, "bad character in domain name" },
	{ "a@b.com", NULL, "bad character in domain name" },
	{ "[127.0.0.1]", NULL, "bad character in domain name" },
	{ L63 "a.com", NULL, "label longer than 63 octets" },
	{ "a" N253, NULL, "domain name longer than 253 octets" },
	{ "\xff.com", NULL, "invalid internationalized domain name" },
	{ "b\xc3\xbc" "cher..de", NULL, "empty label in domain name" },
};

START_TEST(test_normalize)
{
	const struct ncase	*t = &ncases[_i];
	char			 out[DOMAIN_MAX + 1];
	const char		*why = NULL;
	int			 rc;

	rc = domain_normalize(t->in, strlen(t->in), out, &why);
	if (t->out != NULL) {
		ck_assert_msg(rc == 0, "%s: %s", t->in, why);
		ck_assert_str_eq(out, t->out);
	} else {
		ck_assert_msg(rc == -1, "%s accepted as %s", t->in, out);
		ck_assert_str_eq(why, t->why);
	}
}
END_TEST

START_TEST(test_normalize_len)
{
	char		 out[DOMAIN_MAX + 1];
	const char	*why;

	/* only len octets are read; a NUL inside is an error */
	ck_assert_int_eq(domain_normalize("example.comXYZ", 11, out, &why), 0);
	ck_assert_str_eq(out, "example.com");
	ck_assert_int_eq(domain_normalize("exa\0mple.com", 12, out, &why), -1);
	ck_assert_int_eq(domain_normalize("\xc3\xbc\0.com", 6, out, &why), -1);
	ck_assert_int_eq(domain_label_count("example.com"), 2);
	ck_assert_int_eq(domain_label_count("com"), 1);
	ck_assert_int_eq(domain_label_count("a.b.c.d"), 4);
	ck_assert_int_eq(domain_label_count(""), 0);
}
END_TEST

struct vcase {
	const char	*in;
	const char	*out;		/* normalized, NULL: invalid */
	const char	*why;
};

static const struct vcase smarthosts[] = {
	{ "mail.example.net", "mail.example.net", NULL },
	{ "Mail.Example.NET.", "mail.example.net", NULL },
	{ "mail.example.net:2525", "mail.example.net:2525", NULL },
	{ "mx:example.net", "mx:example.net", NULL },
	{ "MX:Example.NET:25", "mx:example.net:25", NULL },
	{ "192.0.2.7", "192.0.2.7", NULL },
	{ "192.0.2.7:25", "192.0.2.7:25", NULL },
	{ "[192.0.2.7]", "[192.0.2.7]", NULL },
	{ "[192.0.2.7]:2525", "[192.0.2.7]:2525", NULL },
	{ "[2001:db8::7]", "[2001:db8::7]", NULL },
	{ "[2001:DB8:0::7]:65535", "[2001:db8::7]:65535", NULL },
	{ "b\xc3\xbc" "cher.de", "xn--bcher-kva.de", NULL },
	{ "localhost:1", "localhost:1", NULL },
	{ "", NULL, "empty smart host" },
	{ ":25", NULL, "empty smart host" },
	{ "mx:", NULL, "empty smart host" },
	{ "2001:db8::7", NULL, "IPv6 address must be in brackets" },
	{ "[2001:db8::7", NULL, "missing ']' in smart host" },
	{ "[]", NULL, "bad address in brackets" },
	{ "[mail.example.net]", NULL,
	    "brackets must hold an IPv4 or IPv6 address" },
	{ "[192.0.2.7]x", NULL, "junk after ']' in smart host" },
	{ "192.0.2.300", NULL, "bad IPv4 address" },
	{ "192.0.2", NULL, "bad IPv4 address" },
	{ "mail.123", NULL, "bad host name (numeric top-level label)" },
	{ "mx:192.0.2.7", NULL, "mx: needs a host name, not an address" },
	{ "mx:[192.0.2.7]", NULL, "mx: needs a host name, not an address" },
	{ "mail.example.net:0", NULL, "bad port (1 to 65535)" },
	{ "mail.example.net:65536", NULL, "bad port (1 to 65535)" },
	{ "mail.example.net:", NULL, "bad port (1 to 65535)" },
	{ "mail.example.net:smtp", NULL, "bad port (1 to 65535)" },
	{ "mail.example.net:123456", NULL, "bad port (1 to 65535)" },
	{ "[192.0.2.7]:x", NULL, "bad port (1 to 65535)" },
	{ "mail..example.net", NULL, "empty label in domain name" },
	{ "mail example.net", NULL, "bad character in domain name" },
};

/* the smart host of the rule before is not parsed again: same answers */
START_TEST(test_smarthost_repeat)
{
	static const struct {
		const char	*pattern, *smarthost, *want;
	} adds[] = {
		{ "a.example", "[192.0.2.1]:25", "[192.0.2.1]:25" },
		{ "b.example", "[192.0.2.1]:25", "[192.0.2.1]:25" },
		{ "c.example", "MX.Example.ORG", "mx.example.org" },
		{ "d.example", "[192.0.2.1]:25", "[192.0.2.1]:25" },
		{ "e.example", "MX.Example.ORG", "mx.example.org" },
	};
	struct ruleset		*set;
	struct rule_spec	 spec;
	const struct rule	*r;
	char			 err[256];
	size_t			 i;

	set = ruleset_new();
	memset(&spec, 0, sizeof(spec));
	for (i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		spec.smarthost = adds[i].smarthost;
		ck_assert_int_eq(ruleset_add(set, adds[i].pattern, &spec, err,
		    sizeof(err)), 0);
	}
	for (i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		r = ruleset_lookup(set, adds[i].pattern, NULL);
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r->smarthost, adds[i].want);
	}
	/* a bad one after a good one, twice: refused each time */
	spec.smarthost = "mx.example:99999";
	ck_assert_int_eq(ruleset_add(set, "f.example", &spec, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "bad smarthost") != NULL, "%s", err);
	ck_assert_int_eq(ruleset_add(set, "g.example", &spec, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "bad smarthost") != NULL, "%s", err);
	ck_assert_uint_eq(ruleset_count(set), 5);
	ruleset_free(set);
}
END_TEST

/* rule_same: rules of two sets compared by value, not by pointer */
START_TEST(test_rule_same)
{
	static const struct {
		const char	*pattern, *relay, *smarthost, *reply;
		int		 same;
	} cases[] = {
		{ "a.example", NULL, "[192.0.2.1]:25", NULL, 1 },
		{ "b.example", NULL, "[192.0.2.2]:25", NULL, 0 },
		{ "c.example", "deny", NULL, "550 5.7.1 Go away", 1 },
		{ "d.example", "deny", NULL, "550 5.7.1 Elsewhere", 0 },
		{ "#e.example", "trusted", NULL, NULL, 1 },
		{ "#f.example", "always", NULL, NULL, 0 },
	};
	struct ruleset		*x, *y;
	struct rule_spec	 spec;
	const struct rule	*rx, *ry;
	char			 err[256];
	size_t			 i;

	x = ruleset_new();
	y = ruleset_new();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&spec, 0, sizeof(spec));
		spec.relay = cases[i].relay;
		spec.smarthost = cases[i].smarthost;
		spec.reply = cases[i].reply;
		ck_assert_int_eq(ruleset_add(x, cases[i].pattern, &spec, err,
		    sizeof(err)), 0);
		/* y: the same rule, or one changed in a single field */
		if (!cases[i].same) {
			if (spec.smarthost != NULL)
				spec.smarthost = "[192.0.2.9]:25";
			else if (spec.reply != NULL)
				spec.reply = "550 5.7.1 Go away";
			else
				spec.relay = "trusted";
		}
		ck_assert_int_eq(ruleset_add(y, cases[i].pattern, &spec, err,
		    sizeof(err)), 0);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rx = ruleset_lookup(x, cases[i].pattern +
		    (cases[i].pattern[0] == '#'), NULL);
		ry = ruleset_lookup(y, cases[i].pattern +
		    (cases[i].pattern[0] == '#'), NULL);
		ck_assert_ptr_nonnull(rx);
		ck_assert_ptr_nonnull(ry);
		ck_assert_ptr_ne(rx, ry);
		ck_assert_msg(rule_same(rx, ry) == cases[i].same,
		    "%s: rule_same %d", cases[i].pattern, !cases[i].same);
		ck_assert_int_eq(rule_same(rx, rx), 1);
	}
	ruleset_free(x);
	ruleset_free(y);
}
END_TEST

START_TEST(test_smarthost)
{
	const struct vcase	*t = &smarthosts[_i];
	char			 out[SMARTHOST_MAX + 1];
	const char		*why = NULL;
	int			 rc;

	rc = smarthost_normalize(t->in, out, sizeof(out), &why);
	ck_assert_int_eq(smarthost_valid(t->in, &why), rc);
	if (t->out != NULL) {
		ck_assert_msg(rc == 0, "%s: %s", t->in, why);
		ck_assert_str_eq(out, t->out);
	} else {
		ck_assert_msg(rc == -1, "%s accepted", t->in);
		ck_assert_str_eq(why, t->why);
	}
}
END_TEST

static const struct vcase replies[] = {
	{ "550 5.7.1 Not relayed here", "", NULL },
	{ "554 5.7.1", "", NULL },
	{ "554 5.7.1 ", "", NULL },
	{ "450 4.7.1 Later", "", NULL },
	{ "421 4.3.2 Try later", "", NULL },
	{ "553 5.123.456 x", "", NULL },
	{ "250 2.0.0 Ok", NULL,
	    "reply must start with a 4xx or 5xx code and a space" },
	{ "5501 5.7.1 x", NULL,
	    "reply must start with a 4xx or 5xx code and a space" },
	{ "590 5.7.1 x", NULL,
	    "reply must start with a 4xx or 5xx code and a space" },
	{ "550", NULL, "reply must start with a 4xx or 5xx code and a space" },
	{ "", NULL, "reply must start with a 4xx or 5xx code and a space" },
	{ "550 4.7.1 x", NULL, "reply needs an enhanced status code of the "
	    "same class (e.g. 550 5.7.1)" },
	{ "450 5.7.1 x", NULL, "reply needs an enhanced status code of the "
	    "same class (e.g. 550 5.7.1)" },
	{ "550 5.7 x", NULL, "reply needs an enhanced status code of the "
	    "same class (e.g. 550 5.7.1)" },
	{ "550 5.7.1234 x", NULL, "reply needs an enhanced status code of "
	    "the same class (e.g. 550 5.7.1)" },
	{ "550 Not relayed", NULL, "reply needs an enhanced status code of "
	    "the same class (e.g. 550 5.7.1)" },
	{ "550 5.7.1x", NULL, "reply needs an enhanced status code of the "
	    "same class (e.g. 550 5.7.1)" },
	{ "550 5.7.1 100% sure", NULL, "'%' is not allowed in a reply" },
	{ "550 5.7.1 two\r\nlines", NULL,
	    "reply must be printable ASCII on one line" },
	{ "550 5.7.1 tab\there", NULL,
	    "reply must be printable ASCII on one line" },
	{ "550 5.7.1 caf\xc3\xa9", NULL,
	    "reply must be printable ASCII on one line" },
};

START_TEST(test_reply)
{
	const struct vcase	*t = &replies[_i];
	const char		*why = NULL;
	int			 rc;

	rc = reply_valid(t->in, &why);
	if (t->out != NULL)
		ck_assert_msg(rc == 0, "%s: %s", t->in, why);
	else {
		ck_assert_msg(rc == -1, "%s accepted", t->in);
		ck_assert_str_eq(why, t->why);
	}
}
END_TEST

START_TEST(test_reply_long)
{
	char		 buf[700];
	const char	*why;

	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	memcpy(buf, "550 5.7.1 ", 10);
	buf[500] = '\0';
	ck_assert_int_eq(reply_valid(buf, &why), 0);
	buf[500] = 'x';
	buf[501] = '\0';
	ck_assert_int_eq(reply_valid(buf, &why), -1);
	ck_assert_str_eq(why, "reply too long");
}
END_TEST

START_TEST(test_transport)
{
	const char	*why;
	char		 buf[80];

	ck_assert_int_eq(transport_valid("smtp", &why), 0);
	ck_assert_int_eq(transport_valid("relay-2_x.y", &why), 0);
	ck_assert_int_eq(transport_valid("Lmtp9", &why), 0);
	ck_assert_int_eq(transport_valid("", &why), -1);
	ck_assert_int_eq(transport_valid("-smtp", &why), -1);
	ck_assert_int_eq(transport_valid("smtp:", &why), -1);
	ck_assert_str_eq(why, "bad transport name");
	ck_assert_int_eq(transport_valid("sm tp", &why), -1);
	memset(buf, 'a', 64);
	buf[64] = '\0';
	ck_assert_int_eq(transport_valid(buf, &why), 0);
	buf[64] = 'a';
	buf[65] = '\0';
	ck_assert_int_eq(transport_valid(buf, &why), -1);
}
END_TEST

/* ruleset_add() errors, with their exact messages. */
struct acase {
	const char	*pattern;
	struct rule_spec spec;
	const char	*err;		/* NULL: added */
};

static const struct acase adds[] = {
	{ "example.com", { 0 }, NULL },
	{ "#example.com", { .relay = "deny", .reply = "550 5.7.1 No" }, NULL },
	{ ".example.com", { .relay = "trusted", .smarthost = "[192.0.2.1]",
	    .transport = "relay" }, NULL },
	{ "EXAMPLE.COM.", { 0 },
	    "duplicate pattern \"example.com\"" },
	{ "#Example.Com", { .relay = "always" },
	    "duplicate pattern \"#example.com\"" },
	{ ".example.com.", { 0 },
	    "duplicate pattern \".example.com\"" },
	{ "", { 0 },
	    "bad pattern \"\": empty domain name" },
	{ "#", { 0 },
	    "bad pattern \"#\": empty domain name" },
	{ "..example.com", { 0 },
	    "bad pattern \"..example.com\": empty label in domain name" },
	{ "#.example.com", { 0 },
	    "bad pattern \"#.example.com\": empty label in domain name" },
	{ "*.example.com", { 0 },
	    "bad pattern \"*.example.com\": bad character in domain name" },
	{ "a.test", { .relay = "sometimes" },
	    "bad relay \"sometimes\" (always, trusted or deny)" },
	{ "a.test", { .smarthost = "[mail]" }, "bad smarthost \"[mail]\": "
	    "brackets must hold an IPv4 or IPv6 address" },
	{ "a.test", { .smarthost = "h.test", .transport = "smtp:" },
	    "bad transport \"smtp:\": bad transport name" },
	{ "a.test", { .relay = "deny", .reply = "250 ok" },
	    "bad reply \"250 ok\": "
	    "reply must start with a 4xx or 5xx code and a space" },
	{ "a.test", { .transport = "smtp" },
	    "transport needs a smarthost" },
	{ "a.test", { .relay = "deny", .smarthost = "h.test" },
	    "smarthost makes no sense with relay = \"deny\"" },
	{ "a.test", { .reply = "550 5.7.1 x" },
	    "reply is only for relay = \"deny\"" },
	{ "a.test", { .relay = "trusted", .reply = "550 5.7.1 x" },
	    "reply is only for relay = \"deny\"" },
	{ "a.test", { .smarthost = "h.test,H.Test.:25" },
	    "bad smarthost \"h.test,H.Test.:25\": duplicate hop in smart "
	    "host list" },
	{ "a.test", { .smarthost = "h.test," },
	    "bad smarthost \"h.test,\": empty hop in smart host list" },
	{ "a.test", { .smarthost = "h.test", .tls = "always" },
	    "bad tls (none, may, encrypt, dane, verify or secure)" },
	{ "a.test", { .tls = "encrypt" },
	    "tls needs a smarthost (Postfix looks TLS policy up by next hop)" },
	{ "a.test", { .smarthost = "h.test", .tls = "encrypt",
	    .tls_match = "h.test" },
	    "tls_match needs tls = \"verify\" or \"secure\"" },
	{ "a.test", { .smarthost = "h.test", .tls_match = "h.test" },
	    "tls_match needs tls = \"verify\" or \"secure\"" },
	{ "a.test", { .smarthost = "h.test", .tls = "verify",
	    .tls_match = "a b" },
	    "bad tls_match (1 to 255 letters, digits, '.', '-', '_', ':')" },
	{ "a.test", { .relay = "deny", .tls = "encrypt" },
	    "tls needs a smarthost (Postfix looks TLS policy up by next hop)" },
	{ "a.test", { .relay = "always", .smarthost = "H.Test:25",
	    .transport = "lmtp" }, NULL },
	{ "a.test", { 0 }, "duplicate pattern \"a.test\"" },
};

START_TEST(test_add_errors)
{
	struct ruleset	*set;
	char		 err[256];
	size_t		 i, added;
	int		 rc;

	set = ruleset_new();
	ck_assert_ptr_nonnull(set);
	added = 0;
	for (i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
		err[0] = '\0';
		rc = ruleset_add(set, adds[i].pattern, &adds[i].spec, err,
		    sizeof(err));
		if (adds[i].err == NULL) {
			ck_assert_msg(rc == 0, "%s: %s", adds[i].pattern, err);
			added++;
		} else {
			ck_assert_msg(rc == -1, "%s added", adds[i].pattern);
			ck_assert_str_eq(err, adds[i].err);
		}
		ck_assert_uint_eq(ruleset_count(set), added);
	}
	ck_assert_int_eq(ruleset_has_pattern(set, "Example.com."), 1);
	ck_assert_int_eq(ruleset_has_pattern(set, "#example.com"), 1);
	ck_assert_int_eq(ruleset_has_pattern(set, ".example.com"), 1);
	ck_assert_int_eq(ruleset_has_pattern(set, "#a.test"), 0);
	ck_assert_int_eq(ruleset_has_pattern(set, "com"), 0);
	ck_assert_int_eq(ruleset_has_pattern(set, "x.example.com"), 0);
	ck_assert_int_eq(ruleset_has_pattern(set, "..bad"), 0);
	ruleset_free(set);
	ruleset_free(NULL);
}
END_TEST

START_TEST(test_pattern_normalize)
{
	char		 out[PATTERN_MAX + 1];
	const char	*why;

	ck_assert_int_eq(pattern_normalize("Example.COM.", out, &why), 0);
	ck_assert_str_eq(out, "example.com");
	ck_assert_int_eq(pattern_normalize("#B\xc3\xbc" "cher.DE", out, &why),
	    0);
	ck_assert_str_eq(out, "#xn--bcher-kva.de");
	ck_assert_int_eq(pattern_normalize(".A.b", out, &why), 0);
	ck_assert_str_eq(out, ".a.b");
	ck_assert_int_eq(pattern_normalize("#." N253, out, &why), -1);
	ck_assert_int_eq(pattern_normalize("#" N253, out, &why), 0);
	ck_assert_uint_eq(strlen(out), 254);
}
END_TEST

struct lcase {
	const char	*domain;
	const char	*pattern;	/* NULL: no rule */
};

static const char *const lrules[] = {
	"example.com", "#example.org", ".example.net", "lab.example.com",
	"#deny.test", "deny.test", "both.test", ".both.test", "#exact.test",
	".exact.test", "a.b.c.deep.test", "deep.test", "com.example.com",
	"x-" L61 ".test", NULL
};

static const struct lcase lookups[] = {
	{ "example.com", "example.com" },
	{ "a.example.com", "example.com" },
	{ "xexample.com", NULL },
	{ "com", NULL },
	{ "example.com.evil.test", NULL },
	{ "lab.example.com", "lab.example.com" },
	{ "a.lab.example.com", "lab.example.com" },
	{ "com.example.com", "com.example.com" },
	{ "example.org", "#example.org" },
	{ "a.example.org", NULL },
	{ "example.net", NULL },
	{ "a.example.net", ".example.net" },
	{ "deny.test", "#deny.test" },
	{ "a.deny.test", "deny.test" },
	{ "both.test", "both.test" },
	{ "a.both.test", "both.test" },
	{ "exact.test", "#exact.test" },
	{ "a.exact.test", ".exact.test" },
	{ "c.deep.test", "deep.test" },
	{ "a.b.c.deep.test", "a.b.c.deep.test" },
	{ "z.a.b.c.deep.test", "a.b.c.deep.test" },
	{ "x-" L61 ".test", "x-" L61 ".test" },
	{ "y.x-" L61 ".test", "x-" L61 ".test" },
	{ "x-" L61 "a.test", NULL },
	{ "test", NULL },
	{ "", NULL },
	{ ".example.com", NULL },
	{ "a..example.com", NULL },
	{ "example.com.", NULL },
};

START_TEST(test_lookup)
{
	struct ruleset		*set;
	const struct rule	*r;
	char			 err[256], pat[PATTERN_MAX + 1];
	size_t			 i, len;

	set = ruleset_new();
	for (i = 0; lrules[i] != NULL; i++)
		ck_assert_msg(ruleset_add(set, lrules[i], NULL, err,
		    sizeof(err)) == 0, "%s", err);
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		len = 9999;
		r = ruleset_lookup(set, lookups[i].domain, &len);
		if (lookups[i].pattern == NULL) {
			ck_assert_msg(r == NULL, "%s matched",
			    lookups[i].domain);
			ck_assert_uint_eq(len, 9999);
			continue;
		}
		ck_assert_msg(r != NULL, "%s unmatched", lookups[i].domain);
		ck_assert_uint_le(len, strlen(lookups[i].domain));
		rule_format_pattern(r, lookups[i].domain +
		    strlen(lookups[i].domain) - len, len, pat, sizeof(pat));
		ck_assert_str_eq(pat, lookups[i].pattern);
		ck_assert_ptr_eq(ruleset_lookup(set, lookups[i].domain, NULL),
		    r);
	}
	ck_assert_ptr_null(ruleset_lookup(NULL, "example.com", NULL));
	ruleset_free(set);
	set = ruleset_new();
	ck_assert_ptr_null(ruleset_lookup(set, "example.com", NULL));
	ck_assert_uint_eq(ruleset_count(set), 0);
	ruleset_free(set);
}
END_TEST

/* Reserving room rebuilds the table; every rule stays where it was. */
START_TEST(test_reserve)
{
	struct ruleset	*set;
	char		 err[256], name[64];
	int		 i;

	set = ruleset_new();
	ck_assert_int_eq(ruleset_reserve(set, 10), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "%sd%d.example-%d.com",
		    i % 2 ? "#" : "", i, i % 7);
		ck_assert_int_eq(ruleset_add(set, name, NULL, err,
		    sizeof(err)), 0);
		if (i == 1000)
			ck_assert_int_eq(ruleset_reserve(set, 200000), 0);
	}
	ck_assert_int_eq(ruleset_reserve(set, 5), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "www.d%d.example-%d.com", i,
		    i % 7);
		if (i % 2)
			ck_assert_ptr_null(ruleset_lookup(set, name, NULL));
		else
			ck_assert_ptr_nonnull(ruleset_lookup(set, name, NULL));
		ck_assert_ptr_nonnull(ruleset_lookup(set, name + 4, NULL));
	}
	ck_assert_int_eq(ruleset_reserve(set, (size_t)1 << 40), -1);
	ck_assert_uint_eq(ruleset_count(set), 3000);
	ruleset_free(set);
}
END_TEST

START_TEST(test_intern)
{
	struct ruleset		*set;
	struct rule_spec	 spec = { .smarthost = "Relay.Example.NET:25" };
	const struct rule	*a, *b, *c;
	char			 err[256];

	set = ruleset_new();
	ck_assert_int_eq(ruleset_add(set, "a.test", &spec, err, sizeof(err)),
	    0);
	ck_assert_int_eq(ruleset_add(set, "b.test", &spec, err, sizeof(err)),
	    0);
	spec.relay = "trusted";
	ck_assert_int_eq(ruleset_add(set, "c.test", &spec, err, sizeof(err)),
	    0);
	a = ruleset_lookup(set, "a.test", NULL);
	b = ruleset_lookup(set, "b.test", NULL);
	c = ruleset_lookup(set, "c.test", NULL);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_ne(a, c);
	ck_assert_ptr_eq(a->smarthost, c->smarthost);
	ck_assert_str_eq(a->smarthost, "relay.example.net:25");
	ck_assert_int_eq(a->relay, RELAY_ALWAYS);
	ck_assert_int_eq(c->relay, RELAY_TRUSTED);
	ck_assert_int_eq(a->kind, RULE_NAMESPACE);
	ck_assert_ptr_null(a->transport);
	ck_assert_ptr_null(a->reply);
	ruleset_free(set);
}
END_TEST

struct walkbuf {
	char	text[4096];
	int	stop_at;
	int	calls;
};

static int
walk_cb(const char *pattern, const struct rule *rule, void *arg)
{
	struct walkbuf	*w = arg;
	size_t		 n;

	n = strlen(w->text);
	snprintf(w->text + n, sizeof(w->text) - n, "%s%s/%d", n ? " " : "",
	    pattern, rule->relay);
	if (++w->calls == w->stop_at)
		return 7;
	return 0;
}

START_TEST(test_walk)
{
	static const char *const pats[] = {
		"b.example.com", ".example.com", "example.org", "#example.com",
		"a.example.com", "example.com", "z.a.example.com", "net",
		"x-" L61 ".example.com", NULL
	};
	struct ruleset		*set;
	struct rule_spec	 deny = { .relay = "deny" };
	struct walkbuf		 w;
	char			 err[256];
	size_t			 i;

	set = ruleset_new();
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(ruleset_walk(set, walk_cb, &w), 0);
	ck_assert_str_eq(w.text, "");
	for (i = 0; pats[i] != NULL; i++)
		ck_assert_int_eq(ruleset_add(set, pats[i],
		    pats[i][0] == '#' ? &deny : NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(ruleset_walk(set, walk_cb, &w), 0);
	ck_assert_str_eq(w.text, "#example.com/2 example.com/0 "
	    ".example.com/0 a.example.com/0 z.a.example.com/0 b.example.com/0 "
	    "x-" L61 ".example.com/0 net/0 example.org/0");
	memset(&w, 0, sizeof(w));
	w.stop_at = 3;
	ck_assert_int_eq(ruleset_walk(set, walk_cb, &w), 7);
	ck_assert_int_eq(w.calls, 3);
	ck_assert_uint_eq(ruleset_count(set), 9);
	ruleset_free(set);
}
END_TEST

/*
 * Randomized comparison with a reference: patterns in a sorted array,
 * searched for every parent of the name from the longest down, as the
 * semantics say.
 */
struct ref {
	char	pattern[PATTERN_MAX + 1];
	int	tag;
};

static int
ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ref *)a)->pattern,
	    ((const struct ref *)b)->pattern);
}

static const struct ref *
ref_find(const struct ref *refs, size_t n, const char *prefix,
    const char *name)
{
	struct ref	key;

	snprintf(key.pattern, sizeof(key.pattern), "%s%s", prefix, name);
	return bsearch(&key, refs, n, sizeof(*refs), ref_cmp);
}

static const struct ref *
ref_lookup(const struct ref *refs, size_t n, const char *domain)
{
	const struct ref	*r;
	const char		*s;

	for (s = domain; ; s++) {
		if (s == domain || s[-1] == '.') {
			if (s == domain) {
				if ((r = ref_find(refs, n, "#", s)) != NULL ||
				    (r = ref_find(refs, n, "", s)) != NULL)
					return r;
			} else if ((r = ref_find(refs, n, "", s)) != NULL ||
			    (r = ref_find(refs, n, ".", s)) != NULL)
				return r;
		}
		if (*s == '\0')
			return NULL;
	}
}

static const char *const labels[] = {
	"a", "b", "c", "com", "net", "example", "xn--bcher-kva", "mail",
	"a-very-long-label-over-22-octets", "d0", "d1", "_x",
	/* lengths at the edges of the word-wise hash and compare */
	"exactly8", "nine-char", "sixteen-octets-1", "seventeen-octets1",
	"twenty-two-octets-abcd", "twenty-three-octets-abc", "seven-7",
	"exactly9", "exactly8x",
};
#define NLABELS	(sizeof(labels) / sizeof(labels[0]))

static void
random_name(char *buf, size_t len, int maxdepth)
{
	int	depth, i;
	size_t	n;

	depth = 1 + rand() % maxdepth;
	buf[0] = '\0';
	for (i = 0; i < depth; i++) {
		n = strlen(buf);
		if (i % 3 == 2)
			snprintf(buf + n, len - n, "%sn%d", n ? "." : "",
			    rand() % 2000);
		else
			snprintf(buf + n, len - n, "%s%s", n ? "." : "",
			    labels[rand() % NLABELS]);
	}
}

START_TEST(test_random)
{
	static const char *const prefixes[] = { "", "#", "." };
	static const char *const relays[] = { "always", "trusted", "deny" };
	struct ruleset		*set;
	struct ref		*refs;
	struct rule_spec	 spec;
	const struct ref	*want;
	const struct rule	*got;
	char			 name[DOMAIN_MAX + 1], err[256], host[64];
	char			 pat[PATTERN_MAX + 1];
	size_t			 n, i, len, nrules;
	int			 k;

	srand(12345 + _i);
	/* the last one makes a node table big enough to be mapped */
	nrules = _i == 0 ? 300 : _i == 1 ? 30000 : 150000;
	refs = calloc(nrules, sizeof(*refs));
	ck_assert_ptr_nonnull(refs);
	set = ruleset_new();
	for (n = 0, i = 0; i < nrules; i++) {
		random_name(name, sizeof(name), 6);
		k = rand() % 3;
		snprintf(refs[n].pattern, sizeof(refs[n].pattern), "%s%s",
		    prefixes[k], name);
		memset(&spec, 0, sizeof(spec));
		spec.relay = relays[rand() % 3];
		snprintf(host, sizeof(host), "h%d.test", rand() % 5);
		if (strcmp(spec.relay, "deny") != 0)
			spec.smarthost = host;
		if (ruleset_add(set, refs[n].pattern, &spec, err,
		    sizeof(err)) == -1) {
			/* only duplicates may fail */
			ck_assert_msg(strncmp(err, "duplicate", 9) == 0, "%s",
			    err);
			ck_assert_int_eq(ruleset_has_pattern(set,
			    refs[n].pattern), 1);
			continue;
		}
		refs[n].tag = (int)i;
		n++;
	}
	ck_assert_uint_eq(ruleset_count(set), n);
	qsort(refs, n, sizeof(*refs), ref_cmp);
	for (i = 0; i < 100000; i++) {
		random_name(name, sizeof(name), 8);
		want = ref_lookup(refs, n, name);
		got = ruleset_lookup(set, name, &len);
		if (want == NULL) {
			ck_assert_msg(got == NULL, "%s: matched", name);
			continue;
		}
		ck_assert_msg(got != NULL, "%s: want %s, got none", name,
		    want->pattern);
		rule_format_pattern(got, name + strlen(name) - len, len, pat,
		    sizeof(pat));
		ck_assert_msg(strcmp(pat, want->pattern) == 0,
		    "%s: want %s, got %s", name, want->pattern, pat);
	}
	for (i = 0; i < n; i++)
		ck_assert_int_eq(ruleset_has_pattern(set, refs[i].pattern), 1);
	ruleset_free(set);
	free(refs);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("ruleset");
	tc = tcase_create("domain");
	tcase_add_loop_test(tc, test_normalize, 0,
	    (int)(sizeof(ncases) / sizeof(ncases[0])));
	tcase_add_test(tc, test_normalize_len);
	suite_add_tcase(s, tc);
	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_smarthost, 0,
	    (int)(sizeof(smarthosts) / sizeof(smarthosts[0])));
	tcase_add_loop_test(tc, test_reply, 0,
	    (int)(sizeof(replies) / sizeof(replies[0])));
	tcase_add_test(tc, test_reply_long);
	tcase_add_test(tc, test_transport);
	suite_add_tcase(s, tc);
	tc = tcase_create("trie");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_add_errors);
	tcase_add_test(tc, test_pattern_normalize);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_intern);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_smarthost_repeat);
	tcase_add_test(tc, test_rule_same);
	tcase_add_loop_test(tc, test_random, 0, 3);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
