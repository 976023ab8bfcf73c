/*
 * rulevalue - check the values of a rule: smart host, transport
 *
 * smarthost_valid() accepts a list of next hops in preference order,
 * "hop,hop,...", each "host", "mx:host", "192.0.2.7", "[192.0.2.7]" or
 * "[2001:db8::7]" with an optional ":port"; smarthost_normalize() checks
 * the same and writes the canonical form that the rule set stores.  Both
 * are nexthop_list_normalize() (nexthop.c knows the syntax).
 *
 * (A reply is checked by reply_valid() of reply.c.)
 *
 * transport_valid() accepts a Postfix master.cf service name: 1 to 64
 * letters, digits, '-', '_' or '.', starting with a letter or digit.
 *
 * All return 0, or -1 with *why pointing at a static string.
 */
#include <stdio.h>
#include <string.h>

#include "nexthop.h"
#include "rulevalue.h"

#define TRANSPORT_MAX		64

int
smarthost_normalize(const char *text, char *out, size_t outlen,
    const char **why)
{
	return nexthop_list_normalize(text, out, outlen, why);
}

int
smarthost_valid(const char *text, const char **why)
{
	char	out[SMARTHOST_MAX + 1];

	return smarthost_normalize(text, out, sizeof(out), why);
}

int
transport_valid(const char *text, const char **why)
{
	size_t	i;
	char	c;

	for (i = 0; text[i] != '\0'; i++) {
		c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '-' || c == '_' || c == '.')))) {
			*why = "bad transport name";
			return -1;
		}
	}
	if (i == 0 || i > TRANSPORT_MAX) {
		*why = "bad transport name (1 to 64 characters)";
		return -1;
	}
	return 0;
}
