/*
 * check_filediff - unit tests of lib/filediff.c
 *
 * A file is recorded as a reader reads it (filediff_record(),
 * filediff_line(), filediff_end()), changed, and filediff_update()
 * must hand back exactly the lines removed and added, with the line
 * numbers of the added ones: an append (in place or by rename) told by
 * the new lines alone; an edit by rename as a hash diff; a line given
 * twice counted twice.  What it cannot tell is FILEDIFF_FULL: a torn
 * last line, a file rewritten in place under a removed line, more lines
 * than the bound, a line naming a file of its own, a file that changed
 * while it was recorded.  A callback's refusal is returned as is.  A
 * randomized sequence of edits, each diffed against the record of the
 * one before, is checked against a model of the lines.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filediff.h"

static char	 dir[] = "/tmp/check_filediff.XXXXXX";
static char	 path[64];

/* What the callbacks saw, one "-line" or "+N:line" a line. */
struct seen {
	char	 buf[65536];
	size_t	 len;
	int	 refuse;	/* the added callback returns this */
};

static int
on_removed(const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	s->len += (size_t)snprintf(s->buf + s->len, sizeof(s->buf) - s->len,
	    "-%.*s", (int)len, line);
	return 0;
}

static int
on_added(const char *line, size_t len, unsigned long lineno, void *arg)
{
	struct seen *s = arg;

	s->len += (size_t)snprintf(s->buf + s->len, sizeof(s->buf) - s->len,
	    "+%lu:%.*s", lineno, (int)len, line);
	return s->refuse;
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/domains", dir);
}

static void
teardown(void)
{
	char	 p[80];

	unlink(path);
	snprintf(p, sizeof(p), "%s/new", dir);
	unlink(p);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

/* put - text as the file: by rename (a new file) or in place */
static void
put(const char *text, int in_place)
{
	char	 p[80];
	FILE	*fp;

	snprintf(p, sizeof(p), "%s/new", dir);
	ck_assert_ptr_nonnull(fp = fopen(in_place ? path : p, "w"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	if (!in_place)
		ck_assert_int_eq(rename(p, path), 0);
}

/* append - text appended to the file in place */
static void
append(const char *text)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "a"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* record - the file as a reader reads it, line by line */
static struct filediff *
record(void)
{
	struct filediff	*d;
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_ptr_nonnull(d = filediff_record(path, fileno(fp)));
	while ((n = getline(&line, &cap, fp)) != -1)
		filediff_line(d, line, (size_t)n);
	free(line);
	fclose(fp);
	ck_assert_int_eq(filediff_end(d), 0);
	return d;
}

/* diff - filediff_update() of the file against *d, *d then the next */
static int
diff(struct filediff **d, struct seen *s, size_t max, int *app)
{
	struct filediff_change ch;
	struct filediff	*next;
	int		 rc;

	memset(&ch, 0, sizeof(ch));
	ch.removed = on_removed;
	ch.added = on_added;
	ch.arg = s;
	ch.max = max;
	s->len = 0;
	s->buf[0] = '\0';
	rc = filediff_update(*d, path, &ch, &next);
	if (app != NULL)
		*app = ch.append;
	if (rc == FILEDIFF_OK) {
		ck_assert_ptr_nonnull(next);
		ck_assert_str_eq(filediff_path(next), path);
		filediff_free(*d);
		*d = next;
	} else
		ck_assert_ptr_null(next);
	return rc;
}

START_TEST(test_append)
{
	struct filediff	*d;
	struct seen	 s;
	int		 app;

	memset(&s, 0, sizeof(s));
	put("# c\na.test\nb.test relay=deny\n", 0);
	d = record();
	append("c.test\n");
	ck_assert_int_eq(diff(&d, &s, 100, &app), FILEDIFF_OK);
	ck_assert_int_eq(app, 1);
	ck_assert_str_eq(s.buf, "+4:c.test\n");
	/* again: against the record of the append, by rename this time */
	put("# c\na.test\nb.test relay=deny\nc.test\nd.test\ne.test\n", 0);
	ck_assert_int_eq(diff(&d, &s, 100, &app), FILEDIFF_OK);
	ck_assert_int_eq(app, 1);
	ck_assert_str_eq(s.buf, "+5:d.test\n+6:e.test\n");
	/* nothing changed: an append of nothing */
	ck_assert_int_eq(diff(&d, &s, 100, &app), FILEDIFF_OK);
	ck_assert_int_eq(app, 1);
	ck_assert_str_eq(s.buf, "");
	filediff_free(d);
}
END_TEST

START_TEST(test_edit)
{
	struct filediff	*d;
	struct seen	 s;
	int		 app;

	memset(&s, 0, sizeof(s));
	put("a.test\nb.test\nc.test\n", 0);
	d = record();
	put("a.test\nb.test relay=deny\nc.test\nd.test\n", 0);
	ck_assert_int_eq(diff(&d, &s, 100, &app), FILEDIFF_OK);
	ck_assert_int_eq(app, 0);
	ck_assert_str_eq(s.buf, "-b.test\n+2:b.test relay=deny\n+4:d.test\n");
	put("d.test\na.test\n", 0);
	ck_assert_int_eq(diff(&d, &s, 100, &app), FILEDIFF_OK);
	ck_assert_int_eq(app, 0);
	/* removed in the order of their hashes: both, either order */
	ck_assert_ptr_nonnull(strstr(s.buf, "-b.test relay=deny\n"));
	ck_assert_ptr_nonnull(strstr(s.buf, "-c.test\n"));
	ck_assert_uint_eq(s.len, strlen("-b.test relay=deny\n-c.test\n"));
	filediff_free(d);
}
END_TEST

START_TEST(test_twice)
{
	struct filediff	*d;
	struct seen	 s;

	memset(&s, 0, sizeof(s));
	put("#\n\na.test\n#\n\n", 0);
	d = record();
	put("#\na.test\n\n\n\n", 0);
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_OK);
	ck_assert_str_eq(s.buf, "-#\n+5:\n");
	put("#\na.test\n\n\n\na.test\n", 0);
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_OK);
	ck_assert_str_eq(s.buf, "+6:a.test\n");
	filediff_free(d);
}
END_TEST

START_TEST(test_full)
{
	struct filediff	*d;
	struct seen	 s;

	memset(&s, 0, sizeof(s));
	put("a.test\nb.test\n", 0);
	d = record();
	/* a torn last line */
	append("c.test");
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_FULL);
	/* rewritten in place: the removed line cannot be read again */
	put("a.test\nx.test\n", 1);
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_FULL);
	filediff_free(d);

	put("a.test\nb.test\n", 0);
	d = record();
	/* more lines changed than the bound; within it */
	put("x.test\ny.test\n", 0);
	ck_assert_int_eq(diff(&d, &s, 3, NULL), FILEDIFF_FULL);
	ck_assert_int_eq(diff(&d, &s, 4, NULL), FILEDIFF_OK);
	append("z.test\n");
	ck_assert_int_eq(diff(&d, &s, 0, NULL), FILEDIFF_FULL);
	/* a line naming a file of its own */
	append("w.test recipients=list recipients_file=w\n");
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_FULL);
	put("x.test\ny.test\nz.test\n", 0);
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_OK);
	/* not a regular file; no file */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_FULL);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_FULL);
	filediff_free(d);
}
END_TEST

