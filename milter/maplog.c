/*
 * maplog - decision lines of the socketmap's maps-only lookups
 *
 * SYNOPSIS
 *	#include "maplog.h"
 *
 *	void	maplog_rcpt(const char *key, size_t len,
 *		    const struct map_answer *a);
 *
 * DESCRIPTION
 *	In maps-only mode (contrib/postfix/main-maps.cf) no milter sees the
 *	recipients: Postfix asks the socketmap's "rcpt" map once per RCPT,
 *	from check_recipient_access, and that answer carries milter-relay's
 *	part of the decision.  maplog_rcpt() logs one line for each such
 *	request, as the milter logs one per RCPT, from the answer's own
 *	decision (a->decision; nothing is decided again):
 *
 *	    map=rcpt rcpt=<KEY> rule=PATTERN|- outcome=OUTCOME
 *	        reason="..." answer="OK OK|OK 550 ...|NOTFOUND"
 *
 *	outcome is what the map told Postfix (a->outcome): "accept" (OK
 *	OK: an always rule), "reject" (a deny rule's or the recipient
 *	check's reply), "tempfail" (a 4xx reply, TEMP) or "continue"
 *	(NOTFOUND: Postfix decides, permit_mynetworks lets trusted clients
 *	through, reject_unauth_destination refuses the rest).  The map sees
 *	the address only, not the client or the queue id.  Requests for
 *	other maps (relay, transport, ...) are not decisions and are not
 *	logged.  The key and the answer are quoted (log_quote()).
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "../lib/decide.h"
#include "log.h"
#include "maplog.h"

#define MAPLOG_MAX	2048

/* maplog_rcpt - one decision line for a "rcpt KEY" request */
void
maplog_rcpt(const char *key, size_t len, const struct map_answer *ans)
{
	char	 k[MAPLOG_MAX / 2], a[MAPLOG_MAX / 2], line[MAPLOG_MAX];
	char	 answer[MAPS_ANSWER_MAX];
	size_t	 n;
	int	 r;

	if (!ans->decided)
		return;
	maps_format(ans, answer, sizeof(answer));
	log_quote(key, len, 0, k, sizeof(k));
	log_quote(answer, strlen(answer), 1, a, sizeof(a));
	r = snprintf(line, sizeof(line), "map=rcpt rcpt=<%s> rule=%s "
	    "outcome=%s reason=\"%s\" answer=\"%s\"", k,
	    ans->decision.pattern[0] != '\0' ? ans->decision.pattern : "-",
	    decision_outcome_name(ans->outcome),
	    ans->outcome == OUTCOME_CONTINUE ? "left to Postfix" :
	    decision_reason(&ans->decision), a);
	if (r < 0)
		return;
	n = (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	log_line(LOG_INFO, line, n);
}
