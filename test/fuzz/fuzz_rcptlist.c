/*
 * fuzz_rcptlist - libFuzzer target: recipients_file lines
 *
 * The input is split at newlines and each line goes through
 * rcptlist_parse_line() into one fresh list.  Checked: every result is
 * -1 (with a message), 0 or 1; after rcptlist_finish() the list holds no
 * more entries than lines added; every address added is found again with
 * rcptlist_contains(), in upper case too.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "domain.h"
#include "rcptlist.h"

#define ADDED_MAX	64

static void
die(const char *why, const char *what)
{
	fprintf(stderr, "fuzz_rcptlist: %s: %s\n", why, what);
	abort();
}

/* The entry of a line just added: local part and domain, by hand. */
static int
entry_split(const char *p, size_t len, char *local, char *domain)
{
	const char	*at, *end, *why;
	size_t		 i;

	while (len > 0 && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	for (i = 0; i < len; i++)
		if (p[i] == '#' && (i == 0 || isspace((unsigned char)p[i - 1])))
			break;
	len = i;
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	end = p + len;
	if ((at = memchr(p, '@', len)) == NULL || (size_t)(at - p) > LOCAL_MAX)
		return -1;
	memcpy(local, p, (size_t)(at - p));
	local[at - p] = '\0';
	return domain_normalize(at + 1, (size_t)(end - at - 1), domain, &why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	struct rcptlist	*list;
	char		 err[256], local[ADDED_MAX][LOCAL_MAX + 1];
	char		 domain[ADDED_MAX][DOMAIN_MAX + 1];
	size_t		 added = 0, len, i, j;
	int		 rc;

	if ((list = rcptlist_new()) == NULL)
		return 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		err[0] = '\0';
		rc = rcptlist_parse_line(list, p, len, err, sizeof(err));
		if (rc == 0) {
			if (added < ADDED_MAX && entry_split(p, len,
			    local[added], domain[added]) == -1)
				die("added an entry that is no address", err);
			added++;
		} else if (rc == -1) {
			if (err[0] == '\0')
				die("error without a message", "");
		} else if (rc != 1)
			die("bad return", "");
		p += len + (nl != NULL);
	}
	if (rcptlist_finish(list) == -1)
		die("finish", "out of memory");
	if (rcptlist_count(list) > added)
		die("count", "more entries than lines added");
	for (i = 0; i < added && i < ADDED_MAX; i++) {
		if (!rcptlist_contains(list, local[i], domain[i]))
			die("not found again", local[i]);
		for (j = 0; local[i][j] != '\0'; j++)
			local[i][j] = (char)toupper((unsigned char)local[i][j]);
		if (!rcptlist_contains(list, local[i], domain[i]))
			die("not found again in upper case", local[i]);
	}
	rcptlist_free(list);
	return 0;
}
