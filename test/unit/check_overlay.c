/*
 * check_overlay - unit tests of lib/overlay.c
 *
 * A randomized sequence of additions, replacements and removals applied
 * to a chain of generations (overlay_next()), each compared after every
 * step with a plain rule set built from scratch from a model of the
 * rules: every name's ruleset_lookup() (rule and matched length),
 * ruleset_has_pattern() of every pattern, ruleset_count(), and the
 * ruleset_walk() sequence.  Generations handed out earlier keep
 * answering as they did (readers keep the generation they hold), and
 * the errors of ruleset_add() are a plain set's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "overlay.h"
#include "ruleset.h"

#define NLABELS		4
#define NTLDS		2
#define MAXPAT		512
#define STEPS		400

static const char *const labels[NLABELS] = { "a", "bb", "a-b", "xn--bcher-kva" };
static const char *const tlds[NTLDS] = { "com", "org" };
static const char *const hosts[] = { NULL, "mx.example.net",
    "[192.0.2.7]:2525" };
static const char *const relays[] = { "always", "trusted", "deny" };

/* The model: every pattern the universe has, and its rule when set. */
struct model {
	char	 pattern[MAXPAT][64];
	int	 on[MAXPAT];
	int	 relay[MAXPAT];
	int	 host[MAXPAT];
	size_t	 n;
	char	 name[MAXPAT][64];	/* every name, for lookups */
	size_t	 nnames;
};

static void
model_init(struct model *m)
{
	char	 n[64];
	size_t	 t, i, j;
	int	 k;

	memset(m, 0, sizeof(*m));
	for (t = 0; t < NTLDS; t++) {
		snprintf(m->name[m->nnames++], 64, "%s", tlds[t]);
		for (i = 0; i < NLABELS; i++) {
			snprintf(m->name[m->nnames++], 64, "%s.%s", labels[i],
			    tlds[t]);
			for (j = 0; j < NLABELS; j++)
				snprintf(m->name[m->nnames++], 64, "%s.%s.%s",
				    labels[j], labels[i], tlds[t]);
		}
	}
	for (i = 0; i < m->nnames; i++) {
		if (strchr(m->name[i], '.') == NULL)
			continue;
		for (k = 0; k < 3; k++)
			snprintf(m->pattern[m->n++], 64, "%s%s",
			    k == 0 ? "#" : k == 1 ? "" : ".", m->name[i]);
	}
	/* names below the deepest patterns, and one no rule covers */
	for (i = 0, j = m->nnames; i < j && m->nnames < MAXPAT - 1; i++) {
		snprintf(n, sizeof(n), "deep.%s", m->name[i]);
		snprintf(m->name[m->nnames++], 64, "%s", n);
	}
	snprintf(m->name[m->nnames++], 64, "nothing.net");
}

static void
spec_of(const struct model *m, size_t i, struct rule_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->relay = relays[m->relay[i]];
	if (m->relay[i] != 2)
		s->smarthost = hosts[m->host[i]];
}

static struct ruleset *
model_build(const struct model *m)
{
	struct ruleset	*set;
	struct rule_spec s;
	char		 err[256];
	size_t		 i;

	set = ruleset_new();
	ck_assert_ptr_nonnull(set);
	for (i = 0; i < m->n; i++) {
		if (!m->on[i])
			continue;
		spec_of(m, i, &s);
		ck_assert_msg(ruleset_add(set, m->pattern[i], &s, err,
		    sizeof(err)) == 0, "%s: %s", m->pattern[i], err);
	}
	return set;
}

static int walked[MAXPAT];

struct trace {
	char	 buf[MAXPAT * 128];
	size_t	 len;
};

static int
trace_rule(const char *pattern, const struct rule *r, void *arg)
{
	struct trace	*t = arg;

	t->len += (size_t)snprintf(t->buf + t->len, sizeof(t->buf) - t->len,
	    "%s %d %s\n", pattern, r->relay, r->smarthost != NULL ?
	    r->smarthost : "-");
	return 0;
}

