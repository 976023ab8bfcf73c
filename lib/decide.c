/*
 * decide - the one decision function of milter-relay
 *
 * Interface in decide.h; the steps are DESIGN.md section 1.  Replies:
 *
 *	syntax error		501 5.1.3 Bad recipient address syntax
 *	sender routing		554 5.7.1 <ADDR>: Sender-specified routing is
 *				not allowed
 *	unmatched, reject	554 5.7.1 <ADDR>: Relay access denied
 *	unmatched, tempfail	451 4.7.1 <ADDR>: Relay access temporarily
 *				denied, try again later
 *	deny rule		its reply, or 554 5.7.1 <ADDR>: Relay access
 *				denied
 *	cannot decide		451 4.7.1 Relay decision unavailable, try
 *				again later
 *
 * ADDR is the recipient as the client gave it, without spaces and angle
 * brackets around it, cut at ADDR_SHOW_MAX octets, with every octet that
 * is not printable ASCII, and '%' (a format character to libmilter),
 * shown as '?'.  So d->text is always printable ASCII without '%'.  In
 * log-only mode the would-be reply stays in rcode/xcode/text for the log
 * while outcome says accept.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "decide.h"
#include "domain.h"
#include "localmail.h"
#include "netaddr.h"
#include "ruleset.h"

#define ADDR_SHOW_MAX	256

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

/* The recipient as shown in replies, see above. */
static void
show_address(const char *rcpt, size_t len, char *out, size_t outlen)
{
	size_t	i, n;
	int	c;

	while (len > 0 && (*rcpt == ' ' || *rcpt == '\t')) {
		rcpt++;
		len--;
	}
	while (len > 0 && (rcpt[len - 1] == ' ' || rcpt[len - 1] == '\t'))
		len--;
	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>') {
		rcpt++;
		len -= 2;
	}
	if (len > ADDR_SHOW_MAX)
		len = ADDR_SHOW_MAX;
	for (i = n = 0; i < len && n + 1 < outlen; i++) {
		c = (unsigned char)rcpt[i];
		out[n++] = c > 0x20 && c < 0x7f && c != '%' ? (char)c : '?';
	}
	if (outlen > 0)
		out[n] = '\0';
}

static void
set_reply(struct decision *d, enum outcome outcome, const char *rcode,
    const char *xcode, const char *show, const char *text)
{
	d->outcome = d->enforced = outcome;
	snprintf(d->rcode, sizeof(d->rcode), "%s", rcode);
	snprintf(d->xcode, sizeof(d->xcode), "%s", xcode);
	if (show != NULL)
		snprintf(d->text, sizeof(d->text), "<%s>: %s", show, text);
	else
		snprintf(d->text, sizeof(d->text), "%s", text);
}

static void
set_outcome(struct decision *d, enum outcome outcome, const char *reason)
{
	d->outcome = d->enforced = outcome;
	d->reason = reason;
	d->rcode[0] = d->xcode[0] = d->text[0] = '\0';
}

static void
decision_init(struct decision *d)
{
	memset(d, 0, sizeof(*d));
	d->rule = NULL;
	d->outcome = d->enforced = OUTCOME_TEMPFAIL;
	d->reason = "cannot decide";
	set_reply(d, OUTCOME_TEMPFAIL, "451", "4.7.1", NULL,
	    "Relay decision unavailable, try again later");
}

/* A deny rule's own reply, "ddd x.y.z text", checked at load. */
static void
deny_reply(struct decision *d, const char *reply)
{
	const char	*sp;
	size_t		 n;

	d->outcome = d->enforced = OUTCOME_REJECT;
	memcpy(d->rcode, reply, 3);
	d->rcode[3] = '\0';
	reply += 4;
	sp = strchr(reply, ' ');
	n = sp == NULL ? strlen(reply) : (size_t)(sp - reply);
	if (n >= sizeof(d->xcode))
		n = sizeof(d->xcode) - 1;
	memcpy(d->xcode, reply, n);
	d->xcode[n] = '\0';
	snprintf(d->text, sizeof(d->text), "%s", sp == NULL ? "" : sp + 1);
}

