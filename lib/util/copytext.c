/*
 * copytext - one row of PostgreSQL's COPY text format
 *
 * SYNOPSIS
 *	#include "copytext.h"
 *
 *	int copytext_split(char *row, size_t len, const char **field,
 *	    size_t nfield, char *err, size_t errlen);
 *	int copytext_put(FILE *fp, const char *value, int last);
 *
 * DESCRIPTION
 *	The rows of "COPY ... TO STDOUT" (text format, the default) and of
 *	"COPY ... FROM STDIN": fields separated by a tab, the row ended by
 *	a newline, "\N" alone for NULL, and backslash escapes in a value:
 *	\b \f \n \r \t \v \\, \ and one to three octal digits, \x and one
 *	or two hex digits, a backslash before any other octet stands for
 *	that octet.  This module is the one place that spells the format.
 *
 *	copytext_split() splits row, len octets (one trailing newline
 *	allowed) with room for len + 1, in place: field[0..nfield) point
 *	into it, each decoded and NUL-terminated, NULL for a NULL field.
 *	0, or -1 with err when the row has not exactly nfield fields, ends
 *	in a lone backslash, or decodes to a NUL octet (which no text value
 *	holds).
 *
 *	copytext_put() writes value (NULL: "\N") escaped, then a tab, or
 *	a newline when last is set.  0, or -1 when fp reports an error.
 */
#include <stdio.h>
#include <string.h>

#include "copytext.h"
#include "strutil.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* unescape - decode s[0..len) in place, NUL-terminated; -1 with why */
static int
unescape(char *s, size_t len, const char **why)
{
	char	*d, *end;
	int	 c, v, i;

	d = s;
	end = s + len;
	while (s < end) {
		if (*s != '\\') {
			*d++ = *s++;
			continue;
		}
		if (++s == end) {
			*why = "a lone backslash at the end";
			return -1;
		}
		c = (unsigned char)*s++;
		switch (c) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'v': c = '\v'; break;
		case 'x':
			if (s == end || hexval((unsigned char)*s) == -1)
				break;
			for (v = 0, i = 0; i < 2 && s < end &&
			    hexval((unsigned char)*s) != -1; i++)
				v = v * 16 + hexval((unsigned char)*s++);
			c = v;
			break;
		default:
			if (c < '0' || c > '7')
				break;
			for (v = c - '0', i = 1; i < 3 && s < end &&
			    *s >= '0' && *s <= '7'; i++)
				v = v * 8 + (*s++ - '0');
			c = v & 0xff;
			break;
		}
		if (c == '\0') {
			*why = "a NUL octet";
			return -1;
		}
		*d++ = (char)c;
	}
	*d = '\0';
	return 0;
}

/* copytext_split - the decoded fields of one row, in place */
int
copytext_split(char *row, size_t len, const char **field, size_t nfield,
    char *err, size_t errlen)
{
	const char	*why;
	char		*p, *end, *tab;
	size_t		 n;

	if (len > 0 && row[len - 1] == '\n')
		len--;
	end = row + len;
	*end = '\0';
	for (n = 0, p = row; ; n++) {
		if ((tab = memchr(p, '\t', (size_t)(end - p))) == NULL)
			tab = end;
		if (n == nfield) {
			errmsg_set(err, errlen, "COPY row with more than %zu "
			    "fields", nfield);
			return -1;
		}
		if (tab - p == 2 && p[0] == '\\' && p[1] == 'N')
			field[n] = NULL;
		else if (unescape(p, (size_t)(tab - p), &why) == -1) {
			errmsg_set(err, errlen, "COPY field %zu: %s", n + 1,
			    why);
			return -1;
		} else
			field[n] = p;
		if (tab == end)
			break;
		p = tab + 1;
	}
	if (n + 1 != nfield) {
		errmsg_set(err, errlen, "COPY row with %zu fields, not %zu",
		    n + 1, nfield);
		return -1;
	}
	return 0;
}

/* copytext_put - one field, escaped, and its separator */
int
copytext_put(FILE *fp, const char *value, int last)
{
	const char	*p;

	if (value == NULL)
		fputs("\\N", fp);
	for (p = value; p != NULL && *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		default:
			fputc(*p, fp);
		}
	}
	return fputc(last ? '\n' : '\t', fp) == EOF ? -1 : 0;
}
