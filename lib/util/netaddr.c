/*
 * netaddr - IPv4/IPv6 addresses and CIDR lists for trusted networks
 *
 * netaddr_parse() parses a bare address with inet_pton(); an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) comes out as the IPv4 address it maps.
 * netaddr_from_sockaddr() does the same for a struct sockaddr (AF_INET or
 * AF_INET6; anything else is -1).  netaddr_format() prints an address
 * with inet_ntop() ("" when buf is too small).
 *
 * A list is an array of (address, prefix length) entries, searched
 * linearly: trusted_networks holds a handful of entries.  netlist_add()
 * takes "addr" (a host: /32 or /128) or "addr/len" with len in decimal
 * (no sign, no leading zero), 0-32 for IPv4 and 0-128 for IPv6.  An
 * IPv4-mapped network with len >= 96 is folded into the IPv4 network
 * (::ffff:10.0.0.0/104 is 10.0.0.0/8).  Host bits set below the prefix
 * are an error.  An IPv6 entry never covers an IPv4 client (::/0 is every
 * IPv6 address, not every address), as in Postfix's mynetworks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

struct netentry {
	struct netaddr	addr;
	unsigned	prefix;
};

struct netlist {
	struct netentry	*entries;
	size_t		count;
	size_t		size;
};

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int
is_v4mapped(const unsigned char *bytes)
{
	return memcmp(bytes, v4mapped, sizeof(v4mapped)) == 0;
}

static void
set_v6(struct netaddr *out, const unsigned char *bytes)
{
	memset(out, 0, sizeof(*out));
	if (is_v4mapped(bytes)) {
		out->family = AF_INET;
		memcpy(out->bytes, bytes + 12, 4);
		return;
	}
	out->family = AF_INET6;
	memcpy(out->bytes, bytes, 16);
}

int
netaddr_parse(const char *text, struct netaddr *out)
{
	unsigned char	bytes[16];

	if (text == NULL)
		return -1;
	if (inet_pton(AF_INET, text, bytes) == 1) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET;
		memcpy(out->bytes, bytes, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		set_v6(out, bytes);
		return 0;
	}
	return -1;
}

int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memset(out, 0, sizeof(*out));
		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		set_v6(out, sin6->sin6_addr.s6_addr);
		return 0;
	default:
		return -1;
	}
}

void
netaddr_format(const struct netaddr *addr, char *buf, size_t len)
{
	if (len == 0)
		return;
	if ((addr->family != AF_INET && addr->family != AF_INET6) ||
	    len > (size_t)(socklen_t)-1 ||
	    inet_ntop(addr->family, addr->bytes, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
}

struct netlist *
netlist_new(void)
{
	return calloc(1, sizeof(struct netlist));
}

/* Parse "len" strictly: 1-3 digits, no leading zero, at most max. */
static int
parse_prefix(const char *text, unsigned max, unsigned *prefix)
{
	unsigned	n;
	size_t		i;

	if (text[0] == '\0' || (text[0] == '0' && text[1] != '\0'))
		return -1;
	n = 0;
	for (i = 0; text[i] != '\0'; i++) {
		if (i >= 3 || text[i] < '0' || text[i] > '9')
			return -1;
		n = n * 10 + (unsigned)(text[i] - '0');
	}
	if (n > max)
		return -1;
	*prefix = n;
	return 0;
}

/* Are any bits of bytes[0..nbytes) at or after bit prefix set? */
static int
host_bits_set(const unsigned char *bytes, size_t nbytes, unsigned prefix)
{
	size_t	i;

	for (i = prefix / 8; i < nbytes; i++) {
		unsigned char	mask = 0xff;

		if (i == prefix / 8)
			mask = (unsigned char)(0xff >> (prefix % 8));
		if (bytes[i] & mask)
			return 1;
	}
	return 0;
}

static int
netlist_append(struct netlist *list, const struct netentry *entry)
{
	struct netentry	*entries;
	size_t		 size;

	if (list->count == list->size) {
		size = list->size ? list->size * 2 : 8;
		entries = reallocarray(list->entries, size, sizeof(*entries));
		if (entries == NULL)
			return -1;
		list->entries = entries;
		list->size = size;
	}
	list->entries[list->count++] = *entry;
	return 0;
}

int
netlist_add(struct netlist *list, const char *cidr, const char **why)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*slash;
	unsigned char	 bytes[16];
	struct netentry	 entry;
	size_t		 alen;
	int		 family;
	unsigned	 max;

	if (list == NULL || cidr == NULL) {
		*why = "no network";
		return -1;
	}
	slash = strchr(cidr, '/');
	alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (alen == 0 || alen >= sizeof(buf)) {
		*why = "bad network address";
		return -1;
	}
	memcpy(buf, cidr, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, bytes) == 1) {
		family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, bytes) == 1) {
		family = AF_INET6;
		max = 128;
	} else {
		*why = "bad network address";
		return -1;
	}
	entry.prefix = max;
	if (slash != NULL && parse_prefix(slash + 1, max, &entry.prefix) < 0) {
		*why = family == AF_INET ? "bad prefix length (0-32)" :
		    "bad prefix length (0-128)";
		return -1;
	}
	if (host_bits_set(bytes, max / 8, entry.prefix)) {
		*why = "host bits set below the prefix length";
		return -1;
	}
	memset(&entry.addr, 0, sizeof(entry.addr));
	entry.addr.family = family;
	memcpy(entry.addr.bytes, bytes, max / 8);
	if (family == AF_INET6 && entry.prefix >= 96 && is_v4mapped(bytes)) {
		set_v6(&entry.addr, bytes);
		entry.prefix -= 96;
	}
	if (netlist_append(list, &entry) < 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

static int
entry_contains(const struct netentry *entry, const struct netaddr *addr)
{
	size_t		full = entry->prefix / 8;
	unsigned	rest = entry->prefix % 8;
	unsigned char	mask;

	if (entry->addr.family != addr->family)
		return 0;
	if (memcmp(entry->addr.bytes, addr->bytes, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (entry->addr.bytes[full] & mask) == (addr->bytes[full] & mask);
}

int
netlist_contains(const struct netlist *list, const struct netaddr *addr)
{
	struct netaddr	folded;
	size_t		i;

	if (list == NULL || addr == NULL)
		return 0;
	if (addr->family == AF_INET6 && is_v4mapped(addr->bytes)) {
		set_v6(&folded, addr->bytes);
		addr = &folded;
	}
	for (i = 0; i < list->count; i++)
		if (entry_contains(&list->entries[i], addr))
			return 1;
	return 0;
}

size_t
netlist_count(const struct netlist *list)
{
	return list ? list->count : 0;
}

void
netlist_free(struct netlist *list)
{
	if (list == NULL)
		return;
	free(list->entries);
	free(list);
}
