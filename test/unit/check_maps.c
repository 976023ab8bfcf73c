/*
 * check_maps - unit tests of maps_answer() and maps_route() (lib/maps.c)
 *
 * maps_route(): every smart host form to its Postfix transport(5) and
 * Sendmail mailertable value.  maps_answer(): a table of requests against
 * one rule set loaded with config_load() (namespace, exact, subdomains,
 * trusted, deny, no smart host, IDN, a transport name), the error
 * replies, log-only mode, a missing config, truncation, and agreement of
 * the relay map with decide_domain() over many generated names.  The rcpt
 * map (maps-only mode) with recipients: a "list" rule knows the address
 * (550 5.1.1 for an unlisted one, as the milter), a "verify" rule's
 * address is pending until maps_settle() after a callout (unsettled: 450
 * 4.1.1, or OK with verify_unknown = "accept"), maps_parse() once, the
 * answer's decision and outcome (what the log line shows).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "maps.h"
#include "testutil.h"

static const char rules_text[] =
    "domains = (\n"
    "  { match = \"example.com\"; smarthost = \"[127.0.0.1]:2526\"; },\n"
    "  { match = \"lab.example.com\"; relay = \"deny\";\n"
    "    reply = \"550 5.7.1 No mail for the lab\"; },\n"
    "  { match = \"#exact.example\";\n"
    "    smarthost = \"mail.exact.example:2527\"; },\n"
    "  { match = \".sub.example\"; smarthost = \"mx:relay.sub.example\"; },\n"
    "  { match = \"partner.example\"; relay = \"trusted\";\n"
    "    smarthost = \"[2001:db8::25]\"; },\n"
    "  { match = \"#gw.example.com\"; relay = \"deny\"; },\n"
    "  { match = \"plain.example\"; },\n"
    "  { match = \"b\xc3\xbc" "cher.example\"; smarthost = \"192.0.2.7\"; },\n"
    "  { match = \"slow.example\"; smarthost = \"[192.0.2.8]:25\";\n"
    "    transport = \"slow\"; }\n"
    ");\n";

static struct config *
load(const char *policy)
{
	char		*text;
	struct config	*config;

	ck_assert_int_ge(asprintf(&text, "policy = { %s };\n%s", policy,
	    rules_text), 0);
	config = unit_config_load(text);
	free(text);
	return config;
}

static void
expect(const struct config *config, const char *req, size_t len,
    const char *want)
{
	char	out[MAPS_ANSWER_MAX];
	size_t	n;

	n = maps_answer(config, req, len, out, sizeof(out));
	ck_assert_uint_eq(n, strlen(out));
	ck_assert_msg(strcmp(out, want) == 0, "\"%.*s\": got \"%s\", want "
	    "\"%s\"", (int)(len > 80 ? 80 : len), req, out, want);
}

START_TEST(test_route_forms)
{
	static const struct {
		const char	*smarthost, *transport, *postfix, *sendmail;
	} cases[] = {
		{ "mail.example.org", NULL, "smtp:[mail.example.org]",
		    "esmtp:[mail.example.org]" },
		{ "mail.example.org:2525", NULL, "smtp:[mail.example.org]:2525",
		    "esmtp2525:[mail.example.org]" },
		{ "mx:example.net", NULL, "smtp:example.net",
		    "esmtp:example.net" },
		{ "mx:example.net:26", NULL, "smtp:example.net:26",
		    "esmtp26:example.net" },
		{ "192.0.2.7", NULL, "smtp:[192.0.2.7]", "esmtp:[192.0.2.7]" },
		{ "[192.0.2.7]", NULL, "smtp:[192.0.2.7]",
		    "esmtp:[192.0.2.7]" },
		{ "[192.0.2.7]:2525", "relay", "relay:[192.0.2.7]:2525",
		    "esmtp2525:[192.0.2.7]" },
		{ "192.0.2.7:25", NULL, "smtp:[192.0.2.7]:25",
		    "esmtp:[192.0.2.7]" },
		{ "[2001:db8::7]", NULL, "smtp:[2001:db8::7]",
		    "esmtp:[IPv6:2001:db8::7]" },
		{ "[::1]:10025", "smtp-v6", "smtp-v6:[::1]:10025",
		    "esmtp10025:[IPv6:::1]" },
	};
	struct rule	rule;
	char		buf[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&rule, 0, sizeof(rule));
		rule.smarthost = cases[i].smarthost;
		rule.transport = cases[i].transport;
		ck_assert_int_eq(maps_route(&rule, MAP_POSTFIX_TRANSPORT, buf,
		    sizeof(buf)), 0);
		ck_assert_str_eq(buf, cases[i].postfix);
		ck_assert_int_eq(maps_route(&rule, MAP_SENDMAIL_MAILERTABLE,
		    buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, cases[i].sendmail);
	}
	memset(&rule, 0, sizeof(rule));
	ck_assert_int_eq(maps_route(&rule, MAP_POSTFIX_TRANSPORT, buf,
	    sizeof(buf)), -1);
	rule.smarthost = "mail.example.org:2525";
	ck_assert_int_eq(maps_route(&rule, MAP_POSTFIX_TRANSPORT, buf, 10), -1);
	ck_assert_int_eq(maps_route(NULL, MAP_POSTFIX_TRANSPORT, buf,
	    sizeof(buf)), -1);
}
END_TEST

#define X(c, r, w)	expect(c, r, strlen(r), w)

START_TEST(test_answers)
{
	struct config	*c;

	c = load("");
	/* relay: only "always" rules, full trie semantics */
	X(c, "relay example.com", "OK RELAY");
	X(c, "relay a.b.example.com", "OK RELAY");
	X(c, "relay EXAMPLE.COM.", "OK RELAY");
	X(c, "relay lab.example.com", "NOTFOUND ");
	X(c, "relay x.lab.example.com", "NOTFOUND ");
	X(c, "relay exact.example", "OK RELAY");
	X(c, "relay a.exact.example", "NOTFOUND ");
	X(c, "relay sub.example", "NOTFOUND ");
	X(c, "relay a.sub.example", "OK RELAY");
	X(c, "relay partner.example", "NOTFOUND ");
	X(c, "relay plain.example", "OK RELAY");
	X(c, "relay unlisted.test", "NOTFOUND ");
	X(c, "relay .example.com", "NOTFOUND ");
	X(c, "relay u@example.com", "OK RELAY");
	X(c, "relay xn--bcher-kva.example", "OK RELAY");
	X(c, "relay b\xc3\xbc" "cher.example", "OK RELAY");
	X(c, "relay exa mple.com", "NOTFOUND ");
	/* transport: full recipient addresses, last '@' */
	X(c, "transport user+ext@a.example.com", "OK smtp:[127.0.0.1]:2526");
	X(c, "transport example.com", "OK smtp:[127.0.0.1]:2526");
	X(c, "transport u@lab.example.com", "NOTFOUND ");
	X(c, "transport u@partner.example", "OK smtp:[2001:db8::25]");
	X(c, "transport u@plain.example", "NOTFOUND ");
	X(c, "transport u@a.sub.example", "OK smtp:relay.sub.example");
	X(c, "transport u@sub.example", "NOTFOUND ");
	X(c, "transport \"a@b\"@exact.example",
	    "OK smtp:[mail.exact.example]:2527");
	X(c, "transport u@x.exact.example", "NOTFOUND ");
	X(c, "transport u@[127.0.0.1]", "NOTFOUND ");
	X(c, "transport u@", "NOTFOUND ");
	X(c, "transport u@b\xc3\xbc" "cher.example", "OK smtp:[192.0.2.7]");
	X(c, "transport u@x.slow.example", "OK slow:[192.0.2.8]:25");
	X(c, "transport .example.com", "NOTFOUND ");
	/* mailertable: Sendmail probes ".parent" itself */
	X(c, "mailertable exact.example", "OK esmtp2527:[mail.exact.example]");
	X(c, "mailertable partner.example", "OK esmtp:[IPv6:2001:db8::25]");
	X(c, "mailertable a.example.com", "OK esmtp2526:[127.0.0.1]");
	X(c, "mailertable .example.com", "NOTFOUND ");
	X(c, "mailertable lab.example.com", "NOTFOUND ");
	/* access: To: keys; SKIP stops Sendmail's walk to the parents */
	X(c, "access To:a.example.com", "OK RELAY");
	X(c, "access To:lab.example.com", "OK SKIP");
	X(c, "access To:x.lab.example.com", "OK SKIP");
	X(c, "access To:a.exact.example", "OK SKIP");
	X(c, "access To:unlisted.test", "NOTFOUND ");
	X(c, "access Connect:127.0.0.1", "NOTFOUND ");
	X(c, "access example.com", "NOTFOUND ");
	/* access, Postfix check_recipient_access: the full address */
	X(c, "access u@lab.example.com", "OK 550 5.7.1 No mail for the lab");
	X(c, "access U+x@X.LAB.Example.COM.",
	    "OK 550 5.7.1 No mail for the lab");
	X(c, "access u@victim.test@lab.example.com",
	    "OK 550 5.7.1 No mail for the lab");
	X(c, "access u@gw.example.com",
	    "OK 554 5.7.1 <u@gw.example.com>: Relay access denied");
	X(c, "access u@x.gw.example.com", "NOTFOUND ");
	X(c, "access u@a.example.com", "NOTFOUND ");
	X(c, "access u@partner.example", "NOTFOUND ");
	X(c, "access u@unlisted.test", "NOTFOUND ");
	X(c, "access postmaster@unlisted.test", "NOTFOUND ");
	X(c, "access u@[127.0.0.1]", "NOTFOUND ");
	X(c, "access u@", "NOTFOUND ");
	X(c, "access lab.example.com", "OK 550 5.7.1 No mail for the lab");
	X(c, "access From:u@lab.example.com", "NOTFOUND ");
	X(c, "access To:u@lab.example.com", "OK SKIP");
	/* rcpt, maps-only mode: OK for always names, deny replies */
	X(c, "rcpt u@a.example.com", "OK OK");
	X(c, "rcpt U@EXAMPLE.COM.", "OK OK");
	X(c, "rcpt u@lab.example.com", "OK 550 5.7.1 No mail for the lab");
	X(c, "rcpt u@gw.example.com",
	    "OK 554 5.7.1 <u@gw.example.com>: Relay access denied");
	X(c, "rcpt u@partner.example", "NOTFOUND ");
	X(c, "rcpt u@unlisted.test", "NOTFOUND ");
	X(c, "rcpt u@exact.example", "OK OK");
	X(c, "rcpt u@x.exact.example", "NOTFOUND ");
	X(c, "rcpt u@sub.example", "NOTFOUND ");
	X(c, "rcpt u@a.sub.example", "OK OK");
	X(c, "rcpt u@[127.0.0.1]", "NOTFOUND ");
	/* never OK with sender-specified routing in the local part */
	X(c, "rcpt u%victim.test@example.com", "NOTFOUND ");
	X(c, "rcpt victim.test!u@example.com", "NOTFOUND ");
	X(c, "rcpt u@victim.test@example.com", "NOTFOUND ");
	X(c, "rcpt u%x@lab.example.com", "OK 550 5.7.1 No mail for the lab");
	/* errors */
	X(c, "bogus example.com", "PERM unknown map name");
	X(c, "relay", "PERM malformed request (want NAME KEY)");
	X(c, "relay ", "PERM malformed request (want NAME KEY)");
	X(c, " example.com", "PERM malformed request (want NAME KEY)");
	X(c, "", "PERM malformed request (want NAME KEY)");
	expect(c, "relay exa\0mple.com", 18, "PERM NUL in request");
	/* only len octets count */
	expect(c, "relay example.comXXX", 17, "OK RELAY");
	config_free(c);
	X(NULL, "relay example.com", "TEMP no rule set loaded");
	X(NULL, "bogus example.com", "PERM unknown map name");
}
END_TEST

