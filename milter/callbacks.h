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
 * (SIGUSR1).  route_host() extracts the host of a route or next hop
 * ("smtp:[10.1.2.3]:25" -> "10.1.2.3", "mail.example.org:2525" ->
 * "mail.example.org"; transport prefix only with has_transport), lower
 * case, without brackets, port or trailing dot; 0 or -1 if it does not fit.
 */
#ifndef MR_CALLBACKS_H
#define MR_CALLBACKS_H

#include <stddef.h>
#include <libmilter/mfapi.h>

struct smfiDesc *callbacks_desc(void);
void	callbacks_init(void);
void	callbacks_log_counters(void);
int	route_host(const char *route, int has_transport, char *host,
	    size_t hostlen);

#endif
