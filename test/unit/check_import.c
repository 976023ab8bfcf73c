/*
 * check_import - unit tests of lib/import.c ("milter-relay import")
 *
 * Fixed cases per format: the domains_file lines written for given table
 * sources (exact text), the conversion of every next-hop form, the
 * refusals with FILE:LINE, the warnings for entries that are not
 * recipient rules.  Then a differential test: random Postfix
 * relay_domains + transport tables, imported, loaded back with the real
 * domains_file parser, and every name of the universe (and a name below
 * each) looked up in the rule set and compared with an independent model
 * of how Postfix probes those tables.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "import.h"
#include "ruleset.h"

struct run {
	int	 rc;
	char	*out;		/* output without the header comments */
	char	*warn;
	char	 err[1024];
};

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->warn);
}

/* Import up to two sources given as text; file names "t1" and "t2". */
static void
run_import(struct run *r, int flags, const char *fmt1, const char *text1,
    const char *fmt2, const char *text2)
{
	enum import_format	 format;
	struct import		*imp;
	FILE			*in, *out, *warn;
	char			*raw, *line, *next;
	size_t			 rawlen, warnlen;
	const char		*fmts[2] = { fmt1, fmt2 };
	const char		*texts[2] = { text1, text2 };
	const char		*names[2] = { "t1", "t2" };
	int			 i;

	memset(r, 0, sizeof(*r));
	warn = open_memstream(&r->warn, &warnlen);
	ck_assert_ptr_nonnull(warn);
	imp = import_new(flags, warn);
	ck_assert_ptr_nonnull(imp);
	for (i = 0; i < 2 && fmts[i] != NULL; i++) {
		ck_assert_int_eq(import_format_parse(fmts[i], &format), 0);
		in = fmemopen((void *)texts[i], strlen(texts[i]), "r");
		ck_assert_ptr_nonnull(in);
		r->rc = import_file(imp, format, names[i], in, r->err,
		    sizeof(r->err));
		fclose(in);
		if (r->rc == -1)
			break;
	}
	if (r->rc == 0) {
		out = open_memstream(&raw, &rawlen);
		ck_assert_ptr_nonnull(out);
		r->rc = import_write(imp, out, r->err, sizeof(r->err));
		fclose(out);
		r->out = calloc(1, rawlen + 1);
		ck_assert_ptr_nonnull(r->out);
		for (line = raw; *line != '\0'; line = next) {
			next = strchr(line, '\n');
			next = next == NULL ? line + strlen(line) : next + 1;
			if (strncmp(line, "# ", 2) != 0)
				strncat(r->out, line, (size_t)(next - line));
		}
		free(raw);
	}
	import_free(imp);
	fclose(warn);
}

static void
expect_output(int flags, const char *fmt1, const char *text1,
    const char *fmt2, const char *text2, const char *want)
{
	struct run	r;

	run_import(&r, flags, fmt1, text1, fmt2, text2);
	ck_assert_msg(r.rc == 0, "import failed: %s", r.err);
	ck_assert_str_eq(r.out, want);
	run_free(&r);
}

static void
expect_error(const char *fmt, const char *text, const char *where,
    const char *what)
{
	struct run	r;

	run_import(&r, 0, fmt, text, NULL, NULL);
	ck_assert_msg(r.rc == -1, "accepted: %s", text);
	ck_assert_ptr_null(r.out);
	ck_assert_msg(strncmp(r.err, where, strlen(where)) == 0,
	    "error \"%s\" does not start with \"%s\"", r.err, where);
	ck_assert_msg(strstr(r.err, what) != NULL,
	    "error \"%s\" does not say \"%s\"", r.err, what);
	run_free(&r);
}