static const char tls_rules[] =
    "domains = (\n"
    "  { match = \"a.example\"; tls = \"encrypt\";\n"
    "    smarthost = [ \"[192.0.2.25]\", \"[192.0.2.26]:2525\" ]; },\n"
    "  { match = \"b.example\"; tls = \"encrypt\";\n"
    "    smarthost = \"mx:Relay.Example.NET, [192.0.2.25]:25\"; },\n"
    "  { match = \"c.example\"; smarthost = \"mail.c.example\";\n"
    "    tls = \"verify\"; tls_match = \"mail.c.example\"; },\n"
    "  { match = \"d.example\"; smarthost = \"[2001:db8::1]:26\";\n"
    "    tls = \"secure\"; },\n"
    "  { match = \"e.example\"; smarthost = \"[192.0.2.30]\"; },\n"
    "  { match = \"f.example\"; smarthost = \"[192.0.2.30]:2525,\"\n"
    "    \"[192.0.2.31]:2525\"; tls = \"none\"; }\n"
    ");\n";

START_TEST(test_lists_and_tls)
{
	static const struct {
		const char	*req, *want;
	} cases[] = {
		{ "transport a.example",
		    "OK smtp:[192.0.2.25],[192.0.2.26]:2525" },
		{ "transport x@b.example",
		    "OK smtp:relay.example.net,[192.0.2.25]:25" },
		{ "mailertable a.example", "TEMP smart hosts on different "
		    "ports: no mailertable route" },
		{ "mailertable b.example",
		    "OK esmtp:relay.example.net:[192.0.2.25]" },
		{ "mailertable f.example",
		    "OK esmtp2525:[192.0.2.30]:[192.0.2.31]" },
		/* Postfix's keys: each hop verbatim, "[h]" = "[h]:25" */
		{ "tls [192.0.2.25]", "OK encrypt" },
		{ "tls [192.0.2.25]:25", "OK encrypt" },
		{ "tls [192.0.2.26]:2525", "OK encrypt" },
		{ "tls [192.0.2.26]", "NOTFOUND " },
		{ "tls relay.example.net", "OK encrypt" },
		{ "tls RELAY.example.net", "OK encrypt" },
		{ "tls [relay.example.net]", "NOTFOUND " },
		{ "tls .example.net", "NOTFOUND " },
		{ "tls [mail.c.example]", "OK verify match=mail.c.example" },
		{ "tls mail.c.example", "NOTFOUND " },
		{ "tls [2001:db8::1]:26", "OK secure" },
		{ "tls [192.0.2.30]", "NOTFOUND " },
		{ "tls [192.0.2.30]:2525", "OK none" },
		{ "tls a.example", "NOTFOUND " },
		{ "tls [192.0.2.25", "NOTFOUND " },
		/* Sendmail's tls_server: TLS_Srv:server in the access map */
		{ "access TLS_Srv:192.0.2.25", "OK ENCR:112" },
		{ "access TLS_Srv:relay.example.net", "OK ENCR:112" },
		{ "access TLS_Srv:mail.c.example",
		    "OK VERIFY+CN:mail.c.example" },
		{ "access TLS_Srv:[IPv6:2001:db8::1]", "OK VERIFY+CN" },
		{ "access tls_srv:IPv6:2001:DB8::1", "OK VERIFY+CN" },
		{ "access TLS_Srv:IPv6:2001:db8::2", "NOTFOUND " },
		{ "access TLS_Srv:192.0.2.30", "NOTFOUND " },
		{ "access TLS_Srv:other.example", "NOTFOUND " },
	};
	struct config	*config;
	size_t		 i;

	config = unit_config_load(tls_rules);
	ck_assert_ptr_nonnull(config);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(config, cases[i].req, strlen(cases[i].req),
		    cases[i].want);
	config_free(config);
}
END_TEST

