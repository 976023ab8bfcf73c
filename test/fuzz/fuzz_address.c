/*
 * fuzz_address - libFuzzer target: address_parse() and decide()
 *
 * Each input is one RCPT TO argument.  It is parsed, then decided for an
 * untrusted and a trusted client against a small fixed rule set built
 * with ruleset_add().  Besides the sanitizers, the target checks what
 * must hold for every input and aborts when it does not:
 *
 *	- a parsed address has NUL-terminated parts within their limits, a
 *	  normalized domain that normalizes to itself, a bracketed literal;
 *	- a qualified address written back as <"local"@domain> (escapes
 *	  added, source route dropped) parses to the same parts;
 *	- malformed input is rejected with 501, for every client;
 *	- an untrusted client is accepted only for a well-formed domain
 *	  address without sender-specified routing whose most specific rule
 *	  relays always: never an open relay.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "decide.h"
#include "domain.h"
#include "netaddr.h"
#include "ruleset.h"

static struct config	config;
static struct client	untrusted, trusted;

static const struct {
	const char	*pattern;
	struct rule_spec spec;
} rules[] = {
	{ "example.com", { .smarthost = "[10.1.2.3]" } },
	{ "#example.org", { .relay = "always",
	    .smarthost = "mail.example.org:2525" } },
	{ "partner.example", { .relay = "trusted",
	    .smarthost = "[2001:db8::25]" } },
	{ "lab.example.com", { .relay = "deny",
	    .reply = "550 5.7.1 No mail for the lab" } },
	{ "open.lab.example.com", { .relay = "always" } },
	{ ".sub.example.net", { .relay = "always",
	    .smarthost = "[192.0.2.7]:2525", .transport = "relay" } },
	{ "xn--bcher-kva.example", { .relay = "always",
	    .smarthost = "mx:example.net" } },
	{ "victim.test", { .relay = "deny" } },
};

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_address: %s: %s\n", what, why);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char		 err[256];
	const char	*why;
	size_t		 i;

	(void)argc;
	(void)argv;
	config.socket_mode = -1;
	config.policy.unmatched = UNMATCHED_REJECT;
	config.policy.trust_authenticated = 1;
	config.policy.route_check = ROUTE_CHECK_LOG;
	if ((config.policy.trusted_networks = netlist_new()) == NULL ||
	    (config.rules = ruleset_new()) == NULL)
		die("setup", "out of memory");
	if (netlist_add(config.policy.trusted_networks, "127.0.0.0/8",
	    &why) < 0 || netlist_add(config.policy.trusted_networks,
	    "::1/128", &why) < 0)
		die("trusted_networks", why);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (ruleset_add(config.rules, rules[i].pattern, &rules[i].spec,
		    err, sizeof(err)) < 0)
			die(rules[i].pattern, err);
	untrusted.has_addr = 1;
	if (netaddr_parse("203.0.113.5", &untrusted.addr) < 0)
		die("client", "203.0.113.5");
	trusted.has_addr = 1;
	if (netaddr_parse("127.0.0.1", &trusted.addr) < 0)
		die("client", "127.0.0.1");
	return 0;
}

static void
check_parsed(const struct address *a)
{
	char		 again[DOMAIN_MAX + 1];
	const char	*why;
	size_t		 dlen;

	if (memchr(a->local, '\0', sizeof(a->local)) == NULL ||
	    memchr(a->domain, '\0', sizeof(a->domain)) == NULL)
		die("address", "unterminated part");
	dlen = strlen(a->domain);
	switch (a->kind) {
	case ADDR_DOMAIN:
		if (domain_normalize(a->domain, dlen, again, &why) < 0)
			die("normalized domain does not normalize", why);
		if (strcmp(again, a->domain) != 0)
			die("normalize not idempotent", a->domain);
		break;
	case ADDR_LITERAL:
		if (dlen < 3 || a->domain[0] != '[' ||
		    a->domain[dlen - 1] != ']')
			die("literal", a->domain);
		break;
	case ADDR_NULL:
		if (a->local[0] != '\0' || a->routing != 0)
			die("null path", "with parts");
		/* FALLTHROUGH */
	case ADDR_POSTMASTER:
	case ADDR_UNQUALIFIED:
		if (dlen != 0)
			die("unqualified", "with a domain");
		break;
	default:
		die("address", "bad kind");
	}
	if (a->kind != ADDR_NULL && a->local[0] == '\0')
		die("address", "empty local part");
}

/* Write a qualified address back with a quoted local part; reparse. */
static void
check_round_trip(const struct address *a)
{
	char		 buf[ADDRESS_MAX + 1];
	struct address	 b;
	const char	*why, *p;
	size_t		 n = 0;

	buf[n++] = '<';
	buf[n++] = '"';
	for (p = a->local; *p != '\0'; p++) {
		if (n + 2 >= sizeof(buf))
			return;
		if (*p == '"' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	if (n + strlen(a->domain) + 3 >= sizeof(buf))
		return;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"@%s>", a->domain);
	if (address_parse(buf, n, &b, &why) < 0)
		die("round trip rejected", why);
	if (b.kind != a->kind || strcmp(b.local, a->local) != 0 ||
	    strcmp(b.domain, a->domain) != 0)
		die("round trip changed the address", buf);
	if (b.routing != (a->routing & ~(unsigned)ADDR_ROUTE_SOURCE))
		die("round trip changed the routing flags", buf);
}

static void
check_decision(const struct decision *d)
{
	if (memchr(d->text, '\0', sizeof(d->text)) == NULL ||
	    memchr(d->rcode, '\0', sizeof(d->rcode)) == NULL ||
	    memchr(d->xcode, '\0', sizeof(d->xcode)) == NULL ||
	    memchr(d->pattern, '\0', sizeof(d->pattern)) == NULL ||
	    memchr(d->domain, '\0', sizeof(d->domain)) == NULL ||
	    (unsigned)d->reason >= DECIDE_REASON_COUNT ||
	    decision_reason(d) == NULL)
		die("decision", "unterminated field");
	if (d->outcome == OUTCOME_REJECT && d->rcode[0] != '5')
		die("reject", d->rcode);
	if (d->outcome == OUTCOME_TEMPFAIL && d->rcode[0] != '4')
		die("tempfail", d->rcode);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*text = (const char *)data;
	const struct rule	*rule;
	struct address		 a;
	struct decision		 d;
	const char		*why = NULL;
	int			 rc;

	rc = address_parse(text, size, &a, &why);
	if (rc == 0) {
		check_parsed(&a);
		if (a.kind == ADDR_DOMAIN || a.kind == ADDR_LITERAL)
			check_round_trip(&a);
	}
	else if (rc != -1 || why == NULL)
		die("address_parse", "bad return");

	decide(&config, &untrusted, text, size, &d);
	check_decision(&d);
	if (rc < 0 && (d.outcome != OUTCOME_REJECT ||
	    strcmp(d.rcode, "501") != 0))
		die("malformed input", "not rejected with 501");
	if (d.outcome == OUTCOME_ACCEPT) {
		if (rc < 0 || a.kind != ADDR_DOMAIN || a.routing != 0)
			die("open relay", "accepted a routed or odd address");
		rule = ruleset_lookup(config.rules, a.domain, NULL);
		if (rule == NULL || rule->relay != RELAY_ALWAYS)
			die("open relay", "accepted without an always rule");
	}

	decide(&config, &trusted, text, size, &d);
	check_decision(&d);
	if (rc < 0 && (d.outcome != OUTCOME_REJECT ||
	    strcmp(d.rcode, "501") != 0))
		die("malformed input from trusted", "not rejected with 501");
	return 0;
}
