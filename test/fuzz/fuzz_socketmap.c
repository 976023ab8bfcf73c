/*
 * fuzz_socketmap - libFuzzer target: socketmap requests and socket specs
 *
 * Each input is the payload of one socketmap netstring ("NAME KEY").  It
 * is answered by maps_request() against a small fixed rule set, and the
 * target checks what must hold for every input:
 *
 *	- maps_answer() writes exactly what maps_format() writes for the
 *	  typed answer of maps_request(): one answer, formatted in one place;
 *	- the text starts with one of OK, NOTFOUND, TEMP, PERM and a space,
 *	  as the status says; OK carries a value, NOTFOUND nothing, TEMP and
 *	  PERM a reason; it is printable ASCII;
 *	- a request holding a NUL, or without a space, is PERM;
 *	- the relay map says OK only as "OK RELAY", and only for a key
 *	  whose domain an "always" rule covers: never an open relay.
 *
 * The same input, cut at its first NUL, is also given to sockspec_parse():
 * a spec it accepts has its rest inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "maps.h"
#include "ruleset.h"
#include "sockspec.h"

static struct config	config;

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
	{ ".sub.example.net", { .relay = "always",
	    .smarthost = "[192.0.2.7]:2525", .transport = "relay" } },
	{ "xn--bcher-kva.example", { .relay = "always",
	    .smarthost = "mx:example.net" } },
};

static char	text[MAPS_ANSWER_MAX], again[MAPS_ANSWER_MAX];
static char	spec[4096];

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_socketmap: %s: %s\n", what, why);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];
	size_t	 i;

	(void)argc;
	(void)argv;
	config.socket_mode = -1;
	config.policy.unmatched = UNMATCHED_REJECT;
	if ((config.rules = ruleset_new()) == NULL)
		die("setup", "out of memory");
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (ruleset_add(config.rules, rules[i].pattern, &rules[i].spec,
		    err, sizeof(err)) < 0)
			die(rules[i].pattern, err);
	return 0;
}

/* The relay map's OK: the key's domain must be relayed for anybody. */
static void
check_relay(const char *in, size_t size)
{
	struct decision	 d;
	char		 domain[MAPS_ANSWER_MAX];
	const char	*key;
	size_t		 n;

	key = in + 6;			/* after "relay " */
	n = size - 6;
	for (; n > 0 && memchr(key, '@', n) != NULL; n--, key++)
		;
	if (n >= sizeof(domain))
		die("relay", "OK for an over-long key");
	memcpy(domain, key, n);
	domain[n] = '\0';
	decide_domain(&config, NULL, domain, &d);
	if (d.enforced != OUTCOME_ACCEPT || d.rule == NULL ||
	    d.rule->relay != RELAY_ALWAYS)
		die("relay", "OK for a domain no always rule covers");
}

static void
check_spec(const uint8_t *data, size_t size)
{
	enum sockspec_kind	 kind;
	const char		*rest;
	size_t			 n;

	n = strnlen((const char *)data, size);
	if (n >= sizeof(spec))
		n = sizeof(spec) - 1;
	memcpy(spec, data, n);
	spec[n] = '\0';
	if (sockspec_parse(spec, &kind, &rest) == 0 &&
	    (rest < spec || rest > spec + n))
		die("sockspec", "rest outside the input");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct map_answer a;
	const char	*in = (const char *)data, *word;
	size_t		 n, m, i;

	maps_request(&config, in, size, &a);
	n = maps_format(&a, text, sizeof(text));
	m = maps_answer(&config, in, size, again, sizeof(again));
	if (n != m || memcmp(text, again, n) != 0 || strlen(text) != n)
		die("answer", "maps_answer() differs from maps_format()");
	word = a.status == MAP_OK ? "OK " : a.status == MAP_NOTFOUND ?
	    "NOTFOUND " : a.status == MAP_TEMP ? "TEMP " : "PERM ";
	if (strncmp(text, word, strlen(word)) != 0)
		die("answer", "protocol word does not match the status");
	if ((a.status == MAP_NOTFOUND) != (n == strlen(word)))
		die("answer", "NOTFOUND with text, or another without");
	for (i = 0; i < n; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			die("answer", "unprintable octet");
	if ((memchr(in, '\0', size) != NULL || memchr(in, ' ', size) == NULL)
	    && a.status != MAP_PERM)
		die("request", "malformed request not PERM");
	if (a.status == MAP_OK && size > 6 && memcmp(in, "relay ", 6) == 0) {
		if (strcmp(a.value, MAPS_VALUE_RELAY) != 0)
			die("relay", "OK without RELAY");
		check_relay(in, size);
	}
	check_spec(data, size);
	return 0;
}
