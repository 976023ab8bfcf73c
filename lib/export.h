/*
 * export - print the rule set as static MTA lookup tables
 *
 * export_write() prints a table with the same answers as the socketmap
 * server (maps_answer()) for every domain name, ready for postmap(1) or
 * makemap(8), one "key value" a line in a deterministic order (the rule
 * set's walk order), after a comment line:
 *
 *	postfix-transport	"name smtp:[host]" and ".name smtp:[host]";
 *				":" (do not change) carves out names below
 *				a routed namespace that have no route
 *	postfix-relay-domains	"name RELAY" and ".name RELAY", for
 *				relay_domains = hash:FILE
 *	sendmail-mailertable	"name esmtp:[host]", ".name esmtp:[host]"
 *	sendmail-access		"To:name RELAY", "To:name SKIP" for
 *				FEATURE(`access_db', `...', `skip')
 *	postfix-tls-policy	"[host]:port encrypt", one line a next hop
 *				that a rule gives a tls policy, for
 *				smtp_tls_policy_maps = hash:FILE (the "tls"
 *				socketmap's answers, keyed by next hop)
 *	postfix-access		"name 550 5.7.1 text" and ".name ...", the
 *				reply of each deny rule, "DUNNO" carving
 *				out names below it that it does not cover,
 *				for check_recipient_access = hash:FILE
 *				with smtpd_access_maps taken out of
 *				parent_domain_matches_subdomains (so it
 *				searches "name", then ".parent" as the
 *				transport table does)
 *	postfix-sasl-passwd	"[host]:port username:password", the
 *				credentials of each next hop whose rule has
 *				auth_file, for smtp_sasl_password_maps
 *				(saslpasswd.h; a secret: never a socketmap)
 *	sendmail-authinfo	"AuthInfo:host \"U:user\" ...", the same for
 *				Sendmail's access map (saslpasswd.h)
 *
 * Postfix looks transport maps and (without parent matching)
 * relay_domains up as "name", then ".parent" for each parent, nearest
 * first; so does Sendmail's mailertable.  Sendmail's access map is
 * searched as "To:name", then "To:parent" (a name covers its subtree).
 * A namespace rule becomes "name" and ".name", an exact rule "name", a
 * subdomains rule ".name"; entries that would repeat what a parent entry
 * already says are left out unless a rule is written at that name.
 *
 * When the relay_domains table is only right with "relay_domains" taken
 * out of parent_domain_matches_subdomains (exact or subdomains-only
 * rules), export_write() says so on notes (may be NULL).  When a format
 * cannot say what the rule set says (a deny exception inside a relayed
 * namespace, an exact rule in the Sendmail access map, ...), it returns
 * -1 with the rule named in err and writes nothing to out.  It also
 * returns -1 on an output error.  0 on success.
 *
 * export_write_flags() is export_write() with flags: EXPORT_DENY_BY_ACCESS
 * says that the postfix-access table is checked before the relay_domains
 * table (static mode, contrib/postfix/main-static.cf), so the
 * postfix-relay-domains table need not exclude the names a deny rule
 * refuses (the access table refuses them first): it lets them inherit
 * the entry of the relayed namespace around them instead of failing.
 *
 * EXPORT_RECIPIENTS (static mode) has the postfix-access table apply
 * the recipients setting of relaying rules as well: a name whose rule
 * has recipients = "list" answers "550 5.1.1 User unknown" (or
 * verify.unknown_reply), each address its recipients_file lists there
 * "DUNNO" (Postfix searches the full address first; DUNNO stops the
 * search there, and the rest of the restrictions decide), a listed
 * "@domain" makes "domain" DUNNO; a name whose rule has recipients =
 * "verify" answers "reject_unverified_recipient": Postfix's own
 * verification, whose probe goes by the transport table to the rule's
 * smart host, as the callout would.
 *
 * export_table() is export_write_flags() without the text: the entries,
 * in the order export_write() prints them, appended to out (an empty
 * kvtable) as typed entries, each with its kind (enum export_kind: what
 * the value says), for the static writer and routehold.h to use as they
 * are; 0, or -1 (out is empty again).  export_tables() makes n tables
 * at once, formats[k] into outs[k], walking the rule set once for all
 * of them (static mode's four tables): 0, or -1 (every out empty).
 * export_print() prints such a
 * table as export_write() does: 0, or -1 on an output error.
 *
 * export_below() is export_tables() for part of the rule set: the
 * entries at the normalized names of names[] and below them (keys
 * "name", ".name", a listed address of such a domain), and those of the
 * names above them that carry rules, from which the entries below are
 * made; the others are left out.  Each entry made is the one
 * export_tables() makes, so a table can be brought from one rule set to
 * the next by the entries below the names whose rules changed
 * (overlay_walk_changes()); postfix-tls-policy is whole (keyed by next
 * hop, one entry a hop).  It costs the rules below the names (and a
 * pass over the set's names for a name that has rules below it), not
 * the set.  export_key_domain() is the domain name a key of these tables
 * stands for ("name", ".name": name; "user@domain": domain).
 * export_settings() is the text of the settings besides the rules that
 * the entries depend on (policy.unmatched, mode, ...), to compare: two
 * configurations with the same text export the same rules alike;
 * malloc'ed, NULL out of memory.
 *
 * export_format_parse() maps "postfix-transport" etc. to the enum: 0 or
 * -1.  export_format_name() is the reverse.  Both are tablefmt.h's.
 */
