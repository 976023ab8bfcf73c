/*
 * netaddr - IPv4/IPv6 addresses and lists of CIDR blocks
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is stored as the IPv4
 * address it maps, both in lists and in clients, so that "127.0.0.0/8"
 * covers a client that the MTA reports as ::ffff:127.0.0.1.
 *
 * netaddr_parse() parses a bare IPv4 or IPv6 address (no brackets, no
 * port, no scope); netaddr_from_sockaddr() converts what libmilter hands
 * us at connect.  Both return 0 or -1.
 *
 * netlist_add() parses "addr" or "addr/len" and appends it; -1 with *why
 * on a syntax error or a prefix length out of range; host bits set below
 * the prefix are an error too (they are almost always a typo).
 * netlist_contains() is 1 when the address is inside any entry.
 * netlist_free() releases the list and everything in it (NULL is fine).
 */
#ifndef MR_NETADDR_H
#define MR_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

struct netaddr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	bytes[16];	/* network order; 4 used for AF_INET */
};

struct netlist;

int	netaddr_parse(const char *text, struct netaddr *out);
int	netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);
void	netaddr_format(const struct netaddr *addr, char *buf, size_t len);

struct netlist *netlist_new(void);
int	netlist_add(struct netlist *list, const char *cidr, const char **why);
int	netlist_contains(const struct netlist *list,
	    const struct netaddr *addr);
size_t	netlist_count(const struct netlist *list);
void	netlist_free(struct netlist *list);

#endif