/* same - the generation answers as the set built from scratch */
static void
same(const struct model *m, const struct ruleset *gen,
    const struct ruleset *full)
{
	static struct trace	 a, b;
	const struct rule	*x, *y;
	size_t			 i, lx, ly;

	ck_assert_uint_eq(ruleset_count(gen), ruleset_count(full));
	for (i = 0; i < m->nnames; i++) {
		lx = ly = 0;
		x = ruleset_lookup(gen, m->name[i], &lx);
		y = ruleset_lookup(full, m->name[i], &ly);
		ck_assert_msg((x == NULL) == (y == NULL), "%s: %s", m->name[i],
		    x == NULL ? "no rule in the generation" : "a rule too many");
		if (x == NULL)
			continue;
		ck_assert_msg(x->kind == y->kind && x->relay == y->relay &&
		    lx == ly && ((x->smarthost == NULL && y->smarthost == NULL) ||
		    (x->smarthost != NULL && y->smarthost != NULL &&
		    strcmp(x->smarthost, y->smarthost) == 0)),
		    "%s: generation and rebuild disagree: kind %d/%d relay %d/%d len %zu/%zu", m->name[i], x->kind, y->kind, x->relay, y->relay, lx, ly);
	}
	for (i = 0; i < m->n; i++)
		ck_assert_int_eq(ruleset_has_pattern(gen, m->pattern[i]),
		    ruleset_has_pattern(full, m->pattern[i]));
	a.len = b.len = 0;
	ck_assert_int_eq(ruleset_walk(gen, trace_rule, &a), 0);
	ck_assert_int_eq(ruleset_walk(full, trace_rule, &b), 0);
	ck_assert_str_eq(a.buf, b.buf);
}

/* mark_walked - overlay_walk_changes() callback: the pattern's index */
static int
mark_walked(const char *pattern, const struct rule *r, void *arg)
{
	const struct model *m = arg;
	size_t	 i;

	(void)r;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->pattern[i], pattern) == 0)
			walked[i] = 1;
	return 0;
}

START_TEST(test_random)
{
	static struct model	 m, kept_m, before;
	struct ruleset		*gen, *next, *full, *kept;
	struct rule_spec	 s;
	char			 err[256];
	size_t			 i, step;
	int			 op;

	srandom(27 + (unsigned)_i);
	model_init(&m);
	for (i = 0; i < m.n / 2; i++) {
		m.on[i * 2] = 1;
		m.relay[i * 2] = (int)(random() % 3);
		m.host[i * 2] = (int)(random() % 3);
	}
	gen = model_build(&m);
	kept = NULL;
	for (step = 0; step < STEPS; step++) {
		next = overlay_next(gen);
		ck_assert_ptr_nonnull(next);
		before = m;
		/* a change of a few patterns */
		for (op = 0; op < 1 + (int)(random() % 4); op++) {
			i = (size_t)random() % m.n;
			if (m.on[i] && random() % 2) {
				ck_assert_int_eq(overlay_remove(next,
				    m.pattern[i]), 1);
				m.on[i] = 0;
				continue;
			}
			if (m.on[i]) {
				ck_assert_int_eq(overlay_remove(next,
				    m.pattern[i]), 1);
				m.on[i] = 0;
			}
			ck_assert_int_eq(overlay_remove(next, m.pattern[i]), 0);
			m.on[i] = 1;
			m.relay[i] = (int)(random() % 3);
			m.host[i] = (int)(random() % 3);
			spec_of(&m, i, &s);
			ck_assert_msg(ruleset_add(next, m.pattern[i], &s, err,
			    sizeof(err)) == 0, "%s: %s", m.pattern[i], err);
		}
		/* the change, compared at its cost, misses no pattern */
		memset(walked, 0, sizeof(walked));
		ck_assert_int_eq(overlay_walk_changes(gen, next, mark_walked,
		    &m), 0);
		for (i = 0; i < m.n; i++)
			ck_assert_msg(walked[i] || (before.on[i] == m.on[i] &&
			    (!m.on[i] || (before.relay[i] == m.relay[i] &&
			    before.host[i] == m.host[i]))),
			    "%s changed, not walked", m.pattern[i]);
		/* the generation before keeps answering as it did */
		if (kept != NULL) {
			full = model_build(&kept_m);
			same(&kept_m, kept, full);
			ruleset_free(full);
			ruleset_free(kept);
			kept = NULL;
		}
		if (step % 7 == 0) {
			kept = gen;
			kept_m = before;
		} else
			ruleset_free(gen);
		gen = next;
		full = model_build(&m);
		same(&m, gen, full);
		ruleset_free(full);
		/* now and then a compaction: a plain set again */
		if (step % 97 == 96) {
			ruleset_free(gen);
			gen = model_build(&m);
		}
	}
	if (kept != NULL)
		ruleset_free(kept);
	ruleset_free(gen);
}
END_TEST

