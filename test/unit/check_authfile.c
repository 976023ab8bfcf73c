/*
 * check_authfile - unit tests of smart host credentials: the auth_file
 * parser and its permission check (lib/authfile.c), the rules that may
 * carry credentials (lib/ruleset.c), the keys of the Postfix and Sendmail
 * tables (lib/saslpasswd.c), and that no socketmap map answers a secret
 * (lib/maps.c).
 */
#include <sys/stat.h>

#include <check.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authfile.h"
#include "config.h"
#include "export.h"
#include "maps.h"
#include "saslpasswd.h"
#include "testutil.h"

#define SECRET	"Pa55 w:rd"

static char tmpdir[] = "/tmp/check_authfile.XXXXXX";

/* A file in tmpdir with that text and mode: its path (static). */
static const char *
cred_file(const char *name, const char *text, mode_t mode)
{
	static char	 path[4][256];
	static int	 next;
	char		*p = path[next++ % 4];
	FILE		*f;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(p, mode), 0);
	return p;
}

START_TEST(test_parse)
{
	static const struct {
		const char	*text;
		const char	*user, *pass;	/* NULL: refused */
		size_t		 len;		/* 0: strlen(text) */
	} cases[] = {
		{ "relay:secret\n", "relay", "secret", 0 },
		{ "relay:secret", "relay", "secret", 0 },
		{ "relay:secret\r\n", "relay", "secret", 0 },
		{ "u@example.com:" SECRET "\n", "u@example.com", SECRET, 0 },
		{ "u:a:b\n", "u", "a:b", 0 },		/* first colon splits */
		{ "u:p\xc3\xa4ss\n", "u", "p\xc3\xa4ss", 0 },	/* UTF-8 */
		{ "", NULL, NULL, 0 },
		{ "\n", NULL, NULL, 0 },
		{ "relay\n", NULL, NULL, 0 },		/* no colon */
		{ ":secret\n", NULL, NULL, 0 },		/* no user */
		{ "relay:\n", NULL, NULL, 0 },		/* no password */
		{ "re lay:secret\n", NULL, NULL, 0 },
		{ "relay: secret\n", NULL, NULL, 0 },
		{ "relay:secret \n", NULL, NULL, 0 },
		{ "relay:sec\tret\n", NULL, NULL, 0 },
		{ "relay:secret\n\n", NULL, NULL, 0 },	/* a second line */
		{ "relay:secret\nother:x\n", NULL, NULL, 0 },
		{ "relay:sec\0ret\n", NULL, NULL, 14 },
		{ "relay:sec\x7fret\n", NULL, NULL, 0 },
	};
	struct authfile	 af;
	const char	*why;
	size_t		 i, len;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].text);
		memset(&af, 0, sizeof(af));
		why = NULL;
		rc = authfile_parse(cases[i].text, len, &af, &why);
		if (cases[i].user == NULL) {
			ck_assert_msg(rc == -1, "case %zu accepted", i);
			ck_assert_ptr_nonnull(why);
			ck_assert_ptr_null(strstr(why, "secret"));
			continue;
		}
		ck_assert_msg(rc == 0, "case %zu: %s", i, why);
		ck_assert_str_eq(af.user, cases[i].user);
		ck_assert_str_eq(af.pass, cases[i].pass);
	}
}
END_TEST

START_TEST(test_modes)
{
	const char	*why;
	uid_t		 self = 1000;
	gid_t		 group = 120;

	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0600, 0, 0, self, group,
	    &why), 1);
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0400, self, 0, self,
	    group, &why), 1);
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0640, 0, group, self,
	    group, &why), 1);
	/* group-readable by another group */
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0640, 0, 7, self, group,
	    &why), 0);
	/* beyond 0640 */
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0644, 0, group, self,
	    group, &why), 0);
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0660, 0, group, self,
	    group, &why), 0);
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0604, 0, group, self,
	    group, &why), 0);
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0700, 0, group, self,
	    group, &why), 0);
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 04600, 0, group, self,
	    group, &why), 0);
	/* another owner */
	ck_assert_int_eq(authfile_mode_ok(S_IFREG | 0600, 1001, group, self,
	    group, &why), 0);
	ck_assert_int_eq(authfile_mode_ok(S_IFDIR | 0600, 0, group, self,
	    group, &why), 0);
}
END_TEST