START_TEST(test_log_only)
{
	struct config	*c;

	/* log-only accepts everything at RCPT; the maps stay exact */
	c = load("mode = \"log-only\"; unmatched = \"continue\";");
	X(c, "relay unlisted.test", "NOTFOUND ");
	X(c, "relay lab.example.com", "NOTFOUND ");
	X(c, "relay partner.example", "NOTFOUND ");
	X(c, "relay a.example.com", "OK RELAY");
	X(c, "transport u@lab.example.com", "NOTFOUND ");
	X(c, "access u@lab.example.com", "NOTFOUND ");
	/* rcpt: log-only is Postfix's warn_if_reject there */
	X(c, "rcpt u@lab.example.com", "OK 550 5.7.1 No mail for the lab");
	X(c, "rcpt u@a.example.com", "OK OK");
	config_free(c);
	/* a trusted everything does not make relay rules of trusted ones */
	c = load("trusted_networks = [ \"0.0.0.0/0\", \"::/0\" ]; "
	    "trust_local_socket = true;");
	X(c, "relay partner.example", "NOTFOUND ");
	X(c, "relay unlisted.test", "NOTFOUND ");
	X(c, "transport u@partner.example", "OK smtp:[2001:db8::25]");
	config_free(c);
}
END_TEST

START_TEST(test_limits)
{
	struct config	*c;
	char		*req, out[16];
	size_t		 n;

	c = load("");
	/* a 10000-octet key is no domain: NOTFOUND, no overflow */
	req = malloc(10001);
	ck_assert_ptr_nonnull(req);
	memcpy(req, "relay ", 6);
	memset(req + 6, 'a', 10000 - 6);
	expect(c, req, 10000, "NOTFOUND ");
	memcpy(req, "transport u@", 12);
	memset(req + 12, 'b', 10000 - 12);
	expect(c, req, 10000, "NOTFOUND ");
	free(req);
	/* truncated to the buffer, always terminated */
	n = maps_answer(c, "transport u@example.com", 23, out, sizeof(out));
	ck_assert_uint_eq(n, sizeof(out) - 1);
	ck_assert_str_eq(out, "OK smtp:[127.0.");
	n = maps_answer(c, "relay example.com", 17, out, 1);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(out, "");
	config_free(c);
}
END_TEST

