/*
 * check_rulerow - unit tests of lib/rulerow.c and of the rules_source and
 * rules_cache settings of config_load()
 *
 * rulerow_format(): a row becomes the domains_file line that the one
 * parser accepts (quoting, escapes, empty values), and a row that cannot
 * be a line is refused with a reason.  rulerow_split() gives the row back
 * (round trip).  The settings: rules_cache is made relative to the config
 * file, rules_source needs "postgresql:" and is never echoed in errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "rulerow.h"
#include "ruleset.h"

static void
row_set(struct rulerow *r, const char *pattern, size_t n, const char **kv)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	r->pattern = pattern;
	r->n = n;
	for (i = 0; i < n; i++) {
		r->key[i] = kv[2 * i];
		r->value[i] = kv[2 * i + 1];
	}
}

START_TEST(test_format)
{
	static const char *kv[] = {
		"relay", "deny",
		"reply", "550 5.7.1 say \"no\" \\ now",
		"smarthost", ""
	};
	struct rulerow	 r, back;
	struct ruleset	*set;
	char		 line[512], copy[512], err[256];
	size_t		 i;

	row_set(&r, "example.com", 2, kv);
	ck_assert_int_eq(rulerow_format(&r, line, sizeof(line), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(line, "example.com relay=deny "
	    "reply=\"550 5.7.1 say \\\"no\\\" \\\\ now\"");
	set = ruleset_new();
	ck_assert_msg(config_parse_domains_line(set, line, strlen(line),
	    err, sizeof(err)) == 0, "%s: %s", line, err);
	ruleset_free(set);
	/* split gives the row back */
	snprintf(copy, sizeof(copy), "%s", line);
	ck_assert_int_eq(rulerow_split(copy, &back, err, sizeof(err)), 0);
	ck_assert_str_eq(back.pattern, "example.com");
	ck_assert_uint_eq(back.n, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_str_eq(back.key[i], kv[2 * i]);
		ck_assert_str_eq(back.value[i], kv[2 * i + 1]);
	}
	/* an empty value is quoted, and the parser judges it */
	row_set(&r, "#x.example", 3, kv);
	ck_assert_int_eq(rulerow_format(&r, line, sizeof(line), err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(line, " smarthost=\"\""));
	set = ruleset_new();
	ck_assert_int_eq(config_parse_domains_line(set, line, strlen(line),
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "smarthost"));
	ruleset_free(set);
}
END_TEST

START_TEST(test_unknown_key)
{
	static const char *kv[] = { "colour", "blue" };
	struct rulerow	 r;
	struct ruleset	*set;
	char		 line[512], err[256];

	row_set(&r, "example.com", 1, kv);
	ck_assert_int_eq(rulerow_format(&r, line, sizeof(line), err,
	    sizeof(err)), 0);
	set = ruleset_new();
	ck_assert_int_eq(config_parse_domains_line(set, line, strlen(line),
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown setting \"colour\"");
	ruleset_free(set);
}
END_TEST

static const struct {
	const char	*pattern;
	const char	*key;
	const char	*value;
	const char	*why;
} bad_rows[] = {
	{ "", NULL, NULL, "empty pattern" },
	{ NULL, NULL, NULL, "empty pattern" },
	{ "a b", NULL, NULL, "blank or quote in the pattern" },
	{ "a\"b", NULL, NULL, "blank or quote in the pattern" },
	{ "#", NULL, NULL, "pattern \"#\" is a comment" },
	{ "x.example", "re lay", "always", "bad column name \"re lay\"" },
	{ "x.example", "relay=", "always", "bad column name \"relay=\"" },
	{ "x.example", "", "always", "bad column name \"\"" },
	{ "x.example", "reply", "550 5.7.1 a\nb", "line break in reply" },
	{ "x.example", "reply", "550 5.7.1 a\rb", "line break in reply" },
};

START_TEST(test_bad_row)
{
	struct rulerow	 r;
	char		 line[512], err[256];

	memset(&r, 0, sizeof(r));
	r.pattern = bad_rows[_i].pattern;
	if (bad_rows[_i].key != NULL) {
		r.n = 1;
		r.key[0] = bad_rows[_i].key;
		r.value[0] = bad_rows[_i].value;
	}
	ck_assert_int_eq(rulerow_format(&r, line, sizeof(line), err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, bad_rows[_i].why);
}
END_TEST

START_TEST(test_too_long)
{
	struct rulerow	 r;
	char		 line[32], err[256];
	static const char *kv[] = { "reply", "550 5.7.1 far too long a text" };

	row_set(&r, "example.com", 1, kv);
	ck_assert_int_eq(rulerow_format(&r, line, sizeof(line), err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "rule longer than 31 octets");
}
END_TEST

START_TEST(test_split)
{
	struct rulerow	 r;
	char		 line[512], err[256];
	size_t		 i;

	snprintf(line, sizeof(line), "   ");
	ck_assert_int_eq(rulerow_split(line, &r, err, sizeof(err)), 1);
	snprintf(line, sizeof(line), "# comment");
	ck_assert_int_eq(rulerow_split(line, &r, err, sizeof(err)), 1);
	snprintf(line, sizeof(line), "#exact.example relay=deny\n");
	ck_assert_int_eq(rulerow_split(line, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.pattern, "#exact.example");
	ck_assert_str_eq(r.value[0], "deny");
	snprintf(line, sizeof(line), "x.example relay");
	ck_assert_int_eq(rulerow_split(line, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected key=value, got \"relay\"");
	snprintf(line, sizeof(line), "x.example reply=\"550 5.7.1");
	ck_assert_int_eq(rulerow_split(line, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad reply value: unterminated quoted string");
	line[0] = '\0';
	strcat(line, "x.example");
	for (i = 0; i <= RULEROW_FIELDS_MAX; i++)
		strcat(line, " k=v");
	ck_assert_int_eq(rulerow_split(line, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 16 fields");
}
END_TEST

/* config_load() of text; NULL with err on error */
static struct config *
load(const char *dir, const char *text, char *err, size_t errlen)
{
	char		 path[256];
	FILE		*fp;
	struct config	*c;

	snprintf(path, sizeof(path), "%s/mr.conf", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	c = config_load(path, err, errlen);
	unlink(path);
	return c;
}

START_TEST(test_settings)
{
	char		 dir[64], err[512], want[256];
	struct config	*c;

	snprintf(dir, sizeof(dir), "/tmp/check_rulerow.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	c = load(dir, "rules_source = \"postgresql:dbname=mr password=x\";\n"
	    "rules_cache = \"cache/rules\";\n", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->rules_source, "postgresql:dbname=mr password=x");
	snprintf(want, sizeof(want), "%s/cache/rules", dir);
	ck_assert_str_eq(c->rules_cache, want);
	config_free(c);

	c = load(dir, "rules_source = \"mysql:db=x password=hunter2\";\n",
	    err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "mr.conf:1: rules_source must be "
	    "\"postgresql:CONNINFO\""));
	ck_assert_ptr_null(strstr(err, "hunter2"));

	c = load(dir, "rules_source = \"postgresql:\";\n", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "rules_source must be"));

	c = load(dir, "rules_cache = \"/var/cache/x\";\n", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "mr.conf:1: rules_cache without "
	    "rules_source"));

	c = load(dir, "rules_source = \"postgresql:dbname=mr\";\n"
	    "rules_cache = \"\";\n", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "mr.conf:2: rules_cache must not "
	    "be empty"));
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("rulerow");
	tc = tcase_create("rulerow");
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_loop_test(tc, test_bad_row, 0,
	    (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_settings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
