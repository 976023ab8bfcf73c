/*
 * NAME
 *	nexthop - next hops (smart hosts): parse, normalize, format
 * SYNOPSIS
 *	#include "nexthop.h"
 *
 *	int	nexthop_parse(text, len, hop, why)
 *	int	nexthop_parse_mta(text, len, syntax, hop, why)
 *	int	nexthop_format(hop, syntax, buf, buflen)
 *	unsigned nexthop_port(hop)
 *	int	nexthop_same(a, b)
 *
 *	int	nexthop_list_normalize(text, out, outlen, why)
 *	int	nexthop_list_next(cursor, hop)
 *	int	nexthop_list_format(list, syntax, buf, buflen, why)
 *	int	nexthop_list_has(list, hop)
 *	int	nexthop_list_from_mta(text, syntax, port, out, outlen, why)
 *	int	nexthop_route(list, transport, syntax, buf, buflen, why)
 *	int	nexthop_route_covers(list, mailer, mtahosts)
 *
 *	int	nexthop_mailer_port(mailer, port)
 *	int	nexthop_mailer(port, buf, buflen)
 * DESCRIPTION
 *	The one place that knows next-hop syntax.  A next hop is a host
 *	and an optional port; the host is a name looked up as such (A and
 *	AAAA records), a name whose MX records are looked up, or an IPv4
 *	or IPv6 address.  Three syntaxes spell it:
 *
 *	hop			rule		Postfix		Sendmail
 *	the host itself		mail.example	[mail.example]	[mail.example]
 *	MX lookup		mx:example.net	example.net	example.net
 *	IPv4 address		192.0.2.7 or	[192.0.2.7]	[192.0.2.7]
 *				[192.0.2.7]
 *	IPv6 address		[2001:db8::7]	[2001:db8::7]	[IPv6:2001:db8::7]
 *	a port			...:2525	...:2525	mailer esmtp2525
 *
 *	Sendmail's mailertable has no port field: a port selects the
 *	mailer "esmtpPORT" that contrib/sendmail defines (A=TCP $h PORT).
 *
 *	nexthop_parse() reads one hop in rule syntax and normalizes it:
 *	names as lower-case A-labels (domain_normalize(); the last label
 *	must not be numeric), IPv6 addresses as inet_ntop() writes them,
 *	ports 1 to 65535.  A bare IPv6 address, "mx:" with an address and
 *	a bracketed name are errors.  nexthop_parse_mta() reads one hop in
 *	Postfix or Sendmail syntax ("[IPv6:addr]" too, ":port" allowed):
 *	a bracketed name is the host itself, a bare name an MX lookup.
 *	Both return 0, or -1 with *why pointing at a static string.
 *
 *	nexthop_format() writes a hop in one syntax (no port for Sendmail):
 *	0, or -1 when buf is too small.  nexthop_port() is the hop's port,
 *	NEXTHOP_PORT_DEFAULT when none is given.  nexthop_same() is 1 when
 *	two hops name the same host (name or address) on the same port.
 *
 *	A list is hops in preference order.  nexthop_list_normalize()
 *	reads "hop,hop,..." in rule syntax (blanks around the commas are
 *	allowed) and writes the normalized list the rule set stores, hops
 *	joined by ','; errors: an empty list or element, a duplicate hop
 *	(nexthop_same()), more than NEXTHOP_LIST_MAX hops, longer than
 *	NEXTHOP_LIST_TEXT_MAX, and those of nexthop_parse() (prefixed with
 *	the hop when the list has several).  nexthop_list_next() walks a
 *	normalized list without allocating:
 *
 *		const char *cursor = rule->smarthost;
 *		struct nexthop hop;
 *
 *		while (nexthop_list_next(&cursor, &hop) == 1)
 *			use(hop.host, nexthop_port(&hop), hop.mx);
 *
 *	It returns 1 with the next hop, 0 at the end, -1 on a list that
 *	is not normalized.  nexthop_list_has() is 1 when a hop of the list
 *	is nexthop_same() as hop.
 *
 *	nexthop_list_from_mta() reads a list in Postfix syntax (hops
 *	separated by ',' or blanks) or Sendmail syntax (hops separated by
 *	':'; port, when not 0, is that of the mailer and applies to every
 *	hop) and writes it normalized, in rule syntax: 0, or -1 with *why
 *	(the errors of nexthop_parse_mta() and nexthop_list_normalize()).
 *
 *	nexthop_list_format() writes a normalized list in one syntax:
 *	rule and Postfix (>= 3.5 takes a list in a transport(5) value) join
 *	the hops with ',', Sendmail with ':' (its mailertable host list);
 *	for Sendmail all hops must have one port (one mailer a route), else
 *	-1 with *why.  nexthop_route() writes a whole route: Postfix
 *	"transport:hops" (transport NULL: "smtp"), Sendmail "mailer:hops"
 *	(the mailer from the port; transport is Postfix only).
 *
 *	nexthop_route_covers() is the routing check: 1 when every hop of
 *	the MTA's choice, the macros {rcpt_mailer} and {rcpt_host} (one hop
 *	or a list in Postfix or Sendmail syntax), is a hop of the list, the
 *	port taken from the MTA's hop, else from an "esmtpPORT" mailer, else
 *	the default; 0 otherwise, also when mtahosts cannot be parsed.
 *
 *	nexthop_mailer_port() reads the port of a Sendmail mailer name
 *	"esmtpPORT": 0 and *port, or -1 when the name is no such mailer.
 *	nexthop_mailer() writes the mailer for a port ("esmtp" for none and
 *	for 25): 0, or -1 when buf is too small.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nexthop.h"

#define BAD_PORT	"bad port (1 to 65535)"
#define INPUT_MAX	300	/* one hop as written */

