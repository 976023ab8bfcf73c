/*
 * nexthop - next hops (smart hosts): parse, normalize, format; see
 * nexthop.c for the interface.
 */
#ifndef MR_NEXTHOP_H
#define MR_NEXTHOP_H

#include <stddef.h>

#include "domain.h"

#define NEXTHOP_TEXT_MAX	(3 + DOMAIN_MAX + 6)	/* "mx:" name ":port" */
#define NEXTHOP_LIST_MAX	8		/* hops in one list */
#define NEXTHOP_LIST_TEXT_MAX	900		/* a normalized list */
#define NEXTHOP_PORT_DEFAULT	25
#define NEXTHOP_MAILER_MAX	16		/* "esmtp" and a port */

enum nexthop_syntax {
	NEXTHOP_RULE,		/* ours: name, mx:name, IPv4, [addr], :port */
	NEXTHOP_POSTFIX,	/* transport(5): [name], name, [addr], :port */
	NEXTHOP_SENDMAIL	/* mailertable: [name], name, [IPv6:addr] */
};

struct nexthop {
	int		mx;		/* MX lookup of host */
	int		family;		/* AF_INET, AF_INET6; 0: a name */
	int		bracket;	/* IPv4 written "[addr]" in a rule */
	unsigned	port;		/* 0: none given (the MTA's default) */
	char		host[DOMAIN_MAX + 1];	/* A-label name or address */
};

int	nexthop_parse(const char *text, size_t len, struct nexthop *hop,
	    const char **why);
int	nexthop_parse_mta(const char *text, size_t len,
	    enum nexthop_syntax syntax, struct nexthop *hop, const char **why);
int	nexthop_format(const struct nexthop *hop, enum nexthop_syntax syntax,
	    char *buf, size_t buflen);
unsigned nexthop_port(const struct nexthop *hop);
int	nexthop_same(const struct nexthop *a, const struct nexthop *b);

int	nexthop_list_normalize(const char *text, char *out, size_t outlen,
	    const char **why);
int	nexthop_list_next(const char **cursor, struct nexthop *hop);
int	nexthop_list_format(const char *list, enum nexthop_syntax syntax,
	    char *buf, size_t buflen, const char **why);
int	nexthop_list_has(const char *list, const struct nexthop *hop);
int	nexthop_list_from_mta(const char *text, enum nexthop_syntax syntax,
	    unsigned port, char *out, size_t outlen, const char **why);
int	nexthop_route(const char *list, const char *transport,
	    enum nexthop_syntax syntax, char *buf, size_t buflen,
	    const char **why);
int	nexthop_route_covers(const char *list, const char *mailer,
	    const char *mtahosts);

int	nexthop_mailer_port(const char *mailer, unsigned *port);
int	nexthop_mailer(unsigned port, char *buf, size_t buflen);

#endif
