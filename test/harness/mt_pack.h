/*
 * mt_pack - build the data of MTA events for mt_conn_event()
 *
 *	mt_pack_connect(buf, size, hostname, address, port)
 *		SMFIC_CONNECT data: hostname, family, port, address.  The
 *		family follows from ADDRESS: an IPv4 address is '4', an IPv6
 *		address '6', "unix" or a path beginning with '/' is 'L' (port 0,
 *		address "local" or the path), "unknown" is 'U' (no port, no
 *		address).  Returns the length, 0 for an address that is none
 *		of these or when BUF is too small.
 *	mt_pack_strings(buf, size, argv, argc)
 *		ARGC NUL-terminated strings one after another (HELO, MAIL and
 *		RCPT arguments, HEADER name and value).  0 when too long.
 */
#ifndef MT_PACK_H
#define MT_PACK_H

#include <stddef.h>

extern size_t mt_pack_connect(unsigned char *, size_t, const char *,
	    const char *, unsigned);
extern size_t mt_pack_strings(unsigned char *, size_t, char *const *, int);

#endif
