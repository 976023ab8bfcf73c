/*
 * check_sorttab - unit tests of lib/util/sorttab.c
 *
 * Growing from nothing keeps what is there; a sort orders by key and
 * folds each repeat into the entry before it (kept first, dup second);
 * a fold that refuses stops the folding with every unfolded entry still
 * in the table (nothing lost, nothing twice); no fold keeps repeats;
 * find on an empty, a one-entry and a large table, hits and misses;
 * sorted_after; and an array of strings (each entry its own key).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sorttab.h"

struct ent {
	char	*key;
	int	 val;
};

struct tab {
	struct ent	*v;
	size_t		 n, cap;
};

static void
tab_add(struct tab *t, const char *key, int val)
{
	struct ent	*p;

	p = sorttab_grow(t->v, t->n, &t->cap, sizeof(*p));
	ck_assert_ptr_nonnull(p);
	t->v = p;
	ck_assert_uint_lt(t->n, t->cap);
	t->v[t->n].key = strdup(key);
	ck_assert_ptr_nonnull(t->v[t->n].key);
	t->v[t->n].val = val;
	t->n++;
}

static void
tab_free(struct tab *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* fold_sum - the values of a repeat add up in the entry kept */
static int
fold_sum(void *kept, void *dup, void *arg)
{
	struct ent	*k = kept, *d = dup;
	int		*calls = arg;

	ck_assert_str_eq(k->key, d->key);
	k->val += d->val;
	free(d->key);
	(*calls)++;
	return 0;
}

/* fold_refuse - refuse the repeat of "b", fold the others */
static int
fold_refuse(void *kept, void *dup, void *arg)
{
	struct ent	*d = dup;

	(void)kept;
	(void)arg;
	if (strcmp(d->key, "b") == 0)
		return -1;
	free(d->key);
	return 0;
}

START_TEST(test_grow)
{
	struct tab	 t = { NULL, 0, 0 };
	char		 key[16];
	int		 i;

	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%04d", 999 - i);
		tab_add(&t, key, i);
	}
	ck_assert_uint_eq(t.n, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(t.v[i].val, i);
	tab_free(&t);
}
END_TEST

START_TEST(test_sort_fold)
{
	struct tab	 t = { NULL, 0, 0 };
	const struct ent *e;
	int		 calls = 0;

	tab_add(&t, "c", 1);
	tab_add(&t, "a", 2);
	tab_add(&t, "c", 4);
	tab_add(&t, "b", 8);
	tab_add(&t, "c", 16);
	tab_add(&t, "a", 32);
	ck_assert_int_eq(sorttab_sort(t.v, &t.n, sizeof(*t.v), fold_sum,
	    &calls), 0);
	ck_assert_int_eq(calls, 3);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_str_eq(t.v[0].key, "a");
	ck_assert_int_eq(t.v[0].val, 34);
	ck_assert_str_eq(t.v[1].key, "b");
	ck_assert_int_eq(t.v[1].val, 8);
	ck_assert_str_eq(t.v[2].key, "c");
	ck_assert_int_eq(t.v[2].val, 21);
	e = sorttab_find(t.v, t.n, sizeof(*t.v), "c");
	ck_assert_ptr_eq(e, &t.v[2]);
	ck_assert_ptr_null(sorttab_find(t.v, t.n, sizeof(*t.v), "bb"));
	ck_assert_ptr_null(sorttab_find(t.v, t.n, sizeof(*t.v), ""));
	ck_assert_ptr_null(sorttab_find(t.v, t.n, sizeof(*t.v), "d"));
	tab_free(&t);
}
END_TEST

START_TEST(test_fold_refused)
{
	struct tab	 t = { NULL, 0, 0 };
	size_t		 i;
	int		 seen_b = 0;

	tab_add(&t, "a", 0);
	tab_add(&t, "a", 0);
	tab_add(&t, "b", 0);
	tab_add(&t, "c", 0);
	tab_add(&t, "b", 0);
	tab_add(&t, "c", 0);
	tab_add(&t, "d", 0);
	ck_assert_int_eq(sorttab_sort(t.v, &t.n, sizeof(*t.v), fold_refuse,
	    NULL), -1);
	/* "a" folded before the refusal; both "b", both "c" and "d" kept */
	ck_assert_uint_eq(t.n, 6);
	ck_assert_str_eq(t.v[0].key, "a");
	for (i = 1; i < t.n; i++) {
		ck_assert_int_le(strcmp(t.v[i - 1].key, t.v[i].key), 0);
		seen_b += strcmp(t.v[i].key, "b") == 0;
	}
	ck_assert_int_eq(seen_b, 2);
	ck_assert_str_eq(t.v[5].key, "d");
	tab_free(&t);
}
END_TEST

