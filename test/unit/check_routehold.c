/*
 * check_routehold - unit tests of lib/util/kvtable.c and lib/routehold.c
 *
 * kvtable: parsing "key<TAB>value" text, Postfix's search order over
 * "name" and ".parent" keys.  routehold: which keys a change of the
 * relay_domains and transport tables holds (the answer Postfix gives,
 * not the entries written, decides), the access table published with
 * the holds (deny entries win, names below a held key whose answer did
 * not change keep it), expiry and a restarted worker's re-reading.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "kvtable.h"
#include "routehold.h"

#define HELD	"451 4.7.1 Relay route being updated, try again later"

static struct kvtable
table(const char *text)
{
	struct kvtable	 t;

	kvtable_init(&t);
	ck_assert_int_eq(kvtable_parse(&t, text), 0);
	return t;
}

/* A deny rules' table as the exporter types it: DUNNO, or a reply. */
static struct kvtable
typed(const char *text)
{
	struct kvtable	 t = table(text);
	size_t		 i;

	for (i = 0; i < t.n; i++)
		t.v[i].kind = strcmp(t.v[i].value, "DUNNO") == 0 ?
		    EXPORT_KIND_NO : EXPORT_KIND_REPLY;
	return t;
}

START_TEST(test_parse_search)
{
	struct kvtable	 t = table("# comment\n"
	    ".example.com\tA\n"
	    "a.example.com\tB\n"
	    "no tab here\n"
	    "example.com\tC value with spaces");

	ck_assert_uint_eq(t.n, 3);
	ck_assert_str_eq(t.v[0].key, ".example.com");
	ck_assert_str_eq(kvtable_get(&t, "example.com"), "C value with spaces");
	ck_assert_ptr_null(kvtable_get(&t, "x.example.com"));
	ck_assert_str_eq(kvtable_search(&t, "x.a.example.com"), "A");
	ck_assert_str_eq(kvtable_search(&t, "a.example.com"), "B");
	ck_assert_str_eq(kvtable_search(&t, ".a.example.com"), "A");
	ck_assert_str_eq(kvtable_search(&t, "example.com"),
	    "C value with spaces");
	ck_assert_ptr_null(kvtable_search(&t, "example.org"));
	ck_assert_ptr_null(kvtable_search(&t, "com"));
	kvtable_free(&t);
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

START_TEST(test_parent)
{
	ck_assert_str_eq(kvtable_parent("a.b.c"), ".b.c");
	ck_assert_str_eq(kvtable_parent(".b.c"), ".c");
	ck_assert_ptr_null(kvtable_parent(".c"));
	ck_assert_ptr_null(kvtable_parent("c"));
	ck_assert_ptr_null(kvtable_parent("c."));
}
END_TEST

START_TEST(test_equal_and_dup)
{
	struct kvtable	 a = table("x\t1\ny\t2\n"), b = table("y\t2\nx\t1\n");
	struct kvtable	 c = table("x\t1\ny\t3\n");

	ck_assert_int_eq(kvtable_equal(&a, &b), 1);
	ck_assert_int_eq(kvtable_equal(&a, &c), 0);
	ck_assert_int_eq(kvtable_add(&c, "x", "9"), 0);
	kvtable_sort(&c);
	ck_assert_uint_eq(c.n, 2);
	kvtable_free(&a);
	kvtable_free(&b);
	kvtable_free(&c);
}
END_TEST

/* The tables of a change: old/new relay_domains and transport. */
struct change {
	struct kvtable	 or, ot, nr, nt;
	struct routehold_tables t;
};

static void
change_init(struct change *c, const char *or, const char *ot,
    const char *nr, const char *nt)
{
	c->or = table(or);
	c->ot = table(ot);
	c->nr = table(nr);
	c->nt = table(nt);
	c->t.old_relay = &c->or;
	c->t.old_transport = &c->ot;
	c->t.new_relay = &c->nr;
	c->t.new_transport = &c->nt;
}

static void
change_free(struct change *c)
{
	kvtable_free(&c->or);
	kvtable_free(&c->ot);
	kvtable_free(&c->nr);
	kvtable_free(&c->nt);
}

static const char *
held_keys(const struct routehold *h, char *buf, size_t len)
{
	size_t	 i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < h->n; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "",
		    h->v[i].key);
	return buf;
}

