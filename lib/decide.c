/*
 * decide - the one decision function of milter-relay
 *
 * Interface in decide.h.  The replies themselves (codes, texts, how the
 * recipient is shown in them) belong to reply.c; this module only picks
 * which one.  In log-only mode the would-be reply stays in
 * rcode/xcode/text for the log while outcome says accept.  The reasons
 * are spelled here only, in reason_names[].
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "decide.h"
#include "domain.h"
#include "localmail.h"
#include "netaddr.h"
#include "rcptlist.h"
#include "reply.h"
#include "ruleset.h"

int
client_trusted(const struct policy *policy, const struct client *client)
{
	if (policy == NULL || client == NULL)
		return 0;
	if (client->has_addr &&
	    netlist_contains(policy->trusted_networks, &client->addr))
		return 1;
	if (client->authenticated && policy->trust_authenticated)
		return 1;
	if (!client->has_addr && policy->trust_local_socket)
		return 1;
	return 0;
}

const char *
decision_outcome_name(enum outcome outcome)
{
	switch (outcome) {
	case OUTCOME_ACCEPT:
		return "accept";
	case OUTCOME_REJECT:
		return "reject";
	case OUTCOME_CONTINUE:
		return "continue";
	case OUTCOME_TEMPFAIL:
	default:
		return "tempfail";
	}
}

/* The phrase of every reason: logs, "query" and the metrics' label. */
static const char *const reason_names[DECIDE_REASON_COUNT] = {
	[DECIDE_REASON_RELAY] = "relay rule",
	[DECIDE_REASON_TRUSTED] = "trusted-only rule, trusted client",
	[DECIDE_REASON_UNTRUSTED] = "trusted-only rule, untrusted client",
	[DECIDE_REASON_DENY] = "deny rule",
	[DECIDE_REASON_NO_RULE] = "no rule",
	[DECIDE_REASON_NO_RULE_TRUSTED] = "no rule, trusted client",
	[DECIDE_REASON_LITERAL] = "address literal",
	[DECIDE_REASON_LITERAL_TRUSTED] = "address literal, trusted client",
	[DECIDE_REASON_UNQUALIFIED] = "unqualified address",
	[DECIDE_REASON_UNQUALIFIED_TRUSTED] =
	    "unqualified address, trusted client",
	[DECIDE_REASON_POSTMASTER] = "postmaster",
	[DECIDE_REASON_ROUTING] = "sender-specified routing",
	[DECIDE_REASON_NULL] = "null recipient",
	[DECIDE_REASON_SYNTAX] = "bad address syntax",
	[DECIDE_REASON_ROUTE_MISMATCH] = "route mismatch",
	[DECIDE_REASON_NO_CONFIG] = "no configuration",
	[DECIDE_REASON_NOT_LOADED] = "no configuration loaded",
	[DECIDE_REASON_NO_SESSION] = "no session context",
	[DECIDE_REASON_CANNOT] = "cannot decide",
	[DECIDE_REASON_FINAL] = "MTA final delivery",
	[DECIDE_REASON_OTHER] = "other"
};

/* decide_reason_name - the phrase of a reason */
const char *
decide_reason_name(enum decide_reason reason)
{
	if ((unsigned)reason >= DECIDE_REASON_COUNT)
		reason = DECIDE_REASON_OTHER;
	return reason_names[reason];
}

/* decision_reason - the phrase of a decision for the log */
const char *
decision_reason(const struct decision *d)
{
	if (d->detail != NULL)
		return d->detail;
	return decide_reason_name(d->reason);
}

/* The RCPT TO argument as the client gave it, for replies. */
struct rcpt_arg {
	const char	*text;
	size_t		 len;
};

static void
set_reply(struct decision *d, enum outcome outcome, enum reply_kind kind,
    const struct rcpt_arg *rcpt)
{
	d->outcome = d->enforced = outcome;
	reply_set(d, kind, rcpt != NULL ? rcpt->text : NULL,
	    rcpt != NULL ? rcpt->len : 0);
}

