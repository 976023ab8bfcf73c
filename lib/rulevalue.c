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
 * tls_valid() checks a rule's tls and tls_match (NULL: unset) against its
 * smarthost: tls is one of none, may, encrypt, dane, verify, secure (the
 * levels of Postfix's smtp_tls_policy_maps) and needs a smart host, since
 * Postfix looks TLS policy up by next hop; tls_match (Postfix's match=)
 * needs verify or secure and is 1 to TLS_MATCH_MAX letters, digits, '.',
 * '-', '_' and ':'.  The level goes to *level (TLS_UNSET when tls is
 * NULL).  tls_level_name() is the word of a level ("" for TLS_UNSET).
 *
 * tls_carries_password() is 1 for the levels that never let a session go
 * on in clear (encrypt, verify, secure), 0 for the others: unset, none,
 * may, and dane, which Postfix degrades to opportunistic TLS (may) when
 * the next hop has no usable TLSA records.  Only those levels may carry
 * a rule's credentials (auth_file).
 *
 * All checks return 0, or -1 with *why pointing at a static string.
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

static const char *const level_names[] = {
	"", "none", "may", "encrypt", "dane", "verify", "secure"
};

/* tls_level_name - the word of a TLS level, "" for TLS_UNSET */
const char *
tls_level_name(unsigned level)
{
	if (level >= sizeof(level_names) / sizeof(level_names[0]))
		return "";
	return level_names[level];
}

/* tls_carries_password - a level that never goes on in clear */
int
tls_carries_password(unsigned level)
{
	return level == TLS_ENCRYPT || level == TLS_VERIFY ||
	    level == TLS_SECURE;
}

/* tls_valid - check tls and tls_match of a rule */
int
tls_valid(const char *tls, const char *match, const char *smarthost,
    unsigned char *level, const char **why)
{
	unsigned	i;
	size_t		n;

	*level = TLS_UNSET;
	if (tls == NULL) {
		if (match != NULL) {
			*why = "tls_match needs tls = \"verify\" or \"secure\"";
			return -1;
		}
		return 0;
	}
	for (i = TLS_NONE; i <= TLS_SECURE; i++)
		if (strcmp(tls, level_names[i]) == 0)
			break;
	if (i > TLS_SECURE) {
		*why = "bad tls (none, may, encrypt, dane, verify or secure)";
		return -1;
	}
	if (smarthost == NULL) {
		*why = "tls needs a smarthost (Postfix looks TLS policy up by "
		    "next hop)";
		return -1;
	}
	if (match != NULL) {
		if (i != TLS_VERIFY && i != TLS_SECURE) {
			*why = "tls_match needs tls = \"verify\" or \"secure\"";
			return -1;
		}
		n = strspn(match, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:");
		if (n == 0 || match[n] != '\0' || n > TLS_MATCH_MAX) {
			*why = "bad tls_match (1 to 255 letters, digits, "
			    "'.', '-', '_', ':')";
			return -1;
		}
	}
	*level = (unsigned char)i;
	return 0;
}
