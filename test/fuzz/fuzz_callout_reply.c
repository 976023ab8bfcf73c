/*
 * fuzz_callout_reply - libFuzzer target: the callout's SMTP reply parser
 * (callout_reply_line() in lib/callout.c)
 *
 * The input, cut at each newline (a CR before it dropped, as the callout
 * reads), is fed line by line as a next hop's replies.  Stated without
 * the parser's code: a line ends a reply when it is three digits, the
 * first 2 to 5, then nothing or a space; it continues one when the three
 * digits are followed by '-'; every line of one reply has the first
 * line's code; anything else is refused.  A reply's code is the number of
 * its first line's digits, its text that line with every octet outside
 * 0x20-0x7e shown as '?', cut to fit.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callout.h"

static void
die(const char *why, const char *line, size_t len)
{
	fprintf(stderr, "fuzz_callout_reply: %s: \"%.*s\"\n", why, (int)len,
	    line);
	abort();
}

/* expect - what a line should do after a first line of code first */
static int
expect(const char *l, size_t len, int first)
{
	int	code;

	if (len < 3 || !(l[0] >= '2' && l[0] <= '5') ||
	    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2]))
		return -1;
	if (len > 3 && l[3] != ' ' && l[3] != '-')
		return -1;
	code = atoi((char[4]){ l[0], l[1], l[2], '\0' });
	if (first != 0 && code != first)
		return -1;
	return len > 3 && l[3] == '-' ? 0 : 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct callout_reply	 r;
	const char		*p, *end, *nl;
	char			 want[CALLOUT_REPLY_MAX], first_line[8];
	size_t			 len, i;
	int			 rc, ex, first;

	memset(&r, 0, sizeof(r));
	first = 0;
	p = (const char *)data;
	end = p + size;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		ex = expect(p, len, first);
		rc = callout_reply_line(&r, p, len);
		if (rc != ex)
			die("result differs from the grammar", p, len);
		if (rc == -1) {
			memset(&r, 0, sizeof(r));
			first = 0;
			continue;
		}
		if (first == 0) {
			first = r.code;
			for (i = 0; i < len && i + 1 < sizeof(want); i++)
				want[i] = p[i] >= 0x20 && p[i] < 0x7f ?
				    p[i] : '?';
			want[i] = '\0';
			if (strcmp(r.text, want) != 0)
				die("text is not the first line", p, len);
			snprintf(first_line, sizeof(first_line), "%.3s", p);
			if (r.code != atoi(first_line) || r.code < 200 ||
			    r.code > 599)
				die("code is not the first digits", p, len);
		}
		if (rc == 1) {
			memset(&r, 0, sizeof(r));
			first = 0;
		}
	}
	return 0;
}
