/*
 * check_export - unit tests of export_write() (lib/export.c)
 *
 * Fixed rule sets with their expected tables (as sets of lines: the walk
 * order of siblings is the rule set's business), the refusals that must
 * name the rule, the relay_domains advice, and an in-process
 * differential test: a few hundred generated rule sets, every format,
 * each exported table searched the way the MTA searches it, for every
 * name of a small universe, compared with maps_answer().  The e2e test
 * repeats the comparison with the real postmap(1).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "export.h"
#include "maps.h"
#include "testutil.h"

static char	tmpdir[] = "/tmp/check_export.XXXXXX";
static char	list_path[300];

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
	strcpy(tmpdir, "/tmp/check_export.XXXXXX");
}

/* A config whose rules are the lines of a domains_file. */
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

struct result {
	int	rc;
	char	*out;		/* table, comment line removed, lines sorted */
	char	*notes;
	char	 err[512];
};

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the lines of text after the first (a comment line). */
static char *
sorted_body(const char *text)
{
	char	*copy, *p, *save = NULL, **v, *out;
	size_t	 n = 0, i, len;

	copy = strdup(text);
	ck_assert_ptr_nonnull(copy);
	ck_assert_msg(copy[0] == '#', "no comment line: %s", text);
	v = calloc(strlen(copy) + 1, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	for (p = strtok_r(copy, "\n", &save); p != NULL;
	    p = strtok_r(NULL, "\n", &save))
		if (p != copy)
			v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_lines);
	len = 1;
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	out = calloc(len, 1);
	ck_assert_ptr_nonnull(out);
	for (i = 0; i < n; i++) {
		strcat(out, v[i]);
		strcat(out, "\n");
	}
	free(v);
	free(copy);
	return out;
}

static struct result run_flags(const struct config *c, enum export_format f,
    int flags);

static struct result
run(const struct config *c, enum export_format f)
{
	return run_flags(c, f, 0);
}

static struct result
run_flags(const struct config *c, enum export_format f, int flags)
{
	struct result	 r;
	FILE		*out, *notes;
	char		*obuf = NULL, *nbuf = NULL;
	size_t		 olen = 0, nlen = 0;

	memset(&r, 0, sizeof(r));
	out = open_memstream(&obuf, &olen);
	notes = open_memstream(&nbuf, &nlen);
	r.rc = export_write_flags(c, f, flags, out, notes, r.err,
	    sizeof(r.err));
	fclose(out);
	fclose(notes);
	r.notes = nbuf;
	if (r.rc == 0) {
		r.out = sorted_body(obuf);
		free(obuf);
	} else {
		ck_assert_msg(olen == 0, "refused but wrote: %s", obuf);
		r.out = obuf;
	}
	return r;
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->notes);
}

/*
 * Static mode's access table applies recipients = "list" and "verify":
 * the list rule's names answer "User unknown", each address it lists
 * (where that rule decides) DUNNO, "@domain" the domain's own entry;
 * the verify rule's names Postfix's own verification.
 */
START_TEST(test_access_recipients)
{
	struct config	*c;
	struct result	 r;
	char		 rpath[320], lines[1024];
	FILE		*fp;

	snprintf(rpath, sizeof(rpath), "%s/rcpt.list", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(rpath, "w"));
	fputs("Alice@Example.com\n@whole.example.com\nbob@sub.example.com\n"
	    "carol@lab.example.com\ndave@open.example.com\neve@other.org\n",
	    fp);
	fclose(fp);
	snprintf(lines, sizeof(lines),
	    "example.com recipients=list recipients_file=%s\n"
	    "lab.example.com relay=deny\n"
	    "open.example.com\n"
	    "verified.example smarthost=[127.0.0.1]:2525 recipients=verify\n",
	    rpath);
	c = load_lines(lines);
	unlink(rpath);
	r = run_flags(c, EXPORT_POSTFIX_ACCESS, EXPORT_DENY_BY_ACCESS |
	    EXPORT_RECIPIENTS);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    ".example.com\t550 5.1.1 User unknown\n"
	    ".lab.example.com\t554 5.7.1 Relay access denied\n"
	    ".open.example.com\tDUNNO\n"
	    ".verified.example\treject_unverified_recipient\n"
	    "alice@example.com\tDUNNO\n"
	    "bob@sub.example.com\tDUNNO\n"
	    "example.com\t550 5.1.1 User unknown\n"
	    "lab.example.com\t554 5.7.1 Relay access denied\n"
	    "open.example.com\tDUNNO\n"
	    "verified.example\treject_unverified_recipient\n"
	    "whole.example.com\tDUNNO\n");
	result_free(&r);
	/* without the flag (export's own table): deny rules only */
	r = run_flags(c, EXPORT_POSTFIX_ACCESS, EXPORT_DENY_BY_ACCESS);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_ptr_null(strstr(r.out, "User unknown"));
	ck_assert_ptr_null(strstr(r.out, "alice@"));
	result_free(&r);
	config_free(c);
}
END_TEST

