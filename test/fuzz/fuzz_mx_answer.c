/*
 * fuzz_mx_answer - libFuzzer target: the DNS answer of the callout's MX
 * lookup (callout_mx_parse() in lib/callout.c)
 *
 * The input is a DNS message as res_query() would leave it in a buffer
 * of exactly its size (heap, so AddressSanitizer sees an octet read past
 * it).  An answer parsed gives at most max hosts, each a name of at
 * most DOMAIN_MAX octets, by preference; asked for fewer, it gives the
 * first ones of the longer list's preferences.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callout.h"

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_mx_answer: %s\n", why);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct callout_mx	 all[CALLOUT_HOPS_MAX], few[2];
	unsigned char		*copy;
	int			 n, m, i;

	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	n = callout_mx_parse(copy, size, all, CALLOUT_HOPS_MAX);
	if (n > CALLOUT_HOPS_MAX)
		die("more hosts than asked for");
	for (i = 0; i < n; i++) {
		if (strlen(all[i].host) > DOMAIN_MAX)
			die("a name longer than DOMAIN_MAX");
		if (i > 0 && all[i].pref < all[i - 1].pref)
			die("not by preference");
	}
	m = callout_mx_parse(copy, size, few, 2);
	if ((n == -1) != (m == -1) || (n >= 0 && m != (n < 2 ? n : 2)))
		die("fewer asked, other count");
	for (i = 0; i < m; i++)
		if (few[i].pref != all[i].pref)
			die("fewer asked, other preferences");
	free(copy);
	return 0;
}
