/*
 * verify - recipient callouts of recipients = "verify" rules
 *
 * verify_recipient() settles a decision that decide() left with
 * d->verify set.  Callouts are not built yet: every such recipient is
 * unknown (policy.verify_unknown), never accepted unchecked.
 */
#include <string.h>

#include "config.h"
#include "decide.h"

#include "verify.h"

void
verify_recipient(const struct config *config, const char *rcpt,
    struct decision *d)
{
	decide_recipient(config, rcpt, strlen(rcpt), RECIPIENT_UNKNOWN,
	    "recipient verification unavailable", d);
}