/* The relay map says RELAY exactly when an untrusted client is accepted. */
START_TEST(test_agrees_with_decide)
{
	static const char *labels[] = { "a", "lab", "sub", "exact", "x" };
	static const char *bases[] = { "example.com", "lab.example.com",
	    "exact.example", "sub.example", "partner.example",
	    "plain.example", "unlisted.test", "com" };
	struct config	*c;
	struct client	 untrusted;
	struct decision	 d;
	char		 name[256], req[300], out[MAPS_ANSWER_MAX];
	size_t		 i, j, k, checked = 0;
	int		 accept;

	c = load("");
	memset(&untrusted, 0, sizeof(untrusted));
	untrusted.has_addr = 1;
	ck_assert_int_eq(netaddr_parse("203.0.113.9", &untrusted.addr), 0);
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
	for (j = 0; j <= sizeof(labels) / sizeof(labels[0]); j++)
	for (k = 0; k <= sizeof(labels) / sizeof(labels[0]); k++) {
		snprintf(name, sizeof(name), "%s%s%s%s%s",
		    k ? labels[k - 1] : "", k ? "." : "",
		    j ? labels[j - 1] : "", j ? "." : "", bases[i]);
		decide_domain(c, &untrusted, name, &d);
		accept = d.enforced == OUTCOME_ACCEPT;
		snprintf(req, sizeof(req), "relay %s", name);
		maps_answer(c, req, strlen(req), out, sizeof(out));
		ck_assert_msg(strcmp(out, accept ? "OK RELAY" : "NOTFOUND ")
		    == 0, "%s: decide %s, map %s", name,
		    decision_outcome_name(d.enforced), out);
		checked++;
	}
	ck_assert_uint_gt(checked, 200);
	config_free(c);
}
END_TEST

