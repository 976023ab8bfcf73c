/*
 * fuzz_socketmap - libFuzzer target: socketmap requests and socket specs
 *
 * Each input is the payload of one socketmap netstring, "NAME KEY" or
 * anything else.  It is answered by maps_request() against a small
 * fixed rule set (ruleset_add()), as it is and as a key of the rcpt and
 * access maps (the input prefixed with "rcpt " and "access ").  Besides
 * the sanitizers, the target checks what must hold for every request
 * and aborts when it does not:
 *
 *	- maps_answer() writes exactly what maps_format() writes for the
 *	  typed answer of maps_request(): one answer, formatted in one place;
 *	- the text starts with one of OK, NOTFOUND, TEMP, PERM and a space,
 *	  as the status says; OK carries a value, NOTFOUND nothing, TEMP and
 *	  PERM a reason; it is printable ASCII, shorter than MAPS_ANSWER_MAX;
 *	- a request holding a NUL, or without a space, is PERM;
 *	- the relay map says OK only as "OK RELAY", and only for a key
 *	  whose domain an "always" rule covers: never an open relay;
 *	  "covers" is stated here on its own (oracle_rule()), from the
 *	  rule language, not by asking decide.c or maps.c;
 *	- "rcpt KEY" (maps-only mode) answers "OK OK" only for a key
 *	  without '%', '!' or '@' before its last '@' whose domain an
 *	  "always" rule covers (never an open relay, never sender-specified
 *	  routing past Postfix's allow_untrusted_routing);
 *	- "access KEY" and "rcpt KEY" answer any other OK only with a deny
 *	  rule's reply, a class 4 or 5 code and its enhanced code, for a
 *	  key whose nearest rule is a deny rule.
 *
 * The input, cut at its first NUL, is also given to sockspec_parse():
 * a spec it accepts has its rest inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "config.h"
#include "maps.h"
#include "netaddr.h"
#include "ruleset.h"
#include "sockspec.h"

#define INPUT_MAX	4096	/* libFuzzer's default -max_len */

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
	{ "#gw.example.com", { .relay = "deny" } },
	{ "open.lab.example.com", { .relay = "always" } },
	{ ".sub.example.net", { .relay = "always",
	    .smarthost = "[192.0.2.7]:2525", .transport = "relay" } },
	{ "xn--bcher-kva.example", { .relay = "always",
	    .smarthost = "mx:example.net" } },
};

static char	text[MAPS_ANSWER_MAX], again[MAPS_ANSWER_MAX];
static char	spec[INPUT_MAX + 1];
static char	prefixed[INPUT_MAX + 16];

static void
die(const char *what, const char *req, size_t len, const char *answer)
{
	fprintf(stderr, "fuzz_socketmap: %s: request \"%.*s\" answer "
	    "\"%s\"\n", what, (int)len, req, answer);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	err[256];
	size_t	i;

	(void)argc;
	(void)argv;
	config.socket_mode = -1;
	config.policy.unmatched = UNMATCHED_REJECT;
	if ((config.policy.trusted_networks = netlist_new()) == NULL ||
	    (config.rules = ruleset_new()) == NULL)
		abort();
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (ruleset_add(config.rules, rules[i].pattern, &rules[i].spec,
		    err, sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_socketmap: %s: %s\n",
			    rules[i].pattern, err);
			abort();
		}
	return 0;
}

/*
 * Sender-specified routing as the mail system reads an address: more than
 * one '@', or a '%' or a '!' in the local part (before the '@').
 */
static int
source_routed(const char *key, size_t len)
{
	size_t	i, ats = 0, at = 0;

	for (i = 0; i < len; i++)
		if (key[i] == '@') {
			ats++;
			at = i;
		}
	if (ats == 0)
		return 0;
	return ats > 1 || memchr(key, '%', at) != NULL ||
	    memchr(key, '!', at) != NULL;
}

/*
 * oracle_rule - the rule of the table above that decides for the key's
 * domain, by the rule language alone: the domain is what follows the last
 * '@' (the whole key without one), in lower case, one trailing dot
 * dropped, U-labels as libidn2's A-labels; "P" covers P and every name
 * below it, "#P" P alone, ".P" only the names below P; the longest
 * pattern that covers the domain decides.  -1: none.
 */
static int
oracle_rule(const char *key, size_t len)
{
	char		 dom[INPUT_MAX + 1], *ascii = NULL;
	const char	*d, *p;
	size_t		 i, n, plen, best_len = 0;
	int		 best = -1, exact, below, eight = 0;

	if (memchr(key, '\0', len) != NULL)
		return -1;
	for (i = len; i > 0 && key[i - 1] != '@'; i--)
		;
	n = len - i;
	memcpy(dom, key + i, n);
	dom[n] = '\0';
	for (i = 0; i < n; i++)
		eight |= (unsigned char)dom[i] >= 0x80;
	d = dom;
	if (eight) {
		if (idn2_to_ascii_8z(dom, &ascii, IDN2_NONTRANSITIONAL |
		    IDN2_NFC_INPUT) != IDN2_OK)
			return -1;
		if (strlen(ascii) > INPUT_MAX) {
			idn2_free(ascii);
			return -1;
		}
		strcpy(dom, ascii);
		idn2_free(ascii);
		n = strlen(dom);
	}
	for (i = 0; i < n; i++)
		if (dom[i] >= 'A' && dom[i] <= 'Z')
			dom[i] += 'a' - 'A';
	if (n > 0 && dom[n - 1] == '.')
		dom[--n] = '\0';
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		p = rules[i].pattern;
		exact = *p != '.';
		below = *p != '#';
		if (*p == '#' || *p == '.')
			p++;
		plen = strlen(p);
		if (!((exact && strcmp(d, p) == 0) || (below && n > plen &&
		    strcmp(d + n - plen, p) == 0 && d[n - plen - 1] == '.')))
			continue;
		if (best == -1 || plen > best_len) {
			best = (int)i;
			best_len = plen;
		}
	}
	return best;
}

