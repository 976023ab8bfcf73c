/*
 * maps - answers of the socketmap server, from the rule set
 *
 * maps_request() parses one socketmap request "NAME KEY", finds the domain
 * of the key, asks decide_domain() about it (as an untrusted client) and
 * answers for the map asked (see maps.h); maps_format() is the one place
 * that writes the protocol words.  maps_route() turns a rule's smart host
 * into a Postfix transport(5) or Sendmail mailertable value:
 *
 *	smarthost		transport		mailertable
 *	mail.example.org	smtp:[mail.example.org]	esmtp:[mail.example.org]
 *	mx:example.net		smtp:example.net	esmtp:example.net
 *	192.0.2.7, [192.0.2.7]	smtp:[192.0.2.7]	esmtp:[192.0.2.7]
 *	[2001:db8::7]		smtp:[2001:db8::7]	esmtp:[IPv6:2001:db8::7]
 *	any of them with :2525	smtp:[...]:2525		esmtp2525:[...]
 *
 * Postfix takes "[host]:port" as next hop, also for IPv6 addresses
 * ("[2001:db8::7]:25"; the "[ipv6:...]" form is for SMTP address
 * literals, not next hops).  Sendmail's mailertable has no port field: a
 * port selects a mailer named "esmtpPORT" that contrib/sendmail defines
 * with "A=TCP $h PORT".  The transport name (default "smtp") is Postfix
 * only; Sendmail always gets esmtp.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "domain.h"
#include "maps.h"
#include "rcptlist.h"
#include "nexthop.h"
#include "tlspolicy.h"

/* The protocol words of Postfix socketmap and Sendmail socket maps. */
#define MAPS_PROT_OK		"OK"
#define MAPS_PROT_NOTFOUND	"NOTFOUND"
#define MAPS_PROT_TEMP		"TEMP"
#define MAPS_PROT_PERM		"PERM"

static int	maps_key_domain(enum map_name map, const char *key,
		    size_t len, char *domain);
static void	maps_answer_init(struct map_answer *a);
static int	maps_relays(const struct rule *rule, enum outcome enforced);
static int	maps_relayed(const struct config *config, const char *domain);
static int	maps_sendmail_tag(const char *key, size_t len);
static void	maps_access_postfix(const struct config *config,
		    const char *key, size_t len, struct map_answer *a);
static void	maps_rcpt(const struct config *config, const char *key,
		    size_t len, struct map_answer *a);
static void	maps_rcpt_answer(const struct config *config,
		    const char *key, size_t len, const struct decision *d,
		    struct map_answer *a);
static void	maps_reply(const struct decision *d, struct map_answer *a);
static int	maps_routed(const char *key, size_t len);
static void	maps_tls(const struct config *config, enum map_name map,
		    const char *key, size_t len, struct map_answer *a);
static int	maps_recipient(const struct config *config, const char *key,
		    size_t len, const char *domain);

static const char *const map_names[] = {
	[MAP_RELAY] = "relay",
	[MAP_POSTFIX_TRANSPORT] = "transport",
	[MAP_SENDMAIL_MAILERTABLE] = "mailertable",
	[MAP_SENDMAIL_ACCESS] = "access",
	[MAP_POSTFIX_RCPT] = "rcpt",
	[MAP_RECIPIENTS] = "recipients",
	[MAP_POSTFIX_TLS] = "tls",
};
_Static_assert(sizeof(map_names) / sizeof(map_names[0]) == MAP_NAMES,
    "MAP_NAMES is the number of map names");

/* A list whose hops have several ports: one mailer a route in Sendmail. */
#define MAPS_NO_ROUTE	"smart hosts on different ports: no mailertable route"

/* Why the rcpt map has no answer yet, or settled a callout it did not make. */
#define MAPS_NO_CONFIG	"no rule set loaded"
#define MAPS_NO_CALLOUT	"no callout made"

/* Sendmail's tls_server ruleset looks TLS_Srv:server up in the access map. */
#define TLS_SRV		"TLS_Srv:"
#define TLS_SRV_LEN	8

