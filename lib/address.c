/*
 * address - parse the argument of RCPT TO (an RFC 5321 path)
 *
 * address_parse(text, len, out, why) splits the path that an MTA hands a
 * milter into local part and domain (see address.h for the forms).  The
 * grammar, RFC 5321 section 4.1.2 with RFC 6531's UTF-8 additions:
 *
 *	Path		[ "<" ] [ A-d-l ":" ] Mailbox [ ">" ]  or  "<>"
 *	A-d-l		"@" Domain *( ",@" Domain )
 *	Mailbox		Local-part [ "@" ( Domain / address-literal ) ]
 *	Local-part	Dot-string / Quoted-string
 *
 * Lenient only where MTAs differ: the angle brackets may be missing and
 * spaces or tabs around the path are ignored.  Everything else is strict:
 * control characters and NUL anywhere, spaces outside quotes, unbalanced
 * brackets or quotes, empty atoms ("..", leading or trailing dots), an
 * empty local part or domain, a general address literal ("[tag:...]"),
 * ill-formed UTF-8 in the local part, and parts over ADDRESS_MAX or
 * LOCAL_MAX octets are malformed.  Domains go through domain_normalize();
 * address literals through inet_pton() and come out in canonical form
 * ("[192.0.2.1]", "[IPv6:2001:db8::1]").  An unqualified local part equal
 * to "postmaster" in any case is ADDR_POSTMASTER.
 *
 * Routing flags: a source route sets ADDR_ROUTE_SOURCE (its domains must
 * be valid and the mailbox must then be qualified); '%' and '!' anywhere
 * in the local part, quoted or not, set ADDR_ROUTE_PERCENT and
 * ADDR_ROUTE_BANG; '@' in a quoted local part sets ADDR_ROUTE_QUOTED_AT.
 *
 * The parser reads text[0..len) only and never needs a NUL terminator.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "domain.h"

/* RFC 5322 atext without ALPHA and DIGIT. */
static const char atext_specials[] = "!#$%&'*+-/=?^_`{|}~";

static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr(atext_specials, c) != NULL;
}

/*
 * Length of the well-formed UTF-8 sequence at p[0..len) whose lead octet
 * is >= 0x80 (no overlongs, no surrogates, at most U+10FFFF), or 0.
 */
static size_t
utf8_seq(const unsigned char *p, size_t len)
{
	size_t		need, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < need + 1)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need + 1;
}

static void
note_routing(unsigned char c, int quoted, struct address *out)
{
	if (c == '%')
		out->routing |= ADDR_ROUTE_PERCENT;
	else if (c == '!')
		out->routing |= ADDR_ROUTE_BANG;
	else if (c == '@' && quoted)
		out->routing |= ADDR_ROUTE_QUOTED_AT;
}

/* Dot-string local part p[0..len) into out->local. */
static int
parse_dot_string(const char *p, size_t len, struct address *out,
    const char **why)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i, n;

	if (len == 0) {
		*why = "empty local part";
		return -1;
	}
	if (len > LOCAL_MAX) {
		*why = "local part too long";
		return -1;
	}
	for (i = 0; i < len; i += n) {
		n = 1;
		if (u[i] == '.') {
			if (i == 0 || i + 1 == len || u[i + 1] == '.') {
				*why = "empty atom in local part (stray dot)";
				return -1;
			}
		} else if (u[i] >= 0x80) {
			if ((n = utf8_seq(u + i, len - i)) == 0) {
				*why = "bad UTF-8 in local part";
				return -1;
			}
		} else if (!is_atext(u[i])) {
			*why = "bad character in local part";
			return -1;
		} else
			note_routing(u[i], 0, out);
	}
	memcpy(out->local, p, len);
	out->local[len] = '\0';
	return 0;
}

/*
 * Quoted-string local part starting at p[0] == '"' into out->local with
 * escapes resolved; *used is the length including both quotes.
 */
static int
parse_quoted(const char *p, size_t len, size_t *used, struct address *out,
    const char **why)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i, n, o;

	o = 0;
	for (i = 1; i < len; i += n) {
		n = 1;
		if (u[i] == '"')
			break;
		if (u[i] == '\\') {
			if (i + 1 == len || u[i + 1] < 32 || u[i + 1] > 126) {
				*why = "bad escape in quoted local part";
				return -1;
			}
			i++;
		} else if (u[i] >= 0x80) {
			if ((n = utf8_seq(u + i, len - i)) == 0) {
				*why = "bad UTF-8 in local part";
				return -1;
			}
		}
		if (o + n > LOCAL_MAX) {
			*why = "local part too long";
			return -1;
		}
		if (n == 1)
			note_routing(u[i], 1, out);
		memcpy(out->local + o, p + i, n);
		o += n;
	}
	if (i >= len) {
		*why = "unbalanced quote";
		return -1;
	}
	if (o == 0) {
		*why = "empty local part";
		return -1;
	}
	out->local[o] = '\0';
	*used = i + 1;
	return 0;
}