/* --- the rcpt map and recipients (maps-only mode) ------------------- */

static const char rcpt_list[] =
    "alice@corp.example\n"
    "b%c@corp.example\n"
    "@whole.example\n";

static struct config *
load_rcpt(const char *policy, const char *extra)
{
	char		 path[64], *text;
	struct config	*c;
	int		 fd;

	snprintf(path, sizeof(path), "/tmp/check_maps.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, rcpt_list, strlen(rcpt_list)),
	    (ssize_t)strlen(rcpt_list));
	close(fd);
	ck_assert_int_ge(asprintf(&text, "policy = { %s };\n%s\n"
	    "domains = (\n"
	    "  { match = \"corp.example\"; recipients = \"list\";\n"
	    "    recipients_file = \"%s\"; },\n"
	    "  { match = \"whole.example\"; recipients = \"list\";\n"
	    "    recipients_file = \"%s\"; },\n"
	    "  { match = \"lab.corp.example\"; relay = \"deny\"; },\n"
	    "  { match = \"inner.example\"; relay = \"trusted\";\n"
	    "    recipients = \"list\"; recipients_file = \"%s\"; },\n"
	    "  { match = \"check.example\"; recipients = \"verify\";\n"
	    "    smarthost = \"[127.0.0.1]:2525\"; }\n"
	    ");\n", policy, extra, path, path, path), 0);
	c = unit_config_load(text);
	free(text);
	unlink(path);
	return c;
}

