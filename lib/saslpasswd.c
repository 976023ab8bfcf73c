/*
 * NAME
 *	saslpasswd - smart host credentials by next hop, for Postfix and
 *	Sendmail
 * SYNOPSIS
 *	#include "saslpasswd.h"
 *
 *	int	saslpasswd_build(set, out, err, errlen)
 *	int	saslpasswd_walk(sp, mta, fn, arg, err, errlen)
 *	int	saslpasswd_print(sp, mta, name, out, err, errlen)
 *	const struct hop_entry *saslpasswd_find(sp, key)
 *	size_t	saslpasswd_count(sp)
 *	void	saslpasswd_free(sp)
 * DESCRIPTION
 *	A rule's auth_file (authfile.c) gives its smart hosts a username
 *	and password.  Postfix looks them up in smtp_sasl_password_maps by
 *	the server's name, then by the next hop as the transport names it
 *	(src/smtp/smtp_sasl_glue.c, smtp_sasl_passwd_lookup(): session->host,
 *	then session->dest, each destination of a next-hop list); so, as
 *	for TLS policies, one hop has one set of credentials, whichever
 *	rule's mail goes there, and two rules giving one hop different
 *	credentials are a configuration error naming both.  Hops are keyed
 *	by hoptable_key(), as the TLS policy table ("[h]" and "[h]:25" are
 *	one hop).
 *
 *	saslpasswd_build() makes the table of every hop of every rule with
 *	credentials: 0 and a table (NULL when no rule has any), or -1 with
 *	a message naming the hop and both rules (never the secrets).  It
 *	walks the patterns only when a distinct rule has credentials.
 *
 *	saslpasswd_walk() calls fn(key, value) for every entry of the MTA's
 *	table, in key order of the hops:
 *
 *	SASLPASSWD_POSTFIX	"[host]:port" -> "username:password"; a hop
 *				on port 25 as both "[host]" and "[host]:25"
 *				(the transport may say either), keys in
 *				lower case (Postfix folds the lookup key)
 *	SASLPASSWD_SENDMAIL	"AuthInfo:host" -> "\"U:user\" \"I:user\"
 *				\"P:password\" \"M:PLAIN LOGIN\"", one entry
 *				a host (name, IPv4 address, "IPv6:addr",
 *				as Sendmail's ${server_name} and
 *				${server_addr}); Sendmail has no port there,
 *				so two ports of one host with different
 *				credentials, or a '"' in them, cannot be said
 *
 *	A non-zero return from fn stops the walk and is returned; -1 with a
 *	reason in err when the MTA cannot say the table.
 *
 *	saslpasswd_print() writes the table as text for postmap(1) or
 *	makemap(8), after a comment line naming it: 0, or -1 with err.
 *	saslpasswd_find() is the entry of a hop keyed by hoptable_key()
 *	(the rule that gives it credentials), or NULL (sp NULL too).
 *	saslpasswd_count() is the number of hops; saslpasswd_free() frees
 *	a table (NULL is fine); the secrets stay in the rule set's files.
 * DIAGNOSTICS
 *	Messages name hops, rules and files, never usernames or passwords.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hoptable.h"
#include "ruleset.h"
#include "saslpasswd.h"
#include "strutil.h"

#define SENDMAIL_MECHS	"PLAIN LOGIN"

struct saslpasswd {
	struct hoptable	 t;
};

/* has_auth - a rule whose hops get its credentials */
static int
has_auth(const struct rule *rule)
{
	return rule->auth != NULL;
}

static int
same_auth(const struct rule *a, const struct rule *b)
{
	return authfile_same(a->auth, b->auth);
}

/* auth_conflict - the message for one hop given two sets of credentials */
static void
auth_conflict(const struct hop_entry *a, const struct hop_entry *b,
    char *err, size_t errlen)
{
	authfile_refuse();
	snprintf(err, errlen, "smart host %s has auth_file \"%s\" in rule "
	    "\"%s\" but other credentials (auth_file \"%s\") in rule \"%s\": "
	    "Postfix looks credentials up by next hop", a->key,
	    a->rule->auth->path, a->pattern, b->rule->auth->path, b->pattern);
}

/* saslpasswd_build - the credentials of every hop, conflicts refused */
int
saslpasswd_build(const struct ruleset *set, struct saslpasswd **out,
    char *err, size_t errlen)
{
	struct saslpasswd *sp;

	*out = NULL;
	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (hoptable_build(set, has_auth, same_auth, auth_conflict, &sp->t,
	    err, errlen) == -1) {
		free(sp);
		return -1;
	}
	if (sp->t.n == 0) {
		saslpasswd_free(sp);
		return 0;
	}
	*out = sp;
	return 0;
}