/* maps_answer - one request, answered in protocol words */
size_t
maps_answer(const struct config *config, const char *request, size_t len,
    char *out, size_t outlen)
{
	struct map_answer a;

	maps_request(config, request, len, &a);
	return maps_format(&a, out, outlen);
}

/* maps_request - parse "NAME KEY" and look it up */
void
maps_request(const struct config *config, const char *request, size_t len,
    struct map_answer *a)
{
	struct map_request r;

	if (maps_parse(request, len, &r, a) == 0)
		maps_lookup(config, r.map, r.key, r.len, a);
}

/* maps_parse - "NAME KEY" into r: 0, or -1 and a PERM answer in a */
int
maps_parse(const char *request, size_t len, struct map_request *r,
    struct map_answer *a)
{
	const char	*space;
	size_t		 namelen;

	a->status = MAP_PERM;
	a->value[0] = '\0';
	a->decided = 0;
	a->outcome = OUTCOME_TEMPFAIL;
	if (memchr(request, '\0', len) != NULL) {
		a->why = "NUL in request";
		return -1;
	}
	space = memchr(request, ' ', len);
	if (space == NULL || space == request || space + 1 == request + len) {
		a->why = "malformed request (want NAME KEY)";
		return -1;
	}
	namelen = (size_t)(space - request);
	if (maps_name_parse(request, namelen, &r->map) == -1) {
		a->why = "unknown map name";
		return -1;
	}
	r->key = space + 1;
	r->len = len - namelen - 1;
	return 0;
}

/* maps_answer_ok - MAP_OK with value */
static void
maps_answer_ok(struct map_answer *a, const char *value)
{
	a->status = MAP_OK;
	a->why = NULL;
	snprintf(a->value, sizeof(a->value), "%s", value);
}

/* maps_answer_init - NOTFOUND, undecided */
static void
maps_answer_init(struct map_answer *a)
{
	a->status = MAP_NOTFOUND;
	a->why = NULL;
	a->value[0] = '\0';
	a->decided = 0;
	a->outcome = OUTCOME_CONTINUE;
}

/*
 * maps_decided - the relay, transport or mailertable answer for a domain
 * whose decision found rule with enforced outcome
 */
void
maps_decided(enum map_name map, const struct rule *rule,
    enum outcome enforced, struct map_answer *a)
{
	maps_answer_init(a);
	if (map == MAP_RELAY) {
		if (maps_relays(rule, enforced))
			maps_answer_ok(a, MAPS_VALUE_RELAY);
		return;
	}
	/*
	 * Routes for the rules that may relay at all (always or trusted):
	 * trusted clients' mail to a trusted rule's domain must take its
	 * smart host too.  Deny rules have no route.
	 */
	if ((map != MAP_POSTFIX_TRANSPORT && map != MAP_SENDMAIL_MAILERTABLE) ||
	    rule == NULL || rule->relay == RELAY_DENY ||
	    rule->smarthost == NULL)
		return;
	if (maps_route(rule, map, a->value, sizeof(a->value)) == 0)
		a->status = MAP_OK;
	else {
		a->value[0] = '\0';
		a->status = MAP_TEMP;
		a->why = MAPS_NO_ROUTE;
	}
}

