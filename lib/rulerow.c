/*
 * rulerow - one rule as a row of named fields, to and from a line
 *
 * SYNOPSIS
 *	#include "rulerow.h"
 *
 *	int rulerow_format(const struct rulerow *row, char *buf,
 *	    size_t buflen, char *err, size_t errlen);
 *	int rulerow_split(char *line, struct rulerow *row, char *err,
 *	    size_t errlen);
 *
 * DESCRIPTION
 *	A rule that comes from a table (a database row: a pattern and
 *	named columns) is turned into a domains_file line, so that the one
 *	domains_file parser (config_parse_domains_line()) decides what a
 *	key means and whether a value is good: a column the parser does
 *	not know is refused exactly as an unknown key in a file is.
 *
 *	rulerow_format() writes "pattern key=value ..." into buf: the
 *	fields in row order, each value as a bare word when it can be one,
 *	else as a "quoted string" with \" and \\ escapes.  It refuses (-1,
 *	err) a pattern that is empty, holds a blank or a quote or is a
 *	comment, a key that is not [A-Za-z0-9_]+, a value with a line
 *	break, and a line longer than buflen - 1.  0 on success.
 *
 *	rulerow_split() is the reverse, for "import --to": it splits line
 *	(modified in place; the row points into it) into pattern and
 *	fields with the same word and quoting rules.  0, 1 for a blank
 *	line or a comment, -1 with err for a line it cannot split or with
 *	more than RULEROW_FIELDS_MAX fields.  It does not judge keys or
 *	values: the caller gives the line to the domains_file parser too.
 */
#include <stdio.h>
#include <string.h>

#include "rulerow.h"
#include "strutil.h"

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* out - append len octets of s; -1 when buf is full */
static int
out(char *buf, size_t buflen, size_t *used, const char *s, size_t len)
{
	if (*used + len >= buflen)
		return -1;
	memcpy(buf + *used, s, len);
	*used += len;
	buf[*used] = '\0';
	return 0;
}

/* out_value - a word, or a quoted string when it needs one */
static int
out_value(char *buf, size_t buflen, size_t *used, const char *v)
{
	const char	*p;
	int		 quote;

	quote = *v == '\0';
	for (p = v; *p != '\0'; p++)
		if (is_blank((unsigned char)*p) || *p == '"' || *p == '\\')
			quote = 1;
	if (!quote)
		return out(buf, buflen, used, v, strlen(v));
	if (out(buf, buflen, used, "\"", 1) == -1)
		return -1;
	for (p = v; *p != '\0'; p++) {
		if ((*p == '"' || *p == '\\') &&
		    out(buf, buflen, used, "\\", 1) == -1)
			return -1;
		if (out(buf, buflen, used, p, 1) == -1)
			return -1;
	}
	return out(buf, buflen, used, "\"", 1);
}

/* rulerow_format - the domains_file line of a row */
int
rulerow_format(const struct rulerow *row, char *buf, size_t buflen,
    char *err, size_t errlen)
{
	const char	*p;
	size_t		 i, used;

	used = 0;
	if (buflen > 0)
		buf[0] = '\0';
	p = row->pattern;
	if (p == NULL || *p == '\0') {
		errmsg_set(err, errlen, "empty pattern");
		return -1;
	}
	for (; *p != '\0'; p++)
		if (is_blank((unsigned char)*p) || *p == '"') {
			errmsg_set(err, errlen, "blank or quote in the pattern");
			return -1;
		}
	if (strcmp(row->pattern, "#") == 0) {
		errmsg_set(err, errlen, "pattern \"#\" is a comment");
		return -1;
	}
	if (out(buf, buflen, &used, row->pattern, strlen(row->pattern)) == -1)
		goto long_line;
	for (i = 0; i < row->n; i++) {
		for (p = row->key[i]; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '_'))
				break;
		if (*p != '\0' || p == row->key[i]) {
			errmsg_set(err, errlen, "bad column name \"%.64s\"",
			    row->key[i]);
			return -1;
		}
		if (strpbrk(row->value[i], "\r\n") != NULL) {
			errmsg_set(err, errlen, "line break in %s", row->key[i]);
			return -1;
		}
		if (out(buf, buflen, &used, " ", 1) == -1 ||
		    out(buf, buflen, &used, row->key[i],
		    strlen(row->key[i])) == -1 ||
		    out(buf, buflen, &used, "=", 1) == -1 ||
		    out_value(buf, buflen, &used, row->value[i]) == -1)
			goto long_line;
	}
	return 0;
long_line:
	errmsg_set(err, errlen, "rule longer than %zu octets", buflen - 1);
	return -1;
}

/* split_value - a word or a quoted string at *p, NUL-terminated */
static int
split_value(char **p, const char **value, const char **why)
{
	char	*s, *d;

	s = *p;
	if (*s != '"') {
		*value = s;
		while (*s != '\0' && !is_blank((unsigned char)*s)) {
			if (*s == '"') {
				*why = "quote inside a value";
				return -1;
			}
			s++;
		}
		if (*s != '\0')
			*s++ = '\0';
		*p = s;
		return 0;
	}
	*value = d = ++s;
	for (;;) {
		if (*s == '\0') {
			*why = "unterminated quoted string";
			return -1;
		}
		if (*s == '"')
			break;
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*d++ = *s++;
	}
	*d = '\0';
	s++;
	if (*s != '\0' && !is_blank((unsigned char)*s)) {
		*why = "junk after quoted string";
		return -1;
	}
	*p = s;
	return 0;
}

/* rulerow_split - pattern and fields of a domains_file line */
int
rulerow_split(char *line, struct rulerow *row, char *err, size_t errlen)
{
	char		*p, *key;
	const char	*why;

	memset(row, 0, sizeof(*row));
	for (p = line; is_blank((unsigned char)*p); p++)
		;
	if (*p == '\0' || (p[0] == '#' && (p[1] == '\0' ||
	    is_blank((unsigned char)p[1]))))
		return 1;
	row->pattern = p;
	while (*p != '\0' && !is_blank((unsigned char)*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	for (;;) {
		while (is_blank((unsigned char)*p))
			p++;
		if (*p == '\0')
			return 0;
		key = p;
		while (*p != '\0' && *p != '=' && !is_blank((unsigned char)*p))
			p++;
		if (*p != '=') {
			*p = '\0';
			errmsg_set(err, errlen, "expected key=value, got \"%.64s\"",
			    key);
			return -1;
		}
		*p++ = '\0';
		if (row->n == RULEROW_FIELDS_MAX) {
			errmsg_set(err, errlen, "more than %d fields",
			    RULEROW_FIELDS_MAX);
			return -1;
		}
		row->key[row->n] = key;
		if (split_value(&p, &row->value[row->n], &why) == -1) {
			errmsg_set(err, errlen, "bad %.64s value: %s", key, why);
			return -1;
		}
		row->n++;
	}
}
