/*
 * decide - the one decision function of milter-relay
 *
 * Every face of the daemon (milter RCPT callback, socketmap server,
 * exporter, "milter-relay query") asks these functions and nothing else
 * decides whether a recipient may be relayed.
 *
 * decide() applies the relay rules to one RCPT TO argument:
 *	1. parse the path: syntax error -> reject 501 5.1.3;
 *	2. sender-specified routing from an untrusted client -> 554 5.7.1;
 *	3. address literals and unmatched names are unmatched; unqualified
 *	   addresses are unmatched except postmaster, which continues;
 *	4. always -> accept; trusted -> accept if trusted, else unmatched;
 *	   deny -> reject with the rule's reply (default 554 5.7.1);
 *	5. unmatched: trusted -> continue; else the unmatched policy;
 *	6. log-only mode turns every reject/tempfail into accept, keeping
 *	   the would-be outcome in d->enforced for the log.
 * A NULL config, or any internal failure, yields tempfail 451 4.7.1:
 * never accept when unsure.  The replies are reply.c's.
 *
 * decide_rcpt() is decide() for a recipient the MTA resolved to the
 * delivery agent mailer ({rcpt_mailer}; NULL when the MTA did not say):
 * a recipient that no rule covers (a name without rule, an address
 * literal, an unqualified address) whose mailer is in
 * policy.local_mailers is mail the MTA delivers itself: continue, reason
 * DECIDE_REASON_FINAL, for every client.  A
 * covering rule decides as always, and sender-specified routing from an
 * untrusted client is refused first.  decide() is decide_rcpt() without
 * a mailer.
 *
 * decide_key() is decide_domain() for a map key "local@domain" (the
 * domain after the last '@') or "domain", the key shown in the reply as
 * decide() shows a recipient.  A key with a local part (as the MTA
 * resolved it: unquoted) also gets the recipient check of its rule, as
 * decide() does (below); an over-long local part is checked as the
 * empty one (only a whole-domain entry lists it).
 *
 * decide_domain() is steps 3-6 for a domain that is already normalized
 * (the socketmap server's keys).  Both fill *d completely; d->pattern
 * is the matched rule's pattern ("" when none).  decision_outcome_name()
 * gives "accept", "reject", "tempfail", "continue".
 *
 * Reasons: d->reason says why, as an enum decide_reason; the metrics
 * count by it.  decide_reason_name() is its phrase ("relay rule", "no
 * rule", ...), the one spelling of it: the log lines, "milter-relay
 * query" and the metrics' reason label all show it.  d->detail, when
 * not NULL, is a static phrase that says more than the reason and that
 * the log shows instead: the address parser's message for
 * DECIDE_REASON_SYNTAX, the recipient check's result ("listed
 * recipient", a callout's answer) for DECIDE_REASON_OTHER.
 * decision_reason() is the phrase of a decision for the log: d->detail,
 * else the reason's name.
 *
 * decision_fail() makes *d the tempfail of a decision that could not be
 * made, for reason.  decision_defer() turns an accepted decision into a
 * tempfail for reason with the reply of kind for rcpt (the route
 * check), unless the config is log-only, where only d->enforced
 * changes.
 *
 * Recipients (every client alike: it is about existing users, not relay
 * permission): when an accepting rule has recipients = "list", decide()
 * rejects an address its list lacks with the unknown-user reply
 * (REPLY_UNKNOWN_USER, or verify.unknown_reply); with recipients =
 * "verify" it sets d->verify and leaves the accept: the caller asks the
 * next hop (verify module) and then calls decide_recipient() with what it
 * learned, which turns the decision into accept (valid), the unknown-user
 * reply (invalid), or for unknown the verify_unknown policy: tempfail
 * (REPLY_UNVERIFIED) or accept.  The reason is then DECIDE_REASON_OTHER
 * with detail (a static phrase for the log) as its d->detail.
 *
 * A NULL client is an untrusted one (no address, not authenticated):
 * the socketmap server and the exporter ask for any client.
 *
 * client_trusted() is 1 when the client is in trusted_networks, or
 * authenticated with trust_authenticated, or a unix-socket client with
 * trust_local_socket.
 */
#ifndef MR_DECIDE_H
#define MR_DECIDE_H

