/*
 * ruleset - domain rules in a trie of labels, root = TLD
 *
 * A rule set maps domain patterns to rules:
 *
 *	example.com	RULE_NAMESPACE	example.com and every name below it
 *	#example.com	RULE_EXACT	example.com only
 *	.example.com	RULE_SUBDOMAINS	names below example.com, not itself
 *
 * ruleset_new() returns an empty set.  ruleset_add() parses a pattern
 * (prefix '#' or '.', then a name that it normalizes with
 * domain_normalize()), validates the rule's strings (smarthost with
 * smarthost_valid(), reply with reply_valid(), transport: a Postfix
 * transport name) and stores it; strings are interned, so a million rules
 * naming one smart host keep one copy.  Rules are interned too: rules
 * with equal contents (kind, relay, strings) share one struct rule, so a
 * rule pointer does not identify a pattern.  It returns 0, or -1 with a
 * message in err: a bad pattern, a bad value, or the same pattern twice.
 * Once loading is done the set is never modified again: any number of
 * threads may look it up without locks.
 *
 * ruleset_lookup() finds the most specific rule covering a normalized
 * domain: the rule whose name has the most labels among those covering
 * it; at the same name exact beats namespace beats subdomains-only.  It
 * returns NULL when no rule covers the name.  Otherwise it sets *name_len
 * (when not NULL) to the length of the rule's name, which is always the
 * last *name_len octets of domain; rule_format_pattern() rebuilds the
 * pattern text from that (name points at the rule's name, that is
 * domain + strlen(domain) - name_len).  Lookups allocate nothing.
 *
 * ruleset_walk() calls fn for every rule with its pattern text, in a
 * stable order (a name before the names below it; at one name exact,
 * namespace, subdomains); a non-zero return from fn stops the walk and is
 * returned.  ruleset_walk_below() is ruleset_walk() for the rules at
 * a normalized name and below it only; it costs the rules at the name
 * when no name below it has rules, else a pass over the set's names.
 * ruleset_count() is the number of rules.  ruleset_free()
 * releases everything (NULL is fine).
 *
 * rule_same() is 1 when two rules, of one set or of two, say the same:
 * kind, relay, strings by value; a recipients list and credentials are
 * the same only when they are one loaded file (rules of two loads that
 * read files of their own never compare equal).
 *
 * ruleset_any() is 1 when fn returns non-zero for one of the distinct
 * rules the set interned (rules that say the same thing are one), else
 * 0; it has no patterns and no order, and costs the number of distinct
 * rules, not the number of patterns: a cheap "does any rule need this"
 * before a ruleset_walk().  A rule whose ruleset_add() failed late may
 * be among them, so a 1 can be a false alarm; a 0 is exact.
 *
 * rule_relay_parse() maps "always", "trusted", "deny" to enum rule_relay:
 * 0 or -1; rule_relay_name() is the reverse; rule_recipients_parse() and
 * rule_recipients_name() do the same for "any", "list", "verify".
 * rule_spec_field() is the field of a struct rule_spec that a setting
 * names ("relay", "smarthost", "transport", "reply", "recipients",
 * "recipients_file", "tls", "tls_match", "auth_file"), or NULL for another name: the
 * one list of a rule's settings, for the config file and the
 * domains_file.
 *
 * The values of a rule are checked by rulevalue.h (smart host,
 * transport) and reply.h (reply); this header includes both.
 *
 * Helpers for the config loader and the exporter: pattern_normalize()
 * writes the canonical text of
 * a pattern ("#name", "name", ".name"); ruleset_has_pattern() is 1 when
 * the set holds a rule with that pattern (how a loader tells a duplicate
 * from other errors), else 0.  ruleset_reserve() makes room for about
 * names more names (rule names and the parents they bring) so that a big
 * load does not rebuild the table as it grows: 0, or -1 out of memory.
 *
 * Recipients: spec->recipients is "any" (default), "list" or "verify";
 * "list" needs spec->recipients_file, which ruleset_add() loads with
 * rcptlist_load() (once per path and set: rules naming one file share
 * it; a bad line is "FILE:LINE: reason" in err).  A relative path is
 * taken from the directory that ruleset_set_dir() gave (the config
 * file's), else from the current one.  ruleset_set_dir(): 0 or -1 out of
 * memory.  recipients other than "any" are for relaying rules only.
 *
 * Generations (overlay.h): a set may be an overlay, a small delta over a
 * base set that other generations share; every function above then
 * answers for the whole (base and delta).  The primitives overlay.c
 * builds on: ruleset_levels() stores at at[i] the rules ("#name", "name",
 * ".name", indexed by enum rule_kind) of the i-th name on the way down
 * to the normalized domain[0..len) (i = 0: its last label), or NULL when
 * the name has none, and returns how many names the set holds on that
 * way (at most max).  ruleset_put() sets the rule of one pattern (kind,
 * normalized name): a copy of rule with its strings interned in set
 * (its rcptlist and auth pointers are kept as they are), &rule_tombstone stored as such,
 * or NULL to clear it; 0, or -1 out of memory.  ruleset_hold() takes
 * one more reference (ruleset_free() drops one; the last frees) and
 * returns set; ruleset_set_overlay() makes set the generation over,
 * answered through the functions of ops (overlay.c's, so that this
 * module needs nothing of overlay.h), ruleset_overlay() is that
 * generation (NULL: a plain set).
 *
 * Credentials: spec->auth_file names a file that authfile.h reads (once
 * per path and set, relative paths as for recipients_file): the rule's
 * smart hosts get its username and password (SMTP AUTH).  It needs a
 * smarthost and tls = "encrypt", "verify" or "secure"
 * (tls_carries_password()): a password never travels in clear, and a
 * rule that would let it (dane included: it degrades to may without
 * TLSA records) is refused, not raised.  The
 * file may be owned by root or the service user, and group-readable only
 * by the service group, that ruleset_set_auth_service() gave (-1: the
 * process's own, the default).
 */
