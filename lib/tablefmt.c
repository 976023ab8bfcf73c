/*
 * tablefmt - the names of the MTA table formats
 *
 * NAME
 *	tablefmt - one list of the table formats that import and export read
 *	and write
 * SYNOPSIS
 *	#include "tablefmt.h"
 *
 *	int tablefmt_parse(const char *name, enum tablefmt *out);
 *	const char *tablefmt_name(enum tablefmt format);
 * DESCRIPTION
 *	The formats are the text that postmap(1) or makemap(8) reads:
 *	"postfix-transport", "postfix-relay-domains",
 *	"sendmail-mailertable" and "sendmail-access", and for export only
 *	"postfix-tls-policy" (smtp_tls_policy_maps) and "postfix-access"
 *	(check_recipient_access: deny rules).  export.h and
 *	import.h name the same values EXPORT_* and IMPORT_*.
 *
 *	tablefmt_parse() maps a name (exact, case-sensitive) to its value:
 *	0, or -1 for an unknown name.  tablefmt_name() is the reverse;
 *	"unknown" for a value out of range.
 */
#include <string.h>

#include "tablefmt.h"

static const char *const tablefmt_names[] = {
	[TABLEFMT_POSTFIX_TRANSPORT] = "postfix-transport",
	[TABLEFMT_POSTFIX_RELAY_DOMAINS] = "postfix-relay-domains",
	[TABLEFMT_SENDMAIL_MAILERTABLE] = "sendmail-mailertable",
	[TABLEFMT_SENDMAIL_ACCESS] = "sendmail-access",
	[TABLEFMT_POSTFIX_TLS_POLICY] = "postfix-tls-policy",
	[TABLEFMT_POSTFIX_ACCESS] = "postfix-access",
	[TABLEFMT_POSTFIX_SASL_PASSWD] = "postfix-sasl-passwd",
	[TABLEFMT_SENDMAIL_AUTHINFO] = "sendmail-authinfo",
};

#define TABLEFMT_COUNT	(sizeof(tablefmt_names) / sizeof(tablefmt_names[0]))

/* tablefmt_parse - a format name to its value */
int
tablefmt_parse(const char *name, enum tablefmt *out)
{
	size_t	i;

	for (i = 0; i < TABLEFMT_COUNT; i++) {
		if (strcmp(name, tablefmt_names[i]) == 0) {
			*out = (enum tablefmt)i;
			return 0;
		}
	}
	return -1;
}

/* tablefmt_name - a format's name */
const char *
tablefmt_name(enum tablefmt format)
{
	if ((size_t)format >= TABLEFMT_COUNT)
		return "unknown";
	return tablefmt_names[format];
}
