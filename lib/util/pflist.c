/*
 * pflist - the elements of a Postfix list parameter
 *
 * SYNOPSIS
 *	#include "pflist.h"
 *
 *	size_t	pflist_next(const char **cursor, char *buf, size_t len)
 *
 * DESCRIPTION
 *	Postfix separates the elements of a list parameter (mydestination,
 *	smtpd_relay_restrictions, smtpd_milters ...) with commas and white
 *	space, and groups with braces what holds them: an inline table
 *	"regexp:{{/x y/ z}}" or a milter "{ unix:path, default_action=... }"
 *	is one element (Postfix's mystrtok_cw()).  pflist_next() skips the
 *	separators at *cursor, copies the next element into buf (at most
 *	len - 1 octets and a NUL; len > 0), advances *cursor past it and
 *	returns its length, which is more than len - 1 when the copy was
 *	cut; 0 at the end of the list.  An unbalanced "}" is an ordinary
 *	octet; an element with an unclosed "{" runs to the end.
 *
 * DIAGNOSTICS
 *	None: every input is a list.
 */
#include <string.h>

#include "pflist.h"

#define PFLIST_SEP	", \t\r\n"

/* pflist_next - the next element of a Postfix list */
size_t
pflist_next(const char **cursor, char *buf, size_t len)
{
	const char *p = *cursor, *start;
	size_t	 depth = 0, n;

	p += strspn(p, PFLIST_SEP);
	buf[0] = '\0';
	if (*p == '\0') {
		*cursor = p;
		return 0;
	}
	for (start = p; *p != '\0'; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		else if (depth == 0 && strchr(PFLIST_SEP, *p) != NULL)
			break;
	}
	n = (size_t)(p - start);
	memcpy(buf, start, n < len ? n : len - 1);
	buf[n < len ? n : len - 1] = '\0';
	*cursor = p;
	return n;
}
