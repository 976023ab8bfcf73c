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
 *	- "rcpt KEY" (maps-only mode) answers "OK OK" only for a key
 *	  that routes through no other host and whose domain an "always"
 *	  rule covers, both stated apart from lib/ (ruleoracle.c: the
 *	  rule language's cover; more than one '@', or '%' or '!' in the
 *	  local part) (never an open relay, never sender-specified
 *	  routing past Postfix's allow_untrusted_routing), and for a
 *	  recipients "list" rule only a listed user, for a "verify" rule
 *	  none (a bare domain key aside, which Postfix asks only after a
 *	  full address was NOTFOUND), the rule and its recipients kind
 *	  taken from the oracle's nearest pattern, not from decide.c; a
 *	  "verify" rule's key is pending (its callout to come) only
 *	  without such routing, and unsettled it is never OK OK
 *	  (policy.verify_unknown = tempfail);
 *	- the rcpt map's answer carries its decision (decided), no other
 *	  map's does; its outcome is what the answer says;
 *	- "access KEY" and "rcpt KEY" answer any other OK only with a
 *	  reply of a class 4 or 5 code and its enhanced code: a deny rule's,
 *	  or for rcpt an unknown or unverified user's (550 5.1.1, 450 4.1.1)
 *	  of a recipients rule (the oracle's rule again), never a listed
 *	  user's.
 *
 * The input, cut at its first NUL, is also given to sockspec_parse():
 * a spec it accepts has its rest inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "maps.h"
#include "netaddr.h"
#include "ruleset.h"
#include "sockspec.h"

#include "ruleoracle.h"

#define INPUT_MAX	4096	/* libFuzzer's default -max_len */

static struct config	config;
static char		list_path[] = "/tmp/fuzz_socketmap.XXXXXX";

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
	{ "corp.example", { .relay = "always", .recipients = "list",
	    .recipients_file = list_path } },
	{ "check.example", { .relay = "always", .recipients = "verify",
	    .smarthost = "[192.0.2.9]" } },
};
#define NRULES	(sizeof(rules) / sizeof(rules[0]))
static const char *patterns[NRULES];

/* The users of corp.example (recipients "list"). */
static const char list_text[] = "alice@corp.example\nb%c@corp.example\n";

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
	int	fd;

	(void)argc;
	(void)argv;
	if ((fd = mkstemp(list_path)) == -1 ||
	    write(fd, list_text, strlen(list_text)) !=
	    (ssize_t)strlen(list_text) || close(fd) == -1)
		abort();
	config.socket_mode = -1;
	config.policy.unmatched = UNMATCHED_REJECT;
	if ((config.policy.trusted_networks = netlist_new()) == NULL ||
	    (config.rules = ruleset_new()) == NULL)
		abort();
	for (i = 0; i < NRULES; i++)
		patterns[i] = rules[i].pattern;
	for (i = 0; i < NRULES; i++)
		if (ruleset_add(config.rules, rules[i].pattern, &rules[i].spec,
		    err, sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_socketmap: %s: %s\n",
			    rules[i].pattern, err);
			abort();
		}
	unlink(list_path);
	return 0;
}

/*
 * 1 when an "always" rule lets anybody relay to the key's domain, stated
 * apart from decide.c (ruleoracle.c: the rule language's cover and
 * nearest rule).
 */
static int
always(const char *key, size_t len)
{
	int	r;

	r = ruleoracle_nearest(patterns, NRULES, key, len);
	return r >= 0 && (rules[r].spec.relay == NULL ||
	    strcmp(rules[r].spec.relay, "always") == 0);
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

/*
 * The rule that decides for key, stated apart from decide.c (ruleoracle.c):
 * NULL when none covers its domain.
 */
static const struct rule_spec *
oracle_rule(const char *key, size_t len)
{
	int	r;

	r = ruleoracle_nearest(patterns, NRULES, key, len);
	return r < 0 ? NULL : &rules[r].spec;
}

/* A rule_spec field (relay, recipients) says word. */
static int
spec_says(const char *field, const char *word)
{
	return field != NULL && strcmp(field, word) == 0;
}

/* The user of key is in the list of corp.example, its domain that alone. */
static int
listed(const char *key, size_t len)
{
	static const char *const users[] = { "alice", "b%c" };
	static const char *const corp[] = { "#corp.example" };
	const char	*at;
	size_t		 i, n;

	for (at = key + len; at > key && at[-1] != '@'; at--)
		;
	if (at == key)
		return 0;
	n = (size_t)(at - 1 - key);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (strlen(users[i]) == n && strncasecmp(key, users[i], n) == 0)
			return ruleoracle_nearest(corp, 1, key, len) == 0;
	return 0;
}

/* An OK of the rcpt or access map for key, against the oracle's rule. */
static void
check_access(const char *req, size_t len, const char *key, size_t keylen)
{
	const struct rule_spec	*rule;
	int			 rcpt;

	if (strncasecmp(key, "To:", 3) == 0)
		return;		/* Sendmail: checked by the unit tests */
	rcpt = memcmp(req, "rcpt ", 5) == 0;
	rule = oracle_rule(key, keylen);
	if (strcmp(text, "OK OK") == 0) {
		if (!rcpt)
			die("access map permits", req, len, text);
		if (ruleoracle_routed(key, keylen))
			die("OK for sender-specified routing", req, len, text);
		if (!always(key, keylen))
			die("OK without an always rule", req, len, text);
		/* a bare domain: asked only after a full address's NOTFOUND */
		if (memchr(key, '@', keylen) == NULL)
			return;
		if (spec_says(rule->recipients, "verify"))
			die("OK for an unverified user", req, len, text);
		if (spec_says(rule->recipients, "list") && !listed(key, keylen))
			die("OK for an unlisted user", req, len, text);
		return;
	}
	if ((text[3] != '4' && text[3] != '5') || text[6] != ' ' ||
	    text[7] != text[3] || text[8] != '.')
		die("not a reply", req, len, text);
	if (rule == NULL)
		die("reply without a rule", req, len, text);
	if (spec_says(rule->relay, "deny"))
		return;
	if (!rcpt || rule->recipients == NULL)
		die("reply without a deny or recipients rule", req, len, text);
	if (strncmp(text, "OK 550 5.1.1 ", 13) != 0 &&
	    strncmp(text, "OK 450 4.1.1 ", 13) != 0)
		die("a recipients rule's reply not 550 5.1.1 or 450 4.1.1",
		    req, len, text);
	if (spec_says(rule->recipients, "list") && listed(key, keylen) &&
	    !ruleoracle_routed(key, keylen))
		die("a listed user refused", req, len, text);
}

/* The rcpt map's decision: carried, pending only without routing. */
static void
check_decided(const char *req, size_t len, const struct map_answer *a)
{
	int	rcpt;

	rcpt = len > 5 && memcmp(req, "rcpt ", 5) == 0 && a->status !=
	    MAP_PERM;
	if (a->decided != rcpt)
		die("decided is not the rcpt map's", req, len, text);
	if (!rcpt)
		return;
	if (maps_pending(a) && ruleoracle_routed(req + 5, len - 5))
		die("a callout for sender-specified routing", req, len, text);
	if ((a->outcome == OUTCOME_ACCEPT) != (strcmp(text, "OK OK") == 0))
		die("outcome accept is not OK OK", req, len, text);
	if ((a->outcome == OUTCOME_CONTINUE) != (a->status == MAP_NOTFOUND))
		die("outcome continue is not NOTFOUND", req, len, text);
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
	check_decided(req, len, &a);
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