/* Step 5: no rule lets this client relay here. */
static void
unmatched(const struct config *config, struct decision *d,
    const char *show, const char *reason, const char *trusted_reason)
{
	if (d->trusted) {
		set_outcome(d, OUTCOME_CONTINUE, trusted_reason);
		return;
	}
	d->reason = reason;
	switch (config->policy.unmatched) {
	case UNMATCHED_CONTINUE:
		set_outcome(d, OUTCOME_CONTINUE, reason);
		break;
	case UNMATCHED_TEMPFAIL:
		set_reply(d, OUTCOME_TEMPFAIL, "451", "4.7.1", show,
		    "Relay access temporarily denied, try again later");
		break;
	case UNMATCHED_REJECT:
	default:
		set_reply(d, OUTCOME_REJECT, "554", "5.7.1", show,
		    "Relay access denied");
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
    const char *show, const char *mailer)
{
	const struct rule	*rule;
	size_t			 name_len, len;

	len = strlen(d->domain);
	rule = ruleset_lookup(config->rules, d->domain, &name_len);
	if (rule == NULL) {
		if (final_delivery(config, mailer, d))
			return;
		unmatched(config, d, show, "no rule", "no rule, trusted client");
		return;
	}
	d->rule = rule;
	rule_format_pattern(rule, d->domain + len - name_len, name_len,
	    d->pattern, sizeof(d->pattern));
	switch (rule->relay) {
	case RELAY_ALWAYS:
		set_outcome(d, OUTCOME_ACCEPT, "relay rule");
		break;
	case RELAY_TRUSTED:
		if (d->trusted)
			set_outcome(d, OUTCOME_ACCEPT,
			    "trusted-only rule, trusted client");
		else
			unmatched(config, d, show,
			    "trusted-only rule, untrusted client", "");
		break;
	case RELAY_DENY:
		d->reason = "deny rule";
		if (rule->reply != NULL)
			deny_reply(d, rule->reply);
		else
			set_reply(d, OUTCOME_REJECT, "554", "5.7.1", show,
			    "Relay access denied");
		break;
	default:
		/* Unknown relay value: fail closed. */
		d->reason = "cannot decide";
		set_reply(d, OUTCOME_TEMPFAIL, "451", "4.7.1", NULL,
		    "Relay decision unavailable, try again later");
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

/* Steps 1 to 5 for a parsed RCPT TO path. */
static void
decide_address(const struct config *config, const struct address *a,
    struct decision *d, const char *show, const char *mailer)
{
	if (a->routing != 0 && !d->trusted) {
		d->reason = "sender-specified routing";
		set_reply(d, OUTCOME_REJECT, "554", "5.7.1", show,
		    "Sender-specified routing is not allowed");
		return;
	}
	switch (a->kind) {
	case ADDR_DOMAIN:
		snprintf(d->domain, sizeof(d->domain), "%s", a->domain);
		decide_name(config, d, show, mailer);
		break;
	case ADDR_LITERAL:
		snprintf(d->domain, sizeof(d->domain), "%s", a->domain);
		if (final_delivery(config, mailer, d))
			break;
		unmatched(config, d, show, "address literal",
		    "address literal, trusted client");
		break;
	case ADDR_UNQUALIFIED:
		if (final_delivery(config, mailer, d))
			break;
		unmatched(config, d, show, "unqualified address",
		    "unqualified address, trusted client");
		break;
	case ADDR_POSTMASTER:
		set_outcome(d, OUTCOME_CONTINUE, "postmaster");
		break;
	case ADDR_NULL:
	default:
		d->reason = "null recipient";
		set_reply(d, OUTCOME_REJECT, "501", "5.1.3", NULL,
		    "Bad recipient address syntax");
		break;
	}
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
	const char	*why;
	char		 show[ADDR_SHOW_MAX + 1];

	decision_init(d);
	if (config == NULL || config->rules == NULL || rcpt == NULL) {
		d->reason = "no configuration";
		return;
	}
	d->trusted = client_trusted(&config->policy, client);
	show_address(rcpt, len, show, sizeof(show));
	if (address_parse(rcpt, len, &a, &why) == -1) {
		d->reason = why;
		set_reply(d, OUTCOME_REJECT, "501", "5.1.3", NULL,
		    "Bad recipient address syntax");
	} else
		decide_address(config, &a, d, show, mailer);
	log_only(config, d);
}

void
decide_domain(const struct config *config, const struct client *client,
    const char *domain, struct decision *d)
{
	const char	*why;
	char		 show[ADDR_SHOW_MAX + 1];

	decision_init(d);
	if (config == NULL || config->rules == NULL || domain == NULL) {
		d->reason = "no configuration";
		return;
	}
	d->trusted = client_trusted(&config->policy, client);
	show_address(domain, strlen(domain), show, sizeof(show));
	if (domain_normalize(domain, strlen(domain), d->domain, &why) == -1) {
		d->domain[0] = '\0';
		d->reason = why;
		set_reply(d, OUTCOME_REJECT, "501", "5.1.3", NULL,
		    "Bad recipient address syntax");
	} else
		decide_name(config, d, show, NULL);
	log_only(config, d);
}

void
decide_key(const struct config *config, const struct client *client,
    const char *key, size_t len, struct decision *d)
{
	const char	*at, *why;
	char		 show[ADDR_SHOW_MAX + 1];

	decision_init(d);
	if (config == NULL || config->rules == NULL || key == NULL) {
		d->reason = "no configuration";
		return;
	}
	d->trusted = client_trusted(&config->policy, client);
	show_address(key, len, show, sizeof(show));
	for (at = key + len; at > key && at[-1] != '@'; at--)
		;
	if (domain_normalize(at, len - (size_t)(at - key), d->domain,
	    &why) == -1) {
		d->domain[0] = '\0';
		d->reason = why;
		set_reply(d, OUTCOME_REJECT, "501", "5.1.3", NULL,
		    "Bad recipient address syntax");
	} else
		decide_name(config, d, show, NULL);
	log_only(config, d);
}