static int	port_parse(const char *s, size_t len, unsigned *port,
		    const char **why);
static int	addr_parse(const char *s, size_t len, struct nexthop *hop);
static int	name_parse(const char *s, size_t len, struct nexthop *hop,
		    const char **why);
static int	numeric(const char *s, size_t len);
static int	port_split(const char *s, size_t *len, unsigned *port,
		    const char **why);

/* port_parse - "1" to "65535": 1 to 5 digits, no sign */
static int
port_parse(const char *s, size_t len, unsigned *port, const char **why)
{
	unsigned	v;
	size_t		n;

	if (len == 0 || len > 5) {
		*why = BAD_PORT;
		return -1;
	}
	for (v = 0, n = 0; n < len; n++) {
		if (s[n] < '0' || s[n] > '9') {
			*why = BAD_PORT;
			return -1;
		}
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (v == 0 || v > 65535) {
		*why = BAD_PORT;
		return -1;
	}
	*port = v;
	return 0;
}

/* numeric - only digits and dots */
static int
numeric(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] != '.' && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

/* addr_parse - an IPv4 or IPv6 address into hop: 0, or -1 when none */
static int
addr_parse(const char *s, size_t len, struct nexthop *hop)
{
	char		addr[INET6_ADDRSTRLEN + 1];
	unsigned char	bin[16];

	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1) {
		hop->family = AF_INET;
		memcpy(hop->host, addr, len + 1);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, bin) == 1) {
		hop->family = AF_INET6;
		inet_ntop(AF_INET6, bin, hop->host, sizeof(hop->host));
		return 0;
	}
	return -1;
}

/* name_parse - a host name into hop, normalized */
static int
name_parse(const char *s, size_t len, struct nexthop *hop, const char **why)
{
	const char	*last;

	if (len == 0) {
		*why = "empty smart host";
		return -1;
	}
	if (domain_normalize(s, len, hop->host, why) == -1)
		return -1;
	last = strrchr(hop->host, '.');
	last = last == NULL ? hop->host : last + 1;
	if (numeric(last, strlen(last))) {
		*why = "bad host name (numeric top-level label)";
		return -1;
	}
	hop->family = 0;
	return 0;
}

/*
 * port_split - cut an unbracketed "host:port" at its colon: *len becomes
 * the host's length.  Several colons: a bare IPv6 address.
 */
static int
port_split(const char *s, size_t *len, unsigned *port, const char **why)
{
	const char	*colon;

	colon = memchr(s, ':', *len);
	if (colon == NULL)
		return 0;
	if (memchr(colon + 1, ':', *len - (size_t)(colon + 1 - s)) != NULL) {
		*why = "IPv6 address must be in brackets";
		return -1;
	}
	if (port_parse(colon + 1, *len - (size_t)(colon + 1 - s), port,
	    why) == -1)
		return -1;
	*len = (size_t)(colon - s);
	return 0;
}

/* bracket_port - the optional ":port" after the ']' at close */
static int
bracket_port(const char *text, size_t len, const char *close,
    const char *junk, struct nexthop *hop, const char **why)
{
	size_t	n;

	n = len - (size_t)(close + 1 - text);
	if (n == 0)
		return 0;
	if (close[1] != ':') {
		*why = junk;
		return -1;
	}
	return port_parse(close + 2, n - 1, &hop->port, why);
}

