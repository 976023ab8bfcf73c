/*
 * address - parse the argument of RCPT TO (an RFC 5321 path)
 *
 * address_parse() takes the text after "RCPT TO:" as the MTA passes it to
 * a milter (with or without angle brackets, without ESMTP parameters) and
 * splits it into local part and domain:
 *
 *	<u@example.com>, u@example.com		ADDR_DOMAIN
 *	<@a.test,@b.test:u@example.com>		ADDR_DOMAIN, ADDR_ROUTE_SOURCE
 *	<"a b\"c"@example.com>			quoted local part, escapes
 *	<"u@victim.test"@example.com>		ADDR_ROUTE_QUOTED_AT
 *	<u%victim.test@example.com>		ADDR_ROUTE_PERCENT
 *	<victim.test!u@example.com>		ADDR_ROUTE_BANG
 *	<u@[192.0.2.1]>, <u@[IPv6:2001:db8::1]>	ADDR_LITERAL
 *	<postmaster>, <Postmaster>		ADDR_POSTMASTER
 *	<user>					ADDR_UNQUALIFIED
 *	<>					ADDR_NULL
 *
 * The domain is the part after the rightmost '@' outside quotes; it is
 * normalized with domain_normalize() (so SMTPUTF8 domains come out as
 * A-labels).  An address literal is validated and kept in domain with its
 * brackets.  The routing flags record every form of sender-specified
 * routing found (several may be set); decide() refuses them from
 * untrusted clients.
 *
 * Returns 0, or -1 with *why pointing at a static string for malformed
 * input (unbalanced brackets or quotes, bad characters, empty parts, a
 * bad domain or literal, a path over ADDRESS_MAX octets, a local part
 * over LOCAL_MAX octets).  Never reads past len; text need not be
 * NUL-terminated.
 */
#ifndef MR_ADDRESS_H
#define MR_ADDRESS_H

#include <stddef.h>

#include "domain.h"

#define ADDRESS_MAX	512	/* whole argument, generous vs RFC's 256 */
#define LOCAL_MAX	256	/* local part, generous vs RFC's 64 */

enum address_kind {
	ADDR_DOMAIN,
	ADDR_LITERAL,
	ADDR_POSTMASTER,
	ADDR_UNQUALIFIED,
	ADDR_NULL
};

#define ADDR_ROUTE_SOURCE	0x01	/* @a,@b: source route */
#define ADDR_ROUTE_PERCENT	0x02	/* % in the local part */
#define ADDR_ROUTE_BANG		0x04	/* ! in the local part */
#define ADDR_ROUTE_QUOTED_AT	0x08	/* @ inside a quoted local part */

struct address {
	enum address_kind kind;
	unsigned	routing;		/* ADDR_ROUTE_* bits */
	char		local[LOCAL_MAX + 1];	/* unquoted, escapes resolved */
	char		domain[DOMAIN_MAX + 1];	/* normalized, or [literal] */
};

int	address_parse(const char *text, size_t len, struct address *out,
	    const char **why);

#endif