START_TEST(test_changes)
{
	struct change	 c;
	struct routehold h;
	char		 buf[256];

	/* a new domain, a changed route, an unchanged one */
	change_init(&c,
	    "example.com\tRELAY\n.example.com\tRELAY\nold.net\tRELAY\n",
	    "example.com\tsmtp:[a]\n.example.com\tsmtp:[a]\n",
	    "example.com\tRELAY\n.example.com\tRELAY\nold.net\tRELAY\n"
	    "new.org\tRELAY\n.new.org\tRELAY\n",
	    "example.com\tsmtp:[b]\n.example.com\tsmtp:[a]\n");
	routehold_init(&h);
	ck_assert_int_eq(routehold_changes(&h, &c.t, 100), 0);
	ck_assert_str_eq(held_keys(&h, buf, sizeof(buf)),
	    ".new.org example.com new.org");
	ck_assert(routehold_next(&h) == 100);
	routehold_free(&h);
	change_free(&c);
}
END_TEST

START_TEST(test_same_answer)
{
	struct change	 c;
	struct routehold h;

	/* an entry written where the parent's gave the same answer */
	change_init(&c, ".corp.com\tRELAY\n", ".corp.com\tsmtp:[x]\n",
	    ".corp.com\tRELAY\nlab.corp.com\tRELAY\n",
	    ".corp.com\tsmtp:[x]\nlab.corp.com\tsmtp:[x]\n");
	routehold_init(&h);
	ck_assert_int_eq(routehold_changes(&h, &c.t, 100), 0);
	ck_assert_uint_eq(h.n, 0);
	ck_assert(routehold_next(&h) == 0);
	change_free(&c);
}
END_TEST

START_TEST(test_access)
{
	struct change	 c;
	struct routehold h;
	struct kvtable	 deny, out;
	char		 buf[256];

	/*
	 * corp.com no longer relayed; lab.corp.com (its own rule) keeps
	 * its answer; x.corp.com is a deny rule's; deny.corp.com has a
	 * route only.
	 */
	change_init(&c,
	    "corp.com\tRELAY\n.corp.com\tRELAY\n",
	    "corp.com\tsmtp:[x]\n.corp.com\tsmtp:[x]\n"
	    "lab.corp.com\tsmtp:[y]\ndeny.corp.com\tsmtp:[z]\n",
	    "lab.corp.com\tRELAY\n",
	    "lab.corp.com\tsmtp:[y]\ndeny.corp.com\tsmtp:[z]\n");
	deny = typed("x.corp.com\t550 5.7.1 No\n.corp.com\t550 5.7.1 Gone\n");
	routehold_init(&h);
	ck_assert_int_eq(routehold_changes(&h, &c.t, 50), 0);
	/* deny.corp.com: no longer relayed, its route unchanged */
	ck_assert_str_eq(held_keys(&h, buf, sizeof(buf)),
	    ".corp.com corp.com deny.corp.com");
	kvtable_init(&out);
	ck_assert_int_eq(routehold_access(&h, &c.t, &deny, &out), 0);
	/* the deny entry wins where it has one */
	ck_assert_str_eq(kvtable_get(&out, ".corp.com"), "550 5.7.1 Gone");
	ck_assert_str_eq(kvtable_get(&out, "corp.com"), HELD);
	ck_assert_int_eq(kvtable_find(&out, "corp.com")->kind,
	    EXPORT_KIND_HOLD);
	ck_assert_int_eq(kvtable_find(&out, ".corp.com")->kind,
	    EXPORT_KIND_REPLY);
	ck_assert_str_eq(kvtable_get(&out, "x.corp.com"), "550 5.7.1 No");
	/* held, but a deny rule refuses it through its parent's entry */
	ck_assert_str_eq(kvtable_get(&out, "deny.corp.com"), "550 5.7.1 Gone");
	/* unchanged below a held key: the search stops with its answer */
	ck_assert_str_eq(kvtable_get(&out, "lab.corp.com"), "550 5.7.1 Gone");
	ck_assert_str_eq(kvtable_search(&out, "u.corp.com"), "550 5.7.1 Gone");
	ck_assert_uint_eq(out.n, 5);
	kvtable_free(&out);
	kvtable_free(&deny);
	routehold_free(&h);
	change_free(&c);
}
END_TEST

START_TEST(test_access_dunno)
{
	struct change	 c;
	struct routehold h;
	struct kvtable	 deny, out;

	change_init(&c, "corp.com\tRELAY\n.corp.com\tRELAY\n", "",
	    "lab.corp.com\tRELAY\n", "");
	kvtable_init(&deny);
	routehold_init(&h);
	ck_assert_int_eq(routehold_changes(&h, &c.t, 50), 0);
	kvtable_init(&out);
	ck_assert_int_eq(routehold_access(&h, &c.t, &deny, &out), 0);
	ck_assert_str_eq(kvtable_get(&out, ".corp.com"), HELD);
	ck_assert_str_eq(kvtable_get(&out, "lab.corp.com"), "DUNNO");
	ck_assert_str_eq(kvtable_search(&out, "www.lab.corp.com"), HELD);
	ck_assert_uint_eq(out.n, 3);
	/* time up: the access table is the deny table again */
	routehold_expire(&h, 50);
	ck_assert_uint_eq(h.n, 0);
	kvtable_free(&out);
	kvtable_init(&out);
	ck_assert_int_eq(routehold_access(&h, &c.t, &deny, &out), 0);
	ck_assert_uint_eq(out.n, 0);
	kvtable_free(&out);
	routehold_free(&h);
	change_free(&c);
}
END_TEST

