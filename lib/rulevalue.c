/*
 * rulevalue - check the values of a rule: smart host, transport
 *
 * smarthost_valid() accepts "host", "mx:host", "192.0.2.7",
 * "[192.0.2.7]", "[2001:db8::7]", each with an optional ":port" (1 to
 * 65535).  A host name must be a valid domain name (U-labels allowed)
 * whose last label is not all digits; a bare IPv6 address (without
 * brackets), "mx:" with an address and a bracketed host name are errors.
 * smarthost_normalize() does the same check and writes the canonical form
 * that the rule set stores: host names as A-labels in lower case, IPv6
 * addresses as inet_ntop() writes them, ports without leading zeros.
 *
 * (A reply is checked by reply_valid() of reply.c.)
 *
 * transport_valid() accepts a Postfix master.cf service name: 1 to 64
 * letters, digits, '-', '_' or '.', starting with a letter or digit.
 *
 * All return 0, or -1 with *why pointing at a static string.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "rulevalue.h"

#define SMARTHOST_INPUT_MAX	300
#define TRANSPORT_MAX		64

static int
port_parse(const char *s, unsigned *port, const char **why)
{
	unsigned	v;
	size_t		n;

	v = 0;
	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5) {
			*why = "bad port (1 to 65535)";
			return -1;
		}
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v == 0 || v > 65535) {
		*why = "bad port (1 to 65535)";
		return -1;
	}
	*port = v;
	return 0;
}

/* "[addr]" at the start of s; the rest (after ']') in *rest. */
static int
smarthost_bracket(const char *s, char *host, size_t hostlen,
    const char **rest, const char **why)
{
	const char	*close;
	char		 addr[64];
	unsigned char	 bin[16];
	size_t		 n;

	close = strchr(s, ']');
	if (close == NULL) {
		*why = "missing ']' in smart host";
		return -1;
	}
	n = (size_t)(close - s - 1);
	if (n == 0 || n >= sizeof(addr)) {
		*why = "bad address in brackets";
		return -1;
	}
	memcpy(addr, s + 1, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		snprintf(host, hostlen, "[%s]", addr);
	else if (inet_pton(AF_INET6, addr, bin) == 1) {
		char	text[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, bin, text, sizeof(text));
		snprintf(host, hostlen, "[%s]", text);
	} else {
		*why = "brackets must hold an IPv4 or IPv6 address";
		return -1;
	}
	*rest = close + 1;
	return 0;
}

static int
all_digits_or_dots(const char *s)
{
	for (; *s != '\0'; s++)
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* A host name or a bare IPv4 address, NUL-terminated, no port. */
static int
smarthost_name(const char *s, int mx, char *host, size_t hostlen,
    const char **why)
{
	char		 name[DOMAIN_MAX + 1];
	unsigned char	 bin[4];
	const char	*last;

	if (*s == '\0') {
		*why = "empty smart host";
		return -1;
	}
	if (all_digits_or_dots(s)) {
		if (inet_pton(AF_INET, s, bin) != 1) {
			*why = "bad IPv4 address";
			return -1;
		}
		if (mx) {
			*why = "mx: needs a host name, not an address";
			return -1;
		}
		if (strlen(s) >= hostlen) {
			*why = "bad IPv4 address";
			return -1;
		}
		memcpy(host, s, strlen(s) + 1);
		return 0;
	}
	if (domain_normalize(s, strlen(s), name, why) == -1)
		return -1;
	last = strrchr(name, '.');
	last = last == NULL ? name : last + 1;
	if (all_digits_or_dots(last)) {
		*why = "bad host name (numeric top-level label)";
		return -1;
	}
	snprintf(host, hostlen, "%s%s", mx ? "mx:" : "", name);
	return 0;
}

int
smarthost_normalize(const char *text, char *out, size_t outlen,
    const char **why)
{
	char		 buf[SMARTHOST_INPUT_MAX + 1], host[DOMAIN_MAX + 8];
	const char	*rest;
	char		*colon;
	unsigned	 port;
	size_t		 len;
	int		 mx, n;

	len = strlen(text);
	if (len == 0) {
		*why = "empty smart host";
		return -1;
	}
	if (len > SMARTHOST_INPUT_MAX) {
		*why = "smart host too long";
		return -1;
	}
	memcpy(buf, text, len + 1);
	port = 0;
	if (buf[0] == '[') {
		if (smarthost_bracket(buf, host, sizeof(host), &rest, why) == -1)
			return -1;
		if (*rest == ':') {
			if (port_parse(rest + 1, &port, why) == -1)
				return -1;
		} else if (*rest != '\0') {
			*why = "junk after ']' in smart host";
			return -1;
		}
	} else {
		mx = strncasecmp(buf, "mx:", 3) == 0;
		rest = mx ? buf + 3 : buf;
		if (mx && *rest == '[') {
			*why = "mx: needs a host name, not an address";
			return -1;
		}
		colon = strchr(rest, ':');
		if (colon != NULL) {
			if (strchr(colon + 1, ':') != NULL) {
				*why = "IPv6 address must be in brackets";
				return -1;
			}
			*colon = '\0';
			if (port_parse(colon + 1, &port, why) == -1)
				return -1;
		}
		if (smarthost_name(rest, mx, host, sizeof(host), why) == -1)
			return -1;
	}
	if (port != 0)
		n = snprintf(out, outlen, "%s:%u", host, port);
	else
		n = snprintf(out, outlen, "%s", host);
	if (n < 0 || (size_t)n >= outlen) {
		*why = "smart host too long";
		return -1;
	}
	return 0;
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
