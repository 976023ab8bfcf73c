/*
 * check_builder - unit tests of the configuration builder over a finished
 * configuration, config_begin_over() (lib/config.c): the file rules of a
 * configuration loaded before plus the rows of a rules_cache, one rule set
 * finished once
 *
 * Every test writes its files into a fresh temporary directory: a
 * configuration (inline rules and a domains_file), loaded with
 * config_load(), then rows in domains_file format (the rules_cache) added
 * through a builder over it.  They prove that the file rules and the rows
 * make one rule set whose TLS policy table covers both; that a smart host
 * given one policy by a file rule and another by a row is refused with
 * both rules named; and that a failure (that conflict, a bad row after
 * good ones, a file rule refused on copy) leaves the configuration
 * exactly as it was: its rule set, TLS and credentials tables, no row of
 * the cache in it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ruleset.h"
#include "tlspolicy.h"
#include "testutil.h"

static char	dir[64];

/* a configuration: inline rules, one with tls, and a domains_file */
static const char conf_text[] =
    "domains_file = \"file.rules\";\n"
    "domains = (\n"
    " { match = \"a.test\"; smarthost = \"[192.0.2.1]\"; tls = \"encrypt\"; },\n"
    " { match = \"lab.a.test\"; relay = \"deny\"; reply = \"550 5.7.1 No\"; }\n"
    ");\n";
static const char file_rules[] =
    "b.test smarthost=[192.0.2.2] relay=trusted\n"
    "#c.test smarthost=[192.0.2.5] transport=relay\n";

static void
setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "check_builder");
}

static void
teardown(void)
{
	unit_tmpdir_remove(dir);
}

