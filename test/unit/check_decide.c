/*
 * check_decide - unit tests of decide() and decide_domain() (lib/decide.c)
 *
 * A table of (configuration, client, RCPT TO argument) -> outcome, reply
 * code, enhanced code, matched pattern and, where it matters, reply text
 * and the outcome enforce mode would give.  The configurations are real
 * config files written to temporary files and read by config_load(), so
 * the table checks the whole path from configuration text to decision:
 * every row of the rule semantics (README, "How rules work"), IDN in
 * rules and addresses, every address form, the unmatched policies, trusted networks and
 * authentication, log-only mode and the NULL configuration.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "netaddr.h"
#include "testutil.h"

/* The rules every configuration shares. */
#define RULES \
	"domains = (\n" \
	"  { match = \"example.com\"; smarthost = \"[10.1.2.3]\"; },\n" \
	"  { match = \"#example.org\"; smarthost = \"mail.example.org:2525\"; },\n" \
	"  { match = \"#x.example.org\"; relay = \"deny\"; },\n" \
	"  { match = \".example.net\"; },\n" \
	"  { match = \"partner.example\"; relay = \"trusted\";\n" \
	"    smarthost = \"[2001:db8::25]\"; },\n" \
	"  { match = \"lab.example.com\"; relay = \"deny\";\n" \
	"    reply = \"550 5.7.1 No mail for the lab\"; },\n" \
	"  { match = \"open.lab.example.com\"; },\n" \
	"  { match = \"trusted.example.com\"; relay = \"trusted\"; },\n" \
	"  { match = \"deny.test\"; relay = \"deny\"; },\n" \
	"  { match = \"#deny.test\"; },\n" \
	"  { match = \"both.test\"; },\n" \
	"  { match = \".both.test\"; relay = \"deny\"; },\n" \
	"  { match = \"#exact.test\"; relay = \"deny\";\n" \
	"    reply = \"421 4.3.2 Try later\"; },\n" \
	"  { match = \".exact.test\"; },\n" \
	"  { match = \"deep.test\"; },\n" \
	"  { match = \"a.b.c.deep.test\"; relay = \"deny\"; },\n" \
	"  { match = \"b\xc3\xbc" "cher.example\"; },\n" \
	"  { match = \"xn--mnchen-3ya.example\"; },\n" \
	"  { match = \"Case.TEST.\"; },\n" \
	"  { match = \"_dmarc.test\"; }\n" \
	");\n"

#define NETS	"trusted_networks = [ \"127.0.0.0/8\", \"::1/128\", " \
		"\"192.0.2.0/24\" ];"

enum cfg { A, B, C, D, E, F, NCFG, NONE = NCFG };

static const char *const cfg_text[NCFG] = {
	/* A: reject, the defaults */
	"policy = { unmatched = \"reject\"; " NETS " };\n" RULES,
	/* B: tempfail */
	"policy = { unmatched = \"tempfail\"; " NETS " };\n" RULES,
	/* C: continue */
	"policy = { unmatched = \"continue\"; " NETS " };\n" RULES,
	/* D: log-only */
	"policy = { mode = \"log-only\"; " NETS " };\n" RULES,
	/* E: authentication does not make a client trusted */
	"policy = { trust_authenticated = false; " NETS " };\n" RULES,
	/* F: unix-socket clients are trusted */
	"policy = { trust_local_socket = true; " NETS " };\n" RULES,
};

/* Clients. */
enum who { U, U6, T, T2, T6, TM, UNIX, AUTH, EDGE_IN, EDGE_OUT };

static const struct {
	const char	*addr;		/* NULL: unix socket */
	int		 auth;
} clients[] = {
	[U] = { "203.0.113.5", 0 },
	[U6] = { "2001:db8:1::5", 0 },
	[T] = { "127.0.0.1", 0 },
	[T2] = { "192.0.2.77", 0 },
	[T6] = { "::1", 0 },
	[TM] = { "::ffff:127.0.0.1", 0 },
	[UNIX] = { NULL, 0 },
	[AUTH] = { "203.0.113.5", 1 },
	[EDGE_IN] = { "192.0.2.255", 0 },
	[EDGE_OUT] = { "192.0.3.0", 0 },
};

#define ACC	OUTCOME_ACCEPT
#define REJ	OUTCOME_REJECT
#define TMP	OUTCOME_TEMPFAIL
#define CON	OUTCOME_CONTINUE

struct dcase {
	enum cfg	 cfg;
	enum who	 who;
	const char	*rcpt;
	enum outcome	 outcome;
	const char	*rcode;		/* "" for accept and continue */
	const char	*xcode;
	const char	*pattern;	/* NULL: not checked; "": no rule */
	const char	*text;		/* NULL: not checked */
	int		 enforced;	/* -1: same as outcome */
};

#define LONG63	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG64	LONG63 "a"
/* 4 x 64 - 1 + ".example.com" would be too long; build names below. */
#define L61	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
/* 61+1+61+1+61+1+53 + ".example.com" (12) = 251 + 2 = 253 */
#define N253	L61 "." L61 "." L61 "." \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		".example.com"
#define N254	"a" N253

