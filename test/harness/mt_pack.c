/*
 * mt_pack - build the data of MTA events (see mt_pack.h)
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include <libmilter/mfdef.h>

#include "mt_pack.h"

static int
put_str(unsigned char *buf, size_t size, size_t *off, const char *s)
{
	size_t	len = strlen(s) + 1;

	if (*off + len > size)
		return -1;
	memcpy(buf + *off, s, len);
	*off += len;
	return 0;
}

static int
family_of(const char *addr)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcmp(addr, "unknown") == 0)
		return SMFIA_UNKNOWN;
	if (strcmp(addr, "unix") == 0 || addr[0] == '/')
		return SMFIA_UNIX;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return SMFIA_INET;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return SMFIA_INET6;
	return 0;
}

size_t
mt_pack_connect(unsigned char *buf, size_t size, const char *host,
    const char *addr, unsigned port)
{
	size_t	off = 0;
	int	family;

	if ((family = family_of(addr)) == 0)
		return 0;
	if (put_str(buf, size, &off, host) < 0 || off + 3 > size)
		return 0;
	buf[off++] = (unsigned char)family;
	if (family == SMFIA_UNKNOWN)
		return off;
	if (family == SMFIA_UNIX) {
		port = 0;
		if (addr[0] != '/')
			addr = "local";
	}
	buf[off++] = (unsigned char)(port >> 8);
	buf[off++] = (unsigned char)port;
	if (put_str(buf, size, &off, addr) < 0)
		return 0;
	return off;
}

size_t
mt_pack_strings(unsigned char *buf, size_t size, char *const *argv, int argc)
{
	size_t	off = 0;
	int	i;

	for (i = 0; i < argc; i++)
		if (put_str(buf, size, &off, argv[i]) < 0)
			return 0;
	return off;
}