#ifndef MR_RULESET_H
#define MR_RULESET_H

#include <stddef.h>

#include "domain.h"
#include "reply.h"
#include "rulevalue.h"

struct authfile;
struct rcptlist;
struct overlay;

enum rule_kind {
	RULE_EXACT,		/* #name */
	RULE_NAMESPACE,		/* name */
	RULE_SUBDOMAINS		/* .name */
};

enum rule_recipients {
	RECIPIENTS_ANY,		/* every address of the domain (default) */
	RECIPIENTS_LIST,	/* those of recipients_file */
	RECIPIENTS_VERIFY	/* those the next hop accepts (callout) */
};

enum rule_relay {
	RELAY_ALWAYS,		/* any client may relay */
	RELAY_TRUSTED,		/* trusted clients only */
	RELAY_DENY		/* nobody: an exception */
};

struct rule {
	unsigned char	kind;		/* enum rule_kind */
	unsigned char	relay;		/* enum rule_relay */
	const char	*smarthost;	/* NULL: MTA routes as usual */
	const char	*transport;	/* NULL: "smtp" */
	const char	*reply;		/* NULL: default reply */
	unsigned char	recipients;	/* enum rule_recipients */
	const struct rcptlist *rcptlist; /* RECIPIENTS_LIST: the file */
	unsigned char	tls;		/* enum tls_level; 0: unset */
	const char	*tls_match;	/* NULL: Postfix's default */
	const struct authfile *auth;	/* NULL: no credentials */
};

/* The optional parts of a rule as the config gives them (NULL: unset). */
struct rule_spec {
	const char	*relay;		/* "always", "trusted", "deny" */
	const char	*smarthost;
	const char	*transport;
	const char	*reply;
	const char	*recipients;	/* "any", "list", "verify" */
	const char	*recipients_file; /* with "list" */
	const char	*tls;		/* "none" ... "secure" */
	const char	*tls_match;
	const char	*auth_file;	/* "username:password" for the hops */
};

#define PATTERN_MAX	(DOMAIN_MAX + 1)	/* prefix + name */

struct ruleset;

typedef int ruleset_walk_fn(const char *pattern, const struct rule *rule,
	    void *arg);

struct ruleset *ruleset_new(void);
int	ruleset_add(struct ruleset *set, const char *pattern,
	    const struct rule_spec *spec, char *err, size_t errlen);
const struct rule *ruleset_lookup(const struct ruleset *set,
	    const char *domain, size_t *name_len);
void	rule_format_pattern(const struct rule *rule, const char *name,
	    size_t name_len, char *buf, size_t buflen);
int	ruleset_walk(const struct ruleset *set, ruleset_walk_fn *fn,
	    void *arg);
int	ruleset_walk_below(const struct ruleset *set, const char *name,
	    ruleset_walk_fn *fn, void *arg);
size_t	ruleset_count(const struct ruleset *set);
int	rule_same(const struct rule *a, const struct rule *b);
int	ruleset_any(const struct ruleset *set,
	    int (*fn)(const struct rule *rule));
int	rule_relay_parse(const char *word, enum rule_relay *out);
const char *rule_relay_name(enum rule_relay relay);
int	rule_recipients_parse(const char *word,
	    enum rule_recipients *out);
const char *rule_recipients_name(enum rule_recipients recipients);
const char **rule_spec_field(struct rule_spec *spec, const char *key);
void	ruleset_free(struct ruleset *set);

int	pattern_normalize(const char *pattern, char *out, const char **why);
int	ruleset_has_pattern(const struct ruleset *set, const char *pattern);
int	ruleset_reserve(struct ruleset *set, size_t names);
int	ruleset_set_dir(struct ruleset *set, const char *dir);
void	ruleset_set_auth_service(struct ruleset *set, long uid, long gid);

extern const struct rule rule_tombstone;
size_t	ruleset_levels(const struct ruleset *set, const char *domain,
	    size_t len, const struct rule *const **at, size_t max);
int	ruleset_put(struct ruleset *set, enum rule_kind kind,
	    const char *name, const struct rule *rule);
struct ruleset *ruleset_hold(struct ruleset *set);
/* What a set that is a generation answers with (overlay.c fills it). */
struct ruleset_generation {
	int	(*add)(struct overlay *o, const char *pattern,
		    const struct rule_spec *spec, char *err, size_t errlen);
	const struct rule *(*lookup)(const struct overlay *o,
		    const char *domain, size_t *name_len);
	int	(*has_pattern)(const struct overlay *o, const char *pattern);
	size_t	(*count)(const struct overlay *o);
	int	(*any)(const struct overlay *o,
		    int (*fn)(const struct rule *rule));
	int	(*walk)(const struct overlay *o, const char *below,
		    ruleset_walk_fn *fn, void *arg);
	int	(*set_dir)(struct overlay *o, const char *dir);
	void	(*free)(struct overlay *o);
};
void	ruleset_set_overlay(struct ruleset *set, struct overlay *over,
	    const struct ruleset_generation *ops);
struct overlay *ruleset_overlay(const struct ruleset *set);

#endif
