/*
 * check_recipients - unit tests of recipient validation per rule
 *
 * rcptlist (lib/rcptlist.c): lines, comments, @domain entries, case,
 * errors with FILE:LINE; config: recipients / recipients_file settings
 * inline and in a domains_file, their errors, the verify group;
 * decide(): list mode for every client, the unknown reply and its
 * setting, verify mode's flag and decide_recipient(); maps: the
 * "recipients" socketmap map for relay_recipient_maps.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "maps.h"
#include "rcptlist.h"
#include "testutil.h"

static char list_path[64];

static void
write_file(char *path, size_t pathlen, const char *text)
{
	int	fd;

	snprintf(path, pathlen, "/tmp/check_rcpt.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char list_text[] =
    "# users of example.com\n"
    "\n"
    "  Alice@Example.COM   # the boss\n"
    "bob@example.com\n"
    "bob@example.com\n"
    "@whole.example\n"
    "carol@b\xc3\xbc" "cher.example\n";

static struct config *
load(const char *policy, const char *extra)
{
	char		*text;
	struct config	*c;

	write_file(list_path, sizeof(list_path), list_text);
	ck_assert_int_ge(asprintf(&text, "policy = { %s };\n%s\n"
	    "domains = (\n"
	    "  { match = \"example.com\"; recipients = \"list\";\n"
	    "    recipients_file = \"%s\"; },\n"
	    "  { match = \"whole.example\"; recipients = \"list\";\n"
	    "    recipients_file = \"%s\"; },\n"
	    "  { match = \"b\xc3\xbc" "cher.example\"; recipients = \"list\";\n"
	    "    recipients_file = \"%s\"; },\n"
	    "  { match = \"inner.example\"; relay = \"trusted\";\n"
	    "    recipients = \"list\"; recipients_file = \"%s\"; },\n"
	    "  { match = \"verified.example\"; recipients = \"verify\";\n"
	    "    smarthost = \"[127.0.0.1]:2525\"; },\n"
	    "  { match = \"open.example\"; }\n"
	    ");\n", policy, extra, list_path, list_path, list_path,
	    list_path), 0);
	c = unit_config_load(text);
	free(text);
	unlink(list_path);
	return c;
}

START_TEST(test_list_lines)
{
	struct rcptlist	*l;
	char		 err[256];

	l = rcptlist_new();
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(rcptlist_parse_line(l, "", 0, err, sizeof(err)), 1);
	ck_assert_int_eq(rcptlist_parse_line(l, "  # x", 5, err,
	    sizeof(err)), 1);
	ck_assert_int_eq(rcptlist_parse_line(l, "a#b@x.test", 10, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(rcptlist_parse_line(l, "U@X.Test # c", 12, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(rcptlist_parse_line(l, "@d.test", 7, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(rcptlist_parse_line(l, "nobody", 6, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "not an address (want user@domain or @domain)");
	ck_assert_int_eq(rcptlist_parse_line(l, "a@b@c.test", 10, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rcptlist_parse_line(l, "a b@c.test", 10, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rcptlist_parse_line(l, "a@-bad-", 7, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rcptlist_parse_line(l, "\"q\"@c.test", 10, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rcptlist_parse_line(l, "a@x\0y", 5, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rcptlist_finish(l), 0);
	ck_assert_uint_eq(rcptlist_count(l), 3);
	ck_assert_int_eq(rcptlist_contains(l, "a#b", "x.test"), 1);
	ck_assert_int_eq(rcptlist_contains(l, "u", "x.test"), 1);
	ck_assert_int_eq(rcptlist_contains(l, "v", "x.test"), 0);
	ck_assert_int_eq(rcptlist_contains(l, "anyone", "d.test"), 1);
	ck_assert_int_eq(rcptlist_has_domain(l, "d.test"), 1);
	ck_assert_int_eq(rcptlist_has_domain(l, "x.test"), 0);
	rcptlist_free(l);
}
END_TEST

START_TEST(test_list_file_errors)
{
	char		 path[64], err[512], want[128];
	struct rcptlist	*l;

	write_file(path, sizeof(path), "a@x.test\n# c\nbroken\n");
	l = rcptlist_load(path, err, sizeof(err));
	ck_assert_ptr_null(l);
	snprintf(want, sizeof(want), "%s:3: not an address", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	unlink(path);
	write_file(path, sizeof(path), "a@x.test\nb@x.te");
	l = rcptlist_load(path, err, sizeof(err));
	ck_assert_ptr_null(l);
	snprintf(want, sizeof(want), "%s:2: incomplete last line", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	unlink(path);
	l = rcptlist_load(path, err, sizeof(err));
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
}
END_TEST

static void
check_rcpt(const struct config *c, const struct client *cl, const char *rcpt,
    enum outcome want, const char *reply)
{
	struct decision	d;
	char		got[REPLY_MAX + 32];

	decide(c, cl, rcpt, strlen(rcpt), &d);
	ck_assert_msg(d.outcome == want, "%s: %s (%s)", rcpt,
	    decision_outcome_name(d.outcome), decision_reason(&d));
	if (reply != NULL) {
		snprintf(got, sizeof(got), "%s %s %s", d.rcode, d.xcode,
		    d.text);
		ck_assert_str_eq(got, reply);
	}
}

START_TEST(test_decide_list)
{
	struct config	*c;
	struct client	 untrusted, trusted;
	struct decision	 d;

	memset(&untrusted, 0, sizeof(untrusted));
	memset(&trusted, 0, sizeof(trusted));
	trusted.authenticated = 1;
	c = load("", "");
	check_rcpt(c, &untrusted, "<alice@example.com>", OUTCOME_ACCEPT, NULL);
	decide(c, &untrusted, "<alice@example.com>", 19, &d);
	ck_assert_int_eq(d.reason, DECIDE_REASON_OTHER);
	ck_assert_str_eq(decision_reason(&d), "listed recipient");
	decide(c, &untrusted, "<eve@example.com>", 17, &d);
	ck_assert_int_eq(d.reason, DECIDE_REASON_OTHER);
	ck_assert_str_eq(decision_reason(&d), "recipient not listed");
	check_rcpt(c, &untrusted, "<ALICE@sub.example.com>", OUTCOME_REJECT,
	    "550 5.1.1 <ALICE@sub.example.com>: Recipient address rejected: "
	    "User unknown");
	check_rcpt(c, &untrusted, "<Bob@EXAMPLE.com>", OUTCOME_ACCEPT, NULL);
	check_rcpt(c, &untrusted, "<eve@example.com>", OUTCOME_REJECT,
	    "550 5.1.1 <eve@example.com>: Recipient address rejected: "
	    "User unknown");
	/* every client alike */
	check_rcpt(c, &trusted, "<eve@example.com>", OUTCOME_REJECT, NULL);
	check_rcpt(c, &trusted, "<bob@inner.example>", OUTCOME_REJECT, NULL);
	check_rcpt(c, &trusted, "<x@whole.example>", OUTCOME_ACCEPT, NULL);
	check_rcpt(c, &untrusted, "<x@whole.example>", OUTCOME_ACCEPT, NULL);
	/* an untrusted client to a trusted-only rule: relaying decides */
	check_rcpt(c, &untrusted, "<bob@inner.example>", OUTCOME_REJECT,
	    "554 5.7.1 <bob@inner.example>: Relay access denied");
	check_rcpt(c, &untrusted, "<carol@b\xc3\xbc" "cher.example>",
	    OUTCOME_ACCEPT, NULL);
	check_rcpt(c, &untrusted, "<carol@xn--bcher-kva.example>",
	    OUTCOME_ACCEPT, NULL);
	check_rcpt(c, &untrusted, "<dave@open.example>", OUTCOME_ACCEPT, NULL);
	config_free(c);

	c = load("mode = \"log-only\";", "verify = { unknown_reply = "
	    "\"550 5.1.1 No such user here\"; };");
	check_rcpt(c, &untrusted, "<eve@example.com>", OUTCOME_ACCEPT,
	    "550 5.1.1 <eve@example.com>: No such user here");
	config_free(c);
}
END_TEST

