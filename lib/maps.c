/*
 * maps - answers of the socketmap server, from the rule set
 *
 * maps_answer() parses one socketmap request "NAME KEY", finds the
 * domain of the key, asks decide_domain() about it and formats the reply
 * for the map asked (see maps.h).  maps_route() turns a rule's smart
 * host into a Postfix transport(5) or Sendmail mailertable value:
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

enum map_name {
	MAPNAME_RELAY,
	MAPNAME_TRANSPORT,
	MAPNAME_MAILERTABLE,
	MAPNAME_ACCESS,
	MAPNAME_RCPT
};

/* A smart host taken apart: host without brackets, port or 0. */
struct route_parts {
	int		mx;
	int		literal;	/* an IP address */
	int		ipv6;
	unsigned	port;
	char		host[DOMAIN_MAX + 1];
};

static size_t	maps_reply(char *out, size_t outlen, const char *status,
		    const char *text, size_t textlen);
static int	maps_parse_name(const char *name, size_t len,
		    enum map_name *out);
static int	maps_key_domain(enum map_name map, const char *key,
		    size_t len, char *domain);
static int	maps_relayed(const struct config *config, const char *domain);
static int	maps_sendmail_tag(const char *key, size_t len);
static size_t	maps_access_postfix(const struct config *config,
		    const char *key, size_t len, int relay, char *out,
		    size_t outlen);
static int	maps_routed(const char *key, size_t len);
static const struct rule *maps_rule(const struct config *config,
		    const char *domain);
static int	route_split(const char *smarthost, struct route_parts *rp);

static const struct client maps_untrusted;	/* no address, no auth */

size_t
maps_answer(const struct config *config, const char *request, size_t len,
    char *out, size_t outlen)
{
	const char	*space, *parent;
	const struct rule *rule;
	char		 domain[DOMAIN_MAX + 1], route[MAPS_ANSWER_MAX];
	enum map_name	 map;
	size_t		 namelen;

	if (outlen == 0)
		return 0;
	if (memchr(request, '\0', len) != NULL)
		return maps_reply(out, outlen, "PERM", "NUL in request", 14);
	space = memchr(request, ' ', len);
	if (space == NULL || space == request || space + 1 == request + len)
		return maps_reply(out, outlen, "PERM",
		    "malformed request (want NAME KEY)", 33);
	namelen = (size_t)(space - request);
	if (maps_parse_name(request, namelen, &map) == -1)
		return maps_reply(out, outlen, "PERM", "unknown map name", 16);
	if (config == NULL)
		return maps_reply(out, outlen, "TEMP",
		    "no rule set loaded", 18);
	if (map == MAPNAME_ACCESS &&
	    !maps_sendmail_tag(space + 1, len - namelen - 1))
		return maps_access_postfix(config, space + 1,
		    len - namelen - 1, 0, out, outlen);
	if (map == MAPNAME_RCPT)
		return maps_access_postfix(config, space + 1,
		    len - namelen - 1, 1, out, outlen);
	if (maps_key_domain(map, space + 1, len - namelen - 1, domain) == -1)
		return maps_reply(out, outlen, "NOTFOUND", "", 0);

	switch (map) {
	case MAPNAME_RELAY:
		if (maps_relayed(config, domain))
			return maps_reply(out, outlen, "OK", "RELAY", 5);
		break;
	case MAPNAME_ACCESS:
		if (maps_relayed(config, domain))
			return maps_reply(out, outlen, "OK", "RELAY", 5);
		/*
		 * Sendmail walks up to the parents itself after NOTFOUND:
		 * stop it with SKIP when a parent would say RELAY.
		 */
		for (parent = strchr(domain, '.'); parent != NULL;
		    parent = strchr(parent + 1, '.'))
			if (maps_relayed(config, parent + 1))
				return maps_reply(out, outlen, "OK", "SKIP", 4);
		break;
	case MAPNAME_TRANSPORT:
	case MAPNAME_MAILERTABLE:
		rule = maps_rule(config, domain);
		if (rule == NULL || maps_route(rule, map == MAPNAME_TRANSPORT ?
		    MAP_POSTFIX_TRANSPORT : MAP_SENDMAIL_MAILERTABLE, route,
		    sizeof(route)) == -1)
			break;
		return maps_reply(out, outlen, "OK", route, strlen(route));
	case MAPNAME_RCPT:
		break;		/* answered above, from the full address */
	}
	return maps_reply(out, outlen, "NOTFOUND", "", 0);
}