#define UNKNOWN_USER(a)	"OK 550 5.1.1 <" a ">: Recipient address " \
			"rejected: User unknown"
#define UNVERIFIED(a)	"OK 450 4.1.1 <" a ">: Recipient address " \
			"rejected: unverified address, try again later"

START_TEST(test_rcpt_list)
{
	struct config	*c;

	c = load_rcpt("", "");
	X(c, "rcpt alice@corp.example", "OK OK");
	X(c, "rcpt ALICE@Corp.Example.", "OK OK");
	X(c, "rcpt alice@x.corp.example", UNKNOWN_USER("alice@x.corp.example"));
	X(c, "rcpt eve@corp.example", UNKNOWN_USER("eve@corp.example"));
	X(c, "rcpt anyone@whole.example", "OK OK");
	X(c, "rcpt u@lab.corp.example",
	    "OK 554 5.7.1 <u@lab.corp.example>: Relay access denied");
	/* sender-specified routing: listed or not, never OK */
	X(c, "rcpt b%c@corp.example", "NOTFOUND ");
	/* the reply shows the address with its % made safe, as the milter */
	X(c, "rcpt eve%x@corp.example", UNKNOWN_USER("eve?x@corp.example"));
	X(c, "rcpt x@y@whole.example", "NOTFOUND ");
	/* a trusted-only rule: Postfix decides (permit_mynetworks) */
	X(c, "rcpt eve@inner.example", "NOTFOUND ");
	/* Postfix asks the domain only after a full address's NOTFOUND */
	X(c, "rcpt corp.example", "OK OK");
	/* the access map of milter mode leaves the users to the milter */
	X(c, "access eve@corp.example", "NOTFOUND ");
	config_free(c);
	/* log-only: the rcpt map answers as enforce (warn_if_reject) */
	c = load_rcpt("mode = \"log-only\";", "");
	X(c, "rcpt eve@corp.example", UNKNOWN_USER("eve@corp.example"));
	X(c, "rcpt alice@corp.example", "OK OK");
	config_free(c);
	/* the site's own unknown-user reply, as the milter gives it */
	c = load_rcpt("", "verify = { unknown_reply = "
	    "\"550 5.1.1 No such user here\"; };");
	X(c, "rcpt eve@corp.example",
	    "OK 550 5.1.1 <eve@corp.example>: No such user here");
	config_free(c);
}
END_TEST