START_TEST(test_decide_verify)
{
	struct config	*c;
	struct client	 untrusted;
	struct decision	 d;
	const char	*r = "<u@verified.example>";

	memset(&untrusted, 0, sizeof(untrusted));
	c = load("", "");
	decide(c, &untrusted, r, strlen(r), &d);
	ck_assert_int_eq(d.outcome, OUTCOME_ACCEPT);
	ck_assert_int_eq(d.verify, 1);
	decide_recipient(c, r, strlen(r), RECIPIENT_VALID, "valid", &d);
	ck_assert_int_eq(d.outcome, OUTCOME_ACCEPT);
	ck_assert_int_eq(d.verify, 0);
	/* the callout's result is the log's phrase, "other" the metrics' */
	ck_assert_int_eq(d.reason, DECIDE_REASON_OTHER);
	ck_assert_str_eq(decision_reason(&d), "valid");
	decide_recipient(c, r, strlen(r), RECIPIENT_INVALID, "invalid", &d);
	ck_assert_int_eq(d.outcome, OUTCOME_REJECT);
	ck_assert_int_eq(d.reason, DECIDE_REASON_OTHER);
	ck_assert_str_eq(decision_reason(&d), "invalid");
	ck_assert_str_eq(d.rcode, "550");
	ck_assert_str_eq(d.xcode, "5.1.1");
	decide_recipient(c, r, strlen(r), RECIPIENT_UNKNOWN, "unknown", &d);
	ck_assert_int_eq(d.outcome, OUTCOME_TEMPFAIL);
	ck_assert_str_eq(d.rcode, "450");
	ck_assert_str_eq(d.xcode, "4.1.1");
	decide(c, &untrusted, "<u@open.example>", 16, &d);
	ck_assert_int_eq(d.verify, 0);
	config_free(c);

	c = load("verify_unknown = \"accept\";", "");
	decide_recipient(c, r, strlen(r), RECIPIENT_UNKNOWN, "unknown", &d);
	ck_assert_int_eq(d.outcome, OUTCOME_ACCEPT);
	config_free(c);
}
END_TEST