static int
count_lines(const char *s, const char *needle)
{
	int	n;

	for (n = 0; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

START_TEST(test_formats)
{
	enum import_format	f;

	ck_assert_int_eq(import_format_parse("postfix-transport", &f), 0);
	ck_assert_int_eq(f, IMPORT_POSTFIX_TRANSPORT);
	ck_assert_int_eq(import_format_parse("postfix-relay-domains", &f), 0);
	ck_assert_int_eq(f, IMPORT_POSTFIX_RELAY_DOMAINS);
	ck_assert_int_eq(import_format_parse("sendmail-mailertable", &f), 0);
	ck_assert_int_eq(f, IMPORT_SENDMAIL_MAILERTABLE);
	ck_assert_int_eq(import_format_parse("sendmail-access", &f), 0);
	ck_assert_int_eq(f, IMPORT_SENDMAIL_ACCESS);
	ck_assert_int_eq(import_format_parse("postfix", &f), -1);
	ck_assert_int_eq(import_format_parse("", &f), -1);
}
END_TEST

START_TEST(test_transport_patterns)
{
	expect_output(0, "postfix-transport",
	    "# a comment\n"
	    "\n"
	    "Example.COM\tsmtp:[10.1.2.3]\n"
	    ".example.com\tsmtp:[10.1.2.3]\n"
	    "example.org  smtp:[mail.example.org]:2525\n"
	    ".only.test smtp:x.test\n"
	    "   # indented comment\n"
	    "sub.example.com smtp:[10.1.2.3]\n"
	    ".sub.example.com smtp:[10.1.2.3]\n",
	    NULL, NULL,
	    "example.com relay=trusted smarthost=[10.1.2.3]\n"
	    "#example.org relay=trusted smarthost=mail.example.org:2525\n"
	    ".only.test relay=trusted smarthost=mx:x.test\n");
	/* continuation lines, CRLF */
	expect_output(0, "postfix-transport",
	    "a.test\r\n\tsmtp:[10.0.0.1]\r\n", NULL, NULL,
	    "#a.test relay=trusted smarthost=[10.0.0.1]\n");
	/* an exact entry below a namespace: only what differs */
	expect_output(0, "postfix-transport",
	    "example.com smtp:[10.1.2.3]\n"
	    ".example.com smtp:[10.1.2.3]\n"
	    "lab.example.com smtp:[10.9.9.9]\n", NULL, NULL,
	    "example.com relay=trusted smarthost=[10.1.2.3]\n"
	    "#lab.example.com relay=trusted smarthost=[10.9.9.9]\n");
}
END_TEST

static const struct {
	const char	*value;
	const char	*attrs;
} nexthops[] = {
	{ "smtp:[192.0.2.7]", " smarthost=[192.0.2.7]" },
	{ "smtp:[192.0.2.7]:2525", " smarthost=[192.0.2.7]:2525" },
	{ "smtp:[2001:DB8::7]:25", " smarthost=[2001:db8::7]:25" },
	{ "smtp:mx.example.net", " smarthost=mx:mx.example.net" },
	{ "smtp:mx.example.net:26", " smarthost=mx:mx.example.net:26" },
	{ "smtp:[Mail.Example.NET]", " smarthost=mail.example.net" },
	{ "smtp:192.0.2.7", " smarthost=192.0.2.7" },
	{ "relay:[10.0.0.1]", " smarthost=[10.0.0.1] transport=relay" },
	{ "out-2:[10.0.0.1]", " smarthost=[10.0.0.1] transport=out-2" },
	{ "smtp:", "" },
	{ "smtp", "" },
	{ ":[10.0.0.1]", " smarthost=[10.0.0.1]" },
	{ "relay:", " transport=relay" },
	{ "smtp:[10.0.0.1],[10.0.0.2]", " smarthost=[10.0.0.1],[10.0.0.2]" },
	{ "smtp:[10.0.0.1] mx.test:2525",
	    " smarthost=[10.0.0.1],mx:mx.test:2525" },
	{ "smtp:[10.0.0.1], [Mail.Test]", " smarthost=[10.0.0.1],mail.test" },
};

START_TEST(test_transport_nexthops)
{
	char	text[256], want[256];

	snprintf(text, sizeof(text), "a.test %s\n", nexthops[_i].value);
	snprintf(want, sizeof(want), "#a.test relay=trusted%s\n",
	    nexthops[_i].attrs);
	expect_output(0, "postfix-transport", text, NULL, NULL, want);
}
END_TEST

START_TEST(test_transport_refused)
{
	const char	*T = "postfix-transport";

	expect_error(T, "user@a.test smtp:[h.test]\n", "t1:1:",
	    "per-address");
	expect_error(T, "a.test smtp:\nuser@ smtp:\n", "t1:2:",
	    "per-address");
	expect_error(T, "* smtp:[10.0.0.1]\n", "t1:1:", "wildcard");
	expect_error(T, "a.test error:no such domain\n", "t1:1:",
	    "relay=deny");
	expect_error(T, "a.test local:\n", "t1:1:", "does not relay");
	expect_error(T, "a.test lmtp:unix:/run/lmtp\n", "t1:1:",
	    "does not relay");
	expect_error(T, "a.test discard:\n", "t1:1:", "does not relay");
	expect_error(T, "a.test smtp:[10.0.0.1],[10.0.0.1]:25\n", "t1:1:",
	    "duplicate hop");
	expect_error(T, "a.test smtp:[10.0.0.1],[10.0.0.2]:x\n", "t1:1:",
	    "port");
	expect_error(T, "a.test smtp:[ipv6:2001:db8::1]\n", "t1:1:",
	    "next hop");
	expect_error(T, "a.test smtp:2001:db8::1\n", "t1:1:", "brackets");
	expect_error(T, "a.test smtp:[10.0.0.1]:0\n", "t1:1:", "port");
	expect_error(T, "a.test smtp:[10.0.0.1]:smtp\n", "t1:1:", "port");
	expect_error(T, "a.test smtp:[10.0.0.1\n", "t1:1:", "']'");
	expect_error(T, "a.test\n", "t1:1:", "missing value");
	expect_error(T, "a..test smtp:\n", "t1:1:", "a..test");
	expect_error(T, "bad_transport!:[10.0.0.1]\n", "t1:1:", "");
	expect_error(T, "# c\na.test smtp:[10.0.0.1]\nb.test\n  local:\n",
	    "t1:3:", "does not relay");
	expect_error(T, "a.test smtp:[10.0.0.1]\n\nA.TEST smtp:[10.0.0.2]\n",
	    "t1:3:", "conflicts with the entry at t1:1");
	expect_error(T, "  a.test smtp:\n", "t1:1:", "white space");
}
END_TEST

START_TEST(test_transport_duplicate_same)
{
	/* The same entry twice means the same thing: fine. */
	expect_output(0, "postfix-transport",
	    "a.test smtp:[10.0.0.1]\na.test smtp:[10.0.0.1]\n", NULL, NULL,
	    "#a.test relay=trusted smarthost=[10.0.0.1]\n");
}
END_TEST

START_TEST(test_relay_domains)
{
	struct run	r;

	run_import(&r, 0, "postfix-relay-domains",
	    "example.com OK\n.sub.test x\nplain.test\n", NULL, NULL);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "example.com\nplain.test\n");
	ck_assert_ptr_nonnull(strstr(r.warn, "t1:2: warning: \".sub.test\" "
	    "is never looked up"));
	ck_assert_int_eq(count_lines(r.warn, "warning:"), 1);
	run_free(&r);
	expect_output(IMPORT_EXACT_RELAY_DOMAINS, "postfix-relay-domains",
	    "example.com RELAY\n.example.com RELAY\nexact.test RELAY\n"
	    ".below.test RELAY\n", NULL, NULL,
	    "example.com\n.below.test\n#exact.test\n");
	expect_error("postfix-relay-domains", "!a.test\n", "t1:1:",
	    "negation");
	expect_error("postfix-relay-domains", "u@a.test\n", "t1:1:",
	    "not a domain");
}
END_TEST

START_TEST(test_combined)
{
	expect_output(0, "postfix-relay-domains",
	    "example.com\nother.test\n",
	    "postfix-transport",
	    "example.com smtp:[10.1.2.3]\n"
	    ".example.com smtp:[10.1.2.3]\n"
	    "lab.example.com smtp:[10.9.9.9]\n"
	    "routed.test smtp:[10.0.0.5]\n",
	    "example.com smarthost=[10.1.2.3]\n"
	    "#lab.example.com smarthost=[10.9.9.9]\n"
	    "other.test\n"
	    "#routed.test relay=trusted smarthost=[10.0.0.5]\n");
	/* relayed namespace, route only for names below it */
	expect_output(0, "postfix-relay-domains", "example.net\n",
	    "postfix-transport", ".example.net smtp:[10.1.1.1]\n",
	    "#example.net\n"
	    ".example.net smarthost=[10.1.1.1]\n");
}
END_TEST

START_TEST(test_mailertable)
{
	const char	*M = "sendmail-mailertable";

	expect_output(0, M,
	    "example.com esmtp:[10.1.2.3]\n"
	    ".example.com esmtp:[10.1.2.3]\n"
	    "v6.test esmtp:[IPv6:2001:db8::7]\n"
	    "mx.test smtp:mail.mx.test\n"
	    "port.test esmtp2525:[mail.port.test]\n"
	    "list.test esmtp:[h1.test]:h2.test:[IPv6:2001:db8::8]\n"
	    "plist.test esmtp2526:[10.0.0.1]:[10.0.0.2]\n"
	    "relay.test relay:[Relay.Test]\n"
	    "no.test error:5.7.1:550 No mail here\n"
	    "old.test error:550 Gone\n", NULL, NULL,
	    "example.com relay=trusted smarthost=[10.1.2.3]\n"
	    "#list.test relay=trusted smarthost=h1.test,mx:h2.test,"
	    "[2001:db8::8]\n"
	    "#mx.test relay=trusted smarthost=mx:mail.mx.test\n"
	    "#no.test relay=deny reply=\"550 5.7.1 No mail here\"\n"
	    "#old.test relay=deny reply=\"550 5.0.0 Gone\"\n"
	    "#plist.test relay=trusted "
	    "smarthost=[10.0.0.1]:2526,[10.0.0.2]:2526\n"
	    "#port.test relay=trusted smarthost=mail.port.test:2525\n"
	    "#relay.test relay=trusted smarthost=relay.test\n"
	    "#v6.test relay=trusted smarthost=[2001:db8::7]\n");
	expect_error(M, "a.test local:user\n", "t1:1:", "does not relay");
	expect_error(M, ". esmtp:[10.0.0.1]\n", "t1:1:", "catch-all");
	expect_error(M, "a.test esmtp:[h1.test]:[H1.test]\n", "t1:1:",
	    "duplicate hop");
	expect_error(M, "a.test esmtp:h1.test::h2.test\n", "t1:1:",
	    "empty");
	expect_error(M, "a.test esmtp\n", "t1:1:", "mailer:host");
	expect_error(M, "a.test esmtp:\n", "t1:1:", "missing host");
	expect_error(M, "a.test error:nohost Unknown\n", "t1:1:",
	    "reply code");
	expect_error(M, "a.test error:5.7.1:250 ok\n", "t1:1:", "4xx or 5xx");
	expect_error(M, "#c\n a.test esmtp:[10.0.0.1]\n", "t1:2:",
	    "white space");
	expect_error(M, "u@a.test esmtp:[10.0.0.1]\n", "t1:1:",
	    "per-address");
}
END_TEST

START_TEST(test_access)
{
	struct run	r;
	const char	*A = "sendmail-access";

	run_import(&r, 0, A,
	    "Connect:127.0.0.1 RELAY\n"
	    "192.168 RELAY\n"
	    "IPv6:2001:db8::1 RELAY\n"
	    "To:example.com RELAY\n"
	    "To:lab.example.com REJECT\n"
	    "To:old.example.com ERROR:\"550 Gone\"\n"
	    "To:slow.example.com TEMP:4.3.0:451 Try later\n"
	    "To:inner.example.com SKIP\n"
	    "partner.test RELAY\n"
	    "From:spam.test REJECT\n", NULL, NULL);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    "example.com\n"
	    "inner.example.com relay=trusted\n"
	    "lab.example.com relay=deny reply=\"550 5.7.1 Access denied\"\n"
	    "old.example.com relay=deny reply=\"550 5.0.0 Gone\"\n"
	    "slow.example.com relay=deny reply=\"451 4.3.0 Try later\"\n"
	    "partner.test\n");
	ck_assert_int_eq(count_lines(r.warn, "warning:"), 5);
	ck_assert_ptr_nonnull(strstr(r.warn, "t1:1: warning:"));
	ck_assert_ptr_nonnull(strstr(r.warn, "t1:2: warning:"));
	ck_assert_ptr_nonnull(strstr(r.warn, "t1:3: warning:"));
	ck_assert_ptr_nonnull(strstr(r.warn, "t1:9: warning: \"partner.test"
	    "\": untagged"));
	ck_assert_ptr_nonnull(strstr(r.warn, "t1:10: warning:"));
	run_free(&r);
	expect_error(A, "To:u@example.com RELAY\n", "t1:1:", "per-address");
	expect_error(A, "u@example.com REJECT\n", "t1:1:", "per-address");
	expect_error(A, "To:.example.com RELAY\n", "t1:1:",
	    "lookupdotdomain");
	expect_error(A, "To:example.com OK\n", "t1:1:", "only RELAY");
	expect_error(A, "To:example.com DISCARD\n", "t1:1:", "only RELAY");
	expect_error(A, "To:example.com TEMP:550 no\n", "t1:1:", "4xx");
	expect_error(A, "To:example.com\n", "t1:1:", "missing value");
	expect_error(A, "To:a.test RELAY\nTo:A.test REJECT\n", "t1:2:",
	    "conflicts with the entry at t1:1");
}
END_TEST

