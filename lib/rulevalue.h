/*
 * rulevalue - check the values of a rule: smart host, transport
 *
 * smarthost_valid(), smarthost_normalize(), transport_valid(): see
 * rulevalue.c.  A rule's reply is checked by reply_valid() (reply.h).
 */
#ifndef MR_RULEVALUE_H
#define MR_RULEVALUE_H

#include <stddef.h>

#include "nexthop.h"

#define SMARTHOST_MAX	NEXTHOP_LIST_TEXT_MAX	/* a list of next hops */

int	smarthost_valid(const char *text, const char **why);
int	smarthost_normalize(const char *text, char *out, size_t outlen,
	    const char **why);
int	transport_valid(const char *text, const char **why);

#endif
