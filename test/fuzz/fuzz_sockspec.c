/*
 * fuzz_sockspec - libFuzzer target: socket addresses (lib/util/sockspec.c)
 *
 * The input, as a NUL-terminated string, goes through sockspec_parse(),
 * then its rest through sockspec_inet(), and the whole through
 * sockspec_local().  A parsed port must be 1-65535 and be the decimal
 * digits before the first '@'; a host must fit, have no brackets around
 * it and be the text after the '@' (less one pair of brackets); a refusal
 * must give a reason; an address sockspec_inet() refuses, or with a host
 * that is no loopback address nor "localhost", is never local.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sockspec.h"

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_sockspec: %s\n", why);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockspec_inet	 in;
	enum sockspec_kind	 kind;
	const char		*rest, *why, *at;
	char			*s;
	size_t			 n;
	int			 local, rc;

	if ((s = malloc(size + 1)) == NULL)
		die("out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	local = sockspec_local(s);
	if (local != 0 && local != 1)
		die("sockspec_local is not 0 or 1");
	if (sockspec_parse(s, &kind, &rest) == -1) {
		if (local)
			die("an address that does not parse is local");
		goto out;
	}
	if (rest < s || rest > s + strlen(s))
		die("rest outside the input");
	if (kind == SOCKSPEC_UNIX) {
		if (!local)
			die("a unix socket is not local");
		goto out;
	}
	why = NULL;
	rc = sockspec_inet(rest, &in, &why);
	if (rc == -1) {
		if (why == NULL || why[0] == '\0')
			die("a refusal without a reason");
		if (local)
			die("a refused PORT@HOST is local");
		goto out;
	}
	if (rc != 0 || in.port < 1 || in.port > 65535)
		die("port out of range");
	at = strchr(rest, '@');
	n = at != NULL ? (size_t)(at - rest) : strlen(rest);
	if (n == 0 || strspn(rest, "0123456789") != n)
		die("the port is not the digits before '@'");
	if (strtoul(rest, NULL, 10) != in.port)
		die("the port is not the value of its digits");
	n = strlen(in.host);
	if (n > SOCKSPEC_HOST_MAX)
		die("host too long");
	if (at == NULL) {
		if (n != 0 || !local)
			die("no host, yet a host or not local");
		goto out;
	}
	if (n == 0)
		die("an empty host taken");
	if (strcmp(at + 1, in.host) != 0 && (at[1] != '[' ||
	    strncmp(at + 2, in.host, n) != 0 || strcmp(at + 2 + n, "]") != 0))
		die("the host is not the text after '@'");
	if (local && strcasecmp(in.host, "localhost") != 0 &&
	    strchr(in.host, '.') == NULL && strchr(in.host, ':') == NULL)
		die("a name that is not localhost is local");
out:
	free(s);
	return 0;
}
