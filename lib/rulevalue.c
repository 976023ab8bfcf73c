/*
 * rulevalue - check the values of a rule: smart host, reply, transport
 *
 * smarthost_valid() accepts a list of next hops in preference order,
 * "hop,hop,...", each "host", "mx:host", "192.0.2.7", "[192.0.2.7]" or
 * "[2001:db8::7]" with an optional ":port"; smarthost_normalize() checks
 * the same and writes the canonical form that the rule set stores.  Both
 * are nexthop_list_normalize() (nexthop.c knows the syntax).
 *
 * reply_valid() accepts "ddd x.y.z text": ddd is 4xx or 5xx (second
 * digit 0-5), the enhanced status class x equals the first digit, y and z
 * have 1 to 3 digits; text is optional, printable ASCII without '%'
 * (libmilter reads '%' as a format character); REPLY_MAX octets at most.
 *
 * transport_valid() accepts a Postfix master.cf service name: 1 to 64
 * letters, digits, '-', '_' or '.', starting with a letter or digit.
 *
 * All return 0, or -1 with *why pointing at a static string.
 */
#include <stdio.h>
#include <string.h>

#include "nexthop.h"
#include "ruleset.h"

#define REPLY_MAX		500
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

static int
digits(const char *s, size_t min, size_t max, size_t *n)
{
	size_t	i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
		;
	*n = i;
	return i >= min && i <= max;
}

int
reply_valid(const char *text, const char **why)
{
	const char	*p;
	size_t		 n;

	if (strlen(text) > REPLY_MAX) {
		*why = "reply too long";
		return -1;
	}
	if (!digits(text, 3, 3, &n) || (text[0] != '4' && text[0] != '5') ||
	    text[1] > '5' || text[3] != ' ') {
		*why = "reply must start with a 4xx or 5xx code and a space";
		return -1;
	}
	p = text + 4;
	if (p[0] != text[0] || p[1] != '.' || !digits(p + 2, 1, 3, &n) ||
	    p[2 + n] != '.') {
		*why = "reply needs an enhanced status code of the same class "
		    "(e.g. 550 5.7.1)";
		return -1;
	}
	p += 2 + n + 1;
	if (!digits(p, 1, 3, &n) || (p[n] != '\0' && p[n] != ' ')) {
		*why = "reply needs an enhanced status code of the same class "
		    "(e.g. 550 5.7.1)";
		return -1;
	}
	for (p += n; *p != '\0'; p++) {
		if (*p == '%') {
			*why = "'%' is not allowed in a reply";
			return -1;
		}
		if (*p < 0x20 || *p > 0x7e) {
			*why = "reply must be printable ASCII on one line";
			return -1;
		}
	}
	return 0;
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
