/*
 * NAME
 *	routechange - names whose smart host changed at a recent reload
 *
 * SYNOPSIS
 *	#include "routechange.h"
 *
 *	struct routechange *routechange_new(void);
 *	long	routechange_note(struct routechange *rc,
 *		    const struct config *old, const struct config *new,
 *		    time_t now);
 *	long	routechange_old_route(struct routechange *rc,
 *		    const char *domain, const char *mailer,
 *		    const char *mtahosts, time_t now);
 *	void	routechange_free(struct routechange *rc);
 *
 * DESCRIPTION
 *	After a reload the MTA may name a recipient's old smart host for a
 *	while: Postfix's queue manager resolves an address again after 30 s
 *	at most, its smtpd only when the process ends (see routechange.h).
 *	The milter's route check would call that a mismatch.  This module
 *	keeps a small record of the names whose route changed, with the
 *	route they had, so that the check can tell an old route from a
 *	wrong one.
 *
 *	routechange_note() compares the route (smart hosts and transport of
 *	the covering rule, as the transport map answers; none for deny
 *	rules and rules without smart host) of every rule name of old and of
 *	new in both rule sets (only those of the change when new is a
 *	generation of old, overlay.h), and records the names whose route
 *	differs, with old's smart hosts there, stamped with now (seconds of a
 *	monotonic clock).  A subdomains-only rule ".name" is compared at a
 *	name below it.  It returns the number of names recorded, or -1 out
 *	of memory (nothing recorded: the check then warns as before).  old
 *	NULL records nothing.
 *
 *	routechange_old_route() is the age in seconds of the newest record
 *	of domain (normalized) or of a parent of it whose old smart hosts
 *	cover the MTA's choice (mailer, mtahosts: nexthop_route_covers()),
 *	or -1 when there is none.  Records older than ROUTECHANGE_KEEP are
 *	dropped, and the oldest when more than ROUTECHANGE_MAX names are
 *	kept.
 *
 *	Both may be called from any thread (one mutex; the check asks only
 *	when a route differs, which is rare).
 *
 * DIAGNOSTICS
 *	routechange_new() returns NULL out of memory.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nexthop.h"
#include "overlay.h"
#include "routechange.h"
#include "ruleset.h"
#include "sorttab.h"
#include "strutil.h"

/* A name whose route changed, and its old smart hosts (NULL: none). */
struct rc_entry {
	char		*name;
	char		*old;
};

/* The names of one reload, sorted, and when it happened. */
struct rc_batch {
	struct rc_batch	*next;
	time_t		 at;
	struct rc_entry	*names;
	size_t		 n;
};

struct routechange {
	pthread_mutex_t	 lock;
	struct rc_batch	*batches;	/* newest first */
	size_t		 total;		/* names in all batches */
};

/* What one walk needs: the two rule sets and the names found. */
struct rc_walk {
	const struct ruleset *old, *new;
	struct rc_entry	*names;
	size_t		 n, size;
	int		 failed;
};

static int	rc_visit(const char *pattern, const struct rule *rule,
		    void *arg);
static void	rc_entries_free(struct rc_entry *e, size_t n);
static void	rc_batch_free(struct rc_batch *b);
static void	rc_prune(struct routechange *rc, time_t now);

/* routechange_new - an empty record */
struct routechange *
routechange_new(void)
{
	struct routechange *rc;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return NULL;
	pthread_mutex_init(&rc->lock, NULL);
	return rc;
}

/* rc_routed - the rule routes (a smart host), deny rules never */
static const struct rule *
rc_routed(const struct ruleset *set, const char *name)
{
	const struct rule *rule;

	rule = ruleset_lookup(set, name, NULL);
	if (rule == NULL || rule->relay == RELAY_DENY ||
	    rule->smarthost == NULL)
		return NULL;
	return rule;
}

/* rc_differs - name is routed otherwise by old and new */
static int
rc_differs(const struct rc_walk *w, const char *name)
{
	const struct rule *a, *b;

	a = rc_routed(w->old, name);
	b = rc_routed(w->new, name);
	if (a == NULL || b == NULL)
		return a != b;
	return !str_same(a->smarthost, b->smarthost) ||
	    !str_same(a->transport, b->transport);
}

