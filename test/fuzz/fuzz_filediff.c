/*
 * fuzz_filediff - libFuzzer target: a file's diff against its record
 *
 * The input is a flag octet, then the old file, a NUL, the new file.
 * The old file (when every line ends with a newline, as a file that
 * loaded does) is recorded as a reader reads it, the new one written
 * over it, by rename (flag bit 0 clear) or in place, and
 * filediff_update() run.  Checked: a removed line is one of the old
 * file's lines still unclaimed; an added line is the new file's line of
 * that number; when it answers FILEDIFF_OK, the old lines minus the
 * removed plus the added are the new file's lines (as a multiset); a
 * file renamed over the old one, ending with a newline, without long
 * lines or a line naming a file of its own, is always told (no bound);
 * a second diff against the record returned finds nothing changed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filediff.h"

#define LINES_MAX	4096

struct line {
	const char	*p;
	size_t		 len;
};

/* The lines held: the old file's, then changed by the callbacks. */
struct state {
	struct line	 have[LINES_MAX * 2];
	size_t		 nhave;
	struct line	 newl[LINES_MAX];
	size_t		 nnew;
	size_t		 changes;
};

static char	 dir[] = "/tmp/fuzz_filediff.XXXXXX";
static char	 path[64], tmp[64];

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_filediff: %s\n", why);
	abort();
}

/* split - the lines of buf, each with its newline; -1 when too many */
static int
split(const char *buf, size_t len, struct line *v, size_t *n)
{
	size_t	 i, start;

	*n = 0;
	for (start = i = 0; i < len; i++)
		if (buf[i] == '\n') {
			if (*n == LINES_MAX)
				return -1;
			v[*n].p = buf + start;
			v[(*n)++].len = i + 1 - start;
			start = i + 1;
		}
	return 0;
}

static int
line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int	 c;

	c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int
on_removed(const char *line, size_t len, void *arg)
{
	struct state	*s = arg;
	size_t		 i;

	for (i = 0; i < s->nhave; i++)
		if (s->have[i].p != NULL && s->have[i].len == len &&
		    memcmp(s->have[i].p, line, len) == 0) {
			s->have[i].p = NULL;
			s->changes++;
			return 0;
		}
	die("a removed line that the old file does not hold");
	return 0;
}

static int
on_added(const char *line, size_t len, unsigned long lineno, void *arg)
{
	struct state	*s = arg;
	const struct line *l;

	if (lineno == 0 || lineno > s->nnew)
		die("an added line's number is past the file");
	l = &s->newl[lineno - 1];
	if (l->len != len || memcmp(l->p, line, len) != 0)
		die("an added line is not the file's line of its number");
	if (s->nhave == LINES_MAX * 2)
		die("more lines added than the file has");
	s->have[s->nhave++] = *l;
	s->changes++;
	return 0;
}

/* cleanup - the temporary directory removed at exit */
static void
cleanup(void)
{
	unlink(path);
	unlink(tmp);
	rmdir(dir);
}

static void
put(const uint8_t *p, size_t len, int in_place)
{
	FILE	*fp;

	if ((fp = fopen(in_place ? path : tmp, "w")) == NULL)
		die("cannot write the file");
	if (len > 0 && fwrite(p, 1, len, fp) != len)
		die("cannot write the file");
	if (fclose(fp) != 0 || (!in_place && rename(tmp, path) == -1))
		die("cannot write the file");
}

/* record - the file recorded as a reader reads it */
static struct filediff *
record(void)
{
	struct filediff	*d;
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;

	if ((fp = fopen(path, "r")) == NULL)
		die("cannot read the file");
	if ((d = filediff_record(path, fileno(fp))) == NULL)
		die("filediff_record");
	while ((n = getline(&line, &cap, fp)) != -1)
		filediff_line(d, line, (size_t)n);
	free(line);
	fclose(fp);
	if (filediff_end(d) == -1)
		die("filediff_end: a file nobody changed");
	return d;
}

/* tellable - a diff must tell this file, renamed over the old */
static int
tellable(const uint8_t *p, size_t len, const struct line *v, size_t n)
{
	size_t	 i;

	if (len > 0 && p[len - 1] != '\n')
		return 0;
	if (memmem(p, len, "recipients_file", 15) != NULL ||
	    memmem(p, len, "auth_file", 9) != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i].len >= 8192)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state s;
	struct filediff_change ch;
	struct filediff	*d, *next;
	const uint8_t	*nul, *oldp, *newp;
	size_t		 oldlen, newlen, i, j, nold;
	int		 in_place, rc, tell;

	if (size < 2 || (nul = memchr(data + 1, '\0', size - 1)) == NULL)
		return 0;
	if (path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			die("mkdtemp");
		snprintf(path, sizeof(path), "%s/domains", dir);
		snprintf(tmp, sizeof(tmp), "%s/new", dir);
		atexit(cleanup);
	}
	in_place = data[0] & 1;
	oldp = data + 1;
	oldlen = (size_t)(nul - oldp);
	newp = nul + 1;
	newlen = size - (size_t)(newp - data);
	/* a file that loaded ends with a newline */
	if (oldlen > 0 && oldp[oldlen - 1] != '\n')
		return 0;
	memset(&s, 0, sizeof(s));
	if (split((const char *)oldp, oldlen, s.have, &nold) == -1 ||
	    split((const char *)newp, newlen, s.newl, &s.nnew) == -1)
		return 0;
	s.nhave = nold;
	tell = !in_place && tellable(oldp, oldlen, s.have, nold) &&
	    tellable(newp, newlen, s.newl, s.nnew);
	put(oldp, oldlen, 0);
	d = record();
	put(newp, newlen, in_place);
	memset(&ch, 0, sizeof(ch));
	ch.removed = on_removed;
	ch.added = on_added;
	ch.arg = &s;
	ch.max = SIZE_MAX;
	rc = filediff_update(d, path, &ch, &next);
	if (rc == FILEDIFF_FAIL)
		die("FILEDIFF_FAIL without a refusal");
	if (rc == FILEDIFF_FULL && tell)
		die("a file renamed over the old one is not told");
	if (rc == FILEDIFF_OK) {
		if (ch.nadded + ch.nremoved != s.changes)
			die("the counts are not the callbacks'");
		for (i = j = 0; i < s.nhave; i++)
			if (s.have[i].p != NULL)
				s.have[j++] = s.have[i];
		if (j != s.nnew)
			die("the lines held are not as many as the file's");
		qsort(s.have, j, sizeof(*s.have), line_cmp);
		qsort(s.newl, s.nnew, sizeof(*s.newl), line_cmp);
		for (i = 0; i < j; i++)
			if (line_cmp(&s.have[i], &s.newl[i]) != 0)
				die("the lines held are not the file's");
		/* nothing changed since */
		filediff_free(d);
		d = next;
		s.changes = 0;
		if (filediff_update(d, path, &ch, &next) != FILEDIFF_OK ||
		    s.changes != 0 || (!ch.append && newlen > 0))
			die("a second diff of the same file finds a change");
		filediff_free(next);
	}
	filediff_free(d);
	return 0;
}