/* A reply with quotes and backslashes survives the domains_file parser. */
START_TEST(test_reply_escapes)
{
	struct ruleset		*rules;
	const struct rule	*rule;
	struct run		 r;
	char			 err[512];

	run_import(&r, 0, "sendmail-mailertable",
	    "a.test error:5.7.1:550 say \"no\" \\ please\n", NULL, NULL);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "#a.test relay=deny reply=\"550 5.7.1 say "
	    "\\\"no\\\" \\\\ please\"\n");
	rules = ruleset_new();
	ck_assert_ptr_nonnull(rules);
	ck_assert_msg(config_parse_domains_line(rules, r.out,
	    strlen(r.out) - 1, err, sizeof(err)) == 0, "%s", err);
	rule = ruleset_lookup(rules, "a.test", NULL);
	ck_assert_ptr_nonnull(rule);
	ck_assert_int_eq(rule->relay, RELAY_DENY);
	ck_assert_str_eq(rule->reply, "550 5.7.1 say \"no\" \\ please");
	ruleset_free(rules);
	run_free(&r);
}
END_TEST

/*
 * Differential tests.  Universe: "test" and names of up to three labels
 * from {a, b, c} below it.  Random relay and route tables; the model
 * below probes them the way the MTA does:
 *	Postfix transport, Sendmail mailertable: "name", then ".parent",
 *	nearest first;
 *	Postfix relay_domains with parent matching: "name", then "parent"
 *	(any hit relays); without: "name", then ".parent";
 *	Sendmail access: "To:name", then "To:parent", nearest first, the
 *	first hit decides (RELAY, SKIP or REJECT).
 * The imported rules, loaded with the real domains_file parser, must give
 * the model's answer for every name of the universe and a name below each.
 */
