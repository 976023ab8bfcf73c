/*
 * NAME
 *	ruleoracle - who a rule table lets relay, stated apart from lib/
 * SYNOPSIS
 *	#include "ruleoracle.h"
 *
 *	int ruleoracle_nearest(patterns, n, key, len)
 *	const char *const *patterns;
 *	size_t n;
 *	const char *key;
 *	size_t len;
 *
 *	int ruleoracle_routed(addr, len)
 *	const char *addr;
 *	size_t len;
 * DESCRIPTION
 *	The fuzz targets' oracle of the rule language, written from its
 *	description (README "How rules work"), not from lib/decide.c or
 *	lib/maps.c, so that a target does not check the code with a copy
 *	of itself.
 *
 *	ruleoracle_nearest() is the index of the pattern that decides for
 *	the domain of key: what follows its last '@' (the whole key
 *	without one), in lower case, one trailing dot dropped, U-labels as
 *	libidn2's A-labels (non-transitional).  "P" covers P and every
 *	name below it, "#P" P alone, ".P" only the names below P; the
 *	longest pattern that covers the domain decides.
 *
 *	ruleoracle_routed() says whether an address routes through another
 *	host as the mail system reads it: more than one '@' (a source
 *	route, a quoted "u@v"), or a '%' or a '!' before its '@'.
 * DIAGNOSTICS
 *	ruleoracle_nearest(): -1 when no pattern covers the domain, or the
 *	key holds a NUL or a name libidn2 refuses.
 */
#include <string.h>

#include <idn2.h>

#include "ruleoracle.h"

#define ORACLE_NAME_MAX	4096

/* ruleoracle_covers - pattern p covers the domain d (n octets) */
static int
ruleoracle_covers(const char *p, const char *d, size_t n)
{
	int	exact = *p != '.', below = *p != '#';
	size_t	plen;

	if (*p == '#' || *p == '.')
		p++;
	plen = strlen(p);
	if (exact && n == plen && memcmp(d, p, n) == 0)
		return (int)plen + 1;
	if (below && n > plen && memcmp(d + n - plen, p, plen) == 0 &&
	    d[n - plen - 1] == '.')
		return (int)plen + 1;
	return 0;
}

/* ruleoracle_nearest - the deciding pattern for key's domain, or -1 */
int
ruleoracle_nearest(const char *const *patterns, size_t n, const char *key,
    size_t len)
{
	char	 dom[ORACLE_NAME_MAX + 1], *ascii = NULL;
	size_t	 i, dlen;
	int	 best = -1, best_len = 0, c, eight = 0;

	if (memchr(key, '\0', len) != NULL)
		return -1;
	for (i = len; i > 0 && key[i - 1] != '@'; i--)
		;
	dlen = len - i;
	if (dlen > ORACLE_NAME_MAX)
		return -1;
	memcpy(dom, key + i, dlen);
	dom[dlen] = '\0';
	for (i = 0; i < dlen; i++)
		eight |= (unsigned char)dom[i] >= 0x80;
	if (eight) {
		if (idn2_to_ascii_8z(dom, &ascii, IDN2_NONTRANSITIONAL |
		    IDN2_NFC_INPUT) != IDN2_OK)
			return -1;
		dlen = strlen(ascii);
		if (dlen > ORACLE_NAME_MAX) {
			idn2_free(ascii);
			return -1;
		}
		memcpy(dom, ascii, dlen + 1);
		idn2_free(ascii);
	}
	for (i = 0; i < dlen; i++)
		if (dom[i] >= 'A' && dom[i] <= 'Z')
			dom[i] += 'a' - 'A';
	if (dlen > 0 && dom[dlen - 1] == '.')
		dom[--dlen] = '\0';
	for (i = 0; i < n; i++)
		if ((c = ruleoracle_covers(patterns[i], dom, dlen)) > best_len) {
			best = (int)i;
			best_len = c;
		}
	return best;
}

/* ruleoracle_routed - the address routes through another host */
int
ruleoracle_routed(const char *addr, size_t len)
{
	size_t	i, ats = 0, at = 0;

	for (i = 0; i < len; i++)
		if (addr[i] == '@') {
			ats++;
			at = i;
		}
	if (ats == 0)
		return 0;
	return ats > 1 || memchr(addr, '%', at) != NULL ||
	    memchr(addr, '!', at) != NULL;
}