/* A pending verify answer, settled by each callout result in turn. */
START_TEST(test_rcpt_verify)
{
	static const char key[] = "u@check.example";
	struct config	*c;
	struct map_request r;
	struct map_answer a, b;
	char		 out[MAPS_ANSWER_MAX];

	c = load_rcpt("", "");
	ck_assert_int_eq(maps_parse("rcpt u@check.example", 20, &r, &a), 0);
	ck_assert_int_eq(r.map, MAP_POSTFIX_RCPT);
	ck_assert_uint_eq(r.len, strlen(key));
	ck_assert_int_eq(memcmp(r.key, key, r.len), 0);
	maps_lookup(c, r.map, r.key, r.len, &a);
	ck_assert_int_eq(maps_pending(&a), 1);
	ck_assert_int_eq(a.decided, 1);
	ck_assert_str_eq(a.decision.pattern, "check.example");
	/* unsettled: as unverified, fail closed */
	maps_format(&a, out, sizeof(out));
	ck_assert_str_eq(out, UNVERIFIED("u@check.example"));
	ck_assert_int_eq(a.outcome, OUTCOME_TEMPFAIL);
	X(c, "rcpt u@check.example", UNVERIFIED("u@check.example"));

	b = a;
	decide_recipient(c, key, strlen(key), RECIPIENT_VALID, "valid",
	    &b.decision);
	ck_assert_int_eq(maps_pending(&b), 0);
	maps_settle(c, key, strlen(key), &b);
	maps_format(&b, out, sizeof(out));
	ck_assert_str_eq(out, "OK OK");
	ck_assert_int_eq(b.outcome, OUTCOME_ACCEPT);
	ck_assert_str_eq(decision_reason(&b.decision), "valid");

	b = a;
	decide_recipient(c, key, strlen(key), RECIPIENT_INVALID, "invalid",
	    &b.decision);
	maps_settle(c, key, strlen(key), &b);
	maps_format(&b, out, sizeof(out));
	ck_assert_str_eq(out, UNKNOWN_USER("u@check.example"));
	ck_assert_int_eq(b.outcome, OUTCOME_REJECT);

	b = a;
	decide_recipient(c, key, strlen(key), RECIPIENT_UNKNOWN, "unknown",
	    &b.decision);
	maps_settle(c, key, strlen(key), &b);
	maps_format(&b, out, sizeof(out));
	ck_assert_str_eq(out, UNVERIFIED("u@check.example"));
	ck_assert_int_eq(b.outcome, OUTCOME_TEMPFAIL);

	/* no callout for sender-specified routing: Postfix decides */
	maps_lookup(c, MAP_POSTFIX_RCPT, "u%x@check.example", 17, &a);
	ck_assert_int_eq(maps_pending(&a), 0);
	ck_assert_int_eq(a.status, MAP_NOTFOUND);
	ck_assert_int_eq(a.outcome, OUTCOME_CONTINUE);
	/* other maps decide nothing */
	maps_lookup(c, MAP_RELAY, "check.example", 13, &a);
	ck_assert_int_eq(a.decided, 0);
	ck_assert_int_eq(maps_pending(&a), 0);
	config_free(c);

	c = load_rcpt("verify_unknown = \"accept\";", "");
	X(c, "rcpt u@check.example", "OK OK");
	config_free(c);
}
END_TEST

/* What the decision line shows: the answer's own outcome and decision. */
START_TEST(test_rcpt_outcome)
{
	static const struct {
		const char	*key;
		enum outcome	 outcome;
		const char	*pattern;
	} cases[] = {
		{ "alice@corp.example", OUTCOME_ACCEPT, "corp.example" },
		{ "eve@corp.example", OUTCOME_REJECT, "corp.example" },
		{ "u@lab.corp.example", OUTCOME_REJECT, "lab.corp.example" },
		{ "u@inner.example", OUTCOME_CONTINUE, "inner.example" },
		{ "u@unlisted.test", OUTCOME_CONTINUE, "" },
		{ "u@check.example", OUTCOME_TEMPFAIL, "check.example" },
	};
	struct config	*c;
	struct map_request r;
	struct map_answer a;
	char		 req[128];
	size_t		 i;

	c = load_rcpt("", "");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(req, sizeof(req), "rcpt %s", cases[i].key);
		maps_request(c, req, strlen(req), &a);
		ck_assert_int_eq(a.decided, 1);
		ck_assert_msg(a.outcome == cases[i].outcome, "%s: outcome %s",
		    cases[i].key, decision_outcome_name(a.outcome));
		ck_assert_str_eq(a.decision.pattern, cases[i].pattern);
	}
	/* no rule set: TEMP, a tempfail, still decided (and logged) */
	maps_request(NULL, "rcpt u@corp.example", 19, &a);
	ck_assert_int_eq(a.status, MAP_TEMP);
	ck_assert_int_eq(a.decided, 1);
	ck_assert_int_eq(a.outcome, OUTCOME_TEMPFAIL);
	/* a request that does not parse decides nothing */
	ck_assert_int_eq(maps_parse("rcpt", 4, &r, &a), -1);
	ck_assert_int_eq(a.status, MAP_PERM);
	ck_assert_int_eq(a.decided, 0);
	config_free(c);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("maps");
	tc = tcase_create("maps");
	tcase_add_test(tc, test_route_forms);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_lists_and_tls);
	tcase_add_test(tc, test_log_only);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_agrees_with_decide);
	tcase_add_test(tc, test_rcpt_list);
	tcase_add_test(tc, test_rcpt_verify);
	tcase_add_test(tc, test_rcpt_outcome);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