START_TEST(test_load)
{
	struct authfile	*af;
	char		 err[512];
	const char	*p;

	p = cred_file("good", "relay:" SECRET "\n", 0600);
	ck_assert_ptr_nonnull(af = authfile_load(p, (uid_t)-1, getegid(), err,
	    sizeof(err)));
	ck_assert_str_eq(af->pass, SECRET);
	ck_assert_str_eq(af->path, p);
	authfile_free(af);
	/* others may read */
	p = cred_file("open", "relay:" SECRET "\n", 0644);
	ck_assert_ptr_null(authfile_load(p, (uid_t)-1, getegid(), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "0640"));
	/* group-readable, not the service group */
	p = cred_file("grp", "relay:" SECRET "\n", 0640);
	ck_assert_ptr_null(authfile_load(p, (uid_t)-1, getegid() + 1, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "service group"));
	ck_assert_ptr_nonnull(af = authfile_load(p, (uid_t)-1, getegid(), err,
	    sizeof(err)));
	authfile_free(af);
	/* missing, malformed: named, never quoted */
	snprintf(err, sizeof(err), "%s/none", tmpdir);
	ck_assert_ptr_null(authfile_load(err, (uid_t)-1, getegid(), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	p = cred_file("bad", "relay " SECRET "\n", 0600);
	ck_assert_ptr_null(authfile_load(p, (uid_t)-1, getegid(), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, p));
	ck_assert_ptr_null(strstr(err, "Pa55"));
}
END_TEST

/* The config text of rules; %s: the credential files. */
static struct config *
rules(const char *body, char *err, size_t errlen)
{
	char	*text;
	struct config *c;

	ck_assert_int_ge(asprintf(&text, "domains = (\n%s\n);\n", body), 0);
	c = unit_config_try(text, err, errlen);
	free(text);
	return c;
}

START_TEST(test_rules)
{
	static const char *const carry[] = { "encrypt", "verify", "secure" };
	struct config	*c;
	char		 body[2048], err[512];
	const char	*a, *b, *a2;
	unsigned long	 refused;
	size_t		 i;

	a = cred_file("a", "relay:" SECRET "\n", 0600);
	b = cred_file("b", "other:different\n", 0600);
	a2 = cred_file("a2", "relay:" SECRET "\n", 0600);
	/* credentials need tls encrypt, verify or secure, and a smart host */
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "smarthost = \"[192.0.2.1]\"; auth_file = \"%s\"; }", a);
	ck_assert_ptr_null(rules(body, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "encrypt"));
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "smarthost = \"[192.0.2.1]\"; tls = \"may\"; auth_file = \"%s\"; }",
	    a);
	ck_assert_ptr_null(rules(body, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "\"may\""));
	/* dane falls back to may without TLSA records: refused, counted */
	refused = authfile_refusals();
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "smarthost = \"[192.0.2.1]\"; tls = \"dane\"; auth_file = \"%s\"; }",
	    a);
	ck_assert_ptr_null(rules(body, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not \"dane\""));
	ck_assert_ptr_null(strstr(err, "Pa55"));
	ck_assert_uint_eq(authfile_refusals(), refused + 1);
	/* the levels that never go on in clear carry credentials */
	for (i = 0; i < sizeof(carry) / sizeof(carry[0]); i++) {
		snprintf(body, sizeof(body), "{ match = \"x.example\"; "
		    "smarthost = \"[192.0.2.1]\"; tls = \"%s\"; "
		    "auth_file = \"%s\"; }", carry[i], a);
		ck_assert_msg((c = rules(body, err, sizeof(err))) != NULL,
		    "tls %s: %s", carry[i], err);
		config_free(c);
	}
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "tls = \"encrypt\"; auth_file = \"%s\"; }", a);
	ck_assert_ptr_null(rules(body, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "smarthost"));
	/* one hop, two rules, other credentials: both rules named */
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "smarthost = \"[192.0.2.1]\"; tls = \"encrypt\"; auth_file = \"%s\"; },"
	    "{ match = \"y.example\"; smarthost = [ \"192.0.2.9\", "
	    "\"[192.0.2.1]:25\" ]; tls = \"encrypt\"; auth_file = \"%s\"; }",
	    a, b);
	ck_assert_ptr_null(rules(body, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "\"x.example\""));
	ck_assert_ptr_nonnull(strstr(err, "\"y.example\""));
	ck_assert_ptr_null(strstr(err, "Pa55"));
	ck_assert_ptr_null(strstr(err, "different"));
	/* the same credentials from two files are one */
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "smarthost = \"[192.0.2.1]\"; tls = \"encrypt\"; auth_file = \"%s\"; },"
	    "{ match = \"y.example\"; smarthost = \"[192.0.2.1]:25\"; "
	    "tls = \"verify\"; auth_file = \"%s\"; }", a, a2);
	ck_assert_ptr_null(rules(body, err, sizeof(err)));	/* tls differs */
	ck_assert_ptr_nonnull(strstr(err, "tls"));
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "smarthost = \"[192.0.2.1]\"; tls = \"encrypt\"; auth_file = \"%s\"; },"
	    "{ match = \"y.example\"; smarthost = \"[192.0.2.1]:25\"; "
	    "tls = \"encrypt\"; auth_file = \"%s\"; }", a, a2);
	ck_assert_ptr_nonnull(c = rules(body, err, sizeof(err)));
	ck_assert_uint_eq(saslpasswd_count(c->sasl), 1);
	config_free(c);
	/* a missing file */
	snprintf(body, sizeof(body), "{ match = \"x.example\"; "
	    "smarthost = \"[192.0.2.1]\"; tls = \"encrypt\"; "
	    "auth_file = \"%s/none\"; }", tmpdir);
	ck_assert_ptr_null(rules(body, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "none"));
}
END_TEST

