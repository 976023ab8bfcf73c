/*
 * domain - normalize domain names for comparison
 *
 * domain_normalize() turns a domain name as written by a user, a config
 * file or an SMTP client into the canonical form the rule engine compares:
 * lower case, one trailing dot removed, U-labels converted to A-labels
 * (libidn2, IDNA2008 with TR46 non-transitional mapping), at most
 * DOMAIN_MAX octets in all and 1 to LABEL_MAX octets a label, labels made
 * of letters, digits, '-' and '_' only, no leading or trailing hyphen.
 *
 * Returns 0 and writes a NUL-terminated name of at most DOMAIN_MAX octets
 * into out (which holds DOMAIN_MAX + 1 octets), or -1 and points *why at a
 * static string saying what was wrong; out is then unspecified.
 *
 * domain_label_count() returns the number of labels of a normalized name.
 */
#ifndef MR_DOMAIN_H
#define MR_DOMAIN_H

#include <stddef.h>

#define DOMAIN_MAX	253
#define LABEL_MAX	63

int	domain_normalize(const char *in, size_t len, char *out,
	    const char **why);
int	domain_label_count(const char *name);

#endif
