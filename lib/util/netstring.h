/*
 * netstring - the netstring codec: "LEN:DATA," with LEN in decimal
 *
 * netstring_decode() looks for one complete netstring at the start of
 * buf[0..len).  It returns the number of octets consumed (> 0) and sets
 * *data and *data_len to the payload; 0 when more input is needed; -1
 * when the input can never become a valid netstring (non-digit, leading
 * zero, missing ',', or a length over max), with *why set.  The caller
 * closes the connection after -1.
 *
 * netstring_encode() writes "LEN:DATA," into out (at most outlen octets)
 * and returns its length, or -1 when it does not fit.
 */
#ifndef MR_NETSTRING_H
#define MR_NETSTRING_H

#include <stddef.h>
#include <sys/types.h>

#define NETSTRING_QUERY_MAX	10000	/* a bound for callers' max */

ssize_t	netstring_decode(const char *buf, size_t len, size_t max,
	    const char **data, size_t *data_len, const char **why);
ssize_t	netstring_encode(const char *data, size_t len, char *out,
	    size_t outlen);

#endif