static const struct dcase cases[] = {
	/* namespace rule example.com */
	{ A, U, "<u@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@a.example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@a.b.c.example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@example.com.>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@a.example.com.>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@EXAMPLE.COM>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<U@Example.Com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@A.EXAMPLE.COM.>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "u@example.com", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "  <u@example.com>  ", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<postmaster@example.com>", ACC, "", "", "example.com", NULL,
	    -1 },
	{ A, U, "<u@xexample.com>", REJ, "554", "5.7.1", "",
	    "<u@xexample.com>: Relay access denied", -1 },
	{ A, U, "<u@example.com.evil.test>", REJ, "554", "5.7.1", "",
	    "<u@example.com.evil.test>: Relay access denied", -1 },
	{ A, U, "<u@example.co>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<u@com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<u@examplecom>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<u@xample.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<postmaster@xexample.com>", REJ, "554", "5.7.1", "", NULL,
	    -1 },
	{ A, T, "<u@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, T, "<u@xexample.com>", CON, "", "", "", "", -1 },
	{ A, T, "<u@example.com.evil.test>", CON, "", "", "", NULL, -1 },
	/* exact rule #example.org */
	{ A, U, "<u@example.org>", ACC, "", "", "#example.org", NULL, -1 },
	{ A, U, "<u@EXAMPLE.ORG.>", ACC, "", "", "#example.org", NULL, -1 },
	{ A, U, "<u@a.example.org>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<u@www.example.org>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, T, "<u@a.example.org>", CON, "", "", "", NULL, -1 },
	{ A, U, "<u@x.example.org>", REJ, "554", "5.7.1", "#x.example.org",
	    "<u@x.example.org>: Relay access denied", -1 },
	{ A, T, "<u@x.example.org>", REJ, "554", "5.7.1", "#x.example.org",
	    NULL, -1 },
	{ A, U, "<u@y.x.example.org>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, T, "<u@y.x.example.org>", CON, "", "", "", NULL, -1 },
	/* subdomains-only rule .example.net */
	{ A, U, "<u@example.net>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<u@a.example.net>", ACC, "", "", ".example.net", NULL, -1 },
	{ A, U, "<u@a.b.example.net>", ACC, "", "", ".example.net", NULL, -1 },
	{ A, U, "<u@A.Example.NET.>", ACC, "", "", ".example.net", NULL, -1 },
	{ A, T, "<u@example.net>", CON, "", "", "", NULL, -1 },
	{ A, U, "<u@xexample.net>", REJ, "554", "5.7.1", "", NULL, -1 },
	/* trusted-only rule partner.example */
	{ A, U, "<u@partner.example>", REJ, "554", "5.7.1", "partner.example",
	    "<u@partner.example>: Relay access denied", -1 },
	{ A, U, "<u@sub.partner.example>", REJ, "554", "5.7.1",
	    "partner.example", NULL, -1 },
	{ A, U6, "<u@partner.example>", REJ, "554", "5.7.1", "partner.example",
	    NULL, -1 },
	{ A, T, "<u@partner.example>", ACC, "", "", "partner.example", NULL,
	    -1 },
	{ A, T2, "<u@sub.partner.example>", ACC, "", "", "partner.example",
	    NULL, -1 },
	{ A, T6, "<u@partner.example>", ACC, "", "", "partner.example", NULL,
	    -1 },
	{ A, TM, "<u@partner.example>", ACC, "", "", "partner.example", NULL,
	    -1 },
	{ A, AUTH, "<u@partner.example>", ACC, "", "", "partner.example",
	    NULL, -1 },
	{ A, UNIX, "<u@partner.example>", REJ, "554", "5.7.1",
	    "partner.example", NULL, -1 },
	{ A, EDGE_IN, "<u@partner.example>", ACC, "", "", "partner.example",
	    NULL, -1 },
	{ A, EDGE_OUT, "<u@partner.example>", REJ, "554", "5.7.1",
	    "partner.example", NULL, -1 },
	{ A, U, "<u@partner.example.evil.test>", REJ, "554", "5.7.1", "",
	    NULL, -1 },
	/* trusted-only rule inside an always namespace */
	{ A, U, "<u@trusted.example.com>", REJ, "554", "5.7.1",
	    "trusted.example.com", NULL, -1 },
	{ A, U, "<u@a.trusted.example.com>", REJ, "554", "5.7.1",
	    "trusted.example.com", NULL, -1 },
	{ A, T, "<u@trusted.example.com>", ACC, "", "", "trusted.example.com",
	    NULL, -1 },
	{ A, U, "<u@untrusted.example.com>", ACC, "", "", "example.com", NULL,
	    -1 },
	/* deny inside a namespace, relay inside the deny */
	{ A, U, "<u@lab.example.com>", REJ, "550", "5.7.1", "lab.example.com",
	    "No mail for the lab", -1 },
	{ A, U, "<u@x.lab.example.com>", REJ, "550", "5.7.1",
	    "lab.example.com", "No mail for the lab", -1 },
	{ A, T, "<u@lab.example.com>", REJ, "550", "5.7.1", "lab.example.com",
	    NULL, -1 },
	{ A, AUTH, "<u@lab.example.com>", REJ, "550", "5.7.1",
	    "lab.example.com", NULL, -1 },
	{ A, U, "<u@LAB.Example.Com.>", REJ, "550", "5.7.1",
	    "lab.example.com", NULL, -1 },
	{ A, U, "<u@open.lab.example.com>", ACC, "", "",
	    "open.lab.example.com", NULL, -1 },
	{ A, U, "<u@a.open.lab.example.com>", ACC, "", "",
	    "open.lab.example.com", NULL, -1 },
	{ A, U, "<u@xopen.lab.example.com>", REJ, "550", "5.7.1",
	    "lab.example.com", NULL, -1 },
	{ A, U, "<u@xlab.example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@lab.example.com.evil.test>", REJ, "554", "5.7.1", "",
	    NULL, -1 },
	/* same name: exact beats namespace beats subdomains-only */
	{ A, U, "<u@deny.test>", ACC, "", "", "#deny.test", NULL, -1 },
	{ A, U, "<u@a.deny.test>", REJ, "554", "5.7.1", "deny.test",
	    "<u@a.deny.test>: Relay access denied", -1 },
	{ A, T, "<u@a.deny.test>", REJ, "554", "5.7.1", "deny.test", NULL,
	    -1 },
	{ A, U, "<u@both.test>", ACC, "", "", "both.test", NULL, -1 },
	{ A, U, "<u@a.both.test>", ACC, "", "", "both.test", NULL, -1 },
	{ A, U, "<u@exact.test>", REJ, "421", "4.3.2", "#exact.test",
	    "Try later", -1 },
	{ A, U, "<u@a.exact.test>", ACC, "", "", ".exact.test", NULL, -1 },
	{ A, U, "<u@b.a.exact.test>", ACC, "", "", ".exact.test", NULL, -1 },
	{ A, T, "<u@exact.test>", REJ, "421", "4.3.2", "#exact.test", NULL,
	    -1 },
	/* most labels win */
	{ A, U, "<u@deep.test>", ACC, "", "", "deep.test", NULL, -1 },
	{ A, U, "<u@c.deep.test>", ACC, "", "", "deep.test", NULL, -1 },
	{ A, U, "<u@b.c.deep.test>", ACC, "", "", "deep.test", NULL, -1 },
	{ A, U, "<u@a.b.c.deep.test>", REJ, "554", "5.7.1", "a.b.c.deep.test",
	    NULL, -1 },
	{ A, U, "<u@z.a.b.c.deep.test>", REJ, "554", "5.7.1",
	    "a.b.c.deep.test", NULL, -1 },
	{ A, U, "<u@x.b.c.deep.test>", ACC, "", "", "deep.test", NULL, -1 },
	/* normalized patterns */
	{ A, U, "<u@case.test>", ACC, "", "", "case.test", NULL, -1 },
	{ A, U, "<u@X.CASE.TEST>", ACC, "", "", "case.test", NULL, -1 },
	{ A, U, "<u@_dmarc.test>", ACC, "", "", "_dmarc.test", NULL, -1 },
	{ A, U, "<u@dmarc.test>", REJ, "554", "5.7.1", "", NULL, -1 },
	/* IDN in rules and in addresses */
	{ A, U, "<u@b\xc3\xbc" "cher.example>", ACC, "", "",
	    "xn--bcher-kva.example", NULL, -1 },
	{ A, U, "<u@B\xc3\x9c" "CHER.example>", ACC, "", "",
	    "xn--bcher-kva.example", NULL, -1 },
	{ A, U, "<u@xn--bcher-kva.example>", ACC, "", "",
	    "xn--bcher-kva.example", NULL, -1 },
	{ A, U, "<u@XN--BCHER-KVA.EXAMPLE>", ACC, "", "",
	    "xn--bcher-kva.example", NULL, -1 },
	{ A, U, "<u@shop.b\xc3\xbc" "cher.example>", ACC, "", "",
	    "xn--bcher-kva.example", NULL, -1 },
	{ A, U, "<u@m\xc3\xbc" "nchen.example>", ACC, "", "",
	    "xn--mnchen-3ya.example", NULL, -1 },
	{ A, U, "<u@xn--mnchen-3ya.example>", ACC, "", "",
	    "xn--mnchen-3ya.example", NULL, -1 },
	{ A, U, "<\xc3\xbc@m\xc3\xbc" "nchen.example>", ACC, "", "",
	    "xn--mnchen-3ya.example", NULL, -1 },
	{ A, U, "<u@buecher.example>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<u@bucher.example>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, T, "<u@b\xc3\xbc" "cher.test>", CON, "", "", "", NULL, -1 },
	/* sender-specified routing */
	{ A, U, "<user%victim.test@example.com>", REJ, "554", "5.7.1", "",
	    "<user?victim.test@example.com>: Sender-specified routing is not "
	    "allowed", -1 },
	{ A, U, "<\"a@b\"@example.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<\"u@victim.test\"@example.com>", REJ, "554", "5.7.1", "",
	    NULL, -1 },
	{ A, U, "<@x.test:u@example.com>", REJ, "554", "5.7.1", "",
	    "<@x.test:u@example.com>: Sender-specified routing is not "
	    "allowed", -1 },
	{ A, U, "<@x.test,@y.test:u@example.com>", REJ, "554", "5.7.1", "",
	    NULL, -1 },
	{ A, U, "<victim.test!u@example.com>", REJ, "554", "5.7.1", "", NULL,
	    -1 },
	{ A, U, "<u%victim.test@xexample.com>", REJ, "554", "5.7.1", "", NULL,
	    -1 },
	{ A, U, "<u%v@partner.example>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U6, "<u!v@example.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, EDGE_OUT, "<u%v@example.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, T, "<user%victim.test@example.com>", ACC, "", "", "example.com",
	    NULL, -1 },
	{ A, T, "<\"a@b\"@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, T, "<@x.test:u@example.com>", ACC, "", "", "example.com", NULL,
	    -1 },
	{ A, T, "<victim.test!u@example.com>", ACC, "", "", "example.com",
	    NULL, -1 },
	{ A, T, "<u%v@xexample.com>", CON, "", "", "", NULL, -1 },
	{ A, AUTH, "<u%v@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ A, T, "<u%v@lab.example.com>", REJ, "550", "5.7.1",
	    "lab.example.com", NULL, -1 },
	/* address literals, null path, postmaster, unqualified */
	{ A, U, "<u@[127.0.0.1]>", REJ, "554", "5.7.1", "",
	    "<u@[127.0.0.1]>: Relay access denied", -1 },
	{ A, U, "<u@[192.0.2.1]>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, U, "<u@[IPv6:2001:db8::1]>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ A, T, "<u@[127.0.0.1]>", CON, "", "", "", NULL, -1 },
	{ A, T, "<u@[IPv6:::1]>", CON, "", "", "", NULL, -1 },
	{ A, U, "<>", REJ, "501", "5.1.3", "", "Bad recipient address syntax",
	    -1 },
	{ A, T, "<>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<postmaster>", CON, "", "", "", NULL, -1 },
	{ A, U, "<Postmaster>", CON, "", "", "", NULL, -1 },
	{ A, U, "<POSTMASTER>", CON, "", "", "", NULL, -1 },
	{ A, T, "<postmaster>", CON, "", "", "", NULL, -1 },
	{ A, U, "<user>", REJ, "554", "5.7.1", "",
	    "<user>: Relay access denied", -1 },
	{ A, T, "<user>", CON, "", "", "", NULL, -1 },
	/* syntax errors */
	{ A, U, "", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@exa mple.com>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@example..com>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@example.com..>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<@example.com>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@example.com", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@-bad.example.com>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@bad-.example.com>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@exa$mple.com>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, T, "<u@example..com>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, U, "<u@[999.0.0.1]>", REJ, "501", "5.1.3", "", NULL, -1 },
	/* length limits */
	{ A, U, "<u@" LONG63 ".example.com>", ACC, "", "", "example.com",
	    NULL, -1 },
	{ A, U, "<u@" LONG64 ".example.com>", REJ, "501", "5.1.3", "", NULL,
	    -1 },
	{ A, U, "<u@" N253 ">", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@" N253 ".>", ACC, "", "", "example.com", NULL, -1 },
	{ A, U, "<u@" N254 ">", REJ, "501", "5.1.3", "", NULL, -1 },
	{ A, T, "<u@" N254 ">", REJ, "501", "5.1.3", "", NULL, -1 },
	/* authentication, trust_authenticated = false */
	{ A, AUTH, "<u@xexample.com>", CON, "", "", "", NULL, -1 },
	{ E, AUTH, "<u@partner.example>", REJ, "554", "5.7.1",
	    "partner.example", NULL, -1 },
	{ E, AUTH, "<u@xexample.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ E, AUTH, "<u@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ E, AUTH, "<u%v@example.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ E, T, "<u@partner.example>", ACC, "", "", "partner.example", NULL,
	    -1 },
	{ E, T, "<u@xexample.com>", CON, "", "", "", NULL, -1 },
	/* unmatched = tempfail */
	{ B, U, "<u@xexample.com>", TMP, "451", "4.7.1", "", NULL, -1 },
	{ B, U, "<u@partner.example>", TMP, "451", "4.7.1", "partner.example",
	    NULL, -1 },
	{ B, U, "<u@[127.0.0.1]>", TMP, "451", "4.7.1", "", NULL, -1 },
	{ B, U, "<user>", TMP, "451", "4.7.1", "", NULL, -1 },
	{ B, U, "<u@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ B, U, "<u@lab.example.com>", REJ, "550", "5.7.1", "lab.example.com",
	    NULL, -1 },
	{ B, U, "<u%v@example.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ B, U, "<>", REJ, "501", "5.1.3", "", NULL, -1 },
	{ B, T, "<u@xexample.com>", CON, "", "", "", NULL, -1 },
	{ B, T, "<u@partner.example>", ACC, "", "", "partner.example", NULL,
	    -1 },
	/* unmatched = continue */
	{ C, U, "<u@xexample.com>", CON, "", "", "", NULL, -1 },
	{ C, U, "<u@partner.example>", CON, "", "", "partner.example", NULL,
	    -1 },
	{ C, U, "<u@[127.0.0.1]>", CON, "", "", "", NULL, -1 },
	{ C, U, "<u@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ C, U, "<u@lab.example.com>", REJ, "550", "5.7.1", "lab.example.com",
	    NULL, -1 },
	{ C, U, "<u@a.deny.test>", REJ, "554", "5.7.1", "deny.test", NULL,
	    -1 },
	{ C, U, "<u%v@xexample.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ C, U, "<u@example..com>", REJ, "501", "5.1.3", "", NULL, -1 },
	/* log-only: accept, keep what enforce would say */
	{ D, U, "<u@xexample.com>", ACC, "554", "5.7.1", "", NULL, REJ },
	{ D, U, "<u@lab.example.com>", ACC, "550", "5.7.1", "lab.example.com",
	    "No mail for the lab", REJ },
	{ D, U, "<u@partner.example>", ACC, "554", "5.7.1", "partner.example",
	    NULL, REJ },
	{ D, U, "<u%v@example.com>", ACC, "554", "5.7.1", "", NULL, REJ },
	{ D, U, "<>", ACC, "501", "5.1.3", "", NULL, REJ },
	{ D, U, "<u@exact.test>", ACC, "421", "4.3.2", "#exact.test", NULL,
	    REJ },
	{ D, U, "<u@example.com>", ACC, "", "", "example.com", NULL, ACC },
	{ D, U, "<postmaster>", CON, "", "", "", NULL, CON },
	{ D, T, "<u@xexample.com>", CON, "", "", "", NULL, CON },
	{ D, T, "<u@partner.example>", ACC, "", "", "partner.example", NULL,
	    ACC },
	/* unix-socket clients */
	{ A, UNIX, "<u@xexample.com>", REJ, "554", "5.7.1", "", NULL, -1 },
	{ F, UNIX, "<u@xexample.com>", CON, "", "", "", NULL, -1 },
	{ F, UNIX, "<u@partner.example>", ACC, "", "", "partner.example", NULL,
	    -1 },
	{ F, UNIX, "<u%v@example.com>", ACC, "", "", "example.com", NULL, -1 },
	{ F, U, "<u@partner.example>", REJ, "554", "5.7.1", "partner.example",
	    NULL, -1 },
	/* no configuration: never accept */
	{ NONE, U, "<u@example.com>", TMP, "451", "4.7.1", "", NULL, -1 },
	{ NONE, T, "<u@example.com>", TMP, "451", "4.7.1", "", NULL, -1 },
	{ NONE, U, "<>", TMP, "451", "4.7.1", "", NULL, -1 },
};

static struct config *configs[NCFG];

static const struct config *
config_of(enum cfg cfg)
{
	if (cfg == NONE)
		return NULL;
	if (configs[cfg] == NULL)
		configs[cfg] = unit_config_load(cfg_text[cfg]);
	return configs[cfg];
}

static void
client_of(enum who who, struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->authenticated = clients[who].auth;
	if (clients[who].addr == NULL)
		return;
	c->has_addr = 1;
	ck_assert_int_eq(netaddr_parse(clients[who].addr, &c->addr), 0);
}

START_TEST(test_table)
{
	const struct dcase	*t = &cases[_i];
	struct client		 client;
	struct decision		 d;
	int			 enforced;

	client_of(t->who, &client);
	decide(config_of(t->cfg), &client, t->rcpt, strlen(t->rcpt), &d);
	ck_assert_msg(d.outcome == t->outcome,
	    "row %d %s: outcome %s, expected %s (%s)", _i, t->rcpt,
	    decision_outcome_name(d.outcome),
	    decision_outcome_name(t->outcome), decision_reason(&d));
	enforced = t->enforced == -1 ? (int)t->outcome : t->enforced;
	ck_assert_msg((int)d.enforced == enforced,
	    "row %d %s: enforced %s", _i, t->rcpt,
	    decision_outcome_name(d.enforced));
	ck_assert_msg(strcmp(d.rcode, t->rcode) == 0 &&
	    strcmp(d.xcode, t->xcode) == 0,
	    "row %d %s: reply %s %s %s, expected %s %s", _i, t->rcpt,
	    d.rcode, d.xcode, d.text, t->rcode, t->xcode);
	if (t->pattern != NULL)
		ck_assert_msg(strcmp(d.pattern, t->pattern) == 0,
		    "row %d %s: pattern \"%s\", expected \"%s\"", _i, t->rcpt,
		    d.pattern, t->pattern);
	if (t->pattern != NULL && *t->pattern == '\0' &&
	    t->outcome != OUTCOME_CONTINUE)
		ck_assert_ptr_null(d.rule);
	if (t->pattern != NULL && *t->pattern != '\0')
		ck_assert_ptr_nonnull(d.rule);
	if (t->text != NULL)
		ck_assert_msg(strcmp(d.text, t->text) == 0,
		    "row %d %s: text \"%s\", expected \"%s\"", _i, t->rcpt,
		    d.text, t->text);
	ck_assert_ptr_nonnull(decision_reason(&d));
	ck_assert_uint_lt(d.reason, DECIDE_REASON_COUNT);
	if (t->outcome == OUTCOME_ACCEPT && t->enforced == -1)
		ck_assert_str_eq(d.text, "");
}
END_TEST

/* The routing rule fields reach the caller through d.rule. */
START_TEST(test_rule_fields)
{
	struct client	client;
	struct decision	d;

	client_of(U, &client);
	decide(config_of(A), &client, "<u@a.example.com>", 17, &d);
	ck_assert_int_eq(d.outcome, OUTCOME_ACCEPT);
	ck_assert_str_eq(d.rule->smarthost, "[10.1.2.3]");
	ck_assert_str_eq(d.domain, "a.example.com");
	ck_assert_int_eq(d.trusted, 0);
	decide(config_of(A), &client, "<u@example.org>", 15, &d);
	ck_assert_str_eq(d.rule->smarthost, "mail.example.org:2525");
	client_of(T, &client);
	decide(config_of(A), &client, "<u@partner.example>", 19, &d);
	ck_assert_int_eq(d.trusted, 1);
	ck_assert_str_eq(d.rule->smarthost, "[2001:db8::25]");
	ck_assert_int_eq(d.rule->relay, RELAY_TRUSTED);
	decide(config_of(A), &client, "<u@b\xc3\xbc" "cher.example>",
	    strlen("<u@b\xc3\xbc" "cher.example>"), &d);
	ck_assert_str_eq(d.domain, "xn--bcher-kva.example");
}
END_TEST

/* decide() reads only len octets of the argument. */
START_TEST(test_length)
{
	struct client	client;
	struct decision	d;
	const char	*text = "<u@example.com>garbage";

	client_of(U, &client);
	decide(config_of(A), &client, text, 15, &d);
	ck_assert_int_eq(d.outcome, OUTCOME_ACCEPT);
	decide(config_of(A), &client, text, 14, &d);
	ck_assert_int_eq(d.outcome, OUTCOME_REJECT);
	ck_assert_str_eq(d.rcode, "501");
}
END_TEST

/* The address shown in replies: bounded, printable, no '%'. */
START_TEST(test_reply_address)
{
	struct client	client;
	struct decision	d;
	char		rcpt[600];
	size_t		i;

	client_of(U, &client);
	strcpy(rcpt, "<");
	for (i = 1; i < 250; i++)
		rcpt[i] = 'a';
	rcpt[i] = '\0';
	strcat(rcpt, "@xexample.com>");
	decide(config_of(A), &client, rcpt, strlen(rcpt), &d);
	ck_assert_int_eq(d.outcome, OUTCOME_REJECT);
	ck_assert_uint_le(strlen(d.text), 256 + 40);
	ck_assert_ptr_nonnull(strstr(d.text, ": Relay access denied"));
	for (i = 0; d.text[i] != '\0'; i++)
		ck_assert(d.text[i] >= 0x20 && d.text[i] < 0x7f &&
		    d.text[i] != '%');
}
END_TEST

struct domcase {
	enum cfg	 cfg;
	enum who	 who;
	const char	*domain;
	enum outcome	 outcome;
	const char	*pattern;
	const char	*normalized;
};

static const struct domcase domcases[] = {
	{ A, U, "example.com", ACC, "example.com", "example.com" },
	{ A, U, "a.example.com", ACC, "example.com", "a.example.com" },
	{ A, U, "EXAMPLE.COM.", ACC, "example.com", "example.com" },
	{ A, U, "xexample.com", REJ, "", "xexample.com" },
	{ A, T, "xexample.com", CON, "", "xexample.com" },
	{ A, U, "a.example.org", REJ, "", "a.example.org" },
	{ A, U, "example.org", ACC, "#example.org", "example.org" },
	{ A, U, "example.net", REJ, "", "example.net" },
	{ A, U, "a.example.net", ACC, ".example.net", "a.example.net" },
	{ A, U, "partner.example", REJ, "partner.example", "partner.example" },
	{ A, T, "partner.example", ACC, "partner.example", "partner.example" },
	{ A, U, "lab.example.com", REJ, "lab.example.com", "lab.example.com" },
	{ A, U, "b\xc3\xbc" "cher.example", ACC, "xn--bcher-kva.example",
	    "xn--bcher-kva.example" },
	{ A, U, "example..com", REJ, "", "" },
	{ A, U, "", REJ, "", "" },
	{ D, U, "xexample.com", ACC, "", "xexample.com" },
	{ NONE, U, "example.com", TMP, "", "" },
};

START_TEST(test_domain_table)
{
	const struct domcase	*t = &domcases[_i];
	struct client		 client;
	struct decision		 d;

	client_of(t->who, &client);
	decide_domain(config_of(t->cfg), &client, t->domain, &d);
	ck_assert_msg(d.outcome == t->outcome, "row %d %s: outcome %s", _i,
	    t->domain, decision_outcome_name(d.outcome));
	ck_assert_str_eq(d.pattern, t->pattern);
	ck_assert_str_eq(d.domain, t->normalized);
}
END_TEST

/* decide_rcpt(): the MTA's own mailers for names no rule covers. */
struct mcase {
	enum cfg	 cfg;
	enum who	 who;
	const char	*rcpt;
	const char	*mailer;
	enum outcome	 outcome;
	const char	*reason;
};

static const struct mcase mcases[] = {
	/* no rule covers: the MTA's own delivery, any client */
	{ A, U, "<postmaster@srv.test>", "local", CON, "MTA final delivery" },
	{ A, U, "<u@mail.virt.test>", "virtual", CON, "MTA final delivery" },
	{ A, U, "<u@virt.test>", "lmtp", CON, "MTA final delivery" },
	{ A, T, "<u@virt.test>", "lmtp", CON, "MTA final delivery" },
	{ A, U, "<u@[127.0.0.1]>", "local", CON, "MTA final delivery" },
	{ A, U, "<root>", "local", CON, "MTA final delivery" },
	{ B, U, "<u@srv.test>", "local", CON, "MTA final delivery" },
	/* other mailers, no mailer, wrong case: as before */
	{ A, U, "<u@srv.test>", "smtp", REJ, "no rule" },
	{ A, U, "<u@srv.test>", "relay", REJ, "no rule" },
	{ A, U, "<u@srv.test>", "", REJ, "no rule" },
	{ A, U, "<u@srv.test>", NULL, REJ, "no rule" },
	{ A, U, "<u@srv.test>", "Local", REJ, "no rule" },
	{ A, U, "<u@[127.0.0.1]>", NULL, REJ, "address literal" },
	{ B, U, "<u@srv.test>", "smtp", TMP, "no rule" },
	/* a covering rule always decides */
	{ A, U, "<u@lab.example.com>", "lmtp", REJ, "deny rule" },
	{ A, T, "<u@lab.example.com>", "local", REJ, "deny rule" },
	{ A, U, "<u@x.example.org>", "local", REJ, "deny rule" },
	{ A, U, "<u@partner.example>", "lmtp", REJ,
	    "trusted-only rule, untrusted client" },
	{ A, U, "<u@example.com>", "local", ACC, "relay rule" },
	/* sender-specified routing through the own names: refused */
	{ A, U, "<u%victim.test@srv.test>", "local", REJ,
	    "sender-specified routing" },
	{ A, U, "<\"u@victim.test\"@srv.test>", "local", REJ,
	    "sender-specified routing" },
	{ A, U, "<@srv.test:u@victim.test>", "local", REJ,
	    "sender-specified routing" },
	{ A, U, "<victim.test!u@srv.test>", "local", REJ,
	    "sender-specified routing" },
	/* syntax errors stay syntax errors */
	{ A, U, "<u@@srv.test>", "local", REJ, NULL },
	{ NONE, U, "<u@srv.test>", "local", TMP, "no configuration" },
};

START_TEST(test_mailer_table)
{
	const struct mcase	*t = &mcases[_i];
	struct client		 client;
	struct decision		 d;

	client_of(t->who, &client);
	decide_rcpt(config_of(t->cfg), &client, t->rcpt, strlen(t->rcpt),
	    t->mailer, &d);
	ck_assert_msg(d.outcome == t->outcome, "row %d %s: outcome %s", _i,
	    t->rcpt, decision_outcome_name(d.outcome));
	if (t->reason != NULL)
		ck_assert_msg(strcmp(decision_reason(&d), t->reason) == 0,
		    "row %d %s: reason %s", _i, t->rcpt, decision_reason(&d));
	if (t->outcome == CON)
		ck_assert_str_eq(d.rcode, "");
}
END_TEST

/*
 * Reasons: every enum value and its phrase, spelled here as the log
 * lines, "query" and the metrics' reason label show them.
 */
static const char *const reason_phrases[DECIDE_REASON_COUNT] = {
	[DECIDE_REASON_RELAY] = "relay rule",
	[DECIDE_REASON_TRUSTED] = "trusted-only rule, trusted client",
	[DECIDE_REASON_UNTRUSTED] = "trusted-only rule, untrusted client",
	[DECIDE_REASON_DENY] = "deny rule",
	[DECIDE_REASON_NO_RULE] = "no rule",
	[DECIDE_REASON_NO_RULE_TRUSTED] = "no rule, trusted client",
	[DECIDE_REASON_LITERAL] = "address literal",
	[DECIDE_REASON_LITERAL_TRUSTED] = "address literal, trusted client",
	[DECIDE_REASON_UNQUALIFIED] = "unqualified address",
	[DECIDE_REASON_UNQUALIFIED_TRUSTED] =
	    "unqualified address, trusted client",
	[DECIDE_REASON_POSTMASTER] = "postmaster",
	[DECIDE_REASON_ROUTING] = "sender-specified routing",
	[DECIDE_REASON_NULL] = "null recipient",
	[DECIDE_REASON_SYNTAX] = "bad address syntax",
	[DECIDE_REASON_ROUTE_MISMATCH] = "route mismatch",
	[DECIDE_REASON_NO_CONFIG] = "no configuration",
	[DECIDE_REASON_NOT_LOADED] = "no configuration loaded",
	[DECIDE_REASON_NO_SESSION] = "no session context",
	[DECIDE_REASON_CANNOT] = "cannot decide",
	[DECIDE_REASON_FINAL] = "MTA final delivery",
	[DECIDE_REASON_OTHER] = "other",
};

START_TEST(test_reason_names)
{
	struct decision	d;

	ck_assert_ptr_nonnull(reason_phrases[_i]);
	ck_assert_str_eq(decide_reason_name((enum decide_reason)_i),
	    reason_phrases[_i]);
	/* without a detail, a decision's phrase is its reason's */
	memset(&d, 0, sizeof(d));
	d.reason = (enum decide_reason)_i;
	ck_assert_str_eq(decision_reason(&d), reason_phrases[_i]);
	d.detail = "a detail";
	ck_assert_str_eq(decision_reason(&d), "a detail");
}
END_TEST

START_TEST(test_reason_out_of_range)
{
	ck_assert_str_eq(decide_reason_name(DECIDE_REASON_COUNT), "other");
	ck_assert_str_eq(decide_reason_name((enum decide_reason)-1),
	    "other");
}
END_TEST

/* The reason decide() gives, and the phrase the log shows. */
struct rcase {
	enum cfg		 cfg;
	enum who		 who;
	const char		*rcpt;
	const char		*mailer;
	enum decide_reason	 reason;
	int			 detail;	/* the parser's message */
};

static const struct rcase rcases[] = {
	{ A, U, "<u@example.com>", NULL, DECIDE_REASON_RELAY, 0 },
	{ A, T, "<u@partner.example>", NULL, DECIDE_REASON_TRUSTED, 0 },
	{ A, U, "<u@partner.example>", NULL, DECIDE_REASON_UNTRUSTED, 0 },
	{ A, T, "<u@x.example.org>", NULL, DECIDE_REASON_DENY, 0 },
	{ A, U, "<u@nowhere.test>", NULL, DECIDE_REASON_NO_RULE, 0 },
	{ A, T, "<u@nowhere.test>", NULL, DECIDE_REASON_NO_RULE_TRUSTED, 0 },
	{ A, U, "<u@[192.0.2.1]>", NULL, DECIDE_REASON_LITERAL, 0 },
	{ A, T, "<u@[192.0.2.1]>", NULL, DECIDE_REASON_LITERAL_TRUSTED, 0 },
	{ A, U, "<u>", NULL, DECIDE_REASON_UNQUALIFIED, 0 },
	{ A, T, "<u>", NULL, DECIDE_REASON_UNQUALIFIED_TRUSTED, 0 },
	{ A, U, "<postmaster>", NULL, DECIDE_REASON_POSTMASTER, 0 },
	{ A, U, "<u%v.test@example.com>", NULL, DECIDE_REASON_ROUTING, 0 },
	{ A, U, "<>", NULL, DECIDE_REASON_NULL, 0 },
	{ A, U, "<u@@example.com>", NULL, DECIDE_REASON_SYNTAX, 1 },
	{ NONE, U, "<u@example.com>", NULL, DECIDE_REASON_NO_CONFIG, 0 },
	{ A, U, "<u@srv.test>", "local", DECIDE_REASON_FINAL, 0 },
};

START_TEST(test_reason_table)
{
	const struct rcase	*t = &rcases[_i];
	struct client		 client;
	struct decision		 d;

	client_of(t->who, &client);
	decide_rcpt(config_of(t->cfg), &client, t->rcpt, strlen(t->rcpt),
	    t->mailer, &d);
	ck_assert_msg(d.reason == t->reason, "row %d %s: reason %s, "
	    "expected %s", _i, t->rcpt, decide_reason_name(d.reason),
	    decide_reason_name(t->reason));
	if (!t->detail) {
		ck_assert_ptr_null(d.detail);
		ck_assert_str_eq(decision_reason(&d),
		    reason_phrases[t->reason]);
	} else {
		/* the parser's own message, not the metrics' label */
		ck_assert_ptr_nonnull(d.detail);
		ck_assert_str_ne(decision_reason(&d),
		    reason_phrases[t->reason]);
		ck_assert_str_ne(decision_reason(&d), "");
	}
}
END_TEST

/* decide_key(): a map key, the domain after its last '@'. */
START_TEST(test_key)
{
	struct client	client;
	struct decision	d;

	client_of(U, &client);
	decide_key(config_of(A), &client, "u@lab.example.com", 17, &d);
	ck_assert_int_eq(d.outcome, OUTCOME_REJECT);
	ck_assert_str_eq(d.text, "No mail for the lab");
	decide_key(config_of(A), &client, "u@victim@x.example.org", 22, &d);
	ck_assert_int_eq(d.outcome, OUTCOME_REJECT);
	ck_assert_str_eq(d.pattern, "#x.example.org");
	ck_assert_str_eq(d.text, "<u@victim@x.example.org>: Relay access denied");
	decide_key(config_of(A), &client, "u@a.example.com", 15, &d);
	ck_assert_int_eq(d.outcome, OUTCOME_ACCEPT);
	decide_key(config_of(A), &client, "u@[127.0.0.1]", 13, &d);
	ck_assert_ptr_null(d.rule);
	decide_key(NULL, &client, "u@a.example.com", 15, &d);
	ck_assert_int_eq(d.outcome, OUTCOME_TEMPFAIL);
}
END_TEST

START_TEST(test_client_trusted)
{
	const struct config	*c = config_of(A);
	struct client		 client;

	ck_assert_int_eq(client_trusted(&c->policy, NULL), 0);
	ck_assert_int_eq(client_trusted(NULL, NULL), 0);
	client_of(T, &client);
	ck_assert_int_eq(client_trusted(&c->policy, &client), 1);
	client_of(U, &client);
	ck_assert_int_eq(client_trusted(&c->policy, &client), 0);
	client_of(AUTH, &client);
	ck_assert_int_eq(client_trusted(&c->policy, &client), 1);
	ck_assert_int_eq(client_trusted(&config_of(E)->policy, &client), 0);
	client_of(UNIX, &client);
	ck_assert_int_eq(client_trusted(&c->policy, &client), 0);
	ck_assert_int_eq(client_trusted(&config_of(F)->policy, &client), 1);
	ck_assert_str_eq(decision_outcome_name(OUTCOME_ACCEPT), "accept");
	ck_assert_str_eq(decision_outcome_name(OUTCOME_REJECT), "reject");
	ck_assert_str_eq(decision_outcome_name(OUTCOME_TEMPFAIL), "tempfail");
	ck_assert_str_eq(decision_outcome_name(OUTCOME_CONTINUE), "continue");
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("decide");
	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_domain_table, 0,
	    (int)(sizeof(domcases) / sizeof(domcases[0])));
	tcase_add_test(tc, test_rule_fields);
	tcase_add_test(tc, test_length);
	tcase_add_test(tc, test_reply_address);
	tcase_add_loop_test(tc, test_mailer_table, 0,
	    (int)(sizeof(mcases) / sizeof(mcases[0])));
	tcase_add_test(tc, test_key);
	tcase_add_test(tc, test_client_trusted);
	tcase_add_loop_test(tc, test_reason_names, 0, DECIDE_REASON_COUNT);
	tcase_add_test(tc, test_reason_out_of_range);
	tcase_add_loop_test(tc, test_reason_table, 0,
	    (int)(sizeof(rcases) / sizeof(rcases[0])));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