#include "address.h"
#include "config.h"
#include "netaddr.h"
#include "reply.h"
#include "ruleset.h"

enum outcome {
	OUTCOME_ACCEPT,
	OUTCOME_REJECT,
	OUTCOME_TEMPFAIL,
	OUTCOME_CONTINUE
};

struct client {
	int		has_addr;	/* 0: unix socket or unknown */
	struct netaddr	addr;
	int		authenticated;	/* {auth_authen} was non-empty */
};

/* Why; decide_reason_name() spells each. */
enum decide_reason {
	DECIDE_REASON_RELAY,		/* an "always" rule */
	DECIDE_REASON_TRUSTED,		/* a "trusted" rule, trusted client */
	DECIDE_REASON_UNTRUSTED,	/* a "trusted" rule, untrusted one */
	DECIDE_REASON_DENY,
	DECIDE_REASON_NO_RULE,
	DECIDE_REASON_NO_RULE_TRUSTED,
	DECIDE_REASON_LITERAL,		/* an address literal */
	DECIDE_REASON_LITERAL_TRUSTED,
	DECIDE_REASON_UNQUALIFIED,
	DECIDE_REASON_UNQUALIFIED_TRUSTED,
	DECIDE_REASON_POSTMASTER,
	DECIDE_REASON_ROUTING,		/* sender-specified routing */
	DECIDE_REASON_NULL,		/* the null recipient <> */
	DECIDE_REASON_SYNTAX,		/* detail: the parser's message */
	DECIDE_REASON_ROUTE_MISMATCH,	/* decision_defer(), route check */
	DECIDE_REASON_NO_CONFIG,
	DECIDE_REASON_NOT_LOADED,	/* the daemon has no rule set yet */
	DECIDE_REASON_NO_SESSION,	/* the milter lost its context */
	DECIDE_REASON_CANNOT,		/* internal failure */
	DECIDE_REASON_FINAL,		/* decide_rcpt(): the MTA's own */
	DECIDE_REASON_OTHER,		/* detail: a recipient check's result */
	DECIDE_REASON_COUNT
};

struct decision {
	enum outcome	outcome;	/* what the MTA is told */
	enum outcome	enforced;	/* what enforce mode would say */
	int		trusted;
	const struct rule *rule;	/* NULL when unmatched */
	char		pattern[PATTERN_MAX + 1];
	char		domain[DOMAIN_MAX + 1];	/* normalized, "" if none */
	enum decide_reason reason;
	const char	*detail;	/* static, or NULL */
	/* SMTP reply for reject/tempfail; empty strings otherwise */
	char		rcode[REPLY_CODE_SIZE];	/* "554" */
	char		xcode[REPLY_XCODE_SIZE];	/* "5.7.1" */
	char		text[REPLY_MAX + 1];	/* "<u@x>: Relay access denied" */
	int		verify;		/* the rule wants a callout */
};

enum recipient_status {
	RECIPIENT_VALID,	/* listed, or the next hop said 2xx */
	RECIPIENT_INVALID,	/* not listed, or 5xx */
	RECIPIENT_UNKNOWN	/* no answer, 4xx, ... */
};

int	client_trusted(const struct policy *policy,
	    const struct client *client);
void	decide(const struct config *config, const struct client *client,
	    const char *rcpt, size_t len, struct decision *d);
void	decide_rcpt(const struct config *config,
	    const struct client *client, const char *rcpt, size_t len,
	    const char *mailer, struct decision *d);
void	decide_key(const struct config *config, const struct client *client,
	    const char *key, size_t len, struct decision *d);
void	decide_domain(const struct config *config,
	    const struct client *client, const char *domain,
	    struct decision *d);
void	decide_recipient(const struct config *config, const char *rcpt,
	    size_t len, enum recipient_status status, const char *detail,
	    struct decision *d);
const char *decision_outcome_name(enum outcome outcome);
const char *decide_reason_name(enum decide_reason reason);
const char *decision_reason(const struct decision *d);
void	decision_fail(struct decision *d, enum decide_reason reason);
void	decision_defer(const struct config *config, struct decision *d,
	    enum reply_kind kind, enum decide_reason reason, const char *rcpt,
	    size_t len);

#endif