START_TEST(test_access_carveout)
{
	struct change	 c;
	struct routehold h;
	struct kvtable	 deny, out;

	/* a DUNNO carve-out below a deny rule, whose route changed */
	change_init(&c, "in.corp.com\tRELAY\n", "in.corp.com\tsmtp:[a]\n",
	    "in.corp.com\tRELAY\n", "in.corp.com\tsmtp:[b]\n");
	deny = typed(".corp.com\t550 5.7.1 No\nin.corp.com\tDUNNO\n");
	routehold_init(&h);
	ck_assert_int_eq(routehold_changes(&h, &c.t, 50), 0);
	kvtable_init(&out);
	ck_assert_int_eq(routehold_access(&h, &c.t, &deny, &out), 0);
	ck_assert_str_eq(kvtable_get(&out, "in.corp.com"), HELD);
	ck_assert_str_eq(kvtable_get(&out, ".corp.com"), "550 5.7.1 No");
	ck_assert_uint_eq(out.n, 2);
	kvtable_free(&out);
	kvtable_free(&deny);
	routehold_free(&h);
	change_free(&c);
}
END_TEST

START_TEST(test_add_expire)
{
	struct routehold h;
	char		 buf[256];

	routehold_init(&h);
	ck_assert_int_eq(routehold_add(&h, "b", 10), 0);
	ck_assert_int_eq(routehold_add(&h, "c", 30), 0);
	ck_assert_int_eq(routehold_add(&h, "a", 20), 0);
	ck_assert_int_eq(routehold_add(&h, "b", 25), 0);
	ck_assert_int_eq(routehold_add(&h, "b", 5), 0);
	ck_assert_str_eq(held_keys(&h, buf, sizeof(buf)), "a b c");
	ck_assert(routehold_next(&h) == 20);
	routehold_expire(&h, 20);
	ck_assert_str_eq(held_keys(&h, buf, sizeof(buf)), "b c");
	ck_assert(routehold_next(&h) == 25);
	routehold_expire(&h, 30);
	ck_assert_uint_eq(h.n, 0);
	routehold_free(&h);
}
END_TEST

/*
 * A deny rule whose reply reads exactly as the held answer is a deny
 * rule: letting go of the holds keeps it (it was once recognised by its
 * text, and taken out of the access table with the holds).
 */
START_TEST(test_release_reply_like_hold)
{
	struct change	 c;
	struct routehold h;
	struct kvtable	 deny, out, released;

	change_init(&c, "a.org\tRELAY\n.corp.com\tRELAY\n", "",
	    ".corp.com\tRELAY\nnew.org\tRELAY\n", "");
	deny = typed("lab.corp.com\t" HELD "\n"
	    "in.new.org\tDUNNO\n.new.org\t550 5.7.1 No\n");
	routehold_init(&h);
	ck_assert_int_eq(routehold_changes(&h, &c.t, 50), 0);
	ck_assert_int_eq(routehold_has(&h, "a.org"), 1);
	ck_assert_int_eq(routehold_has(&h, "new.org"), 1);
	ck_assert_int_eq(routehold_add(&h, "in.new.org", 50), 0);
	kvtable_init(&out);
	ck_assert_int_eq(routehold_access(&h, &c.t, &deny, &out), 0);
	ck_assert_int_eq(kvtable_find(&out, "a.org")->kind, EXPORT_KIND_HOLD);
	ck_assert_int_eq(kvtable_find(&out, "in.new.org")->kind,
	    EXPORT_KIND_HOLD);
	ck_assert_int_eq(kvtable_find(&out, "lab.corp.com")->kind,
	    EXPORT_KIND_REPLY);
	routehold_expire(&h, 50);
	kvtable_init(&released);
	ck_assert_int_eq(routehold_release(&h, &out, &deny, &released), 0);
	ck_assert_str_eq(kvtable_get(&released, "lab.corp.com"), HELD);
	ck_assert_ptr_null(kvtable_get(&released, "a.org"));
	ck_assert_ptr_null(kvtable_get(&released, "new.org"));
	/* a carve-out held is the deny table's carve-out again */
	ck_assert_str_eq(kvtable_get(&released, "in.new.org"), "DUNNO");
	ck_assert_int_eq(kvtable_find(&released, "in.new.org")->kind,
	    EXPORT_KIND_NO);
	ck_assert_str_eq(kvtable_get(&released, ".new.org"), "550 5.7.1 No");
	kvtable_free(&released);
	kvtable_free(&out);
	kvtable_free(&deny);
	routehold_free(&h);
	change_free(&c);
}
END_TEST

