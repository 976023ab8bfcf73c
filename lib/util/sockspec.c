/*
 * sockspec - socket addresses as libmilter writes them
 *
 * NAME
 *	sockspec - the one parser of "unix:", "local:", "inet:" and
 *	"inet6:" socket addresses
 * SYNOPSIS
 *	#include "sockspec.h"
 *
 *	int sockspec_parse(const char *spec, enum sockspec_kind *kind,
 *	    const char **rest);
 *	int sockspec_local(const char *spec);
 * DESCRIPTION
 *	sockspec_parse() reads the kind of a socket address and points
 *	*rest at what follows its prefix: "unix:PATH" and "local:PATH"
 *	(SOCKSPEC_UNIX, *rest the path), "/PATH" (SOCKSPEC_UNIX, the
 *	whole spec), "inet:PORT@HOST" and "inet6:PORT@HOST" (*rest
 *	"PORT@HOST").  Prefixes are matched without regard to case, as
 *	libmilter does.  It returns 0, or -1 for anything else;
 *	SOCKSPEC_SYNTAX says what is wanted, for messages.  It checks
 *	nothing after the prefix.
 *
 *	sockspec_local() is 1 when a socket the daemon opens at spec (the
 *	socketmap, the metrics) can be reached from this machine only: a
 *	unix socket, or "inet:PORT" / "inet6:PORT" without a host (the
 *	daemon binds the loopback address then), or a host that is a
 *	loopback address (127.0.0.0/8, ::1) or "localhost"; else 0 (a
 *	wildcard, another address, a name that may resolve to anything).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sockspec.h"

static const struct {
	const char		*prefix;
	enum sockspec_kind	 kind;
} sockspec_prefixes[] = {
	{ "unix:", SOCKSPEC_UNIX },
	{ "local:", SOCKSPEC_UNIX },
	{ "inet:", SOCKSPEC_INET },
	{ "inet6:", SOCKSPEC_INET6 },
};

/* sockspec_parse - the kind of a socket address and the rest */
int
sockspec_parse(const char *spec, enum sockspec_kind *kind, const char **rest)
{
	size_t	i, n;

	for (i = 0; i < sizeof(sockspec_prefixes) /
	    sizeof(sockspec_prefixes[0]); i++) {
		n = strlen(sockspec_prefixes[i].prefix);
		if (strncasecmp(spec, sockspec_prefixes[i].prefix, n) == 0) {
			*kind = sockspec_prefixes[i].kind;
			*rest = spec + n;
			return 0;
		}
	}
	if (spec[0] == '/') {
		*kind = SOCKSPEC_UNIX;
		*rest = spec;
		return 0;
	}
	return -1;
}

/* sockspec_local - the socket at spec is reachable from this machine only */
int
sockspec_local(const char *spec)
{
	enum sockspec_kind	 kind;
	const char		*rest, *at;
	char			 host[256];
	struct in_addr		 a4;
	struct in6_addr		 a6;
	size_t			 n;

	if (sockspec_parse(spec, &kind, &rest) == -1)
		return 0;
	if (kind == SOCKSPEC_UNIX || (at = strchr(rest, '@')) == NULL)
		return 1;
	snprintf(host, sizeof(host), "%s", at[1] == '[' ? at + 2 : at + 1);
	n = strlen(host);
	if (at[1] == '[' && n > 0 && host[n - 1] == ']')
		host[n - 1] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}