/* Address literal p[0..len), p[0] == '[', into out->domain. */
static int
parse_literal(const char *p, size_t len, struct address *out,
    const char **why)
{
	char		 buf[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
	unsigned char	 bytes[16];
	const char	*in = p + 1;
	size_t		 ilen;
	int		 v6;

	*why = "bad address literal";
	if (len < 2 || p[len - 1] != ']')
		return -1;
	ilen = len - 2;
	v6 = ilen >= 5 && strncasecmp(in, "IPv6:", 5) == 0;
	if (v6) {
		in += 5;
		ilen -= 5;
	} else if (memchr(in, ':', ilen) != NULL) {
		*why = "unsupported address literal (not IPv4 or IPv6:)";
		return -1;
	}
	if (ilen == 0 || ilen >= sizeof(buf))
		return -1;
	memcpy(buf, in, ilen);
	buf[ilen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bytes) != 1 ||
	    inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, text,
	    sizeof(text)) == NULL)
		return -1;
	snprintf(out->domain, sizeof(out->domain), "[%s%s]",
	    v6 ? "IPv6:" : "", text);
	out->kind = ADDR_LITERAL;
	return 0;
}

/* The part after the '@': a domain or an address literal. */
static int
parse_domain(const char *p, size_t len, struct address *out,
    const char **why)
{
	if (len == 0) {
		*why = "empty domain (trailing @)";
		return -1;
	}
	if (p[0] == '[')
		return parse_literal(p, len, out, why);
	if (domain_normalize(p, len, out->domain, why) < 0)
		return -1;
	out->kind = ADDR_DOMAIN;
	return 0;
}

static int
parse_mailbox(const char *p, size_t len, struct address *out,
    const char **why)
{
	const char	*at;
	size_t		 used;

	if (len == 0) {
		*why = "empty mailbox";
		return -1;
	}
	if (p[0] == '"') {
		if (parse_quoted(p, len, &used, out, why) < 0)
			return -1;
		if (used == len) {
			out->kind = ADDR_UNQUALIFIED;
			return 0;
		}
		if (p[used] != '@') {
			*why = "text after quoted local part";
			return -1;
		}
		return parse_domain(p + used + 1, len - used - 1, out, why);
	}
	at = memrchr(p, '@', len);
	if (at == NULL) {
		if (parse_dot_string(p, len, out, why) < 0)
			return -1;
		out->kind = strcasecmp(out->local, "postmaster") == 0 ?
		    ADDR_POSTMASTER : ADDR_UNQUALIFIED;
		return 0;
	}
	if (parse_dot_string(p, (size_t)(at - p), out, why) < 0)
		return -1;
	return parse_domain(at + 1, len - (size_t)(at - p) - 1, out, why);
}

/*
 * Source route "@a,@b:" at the start of p[0..len); *used is its length
 * including the ':'.  Each domain must be valid.
 */
static int
parse_route(const char *p, size_t len, size_t *used, const char **why)
{
	char		 name[DOMAIN_MAX + 1];
	const char	*dwhy;
	size_t		 i, start;

	i = 0;
	for (;;) {
		if (i == len || p[i] != '@') {
			*why = "bad source route";
			return -1;
		}
		start = ++i;
		while (i < len && p[i] != ',' && p[i] != ':')
			i++;
		if (i == len) {
			*why = "unterminated source route";
			return -1;
		}
		if (domain_normalize(p + start, i - start, name, &dwhy) < 0) {
			*why = "bad domain in source route";
			return -1;
		}
		if (p[i++] == ':')
			break;
	}
	*used = i;
	return 0;
}

int
address_parse(const char *text, size_t len, struct address *out,
    const char **why)
{
	const char	*p = text;
	size_t		 i, used;

	memset(out, 0, sizeof(*out));
	out->kind = ADDR_NULL;
	while (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0) {
		*why = "empty address";
		return -1;
	}
	if (len > ADDRESS_MAX) {
		*why = "address too long";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
			*why = "control character or NUL in address";
			return -1;
		}
	}
	if (p[0] == '<' || p[len - 1] == '>') {
		if (len < 2 || p[0] != '<' || p[len - 1] != '>') {
			*why = "unbalanced angle brackets";
			return -1;
		}
		p++;
		len -= 2;
		if (len == 0)
			return 0;	/* <> */
	}
	if (p[0] == '@') {
		if (parse_route(p, len, &used, why) < 0)
			return -1;
		out->routing |= ADDR_ROUTE_SOURCE;
		p += used;
		len -= used;
		if (parse_mailbox(p, len, out, why) < 0)
			return -1;
		if (out->kind != ADDR_DOMAIN && out->kind != ADDR_LITERAL) {
			*why = "source route to an unqualified mailbox";
			return -1;
		}
		return 0;
	}
	return parse_mailbox(p, len, out, why);
}
