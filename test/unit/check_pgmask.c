/*
 * check_pgmask - the connection string as it may be logged (milter/pgsource.c)
 *
 * pgsource_mask() on the keyword form with password and sslpassword, on
 * the URI form with a password in its user part and an sslpassword in
 * its query, on a connection string whose dbname is itself a connection
 * string or a URI (PQconnectdbParams() expands such a dbname; it showed
 * in clear), on strings libpq cannot parse and on a buffer too small (of
 * no octet: nothing written; it wrote one): no secret of the input is in
 * the output, the other settings are.
 * pgsource_has_secret() says whether a string gives a secret.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../milter/pgsource.h"

#define SECRET	"Never-Shown-9931"
#define SECRET2	"Nor-This-4410"

/* masked - pgsource_mask(in) holds none of the secrets; the output */
static const char *
masked(const char *in)
{
	static char	buf[1024];

	memset(buf, 'x', sizeof(buf));
	ck_assert_ptr_eq(pgsource_mask(in, buf, sizeof(buf)), buf);
	ck_assert_msg(memchr(buf, '\0', sizeof(buf)) != NULL, "%s: not "
	    "terminated", in);
	ck_assert_msg(strstr(buf, SECRET) == NULL &&
	    strstr(buf, SECRET2) == NULL, "a secret of \"%s\" shown: \"%s\"",
	    in, buf);
	return buf;
}

START_TEST(test_keywords)
{
	const char	*out;

	out = masked("host=db.example dbname=mail user=milter "
	    "password=" SECRET " sslpassword=" SECRET2);
	ck_assert_ptr_nonnull(strstr(out, "host=db.example"));
	ck_assert_ptr_nonnull(strstr(out, "user=milter"));
	ck_assert_ptr_nonnull(strstr(out, "dbname=mail"));
	ck_assert_ptr_nonnull(strstr(out, " password=********"));
	ck_assert_ptr_nonnull(strstr(out, "sslpassword=********"));
	/* quoted, with spaces and escapes */
	out = masked("host=db.example password='" SECRET " \\' x' "
	    "dbname=mail");
	ck_assert_ptr_nonnull(strstr(out, "password=********"));
	ck_assert_int_eq(pgsource_has_secret("host=db.example password="
	    SECRET), 1);
	ck_assert_int_eq(pgsource_has_secret("host=db.example "
	    "sslpassword=" SECRET2), 1);
	ck_assert_int_eq(pgsource_has_secret("host=db.example dbname=mail "
	    "passfile=/etc/pgpass"), 0);
	out = masked("host=db.example passfile=/etc/milter-relay/pgpass");
	ck_assert_ptr_nonnull(strstr(out, "passfile=/etc/milter-relay/pgpass"));
}
END_TEST

START_TEST(test_uri)
{
	const char	*out;

	out = masked("postgresql://milter:" SECRET "@db.example/mail"
	    "?sslpassword=" SECRET2);
	ck_assert_ptr_nonnull(strstr(out, "user=milter"));
	ck_assert_ptr_nonnull(strstr(out, "host=db.example"));
	ck_assert_ptr_nonnull(strstr(out, "dbname=mail"));
	ck_assert_ptr_nonnull(strstr(out, " password=********"));
	ck_assert_ptr_nonnull(strstr(out, "sslpassword=********"));
	/* percent-encoded: decoded by libpq, masked all the same */
	(void)masked("postgres://milter:Never%2DShown%2D9931@db.example/mail");
	(void)masked("postgresql://milter@db.example/mail?password=" SECRET);
	ck_assert_int_eq(pgsource_has_secret("postgresql://milter:" SECRET
	    "@db.example/mail"), 1);
	ck_assert_int_eq(pgsource_has_secret("postgresql://milter@"
	    "db.example/mail"), 0);
}
END_TEST

/* a dbname that is a connection string or a URI holding a password */
START_TEST(test_dbname_expanded)
{
	(void)masked("dbname='host=db.example password=" SECRET "'");
	(void)masked("dbname=postgresql://milter:" SECRET "@db.example/mail");
	(void)masked("postgresql:///?dbname=postgresql%3A%2F%2Fmilter%3A"
	    "Never-Shown-9931%40db.example%2Fmail");
	ck_assert_int_eq(pgsource_has_secret("dbname='host=db.example "
	    "password=" SECRET "'"), 1);
}
END_TEST

START_TEST(test_unparsable)
{
	const char	*bad[] = {
		"host=db.example password='" SECRET,	/* unterminated */
		"password " SECRET,			/* no '=' */
		"nosuchkeyword=" SECRET,
		"postgresql://milter:" SECRET "@db.example/mail?bad=" SECRET2,
		"postgresql://milter:" SECRET "@[db.example/mail",
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_str_eq(masked(bad[i]),
		    "(a connection string libpq cannot parse)");
		ck_assert_int_eq(pgsource_has_secret(bad[i]), 0);
	}
}
END_TEST

/* a buffer too small: cut, terminated, still no secret */
START_TEST(test_small_buffer)
{
	const char	*in = "host=db.example password=" SECRET
	    " sslpassword=" SECRET2;
	char		 buf[32];
	size_t		 len;

	for (len = 1; len <= sizeof(buf); len++) {
		memset(buf, 'x', sizeof(buf));
		pgsource_mask(in, buf, len);
		ck_assert_msg(memchr(buf, '\0', len) != NULL, "len %zu: not "
		    "terminated", len);
		ck_assert_ptr_null(strstr(buf, "Never"));
		ck_assert_ptr_null(strstr(buf, "Nor-"));
	}
	memset(buf, 'x', sizeof(buf));
	pgsource_mask(in, buf, 0);		/* nothing written */
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

int
main(void)
{
	Suite	*s;
	TCase	*tc;
	SRunner	*sr;
	int	 failed;

	s = suite_create("pgmask");
	tc = tcase_create("pgmask");
	tcase_add_test(tc, test_keywords);
	tcase_add_test(tc, test_uri);
	tcase_add_test(tc, test_dbname_expanded);
	tcase_add_test(tc, test_unparsable);
	tcase_add_test(tc, test_small_buffer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
