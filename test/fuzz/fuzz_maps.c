/*
 * fuzz_maps - libFuzzer target: socketmap requests (maps_answer())
 *
 * Each input is the payload of one netstring, "NAME KEY" or anything
 * else, answered against a small fixed rule set (ruleset_add()).  Besides
 * the sanitizers, the target checks what must hold for every input and
 * aborts when it does not:
 *
 *	- the answer is one of "OK value", "NOTFOUND ", "TEMP why",
 *	  "PERM why", printable ASCII, shorter than MAPS_ANSWER_MAX;
 *	- "rcpt KEY" (maps-only mode) answers "OK OK" only for a key
 *	  without '%', '!' or '@' before its last '@' whose domain an
 *	  "always" rule covers (never an open relay, never sender-specified
 *	  routing past Postfix's allow_untrusted_routing);
 *	- "access KEY" and "rcpt KEY" answer any other OK only with a deny
 *	  rule's reply, a class 4 or 5 code and its enhanced code;
 *	- "relay KEY" answers OK only when an "always" rule covers the key.
 *	  Each of them also for the key prefixed with the map names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "maps.h"
#include "netaddr.h"
#include "ruleset.h"

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

static void
die(const char *what, const char *req, size_t len, const char *answer)
{
	fprintf(stderr, "fuzz_maps: %s: request \"%.*s\" answer \"%s\"\n",
	    what, (int)len, req, answer);
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
		    err, sizeof(err)) < 0)
			abort();
	return 0;
}

/* '%', '!' or '@' before the last '@' of key. */
static int
routed(const char *key, size_t len)
{
	const char	*at;
	size_t		 n;

	for (at = key + len; at > key && at[-1] != '@'; at--)
		;
	if (at == key)
		return 0;
	n = (size_t)(at - 1 - key);
	return memchr(key, '%', n) != NULL || memchr(key, '!', n) != NULL ||
	    memchr(key, '@', n) != NULL;
}

static void
check(const char *req, size_t len)
{
	char		 out[MAPS_ANSWER_MAX];
	struct decision	 d;
	const char	*key;
	size_t		 n, i, keylen;

	n = maps_answer(&config, req, len, out, sizeof(out));
	if (n != strlen(out) || n >= sizeof(out))
		die("length", req, len, out);
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
			die("not printable", req, len, out);
	if (strncmp(out, "OK ", 3) != 0 && strcmp(out, "NOTFOUND ") != 0 &&
	    strncmp(out, "TEMP ", 5) != 0 && strncmp(out, "PERM ", 5) != 0)
		die("bad status", req, len, out);
	if (strncmp(out, "OK ", 3) != 0)
		return;
	if (len > 5 && memcmp(req, "rcpt ", 5) == 0) {
		key = req + 5;
		keylen = len - 5;
	} else if (len > 7 && memcmp(req, "access ", 7) == 0) {
		key = req + 7;
		keylen = len - 7;
	} else if (len > 6 && memcmp(req, "relay ", 6) == 0) {
		key = req + 6;
		keylen = len - 6;
		decide_key(&config, NULL, key, keylen, &d);
		if (d.rule == NULL || d.rule->relay != RELAY_ALWAYS)
			die("relay without an always rule", req, len, out);
		return;
	} else
		return;
	if (strncasecmp(key, "To:", 3) == 0)
		return;		/* Sendmail: checked by the unit tests */
	if (strcmp(out, "OK OK") == 0) {
		if (key != req + 5)
			die("access map permits", req, len, out);
		if (routed(key, keylen))
			die("OK for sender-specified routing", req, len, out);
		decide_key(&config, NULL, key, keylen, &d);
		if (d.rule == NULL || d.rule->relay != RELAY_ALWAYS)
			die("OK without an always rule", req, len, out);
		return;
	}
	if ((out[3] != '4' && out[3] != '5') || out[6] != ' ' ||
	    out[7] != out[3] || out[8] != '.')
		die("not a reply", req, len, out);
	decide_key(&config, NULL, key, keylen, &d);
	if (d.rule == NULL || d.rule->relay != RELAY_DENY)
		die("reply without a deny rule", req, len, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	buf[1200];

	if (size > 1000)
		return 0;
	check((const char *)data, size);
	/* the same bytes as a key of each map */
	memcpy(buf, "rcpt ", 5);
	memcpy(buf + 5, data, size);
	check(buf, size + 5);
	memcpy(buf, "access ", 7);
	memcpy(buf + 7, data, size);
	check(buf, size + 7);
	return 0;
}
