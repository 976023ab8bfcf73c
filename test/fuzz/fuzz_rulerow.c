/*
 * fuzz_rulerow - libFuzzer target: rows to domains_file lines and back
 *
 * The input is split at NUL octets into a pattern and key, value pairs
 * (as a database row could give them).  rulerow_format() must either
 * refuse with a message or write a line; that line must split back
 * (rulerow_split()) into the same pattern, keys and values, and go
 * through config_parse_domains_line() with a result of 0 or -1 (never 1:
 * a row is never a comment), and config_parse_domains_row() of the row
 * must give the same result and message.  Then the input as one line goes through
 * rulerow_split() alone, which must return -1 (with a message), 0 or 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rulerow.h"
#include "ruleset.h"

static void
die(const char *why, const char *what)
{
	fprintf(stderr, "fuzz_rulerow: %s: %s\n", why, what);
	abort();
}

static void
round_trip(const struct rulerow *row)
{
	struct rulerow	 back;
	struct ruleset	*set;
	char		 line[4097], copy[4097], err[512], rowerr[512];
	size_t		 i;
	int		 rc;

	err[0] = '\0';
	if (rulerow_format(row, line, sizeof(line), err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			die("format", "error without a message");
		return;
	}
	memcpy(copy, line, sizeof(line));
	if (rulerow_split(copy, &back, err, sizeof(err)) != 0)
		die("split of a formatted line failed", line);
	if (strcmp(back.pattern, row->pattern) != 0 || back.n != row->n)
		die("round trip: pattern or count", line);
	for (i = 0; i < row->n; i++)
		if (strcmp(back.key[i], row->key[i]) != 0 ||
		    strcmp(back.value[i], row->value[i]) != 0)
			die("round trip: field", line);
	if ((set = ruleset_new()) == NULL)
		return;
	rc = config_parse_domains_line(set, line, strlen(line), err,
	    sizeof(err));
	if (rc != 0 && rc != -1)
		die("a row parsed as a comment", line);
	ruleset_free(set);
	/* the row itself, unsplit: the same answer, the same message */
	if ((set = ruleset_new()) == NULL)
		return;
	if (config_parse_domains_row(set, row, rowerr, sizeof(rowerr)) != rc ||
	    (rc == -1 && strcmp(err, rowerr) != 0))
		die("row and line parse differently", line);
	ruleset_free(set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rulerow	 row;
	char		*buf, *p, *end, err[512];
	const char	*part[1 + 2 * RULEROW_FIELDS_MAX];
	size_t		 n;
	int		 rc;

	if (size > 8192 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	n = 0;
	for (p = buf, end = buf + size; p <= end &&
	    n < sizeof(part) / sizeof(part[0]); p += strlen(p) + 1)
		part[n++] = p;
	memset(&row, 0, sizeof(row));
	row.pattern = part[0];
	for (row.n = 0; 1 + 2 * row.n + 1 < n; row.n++) {
		row.key[row.n] = part[1 + 2 * row.n];
		row.value[row.n] = part[2 + 2 * row.n];
	}
	round_trip(&row);
	/* the whole input as one line, for the splitter alone */
	memcpy(buf, data, size);
	buf[size] = '\0';
	err[0] = '\0';
	rc = rulerow_split(buf, &row, err, sizeof(err));
	if (rc == -1 && err[0] == '\0')
		die("split", "error without a message");
	if (rc != -1 && rc != 0 && rc != 1)
		die("split", "bad return");
	free(buf);
	return 0;
}