/* nexthop_parse - one hop in rule syntax, normalized */
int
nexthop_parse(const char *text, size_t len, struct nexthop *hop,
    const char **why)
{
	const char	*close;
	size_t		 n;

	memset(hop, 0, sizeof(*hop));
	if (len == 0) {
		*why = "empty smart host";
		return -1;
	}
	if (len > INPUT_MAX) {
		*why = "smart host too long";
		return -1;
	}
	if (text[0] == '[') {
		if ((close = memchr(text, ']', len)) == NULL) {
			*why = "missing ']' in smart host";
			return -1;
		}
		n = (size_t)(close - text - 1);
		if (n == 0 || n > INET6_ADDRSTRLEN) {
			*why = "bad address in brackets";
			return -1;
		}
		if (addr_parse(text + 1, n, hop) == -1) {
			*why = "brackets must hold an IPv4 or IPv6 address";
			return -1;
		}
		hop->bracket = 1;
		return bracket_port(text, len, close,
		    "junk after ']' in smart host", hop, why);
	}
	if (len >= 3 && strncasecmp(text, "mx:", 3) == 0) {
		hop->mx = 1;
		text += 3;
		len -= 3;
		if (len > 0 && text[0] == '[') {
			*why = "mx: needs a host name, not an address";
			return -1;
		}
	}
	n = len;
	if (port_split(text, &n, &hop->port, why) == -1)
		return -1;
	if (n > 0 && numeric(text, n)) {
		if (addr_parse(text, n, hop) == -1 ||
		    hop->family != AF_INET) {
			*why = "bad IPv4 address";
			return -1;
		}
		if (hop->mx) {
			*why = "mx: needs a host name, not an address";
			return -1;
		}
		return 0;
	}
	if (name_parse(text, n, hop, why) == -1)
		return -1;
	if (!hop->mx && hop->port != 0 && strcmp(hop->host, "mx") == 0) {
		/* it would be written "mx:PORT", an MX lookup of PORT */
		*why = "host \"mx\" with a port reads as mx:PORT";
		return -1;
	}
	return 0;
}

/* nexthop_parse_mta - one hop in Postfix or Sendmail syntax */
int
nexthop_parse_mta(const char *text, size_t len, enum nexthop_syntax syntax,
    struct nexthop *hop, const char **why)
{
	const char	*close, *in;
	size_t		 n;

	memset(hop, 0, sizeof(*hop));
	if (len == 0) {
		*why = "empty next hop";
		return -1;
	}
	if (text[0] != '[') {
		n = len;
		if (port_split(text, &n, &hop->port, why) == -1)
			return -1;
		if (n > 0 && addr_parse(text, n, hop) == 0)
			return 0;
		hop->mx = 1;
		return name_parse(text, n, hop, why);
	}
	if ((close = memchr(text, ']', len)) == NULL) {
		*why = "missing ']'";
		return -1;
	}
	in = text + 1;
	n = (size_t)(close - in);
	if (syntax == NEXTHOP_SENDMAIL && n > 5 &&
	    strncasecmp(in, "IPv6:", 5) == 0) {
		in += 5;
		n -= 5;
		if (addr_parse(in, n, hop) == -1 || hop->family != AF_INET6) {
			*why = "bad IPv6 address";
			return -1;
		}
	} else if (addr_parse(in, n, hop) == 0)
		hop->bracket = 1;
	else if (name_parse(in, n, hop, why) == -1)
		return -1;
	return bracket_port(text, len, close, "junk after ']'", hop, why);
}