#ifndef MR_EXPORT_H
#define MR_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "kvtable.h"
#include "tablefmt.h"

/* The formats of tablefmt.h, under this module's names. */
enum export_format {
	EXPORT_POSTFIX_TRANSPORT = TABLEFMT_POSTFIX_TRANSPORT,
	EXPORT_POSTFIX_RELAY_DOMAINS = TABLEFMT_POSTFIX_RELAY_DOMAINS,
	EXPORT_SENDMAIL_MAILERTABLE = TABLEFMT_SENDMAIL_MAILERTABLE,
	EXPORT_SENDMAIL_ACCESS = TABLEFMT_SENDMAIL_ACCESS,
	EXPORT_POSTFIX_TLS_POLICY = TABLEFMT_POSTFIX_TLS_POLICY,
	EXPORT_POSTFIX_ACCESS = TABLEFMT_POSTFIX_ACCESS,
	EXPORT_POSTFIX_SASL_PASSWD = TABLEFMT_POSTFIX_SASL_PASSWD,
	EXPORT_SENDMAIL_AUTHINFO = TABLEFMT_SENDMAIL_AUTHINFO
};

int	export_format_parse(const char *name, enum export_format *out);
const char *export_format_name(enum export_format format);
#define EXPORT_DENY_BY_ACCESS	0x01
#define EXPORT_RECIPIENTS	0x02	/* postfix-access: recipients too */

/* What a table entry says (struct kvpair's kind). */
enum export_kind {
	EXPORT_KIND_NONE,	/* read back from a file: not known */
	EXPORT_KIND_NO,		/* not here, stop: ":", "SKIP", "DUNNO" */
	EXPORT_KIND_RELAY,	/* relay_domains, access: may relay */
	EXPORT_KIND_ROUTE,	/* transport, mailertable: the next hop */
	EXPORT_KIND_REPLY,	/* postfix-access: a deny rule's reply */
	EXPORT_KIND_TLS,	/* tls_policy: a next hop's TLS policy */
	EXPORT_KIND_RCPT,	/* postfix-access: a listed recipient (DUNNO),
				   a verify rule's restriction */
	EXPORT_KIND_HOLD,	/* postfix-access: held (routehold.h) */
	EXPORT_KIND_BELOW	/* postfix-access: the answer below a hold */
};

#define EXPORT_VALUE_DUNNO	"DUNNO"	/* postfix-access: not here, stop */
#define EXPORT_VALUE_VERIFY	"reject_unverified_recipient"

int	export_write(const struct config *config, enum export_format format,
	    FILE *out, FILE *notes, char *err, size_t errlen);
int	export_write_flags(const struct config *config,
	    enum export_format format, int flags, FILE *out, FILE *notes,
	    char *err, size_t errlen);
int	export_table(const struct config *config, enum export_format format,
	    int flags, struct kvtable *out, FILE *notes, char *err,
	    size_t errlen);
int	export_tables(const struct config *config,
	    const enum export_format *formats, size_t n, int flags,
	    struct kvtable *outs, FILE *notes, char *err, size_t errlen);
int	export_below(const struct config *config, const char *const *names,
	    size_t nnames, const enum export_format *formats, size_t n,
	    int flags, struct kvtable *outs, char *err, size_t errlen);
const char *export_key_domain(const char *key);
char	*export_settings(const struct config *config);
int	export_print(enum export_format format, const struct kvtable *t,
	    FILE *out, char *err, size_t errlen);

#endif
