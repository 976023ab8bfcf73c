/*
 * check_exportbelow - export_below(): a table brought from one generation
 * to the next by the entries below the changed names equals the table
 * exported whole from the next generation, byte for byte
 *
 * Static mode's tables (access, relay_domains, transport, with its
 * flags) of a rule set and of a generation of it (overlay.h) are exported
 * whole; the entries export_below() gives at and below the names whose
 * patterns changed (overlay_walk_changes()) replace those of the old
 * table; the result must equal the new table.  Named cases (a namespace
 * rule, an exact rule, a deny inside a namespace, a removal, a route
 * change), then a random sequence of changes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "export.h"
#include "kvtable.h"
#include "overlay.h"
#include "ruleset.h"
#include "testutil.h"

#define NTABLES	3
#define STEPS	150

static const enum export_format formats[NTABLES] = {
	EXPORT_POSTFIX_ACCESS, EXPORT_POSTFIX_RELAY_DOMAINS,
	EXPORT_POSTFIX_TRANSPORT,
};
static const int flags = EXPORT_DENY_BY_ACCESS | EXPORT_RECIPIENTS;

static char	tmpdir[] = "/tmp/check_exportbelow.XXXXXX";
static char	list_path[300];

/* The changed names (pattern without its prefix). */
struct changes {
	char	*name[256];
	size_t	 n;
};

static int
note_change(const char *pattern, const struct rule *rule, void *arg)
{
	struct changes *ch = arg;

	(void)rule;
	ck_assert_uint_lt(ch->n, 256);
	ch->name[ch->n++] = strdup(pattern[0] == '#' || pattern[0] == '.' ?
	    pattern + 1 : pattern);
	return 0;
}

/* key's domain is one of the names or below one */
static int
in_scope(const struct changes *ch, const char *key)
{
	const char	*d = export_key_domain(key), *p;
	size_t		 i;

	for (p = d; p != NULL; p = strchr(p, '.') != NULL ?
	    strchr(p, '.') + 1 : NULL)
		for (i = 0; i < ch->n; i++)
			if (strcmp(p, ch->name[i]) == 0)
				return 1;
	return 0;
}

/*
 * The tables of old brought to new through export_below(): equal to the
 * whole export of new, or both refused.  1 when new exports.
 */