static const char set1[] =
    "example.com smarthost=[127.0.0.1]:2526\n"
    "lab.example.com relay=deny\n"
    "noroute.example.com\n"
    "#exact.example smarthost=mail.exact.example:2527\n"
    ".sub.example smarthost=mx:relay.sub.example\n"
    "plain.example\n"
    "partner.example relay=trusted smarthost=[2001:db8::25]\n";

START_TEST(test_postfix_transport)
{
	struct config	*c;
	struct result	 r;

	c = load_lines(set1);
	r = run(c, EXPORT_POSTFIX_TRANSPORT);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    ".example.com\tsmtp:[127.0.0.1]:2526\n"
	    ".lab.example.com\t:\n"
	    ".noroute.example.com\t:\n"
	    ".partner.example\tsmtp:[2001:db8::25]\n"
	    ".sub.example\tsmtp:relay.sub.example\n"
	    "exact.example\tsmtp:[mail.exact.example]:2527\n"
	    "example.com\tsmtp:[127.0.0.1]:2526\n"
	    "lab.example.com\t:\n"
	    "noroute.example.com\t:\n"
	    "partner.example\tsmtp:[2001:db8::25]\n");
	ck_assert_str_eq(r.notes, "");
	result_free(&r);
	config_free(c);
}
END_TEST

START_TEST(test_relay_domains)
{
	struct config	*c;
	struct result	 r;

	/* a deny exception inside a relayed namespace: no way to say it */
	c = load_lines(set1);
	r = run(c, EXPORT_POSTFIX_RELAY_DOMAINS);
	ck_assert_int_eq(r.rc, -1);
	ck_assert_msg(strstr(r.err, "\"lab.example.com\"") != NULL, "%s",
	    r.err);
	result_free(&r);
	config_free(c);

	c = load_lines(
	    "example.com smarthost=[127.0.0.1]:2526\n"
	    "#exact.example\n"
	    ".sub.example\n"
	    "partner.example relay=trusted\n"
	    "denied.example relay=deny\n"
	    "ok.denied.example\n");
	r = run(c, EXPORT_POSTFIX_RELAY_DOMAINS);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    ".example.com\tRELAY\n"
	    ".ok.denied.example\tRELAY\n"
	    ".sub.example\tRELAY\n"
	    "exact.example\tRELAY\n"
	    "example.com\tRELAY\n"
	    "ok.denied.example\tRELAY\n");
	ck_assert_ptr_nonnull(strstr(r.notes,
	    "parent_domain_matches_subdomains"));
	result_free(&r);
	config_free(c);

	/* namespace rules only: no advice */
	c = load_lines("example.com\nexample.net\n");
	r = run(c, EXPORT_POSTFIX_RELAY_DOMAINS);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.notes, "");
	result_free(&r);
	config_free(c);
}
END_TEST

/* Static mode: the access table, and relay_domains behind it. */
START_TEST(test_static)
{
	struct config	*c;
	struct result	 r;

	c = load_lines(set1);
	r = run(c, EXPORT_POSTFIX_ACCESS);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    ".lab.example.com\t554 5.7.1 Relay access denied\n"
	    "lab.example.com\t554 5.7.1 Relay access denied\n");
	result_free(&r);
	/* the deny exception is left to the access table checked first */
	r = run_flags(c, EXPORT_POSTFIX_RELAY_DOMAINS, EXPORT_DENY_BY_ACCESS);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    ".example.com\tRELAY\n"
	    ".noroute.example.com\tRELAY\n"
	    ".plain.example\tRELAY\n"
	    ".sub.example\tRELAY\n"
	    "exact.example\tRELAY\n"
	    "example.com\tRELAY\n"
	    "noroute.example.com\tRELAY\n"
	    "plain.example\tRELAY\n");
	result_free(&r);
	config_free(c);

	/* an exception inside a deny namespace: DUNNO stops the search */
	c = load_lines("denied.example relay=deny\n#ok.denied.example\n");
	r = run(c, EXPORT_POSTFIX_ACCESS);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ok.denied.example\tDUNNO\n"));
	result_free(&r);
	config_free(c);

	/* a trusted-only rule inside a relayed namespace: still refused */
	c = load_lines("example.com\nin.example.com relay=trusted\n");
	r = run_flags(c, EXPORT_POSTFIX_RELAY_DOMAINS, EXPORT_DENY_BY_ACCESS);
	ck_assert_int_eq(r.rc, -1);
	ck_assert_msg(strstr(r.err, "\"in.example.com\"") != NULL, "%s",
	    r.err);
	result_free(&r);
	config_free(c);
}
END_TEST

