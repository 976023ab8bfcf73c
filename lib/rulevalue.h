/*
 * rulevalue - check the values of a rule: smart host, transport, TLS
 *
 * smarthost_valid(), smarthost_normalize(), transport_valid(), tls_valid(),
 * tls_level_name() and tls_carries_password(): see rulevalue.c.  A rule's reply is checked by reply_valid() (reply.h).
 */
#ifndef MR_RULEVALUE_H
#define MR_RULEVALUE_H

#include <stddef.h>

#include "nexthop.h"

enum tls_level {
	TLS_UNSET,		/* the MTA's own policy */
	TLS_NONE,
	TLS_MAY,
	TLS_ENCRYPT,
	TLS_DANE,
	TLS_VERIFY,
	TLS_SECURE
};

#define TLS_MATCH_MAX	255

#define SMARTHOST_MAX	NEXTHOP_LIST_TEXT_MAX	/* a list of next hops */

int	smarthost_valid(const char *text, const char **why);
int	smarthost_normalize(const char *text, char *out, size_t outlen,
	    const char **why);
int	transport_valid(const char *text, const char **why);
int	tls_valid(const char *tls, const char *match, const char *smarthost,
	    unsigned char *level, const char **why);
const char *tls_level_name(unsigned level);
int	tls_carries_password(unsigned level);

#endif