/* The two keys of a Postfix hop: as written, and with ":25" when none. */
static int
walk_postfix(const struct hop_entry *e, saslpasswd_walk_fn *fn, void *arg)
{
	const struct authfile *af = e->rule->auth;
	char	 key[SASLPASSWD_KEY_MAX + 1], value[SASLPASSWD_VALUE_MAX + 1];
	size_t	 i;
	int	 rc;

	snprintf(value, sizeof(value), "%s:%s", af->user, af->pass);
	snprintf(key, sizeof(key), "%s", e->key);
	for (i = 0; key[i] != '\0'; i++)
		key[i] = (char)tolower((unsigned char)key[i]);
	rc = fn(key, value, arg);
	if (rc == 0 && e->port == 0) {
		snprintf(key + i, sizeof(key) - i, ":%u", NEXTHOP_PORT_DEFAULT);
		rc = fn(key, value, arg);
	}
	explicit_bzero(value, sizeof(value));
	return rc;
}

/* One AuthInfo: entry a host; the ports of a host must agree. */
static int
walk_sendmail(const struct saslpasswd *sp, size_t i, saslpasswd_walk_fn *fn,
    void *arg, char *err, size_t errlen)
{
	const struct hop_entry *e = &sp->t.v[i], *p;
	const struct authfile *af = e->rule->auth;
	char	 key[SASLPASSWD_KEY_MAX + 1], value[SASLPASSWD_VALUE_MAX + 1];
	size_t	 j;
	int	 rc;

	for (j = 0; j < i; j++) {
		p = &sp->t.v[j];
		if (strcmp(p->host, e->host) != 0)
			continue;
		if (authfile_same(p->rule->auth, af))
			return 0;	/* said already */
		snprintf(err, errlen, "smart hosts %s (rule \"%s\") and %s "
		    "(rule \"%s\") have other credentials: Sendmail looks "
		    "them up by host, not port", p->key, p->pattern, e->key,
		    e->pattern);
		return -1;
	}
	if (strchr(af->user, '"') != NULL || strchr(af->pass, '"') != NULL) {
		snprintf(err, errlen, "auth_file \"%s\" (rule \"%s\"): a '\"' "
		    "cannot be said in a Sendmail AuthInfo entry", af->path,
		    e->pattern);
		return -1;
	}
	snprintf(key, sizeof(key), "AuthInfo:%s%s",
	    e->family == AF_INET6 ? "IPv6:" : "", e->host);
	snprintf(value, sizeof(value), "\"U:%s\" \"I:%s\" \"P:%s\" \"M:%s\"",
	    af->user, af->user, af->pass, SENDMAIL_MECHS);
	rc = fn(key, value, arg);
	explicit_bzero(value, sizeof(value));
	return rc;
}

/* saslpasswd_walk - every entry of the MTA's table */
int
saslpasswd_walk(const struct saslpasswd *sp, enum saslpasswd_mta mta,
    saslpasswd_walk_fn *fn, void *arg, char *err, size_t errlen)
{
	size_t	i;
	int	rc;

	for (i = 0; sp != NULL && i < sp->t.n; i++) {
		rc = mta == SASLPASSWD_POSTFIX ? walk_postfix(&sp->t.v[i], fn,
		    arg) : walk_sendmail(sp, i, fn, arg, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct print {
	FILE	*out;		/* NULL: count only */
	size_t	 n;
};

static int
print_entry(const char *key, const char *value, void *arg)
{
	struct print	*p = arg;

	p->n++;
	if (p->out != NULL)
		fprintf(p->out, "%s\t%s\n", key, value);
	return 0;
}

/* saslpasswd_print - the table as text, after a comment line */
int
saslpasswd_print(const struct saslpasswd *sp, enum saslpasswd_mta mta,
    const char *name, FILE *out, char *err, size_t errlen)
{
	struct print	 p;

	memset(&p, 0, sizeof(p));
	if (saslpasswd_walk(sp, mta, print_entry, &p, err, errlen) != 0)
		return -1;
	fprintf(out, "# milter-relay export %s: %zu entries\n", name, p.n);
	p.out = out;
	if (saslpasswd_walk(sp, mta, print_entry, &p, err, errlen) != 0)
		return -1;
	if (fflush(out) == EOF || ferror(out)) {
		snprintf(err, errlen, "write error");
		return -1;
	}
	return 0;
}

/* saslpasswd_find - the entry of a hop, or NULL */
const struct hop_entry *
saslpasswd_find(const struct saslpasswd *sp, const char *key)
{
	return sp == NULL ? NULL : hoptable_find(&sp->t, key);
}

/* saslpasswd_count - hops with credentials */
size_t
saslpasswd_count(const struct saslpasswd *sp)
{
	return sp != NULL ? sp->t.n : 0;
}

/* saslpasswd_free - release a table */
void
saslpasswd_free(struct saslpasswd *sp)
{
	if (sp == NULL)
		return;
	hoptable_free(&sp->t);
	free(sp);
}