START_TEST(test_no_fold)
{
	struct tab	 t = { NULL, 0, 0 };

	tab_add(&t, "b", 0);
	tab_add(&t, "a", 0);
	tab_add(&t, "b", 0);
	ck_assert_int_eq(sorttab_sort(t.v, &t.n, sizeof(*t.v), NULL, NULL),
	    0);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_str_eq(t.v[0].key, "a");
	ck_assert_str_eq(t.v[1].key, "b");
	ck_assert_str_eq(t.v[2].key, "b");
	tab_free(&t);
}
END_TEST

START_TEST(test_find_edges)
{
	struct tab	 t = { NULL, 0, 0 };
	char		 key[16];
	int		 i;

	ck_assert_ptr_null(sorttab_find(NULL, 0, sizeof(struct ent), "a"));
	ck_assert_int_eq(sorttab_sort(NULL, &t.n, sizeof(struct ent),
	    fold_sum, NULL), 0);
	tab_add(&t, "m", 1);
	ck_assert_ptr_eq(sorttab_find(t.v, t.n, sizeof(*t.v), "m"), t.v);
	ck_assert_ptr_null(sorttab_find(t.v, t.n, sizeof(*t.v), "a"));
	ck_assert_ptr_null(sorttab_find(t.v, t.n, sizeof(*t.v), "z"));
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%03d", (i * 7) % 500);
		tab_add(&t, key, i);
	}
	ck_assert_int_eq(sorttab_sort(t.v, &t.n, sizeof(*t.v), NULL, NULL),
	    0);
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		ck_assert_ptr_nonnull(sorttab_find(t.v, t.n, sizeof(*t.v),
		    key));
	}
	ck_assert_ptr_null(sorttab_find(t.v, t.n, sizeof(*t.v), "k500"));
	ck_assert_ptr_null(sorttab_find(t.v, t.n, sizeof(*t.v), "k"));
	tab_free(&t);
}
END_TEST

START_TEST(test_sorted_after)
{
	struct tab	 t = { NULL, 0, 0 };

	ck_assert_int_eq(sorttab_sorted_after(t.v, t.n, sizeof(*t.v), "x"),
	    1);
	tab_add(&t, "m", 0);
	ck_assert_int_eq(sorttab_sorted_after(t.v, t.n, sizeof(*t.v), "n"),
	    1);
	ck_assert_int_eq(sorttab_sorted_after(t.v, t.n, sizeof(*t.v), "m"),
	    0);
	ck_assert_int_eq(sorttab_sorted_after(t.v, t.n, sizeof(*t.v), "a"),
	    0);
	tab_free(&t);
}
END_TEST

/* fold_str - a repeated string: the copy goes */
static int
fold_str(void *kept, void *dup, void *arg)
{
	(void)kept;
	(void)arg;
	free(*(char **)dup);
	return 0;
}

START_TEST(test_strings)
{
	static const char *const in[] = { "b@x", "@x", "a@x", "b@x", "@x" };
	char		**v = NULL, **p;
	size_t		  n = 0, cap = 0, i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		p = sorttab_grow(v, n, &cap, sizeof(*v));
		ck_assert_ptr_nonnull(p);
		v = p;
		v[n++] = strdup(in[i]);
	}
	ck_assert_int_eq(sorttab_sort(v, &n, sizeof(*v), fold_str, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "@x");
	ck_assert_str_eq(v[1], "a@x");
	ck_assert_str_eq(v[2], "b@x");
	ck_assert_ptr_eq(sorttab_find(v, n, sizeof(*v), "a@x"), &v[1]);
	ck_assert_ptr_null(sorttab_find(v, n, sizeof(*v), "c@x"));
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sorttab");
	TCase	*tc = tcase_create("sorttab");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_grow);
	tcase_add_test(tc, test_sort_fold);
	tcase_add_test(tc, test_fold_refused);
	tcase_add_test(tc, test_no_fold);
	tcase_add_test(tc, test_find_edges);
	tcase_add_test(tc, test_sorted_after);
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
