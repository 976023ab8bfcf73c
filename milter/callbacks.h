/*
 * callbacks - the libmilter callbacks of milter-relay
 *
 * callbacks_desc() returns the filter description to smfi_register():
 * negotiate (only the stages we need: connect, MAIL, RCPT, end of
 * message, abort, close; no HELO, headers, body, DATA or unknown
 * commands; no reply at connect and MAIL; macros {auth_authen} and {i}
 * at MAIL, {i} {rcpt_mailer} {rcpt_host} {rcpt_addr} at RCPT), connect
 * (client address), MAIL (authentication), RCPT (the decision: decide()
 * on the live configuration, smfi_setreply(), one log line), end of
 * message and abort (reset of the transaction), close.
 *
 * Every RCPT that cannot be decided (no session, no configuration, no
 * reply) gets 451 4.7.1; an accepted recipient is SMFIS_CONTINUE, never
 * SMFIS_ACCEPT (which would accept the whole message).
 *
 * callbacks_log_counters() logs the session and decision counters
 * (SIGUSR1).  The routing check (policy route_check) compares the MTA's
 * {rcpt_mailer} and {rcpt_host} with the rule's smart hosts through
 * nexthop_route_covers(): any hop of the rule's list is right.  A name
 * whose smart host a reload changed may still be routed the old way by
 * the MTA (Postfix's resolve caches, routechange.h): when the MTA's
 * choice is the name's old route, less than ROUTECHANGE_WINDOW seconds
 * after the change that is logged as "route being updated" (info, no
 * mismatch count) and, with route_check = "enforce", deferred with 451
 * 4.7.1 "Relay route being updated"; later (only smtpd's cache, the queue
 * manager resolves anew) as "old route cached by the MTA", and let
 * through.  callbacks_reloaded() notes those names when a reload
 * publishes new from old (routechange.c).
 */
#ifndef MR_CALLBACKS_H
#define MR_CALLBACKS_H

#include <libmilter/mfapi.h>

#include "config.h"

struct smfiDesc *callbacks_desc(void);
void	callbacks_init(void);
void	callbacks_log_counters(void);
void	callbacks_reloaded(const struct config *old,
	    const struct config *new);

#endif