/* maps_lookup - the answer of one map for one key */
void
maps_lookup(const struct config *config, enum map_name map, const char *key,
    size_t len, struct map_answer *a)
{
	const char	*parent;
	struct decision	 d;
	char		 domain[DOMAIN_MAX + 1];

	maps_answer_init(a);
	if (map == MAP_POSTFIX_RCPT) {
		maps_rcpt(config, key, len, a);
		return;
	}
	if (config == NULL) {
		a->status = MAP_TEMP;
		a->why = MAPS_NO_CONFIG;
		return;
	}
	if (map == MAP_POSTFIX_TLS || (map == MAP_SENDMAIL_ACCESS &&
	    len > TLS_SRV_LEN && strncasecmp(key, TLS_SRV, TLS_SRV_LEN) == 0)) {
		maps_tls(config, map, key, len, a);
		return;
	}
	if (map == MAP_SENDMAIL_ACCESS && !maps_sendmail_tag(key, len)) {
		maps_access_postfix(config, key, len, a);
		return;
	}
	if (maps_key_domain(map, key, len, domain) == -1)
		return;

	switch (map) {
	case MAP_RELAY:
	case MAP_POSTFIX_TRANSPORT:
	case MAP_SENDMAIL_MAILERTABLE:
		decide_domain(config, NULL, domain, &d);
		maps_decided(map, d.rule, d.enforced, a);
		break;
	case MAP_SENDMAIL_ACCESS:
		if (maps_relayed(config, domain)) {
			maps_answer_ok(a, MAPS_VALUE_RELAY);
			break;
		}
		/*
		 * Sendmail walks up to the parents itself after NOTFOUND:
		 * stop it with SKIP when a parent would say RELAY.
		 */
		for (parent = strchr(domain, '.'); parent != NULL;
		    parent = strchr(parent + 1, '.'))
			if (maps_relayed(config, parent + 1)) {
				maps_answer_ok(a, MAPS_VALUE_SKIP);
				break;
			}
		break;
	case MAP_RECIPIENTS:
		if (maps_recipient(config, key, len, domain))
			maps_answer_ok(a, MAPS_VALUE_VALID);
		break;
	case MAP_POSTFIX_RCPT:
	case MAP_POSTFIX_TLS:
		break;			/* answered above */
	}
}

/*
 * The TLS policy of a next hop: Postfix's key (map tls) or Sendmail's
 * "TLS_Srv:server" (map access), from the table tlspolicy.c built.
 */
static void
maps_tls(const struct config *config, enum map_name map, const char *key,
    size_t len, struct map_answer *a)
{
	int	rc;

	if (map == MAP_POSTFIX_TLS)
		rc = tlspolicy_postfix(config->tls, key, len, a->value,
		    sizeof(a->value));
	else
		rc = tlspolicy_sendmail(config->tls, key + TLS_SRV_LEN,
		    len - TLS_SRV_LEN, a->value, sizeof(a->value));
	if (rc == 1)
		a->status = MAP_OK;
	else {
		a->value[0] = '\0';
		if (rc == -1) {
			a->status = MAP_TEMP;
			a->why = "TLS policy too long";
		}
	}
}

/* maps_format - "STATUS text", truncated to fit; returns its length */
size_t
maps_format(const struct map_answer *a, char *out, size_t outlen)
{
	const char	*status, *text;
	size_t		 n, slen, textlen;

	if (outlen == 0)
		return 0;
	switch (a->status) {
	case MAP_OK:
		status = MAPS_PROT_OK;
		text = a->value;
		break;
	case MAP_NOTFOUND:
		status = MAPS_PROT_NOTFOUND;
		text = "";
		break;
	case MAP_TEMP:
		status = MAPS_PROT_TEMP;
		text = a->why;
		break;
	case MAP_PERM:
	default:
		status = MAPS_PROT_PERM;
		text = a->why;
		break;
	}
	if (text == NULL)
		text = "";
	slen = strlen(status);
	textlen = strlen(text);
	n = 0;
	if (slen + 1 < outlen) {
		memcpy(out, status, slen);
		out[slen] = ' ';
		n = slen + 1;
		if (textlen > outlen - n - 1)
			textlen = outlen - n - 1;
		memcpy(out + n, text, textlen);
		n += textlen;
	}
	out[n] = '\0';
	return n;
}

/* maps_name - the name of a map, NULL out of range */
const char *
maps_name(enum map_name map)
{
	return (unsigned)map < MAP_NAMES ? map_names[map] : NULL;
}

/* maps_name_parse - "relay", "transport", ... to the enum: 0 or -1 */
int
maps_name_parse(const char *name, size_t len, enum map_name *out)
{
	size_t	i;

	for (i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		if (strlen(map_names[i]) == len &&
		    memcmp(map_names[i], name, len) == 0) {
			*out = (enum map_name)i;
			return 0;
		}
	}
	return -1;
}