/* 1 when the oracle's rule for the key is an "always" rule. */
static int
always(const char *key, size_t len)
{
	int	r = oracle_rule(key, len);

	return r >= 0 && (rules[r].spec.relay == NULL ||
	    strcmp(rules[r].spec.relay, "always") == 0);
}

/* 1 when the oracle's rule for the key is a deny rule. */
static int
denied(const char *key, size_t len)
{
	int	r = oracle_rule(key, len);

	return r >= 0 && rules[r].spec.relay != NULL &&
	    strcmp(rules[r].spec.relay, "deny") == 0;
}

/* The answer's text: the protocol word of its status, printable. */
static void
check_text(const char *req, size_t len, const struct map_answer *a,
    size_t n)
{
	const char	*word;
	size_t		 i;

	if (n != strlen(text) || n >= sizeof(text))
		die("length", req, len, text);
	word = a->status == MAP_OK ? "OK " : a->status == MAP_NOTFOUND ?
	    "NOTFOUND " : a->status == MAP_TEMP ? "TEMP " : "PERM ";
	if (strncmp(text, word, strlen(word)) != 0)
		die("protocol word does not match the status", req, len, text);
	if ((a->status == MAP_NOTFOUND) != (n == strlen(word)))
		die("NOTFOUND with text, or another without", req, len, text);
	for (i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 ||
		    (unsigned char)text[i] > 0x7e)
			die("not printable", req, len, text);
}

/* An OK of the rcpt or access map for key. */
static void
check_access(const char *req, size_t len, const char *key, size_t keylen)
{
	if (strncasecmp(key, "To:", 3) == 0)
		return;		/* Sendmail: checked by the unit tests */
	if (strcmp(text, "OK OK") == 0) {
		if (memcmp(req, "rcpt ", 5) != 0)
			die("access map permits", req, len, text);
		if (source_routed(key, keylen))
			die("OK for sender-specified routing", req, len, text);
		if (!always(key, keylen))
			die("OK without an always rule", req, len, text);
		return;
	}
	if ((text[3] != '4' && text[3] != '5') || text[6] != ' ' ||
	    text[7] != text[3] || text[8] != '.')
		die("not a reply", req, len, text);
	if (!denied(key, keylen))
		die("reply without a deny rule", req, len, text);
}

/* One request: every property of its answer. */
static void
check(const char *req, size_t len)
{
	struct map_answer a;
	size_t		 n, m;

	maps_request(&config, req, len, &a);
	n = maps_format(&a, text, sizeof(text));
	m = maps_answer(&config, req, len, again, sizeof(again));
	if (n != m || memcmp(text, again, n) != 0)
		die("maps_answer() differs from maps_format()", req, len,
		    again);
	check_text(req, len, &a, n);
	if ((memchr(req, '\0', len) != NULL || memchr(req, ' ', len) == NULL)
	    && a.status != MAP_PERM)
		die("malformed request not PERM", req, len, text);
	if (a.status != MAP_OK)
		return;
	if (len > 6 && memcmp(req, "relay ", 6) == 0) {
		if (strcmp(a.value, MAPS_VALUE_RELAY) != 0)
			die("relay OK without RELAY", req, len, text);
		if (!always(req + 6, len - 6))
			die("relay without an always rule", req, len, text);
	} else if (len > 5 && memcmp(req, "rcpt ", 5) == 0)
		check_access(req, len, req + 5, len - 5);
	else if (len > 7 && memcmp(req, "access ", 7) == 0)
		check_access(req, len, req + 7, len - 7);
}

/* The input as a key of the map name. */
static void
check_key(const char *name, const uint8_t *data, size_t size)
{
	size_t	n;

	n = strlen(name);
	memcpy(prefixed, name, n);
	memcpy(prefixed + n, data, size);
	check(prefixed, n + size);
}

static void
check_spec(const uint8_t *data, size_t size)
{
	enum sockspec_kind	 kind;
	const char		*rest;
	size_t			 n;

	n = strnlen((const char *)data, size);
	memcpy(spec, data, n);
	spec[n] = '\0';
	if (sockspec_parse(spec, &kind, &rest) == 0 &&
	    (rest < spec || rest > spec + n))
		die("sockspec: rest outside the input", spec, n, "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	check((const char *)data, size);
	check_key("rcpt ", data, size);
	check_key("access ", data, size);
	check_spec(data, size);
	return 0;
}
