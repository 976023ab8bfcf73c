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
 * DESCRIPTION
 *	sockspec_parse() reads the kind of a socket address and points
 *	*rest at what follows its prefix: "unix:PATH" and "local:PATH"
 *	(SOCKSPEC_UNIX, *rest the path), "/PATH" (SOCKSPEC_UNIX, the
 *	whole spec), "inet:PORT@HOST" and "inet6:PORT@HOST" (*rest
 *	"PORT@HOST").  Prefixes are matched without regard to case, as
 *	libmilter does.  It returns 0, or -1 for anything else;
 *	SOCKSPEC_SYNTAX says what is wanted, for messages.  It checks
 *	nothing after the prefix.
 */
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
