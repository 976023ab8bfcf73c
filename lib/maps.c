/*
 * maps - answers of the socketmap server, from the rule set
 *
 * maps_answer() parses one socketmap request "NAME KEY", finds the
 * domain of the key, asks decide_domain() about it and formats the reply
 * for the map asked (see maps.h).  maps_route() turns a rule's smart
 * hosts into a Postfix transport(5) or Sendmail mailertable value with
 * nexthop_route() (nexthop.c has the table of syntaxes): for example
 * "smtp:[192.0.2.25],[192.0.2.26]:2525" and "esmtp:[192.0.2.25]:[...]".
 * The transport name (default "smtp") is Postfix only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "domain.h"
#include "maps.h"
#include "nexthop.h"
#include "tlspolicy.h"

enum map_name {
	MAPNAME_RELAY,
	MAPNAME_TRANSPORT,
	MAPNAME_MAILERTABLE,
	MAPNAME_ACCESS,
	MAPNAME_TLS
};

static size_t	maps_reply(char *out, size_t outlen, const char *status,
		    const char *text, size_t textlen);
static int	maps_parse_name(const char *name, size_t len,
		    enum map_name *out);
static int	maps_key_domain(enum map_name map, const char *key,
		    size_t len, char *domain);
static size_t	maps_tls(const struct config *config, enum map_name map,
		    const char *key, size_t len, char *out, size_t outlen);
static int	maps_relayed(const struct config *config, const char *domain);
static const struct rule *maps_rule(const struct config *config,
		    const char *domain);

/* A list whose hops have several ports: one mailer a route in Sendmail. */
#define MAPS_NO_ROUTE	"smart hosts on different ports: no mailertable route"
#define MAPS_TLS_TOO_LONG "TLS policy too long"

/* Sendmail's tls_server ruleset looks TLS_Srv:server up in the access map. */
#define TLS_SRV		"TLS_Srv:"
#define TLS_SRV_LEN	8

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
	if (map == MAPNAME_TLS || (map == MAPNAME_ACCESS &&
	    len - namelen - 1 > TLS_SRV_LEN &&
	    strncasecmp(space + 1, TLS_SRV, TLS_SRV_LEN) == 0))
		return maps_tls(config, map, space + 1, len - namelen - 1, out,
		    outlen);
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
	case MAPNAME_TLS:
		break;			/* answered above */
	case MAPNAME_TRANSPORT:
	case MAPNAME_MAILERTABLE:
		rule = maps_rule(config, domain);
		if (rule == NULL || rule->smarthost == NULL)
			break;
		if (maps_route(rule, map == MAPNAME_TRANSPORT ?
		    MAP_POSTFIX_TRANSPORT : MAP_SENDMAIL_MAILERTABLE, route,
		    sizeof(route)) == -1)
			return maps_reply(out, outlen, "TEMP", MAPS_NO_ROUTE,
			    strlen(MAPS_NO_ROUTE));
		return maps_reply(out, outlen, "OK", route, strlen(route));
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
		{ "tls", MAPNAME_TLS },
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
 * The TLS policy of a next hop: Postfix's key (map tls) or Sendmail's
 * "TLS_Srv:server" (map access), from the table tlspolicy.c built.
 */
static size_t
maps_tls(const struct config *config, enum map_name map, const char *key,
    size_t len, char *out, size_t outlen)
{
	char	value[TLSPOLICY_VALUE_MAX + 1];
	int	rc;

	if (map == MAPNAME_TLS)
		rc = tlspolicy_postfix(config->tls, key, len, value,
		    sizeof(value));
	else
		rc = tlspolicy_sendmail(config->tls, key + TLS_SRV_LEN,
		    len - TLS_SRV_LEN, value, sizeof(value));
	if (rc == 1)
		return maps_reply(out, outlen, "OK", value, strlen(value));
	if (rc == -1)
		return maps_reply(out, outlen, "TEMP", MAPS_TLS_TOO_LONG,
		    strlen(MAPS_TLS_TOO_LONG));
	return maps_reply(out, outlen, "NOTFOUND", "", 0);
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
	const char	*why;

	if (rule == NULL || rule->smarthost == NULL)
		return -1;
	return nexthop_route(rule->smarthost, rule->transport,
	    kind == MAP_POSTFIX_TRANSPORT ? NEXTHOP_POSTFIX : NEXTHOP_SENDMAIL,
	    buf, buflen, &why);
}
