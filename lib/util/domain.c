/*
 * domain - normalize domain names for comparison
 *
 * domain_normalize() lower-cases an ASCII name, drops one trailing dot
 * and checks the label syntax and the length limits.  A name with any
 * octet >= 0x80 is first converted to A-labels with libidn2 (IDNA2008,
 * TR46 non-transitional, NFC input); pure ASCII names never reach libidn2,
 * so the common path is one pass over the octets.  An A-label written by
 * the user ("xn--...") is taken as it is.
 *
 * domain_label_count() counts the labels of a normalized name.
 */
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "domain.h"

#define DOMAIN_INPUT_MAX	1024	/* longest UTF-8 input we try */

static int	domain_ascii(const char *in, size_t len, char *out,
		    const char **why);
static int	domain_idn(const char *in, size_t len, char *out,
		    const char **why);

int
domain_normalize(const char *in, size_t len, char *out, const char **why)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			return domain_idn(in, len, out, why);
	return domain_ascii(in, len, out, why);
}

/*
 * The syntax check of a domain name (of a rule or a recipient), on an
 * ASCII name: lower case, one trailing dot dropped, labels of 1 to
 * LABEL_MAX octets made of letters, digits, '-' and '_', no hyphen at
 * either end of a label, at most DOMAIN_MAX octets in all.
 */
static int
domain_ascii(const char *in, size_t len, char *out, const char **why)
{
	size_t	i, label;
	int	c;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty domain name";
		return -1;
	}
	if (len > DOMAIN_MAX) {
		*why = "domain name longer than 253 octets";
		return -1;
	}
	label = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '.') {
			if (label == 0) {
				*why = "empty label in domain name";
				return -1;
			}
			if (out[i - 1] == '-') {
				*why = "label ends with a hyphen";
				return -1;
			}
			label = 0;
			out[i] = '.';
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_')) {
			*why = "bad character in domain name";
			return -1;
		}
		if (c == '-' && label == 0) {
			*why = "label starts with a hyphen";
			return -1;
		}
		if (++label > LABEL_MAX) {
			*why = "label longer than 63 octets";
			return -1;
		}
		out[i] = (char)c;
	}
	if (label == 0) {
		*why = "empty label in domain name";
		return -1;
	}
	if (out[len - 1] == '-') {
		*why = "label ends with a hyphen";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

/*
 * U-labels: libidn2 wants a NUL-terminated string; it maps (TR46), checks
 * and converts every label, then the ASCII check runs on its output.
 */
static int
domain_idn(const char *in, size_t len, char *out, const char **why)
{
	char	 buf[DOMAIN_INPUT_MAX + 1];
	char	*ascii;
	int	 rc;

	if (len > DOMAIN_INPUT_MAX) {
		*why = "domain name too long";
		return -1;
	}
	if (memchr(in, '\0', len) != NULL) {
		*why = "NUL in domain name";
		return -1;
	}
	memcpy(buf, in, len);
	buf[len] = '\0';
	ascii = NULL;
	rc = idn2_to_ascii_8z(buf, &ascii,
	    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		*why = "invalid internationalized domain name";
		return -1;
	}
	rc = domain_ascii(ascii, strlen(ascii), out, why);
	idn2_free(ascii);
	return rc;
}

int
domain_label_count(const char *name)
{
	int	n;

	if (*name == '\0')
		return 0;
	for (n = 1; *name != '\0'; name++)
		if (*name == '.')
			n++;
	return n;
}
