/*
 * mt_expect - expectations on filter replies (see mt_expect.h)
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mt_expect.h"

static int
is_code(const char *s)
{
	return strlen(s) == 3 && (s[0] == '2' || s[0] == '4' || s[0] == '5') &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]);
}

static int
is_xcode(const char *s)
{
	int	dots = 0;

	if (!isdigit((unsigned char)*s) || strlen(s) >= 32)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.')
			dots++;
		else if (!isdigit((unsigned char)*s))
			return 0;
	}
	return dots == 2;
}

int
mt_expect_parse(struct mt_expect *e, char *const *argv, int argc, char *err,
    size_t errlen)
{
	size_t	off;
	int	i;

	memset(e, 0, sizeof(*e));
	if (argc < 1) {
		snprintf(err, errlen, "expect: missing reply kind");
		return -1;
	}
	if (mt_kind_parse(argv[0], &e->kind) < 0) {
		snprintf(err, errlen, "expect: unknown reply kind \"%s\"",
		    argv[0]);
		return -1;
	}
	if (argc > 1) {
		if (!is_code(argv[1])) {
			snprintf(err, errlen, "expect: bad reply code \"%s\"",
			    argv[1]);
			return -1;
		}
		strcpy(e->code, argv[1]);
	}
	if (argc > 2) {
		if (!is_xcode(argv[2])) {
			snprintf(err, errlen, "expect: bad enhanced status "
			    "code \"%s\"", argv[2]);
			return -1;
		}
		strcpy(e->xcode, argv[2]);
	}
	for (i = 3, off = 0; i < argc; i++) {
		if (off + strlen(argv[i]) + 2 > sizeof(e->text)) {
			snprintf(err, errlen, "expect: text too long");
			return -1;
		}
		off += (size_t)sprintf(e->text + off, "%s%s",
		    i > 3 ? " " : "", argv[i]);
	}
	return 0;
}

static int
kind_match(enum mt_kind want, enum mt_kind got)
{
	if (want == MT_CONTINUE)
		return got == MT_CONTINUE || got == MT_NOREPLY;
	return want == got;
}

int
mt_expect_match(const struct mt_expect *e, const struct mt_reply *r)
{
	const char	*t = r->text, *x;
	size_t		 xlen;

	if (!kind_match(e->kind, r->kind))
		return 0;
	if (e->code[0] == '\0')
		return 1;
	if (strncmp(t, e->code, 3) != 0 || (t[3] != ' ' && t[3] != '-'))
		return 0;
	x = t + 4;
	xlen = strcspn(x, " \r\n");
	if (e->xcode[0] != '\0' &&
	    (xlen != strlen(e->xcode) || strncmp(x, e->xcode, xlen) != 0))
		return 0;
	if (e->text[0] != '\0' && strstr(x + xlen, e->text) == NULL)
		return 0;
	return 1;
}

char *
mt_expect_str(const struct mt_expect *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s%s", mt_kind_name(e->kind),
	    e->code[0] ? " " : "", e->code, e->xcode[0] ? " " : "", e->xcode,
	    e->text[0] ? " " : "", e->text);
	return buf;
}