START_TEST(test_refused)
{
	struct filediff	*d;
	struct seen	 s;

	memset(&s, 0, sizeof(s));
	put("a.test\n", 0);
	d = record();
	append("b.test\n");
	s.refuse = FILEDIFF_FAIL;
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_FAIL);
	/* the record kept tells the file it was made from */
	s.refuse = 0;
	ck_assert_int_eq(diff(&d, &s, 100, NULL), FILEDIFF_OK);
	ck_assert_str_eq(s.buf, "+2:b.test\n");
	filediff_free(d);
}
END_TEST

START_TEST(test_changed_while_read)
{
	struct filediff	*d;
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;

	put("a.test\nb.test\n", 0);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_ptr_nonnull(d = filediff_record(path, fileno(fp)));
	ck_assert_int_ne((n = getline(&line, &cap, fp)), -1);
	filediff_line(d, line, (size_t)n);
	append("c.test\n");
	while ((n = getline(&line, &cap, fp)) != -1)
		filediff_line(d, line, (size_t)n);
	free(line);
	fclose(fp);
	ck_assert_int_eq(filediff_end(d), -1);
	filediff_free(d);
}
END_TEST

#define NLINES	3000

/* A model: the lines of the file, in order. */
static char	*model[NLINES * 2];
static size_t	 nmodel;

static void
model_write(int in_place)
{
	char	*text, *p;
	size_t	 i, len;

	for (len = 1, i = 0; i < nmodel; i++)
		len += strlen(model[i]) + 1;
	ck_assert_ptr_nonnull(p = text = malloc(len));
	for (i = 0; i < nmodel; i++)
		p += sprintf(p, "%s\n", model[i]);
	*p = '\0';
	put(text, in_place);
	free(text);
}

START_TEST(test_random)
{
	struct filediff	*d;
	static struct seen s;
	char		 want[65536], line[64], *old[8];
	size_t		 i, k, at, wl, nold;
	int		 step, op, app;
	unsigned int	 seed = 27;

	for (i = 0; i < NLINES; i++) {
		snprintf(line, sizeof(line), "d%zu.example", i);
		model[i] = strdup(line);
	}
	nmodel = NLINES;
	model_write(0);
	d = record();
	for (step = 0; step < 200; step++) {
		op = rand_r(&seed) % 3;
		wl = 0;
		want[0] = '\0';
		nold = 0;
		if (op == 0) {
			/* append up to 3 lines, in place */
			k = rand_r(&seed) % 3 + 1;
			for (i = 0; i < k; i++) {
				snprintf(line, sizeof(line), "n%d.%zu.example",
				    step, i);
				model[nmodel++] = strdup(line);
				wl += (size_t)snprintf(want + wl,
				    sizeof(want) - wl, "+%zu:%s\n", nmodel,
				    line);
			}
			model_write(1);
		} else {
			/* change (op 1) or remove (op 2) one line, renamed */
			at = (size_t)rand_r(&seed) % nmodel;
			old[nold++] = model[at];
			if (op == 1) {
				snprintf(line, sizeof(line), "c%d.example",
				    step);
				model[at] = strdup(line);
				wl += (size_t)snprintf(want + wl,
				    sizeof(want) - wl, "-%s\n+%zu:%s\n",
				    old[0], at + 1, line);
			} else {
				memmove(model + at, model + at + 1,
				    (nmodel - at - 1) * sizeof(*model));
				nmodel--;
				wl += (size_t)snprintf(want + wl,
				    sizeof(want) - wl, "-%s\n", old[0]);
			}
			model_write(0);
		}
		ck_assert_int_eq(diff(&d, &s, 100, &app), FILEDIFF_OK);
		ck_assert_int_eq(app, op == 0);
		ck_assert_str_eq(s.buf, want);
		for (i = 0; i < nold; i++)
			free(old[i]);
	}
	for (i = 0; i < nmodel; i++)
		free(model[i]);
	filediff_free(d);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("filediff");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_append);
	tcase_add_test(tc, test_edit);
	tcase_add_test(tc, test_twice);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_changed_while_read);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