START_TEST(test_errors)
{
	struct ruleset	*base, *gen, *full;
	struct rule_spec s;
	char		 e1[256], e2[256];

	memset(&s, 0, sizeof(s));
	base = ruleset_new();
	ck_assert_int_eq(ruleset_add(base, "example.com", NULL, e1,
	    sizeof(e1)), 0);
	full = ruleset_new();
	ck_assert_int_eq(ruleset_add(full, "example.com", NULL, e1,
	    sizeof(e1)), 0);
	gen = overlay_next(base);
	ck_assert_int_eq(ruleset_add(gen, "EXAMPLE.com.", NULL, e1,
	    sizeof(e1)), -1);
	ck_assert_int_eq(ruleset_add(full, "EXAMPLE.com.", NULL, e2,
	    sizeof(e2)), -1);
	ck_assert_str_eq(e1, e2);
	ck_assert_int_eq(ruleset_add(gen, "exa$mple.com", NULL, e1,
	    sizeof(e1)), -1);
	ck_assert_int_eq(ruleset_add(full, "exa$mple.com", NULL, e2,
	    sizeof(e2)), -1);
	ck_assert_str_eq(e1, e2);
	s.relay = "sometimes";
	ck_assert_int_eq(ruleset_add(gen, "a.example.com", &s, e1,
	    sizeof(e1)), -1);
	ck_assert_int_eq(ruleset_add(full, "a.example.com", &s, e2,
	    sizeof(e2)), -1);
	ck_assert_str_eq(e1, e2);
	/* a removed pattern may come back, a failed add changes nothing */
	ck_assert_int_eq(overlay_remove(gen, "example.com"), 1);
	ck_assert_int_eq(ruleset_add(gen, "example.com", &s, e1,
	    sizeof(e1)), -1);
	ck_assert_int_eq(ruleset_has_pattern(gen, "example.com"), 0);
	ck_assert_ptr_null(ruleset_lookup(gen, "example.com", NULL));
	ck_assert_int_eq(ruleset_add(gen, "example.com", NULL, e1,
	    sizeof(e1)), 0);
	ck_assert_uint_eq(ruleset_count(gen), 1);
	ck_assert_uint_eq(overlay_delta(gen), 1);
	ck_assert_uint_eq(overlay_delta(base), 0);
	ck_assert_int_eq(overlay_walk_changes(full, gen, trace_rule, NULL),
	    OVERLAY_UNRELATED);
	ruleset_free(base);
	ck_assert_ptr_nonnull(ruleset_lookup(gen, "a.example.com", NULL));
	ck_assert_ptr_nonnull(overlay_rule(gen, "example.com"));
	ruleset_free(gen);
	ruleset_free(full);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("overlay");
	tc = tcase_create("generations");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_random, 0, 3);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