/*
 * The normalized domain a key asks about, or -1 when the key names no
 * domain that a rule could cover (parent probes ".x", address literals,
 * names that are not domain names, access keys without "To:"): those
 * are NOTFOUND, which is the truth, rather than PERM, which would make
 * Postfix defer the mail of a trusted client writing to an odd address.
 */
static int
maps_key_domain(enum map_name map, const char *key, size_t len, char *domain)
{
	const char	*at, *why;

	if (map == MAP_SENDMAIL_ACCESS) {
		if (len < 3 || strncasecmp(key, "To:", 3) != 0)
			return -1;
		key += 3;
		len -= 3;
	}
	for (at = key + len; at > key && at[-1] != '@'; at--)
		;
	len -= (size_t)(at - key);
	key = at;
	if (len == 0 || key[0] == '.' || key[0] == '[')
		return -1;
	if (domain_normalize(key, len, domain, &why) == -1)
		return -1;
	return 0;
}

/*
 * A Sendmail access key carries a tag ("To:", "From:", "Connect:" ...);
 * a Postfix check_recipient_access key is the bare address.  An address
 * whose local part itself looks like a tag can only come quoted: it gets
 * the Sendmail answer, never more than relay_domains already says.
 */
static int
maps_sendmail_tag(const char *key, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (key[i] == ':')
			return i > 0;
		if ((key[i] < 'A' || key[i] > 'Z') &&
		    (key[i] < 'a' || key[i] > 'z'))
			return 0;
	}
	return 0;
}

/*
 * Postfix check_recipient_access: the full address; a deny rule's names
 * get its reply, exactly as the milter would refuse them ("550 5.7.1
 * text"), everything else NOTFOUND (the milter checks the recipients).
 * In log-only mode nothing is refused.
 */
static void
maps_access_postfix(const struct config *config, const char *key,
    size_t len, struct map_answer *a)
{
	struct decision	d;

	decide_key(config, NULL, key, len, &d);
	if (d.outcome == OUTCOME_REJECT && d.rule != NULL &&
	    d.rule->relay == RELAY_DENY)
		maps_reply(&d, a);
}

/*
 * The rcpt map (maps-only mode): one decision, kept in a with the answer.
 * A key with sender-specified routing gets no callout: never OK, and
 * Postfix refuses it from untrusted clients.
 */
static void
maps_rcpt(const struct config *config, const char *key, size_t len,
    struct map_answer *a)
{
	decide_key(config, NULL, key, len, &a->decision);
	a->decided = 1;
	if (maps_routed(key, len))
		a->decision.verify = 0;
	maps_settle(config, key, len, a);
}

/* maps_pending - the rcpt map's decision waits for a callout */
int
maps_pending(const struct map_answer *a)
{
	return a->decided && a->decision.verify;
}

/* maps_settle - the rcpt map's answer from a->decision */
void
maps_settle(const struct config *config, const char *key, size_t len,
    struct map_answer *a)
{
	struct decision	u;

	if (!a->decided)
		return;
	if (!a->decision.verify) {
		maps_rcpt_answer(config, key, len, &a->decision, a);
		return;
	}
	/* nobody called out: as unverified, a->decision still pending */
	u = a->decision;
	decide_recipient(config, key, len, RECIPIENT_UNKNOWN, MAPS_NO_CALLOUT,
	    &u);
	maps_rcpt_answer(config, key, len, &u, a);
}

/*
 * What the rcpt map tells Postfix for decision d (as enforce mode would):
 * OK OK for an always rule's accepted recipient; the reply of a deny
 * rule or of the recipient check; TEMP without a rule set; else
 * NOTFOUND, for Postfix to decide.
 */
