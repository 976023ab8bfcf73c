/*
 * check_copytext - unit tests of lib/util/copytext.c and of the pieces the
 * rules_source load is made of (config_parse_domains_row(), ruleset_any())
 *
 * copytext_split(): tab-separated fields, \N for NULL, every escape of
 * PostgreSQL's text format, and rows refused (wrong field count, a lone
 * backslash, a NUL).  copytext_put() then copytext_split() gives the
 * values back.  config_parse_domains_row() adds a row exactly as the
 * domains_file line of it would be added, with the same messages.
 * ruleset_any() sees a rule that sets tls and only then.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "copytext.h"
#include "rulerow.h"
#include "ruleset.h"

START_TEST(test_split)
{
	char		 row[] = "a.example\t\\N\tx\\ty\\\\z\\n\t\\101\\x41\\q\n";
	const char	*f[4];
	char		 err[128];

	ck_assert_int_eq(copytext_split(row, strlen(row), f, 4, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(f[0], "a.example");
	ck_assert_ptr_null(f[1]);
	ck_assert_str_eq(f[2], "x\ty\\z\n");
	ck_assert_str_eq(f[3], "AAq");
}
END_TEST

START_TEST(test_split_edges)
{
	char		 row[64];
	const char	*f[3];
	char		 err[128];

	/* empty fields, no newline, "\N" only when alone */
	strcpy(row, "\t\\\\N\t");
	ck_assert_int_eq(copytext_split(row, strlen(row), f, 3, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(f[0], "");
	ck_assert_str_eq(f[1], "\\N");
	ck_assert_str_eq(f[2], "");
	/* \b \f \v, octal cut at three digits, \x without a digit */
	strcpy(row, "\\b\\f\\v\t\\1011\t\\xg");
	ck_assert_int_eq(copytext_split(row, strlen(row), f, 3, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(f[0], "\b\f\v");
	ck_assert_str_eq(f[1], "A1");
	ck_assert_str_eq(f[2], "xg");
}
END_TEST

static const struct {
	const char	*row;
	size_t		 nfield;
	const char	*why;
} bad_rows[] = {
	{ "a\tb\n", 3, "2 fields, not 3" },
	{ "a\tb\tc\n", 2, "more than 2" },
	{ "a\\", 1, "lone backslash" },
	{ "a\\0b", 1, "NUL" },
	{ "a\\x00", 1, "NUL" },
};

START_TEST(test_split_bad)
{
	char		 row[64], err[128];
	const char	*f[4];

	snprintf(row, sizeof(row), "%s", bad_rows[_i].row);
	err[0] = '\0';
	ck_assert_int_eq(copytext_split(row, strlen(row), f,
	    bad_rows[_i].nfield, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, bad_rows[_i].why) != NULL, "%s: %s",
	    bad_rows[_i].row, err);
}
END_TEST

START_TEST(test_put_round_trip)
{
	static const char *v[] = { "p.example", NULL, "a\tb\\c\nd\re",
	    "", "\\N" };
	const char	*f[5];
	char		*buf, err[128];
	size_t		 len, i;
	FILE		*fp;

	buf = NULL;
	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(copytext_put(fp, v[i], i == 4), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(copytext_split(buf, len, f, 5, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		if (v[i] == NULL)
			ck_assert_ptr_null(f[i]);
		else
			ck_assert_str_eq(f[i], v[i]);
	}
	free(buf);
}
END_TEST

/* a row and its line: the same result, the same message */
static void
row_and_line(const struct rulerow *r, int want)
{
	struct ruleset	*a, *b;
	char		 line[4097], ea[256], eb[256];
	int		 ra, rb;

	ck_assert_int_eq(rulerow_format(r, line, sizeof(line), ea,
	    sizeof(ea)), 0);
	a = ruleset_new();
	b = ruleset_new();
	ea[0] = eb[0] = '\0';
	ra = config_parse_domains_row(a, r, ea, sizeof(ea));
	rb = config_parse_domains_line(b, line, strlen(line), eb, sizeof(eb));
	ck_assert_int_eq(ra, want);
	ck_assert_int_eq(rb, want);
	ck_assert_str_eq(ea, eb);
	ck_assert_uint_eq(ruleset_count(a), ruleset_count(b));
	ruleset_free(a);
	ruleset_free(b);
}

START_TEST(test_parse_row)
{
	struct rulerow	 r;

	memset(&r, 0, sizeof(r));
	r.pattern = ".example.org";
	r.key[0] = "smarthost";
	r.value[0] = "[192.0.2.1]:25";
	r.key[1] = "tls";
	r.value[1] = "encrypt";
	r.n = 2;
	row_and_line(&r, 0);
	r.value[1] = "maybe";
	row_and_line(&r, -1);
	r.key[1] = "colour";
	row_and_line(&r, -1);
	r.key[1] = "smarthost";
	row_and_line(&r, -1);
	r.pattern = "bad..example";
	r.n = 1;
	row_and_line(&r, -1);
}
END_TEST

static int
sets_tls(const struct rule *rule)
{
	return rule->tls != 0;
}

START_TEST(test_any)
{
	struct ruleset	*set;
	struct rule_spec spec;
	char		 err[256], pattern[64];
	int		 i;

	set = ruleset_new();
	ck_assert_int_eq(ruleset_any(set, sets_tls), 0);
	memset(&spec, 0, sizeof(spec));
	spec.smarthost = "[192.0.2.1]";
	for (i = 0; i < 100; i++) {
		snprintf(pattern, sizeof(pattern), "d%d.example", i);
		ck_assert_int_eq(ruleset_add(set, pattern, &spec, err,
		    sizeof(err)), 0);
	}
	ck_assert_int_eq(ruleset_any(set, sets_tls), 0);
	spec.tls = "encrypt";
	ck_assert_int_eq(ruleset_add(set, "tls.example", &spec, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(ruleset_any(set, sets_tls), 1);
	ruleset_free(set);
	ck_assert_int_eq(ruleset_any(NULL, sets_tls), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("copytext");
	TCase	*tc = tcase_create("copytext");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_split_edges);
	tcase_add_loop_test(tc, test_split_bad, 0,
	    (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, test_put_round_trip);
	tcase_add_test(tc, test_parse_row);
	tcase_add_test(tc, test_any);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
