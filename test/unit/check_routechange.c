/*
 * check_routechange - unit tests of the record of changed routes
 * (lib/routechange.c)
 *
 * Two rule sets that differ in a smart host, a transport, a removed and
 * an added rule, a deny rule turned relay, and rules that stay the same:
 * exactly the names whose route differs are recorded, with their old
 * smart host: the MTA's choice of that old route is recognised at the
 * name and below it (its age returned), another route, the new one, and
 * names that did not change are not; the record ends after
 * ROUTECHANGE_KEEP seconds; reloads in a row each keep their own record;
 * nothing is recorded without an old rule set.
 */
#include <check.h>
#include <stdlib.h>

#include "config.h"
#include "routechange.h"
#include "testutil.h"

static const char old_text[] =
    "domains = (\n"
    "  { match = \"a.example\"; smarthost = \"[192.0.2.1]\"; },\n"
    "  { match = \"b.example\"; smarthost = \"[192.0.2.2]\"; },\n"
    "  { match = \"#c.example\"; smarthost = \"[192.0.2.3]\"; },\n"
    "  { match = \".d.example\"; smarthost = \"[192.0.2.4]\"; },\n"
    "  { match = \"e.example\"; relay = \"deny\"; },\n"
    "  { match = \"f.example\"; smarthost = \"[192.0.2.6]\"; },\n"
    "  { match = \"g.example\"; }\n"
    ");\n";

static const char new_text[] =
    "domains = (\n"
    "  { match = \"a.example\"; smarthost = \"[192.0.2.9]\"; },\n"
    "  { match = \"#c.example\"; smarthost = \"[192.0.2.3]\"; },\n"
    "  { match = \".d.example\"; smarthost = \"[192.0.2.4]\";\n"
    "    transport = \"relay\"; },\n"
    "  { match = \"e.example\"; smarthost = \"[192.0.2.5]\"; },\n"
    "  { match = \"f.example\"; smarthost = \"[192.0.2.6]\"; },\n"
    "  { match = \"g.example\"; },\n"
    "  { match = \"h.example\"; smarthost = \"mx:h.example\"; }\n"
    ");\n";

/* f.example moves to another smart host */
static const char third_text[] =
    "domains = (\n"
    "  { match = \"a.example\"; smarthost = \"[192.0.2.9]\"; },\n"
    "  { match = \"f.example\"; smarthost = \"[192.0.2.7]\"; }\n"
    ");\n";

/* The age of the MTA's choice of an old route of domain, or -1. */
static long
old(struct routechange *rc, const char *domain, const char *host, time_t now)
{
	return routechange_old_route(rc, domain, "smtp", host, now);
}

START_TEST(test_changed_names)
{
	static const struct {
		const char	*domain, *host;
		long		 age;
	} cases[] = {
		{ "a.example", "[192.0.2.1]", 1 },	/* smart host */
		{ "x.y.a.example", "[192.0.2.1]", 1 },
		{ "a.example", "[192.0.2.9]", -1 },	/* the new one */
		{ "a.example", "[192.0.2.8]", -1 },	/* another */
		{ "b.example", "[192.0.2.2]", 1 },	/* removed */
		{ "x.d.example", "[192.0.2.4]", 1 },	/* transport */
		{ "e.example", "[192.0.2.5]", -1 },	/* deny: no old route */
		{ "h.example", "h.example", -1 },	/* added: none */
		{ "c.example", "[192.0.2.3]", -1 },	/* the same */
		{ "f.example", "[192.0.2.6]", -1 },
		{ "xa.example", "[192.0.2.1]", -1 },	/* a label boundary */
		{ "other.test", "[192.0.2.1]", -1 },
	};
	struct config		*o, *n;
	struct routechange	*rc;
	size_t			 i;

	o = unit_config_load(old_text);
	n = unit_config_load(new_text);
	rc = routechange_new();
	ck_assert_ptr_nonnull(rc);
	ck_assert_int_eq(routechange_note(rc, NULL, n, 1000), 0);
	ck_assert_int_eq(old(rc, "a.example", "[192.0.2.1]", 1000), -1);
	/* a, b, .d, e, h */
	ck_assert_int_eq(routechange_note(rc, o, n, 1000), 5);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(old(rc, cases[i].domain, cases[i].host, 1001) ==
		    cases[i].age, "%s %s: want %ld", cases[i].domain,
		    cases[i].host, cases[i].age);
	/* kept ROUTECHANGE_KEEP seconds */
	ck_assert_int_eq(old(rc, "a.example", "[192.0.2.1]",
	    1000 + ROUTECHANGE_KEEP - 1), ROUTECHANGE_KEEP - 1);
	ck_assert_int_eq(old(rc, "a.example", "[192.0.2.1]",
	    1000 + ROUTECHANGE_KEEP), -1);
	/* the same rules again: nothing changed */
	ck_assert_int_eq(routechange_note(rc, n, n, 9000), 0);
	routechange_free(rc);
	config_free(o);
	config_free(n);
}
END_TEST

START_TEST(test_reloads_in_a_row)
{
	struct config		*o, *n, *third;
	struct routechange	*rc;

	o = unit_config_load(old_text);
	n = unit_config_load(new_text);
	third = unit_config_load(third_text);
	rc = routechange_new();
	ck_assert_ptr_nonnull(rc);
	ck_assert_int_gt(routechange_note(rc, o, n, 100), 0);
	ck_assert_int_gt(routechange_note(rc, n, third, 120), 0);
	/* each reload keeps its own record and age */
	ck_assert_int_eq(old(rc, "a.example", "[192.0.2.1]", 130), 30);
	ck_assert_int_eq(old(rc, "f.example", "[192.0.2.6]", 130), 10);
	ck_assert_int_eq(old(rc, "a.example", "[192.0.2.1]",
	    100 + ROUTECHANGE_KEEP), -1);
	ck_assert_int_eq(old(rc, "f.example", "[192.0.2.6]",
	    100 + ROUTECHANGE_KEEP), ROUTECHANGE_KEEP - 20);
	routechange_free(rc);
	routechange_free(NULL);
	config_free(o);
	config_free(n);
	config_free(third);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("routechange");
	tc = tcase_create("routechange");
	tcase_add_test(tc, test_changed_names);
	tcase_add_test(tc, test_reloads_in_a_row);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
