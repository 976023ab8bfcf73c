/*
 * fuzz_pflist - libFuzzer target: Postfix list parameters (lib/util/pflist.c)
 *
 * The input, as a NUL-terminated string, is cut into elements twice,
 * into a large and into a 4-octet buffer.  Each element must be non-empty,
 * be the text at the cursor's old place after the separators, be cut (not
 * overrun) in the small buffer, and move the cursor forward; the walk must
 * end, and both walks must see the same lengths.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pflist.h"

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_pflist: %s\n", why);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*in, *big, small[4];
	const char	*c1, *c2, *before;
	size_t		 n1, n2, steps = 0;

	in = malloc(size + 1);
	big = malloc(size + 1);
	if (in == NULL || big == NULL)
		die("out of memory");
	memcpy(in, data, size);
	in[size] = '\0';
	c1 = c2 = in;
	for (;;) {
		before = c1;
		n1 = pflist_next(&c1, big, size + 1);
		n2 = pflist_next(&c2, small, sizeof(small));
		if (n1 != n2 || c1 != c2)
			die("the two walks differ");
		if (n1 == 0)
			break;
		if (strlen(big) != n1 || c1 - before < (ptrdiff_t)n1 ||
		    memcmp(c1 - n1, big, n1) != 0)
			die("the element is not the text before the cursor");
		if (strlen(small) != (n1 < sizeof(small) ? n1 : sizeof(small) - 1) ||
		    strncmp(small, big, sizeof(small) - 1) != 0)
			die("the cut copy is wrong");
		if (++steps > size)
			die("more elements than octets");
	}
	if (*c1 != '\0')
		die("the walk ended before the end");
	free(big);
	free(in);
	return 0;
}