struct seen {
	char	 text[4096];
	size_t	 len;
};

static int
collect(const char *key, const char *value, void *arg)
{
	struct seen	*s = arg;

	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len,
	    "%s=%s|", key, value);
	return 0;
}

static const char *
walk(const struct config *c, enum saslpasswd_mta mta, struct seen *s,
    char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (saslpasswd_walk(c->sasl, mta, collect, s, err, errlen) != 0)
		return NULL;
	return s->text;
}

START_TEST(test_keys)
{
	struct config	*c;
	struct seen	 s;
	char		 body[2048], err[512];
	const char	*a, *b;

	a = cred_file("ka", "relay:" SECRET "\n", 0600);
	b = cred_file("kb", "other:x\n", 0600);
	snprintf(body, sizeof(body),
	    "{ match = \"x.example\"; smarthost = [ \"[192.0.2.1]:2525\", "
	    "\"Mail.Example.NET\", \"[2001:DB8::7]\" ]; tls = \"encrypt\"; "
	    "auth_file = \"%s\"; },"
	    "{ match = \"y.example\"; smarthost = \"mx:Relay.Example\"; "
	    "tls = \"secure\"; auth_file = \"%s\"; },"
	    "{ match = \"z.example\"; smarthost = \"[192.0.2.2]\"; "
	    "tls = \"encrypt\"; }", a, b);
	ck_assert_msg((c = rules(body, err, sizeof(err))) != NULL, "%s", err);
	ck_assert_str_eq(walk(c, SASLPASSWD_POSTFIX, &s, err, sizeof(err)),
	    "[192.0.2.1]:2525=relay:" SECRET "|"
	    "[2001:db8::7]=relay:" SECRET "|"
	    "[2001:db8::7]:25=relay:" SECRET "|"
	    "[mail.example.net]=relay:" SECRET "|"
	    "[mail.example.net]:25=relay:" SECRET "|"
	    "relay.example=other:x|"
	    "relay.example:25=other:x|");
	ck_assert_str_eq(walk(c, SASLPASSWD_SENDMAIL, &s, err, sizeof(err)),
	    "AuthInfo:192.0.2.1=\"U:relay\" \"I:relay\" \"P:" SECRET "\" "
	    "\"M:PLAIN LOGIN\"|"
	    "AuthInfo:IPv6:2001:db8::7=\"U:relay\" \"I:relay\" \"P:" SECRET
	    "\" \"M:PLAIN LOGIN\"|"
	    "AuthInfo:mail.example.net=\"U:relay\" \"I:relay\" \"P:" SECRET
	    "\" \"M:PLAIN LOGIN\"|"
	    "AuthInfo:relay.example=\"U:other\" \"I:other\" \"P:x\" "
	    "\"M:PLAIN LOGIN\"|");
	config_free(c);
	/* Sendmail has no port in AuthInfo: two ports, other credentials */
	snprintf(body, sizeof(body),
	    "{ match = \"x.example\"; smarthost = \"[192.0.2.1]:2525\"; "
	    "tls = \"encrypt\"; auth_file = \"%s\"; },"
	    "{ match = \"y.example\"; smarthost = \"[192.0.2.1]:587\"; "
	    "tls = \"encrypt\"; auth_file = \"%s\"; }", a, b);
	ck_assert_msg((c = rules(body, err, sizeof(err))) != NULL, "%s", err);
	ck_assert_ptr_nonnull(walk(c, SASLPASSWD_POSTFIX, &s, err,
	    sizeof(err)));
	ck_assert_ptr_null(walk(c, SASLPASSWD_SENDMAIL, &s, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "by host"));
	config_free(c);
}
END_TEST

