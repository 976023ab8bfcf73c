/*
 * fuzz_copytext - libFuzzer target: rows of PostgreSQL's COPY text format
 *
 * The input is one row.  copytext_split() with as many fields as it has
 * tabs plus one must either refuse with a message or give fields that
 * copytext_put() writes back into a row that splits into the same
 * fields (NULL stays NULL).  A split with one field less is refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copytext.h"

#define FIELDS_MAX	64

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_copytext: %s\n", why);
	abort();
}

static void
round_trip(const char **f, size_t n)
{
	const char	*back[FIELDS_MAX];
	char		*buf, err[256];
	size_t		 len, i;
	FILE		*fp;

	buf = NULL;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return;
	for (i = 0; i < n; i++)
		copytext_put(fp, f[i], i + 1 == n);
	if (fclose(fp) != 0) {
		free(buf);
		return;
	}
	if (copytext_split(buf, len, back, n, err, sizeof(err)) != 0)
		die("a row written by copytext_put() does not split");
	for (i = 0; i < n; i++)
		if ((f[i] == NULL) != (back[i] == NULL) ||
		    (f[i] != NULL && strcmp(f[i], back[i]) != 0))
			die("round trip: field differs");
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*f[FIELDS_MAX];
	char		*buf, err[256];
	size_t		 n, i;
	int		 rc;

	if (size > 8192 || (buf = malloc(size + 1)) == NULL)
		return 0;
	for (n = 1, i = 0; i < size; i++)
		n += data[i] == '\t';
	if (n > FIELDS_MAX) {
		free(buf);
		return 0;
	}
	memcpy(buf, data, size);
	err[0] = '\0';
	rc = copytext_split(buf, size, f, n, err, sizeof(err));
	if (rc == -1 && err[0] == '\0')
		die("error without a message");
	if (rc != 0 && rc != -1)
		die("bad return");
	if (rc == 0)
		round_trip(f, n);
	memcpy(buf, data, size);
	if (n > 1 && copytext_split(buf, size, f, n - 1, err,
	    sizeof(err)) != -1)
		die("a row split into fewer fields than it has");
	free(buf);
	return 0;
}