/* nexthop_format - one hop in one syntax */
int
nexthop_format(const struct nexthop *hop, enum nexthop_syntax syntax,
    char *buf, size_t buflen)
{
	const char	*fmt;
	char		 port[16];
	int		 n;

	port[0] = '\0';
	if (hop->port != 0 && syntax != NEXTHOP_SENDMAIL)
		snprintf(port, sizeof(port), ":%u", hop->port);
	if (hop->family == AF_INET6)
		fmt = syntax == NEXTHOP_SENDMAIL ? "[IPv6:%s]%s" : "[%s]%s";
	else if (hop->family == AF_INET)
		fmt = syntax == NEXTHOP_RULE && !hop->bracket ? "%s%s" :
		    "[%s]%s";
	else if (hop->mx)
		fmt = syntax == NEXTHOP_RULE ? "mx:%s%s" : "%s%s";
	else
		fmt = syntax == NEXTHOP_RULE ? "%s%s" : "[%s]%s";
	n = snprintf(buf, buflen, fmt, hop->host, port);
	return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

/* nexthop_port - the port, the default when none is given */
unsigned
nexthop_port(const struct nexthop *hop)
{
	return hop->port != 0 ? hop->port : NEXTHOP_PORT_DEFAULT;
}

/* nexthop_same - same host, same port */
int
nexthop_same(const struct nexthop *a, const struct nexthop *b)
{
	return a->family == b->family && nexthop_port(a) == nexthop_port(b) &&
	    strcmp(a->host, b->host) == 0;
}

/* nexthop_list_normalize - "hop,hop,...", checked, normalized */
int
nexthop_list_normalize(const char *text, char *out, size_t outlen,
    const char **why)
{
	struct nexthop	 hops[NEXTHOP_LIST_MAX];
	const char	*p, *end;
	char		 one[NEXTHOP_TEXT_MAX + 1];
	size_t		 n, o, len;
	int		 count, i, several;

	several = strchr(text, ',') != NULL;
	count = 0;
	o = 0;
	for (p = text;; p = end + 1) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (len = (size_t)(end - p); len > 0 &&
		    (p[len - 1] == ' ' || p[len - 1] == '\t'); len--)
			;
		if (len == 0) {
			*why = several ? "empty hop in smart host list" :
			    "empty smart host";
			return -1;
		}
		if (count == NEXTHOP_LIST_MAX) {
			*why = "more than 8 hops in a smart host list";
			return -1;
		}
		if (nexthop_parse(p, len, &hops[count], why) == -1)
			return -1;
		for (i = 0; i < count; i++) {
			if (nexthop_same(&hops[i], &hops[count])) {
				*why = "duplicate hop in smart host list";
				return -1;
			}
		}
		if (nexthop_format(&hops[count], NEXTHOP_RULE, one,
		    sizeof(one)) == -1 || (n = strlen(one)) + 2 > outlen - o ||
		    o + n + 1 > NEXTHOP_LIST_TEXT_MAX) {
			*why = several ? "smart host list too long" :
			    "smart host too long";
			return -1;
		}
		if (count > 0)
			out[o++] = ',';
		memcpy(out + o, one, n + 1);
		o += n;
		count++;
		if (*end == '\0')
			return 0;
	}
}

/* nexthop_list_next - the next hop of a normalized list */
int
nexthop_list_next(const char **cursor, struct nexthop *hop)
{
	const char	*p, *end;
	const char	*why;

	p = *cursor;
	if (p == NULL || *p == '\0')
		return 0;
	end = strchr(p, ',');
	if (end == NULL)
		end = p + strlen(p);
	if (nexthop_parse(p, (size_t)(end - p), hop, &why) == -1)
		return -1;
	*cursor = *end == ',' ? end + 1 : end;
	return 1;
}

/* nexthop_list_has - a hop of the list is the same as hop */
int
nexthop_list_has(const char *list, const struct nexthop *hop)
{
	struct nexthop	h;

	while (nexthop_list_next(&list, &h) == 1)
		if (nexthop_same(&h, hop))
			return 1;
	return 0;
}

/* nexthop_list_from_mta - a Postfix or Sendmail list, in rule syntax */
int
nexthop_list_from_mta(const char *text, enum nexthop_syntax syntax,
    unsigned port, char *out, size_t outlen, const char **why)
{
	struct nexthop	 hop;
	const char	*p, *end, *seps;
	char		 list[NEXTHOP_LIST_TEXT_MAX + 1];
	size_t		 o, len;

	seps = syntax == NEXTHOP_SENDMAIL ? ":" : ", \t";
	o = 0;
	for (p = text; *p != '\0'; p = end) {
		if (syntax == NEXTHOP_SENDMAIL && p[0] == '[' &&
		    (end = strchr(p, ']')) != NULL)
			end += strcspn(end, seps);
		else
			end = p + strcspn(p, seps);
		len = (size_t)(end - p);
		if (*end != '\0')
			end++;
		if (len == 0 && syntax == NEXTHOP_POSTFIX)
			continue;
		if (nexthop_parse_mta(p, len, syntax, &hop, why) == -1)
			return -1;
		if (hop.port == 0)
			hop.port = port;
		if (o + 1 >= sizeof(list)) {
			*why = "smart host list too long";
			return -1;
		}
		if (o > 0)
			list[o++] = ',';
		if (nexthop_format(&hop, NEXTHOP_RULE, list + o,
		    sizeof(list) - o) == -1) {
			*why = "smart host list too long";
			return -1;
		}
		o += strlen(list + o);
	}
	if (o == 0) {
		*why = "empty next hop";
		return -1;
	}
	list[o] = '\0';
	return nexthop_list_normalize(list, out, outlen, why);
}

