/*
 * verify - recipient callouts of recipients = "verify" rules
 *
 * Interface comment in verify.c.
 */
#ifndef MR_VERIFY_H
#define MR_VERIFY_H

#include "config.h"
#include "decide.h"

struct verify_counts {
	unsigned long	valid;		/* RCPTs found valid */
	unsigned long	invalid;	/* RCPTs refused as unknown users */
	unsigned long	unknown;	/* RCPTs left unverified */
	unsigned long	hits;		/* answered from the cache */
	unsigned long	misses;		/* not in the cache */
	unsigned long	probes;		/* callouts started */
	unsigned long	busy;		/* refused: too many callouts */
};

/* The reason of a recipient no callout can ask about. */
#define VERIFY_CANNOT	"cannot verify this address"

void	verify_recipient(const struct config *config,
	    const struct client *client, const char *rcpt, struct decision *d);
const char *verify_status_name(enum recipient_status status);
const char *verify_reason(enum recipient_status status);
void	verify_counters(struct verify_counts *out);
void	verify_log_counters(void);

#endif