/* Write dir/name into path. */
static void
put(const char *name, const char *text, char *path, size_t pathlen)
{
	FILE	*fp;

	snprintf(path, pathlen, "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

/* The configuration of conf_text and file_rules, loaded. */
static struct config *
load(void)
{
	char		 path[128], err[1024];
	struct config	*c;

	put("file.rules", file_rules, path, sizeof(path));
	put("milter-relay.conf", conf_text, path, sizeof(path));
	c = config_load(path, err, sizeof(err));
	ck_assert_msg(c != NULL, "config_load: %s", err);
	ck_assert_uint_eq(ruleset_count(c->rules), 4);
	ck_assert_ptr_nonnull(c->tls);
	return c;
}

/* The rule covering domain, or NULL. */
static const struct rule *
rule_of(const struct config *c, const char *domain)
{
	return ruleset_lookup(c->rules, domain, NULL);
}

/* 1 when the TLS table has a policy for the next hop key. */
static int
has_tls(const struct config *c, const char *key)
{
	char	value[256];

	return c->tls != NULL && tlspolicy_postfix(c->tls, key, strlen(key),
	    value, sizeof(value)) > 0;
}

/* What a configuration was: its tables, its rule count. */
struct before {
	struct ruleset	*rules;
	struct tlspolicy *tls;
	struct saslpasswd *sasl;
	size_t		 n;
};

static struct before
before_of(const struct config *c)
{
	struct before	 b = { c->rules, c->tls, c->sasl,
	    ruleset_count(c->rules) };

	return b;
}

/* c exactly as it was, and none of the rows added */
static void
unchanged(const struct config *c, const struct before *was)
{
	ck_assert_ptr_eq(c->rules, was->rules);
	ck_assert_ptr_eq(c->tls, was->tls);
	ck_assert_ptr_eq(c->sasl, was->sasl);
	ck_assert_uint_eq(ruleset_count(c->rules), was->n);
	ck_assert_ptr_null(rule_of(c, "row1.test"));
	ck_assert_ptr_null(rule_of(c, "row2.test"));
	ck_assert_ptr_nonnull(rule_of(c, "x.b.test"));
	ck_assert(has_tls(c, "[192.0.2.1]"));
}

/* the file rules plus the rows: one rule set, one TLS table over both */
START_TEST(test_file_and_rows)
{
	struct config	*c, *out;
	struct config_builder *b;
	const struct rule *r;
	char		 path[128], err[1024];

	c = load();
	put("cache", "row1.test smarthost=[192.0.2.3] tls=verify\n"
	    "row2.test relay=deny reply=\"550 5.7.1 Not here\"\n", path,
	    sizeof(path));
	b = config_begin_over(c, err, sizeof(err));
	ck_assert_msg(b != NULL, "config_begin_over: %s", err);
	ck_assert_uint_eq(ruleset_count(config_builder_rules(b)), 4);
	ck_assert_msg(config_builder_file(b, path, err, sizeof(err)) == 0,
	    "rows: %s", err);
	out = config_finish(b, err, sizeof(err));
	ck_assert_msg(out == c, "config_finish: %s", err);
	ck_assert_uint_eq(ruleset_count(c->rules), 6);
	/* the file rules as they were */
	r = rule_of(c, "x.a.test");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->smarthost, "[192.0.2.1]");
	ck_assert_int_eq(r->tls, TLS_ENCRYPT);
	r = rule_of(c, "lab.a.test");
	ck_assert_int_eq(r->relay, RELAY_DENY);
	ck_assert_str_eq(r->reply, "550 5.7.1 No");
	r = rule_of(c, "b.test");
	ck_assert_int_eq(r->relay, RELAY_TRUSTED);
	ck_assert_ptr_null(rule_of(c, "x.c.test"));
	ck_assert_str_eq(rule_of(c, "c.test")->transport, "relay");
	/* the rows */
	ck_assert_str_eq(rule_of(c, "row1.test")->smarthost,
	    "[192.0.2.3]");
	ck_assert_int_eq(rule_of(c, "row2.test")->relay, RELAY_DENY);
	/* the TLS table: the file rule's hop and the row's */
	ck_assert(has_tls(c, "[192.0.2.1]"));
	ck_assert(has_tls(c, "[192.0.2.3]"));
	ck_assert(!has_tls(c, "[192.0.2.2]"));
	/* a pattern of the file given again by a row: a duplicate */
	put("cache", "b.test relay=deny\n", path, sizeof(path));
	b = config_begin_over(c, err, sizeof(err));
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(config_builder_file(b, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "b.test") != NULL, "%s", err);
	config_abort(b);
	ck_assert_int_eq(rule_of(c, "b.test")->relay, RELAY_TRUSTED);
	config_free(c);
}
END_TEST

/* a file rule and a row give one smart host two policies: refused */
START_TEST(test_tls_conflict)
{
	struct config	*c;
	struct config_builder *b;
	struct before	 was;
	char		 path[128], err[1024];

	c = load();
	was = before_of(c);
	put("cache", "row1.test smarthost=[192.0.2.3]\n"
	    "row2.test smarthost=[192.0.2.1] tls=verify\n", path,
	    sizeof(path));
	b = config_begin_over(c, err, sizeof(err));
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(config_builder_file(b, path, err, sizeof(err)), 0);
	ck_assert_ptr_null(config_finish(b, err, sizeof(err)));
	ck_assert_str_eq(err, "smart host [192.0.2.1] has tls = \"encrypt\" "
	    "in rule \"a.test\" but tls = \"verify\" in rule \"row2.test\": "
	    "Postfix looks TLS policy up by next hop");
	unchanged(c, &was);
	config_free(c);
}
END_TEST

/* a row refused after good ones: nothing of the cache added */
START_TEST(test_bad_row)
{
	struct config	*c;
	struct config_builder *b;
	struct before	 was;
	char		 path[128], err[1024], want[256];

	c = load();
	was = before_of(c);
	put("cache", "row1.test smarthost=[192.0.2.3]\n"
	    "row2.test relay=deny\n"
	    "row3.test relay=sometimes\n", path, sizeof(path));
	b = config_begin_over(c, err, sizeof(err));
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(config_builder_file(b, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3:", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	config_abort(b);
	unchanged(c, &was);
	config_free(c);
}
END_TEST

/* a file rule that cannot be made again (its list gone): no builder */
START_TEST(test_copy_refused)
{
	struct config	*c;
	struct config_builder *b;
	struct before	 was;
	char		 path[128], list[128], err[1024];

	put("list", "u@l.test\n", list, sizeof(list));
	put("file.rules", "b.test smarthost=[192.0.2.2] relay=trusted\n"
	    "l.test smarthost=[192.0.2.4] recipients=list "
	    "recipients_file=list\n", path, sizeof(path));
	put("milter-relay.conf", conf_text, path, sizeof(path));
	c = config_load(path, err, sizeof(err));
	ck_assert_msg(c != NULL, "config_load: %s", err);
	was = before_of(c);
	/* the list read again through its path: the copy says the same */
	b = config_begin_over(c, err, sizeof(err));
	ck_assert_msg(b != NULL, "config_begin_over: %s", err);
	ck_assert_uint_eq(ruleset_count(config_builder_rules(b)), was.n);
	ck_assert(rule_same(ruleset_lookup(config_builder_rules(b), "b.test",
	    NULL), rule_of(c, "b.test")));
	config_abort(b);
	ck_assert_ptr_eq(c->rules, was.rules);
	ck_assert_int_eq(unlink(list), 0);
	b = config_begin_over(c, err, sizeof(err));
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(err, "rule \"l.test\"") != NULL, "%s", err);
	ck_assert_ptr_eq(c->rules, was.rules);
	ck_assert_ptr_eq(c->tls, was.tls);
	ck_assert_uint_eq(ruleset_count(c->rules), was.n);
	config_free(c);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("builder");
	tc = tcase_create("builder");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_file_and_rows);
	tcase_add_test(tc, test_tls_conflict);
	tcase_add_test(tc, test_bad_row);
	tcase_add_test(tc, test_copy_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
