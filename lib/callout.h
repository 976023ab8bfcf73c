/*
 * callout - ask a next hop whether a recipient exists (SMTP, no DATA)
 *
 * Interface comment in callout.c.
 */
#ifndef MR_CALLOUT_H
#define MR_CALLOUT_H

#include <stddef.h>

#include "decide.h"
#include "domain.h"
#include "ruleset.h"

#define CALLOUT_HOPS_MAX	8
#define CALLOUT_REPLY_MAX	256

struct callout_hop {
	char		host[DOMAIN_MAX + 1];	/* name or address, no brackets */
	unsigned	port;			/* 25 by default */
	int		mx;			/* host's MX hosts, not host */
};

struct callout_answer {
	enum recipient_status status;
	char		hop[DOMAIN_MAX + 16];	/* host[:port] that answered */
	char		reply[CALLOUT_REPLY_MAX];	/* or what went wrong */
};

size_t	callout_hops(const struct rule *rule, const char *domain,
	    struct callout_hop *hops, size_t max);
void	callout_probe(const struct callout_hop *hops, size_t nhops,
	    const char *helo, const char *rcpt, long timeout_ms,
	    struct callout_answer *answer);
int	callout_rcpt_path(const char *local, const char *domain, char *out,
	    size_t outlen);

#endif