static void
set_reason(struct decision *d, enum decide_reason reason, const char *detail)
{
	d->reason = reason;
	d->detail = detail;
}

static void
set_outcome(struct decision *d, enum outcome outcome,
    enum decide_reason reason)
{
	d->outcome = d->enforced = outcome;
	set_reason(d, reason, NULL);
	reply_clear(d);
}

/* Step 5: no rule lets this client relay here. */
static void
unmatched(const struct config *config, struct decision *d,
    const struct rcpt_arg *rcpt, enum decide_reason reason,
    enum decide_reason trusted_reason)
{
	if (d->trusted) {
		set_outcome(d, OUTCOME_CONTINUE, trusted_reason);
		return;
	}
	set_reason(d, reason, NULL);
	switch (config->policy.unmatched) {
	case UNMATCHED_CONTINUE:
		set_outcome(d, OUTCOME_CONTINUE, reason);
		break;
	case UNMATCHED_TEMPFAIL:
		set_reply(d, OUTCOME_TEMPFAIL, REPLY_DENIED_LATER, rcpt);
		break;
	case UNMATCHED_REJECT:
	default:
		set_reply(d, OUTCOME_REJECT, REPLY_DENIED, rcpt);
		break;
	}
}

/*
 * A name no rule covers, which the MTA delivers itself (its mailer is
 * one of policy.local_mailers): not relaying, left to the MTA, for any
 * client.  1 when it is, 0 otherwise.
 */
static int
final_delivery(const struct config *config, const char *mailer,
    struct decision *d)
{
	if (!localmail_is_local(&config->policy.local_mailers, mailer))
		return 0;
	set_outcome(d, OUTCOME_CONTINUE, DECIDE_REASON_FINAL);
	return 1;
}

/* Steps 3 to 5 for a normalized domain already in d->domain. */
static void
decide_name(const struct config *config, struct decision *d,
    const struct rcpt_arg *rcpt, const char *mailer)
{
	const struct rule	*rule;
	size_t			 name_len, len;

	len = strlen(d->domain);
	rule = ruleset_lookup(config->rules, d->domain, &name_len);
	if (rule == NULL) {
		if (final_delivery(config, mailer, d))
			return;
		unmatched(config, d, rcpt, DECIDE_REASON_NO_RULE,
		    DECIDE_REASON_NO_RULE_TRUSTED);
		return;
	}
	d->rule = rule;
	rule_format_pattern(rule, d->domain + len - name_len, name_len,
	    d->pattern, sizeof(d->pattern));
	switch (rule->relay) {
	case RELAY_ALWAYS:
		set_outcome(d, OUTCOME_ACCEPT, DECIDE_REASON_RELAY);
		break;
	case RELAY_TRUSTED:
		if (d->trusted)
			set_outcome(d, OUTCOME_ACCEPT, DECIDE_REASON_TRUSTED);
		else
			unmatched(config, d, rcpt, DECIDE_REASON_UNTRUSTED,
			    DECIDE_REASON_UNTRUSTED);
		break;
	case RELAY_DENY:
		set_reason(d, DECIDE_REASON_DENY, NULL);
		if (rule->reply != NULL) {
			d->outcome = d->enforced = OUTCOME_REJECT;
			reply_rule(d, rule->reply);
		} else
			set_reply(d, OUTCOME_REJECT, REPLY_DENIED, rcpt);
		break;
	default:
		/* Unknown relay value: fail closed. */
		set_reason(d, DECIDE_REASON_CANNOT, NULL);
		set_reply(d, OUTCOME_TEMPFAIL, REPLY_UNAVAILABLE, NULL);
		break;
	}
}

/* Step 6. */
static void
log_only(const struct config *config, struct decision *d)
{
	if (!config->policy.log_only)
		return;
	if (d->enforced == OUTCOME_REJECT || d->enforced == OUTCOME_TEMPFAIL)
		d->outcome = OUTCOME_ACCEPT;
}

