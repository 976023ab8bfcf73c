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

/* An MX host of a DNS answer. */
struct callout_mx {
	unsigned	pref;
	char		host[DOMAIN_MAX + 1];
};

/* An SMTP reply read line by line. */
struct callout_reply {
	int		code;			/* of the first line; 0 before */
	char		text[CALLOUT_REPLY_MAX];	/* first line, printable */
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
int	callout_mx_parse(const unsigned char *answer, size_t len,
	    struct callout_mx *mx, size_t max);
int	callout_reply_line(struct callout_reply *reply, const char *line,
	    size_t len);
int	callout_rcpt_path(const char *local, const char *domain, char *out,
	    size_t outlen);

#endif
