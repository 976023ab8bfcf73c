/*
 * netstring - the netstring codec of Postfix socketmap and Sendmail socket
 * maps: "LEN:DATA," with LEN in decimal.
 *
 * netstring_decode() looks for one complete netstring at the start of
 * buf[0..len): the number of octets consumed (> 0) with *data and
 * *data_len set to the payload; 0 when more input is needed; -1 when the
 * input can never become a valid netstring, with *why set.  The length is
 * strict: decimal digits only, no sign, no spaces, no leading zero except
 * "0:" itself.  A length over max is -1 as soon as its digits show it,
 * before any payload has arrived, so a peer cannot make us wait for (or
 * buffer) more than max octets.
 *
 * netstring_encode() writes "LEN:DATA," (no NUL) into out, at most outlen
 * octets; it returns the length written or -1 when it does not fit.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "netstring.h"

ssize_t
netstring_decode(const char *buf, size_t len, size_t max, const char **data,
    size_t *data_len, const char **why)
{
	size_t	i, n, digit;

	if (len == 0)
		return 0;
	if (buf[0] < '0' || buf[0] > '9') {
		*why = "netstring length is not a decimal number";
		return -1;
	}
	n = 0;
	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (i == 1 && buf[0] == '0') {
			*why = "netstring length has a leading zero";
			return -1;
		}
		digit = (size_t)(buf[i] - '0');
		if (digit > max || n > (max - digit) / 10) {
			*why = "netstring longer than allowed";
			return -1;
		}
		n = n * 10 + digit;
	}
	if (i == len)
		return 0;
	if (buf[i] != ':') {
		*why = "netstring length is not followed by ':'";
		return -1;
	}
	i++;
	if (len - i < n + 1)
		return 0;
	if (buf[i + n] != ',') {
		*why = "netstring does not end with ','";
		return -1;
	}
	*data = buf + i;
	*data_len = n;
	return (ssize_t)(i + n + 1);
}

ssize_t
netstring_encode(const char *data, size_t len, char *out, size_t outlen)
{
	char	head[32];
	int	hlen;

	hlen = snprintf(head, sizeof(head), "%zu:", len);
	if (hlen < 0 || (size_t)hlen >= sizeof(head))
		return -1;
	if (outlen < (size_t)hlen || outlen - (size_t)hlen < len + 1 ||
	    len + 1 == 0 || (size_t)hlen + len + 1 > (size_t)SSIZE_MAX)
		return -1;
	memcpy(out, head, (size_t)hlen);
	if (len > 0)
		memcpy(out + hlen, data, len);
	out[(size_t)hlen + len] = ',';
	return (ssize_t)((size_t)hlen + len + 1);
}
