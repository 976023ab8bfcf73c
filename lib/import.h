/*
 * import - read Postfix and Sendmail tables into domains_file rules
 *
 * An import reads one or more source files, each in one of these formats
 * (the text a postmap(1) or makemap(8) run reads, not the .db):
 *
 *	postfix-transport	transport_maps: "name" is that name only,
 *				".name" the names below it; the value
 *				"transport:nexthop" is the route
 *	postfix-relay-domains	relay_domains: "name" covers the name and
 *				every name below it (parent_domain_matches_
 *				subdomains holds relay_domains, the Postfix
 *				default; ".name" entries are then never
 *				looked up); with IMPORT_EXACT_RELAY_DOMAINS
 *				"name" is exact and ".name" the names below;
 *				the value is ignored, as Postfix does
 *	sendmail-mailertable	mailertable: "name" exact, ".name" below;
 *				"mailer:host" is the route (SMTP mailers;
 *				"esmtpPORT", as contrib/sendmail defines
 *				and the exporter writes, gives the port),
 *				"error:..." a rejection at RCPT
 *	sendmail-access		access_db: "To:name" (and untagged "name")
 *				covers the name and the names below it;
 *				RELAY, SKIP (not relayed), REJECT, ERROR:
 *				and TEMP: are imported; client entries are
 *				skipped with a warning
 *
 * Relay sources (relay-domains, access) say who may relay; route sources
 * (transport, mailertable) say where mail goes.  For every domain the
 * result reproduces what the MTA would do with all the given sources
 * together: relayed by a relay source -> relay=always; routed but not
 * relayed -> relay=trusted (a route alone authorizes nobody in Postfix or
 * Sendmail; trusted clients relay anywhere); rejected by either -> deny.
 * The rules written are the fewest that give exactly that result:
 * "name" when the name and the names below agree, "#name" and ".name"
 * when they differ, nothing when a parent rule already says the same.
 *
 * import_new() starts an empty import; warnings (entries skipped because
 * they are not recipient rules, or never looked up) go to warn when it is
 * not NULL.  import_file() reads one source from fp (name is used in
 * messages); it returns 0, or -1 with "FILE:LINE: reason" in err at the
 * first entry that cannot be expressed exactly.  import_write() writes the
 * domains_file lines to out: 0, or -1 with err.  import_format_parse()
 * maps a format name to its value (tablefmt.h): 0 or -1.  import_free() releases
 * everything (NULL is fine).
 */
#ifndef MR_IMPORT_H
#define MR_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#include "tablefmt.h"

/* The formats of tablefmt.h, under this module's names. */
enum import_format {
	IMPORT_POSTFIX_TRANSPORT = TABLEFMT_POSTFIX_TRANSPORT,
	IMPORT_POSTFIX_RELAY_DOMAINS = TABLEFMT_POSTFIX_RELAY_DOMAINS,
	IMPORT_SENDMAIL_MAILERTABLE = TABLEFMT_SENDMAIL_MAILERTABLE,
	IMPORT_SENDMAIL_ACCESS = TABLEFMT_SENDMAIL_ACCESS
};

#define IMPORT_EXACT_RELAY_DOMAINS	0x01	/* relay_domains not in
						 * parent_domain_matches_
						 * subdomains */

#define IMPORT_LINE_MAX	4096

struct import;

int	import_format_parse(const char *name, enum import_format *format);
struct import *import_new(int flags, FILE *warn);
int	import_file(struct import *imp, enum import_format format,
	    const char *name, FILE *fp, char *err, size_t errlen);
int	import_write(struct import *imp, FILE *out, char *err,
	    size_t errlen);
void	import_free(struct import *imp);

#endif
