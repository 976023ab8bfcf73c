/*
 * verify - recipient callouts of recipients = "verify" rules
 *
 * Interface comment in verify.c.
 */
#ifndef MR_VERIFY_H
#define MR_VERIFY_H

#include "config.h"
#include "decide.h"

void	verify_recipient(const struct config *config, const char *rcpt,
	    struct decision *d);

#endif