/* "STATUS text", truncated to fit; returns its length. */
static size_t
maps_reply(char *out, size_t outlen, const char *status, const char *text,
    size_t textlen)
{
	size_t	n, slen;

	slen = strlen(status);
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

static int
maps_parse_name(const char *name, size_t len, enum map_name *out)
{
	static const struct {
		const char	*name;
		enum map_name	 map;
	} names[] = {
		{ "relay", MAPNAME_RELAY },
		{ "transport", MAPNAME_TRANSPORT },
		{ "mailertable", MAPNAME_MAILERTABLE },
		{ "access", MAPNAME_ACCESS },
		{ "rcpt", MAPNAME_RCPT },
	};
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == len &&
		    memcmp(names[i].name, name, len) == 0) {
			*out = names[i].map;
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

	if (map == MAPNAME_ACCESS) {
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
 * get its reply, exactly as the milter would refuse them ("OK 550 5.7.1
 * text"), everything else NOTFOUND.  In log-only mode nothing is
 * refused.
 */
static size_t
maps_access_postfix(const struct config *config, const char *key,
    size_t len, int relay, char *out, size_t outlen)
{
	struct decision	d;
	char		 reply[MAPS_ANSWER_MAX];
	int		 n;

	decide_key(config, &maps_untrusted, key, len, &d);
	if (relay && d.enforced == OUTCOME_ACCEPT && d.rule != NULL &&
	    d.rule->relay == RELAY_ALWAYS && !maps_routed(key, len))
		return maps_reply(out, outlen, "OK", "OK", 2);
	if ((relay ? d.enforced : d.outcome) != OUTCOME_REJECT ||
	    d.rule == NULL || d.rule->relay != RELAY_DENY)
		return maps_reply(out, outlen, "NOTFOUND", "", 0);
	n = snprintf(reply, sizeof(reply), "%s %s %s", d.rcode, d.xcode,
	    d.text);
	if (n < 0 || (size_t)n >= sizeof(reply))
		return maps_reply(out, outlen, "TEMP", "reply too long", 14);
	return maps_reply(out, outlen, "OK", reply, (size_t)n);
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

	for (at = key + len; at > key && at[-1] != '@'; at--)
		;
	if (at == key)
		return 0;
	return memchr(key, '%', (size_t)(at - 1 - key)) != NULL ||
	    memchr(key, '!', (size_t)(at - 1 - key)) != NULL ||
	    memchr(key, '@', (size_t)(at - 1 - key)) != NULL;
}

/* Any client may relay to domain: an "always" rule accepts it. */
static int
maps_relayed(const struct config *config, const char *domain)
{
	struct decision	d;

	decide_domain(config, &maps_untrusted, domain, &d);
	return d.enforced == OUTCOME_ACCEPT && d.rule != NULL &&
	    d.rule->relay == RELAY_ALWAYS;
}

/*
 * The rule that decides for domain, when mail to it may be relayed at
 * all (always or trusted): trusted clients' mail to a trusted rule's
 * domain must take its smart host too.  Deny rules have no route.
 */
static const struct rule *
maps_rule(const struct config *config, const char *domain)
{
	struct decision	d;

	decide_domain(config, &maps_untrusted, domain, &d);
	if (d.rule == NULL || d.rule->relay == RELAY_DENY)
		return NULL;
	return d.rule;
}

int
maps_route(const struct rule *rule, enum map_kind kind, char *buf,
    size_t buflen)
{
	struct route_parts rp;
	char		 host[DOMAIN_MAX + 16], mailer[32];
	int		 n;

	if (rule == NULL || rule->smarthost == NULL ||
	    route_split(rule->smarthost, &rp) == -1)
		return -1;
	if (kind == MAP_POSTFIX_TRANSPORT) {
		snprintf(host, sizeof(host), rp.mx ? "%s" : "[%s]", rp.host);
		if (rp.port != 0)
			n = snprintf(buf, buflen, "%s:%s:%u", rule->transport ?
			    rule->transport : "smtp", host, rp.port);
		else
			n = snprintf(buf, buflen, "%s:%s", rule->transport ?
			    rule->transport : "smtp", host);
	} else {
		snprintf(host, sizeof(host), rp.mx ? "%s" : rp.ipv6 ?
		    "[IPv6:%s]" : "[%s]", rp.host);
		if (rp.port != 0 && rp.port != 25)
			snprintf(mailer, sizeof(mailer), "esmtp%u", rp.port);
		else
			snprintf(mailer, sizeof(mailer), "esmtp");
		n = snprintf(buf, buflen, "%s:%s", mailer, host);
	}
	if (n < 0 || (size_t)n >= buflen)
		return -1;
	return 0;
}

/*
 * Take a smart host apart: "[addr]", "host", "mx:host", bare IPv4, each
 * with an optional ":port" (the forms smarthost_valid() lets through).
 */
static int
route_split(const char *smarthost, struct route_parts *rp)
{
	const char	*s, *end, *port;
	size_t		 n;
	unsigned long	 v;

	memset(rp, 0, sizeof(*rp));
	s = smarthost;
	if (strncasecmp(s, "mx:", 3) == 0) {
		rp->mx = 1;
		s += 3;
	}
	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL)
			return -1;
		s++;
		port = end[1] == ':' ? end + 2 : NULL;
		if (end[1] != '\0' && port == NULL)
			return -1;
		rp->literal = 1;
	} else {
		end = strchr(s, ':');
		port = end == NULL ? NULL : end + 1;
		if (end == NULL)
			end = s + strlen(s);
		else if (strchr(port, ':') != NULL)
			return -1;		/* bare IPv6: not valid */
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= sizeof(rp->host))
		return -1;
	memcpy(rp->host, s, n);
	rp->host[n] = '\0';
	rp->ipv6 = strchr(rp->host, ':') != NULL;
	if (rp->mx && rp->literal)
		return -1;
	if (port != NULL) {
		if (*port < '1' || *port > '9' || strlen(port) > 5)
			return -1;
		for (v = 0; *port != '\0'; port++) {
			if (*port < '0' || *port > '9')
				return -1;
			v = v * 10 + (unsigned long)(*port - '0');
		}
		if (v > 65535)
			return -1;
		rp->port = (unsigned)v;
	}
	return 0;
}