static void
check_map(const struct config *c, const char *req, const char *want)
{
	char	out[MAPS_ANSWER_MAX];

	maps_answer(c, req, strlen(req), out, sizeof(out));
	ck_assert_msg(strcmp(out, want) == 0, "%s: %s", req, out);
}

START_TEST(test_map)
{
	struct config	*c;

	c = load("", "");
	check_map(c, "recipients alice@example.com", "OK valid");
	check_map(c, "recipients ALICE@EXAMPLE.COM", "OK valid");
	check_map(c, "recipients eve@example.com", "NOTFOUND ");
	check_map(c, "recipients @example.com", "NOTFOUND ");
	check_map(c, "recipients @whole.example", "OK valid");
	check_map(c, "recipients x@whole.example", "OK valid");
	check_map(c, "recipients @open.example", "OK valid");
	check_map(c, "recipients @verified.example", "OK valid");
	check_map(c, "recipients bob@inner.example", "NOTFOUND ");
	check_map(c, "recipients @nowhere.example", "NOTFOUND ");
	check_map(c, "recipients alice", "NOTFOUND ");
	config_free(c);
}
END_TEST

static void
check_bad(const char *text, const char *want)
{
	char		 path[64], err[512];
	struct config	*c;

	write_file(path, sizeof(path), text);
	c = config_load(path, err, sizeof(err));
	unlink(path);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, want) != NULL, "%s: want %s", err, want);
}