/* nexthop_list_format - a normalized list in one syntax */
int
nexthop_list_format(const char *list, enum nexthop_syntax syntax,
    char *buf, size_t buflen, const char **why)
{
	struct nexthop	hop;
	const char	*cursor;
	unsigned	port;
	size_t		o, n;
	int		rc, first;

	if (buflen == 0) {
		*why = "no room";
		return -1;
	}
	cursor = list;
	o = 0;
	port = 0;
	buf[0] = '\0';
	for (first = 1; (rc = nexthop_list_next(&cursor, &hop)) == 1;
	    first = 0) {
		if (syntax == NEXTHOP_SENDMAIL) {
			if (!first && nexthop_port(&hop) != port) {
				*why = "hops on different ports cannot be "
				    "expressed in a Sendmail mailertable "
				    "(one mailer a route)";
				return -1;
			}
			port = nexthop_port(&hop);
		}
		if (!first) {
			if (o + 2 > buflen)
				break;
			buf[o++] = syntax == NEXTHOP_SENDMAIL ? ':' : ',';
		}
		if (nexthop_format(&hop, syntax, buf + o, buflen - o) == -1)
			break;
		n = strlen(buf + o);
		o += n;
	}
	if (rc != 0 || first) {
		*why = rc == -1 || first ? "bad smart host list" :
		    "smart host list too long";
		return -1;
	}
	return 0;
}

/* nexthop_route - a whole transport(5) or mailertable value */
int
nexthop_route(const char *list, const char *transport,
    enum nexthop_syntax syntax, char *buf, size_t buflen, const char **why)
{
	struct nexthop	hop;
	const char	*cursor;
	char		prefix[NEXTHOP_MAILER_MAX];
	size_t		n;
	int		len;

	if (syntax == NEXTHOP_SENDMAIL) {
		cursor = list;
		if (nexthop_list_next(&cursor, &hop) != 1) {
			*why = "bad smart host list";
			return -1;
		}
		nexthop_mailer(hop.port, prefix, sizeof(prefix));
		transport = prefix;
	} else if (transport == NULL)
		transport = "smtp";
	len = snprintf(buf, buflen, "%s:", transport);
	if (len < 0 || (size_t)len >= buflen) {
		*why = "route too long";
		return -1;
	}
	n = (size_t)len;
	return nexthop_list_format(list, syntax, buf + n, buflen - n, why);
}

/* nexthop_route_covers - every hop the MTA chose is a hop of the list */
int
nexthop_route_covers(const char *list, const char *mailer,
    const char *mtahosts)
{
	struct nexthop	 hop;
	const char	*p, *end, *why;
	unsigned	 mport;
	size_t		 len, digits;
	int		 count;

	if (mailer == NULL || nexthop_mailer_port(mailer, &mport) == -1)
		mport = 0;
	count = 0;
	for (p = mtahosts; *p != '\0'; p = end) {
		/*
		 * Separators: ',' and blanks (Postfix), ':' between hosts
		 * (Sendmail); a ':' followed by digits alone is a port.
		 */
		if (p[0] == '[') {
			if ((end = strchr(p, ']')) == NULL)
				return 0;
			end++;
		} else
			end = p + strcspn(p, ":, \t");
		if (*end == ':') {
			digits = strspn(end + 1, "0123456789");
			if (digits > 0 && strchr(":, \t", end[1 + digits]) !=
			    NULL)
				end += 1 + digits;	/* also at '\0' */
		}
		len = (size_t)(end - p);
		if (len > 0) {
			if (nexthop_parse_mta(p, len, NEXTHOP_SENDMAIL, &hop,
			    &why) == -1)
				return 0;
			if (hop.port == 0)
				hop.port = mport;
			if (!nexthop_list_has(list, &hop))
				return 0;
			count++;
		}
		if (*end != '\0')
			end++;
	}
	return count > 0;
}

/* nexthop_mailer_port - the port of "esmtpPORT" */
int
nexthop_mailer_port(const char *mailer, unsigned *port)
{
	const char	*why;

	if (strncmp(mailer, "esmtp", 5) != 0 || mailer[5] == '\0')
		return -1;
	return port_parse(mailer + 5, strlen(mailer + 5), port, &why);
}

/* nexthop_mailer - the Sendmail mailer for a port */
int
nexthop_mailer(unsigned port, char *buf, size_t buflen)
{
	int	n;

	if (port == 0 || port == NEXTHOP_PORT_DEFAULT)
		n = snprintf(buf, buflen, "esmtp");
	else
		n = snprintf(buf, buflen, "esmtp%u", port);
	return n < 0 || (size_t)n >= buflen ? -1 : 0;
}