/* rc_visit - one rule name of either set, compared in both */
static int
rc_visit(const char *pattern, const struct rule *rule, void *arg)
{
	struct rc_walk	*w = arg;
	const char	*name;
	const struct rule *was;
	char		 probe[DOMAIN_MAX + 3];
	struct rc_entry	*grown, *e;

	(void)rule;
	name = pattern[0] == '#' || pattern[0] == '.' ? pattern + 1 : pattern;
	if (pattern[0] == '.')
		snprintf(probe, sizeof(probe), "a.%s", name);
	else
		snprintf(probe, sizeof(probe), "%s", name);
	if (!rc_differs(w, probe))
		return 0;
	if ((grown = sorttab_grow(w->names, w->n, &w->size,
	    sizeof(*grown))) == NULL) {
		w->failed = 1;
		return 1;
	}
	w->names = grown;
	e = &w->names[w->n];
	was = rc_routed(w->old, probe);
	e->old = NULL;
	if ((e->name = strdup(name)) == NULL || (was != NULL &&
	    (e->old = strdup(was->smarthost)) == NULL)) {
		free(e->name);
		w->failed = 1;
		return 1;
	}
	w->n++;
	return 0;
}

/* rc_fold - a name seen in both walks: the same record twice */
static int
rc_fold(void *kept, void *dup, void *arg)
{
	struct rc_entry	*e = dup;

	(void)kept;
	(void)arg;
	free(e->name);
	free(e->old);
	return 0;
}

static void
rc_entries_free(struct rc_entry *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].old);
	}
	free(e);
}

/* routechange_note - record the names whose route differs */
long
routechange_note(struct routechange *rc, const struct config *old,
    const struct config *new, time_t now)
{
	struct rc_walk	 w;
	struct rc_batch	*b = NULL;
	if (old == NULL || new == NULL || old->rules == NULL ||
	    new->rules == NULL)
		return 0;
	memset(&w, 0, sizeof(w));
	w.old = old->rules;
	w.new = new->rules;
	/* a generation of old: the patterns of the change only */
	if (overlay_walk_changes(old->rules, new->rules, rc_visit,
	    &w) == OVERLAY_UNRELATED) {
		(void)ruleset_walk(new->rules, rc_visit, &w);
		if (!w.failed)
			(void)ruleset_walk(old->rules, rc_visit, &w);
	}
	if (w.failed || (w.n > 0 && (b = calloc(1, sizeof(*b))) == NULL)) {
		rc_entries_free(w.names, w.n);
		return -1;
	}
	if (w.n == 0) {
		free(w.names);
		return 0;
	}
	(void)sorttab_sort(w.names, &w.n, sizeof(*w.names), rc_fold, NULL);
	b->at = now;
	b->names = w.names;
	b->n = w.n;
	pthread_mutex_lock(&rc->lock);
	b->next = rc->batches;
	rc->batches = b;
	rc->total += w.n;
	rc_prune(rc, now);
	pthread_mutex_unlock(&rc->lock);
	return (long)w.n;
}

/* routechange_old_route - the MTA chose an old route of domain: age */
long
routechange_old_route(struct routechange *rc, const char *domain,
    const char *mailer, const char *mtahosts, time_t now)
{
	struct rc_batch		*b;
	const struct rc_entry	*e;
	const char		*s;
	long			 age = -1;

	pthread_mutex_lock(&rc->lock);
	rc_prune(rc, now);
	for (b = rc->batches; b != NULL && age == -1; b = b->next)
		for (s = domain; s != NULL && age == -1;
		    s = (s = strchr(s, '.')) != NULL ? s + 1 : NULL) {
			e = sorttab_find(b->names, b->n, sizeof(*b->names),
			    s);
			if (e != NULL && e->old != NULL &&
			    nexthop_route_covers(e->old, mailer, mtahosts))
				age = (long)(now - b->at);
		}
	pthread_mutex_unlock(&rc->lock);
	return age;
}

/* rc_prune - drop old batches, and the oldest over the cap; lock held */
static void
rc_prune(struct routechange *rc, time_t now)
{
	struct rc_batch	**bp, *b;
	size_t		  kept = 0;

	for (bp = &rc->batches; (b = *bp) != NULL; ) {
		if (now - b->at >= ROUTECHANGE_KEEP ||
		    (kept > 0 && kept + b->n > ROUTECHANGE_MAX)) {
			*bp = b->next;
			rc->total -= b->n;
			rc_batch_free(b);
		} else {
			kept += b->n;
			bp = &b->next;
		}
	}
}

static void
rc_batch_free(struct rc_batch *b)
{
	rc_entries_free(b->names, b->n);
	free(b);
}

/* routechange_free - the record and everything in it (NULL is fine) */
void
routechange_free(struct routechange *rc)
{
	struct rc_batch	*b;

	if (rc == NULL)
		return;
	while ((b = rc->batches) != NULL) {
		rc->batches = b->next;
		rc_batch_free(b);
	}
	pthread_mutex_destroy(&rc->lock);
	free(rc);
}