/*
 * A listed address answers before its domain (Postfix searches the full
 * address first): under a held name it is held too, and let go after.
 */
START_TEST(test_rcpt_held)
{
	struct change	 c;
	struct routehold h;
	struct kvtable	 deny, out, released;

	change_init(&c, "", "", ".list.org\tRELAY\nlist.org\tRELAY\n"
	    "keep.list.org\tRELAY\n", "");
	deny = typed(".list.org\t550 5.1.1 User unknown\n"
	    "list.org\t550 5.1.1 User unknown\n");
	ck_assert_int_eq(kvtable_add_kind(&deny, "u@list.org", "DUNNO",
	    EXPORT_KIND_RCPT), 0);
	ck_assert_int_eq(kvtable_add_kind(&deny, "v@x.list.org", "DUNNO",
	    EXPORT_KIND_RCPT), 0);
	ck_assert_int_eq(kvtable_add_kind(&deny, "w@other.org", "DUNNO",
	    EXPORT_KIND_RCPT), 0);
	kvtable_sort(&deny);
	routehold_init(&h);
	ck_assert_int_eq(routehold_changes(&h, &c.t, 50), 0);
	ck_assert_int_eq(routehold_has(&h, "list.org"), 1);
	kvtable_init(&out);
	ck_assert_int_eq(routehold_access(&h, &c.t, &deny, &out), 0);
	ck_assert_str_eq(kvtable_get(&out, "u@list.org"), HELD);
	ck_assert_str_eq(kvtable_get(&out, "v@x.list.org"), HELD);
	ck_assert_str_eq(kvtable_get(&out, "w@other.org"), "DUNNO");
	/* the unknown user reply stands: it refuses either way */
	ck_assert_str_eq(kvtable_get(&out, "list.org"),
	    "550 5.1.1 User unknown");
	routehold_expire(&h, 50);
	kvtable_init(&released);
	ck_assert_int_eq(routehold_release(&h, &out, &deny, &released), 0);
	ck_assert_str_eq(kvtable_get(&released, "u@list.org"), "DUNNO");
	ck_assert_str_eq(kvtable_get(&released, "v@x.list.org"), "DUNNO");
	kvtable_free(&released);
	kvtable_free(&out);
	kvtable_free(&deny);
	routehold_free(&h);
	change_free(&c);
}
END_TEST

/* A restarted worker reads the holds back, no longer than they last. */
START_TEST(test_save_load)
{
	struct routehold h, back;
	char		*text = NULL, buf[256];
	size_t		 len = 0;
	FILE		*f;

	routehold_init(&h);
	ck_assert_int_eq(routehold_add(&h, "a.org", 110), 0);
	ck_assert_int_eq(routehold_add(&h, ".b.org", 125), 0);
	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	/* now 100 in the caller's clock, 1000 on the wall */
	ck_assert_int_eq(routehold_save(&h, 100, 1000, f), 0);
	fclose(f);
	ck_assert_str_eq(text, ".b.org\t1026\na.org\t1011\n");
	routehold_init(&back);
	/* read 20 s later by a worker whose clock reads 7 */
	ck_assert_int_eq(routehold_load(&back, text, 7, 1020), 0);
	ck_assert_str_eq(held_keys(&back, buf, sizeof(buf)), ".b.org");
	ck_assert(back.v[0].until == 13);
	routehold_free(&back);
	/* garbage, past times and far futures */
	routehold_init(&back);
	ck_assert_int_eq(routehold_load(&back, "x.org\tsoon\ny.org\t999\n"
	    "z.org\t99999\nno tab\n", 0, 1000), 0);
	ck_assert_str_eq(held_keys(&back, buf, sizeof(buf)), "z.org");
	ck_assert(back.v[0].until == ROUTEHOLD_SECONDS);
	routehold_free(&back);
	routehold_free(&h);
	free(text);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("routehold");
	TCase	*tc = tcase_create("routehold");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_parse_search);
	tcase_add_test(tc, test_parent);
	tcase_add_test(tc, test_equal_and_dup);
	tcase_add_test(tc, test_changes);
	tcase_add_test(tc, test_same_answer);
	tcase_add_test(tc, test_access);
	tcase_add_test(tc, test_access_dunno);
	tcase_add_test(tc, test_access_carveout);
	tcase_add_test(tc, test_add_expire);
	tcase_add_test(tc, test_release_reply_like_hold);
	tcase_add_test(tc, test_save_load);
	tcase_add_test(tc, test_rcpt_held);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