static void
maps_rcpt_answer(const struct config *config, const char *key, size_t len,
    const struct decision *d, struct map_answer *a)
{
	a->status = MAP_NOTFOUND;
	a->why = NULL;
	a->value[0] = '\0';
	a->outcome = OUTCOME_CONTINUE;
	if (config == NULL) {
		a->status = MAP_TEMP;
		a->why = MAPS_NO_CONFIG;
		a->outcome = OUTCOME_TEMPFAIL;
		return;
	}
	if (d->rule == NULL)
		return;
	if (d->enforced == OUTCOME_ACCEPT) {
		if (d->rule->relay == RELAY_ALWAYS && !maps_routed(key, len)) {
			maps_answer_ok(a, MAPS_VALUE_PERMIT);
			a->outcome = OUTCOME_ACCEPT;
		}
		return;
	}
	if ((d->enforced != OUTCOME_REJECT &&
	    d->enforced != OUTCOME_TEMPFAIL) ||
	    (d->rule->relay != RELAY_DENY && d->reason != DECIDE_REASON_OTHER))
		return;
	maps_reply(d, a);
	a->outcome = a->status == MAP_OK ? d->enforced : OUTCOME_TEMPFAIL;
}

/* maps_reply - "OK code x.y.z text", the reply of d (TEMP: too long) */
static void
maps_reply(const struct decision *d, struct map_answer *a)
{
	int	n;

	n = snprintf(a->value, sizeof(a->value), "%s %s %s", d->rcode,
	    d->xcode, d->text);
	if (n < 0 || (size_t)n >= sizeof(a->value)) {
		a->value[0] = '\0';
		a->status = MAP_TEMP;
		a->why = "reply too long";
		return;
	}
	a->status = MAP_OK;
}

/*
 * Sender-specified routing in a Postfix key: '%', '!' or '@' before the
 * last '@' (a quoted "u@v"@d arrives unquoted).  Never "OK" for those:
 * Postfix's allow_untrusted_routing = no, in reject_unauth_destination,
 * refuses them.
 */
static int
maps_routed(const char *key, size_t len)
{
	const char	*at;
	size_t		 n;

	for (at = key + len; at > key && at[-1] != '@'; at--)
		;
	if (at == key)
		return 0;
	n = (size_t)(at - 1 - key);
	return memchr(key, '%', n) != NULL || memchr(key, '!', n) != NULL ||
	    memchr(key, '@', n) != NULL;
}

/* Any client may relay to a name decided so: an "always" rule accepts it. */
static int
maps_relays(const struct rule *rule, enum outcome enforced)
{
	return enforced == OUTCOME_ACCEPT && rule != NULL &&
	    rule->relay == RELAY_ALWAYS;
}

/* Any client may relay to domain. */
static int
maps_relayed(const struct config *config, const char *domain)
{
	struct decision	d;

	decide_domain(config, NULL, domain, &d);
	return maps_relays(d.rule, d.enforced);
}

/*
 * A relay_recipient_maps key (user@domain or @domain) names a recipient
 * the rule of its relayed domain accepts.
 */
static int
maps_recipient(const struct config *config, const char *key, size_t len,
    const char *domain)
{
	struct decision	d;
	char		local[LOCAL_MAX + 1];
	const char	*at;

	if (memchr(key, '@', len) == NULL)
		return 0;
	for (at = key + len; at[-1] != '@'; at--)
		;
	if ((size_t)(at - 1 - key) > LOCAL_MAX)
		return 0;
	memcpy(local, key, (size_t)(at - 1 - key));
	local[at - 1 - key] = '\0';
	decide_domain(config, NULL, domain, &d);
	if (!maps_relays(d.rule, d.enforced))
		return 0;
	if (d.rule->recipients != RECIPIENTS_LIST)
		return 1;
	return rcptlist_contains(d.rule->rcptlist, local, domain);
}

int
maps_route(const struct rule *rule, enum map_name map, char *buf,
    size_t buflen)
{
	const char	*why;

	if (rule == NULL || rule->smarthost == NULL ||
	    (map != MAP_POSTFIX_TRANSPORT && map != MAP_SENDMAIL_MAILERTABLE))
		return -1;
	return nexthop_route(rule->smarthost, rule->transport,
	    map == MAP_POSTFIX_TRANSPORT ? NEXTHOP_POSTFIX : NEXTHOP_SENDMAIL,
	    buf, buflen, &why);
}