START_TEST(test_config_errors)
{
	char	lpath[64], dpath[64], *text;

	check_bad("domains = ( { match = \"a.test\"; recipients = \"some\"; }"
	    " );", "bad recipients \"some\"");
	check_bad("domains = ( { match = \"a.test\"; recipients = \"list\"; }"
	    " );", "needs recipients_file");
	check_bad("domains = ( { match = \"a.test\"; recipients_file = \"x\";"
	    " } );", "only for recipients = \"list\"");
	check_bad("domains = ( { match = \"a.test\"; relay = \"deny\"; "
	    "recipients = \"verify\"; } );", "makes no sense");
	check_bad("verify = { timeout = \"soon\"; };", "must be a duration");
	check_bad("verify = { max_probes = 0; };", "max_probes must be");
	check_bad("verify = { max_probes_per_client = 0; };",
	    "max_probes_per_client must be");
	check_bad("verify = { unknown_reply = \"450 4.1.1 later\"; };",
	    "must be a 5xx reply");
	check_bad("verify = { colour = 1; };", "unknown setting");
	check_bad("policy = { verify_unknown = \"maybe\"; };",
	    "bad verify_unknown");
	/* a bad line of a recipients_file is FILE:LINE, inline and in a
	 * domains_file */
	write_file(lpath, sizeof(lpath), "a@a.test\n\nnot-an-address\n");
	ck_assert_int_ge(asprintf(&text, "domains = ( { match = \"a.test\"; "
	    "recipients = \"list\"; recipients_file = \"%s\"; } );", lpath),
	    0);
	check_bad(text, ":3: not an address");
	free(text);
	ck_assert_int_ge(asprintf(&text, "a.test recipients=list "
	    "recipients_file=%s\n", lpath), 0);
	write_file(dpath, sizeof(dpath), text);
	free(text);
	ck_assert_int_ge(asprintf(&text, "domains_file = \"%s\";", dpath), 0);
	check_bad(text, ":3: not an address");
	free(text);
	unlink(dpath);
	unlink(lpath);
}
END_TEST

START_TEST(test_domains_file)
{
	char		 lpath[64], dpath[64], *text;
	struct config	*c;
	struct client	 untrusted;

	memset(&untrusted, 0, sizeof(untrusted));
	write_file(lpath, sizeof(lpath), "a@a.test\n");
	ck_assert_int_ge(asprintf(&text, "a.test recipients=list "
	    "recipients_file=%s\nb.test recipients=list recipients_file=%s\n"
	    "c.test recipients=verify\n", lpath, lpath), 0);
	write_file(dpath, sizeof(dpath), text);
	free(text);
	ck_assert_int_ge(asprintf(&text, "domains_file = \"%s\";", dpath), 0);
	c = unit_config_load(text);
	free(text);
	unlink(dpath);
	unlink(lpath);
	check_rcpt(c, &untrusted, "<a@a.test>", OUTCOME_ACCEPT, NULL);
	check_rcpt(c, &untrusted, "<b@a.test>", OUTCOME_REJECT, NULL);
	check_rcpt(c, &untrusted, "<a@b.test>", OUTCOME_REJECT, NULL);
	check_rcpt(c, &untrusted, "<a@c.test>", OUTCOME_ACCEPT, NULL);
	ck_assert_int_eq(c->verify.positive_expire, 31 * 86400);
	ck_assert_int_eq(c->verify.negative_expire, 3 * 86400);
	ck_assert_int_eq(c->verify.max_probes_per_client, 8);
	config_free(c);
	c = unit_config_load("verify = { max_probes_per_client = 3; };");
	ck_assert_int_eq(c->verify.max_probes_per_client, 3);
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

	s = suite_create("recipients");
	tc = tcase_create("recipients");
	tcase_add_test(tc, test_list_lines);
	tcase_add_test(tc, test_list_file_errors);
	tcase_add_test(tc, test_decide_list);
	tcase_add_test(tc, test_decide_verify);
	tcase_add_test(tc, test_map);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_domains_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