/* The reply for a recipient that does not exist. */
static void
recipient_unknown(const struct config *config, struct decision *d,
    const struct rcpt_arg *rcpt)
{
	d->outcome = d->enforced = OUTCOME_REJECT;
	if (config->verify.unknown_reply != NULL)
		reply_custom(d, config->verify.unknown_reply, rcpt->text,
		    rcpt->len);
	else
		reply_set(d, REPLY_UNKNOWN_USER, rcpt->text, rcpt->len);
}

/* Recipients of an accepting rule: a list, or a callout to come. */
static void
decide_recipients(const struct config *config, const struct address *a,
    struct decision *d, const struct rcpt_arg *rcpt)
{
	if (d->rule == NULL || d->enforced != OUTCOME_ACCEPT)
		return;
	switch (d->rule->recipients) {
	case RECIPIENTS_LIST:
		if (rcptlist_contains(d->rule->rcptlist, a->local, a->domain)) {
			set_reason(d, DECIDE_REASON_OTHER,
			    "listed recipient");
			break;
		}
		set_reason(d, DECIDE_REASON_OTHER, "recipient not listed");
		recipient_unknown(config, d, rcpt);
		break;
	case RECIPIENTS_VERIFY:
		d->verify = 1;
		break;
	default:
		break;
	}
}

void
decide_recipient(const struct config *config, const char *rcpt, size_t len,
    enum recipient_status status, const char *detail, struct decision *d)
{
	struct rcpt_arg	arg;

	d->verify = 0;
	if (config == NULL) {
		decision_fail(d, DECIDE_REASON_NO_CONFIG);
		return;
	}
	arg.text = rcpt;
	arg.len = len;
	switch (status) {
	case RECIPIENT_VALID:
		set_outcome(d, OUTCOME_ACCEPT, DECIDE_REASON_OTHER);
		break;
	case RECIPIENT_INVALID:
		recipient_unknown(config, d, &arg);
		break;
	case RECIPIENT_UNKNOWN:
	default:
		if (config->policy.verify_unknown == VERIFY_UNKNOWN_ACCEPT)
			set_outcome(d, OUTCOME_ACCEPT, DECIDE_REASON_OTHER);
		else
			set_reply(d, OUTCOME_TEMPFAIL, REPLY_UNVERIFIED, &arg);
		break;
	}
	set_reason(d, DECIDE_REASON_OTHER, detail);
	log_only(config, d);
}

/* Steps 1 to 5 for a parsed RCPT TO path. */
static void
decide_address(const struct config *config, const struct address *a,
    struct decision *d, const struct rcpt_arg *rcpt, const char *mailer)
{
	if (a->routing != 0 && !d->trusted) {
		set_reason(d, DECIDE_REASON_ROUTING, NULL);
		set_reply(d, OUTCOME_REJECT, REPLY_ROUTING, rcpt);
		return;
	}
	switch (a->kind) {
	case ADDR_DOMAIN:
		snprintf(d->domain, sizeof(d->domain), "%s", a->domain);
		decide_name(config, d, rcpt, mailer);
		decide_recipients(config, a, d, rcpt);
		break;
	case ADDR_LITERAL:
		snprintf(d->domain, sizeof(d->domain), "%s", a->domain);
		if (final_delivery(config, mailer, d))
			break;
		unmatched(config, d, rcpt, DECIDE_REASON_LITERAL,
		    DECIDE_REASON_LITERAL_TRUSTED);
		break;
	case ADDR_UNQUALIFIED:
		if (final_delivery(config, mailer, d))
			break;
		unmatched(config, d, rcpt, DECIDE_REASON_UNQUALIFIED,
		    DECIDE_REASON_UNQUALIFIED_TRUSTED);
		break;
	case ADDR_POSTMASTER:
		set_outcome(d, OUTCOME_CONTINUE, DECIDE_REASON_POSTMASTER);
		break;
	case ADDR_NULL:
	default:
		set_reason(d, DECIDE_REASON_NULL, NULL);
		set_reply(d, OUTCOME_REJECT, REPLY_SYNTAX, NULL);
		break;
	}
}