static int
check_step(const struct config *old, const struct config *new)
{
	struct kvtable	 full_old[NTABLES], full_new[NTABLES];
	struct kvtable	 below_old[NTABLES], below_new[NTABLES], got;
	struct changes	 ch;
	char		 err[512], err2[512];
	size_t		 t, i;
	int		 rc_full, rc_below;

	memset(&ch, 0, sizeof(ch));
	ck_assert_int_eq(overlay_walk_changes(old->rules, new->rules,
	    note_change, &ch), 0);
	for (t = 0; t < NTABLES; t++) {
		kvtable_init(&full_old[t]);
		kvtable_init(&full_new[t]);
		kvtable_init(&below_old[t]);
		kvtable_init(&below_new[t]);
	}
	ck_assert_msg(export_tables(old, formats, NTABLES, flags, full_old,
	    NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(export_below(old, (const char *const *)ch.name, ch.n,
	    formats, NTABLES, flags, below_old, err, sizeof(err)) == 0, "%s",
	    err);
	rc_full = export_tables(new, formats, NTABLES, flags, full_new, NULL,
	    err, sizeof(err));
	rc_below = export_below(new, (const char *const *)ch.name, ch.n,
	    formats, NTABLES, flags, below_new, err2, sizeof(err2));
	ck_assert_msg(rc_full == rc_below, "whole: %d %s; below: %d %s",
	    rc_full, rc_full ? err : "", rc_below, rc_below ? err2 : "");
	if (rc_full == 0)
		for (t = 0; t < NTABLES; t++) {
			kvtable_init(&got);
			for (i = 0; i < full_old[t].n; i++)
				if (!in_scope(&ch, full_old[t].v[i].key))
					kvtable_add(&got, full_old[t].v[i].key,
					    full_old[t].v[i].value);
			for (i = 0; i < below_new[t].n; i++)
				if (in_scope(&ch, below_new[t].v[i].key))
					kvtable_add(&got, below_new[t].v[i].key,
					    below_new[t].v[i].value);
			kvtable_sort(&got);
			kvtable_sort(&full_new[t]);
			kvtable_sort(&full_old[t]);
			ck_assert_uint_eq(got.n, full_new[t].n);
			for (i = 0; i < got.n; i++) {
				ck_assert_str_eq(got.v[i].key,
				    full_new[t].v[i].key);
				ck_assert_str_eq(got.v[i].value,
				    full_new[t].v[i].value);
			}
			/* the old entries below the names are the old table's */
			for (i = 0; i < below_old[t].n; i++)
				ck_assert_ptr_nonnull(kvtable_get(&full_old[t],
				    below_old[t].v[i].key));
			kvtable_free(&got);
		}
	for (t = 0; t < NTABLES; t++) {
		kvtable_free(&full_old[t]);
		kvtable_free(&full_new[t]);
		kvtable_free(&below_old[t]);
		kvtable_free(&below_new[t]);
	}
	for (i = 0; i < ch.n; i++)
		free(ch.name[i]);
	return rc_full == 0;
}

static struct config *
load_lines(const char *lines)
{
	FILE	*fp;
	char	 text[sizeof(list_path) + 32];

	fp = fopen(list_path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(lines, fp);
	fclose(fp);
	snprintf(text, sizeof(text), "domains_file = \"%s\";\n", list_path);
	return unit_config_load(text);
}

/* new: a generation of old with its rules (shares the rest of old) */
static struct config
next_of(const struct config *old, struct ruleset **set)
{
	struct config	 c = *old;

	*set = overlay_next(old->rules);
	ck_assert_ptr_nonnull(*set);
	c.rules = *set;
	return c;
}

static void
add(struct ruleset *set, const char *pattern, const char *relay,
    const char *host)
{
	struct rule_spec s;
	char		 err[256];

	memset(&s, 0, sizeof(s));
	s.relay = relay;
	s.smarthost = host;
	ck_assert_msg(ruleset_add(set, pattern, &s, err, sizeof(err)) == 0,
	    "%s: %s", pattern, err);
}

static const char base_lines[] =
    "example.com smarthost=[192.0.2.1]\n"
    "sub.example.com\n"
    "deep.sub.example.com relay=deny\n"
    "#exact.example\n"
    ".subs.example smarthost=[192.0.2.2]\n"
    "denied.example relay=deny\n"
    "#ok.denied.example\n"
    "other.test smarthost=[192.0.2.3]\n";

START_TEST(test_named)
{
	struct config	*c, n;
	struct ruleset	*set;

	c = load_lines(base_lines);
	/* a namespace rule added, one whose names carry rules below */
	n = next_of(c, &set);
	add(set, "new.example", NULL, "[192.0.2.9]");
	add(set, "x.example.com", NULL, "[192.0.2.9]");
	ck_assert(check_step(c, &n));
	ruleset_free(set);
	/* an exact rule, over a namespace */
	n = next_of(c, &set);
	add(set, "#example.com", "deny", NULL);
	ck_assert(check_step(c, &n));
	ruleset_free(set);
	/* a deny inside a namespace (and a carve-out of it) */
	n = next_of(c, &set);
	add(set, "in.example.com", "deny", NULL);
	add(set, "#ok.in.example.com", NULL, "[192.0.2.4]");
	ck_assert(check_step(c, &n));
	ruleset_free(set);
	/* removals: the namespace above rules, a deny */
	n = next_of(c, &set);
	ck_assert_int_eq(overlay_remove(set, "example.com"), 1);
	ck_assert_int_eq(overlay_remove(set, "denied.example"), 1);
	ck_assert(check_step(c, &n));
	ruleset_free(set);
	/* a route change: the same pattern, another smart host */
	n = next_of(c, &set);
	ck_assert_int_eq(overlay_remove(set, "example.com"), 1);
	add(set, "example.com", NULL, "[192.0.2.7]:2525");
	ck_assert_int_eq(overlay_remove(set, ".subs.example"), 1);
	add(set, ".subs.example", NULL, NULL);
	ck_assert(check_step(c, &n));
	ruleset_free(set);
	config_free(c);
}
END_TEST

static unsigned long	lcg_state;

static unsigned
rnd(unsigned n)
{
	lcg_state = lcg_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((lcg_state >> 33) % n);
}

/* A random sequence: each step a generation of the last that exported. */
START_TEST(test_random)
{
	static const char *names[] = { "t", "a.t", "b.t", "a.a.t", "b.a.t",
	    "c.a.t", "a.b.t", "x.a.a.t", "y.b.a.t", "u", "a.u", "b.a.u" };
	static const char *prefix[] = { "#", "", "." };
	static const char *relays[] = { NULL, NULL, NULL, "deny", "trusted" };
	static const char *hosts[] = { NULL, "[192.0.2.1]", "[192.0.2.2]" };
	const size_t	 nn = sizeof(names) / sizeof(names[0]);
	struct config	*c, cur, n;
	struct ruleset	*set, *held = NULL;
	char		 pattern[64];
	const char	*relay;
	size_t		 step, k, ok = 0;

	lcg_state = 27;
	c = load_lines("a.t\nb.u relay=deny\n");
	cur = *c;
	for (step = 0; step < STEPS; step++) {
		n = next_of(&cur, &set);
		for (k = 0; k < 1 + rnd(3); k++) {
			snprintf(pattern, sizeof(pattern), "%s%s",
			    prefix[rnd(3)], names[rnd(nn)]);
			if (overlay_remove(set, pattern) == 1 && rnd(2))
				continue;
			relay = relays[rnd(5)];
			add(set, pattern, relay, relay != NULL &&
			    strcmp(relay, "deny") == 0 ? NULL : hosts[rnd(3)]);
		}
		if (!check_step(&cur, &n)) {
			ruleset_free(set);
			continue;
		}
		ok++;
		ruleset_free(held);
		held = set;
		cur.rules = set;
	}
	ck_assert_uint_gt(ok, STEPS / 4);
	ruleset_free(held);
	config_free(c);
}
END_TEST

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(list_path, sizeof(list_path), "%s/domains.list", tmpdir);
}

static void
teardown(void)
{
	unlink(list_path);
	rmdir(tmpdir);
}

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("exportbelow");
	tc = tcase_create("exportbelow");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_named);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
