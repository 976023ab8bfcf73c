/*
 * fuzz_authfile - libFuzzer target: the auth_file parser
 *
 * The input goes to authfile_parse() as a file's contents.  Checked: the
 * result is 0 or -1; -1 comes with a reason; on 0 the username is 1 to
 * AUTHFILE_USER_MAX octets without a colon, blank or control character,
 * the password 1 to AUTHFILE_PASS_MAX octets without a control character
 * or a blank at either end, and "username:password" is the input without
 * its line end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authfile.h"

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_authfile: %s\n", why);
	abort();
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authfile	 af;
	const char	*why = NULL;
	char		 joined[AUTHFILE_SIZE_MAX + 1];
	size_t		 len = size, ulen, plen;
	int		 rc;

	memset(&af, 0, sizeof(af));
	rc = authfile_parse((const char *)data, size, &af, &why);
	if (rc == -1) {
		if (why == NULL || why[0] == '\0')
			die("refused without a reason");
		return 0;
	}
	if (rc != 0)
		die("bad return");
	ulen = strlen(af.user);
	plen = strlen(af.pass);
	if (ulen == 0 || ulen > AUTHFILE_USER_MAX || plen == 0 ||
	    plen > AUTHFILE_PASS_MAX)
		die("length out of bounds");
	if (strchr(af.user, ':') != NULL || strchr(af.user, ' ') != NULL ||
	    has_ctl(af.user) || has_ctl(af.pass))
		die("a forbidden character accepted");
	if (af.pass[0] == ' ' || af.pass[plen - 1] == ' ')
		die("a blank at an end of the password");
	if (len > 0 && data[len - 1] == '\n')
		len--;
	if (len > 0 && data[len - 1] == '\r')
		len--;
	snprintf(joined, sizeof(joined), "%s:%s", af.user, af.pass);
	if (strlen(joined) != len || memcmp(joined, data, len) != 0)
		die("username:password is not the input");
	return 0;
}