/* decision_fail - tempfail, cannot decide */
void
decision_fail(struct decision *d, enum decide_reason reason)
{
	memset(d, 0, sizeof(*d));
	set_reason(d, reason, NULL);
	set_reply(d, OUTCOME_TEMPFAIL, REPLY_UNAVAILABLE, NULL);
}

/* decision_defer - tempfail what was accepted, unless log-only */
void
decision_defer(const struct config *config, struct decision *d,
    enum reply_kind kind, enum decide_reason reason, const char *rcpt,
    size_t len)
{
	d->enforced = OUTCOME_TEMPFAIL;
	set_reason(d, reason, NULL);
	reply_set(d, kind, rcpt, len);
	if (!config->policy.log_only)
		d->outcome = OUTCOME_TEMPFAIL;
}

/* The start of decide() and decide_domain(): 0, or -1 without config. */
static int
decide_begin(const struct config *config, const struct client *client,
    const char *text, struct decision *d)
{
	if (config == NULL || config->rules == NULL || text == NULL) {
		decision_fail(d, DECIDE_REASON_NO_CONFIG);
		return -1;
	}
	decision_fail(d, DECIDE_REASON_CANNOT);
	d->trusted = client_trusted(&config->policy, client);
	return 0;
}

/* Step 1: a recipient that does not parse. */
static void
bad_syntax(struct decision *d, const char *why)
{
	set_reason(d, DECIDE_REASON_SYNTAX, why);
	set_reply(d, OUTCOME_REJECT, REPLY_SYNTAX, NULL);
}

void
decide(const struct config *config, const struct client *client,
    const char *rcpt, size_t len, struct decision *d)
{
	decide_rcpt(config, client, rcpt, len, NULL, d);
}

void
decide_rcpt(const struct config *config, const struct client *client,
    const char *rcpt, size_t len, const char *mailer, struct decision *d)
{
	struct address	 a;
	struct rcpt_arg	 arg;
	const char	*why;

	if (decide_begin(config, client, rcpt, d) == -1)
		return;
	arg.text = rcpt;
	arg.len = len;
	if (address_parse(rcpt, len, &a, &why) == -1)
		bad_syntax(d, why);
	else
		decide_address(config, &a, d, &arg, mailer);
	log_only(config, d);
}

void
decide_domain(const struct config *config, const struct client *client,
    const char *domain, struct decision *d)
{
	struct rcpt_arg	 arg;
	const char	*why;

	if (decide_begin(config, client, domain, d) == -1)
		return;
	arg.text = domain;
	arg.len = strlen(domain);
	if (domain_normalize(domain, arg.len, d->domain, &why) == -1) {
		d->domain[0] = '\0';
		bad_syntax(d, why);
	} else
		decide_name(config, d, &arg, NULL);
	log_only(config, d);
}

/*
 * The recipient check of a map key's local part key[0..n), as the MTA
 * resolved it (unquoted).  An over-long one is checked as the empty local
 * part: only a whole-domain entry lists it, and no callout can ask it.
 */
static void
key_recipients(const struct config *config, const char *key, size_t n,
    struct decision *d, const struct rcpt_arg *rcpt)
{
	struct address	a;

	memset(&a, 0, sizeof(a));
	a.kind = ADDR_DOMAIN;
	if (n <= LOCAL_MAX)
		memcpy(a.local, key, n);
	snprintf(a.domain, sizeof(a.domain), "%s", d->domain);
	decide_recipients(config, &a, d, rcpt);
}

void
decide_key(const struct config *config, const struct client *client,
    const char *key, size_t len, struct decision *d)
{
	struct rcpt_arg	 arg;
	const char	*at, *why;

	if (decide_begin(config, client, key, d) == -1)
		return;
	arg.text = key;
	arg.len = len;
	for (at = key + len; at > key && at[-1] != '@'; at--)
		;
	if (domain_normalize(at, len - (size_t)(at - key), d->domain,
	    &why) == -1) {
		d->domain[0] = '\0';
		bad_syntax(d, why);
	} else {
		decide_name(config, d, &arg, NULL);
		if (at > key)
			key_recipients(config, key, (size_t)(at - 1 - key), d,
			    &arg);
	}
	log_only(config, d);
}
