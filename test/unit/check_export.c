/*
 * check_export - unit tests of export_write() (lib/export.c)
 *
 * Fixed rule sets with their expected tables (as sets of lines: the walk
 * order of siblings is the rule set's business), the refusals that must
 * name the rule, the relay_domains advice, and an in-process
 * differential test: a few hundred generated rule sets, every format,
 * each exported table searched the way the MTA searches it, for every
 * name of a small universe, compared with maps_answer().  The e2e test
 * repeats the comparison with the real postmap(1).  export_below():
 * tables brought to a generation of the rules by the entries below the
 * changed names equal the whole export of it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "export.h"
#include "kvtable.h"
#include "maps.h"
#include "overlay.h"
#include "ruleset.h"
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

/*
 * export_below(): the tables of a rule set brought to a generation of it
 * (overlay.h) by the entries at and below the names whose patterns
 * changed (overlay_walk_changes()) equal the tables exported whole from
 * the generation, byte for byte: named cases (a namespace rule, an exact
 * rule, a deny inside a namespace, a removal, a route change), then a
 * random sequence of changes.
 */
#define NTABLES	3
#define BELOW_STEPS	150

static const enum export_format formats[NTABLES] = {
	EXPORT_POSTFIX_ACCESS, EXPORT_POSTFIX_RELAY_DOMAINS,
	EXPORT_POSTFIX_TRANSPORT,
};
static const int flags = EXPORT_DENY_BY_ACCESS | EXPORT_RECIPIENTS;

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

START_TEST(test_below_named)
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

/* A random sequence: each step a generation of the last that exported. */
START_TEST(test_below_random)
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
	for (step = 0; step < BELOW_STEPS; step++) {
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
	ck_assert_uint_gt(ok, BELOW_STEPS / 4);
	ruleset_free(held);
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
	tcase_add_test(tc, test_below_named);
	tcase_add_test(tc, test_below_random);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
