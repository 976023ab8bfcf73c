/*
 * import - read Postfix and Sendmail tables into domains_file rules
 *
 * See import.h for the interface and the meaning of each format.  Every
 * entry read lands in a node named after its domain (a hash table of
 * normalized names), in one of four slots: (relay or route source) x
 * (the name itself or the names below it).  import_write() then computes,
 * for every name, what all the sources together say for the name and for
 * an arbitrary name below it (walking up to the parents the way the MTA
 * probes them), and writes the fewest rules that reproduce both.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "import.h"
#include "maps.h"
#include "nexthop.h"
#include "ruleset.h"
#include "strutil.h"

enum { ROLE_RELAY, ROLE_ROUTE };
enum { SPAN_SELF, SPAN_BELOW };

enum value_kind {
	VAL_RELAY,		/* relay source: any client may relay */
	VAL_NORELAY,		/* relay source: not relayed (SKIP) */
	VAL_DENY,		/* either source: rejected at RCPT */
	VAL_ROUTE		/* route source: transport and next hop */
};

struct value {
	enum value_kind	kind;
	char		*reply;		/* VAL_DENY; NULL: default reply */
	char		*transport;	/* VAL_ROUTE; NULL: default */
	char		*smarthost;	/* VAL_ROUTE; NULL: MTA routes */
	const char	*file;
	unsigned long	line;
};

struct import_node {
	char		*name;
	struct value	*slot[2][2];	/* [role][span] */
};

struct import {
	int		flags;
	FILE		*warn;
	struct import_node **nodes;
	size_t		nnodes, nodes_cap;
	size_t		*table;		/* node index + 1, 0 = empty */
	size_t		table_cap;	/* power of two */
	struct value	**values;
	size_t		nvalues, values_cap;
	char		**files;
	size_t		nfiles;
	int		has_relay_source;
};

/* The result for one domain, all sources together. */
struct result {
	int		matched;
	enum rule_relay	relay;
	const char	*smarthost;
	const char	*transport;
	const char	*reply;
};

struct source {
	struct import	*imp;
	enum import_format format;
	const char	*file;
	unsigned long	line;
	char		*err;
	size_t		errlen;
};

/* Postfix transports that do not deliver by SMTP to a host. */
static const char *const postfix_nonsmtp[] = {
	"local", "virtual", "lmtp", "error", "discard", "retry", "pipe",
	"uucp", "bsmtp", "ifmail", "scalemail-backend", "mailman",
	"maildrop", "cyrus", "hold", NULL
};

/* Sendmail mailers that deliver by SMTP to the host given. */
static const char *const sendmail_smtp[] = {
	"esmtp", "smtp", "smtp8", "dsmtp", "relay", NULL
};

int
import_format_parse(const char *name, enum import_format *format)
{
	enum tablefmt	 f;

	if (tablefmt_parse(name, &f) == -1 ||
	    f == TABLEFMT_POSTFIX_TLS_POLICY || f == TABLEFMT_POSTFIX_ACCESS ||
	    f == TABLEFMT_POSTFIX_SASL_PASSWD ||
	    f == TABLEFMT_SENDMAIL_AUTHINFO)
		return -1;
	*format = (enum import_format)f;
	return 0;
}