/* No socketmap map answers a secret, for any key a rule makes. */
START_TEST(test_socketmap_no_secret)
{
	static const char *const keys[] = {
		"x.example", "a.x.example", "u@x.example", "[192.0.2.1]:2525",
		"[192.0.2.1]", "192.0.2.1", "[mail.example.net]",
		"mail.example.net", "[mail.example.net]:25", "relay.example",
		"AuthInfo:192.0.2.1", "AuthInfo:mail.example.net",
	};
	struct config	*c;
	struct map_answer a;
	char		 body[1024], err[512];
	const char	*p;
	size_t		 i;
	int		 m;

	p = cred_file("sm", "relay:" SECRET "\n", 0600);
	snprintf(body, sizeof(body),
	    "{ match = \"x.example\"; smarthost = [ \"[192.0.2.1]:2525\", "
	    "\"mail.example.net\" ]; tls = \"encrypt\"; auth_file = \"%s\"; }",
	    p);
	ck_assert_msg((c = rules(body, err, sizeof(err))) != NULL, "%s", err);
	for (m = 0; m < MAP_NAMES; m++)
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			maps_lookup(c, (enum map_name)m, keys[i],
			    strlen(keys[i]), &a);
			if (a.status != MAP_OK)
				continue;
			ck_assert_msg(strstr(a.value, "Pa55") == NULL &&
			    strstr(a.value, "relay:") == NULL,
			    "map %s key %s answers %s", maps_name(m), keys[i],
			    a.value);
		}
	/* the socketmap has no map of that name either */
	maps_request(c, "sasl_passwd [192.0.2.1]:2525",
	    strlen("sasl_passwd [192.0.2.1]:2525"), &a);
	ck_assert_int_ne(a.status, MAP_OK);
	config_free(c);
}
END_TEST

static void
cleanup(void)
{
	char	cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "check_authfile: could not remove %s\n",
		    tmpdir);
}

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	s = suite_create("authfile");
	tc = tcase_create("authfile");
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_socketmap_no_secret);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
