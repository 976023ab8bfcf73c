/*
 * fuzz_netstring - libFuzzer target: the netstring codec
 *
 * The input is read as a stream of netstrings, as the socketmap server
 * reads a connection, with two maxima (the Postfix query limit and a
 * small one).  Every netstring decoded must lie inside the input, respect
 * the maximum, re-encode to exactly the octets it was decoded from (the
 * decoder accepts only the canonical form), and any strict prefix of it
 * must decode as "need more".  Malformed input must come with a reason.
 * Finally the whole input is encoded as one payload and decoded back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

static char	buf[65536 + 32];

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_netstring: %s\n", why);
	abort();
}

static void
stream(const char *in, size_t size, size_t max)
{
	const char	*data, *why;
	size_t		 data_len, off;
	ssize_t		 rc, n;

	for (off = 0; off < size; off += (size_t)rc) {
		why = NULL;
		rc = netstring_decode(in + off, size - off, max, &data,
		    &data_len, &why);
		if (rc < 0) {
			if (rc != -1 || why == NULL)
				die("error without a reason");
			return;
		}
		if (rc == 0)
			return;
		if ((size_t)rc > size - off || data_len > max ||
		    data < in + off || data + data_len > in + off + rc)
			die("decoded outside the input");
		n = netstring_encode(data, data_len, buf, sizeof(buf));
		if (n != rc || memcmp(buf, in + off, (size_t)n) != 0)
			die("re-encoding differs");
		if (netstring_decode(in + off, (size_t)rc - 1, max, &data,
		    &data_len, &why) != 0)
			die("prefix is not need-more");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data, *out, *why;
	size_t		 out_len;
	ssize_t		 n;

	stream(in, size, NETSTRING_QUERY_MAX);
	stream(in, size, 16);
	if (size > 65536)
		return 0;
	n = netstring_encode(in, size, buf, sizeof(buf));
	if (n <= 0)
		die("encode failed");
	if (netstring_decode(buf, (size_t)n, 65536, &out, &out_len, &why) != n
	    || out_len != size || memcmp(out, in, size) != 0)
		die("round trip failed");
	if (netstring_encode(in, size, buf, (size_t)n - 1) != -1)
		die("encode into a short buffer");
	return 0;
}