START_TEST(test_sendmail)
{
	struct config	*c;
	struct result	 r;

	c = load_lines(set1);
	r = run(c, EXPORT_SENDMAIL_MAILERTABLE);
	ck_assert_int_eq(r.rc, -1);
	ck_assert_msg(strstr(r.err, "\"lab.example.com\"") != NULL, "%s",
	    r.err);
	result_free(&r);
	r = run(c, EXPORT_SENDMAIL_ACCESS);
	ck_assert_int_eq(r.rc, -1);
	ck_assert_msg(strstr(r.err, "\"#exact.example\"") != NULL, "%s",
	    r.err);
	result_free(&r);
	config_free(c);

	c = load_lines(
	    "example.com smarthost=[127.0.0.1]:2526\n"
	    "#exact.example smarthost=mail.exact.example\n"
	    ".sub.example smarthost=mx:relay.sub.example\n"
	    "v6.example smarthost=[::1]\n");
	r = run(c, EXPORT_SENDMAIL_MAILERTABLE);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    ".example.com\tesmtp2526:[127.0.0.1]\n"
	    ".sub.example\tesmtp:relay.sub.example\n"
	    ".v6.example\tesmtp:[IPv6:::1]\n"
	    "exact.example\tesmtp:[mail.exact.example]\n"
	    "example.com\tesmtp2526:[127.0.0.1]\n"
	    "v6.example\tesmtp:[IPv6:::1]\n");
	result_free(&r);
	config_free(c);

	c = load_lines("example.com\nlab.example.com relay=deny\n"
	    "open.lab.example.com\nplain.example relay=trusted\n");
	r = run(c, EXPORT_SENDMAIL_ACCESS);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    "To:example.com\tRELAY\n"
	    "To:lab.example.com\tSKIP\n"
	    "To:open.lab.example.com\tRELAY\n");
	result_free(&r);
	config_free(c);
}
END_TEST

START_TEST(test_formats)
{
	enum export_format	f;

	ck_assert_int_eq(export_format_parse("postfix-transport", &f), 0);
	ck_assert_int_eq(f, EXPORT_POSTFIX_TRANSPORT);
	ck_assert_int_eq(export_format_parse("sendmail-access", &f), 0);
	ck_assert_int_eq(f, EXPORT_SENDMAIL_ACCESS);
	ck_assert_str_eq(export_format_name(EXPORT_POSTFIX_RELAY_DOMAINS),
	    "postfix-relay-domains");
	ck_assert_int_eq(export_format_parse("postfix", &f), -1);
	ck_assert_int_eq(export_format_parse("", &f), -1);
}
END_TEST

/* --- differential: exported table vs maps_answer() ------------------- */

#define UNIV_DEPTH	4

static unsigned long	lcg_state;

static unsigned
rnd(unsigned n)
{
	lcg_state = lcg_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((lcg_state >> 33) % n);
}

static const char *labels[] = { "a", "b", "c" };

/* Every name of up to UNIV_DEPTH labels under "t": 3 + 9 + 27 + 81. */
static size_t
universe(char names[][64])
{
	size_t	n = 0, i, start = 0, end, k;

	snprintf(names[n++], 64, "t");
	for (i = 1; i <= UNIV_DEPTH; i++) {
		end = n;
		for (k = start; k < end; k++) {
			size_t	l;

			for (l = 0; l < 3; l++)
				snprintf(names[n++], 64, "%s.%s", labels[l],
				    names[k]);
		}
		start = end;
	}
	return n;
}

static const char *
table_find(char *table, const char *key)
{
	static char	 value[256];
	char		*line, *tab, *save = NULL, *copy;

	copy = strdup(table);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		tab = strchr(line, '\t');
		ck_assert_ptr_nonnull(tab);
		*tab = '\0';
		if (strcmp(line, key) == 0) {
			snprintf(value, sizeof(value), "%s", tab + 1);
			free(copy);
			return value;
		}
	}
	free(copy);
	return NULL;
}