#define UNIVERSE_MAX	64

enum model_kind { MODEL_POSTFIX, MODEL_POSTFIX_EXACT, MODEL_SENDMAIL };

enum { ACC_NONE, ACC_RELAY, ACC_SKIP, ACC_REJECT };

static const char *const hosts[] = { "[10.0.0.1]", "[10.0.0.2]",
    "mx:m.example" };

struct model {
	enum model_kind	 kind;
	char	 relay[UNIVERSE_MAX][2];	/* 0 "name", 1 ".name"; ACC_* */
	int	 route[UNIVERSE_MAX][2];	/* host index + 1, 0 none */
};

struct expect {
	int		 relay;		/* enum rule_relay, -1 unmatched */
	const char	*host;
	const char	*reply;
};

static char	universe[UNIVERSE_MAX][24];
static int	nuniverse;

static void
universe_build(void)
{
	const char	*l = "abc";
	int		 i, j, k;

	nuniverse = 0;
	snprintf(universe[nuniverse++], 24, "test");
	for (i = 0; i < 3; i++) {
		snprintf(universe[nuniverse++], 24, "%c.test", l[i]);
		for (j = 0; j < 3; j++) {
			snprintf(universe[nuniverse++], 24, "%c.%c.test",
			    l[j], l[i]);
			for (k = 0; k < 3; k++)
				snprintf(universe[nuniverse++], 24,
				    "%c.%c.%c.test", l[k], l[j], l[i]);
		}
	}
}

