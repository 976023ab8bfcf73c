/*
 * maps - answers of the socketmap server, from the rule set
 *
 * maps_answer() answers one socketmap request "NAME KEY" (the payload of
 * one netstring) and writes the reply payload into out:
 *
 *	relay		"OK RELAY" when any client may relay to the key's
 *			domain (an "always" rule covers it), else "NOTFOUND "
 *	transport	"OK transport:[host]:port" (Postfix syntax) when the
 *			covering relayed rule names a smart host
 *	mailertable	"OK esmtp:[host]" (Sendmail syntax), same rule; a
 *			port selects the mailer "esmtpPORT" (mailertable has
 *			no port field; contrib/sendmail defines the mailer)
 *	access		Postfix check_recipient_access, a key without a
 *			Sendmail tag (the full address): "OK 550 5.7.1
 *			text", the reply of the deny rule that covers the
 *			domain, as the milter gives it (not in log-only
 *			mode); "NOTFOUND " for everything else.
 *			Sendmail, tagged keys: "OK RELAY" for "To:domain"
 *			keys any client may relay to, "OK SKIP" when not
 *			but a parent would be (stops Sendmail's own walk up
 *			to the parents); other tags "NOTFOUND "
 *	rcpt		Postfix maps-only mode (check_recipient_access
 *			before permit_mynetworks, no milter): the full
 *			address; "OK OK" when any client may relay to it
 *			(an "always" rule covers its domain) and its local
 *			part has no '%', '!' or '@'; a deny rule's reply as
 *			for access, also in log-only mode (Postfix's
 *			warn_if_reject does log-only there); else
 *			"NOTFOUND ".
 *
 * transport and mailertable answer for "always" and "trusted" rules that
 * name a smart host (a trusted client's mail must take it too); deny
 * rules and rules without smart host are "NOTFOUND ".
 *
 * A key containing '@' is answered for the domain after its last '@' (the
 * full recipient Postfix sends to transport_maps); a plain key for
 * itself.  Keys starting with '.' are "NOTFOUND ".  UTF-8 names are
 * converted to A-labels.  Keys no rule can cover (address literals,
 * names that are not domain names) are "NOTFOUND " too.  An unknown map
 * name or a malformed request yields "PERM reason"; no config yields
 * "TEMP reason".  Every answer comes from decide_domain(): this module
 * only formats.  Returns the length of the answer written.
 *
 * maps_route() formats the route of a rule for a map ("transport" or
 * "mailertable"): 0 and the value in buf, or -1 when the rule names no
 * smart host.  The exporter and the milter's route check use it too.
 */
#ifndef MR_MAPS_H
#define MR_MAPS_H

#include <stddef.h>

#include "config.h"
#include "ruleset.h"

#define MAPS_ANSWER_MAX	1024

enum map_kind {
	MAP_POSTFIX_TRANSPORT,	/* smtp:[host]:port */
	MAP_SENDMAIL_MAILERTABLE /* esmtp:[host]:port */
};

size_t	maps_answer(const struct config *config, const char *request,
	    size_t len, char *out, size_t outlen);
int	maps_route(const struct rule *rule, enum map_kind kind, char *buf,
	    size_t buflen);

#endif