/* The MTA's search: "" for no, else the value. */
static const char *
table_search(char *table, enum export_format f, const char *name)
{
	const char	*p, *v;
	char		 key[300];
	int		 access = f == EXPORT_SENDMAIL_ACCESS;

	snprintf(key, sizeof(key), "%s%s", access ? "To:" : "", name);
	v = table_find(table, key);
	for (p = strchr(name, '.'); v == NULL && p != NULL;
	    p = strchr(p + 1, '.')) {
		snprintf(key, sizeof(key), "%s%s", access ? "To:" : ".",
		    access ? p + 1 : p + 1);
		v = table_find(table, key);
	}
	if (v == NULL || strcmp(v, ":") == 0 || strcmp(v, "SKIP") == 0)
		return "";
	return v;
}

START_TEST(test_differential)
{
	static const char *maps[] = { "transport", "relay", "mailertable",
	    "relay" };
	static const char *relays[] = { "always", "always", "always",
	    "trusted", "deny" };
	static const char *hosts[] = { "[127.0.0.1]:2601", "mx:m.example",
	    "h.example" };
	static char	 names[200][64];
	char		 lines[8192], line[256], req[300], ans[MAPS_ANSWER_MAX];
	const char	*want, *got;
	size_t		 nnames, i, nrules;
	unsigned	 seed, ok[4] = { 0 }, refused[4] = { 0 }, compared = 0;
	struct config	*c;
	struct result	 r;
	int		 f, simple;

	nnames = universe(names);
	for (seed = 1; seed <= 150; seed++) {
		lcg_state = seed;
		simple = seed % 3 == 0;		/* no exceptions */
		lines[0] = '\0';
		nrules = 1 + rnd(8);
		for (i = 0; i < nrules; i++) {
			const char *name = names[1 + rnd(nnames - 1)];
			const char *pfx = simple ? "" : (const char *[])
			    { "", "", "#", "." }[rnd(4)];
			const char *relay = simple ? "always" :
			    relays[rnd(5)];

			if (strstr(lines, name) != NULL)
				continue;	/* avoid duplicate patterns */
			snprintf(line, sizeof(line), "%s%s relay=%s", pfx,
			    name, relay);
			if (rnd(3) != 0 && strcmp(relay, "deny") != 0)
				snprintf(line + strlen(line), sizeof(line) -
				    strlen(line), " smarthost=%s",
				    hosts[rnd(3)]);
			strcat(lines, line);
			strcat(lines, "\n");
		}
		c = load_lines(lines);
		for (f = 0; f < 4; f++) {
			r = run(c, (enum export_format)f);
			if (r.rc == -1) {
				ck_assert_msg(strstr(r.err, "cannot express "
				    "rule \"") != NULL, "%s", r.err);
				refused[f]++;
				result_free(&r);
				continue;
			}
			ok[f]++;
			for (i = 0; i < nnames; i++) {
				snprintf(req, sizeof(req), "%s %s", maps[f],
				    names[i]);
				maps_answer(c, req, strlen(req), ans,
				    sizeof(ans));
				want = strncmp(ans, "OK ", 3) == 0 ? ans + 3 :
				    "";
				got = table_search(r.out,
				    (enum export_format)f, names[i]);
				ck_assert_msg(strcmp(want, got) == 0,
				    "%s %s: socketmap \"%s\", table \"%s\"\n"
				    "rules:\n%stable:\n%s",
				    export_format_name(f), names[i], want,
				    got, lines, r.out);
				compared++;
			}
			result_free(&r);
		}
		config_free(c);
	}
	for (f = 0; f < 4; f++)
		ck_assert_msg(ok[f] >= 50, "%s: only %u of 150 exported "
		    "(%u refused)", export_format_name(f), ok[f], refused[f]);
	ck_assert_uint_gt(refused[EXPORT_POSTFIX_RELAY_DOMAINS], 0);
	ck_assert_uint_gt(compared, 20000);
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("export");
	tc = tcase_create("export");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_postfix_transport);
	tcase_add_test(tc, test_access_recipients);
	tcase_add_test(tc, test_relay_domains);
	tcase_add_test(tc, test_sendmail);
	tcase_add_test(tc, test_static);
	tcase_add_test(tc, test_differential);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