static int
universe_index(const char *name)
{
	int	i;

	for (i = 0; i < nuniverse; i++)
		if (strcmp(universe[i], name) == 0)
			return i;
	return -1;
}

static void
model_expect(const struct model *m, const char *name, struct expect *e)
{
	const char	*p;
	int		 i, first, relay, route;

	relay = ACC_NONE;
	route = 0;
	for (p = name, first = 1; p != NULL; first = 0) {
		if ((i = universe_index(p)) != -1) {
			if (route == 0)
				route = m->route[i][first ? 0 : 1];
			if (m->kind == MODEL_POSTFIX_EXACT) {
				if (m->relay[i][first ? 0 : 1])
					relay = ACC_RELAY;
			} else if (m->kind == MODEL_POSTFIX) {
				if (m->relay[i][0])
					relay = ACC_RELAY;
			} else if (relay == ACC_NONE)
				relay = m->relay[i][0];
		}
		if ((p = strchr(p, '.')) != NULL)
			p++;
	}
	e->host = route ? hosts[route - 1] : NULL;
	e->reply = NULL;
	if (relay == ACC_REJECT) {
		e->relay = RELAY_DENY;
		e->host = NULL;
		e->reply = "550 5.7.1 Access denied";
	} else if (relay == ACC_RELAY)
		e->relay = RELAY_ALWAYS;
	else if (relay == ACC_SKIP || route)
		e->relay = RELAY_TRUSTED;
	else
		e->relay = -1;
}

