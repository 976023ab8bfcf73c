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
 *	int sockspec_inet(const char *rest, struct sockspec_inet *in,
 *	    const char **why);
 *	int sockspec_local(const char *spec);
 * DESCRIPTION
 *	sockspec_parse() reads the kind of a socket address and points
 *	*rest at what follows its prefix: "unix:PATH" and "local:PATH"
 *	(SOCKSPEC_UNIX, *rest the path), "/PATH" (SOCKSPEC_UNIX, the
 *	whole spec), "inet:PORT@HOST" and "inet6:PORT@HOST" (*rest
 *	"PORT@HOST").  Prefixes are matched without regard to case, as
 *	libmilter does.  It returns 0, or -1 for anything else;
 *	SOCKSPEC_SYNTAX says what is wanted, for messages, and
 *	SOCKSPEC_INET_SYNTAX where only inet sockets will do.  It checks
 *	nothing after the prefix.
 *
 *	sockspec_inet() is the one parser of what follows "inet:" and
 *	"inet6:": "PORT@HOST", "PORT@[HOST]" (an IPv6 address in brackets)
 *	or "PORT" alone.  PORT is decimal, 1 to 65535, digits only (no
 *	service name); HOST is copied without its brackets into in->host,
 *	"" when none is given (the daemon's sockets then bind the loopback
 *	address).  It checks no more of HOST than that it is there, its
 *	brackets are closed and it fits SOCKSPEC_HOST_MAX.  0, or -1 with
 *	*why saying what is wrong.
 *
 *	sockspec_local() is 1 when a socket the daemon opens at spec (the
 *	socketmap, the metrics) can be reached from this machine only: a
 *	unix socket, or "inet:PORT" / "inet6:PORT" without a host (the
 *	daemon binds the loopback address then), or a host that is a
 *	loopback address (127.0.0.0/8, ::1) or "localhost"; else 0 (a
 *	wildcard, another address, a name that may resolve to anything,
 *	a PORT@HOST sockspec_inet() refuses).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stddef.h>
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

/* sockspec_inet - PORT@HOST, PORT@[HOST] or PORT */
int
sockspec_inet(const char *rest, struct sockspec_inet *in, const char **why)
{
	const char	*at, *host;
	size_t		 n, i;

	at = strchr(rest, '@');
	n = at != NULL ? (size_t)(at - rest) : strlen(rest);
	in->port = 0;
	for (i = 0; i < n && rest[i] >= '0' && rest[i] <= '9' &&
	    in->port <= 65535; i++)
		in->port = in->port * 10 + (unsigned)(rest[i] - '0');
	if (n == 0 || i < n || in->port < 1 || in->port > 65535) {
		*why = "bad port (1 to 65535)";
		return -1;
	}
	in->host[0] = '\0';
	if (at == NULL)
		return 0;
	host = at + 1;
	n = strlen(host);
	if (host[0] == '[') {
		if (n < 2 || host[n - 1] != ']') {
			*why = "unclosed '[' in host";
			return -1;
		}
		host++;
		n -= 2;
	}
	if (n == 0) {
		*why = "empty host";
		return -1;
	}
	if (n > SOCKSPEC_HOST_MAX) {
		*why = "host too long";
		return -1;
	}
	memcpy(in->host, host, n);
	in->host[n] = '\0';
	return 0;
}

/* sockspec_local - the socket at spec is reachable from this machine only */
int
sockspec_local(const char *spec)
{
	enum sockspec_kind	 kind;
	struct sockspec_inet	 in;
	const char		*rest, *why;
	struct in_addr		 a4;
	struct in6_addr		 a6;

	if (sockspec_parse(spec, &kind, &rest) == -1)
		return 0;
	if (kind == SOCKSPEC_UNIX)
		return 1;
	if (sockspec_inet(rest, &in, &why) == -1)
		return 0;
	if (in.host[0] == '\0' || strcasecmp(in.host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, in.host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, in.host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}