static int
source_error(struct source *src, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(src->err, src->errlen, "%s:%lu: ", src->file,
	    src->line);
	if (n < 0 || (size_t)n >= src->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(src->err + n, src->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void
source_warn(struct source *src, const char *fmt, ...)
{
	va_list	ap;

	if (src->imp->warn == NULL)
		return;
	fprintf(src->imp->warn, "%s:%lu: warning: ", src->file, src->line);
	va_start(ap, fmt);
	vfprintf(src->imp->warn, fmt, ap);
	va_end(ap);
	fputc('\n', src->imp->warn);
}

struct import *
import_new(int flags, FILE *warn)
{
	struct import	*imp;

	if ((imp = calloc(1, sizeof(*imp))) == NULL)
		return NULL;
	imp->flags = flags;
	imp->warn = warn;
	imp->table_cap = 1024;
	if ((imp->table = calloc(imp->table_cap, sizeof(size_t))) == NULL) {
		free(imp);
		return NULL;
	}
	return imp;
}

void
import_free(struct import *imp)
{
	size_t	i;

	if (imp == NULL)
		return;
	for (i = 0; i < imp->nnodes; i++) {
		free(imp->nodes[i]->name);
		free(imp->nodes[i]);
	}
	for (i = 0; i < imp->nvalues; i++) {
		free(imp->values[i]->reply);
		free(imp->values[i]->transport);
		free(imp->values[i]->smarthost);
		free(imp->values[i]);
	}
	for (i = 0; i < imp->nfiles; i++)
		free(imp->files[i]);
	free(imp->files);
	free(imp->values);
	free(imp->nodes);
	free(imp->table);
	free(imp);
}

/* Hash table of nodes by name (FNV-1a, linear probing). */

static size_t
name_hash(const char *name)
{
	uint64_t	h;

	h = 1469598103934665603ULL;
	for (; *name != '\0'; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static struct import_node *
import_node_find(const struct import *imp, const char *name)
{
	size_t	i, mask;

	mask = imp->table_cap - 1;
	for (i = name_hash(name) & mask; imp->table[i] != 0;
	    i = (i + 1) & mask) {
		if (strcmp(imp->nodes[imp->table[i] - 1]->name, name) == 0)
			return imp->nodes[imp->table[i] - 1];
	}
	return NULL;
}

static int
table_grow(struct import *imp)
{
	size_t	*table, cap, i, j, mask;

	cap = imp->table_cap * 2;
	if ((table = calloc(cap, sizeof(size_t))) == NULL)
		return -1;
	mask = cap - 1;
	for (i = 0; i < imp->nnodes; i++) {
		for (j = name_hash(imp->nodes[i]->name) & mask;
		    table[j] != 0; j = (j + 1) & mask)
			;
		table[j] = i + 1;
	}
	free(imp->table);
	imp->table = table;
	imp->table_cap = cap;
	return 0;
}

static struct import_node *
import_node_get(struct import *imp, const char *name)
{
	struct import_node	*node, **nodes;
	size_t		 i, mask, cap;

	if ((node = import_node_find(imp, name)) != NULL)
		return node;
	if ((imp->nnodes + 1) * 2 > imp->table_cap && table_grow(imp) == -1)
		return NULL;
	if (imp->nnodes == imp->nodes_cap) {
		cap = imp->nodes_cap == 0 ? 256 : imp->nodes_cap * 2;
		nodes = realloc(imp->nodes, cap * sizeof(*nodes));
		if (nodes == NULL)
			return NULL;
		imp->nodes = nodes;
		imp->nodes_cap = cap;
	}
	if ((node = calloc(1, sizeof(*node))) == NULL)
		return NULL;
	if ((node->name = strdup(name)) == NULL) {
		free(node);
		return NULL;
	}
	imp->nodes[imp->nnodes++] = node;
	mask = imp->table_cap - 1;
	for (i = name_hash(name) & mask; imp->table[i] != 0;
	    i = (i + 1) & mask)
		;
	imp->table[i] = imp->nnodes;
	return node;
}

static struct value *
value_new(struct source *src, enum value_kind kind)
{
	struct import	*imp;
	struct value	*v, **values;
	size_t		 cap;

	imp = src->imp;
	if (imp->nvalues == imp->values_cap) {
		cap = imp->values_cap == 0 ? 256 : imp->values_cap * 2;
		values = realloc(imp->values, cap * sizeof(*values));
		if (values == NULL)
			return NULL;
		imp->values = values;
		imp->values_cap = cap;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->kind = kind;
	v->file = src->file;
	v->line = src->line;
	imp->values[imp->nvalues++] = v;
	return v;
}

static int
value_equal(const struct value *a, const struct value *b)
{
	return a->kind == b->kind && str_same(a->reply, b->reply) &&
	    str_same(a->transport, b->transport) &&
	    str_same(a->smarthost, b->smarthost);
}

static int
dup_or_null(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	if ((*out = strdup(s)) == NULL)
		return -1;
	return 0;
}

/*
 * Put v into the slots of name that span says (SPAN_SELF, SPAN_BELOW, or
 * both for -1).  The same key twice with the same meaning is fine; with
 * another meaning it is an error (which one the MTA would use depends on
 * table order and postmap options: we do not guess).
 */
static int
node_set(struct source *src, int role, const char *name, int span,
    struct value *v, const char *key)
{
	struct import_node	*node;
	struct value	*old;
	int		 s;

	if ((node = import_node_get(src->imp, name)) == NULL)
		return source_error(src, "out of memory");
	for (s = SPAN_SELF; s <= SPAN_BELOW; s++) {
		if (span != -1 && span != s)
			continue;
		old = node->slot[role][s];
		if (old != NULL && !value_equal(old, v))
			return source_error(src, "\"%s\" conflicts with the "
			    "entry at %s:%lu", key, old->file, old->line);
		if (old == NULL)
			node->slot[role][s] = v;
	}
	return 0;
}

/* Normalize a domain name key (without prefix) into name. */
static int
key_name(struct source *src, const char *key, const char *text,
    char *name)
{
	const char	*why;

	if (*text == '\0')
		return source_error(src, "\"%s\": empty domain name", key);
	if (domain_normalize(text, strlen(text), name, &why) == -1)
		return source_error(src, "\"%s\": %s", key, why);
	return 0;
}

static int
all_of(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}

static int
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcasecmp(*list, s) == 0)
			return 1;
	return 0;
}

/*
 * A next hop or a list of them in Postfix or Sendmail syntax (nexthop.c),
 * port the mailer's (Sendmail) or 0, into our smarthost syntax.
 */
static int
nexthop_convert(struct source *src, const char *hops, int sendmail,
    unsigned port, char *out, size_t outlen)
{
	const char	*why;

	if (nexthop_list_from_mta(hops, sendmail ? NEXTHOP_SENDMAIL :
	    NEXTHOP_POSTFIX, port, out, outlen, &why) == -1)
		return source_error(src, "next hop \"%s\": %s", hops, why);
	return 0;
}

/* Postfix "transport:nexthop" into a route value. */
static struct value *
postfix_route(struct source *src, const char *text)
{
	struct value	*v;
	char		 transport[IMPORT_LINE_MAX], hop[SMARTHOST_MAX + 1];
	const char	*colon, *nexthop, *why;
	size_t		 n;

	if ((colon = strchr(text, ':')) == NULL) {
		n = strlen(text);
		nexthop = "";
	} else {
		n = (size_t)(colon - text);
		nexthop = colon + 1;
	}
	memcpy(transport, text, n);
	transport[n] = '\0';
	if (strcasecmp(transport, "error") == 0) {
		source_error(src, "\"%s\": the error transport bounces after "
		    "accepting; a rule with relay=deny rejects at RCPT "
		    "instead: write it by hand", text);
		return NULL;
	}
	if (in_list(postfix_nonsmtp, transport)) {
		source_error(src, "\"%s\": transport \"%s\" does not relay "
		    "to a host by SMTP: cannot be expressed", text, transport);
		return NULL;
	}
	if (n > 0 && transport_valid(transport, &why) == -1) {
		source_error(src, "\"%s\": transport \"%s\": %s", text,
		    transport, why);
		return NULL;
	}
	if (*nexthop != '\0' &&
	    nexthop_convert(src, nexthop, 0, 0, hop, sizeof(hop)) == -1)
		return NULL;
	if ((v = value_new(src, VAL_ROUTE)) == NULL) {
		source_error(src, "out of memory");
		return NULL;
	}
	if ((n > 0 && strcmp(transport, "smtp") != 0 &&
	    dup_or_null(transport, &v->transport) == -1) ||
	    (*nexthop != '\0' && dup_or_null(hop, &v->smarthost) == -1)) {
		source_error(src, "out of memory");
		return NULL;
	}
	return v;
}

/*
 * One entry of a route table (Postfix transport, Sendmail mailertable):
 * "name" or ".name" and a route that parse_route() converts.  The table's
 * catch-all key and per-address keys name no domain and are refused.
 */
static int
route_entry(struct source *src, const char *key, const char *val,
    const char *catchall, struct value *(*parse_route)(struct source *,
    const char *))
{
	struct value	*v;
	char		 name[DOMAIN_MAX + 1];
	int		 below;

	if (strcmp(key, catchall) == 0)
		return source_error(src, "the catch-all (wildcard) key "
		    "\"%s\" cannot be expressed: rules name domains",
		    catchall);
	if (strchr(key, '@') != NULL)
		return source_error(src, "\"%s\": per-address routes cannot "
		    "be expressed: rules name domains", key);
	if (*val == '\0')
		return source_error(src, "\"%s\": missing value", key);
	below = key[0] == '.';
	if (key_name(src, key, key + below, name) == -1)
		return -1;
	if ((v = parse_route(src, val)) == NULL)
		return -1;
	return node_set(src, ROLE_ROUTE, name, below ? SPAN_BELOW : SPAN_SELF,
	    v, key);
}

static int
postfix_relay_entry(struct source *src, const char *key, const char *val)
{
	struct value	*v;
	char		 name[DOMAIN_MAX + 1];
	int		 below, exact;

	(void)val;	/* Postfix ignores the value of relay_domains tables */
	if (key[0] == '!')
		return source_error(src, "\"%s\": negation is not a table "
		    "entry", key);
	if (strcmp(key, "*") == 0 || strchr(key, '@') != NULL)
		return source_error(src, "\"%s\": not a domain name", key);
	exact = (src->imp->flags & IMPORT_EXACT_RELAY_DOMAINS) != 0;
	below = key[0] == '.';
	if (key_name(src, key, key + below, name) == -1)
		return -1;
	if (below && !exact) {
		source_warn(src, "\"%s\" is never looked up while "
		    "relay_domains is in parent_domain_matches_subdomains "
		    "(\"%s\" covers the names below); skipped", key, name);
		return 0;
	}
	if ((v = value_new(src, VAL_RELAY)) == NULL)
		return source_error(src, "out of memory");
	return node_set(src, ROLE_RELAY, name,
	    !exact ? -1 : below ? SPAN_BELOW : SPAN_SELF, v, key);
}

/*
 * A Sendmail error text: "D.S.N:CODE text", "CODE text", either one in
 * double quotes, into the reply "CODE D.S.N text".  The status class
 * defaults to CODE's first digit (".0.0").  want is '4' (TEMP:), '5'
 * (ERROR: in mailertable) or 0 (either).
 */
static struct value *
sendmail_reply(struct source *src, const char *text, int want)
{
	struct value	*v;
	char		 buf[IMPORT_LINE_MAX], dsn[16], reply[IMPORT_LINE_MAX];
	const char	*p, *why;
	size_t		 n, d;

	snprintf(buf, sizeof(buf), "%s", text);
	n = strlen(buf);
	p = buf;
	if (n >= 2 && buf[0] == '"' && buf[n - 1] == '"') {
		buf[n - 1] = '\0';
		p = buf + 1;
	}
	dsn[0] = '\0';
	d = strspn(p, "0123456789.");
	if (d > 0 && d < sizeof(dsn) && p[d] == ':' &&
	    memchr(p, '.', d) != NULL) {
		memcpy(dsn, p, d);
		dsn[d] = '\0';
		p += d + 1;
	}
	if (strspn(p, "0123456789") != 3 || (p[3] != '\0' && p[3] != ' ')) {
		source_error(src, "\"%s\": needs an SMTP reply code", text);
		return NULL;
	}
	if (want != 0 && p[0] != want) {
		source_error(src, "\"%s\": needs a %cxx reply code", text,
		    want);
		return NULL;
	}
	if (dsn[0] == '\0')
		snprintf(dsn, sizeof(dsn), "%c.0.0", p[0]);
	snprintf(reply, sizeof(reply), "%.3s %s%s", p, dsn, p + 3);
	if (reply_valid(reply, &why) == -1) {
		source_error(src, "\"%s\": %s", text, why);
		return NULL;
	}
	if ((v = value_new(src, VAL_DENY)) == NULL ||
	    (v->reply = strdup(reply)) == NULL) {
		source_error(src, "out of memory");
		return NULL;
	}
	return v;
}

/*
 * "mailer:host" or "mailer:host1:host2...": an SMTP mailer and hosts in
 * preference order, "[host]" (no MX lookup) or "host".  Sendmail's
 * mailertable has no port; contrib/sendmail defines mailers "esmtpPORT"
 * (A=TCP $h PORT) for smart hosts on other ports, and "milter-relay
 * export" writes them, so "esmtp2525" means port 2525.
 */
static struct value *
sendmail_route(struct source *src, const char *text)
{
	struct value	*v;
	char		 mailer[IMPORT_LINE_MAX], hop[SMARTHOST_MAX + 1];
	const char	*colon, *rest;
	unsigned	 port;
	size_t		 n;

	if ((colon = strchr(text, ':')) == NULL) {
		source_error(src, "\"%s\": expected mailer:host", text);
		return NULL;
	}
	n = (size_t)(colon - text);
	memcpy(mailer, text, n);
	mailer[n] = '\0';
	rest = colon + 1;
	if (strcasecmp(mailer, "error") == 0)
		return sendmail_reply(src, rest, 0);
	port = 0;
	if (nexthop_mailer_port(mailer, &port) == -1 &&
	    !in_list(sendmail_smtp, mailer)) {
		source_error(src, "\"%s\": mailer \"%s\" does not relay to a "
		    "host by SMTP: cannot be expressed", text, mailer);
		return NULL;
	}
	if (*rest == '\0') {
		source_error(src, "\"%s\": missing host", text);
		return NULL;
	}
	if (nexthop_convert(src, rest, 1, port, hop, sizeof(hop)) == -1)
		return NULL;
	if ((v = value_new(src, VAL_ROUTE)) == NULL ||
	    (v->smarthost = strdup(hop)) == NULL) {
		source_error(src, "out of memory");
		return NULL;
	}
	return v;
}

static struct value *
sendmail_access_value(struct source *src, const char *val)
{
	struct value	*v;

	if (strcasecmp(val, MAPS_VALUE_RELAY) == 0) {
		if ((v = value_new(src, VAL_RELAY)) == NULL)
			source_error(src, "out of memory");
		return v;
	}
	if (strcasecmp(val, MAPS_VALUE_SKIP) == 0) {
		if ((v = value_new(src, VAL_NORELAY)) == NULL)
			source_error(src, "out of memory");
		return v;
	}
	if (strcasecmp(val, "REJECT") == 0)
		return sendmail_reply(src, "5.7.1:550 Access denied", '5');
	if (strncasecmp(val, "ERROR:", 6) == 0)
		return sendmail_reply(src, val + 6, 0);
	if (strncasecmp(val, "TEMP:", 5) == 0)
		return sendmail_reply(src, val + 5, '4');
	source_error(src, "\"%s\": only RELAY, SKIP, REJECT, ERROR: and "
	    "TEMP: can be expressed as recipient rules", val);
	return NULL;
}

static int
sendmail_access_entry(struct source *src, const char *key, const char *val)
{
	struct value	*v;
	char		 name[DOMAIN_MAX + 1], tag[32];
	const char	*dom;
	size_t		 n;

	n = strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_");
	dom = key;
	if (n > 0 && n < sizeof(tag) && key[n] == ':') {
		memcpy(tag, key, n);
		tag[n] = '\0';
		if (strcasecmp(tag, "IPv6") == 0) {
			source_warn(src, "\"%s\": a client address, not a "
			    "recipient rule; skipped (see trusted_networks)",
			    key);
			return 0;
		}
		if (strcasecmp(tag, "To") != 0) {
			source_warn(src, "\"%s\": a %s: entry, not a recipient "
			    "rule; skipped", key, tag);
			return 0;
		}
		dom = key + n + 1;
	} else if (all_of(key, "0123456789.")) {
		source_warn(src, "\"%s\": a client address, not a recipient "
		    "rule; skipped (see trusted_networks)", key);
		return 0;
	}
	if (strchr(dom, '@') != NULL)
		return source_error(src, "\"%s\": per-address entries cannot "
		    "be expressed: rules name domains", key);
	if (dom[0] == '.')
		return source_error(src, "\"%s\": leading-dot entries depend "
		    "on FEATURE(lookupdotdomain); write \"To:%s\" (the name "
		    "and below) or edit the result by hand", key, dom + 1);
	if (*val == '\0')
		return source_error(src, "\"%s\": missing value", key);
	if (key_name(src, key, dom, name) == -1)
		return -1;
	if ((v = sendmail_access_value(src, val)) == NULL)
		return -1;
	if (dom == key)
		source_warn(src, "\"%s\": untagged, it also applies to senders "
		    "and client host names; only the recipient part (To:) is "
		    "imported", key);
	return node_set(src, ROLE_RELAY, name, -1, v, key);
}

static int
source_entry(struct source *src, const char *key, const char *val)
{
	switch (src->format) {
	case IMPORT_POSTFIX_TRANSPORT:
		return route_entry(src, key, val, "*", postfix_route);
	case IMPORT_POSTFIX_RELAY_DOMAINS:
		return postfix_relay_entry(src, key, val);
	case IMPORT_SENDMAIL_MAILERTABLE:
		return route_entry(src, key, val, ".", sendmail_route);
	case IMPORT_SENDMAIL_ACCESS:
		return sendmail_access_entry(src, key, val);
	}
	return source_error(src, "unknown format");
}

/* Split a logical line into key and value and hand it on. */
static int
source_line(struct source *src, char *line)
{
	char	*key, *val, *end;

	key = line;
	end = key + strcspn(key, " \t");
	val = end + strspn(end, " \t");
	*end = '\0';
	end = val + strlen(val);
	while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return source_entry(src, key, val);
}

static int
blank_or_comment(const char *line)
{
	line += strspn(line, " \t");
	return *line == '\0' || *line == '#';
}

/*
 * Read the source.  Postfix (postmap): blank lines and lines whose first
 * non-blank character is '#' are ignored, a line starting with blanks
 * continues the previous one.  Sendmail (makemap): blank lines and lines
 * starting with '#' are ignored, leading blanks are an error.
 */
static int
source_read(struct source *src, FILE *fp)
{
	char		*buf, logical[IMPORT_LINE_MAX + 1];
	size_t		 cap, len, used;
	ssize_t		 n;
	unsigned long	 lineno, start;
	int		 postfix, rc;

	postfix = src->format == IMPORT_POSTFIX_TRANSPORT ||
	    src->format == IMPORT_POSTFIX_RELAY_DOMAINS;
	buf = NULL;
	cap = 0;
	used = 0;
	lineno = start = 0;
	rc = 0;
	while (rc == 0 && (n = getline(&buf, &cap, fp)) != -1) {
		lineno++;
		len = (size_t)n;
		while (len > 0 &&
		    (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		src->line = lineno;
		if (memchr(buf, '\0', len) != NULL) {
			rc = source_error(src, "NUL character");
			break;
		}
		if (blank_or_comment(buf))
			continue;
		if (buf[0] == ' ' || buf[0] == '\t') {
			if (!postfix || used == 0) {
				rc = source_error(src, "line starts with "
				    "white space");
				break;
			}
			if (used + 1 + len > IMPORT_LINE_MAX) {
				rc = source_error(src, "line too long");
				break;
			}
			logical[used++] = ' ';
			memcpy(logical + used, buf + strspn(buf, " \t"),
			    len - strspn(buf, " \t") + 1);
			used += len - strspn(buf, " \t");
			continue;
		}
		if (used > 0) {
			src->line = start;
			if ((rc = source_line(src, logical)) == -1)
				break;
			src->line = lineno;
		}
		if (len > IMPORT_LINE_MAX) {
			rc = source_error(src, "line too long");
			break;
		}
		memcpy(logical, buf, len + 1);
		used = len;
		start = lineno;
	}
	if (rc == 0 && ferror(fp))
		rc = source_error(src, "read error: %s", strerror(errno));
	if (rc == 0 && used > 0) {
		src->line = start;
		rc = source_line(src, logical);
	}
	free(buf);
	return rc;
}

int
import_file(struct import *imp, enum import_format format, const char *name,
    FILE *fp, char *err, size_t errlen)
{
	struct source	 src;
	char		**files, *copy;

	files = realloc(imp->files, (imp->nfiles + 1) * sizeof(*files));
	copy = NULL;
	if (files == NULL ||
	    asprintf(&copy, "%s %s", tablefmt_name((enum tablefmt)format),
	    name) == -1) {
		if (files != NULL)
			imp->files = files;
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	imp->files = files;
	imp->files[imp->nfiles++] = copy;
	if (format == IMPORT_POSTFIX_RELAY_DOMAINS ||
	    format == IMPORT_SENDMAIL_ACCESS)
		imp->has_relay_source = 1;
	memset(&src, 0, sizeof(src));
	src.imp = imp;
	src.format = format;
	src.file = strchr(copy, ' ') + 1;
	src.err = err;
	src.errlen = errlen;
	return source_read(&src, fp);
}

/*
 * What the sources of one role say for name itself (below = 0) or for a
 * name below it that no entry names (below = 1): the most specific entry
 * wins, parents are probed the way the MTA probes them.
 */
static const struct value *
import_lookup(const struct import *imp, int role, const char *name,
    int below)
{
	const struct import_node *node;
	const struct value	*v;
	int			 span;

	span = below ? SPAN_BELOW : SPAN_SELF;
	for (;;) {
		if ((node = import_node_find(imp, name)) != NULL &&
		    (v = node->slot[role][span]) != NULL)
			return v;
		if ((name = strchr(name, '.')) == NULL)
			return NULL;
		name++;
		span = SPAN_BELOW;
	}
}

static void
import_result(const struct import *imp, const char *name, int below,
    struct result *r)
{
	const struct value	*relay, *route;

	memset(r, 0, sizeof(*r));
	if (name == NULL)
		return;
	relay = import_lookup(imp, ROLE_RELAY, name, below);
	route = import_lookup(imp, ROLE_ROUTE, name, below);
	if ((relay != NULL && relay->kind == VAL_DENY) ||
	    (route != NULL && route->kind == VAL_DENY)) {
		r->matched = 1;
		r->relay = RELAY_DENY;
		r->reply = relay != NULL && relay->kind == VAL_DENY ?
		    relay->reply : route->reply;
		return;
	}
	if (relay == NULL && route == NULL)
		return;
	r->matched = 1;
	r->relay = relay != NULL && relay->kind == VAL_RELAY ? RELAY_ALWAYS :
	    RELAY_TRUSTED;
	if (route != NULL) {
		r->smarthost = route->smarthost;
		r->transport = route->transport;
	}
}

static int
result_equal(const struct result *a, const struct result *b)
{
	if (a->matched != b->matched)
		return 0;
	if (!a->matched)
		return 1;
	return a->relay == b->relay && str_same(a->smarthost, b->smarthost) &&
	    str_same(a->transport, b->transport) &&
	    str_same(a->reply, b->reply);
}

static int
result_write(FILE *out, const char *prefix, const char *name,
    const struct result *r)
{
	const char	*p;

	fprintf(out, "%s%s", prefix, name);
	if (r->relay != RELAY_ALWAYS)
		fprintf(out, " relay=%s", rule_relay_name(r->relay));
	if (r->smarthost != NULL)
		fprintf(out, " smarthost=%s", r->smarthost);
	if (r->transport != NULL)
		fprintf(out, " transport=%s", r->transport);
	if (r->reply != NULL) {
		fputs(" reply=\"", out);
		for (p = r->reply; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', out);
			fputc(*p, out);
		}
		fputc('"', out);
	}
	return fputc('\n', out) == EOF ? -1 : 0;
}

/* Order names parent first: compare label by label from the right. */
static int
name_compare(const char *a, const char *b)
{
	size_t	ea, eb, sa, sb, la, lb;
	int	done_a, done_b, c;

	ea = strlen(a);
	eb = strlen(b);
	done_a = done_b = 0;
	for (;;) {
		if (done_a || done_b)
			return done_a == done_b ? 0 : done_a ? -1 : 1;
		for (sa = ea; sa > 0 && a[sa - 1] != '.'; sa--)
			;
		for (sb = eb; sb > 0 && b[sb - 1] != '.'; sb--)
			;
		la = ea - sa;
		lb = eb - sb;
		if ((c = memcmp(a + sa, b + sb, la < lb ? la : lb)) != 0)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
		if (sa == 0)
			done_a = 1;
		else
			ea = sa - 1;
		if (sb == 0)
			done_b = 1;
		else
			eb = sb - 1;
	}
}

static int
node_compare(const void *a, const void *b)
{
	return name_compare((*(struct import_node *const *)a)->name,
	    (*(struct import_node *const *)b)->name);
}

static int
import_node_write(const struct import *imp, const struct import_node *node,
    FILE *out, char *err, size_t errlen)
{
	struct result	 self, below, inherit;
	const char	*parent;
	int		 same_self, same_below;

	parent = strchr(node->name, '.');
	import_result(imp, parent == NULL ? NULL : parent + 1, 1, &inherit);
	import_result(imp, node->name, 0, &self);
	import_result(imp, node->name, 1, &below);
	same_self = result_equal(&self, &inherit);
	same_below = result_equal(&below, &inherit);
	if (same_self && same_below)
		return 0;
	/* Every entry matches something: never "unmatched" under a rule. */
	if ((!same_self && !self.matched) || (!same_below && !below.matched)) {
		snprintf(err, errlen, "%s: internal error: unmatched below a "
		    "rule", node->name);
		return -1;
	}
	if (!same_self && !same_below && result_equal(&self, &below))
		return result_write(out, "", node->name, &self);
	if (!same_self && result_write(out, "#", node->name, &self) == -1)
		return -1;
	if (!same_below && result_write(out, ".", node->name, &below) == -1)
		return -1;
	return 0;
}

int
import_write(struct import *imp, FILE *out, char *err, size_t errlen)
{
	struct import_node	**sorted;
	size_t		 i;
	int		 rc;

	fprintf(out, "# milter-relay domains_file written by "
	    "\"milter-relay import\" from:\n");
	for (i = 0; i < imp->nfiles; i++)
		fprintf(out, "#   %s\n", imp->files[i]);
	if (!imp->has_relay_source)
		fprintf(out, "# No relay source was given: routed domains are "
		    "relay=trusted, as a route\n# alone lets only trusted "
		    "clients relay.  Import relay_domains or the access\n"
		    "# map too, or edit, for domains any client may relay "
		    "to.\n");
	sorted = NULL;
	if (imp->nnodes > 0 &&
	    (sorted = malloc(imp->nnodes * sizeof(*sorted))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (imp->nnodes > 0) {
		memcpy(sorted, imp->nodes, imp->nnodes * sizeof(*sorted));
		qsort(sorted, imp->nnodes, sizeof(*sorted), node_compare);
	}
	rc = 0;
	for (i = 0; rc == 0 && i < imp->nnodes; i++)
		rc = import_node_write(imp, sorted[i], out, err, errlen);
	free(sorted);
	if (rc == 0 && (fflush(out) == EOF || ferror(out))) {
		snprintf(err, errlen, "write error: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}