/* The host as the route table writes it. */
static const char *
table_host(int kind, int route, char *buf, size_t len)
{
	const char	*h;

	h = hosts[route - 1];
	if (strncmp(h, "mx:", 3) == 0)
		h += 3;
	snprintf(buf, len, "%s:%s", kind == MODEL_SENDMAIL ? "esmtp" : "smtp",
	    h);
	return buf;
}

static void
model_tables(const struct model *m, char *relay, char *route, size_t len)
{
	static const char *const acc[] = { "", "RELAY", "SKIP", "REJECT" };
	char	host[64];
	size_t	rn, tn;
	int	i, d;

	rn = tn = 0;
	relay[0] = route[0] = '\0';
	for (i = 0; i < nuniverse; i++) {
		for (d = 0; d < 2; d++) {
			if (m->relay[i][d] && m->kind == MODEL_SENDMAIL)
				rn += (size_t)snprintf(relay + rn, len - rn,
				    "To:%s %s\n", universe[i],
				    acc[(int)m->relay[i][d]]);
			else if (m->relay[i][d])
				rn += (size_t)snprintf(relay + rn, len - rn,
				    "%s%s OK\n", d ? "." : "", universe[i]);
			if (m->route[i][d])
				tn += (size_t)snprintf(route + tn, len - tn,
				    "%s%s %s\n", d ? "." : "", universe[i],
				    table_host(m->kind, m->route[i][d], host,
				    sizeof(host)));
		}
	}
}

static void
model_random(struct model *m, enum model_kind kind, unsigned *seed)
{
	int	i, n;

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	n = 1 + (int)(rand_r(seed) % 8);
	for (i = 0; i < n; i++)
		m->relay[rand_r(seed) % (unsigned)nuniverse]
		    [kind == MODEL_POSTFIX_EXACT ? rand_r(seed) % 2 : 0] =
		    kind == MODEL_SENDMAIL ? (char)(1 + rand_r(seed) % 3) :
		    ACC_RELAY;
	n = 1 + (int)(rand_r(seed) % 10);
	for (i = 0; i < n; i++)
		m->route[rand_r(seed) % (unsigned)nuniverse]
		    [rand_r(seed) % 2] = 1 + (int)(rand_r(seed) % 3);
}

static void
check_name(const struct model *m, const struct ruleset *rules,
    const char *name, const char *tables)
{
	const struct rule	*rule;
	struct expect		 e;

	model_expect(m, name, &e);
	rule = ruleset_lookup(rules, name, NULL);
	if (e.relay == -1) {
		ck_assert_msg(rule == NULL, "%s: matched, want unmatched\n%s",
		    name, tables);
		return;
	}
	ck_assert_msg(rule != NULL, "%s: unmatched\n%s", name, tables);
	ck_assert_msg(rule->relay == e.relay, "%s: relay %d want %d\n%s",
	    name, rule->relay, e.relay, tables);
	if (e.relay == RELAY_DENY) {
		ck_assert_msg(rule->reply != NULL &&
		    strcmp(rule->reply, e.reply) == 0, "%s: reply %s\n%s",
		    name, rule->reply ? rule->reply : "(none)", tables);
		return;
	}
	if (e.host == NULL)
		ck_assert_msg(rule->smarthost == NULL, "%s: smarthost %s\n%s",
		    name, rule->smarthost, tables);
	else
		ck_assert_msg(rule->smarthost != NULL &&
		    strcmp(rule->smarthost, e.host) == 0,
		    "%s: smarthost %s want %s\n%s", name,
		    rule->smarthost ? rule->smarthost : "(none)", e.host,
		    tables);
}

