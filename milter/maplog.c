/*
 * maplog - decision lines of the socketmap's maps-only lookups
 *
 * SYNOPSIS
 *	#include "maplog.h"
 *
 *	void	maplog_request(const struct config *config,
 *		    const char *request, size_t len,
 *		    const struct map_answer *a);
 *
 * DESCRIPTION
 *	In maps-only mode (contrib/postfix/main-maps.cf) no milter sees the
 *	recipients: Postfix asks the socketmap's "rcpt" map once per RCPT,
 *	from check_recipient_access, and that answer carries milter-relay's
 *	part of the decision.  maplog_request() logs one line for each such
 *	request, as the milter logs one per RCPT:
 *
 *	    map=rcpt rcpt=<KEY> rule=PATTERN|- outcome=OUTCOME
 *	        reason="..." answer="OK OK|OK 550 ...|NOTFOUND"
 *
 *	outcome is what the map told Postfix: "accept" (OK: an always
 *	rule), "reject" (a deny rule's reply) or "continue" (NOTFOUND:
 *	Postfix decides, permit_mynetworks lets trusted clients through,
 *	reject_unauth_destination refuses the rest).  The map sees the
 *	address only, not the client or the queue id.  Requests for other
 *	maps (relay, transport, ...) are not decisions and are not logged.
 *	The key and the answer are quoted (log_quote()).
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "../lib/decide.h"
#include "log.h"
#include "maplog.h"

#define MAPLOG_RCPT	"rcpt "
#define MAPLOG_MAX	2048

/* maplog_request - one decision line for a "rcpt KEY" request */
void
maplog_request(const struct config *config, const char *request,
    size_t len, const struct map_answer *ans)
{
	struct decision	 d;
	const char	*key;
	enum outcome	 outcome;
	char		 k[MAPLOG_MAX / 2], a[MAPLOG_MAX / 2], line[MAPLOG_MAX];
	char		 answer[MAPS_ANSWER_MAX];
	size_t		 keylen, n;
	int		 r;

	n = strlen(MAPLOG_RCPT);
	if (len <= n || memcmp(request, MAPLOG_RCPT, n) != 0)
		return;
	key = request + n;
	keylen = len - n;
	decide_key(config, NULL, key, keylen, &d);
	if (ans->status == MAP_OK && strcmp(ans->value, MAPS_VALUE_PERMIT) == 0)
		outcome = OUTCOME_ACCEPT;
	else if (ans->status == MAP_OK)
		outcome = OUTCOME_REJECT;
	else if (ans->status == MAP_NOTFOUND)
		outcome = OUTCOME_CONTINUE;
	else
		outcome = OUTCOME_TEMPFAIL;
	maps_format(ans, answer, sizeof(answer));
	log_quote(key, keylen, 0, k, sizeof(k));
	log_quote(answer, strlen(answer), 1, a, sizeof(a));
	r = snprintf(line, sizeof(line), "map=rcpt rcpt=<%s> rule=%s "
	    "outcome=%s reason=\"%s\" answer=\"%s\"", k,
	    d.pattern[0] != '\0' ? d.pattern : "-",
	    decision_outcome_name(outcome), outcome == OUTCOME_CONTINUE ?
	    "left to Postfix" : decision_reason(&d), a);
	if (r < 0)
		return;
	n = (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	log_line(LOG_INFO, line, n);
}
