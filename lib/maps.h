/*
 * maps - answers of the socketmap server, from the rule set
 *
 * maps_answer() answers one socketmap request "NAME KEY" (the payload of
 * one netstring) and writes the reply payload into out:
 *
 *	relay		"OK RELAY" when any client may relay to the key's
 *			domain (an "always" rule covers it), else "NOTFOUND "
 *	transport	"OK transport:[host]:port,..." (Postfix syntax,
 *			a list of next hops for failover) when the covering
 *			relayed rule names smart hosts
 *	mailertable	"OK esmtp:[host]:..." (Sendmail syntax), same rule; a
 *			port selects the mailer "esmtpPORT" (mailertable has
 *			no port field; contrib/sendmail defines the mailer);
 *			"TEMP reason" for lists Sendmail cannot express
 *			(hops on different ports), which defers the mail
 *	access		Postfix check_recipient_access, a key without a
 *			Sendmail tag (the full address): "OK 550 5.7.1
 *			text", the reply of the deny rule that covers the
 *			domain, as the milter gives it (not in log-only
 *			mode); "NOTFOUND " for everything else.
 *			Sendmail, tagged keys: "OK RELAY" for "To:domain"
 *			keys any client may relay to, "OK SKIP" when not
 *			but a parent would be (stops Sendmail's own walk up
 *			to the parents); "TLS_Srv:server" keys Sendmail's
 *			TLS requirement ("OK ENCR:112", "OK VERIFY+CN",
 *			tlspolicy.c); other tags "NOTFOUND "
 *	rcpt		Postfix maps-only mode (check_recipient_access
 *			before permit_mynetworks, no milter): the full
 *			address, decided once by decide_key() with the
 *			recipient check of its rule; "OK OK" when any
 *			client may relay to it (an "always" rule covers its
 *			domain, and its recipients check passed) and its
 *			local part has no '%', '!' or '@'; "OK 550 5.1.1
 *			..." for a user a recipients "list" rule does not
 *			list, or a callout refused (as the milter); "OK
 *			450 4.1.1 ..." for one no callout could verify
 *			(policy.verify_unknown); a deny rule's reply as for
 *			access, also in log-only mode (Postfix's
 *			warn_if_reject does log-only there); else
 *			"NOTFOUND ".  A recipients "verify" rule's address
 *			is pending (maps_pending()): the caller makes the
 *			callout on a->decision and calls maps_settle();
 *			unsettled, it is answered as unverified.  A key
 *			with sender-specified routing gets no callout.
 *	tls		"OK level [match=...]" for a next hop as Postfix's
 *			smtp_tls_policy_maps looks it up ("[host]:port",
 *			"[host]", "host:port", "host"; tlspolicy.c)
 *	recipients	for Postfix relay_recipient_maps: "OK valid" for
 *			"user@domain" and "@domain" keys of a domain any
 *			client may relay to, when its rule accepts every
 *			user (recipients "any") or verifies them itself
 *			(recipients "verify", the milter's callout); for a
 *			recipients "list" rule only the keys its
 *			recipients_file lists ("@domain" only with a
 *			whole-domain entry); else "NOTFOUND "
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
 * only asks and formats.
 *
 * The answer is typed (struct map_answer: a status and a value or a
 * reason); only maps_format() writes the protocol words OK, NOTFOUND,
 * TEMP and PERM:
 *
 * maps_parse() parses a request "NAME KEY" (the payload of one
 * netstring; maps_name_parse() knows the names, maps_name() spells one,
 * NULL out of range) into *r: 0, or -1 with the PERM answer in *a.
 * maps_lookup() answers key[0..len) in one map.  maps_request() is
 * maps_parse() and maps_lookup().  maps_format() writes "STATUS text"
 * into out, truncated to fit, and returns its length.  maps_answer() is
 * maps_request() and maps_format() in one call.
 *
 * maps_decided() is maps_lookup()'s answer in MAP_RELAY,
 * MAP_POSTFIX_TRANSPORT or MAP_SENDMAIL_MAILERTABLE for a domain whose
 * decide_domain() found rule (NULL: none) with enforced outcome: the
 * exporter decides a name once for all its tables and asks this.
 *
 * maps_route() formats the route of a rule for MAP_POSTFIX_TRANSPORT or
 * MAP_SENDMAIL_MAILERTABLE with nexthop_route() (nexthop.c has the
 * syntaxes): 0 and the value in buf, or -1 when the rule names no smart
 * host or Sendmail cannot express its list.  The exporter and the milter's route check use it
 * too.
 */
#ifndef MR_MAPS_H
#define MR_MAPS_H

#include <stddef.h>

#include "config.h"
#include "decide.h"
#include "ruleset.h"

#define MAPS_ANSWER_MAX	1024

/* Values of the relay and access maps, and of the tables export writes. */
#define MAPS_VALUE_RELAY	"RELAY"	/* relay and access: relayed */
#define MAPS_VALUE_SKIP		"SKIP"	/* access: not, stop the search */
#define MAPS_VALUE_NOCHANGE	":"	/* transport: "do not change" */
#define MAPS_VALUE_VALID	"valid"	/* recipients: a user (not read) */

enum map_name {
	MAP_RELAY,			/* "relay": OK RELAY */
	MAP_POSTFIX_TRANSPORT,		/* "transport": smtp:[host]:port */
	MAP_SENDMAIL_MAILERTABLE,	/* "mailertable": esmtpPORT:[host] */
	MAP_SENDMAIL_ACCESS,		/* "access": OK RELAY, OK SKIP */
	MAP_POSTFIX_RCPT,		/* "rcpt": OK OK, OK 550 ... */
	MAP_RECIPIENTS,			/* "recipients": OK valid */
	MAP_POSTFIX_TLS			/* "tls": OK encrypt */
};
#define MAP_NAMES	7		/* values of enum map_name */

/* The rcpt map's value for names any client may relay to (access(5)). */
#define MAPS_VALUE_PERMIT	"OK"

enum map_status {
	MAP_OK,
	MAP_NOTFOUND,
	MAP_TEMP,		/* try again later */
	MAP_PERM		/* a bad request */
};

struct map_answer {
	enum map_status	status;
	const char	*why;			/* TEMP, PERM: static */
	char		value[MAPS_ANSWER_MAX];	/* OK */
	/* The rcpt map only (decided): the decision, what Postfix is told. */
	int		decided;
	struct decision	decision;
	enum outcome	outcome;	/* accept (OK OK), reject, tempfail
					   (a reply or TEMP), continue */
};

/* One parsed request: the map and its key (inside the request). */
struct map_request {
	enum map_name	 map;
	const char	*key;
	size_t		 len;
};

int	maps_name_parse(const char *name, size_t len, enum map_name *out);
const char *maps_name(enum map_name map);
int	maps_parse(const char *request, size_t len, struct map_request *r,
	    struct map_answer *a);
void	maps_lookup(const struct config *config, enum map_name map,
	    const char *key, size_t len, struct map_answer *a);
void	maps_decided(enum map_name map, const struct rule *rule,
	    enum outcome enforced, struct map_answer *a);
int	maps_pending(const struct map_answer *a);
void	maps_settle(const struct config *config, const char *key,
	    size_t len, struct map_answer *a);
void	maps_request(const struct config *config, const char *request,
	    size_t len, struct map_answer *a);
size_t	maps_format(const struct map_answer *a, char *out, size_t outlen);
size_t	maps_answer(const struct config *config, const char *request,
	    size_t len, char *out, size_t outlen);
int	maps_route(const struct rule *rule, enum map_name map, char *buf,
	    size_t buflen);

#endif