static void
differential(enum model_kind kind, unsigned seed, int iterations)
{
	static char	 relay[8192], route[8192], tables[20000];
	struct model	 m;
	struct ruleset	*rules;
	struct run	 r;
	char		 err[512], probe[32], *line, *nl;
	int		 iter, i, checked;

	universe_build();
	checked = 0;
	for (iter = 0; iter < iterations; iter++) {
		model_random(&m, kind, &seed);
		model_tables(&m, relay, route, sizeof(relay));
		if (kind == MODEL_SENDMAIL)
			run_import(&r, 0, "sendmail-access", relay,
			    "sendmail-mailertable", route);
		else
			run_import(&r, kind == MODEL_POSTFIX_EXACT ?
			    IMPORT_EXACT_RELAY_DOMAINS : 0,
			    "postfix-relay-domains", relay,
			    "postfix-transport", route);
		snprintf(tables, sizeof(tables), "relay (kind %d):\n%s"
		    "route:\n%sresult:\n%s", kind, relay, route,
		    r.out ? r.out : r.err);
		ck_assert_msg(r.rc == 0, "import failed: %s", tables);
		rules = ruleset_new();
		ck_assert_ptr_nonnull(rules);
		for (line = r.out; *line != '\0'; line = nl + 1) {
			nl = strchr(line, '\n');
			ck_assert_ptr_nonnull(nl);
			ck_assert_msg(config_parse_domains_line(rules, line,
			    (size_t)(nl - line), err, sizeof(err)) == 0,
			    "%s\n%s", err, tables);
		}
		for (i = 0; i < nuniverse; i++) {
			check_name(&m, rules, universe[i], tables);
			snprintf(probe, sizeof(probe), "zz.%.20s",
			    universe[i]);
			check_name(&m, rules, probe, tables);
			checked += 2;
		}
		check_name(&m, rules, "other", tables);
		ruleset_free(rules);
		run_free(&r);
	}
	ck_assert_int_eq(checked, iterations * 2 * nuniverse);
}

START_TEST(test_differential_postfix)
{
	differential(MODEL_POSTFIX, 12345, 1000);
}
END_TEST

START_TEST(test_differential_postfix_exact)
{
	differential(MODEL_POSTFIX_EXACT, 777, 1000);
}
END_TEST

START_TEST(test_differential_sendmail)
{
	differential(MODEL_SENDMAIL, 4242, 1000);
}
END_TEST

START_TEST(test_empty_and_io)
{
	struct import	*imp;
	FILE		*out;
	char		 err[256], buf[16];

	expect_output(0, "postfix-transport", "", NULL, NULL, "");
	expect_output(0, "postfix-transport", "# only comments\n\n", NULL,
	    NULL, "");
	/* a write error is reported, not ignored */
	imp = import_new(0, NULL);
	ck_assert_ptr_nonnull(imp);
	out = fmemopen(buf, sizeof(buf), "w");
	ck_assert_ptr_nonnull(out);
	setvbuf(out, NULL, _IONBF, 0);
	ck_assert_int_eq(import_write(imp, out, err, sizeof(err)), -1);
	fclose(out);
	import_free(imp);
	import_free(NULL);
}
END_TEST

START_TEST(test_long_line)
{
	char	*text;
	size_t	 n;

	n = IMPORT_LINE_MAX + 100;
	text = malloc(n + 2);
	ck_assert_ptr_nonnull(text);
	memset(text, 'a', n);
	text[n] = '\n';
	text[n + 1] = '\0';
	expect_error("postfix-transport", text, "t1:1:", "too long");
	free(text);
}
END_TEST

static Suite *
import_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("import");
	tc = tcase_create("formats");
	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_transport_patterns);
	tcase_add_loop_test(tc, test_transport_nexthops, 0,
	    (int)(sizeof(nexthops) / sizeof(nexthops[0])));
	tcase_add_test(tc, test_transport_refused);
	tcase_add_test(tc, test_transport_duplicate_same);
	tcase_add_test(tc, test_relay_domains);
	tcase_add_test(tc, test_combined);
	tcase_add_test(tc, test_mailertable);
	tcase_add_test(tc, test_access);
	tcase_add_test(tc, test_reply_escapes);
	tcase_add_test(tc, test_empty_and_io);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("differential");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_differential_postfix);
	tcase_add_test(tc, test_differential_postfix_exact);
	tcase_add_test(tc, test_differential_sendmail);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(import_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
