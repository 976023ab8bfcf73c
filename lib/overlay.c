/*
 * overlay - a rule set's next generation: the previous one plus a change
 *
 * SYNOPSIS
 *	#include "overlay.h"
 *
 *	struct ruleset *overlay_next(struct ruleset *cur);
 *	int overlay_remove(struct ruleset *set, const char *pattern);
 *	const struct rule *overlay_rule(const struct ruleset *set,
 *	    const char *pattern);
 *	size_t overlay_delta(const struct ruleset *set);
 *	int overlay_walk_changes(const struct ruleset *old,
 *	    const struct ruleset *new, ruleset_walk_fn *fn, void *arg);
 *
 * DESCRIPTION
 *	A generation is a rule set made of an immutable base, shared with
 *	the generations before and after it (reference counted), and a
 *	small delta of its own: rules added or replaced, and tombstones for
 *	the base's rules removed.  A lookup walks the base and the delta
 *	side by side, and the most specific rule of the two wins, the
 *	delta's at the same pattern; a walk merges both in the order of a
 *	plain set's.  So a change of k rules costs the delta, not the set;
 *	the caller builds a plain set again (compaction) when the delta
 *	has grown.
 *
 *	overlay_next() returns a writable set answering as cur does: an
 *	empty delta over cur when cur is a plain set (held, not copied), a
 *	copy of cur's delta over cur's base when cur is a generation.  cur
 *	is not changed: readers keep it.  NULL when out of memory.  On the
 *	set it returns, ruleset_add() adds a rule with a plain set's checks
 *	and messages (a pattern the whole holds is a duplicate; a
 *	recipients_file or auth_file is refused: a delta is copied to the
 *	next generation, a file it loads is not); overlay_remove() removes the
 *	rule of a pattern: 1, 0 when there is none, -1 out of memory.  Once
 *	published it is changed no more.
 *
 *	overlay_rule() is the rule of a pattern in a set of either kind, or
 *	NULL.  overlay_delta() is the number of patterns the delta holds
 *	(additions, replacements, removals), 0 for a plain set.
 *
 *	overlay_walk_changes() calls fn for every pattern whose rule may
 *	differ between old and new when new is a later generation of old
 *	(the same base): the patterns of both deltas, a removed one with
 *	&rule_tombstone (a rule of no use but its address), so that
 *	comparing two generations costs the change.  It returns fn's
 *	non-zero return, 0, or OVERLAY_UNRELATED (nothing walked) when the
 *	sets share no base: the caller then compares them whole.
 *
 *	The other functions are ruleset.c's, for a set that is a
 *	generation: ruleset_add(), ruleset_lookup(), ruleset_has_pattern(),
 *	ruleset_count(), ruleset_any(), ruleset_walk(),
 *	ruleset_walk_below(), ruleset_set_dir()
 *	and ruleset_free() call them through the table of functions that
 *	overlay_next() hands to ruleset_set_overlay(), so that ruleset.c
 *	knows nothing of this module.
 *
 * DIAGNOSTICS
 *	ruleset_add()'s messages; "out of memory".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "overlay.h"
#include "ruleset.h"

#define LEVELS_MAX	(DOMAIN_MAX / 2 + 1)

struct overlay {
	struct ruleset	*base;		/* shared, held */
	struct ruleset	*delta;		/* this generation's own */
	size_t		 count;		/* rules of the whole */
};

static int	overlay_add(struct overlay *o, const char *pattern,
		    const struct rule_spec *spec, char *err, size_t errlen);
static const struct rule *overlay_lookup(const struct overlay *o,
		    const char *domain, size_t *name_len);
static int	overlay_has_pattern(const struct overlay *o,
		    const char *pattern);
static size_t	overlay_count(const struct overlay *o);
static int	overlay_any(const struct overlay *o,
		    int (*fn)(const struct rule *rule));
static int	overlay_walk(const struct overlay *o, const char *below,
		    ruleset_walk_fn *fn, void *arg);
static int	overlay_set_dir(struct overlay *o, const char *dir);
static void	overlay_free(struct overlay *o);

/* What ruleset.c calls for a set that is a generation. */
static const struct ruleset_generation overlay_generation = {
	.add = overlay_add,
	.lookup = overlay_lookup,
	.has_pattern = overlay_has_pattern,
	.count = overlay_count,
	.any = overlay_any,
	.walk = overlay_walk,
	.set_dir = overlay_set_dir,
	.free = overlay_free,
};

/* split_pattern - the kind and name of a normalized pattern */
static const char *
split_pattern(const char *pattern, enum rule_kind *kind)
{
	if (pattern[0] == '#') {
		*kind = RULE_EXACT;
		return pattern + 1;
	}
	if (pattern[0] == '.') {
		*kind = RULE_SUBDOMAINS;
		return pattern + 1;
	}
	*kind = RULE_NAMESPACE;
	return pattern;
}

/* slot - the rule a plain set holds at (kind, name), tombstones too */
static const struct rule *
slot(const struct ruleset *set, enum rule_kind kind, const char *name)
{
	const struct rule *const *at[LEVELS_MAX];
	size_t		 len, labels, i, n;

	len = strlen(name);
	for (labels = 1, i = 0; i < len; i++)
		labels += name[i] == '.';
	n = ruleset_levels(set, name, len, at, LEVELS_MAX);
	if (n != labels || at[n - 1] == NULL)
		return NULL;
	return at[n - 1][kind];
}

/* present - the rule of the whole at (kind, name), or NULL */
static const struct rule *
present(const struct overlay *o, enum rule_kind kind, const char *name)
{
	const struct rule *r;

	if ((r = slot(o->delta, kind, name)) != NULL)
		return r == &rule_tombstone ? NULL : r;
	return slot(o->base, kind, name);
}

/* overlay_rule - the rule of a pattern, or NULL */
const struct rule *
overlay_rule(const struct ruleset *set, const char *pattern)
{
	const struct overlay *o = ruleset_overlay(set);
	char		 cp[PATTERN_MAX + 1];
	const char	*why, *name;
	enum rule_kind	 kind;

	if (pattern_normalize(pattern, cp, &why) == -1)
		return NULL;
	name = split_pattern(cp, &kind);
	return o != NULL ? present(o, kind, name) : slot(set, kind, name);
}

/* overlay_has_pattern - the whole holds a rule of that pattern */
static int
overlay_has_pattern(const struct overlay *o, const char *pattern)
{
	char		 cp[PATTERN_MAX + 1];
	const char	*why, *name;
	enum rule_kind	 kind;

	if (pattern_normalize(pattern, cp, &why) == -1)
		return 0;
	name = split_pattern(cp, &kind);
	return present(o, kind, name) != NULL;
}

/* overlay_add - a rule added to a generation being built */
static int
overlay_add(struct overlay *o, const char *pattern,
    const struct rule_spec *spec, char *err, size_t errlen)
{
	char		 cp[PATTERN_MAX + 1];
	const char	*why, *name;
	enum rule_kind	 kind;
	int		 tomb;

	if (pattern_normalize(pattern, cp, &why) == -1)
		return ruleset_add(o->delta, pattern, spec, err, errlen);
	name = split_pattern(cp, &kind);
	if (present(o, kind, name) != NULL) {
		snprintf(err, errlen, "duplicate pattern \"%s\"", cp);
		return -1;
	}
	if (spec != NULL && (spec->recipients_file != NULL ||
	    spec->auth_file != NULL)) {
		snprintf(err, errlen, "%s cannot be added to a generation",
		    spec->recipients_file != NULL ? "recipients_file" :
		    "auth_file");
		return -1;
	}
	tomb = slot(o->delta, kind, name) == &rule_tombstone;
	if (tomb && ruleset_put(o->delta, kind, name, NULL) == -1)
		goto nomem;
	if (ruleset_add(o->delta, cp, spec, err, errlen) == -1) {
		if (tomb && ruleset_put(o->delta, kind, name,
		    &rule_tombstone) == -1)
			goto nomem;
		return -1;
	}
	o->count++;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* overlay_remove - the rule of a pattern removed from a generation */
int
overlay_remove(struct ruleset *set, const char *pattern)
{
	struct overlay	*o = ruleset_overlay(set);
	char		 cp[PATTERN_MAX + 1];
	const char	*why, *name;
	const struct rule *d, *b;
	enum rule_kind	 kind;

	if (o == NULL || pattern_normalize(pattern, cp, &why) == -1)
		return 0;
	name = split_pattern(cp, &kind);
	d = slot(o->delta, kind, name);
	b = slot(o->base, kind, name);
	if (d == &rule_tombstone || (d == NULL && b == NULL))
		return 0;
	if (ruleset_put(o->delta, kind, name, b != NULL ? &rule_tombstone :
	    NULL) == -1)
		return -1;
	o->count--;
	return 1;
}

/* pick - the rule of one kind at one level: the delta's, else the base's */
static const struct rule *
pick(const struct rule *const *d, const struct rule *const *b,
    enum rule_kind kind)
{
	if (d != NULL && d[kind] != NULL)
		return d[kind] == &rule_tombstone ? NULL : d[kind];
	return b != NULL ? b[kind] : NULL;
}

/* overlay_lookup - the most specific rule of base and delta together */
static const struct rule *
overlay_lookup(const struct overlay *o, const char *domain,
    size_t *name_len)
{
	const struct rule *const *bp[LEVELS_MAX], *const *dp[LEVELS_MAX];
	const struct rule *const *d, *const *b;
	const struct rule *r;
	size_t		 start[LEVELS_MAX], len, end, n, nb, nd, i;
	int		 full;

	len = strlen(domain);
	if (len == 0 || len > DOMAIN_MAX)
		return NULL;
	for (n = 0, end = len; ; end = start[n++] - 1) {
		for (i = end; i > 0 && domain[i - 1] != '.'; i--)
			;
		if (end == i || end - i > LABEL_MAX || n == LEVELS_MAX)
			return NULL;
		start[n] = i;
		if (i == 0) {
			n++;
			break;
		}
	}
	nb = ruleset_levels(o->base, domain, len, bp, n);
	nd = ruleset_levels(o->delta, domain, len, dp, n);
	for (i = nb > nd ? nb : nd; i-- > 0;) {
		d = i < nd ? dp[i] : NULL;
		b = i < nb ? bp[i] : NULL;
		full = start[i] == 0;
		r = pick(d, b, full ? RULE_EXACT : RULE_NAMESPACE);
		if (r == NULL)
			r = pick(d, b, full ? RULE_NAMESPACE : RULE_SUBDOMAINS);
		if (r != NULL) {
			if (name_len != NULL)
				*name_len = len - start[i];
			return r;
		}
	}
	return NULL;
}

/* overlay_count - the rules of the whole */
static size_t
overlay_count(const struct overlay *o)
{
	return o->count;
}

/* overlay_any - ruleset_any() of the delta, then of the base */
static int
overlay_any(const struct overlay *o, int (*fn)(const struct rule *rule))
{
	return ruleset_any(o->delta, fn) || ruleset_any(o->base, fn);
}

/* overlay_set_dir - recipients_file lists are not for a delta */
static int
overlay_set_dir(struct overlay *o, const char *dir)
{
	return ruleset_set_dir(o->delta, dir);
}

/*
 * walk_order - the order of a plain set's walk: names label by label
 * from the last, a name before the names below it, labels as octets
 * (the shorter first when one begins the other); at one name "#name",
 * "name", ".name"
 */
static int
walk_order(const char *a, const char *b)
{
	enum rule_kind	 ka, kb;
	const char	*na, *nb;
	size_t		 ea, eb, sa, sb, la, lb;
	int		 c;

	na = split_pattern(a, &ka);
	nb = split_pattern(b, &kb);
	ea = strlen(na);
	eb = strlen(nb);
	for (;;) {
		if (ea == 0 || eb == 0)
			break;
		for (sa = ea; sa > 0 && na[sa - 1] != '.'; sa--)
			;
		for (sb = eb; sb > 0 && nb[sb - 1] != '.'; sb--)
			;
		la = ea - sa;
		lb = eb - sb;
		c = memcmp(na + sa, nb + sb, la < lb ? la : lb);
		if (c != 0)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
		ea = sa > 0 ? sa - 1 : 0;
		eb = sb > 0 ? sb - 1 : 0;
		if ((sa == 0) != (sb == 0))
			return sa == 0 ? -1 : 1;
		if (sa == 0)
			break;
	}
	return (int)ka - (int)kb;
}

struct entry {
	char		*pattern;
	const struct rule *rule;
};

struct merge {
	struct entry	*e;
	size_t		 n, cap, next;
	ruleset_walk_fn	*fn;
	void		*arg;
};

/* collect - ruleset_walk() callback: the delta's entries, in order */
static int
collect(const char *pattern, const struct rule *rule, void *arg)
{
	struct merge	*m = arg;
	struct entry	*grown;
	size_t		 ncap;

	if (m->n == m->cap) {
		ncap = m->cap == 0 ? 16 : m->cap * 2;
		if ((grown = reallocarray(m->e, ncap, sizeof(*grown))) == NULL)
			return -1;
		m->e = grown;
		m->cap = ncap;
	}
	if ((m->e[m->n].pattern = strdup(pattern)) == NULL)
		return -1;
	m->e[m->n++].rule = rule;
	return 0;
}

/* merge_base - ruleset_walk() callback: the delta's before the base's */
static int
merge_base(const char *pattern, const struct rule *rule, void *arg)
{
	struct merge	*m = arg;
	struct entry	*e;
	int		 c, rc;

	while (m->next < m->n) {
		e = &m->e[m->next];
		if ((c = walk_order(e->pattern, pattern)) > 0)
			break;
		m->next++;
		if (e->rule != &rule_tombstone &&
		    (rc = m->fn(e->pattern, e->rule, m->arg)) != 0)
			return rc;
		if (c == 0)
			return 0;
	}
	return m->fn(pattern, rule, m->arg);
}

/*
 * overlay_walk - every rule of the whole (below: at that name and below
 * it only), in a plain set's order
 */
static int
overlay_walk(const struct overlay *o, const char *below, ruleset_walk_fn *fn,
    void *arg)
{
	struct merge	 m;
	struct entry	*e;
	size_t		 i;
	int		 rc;

	memset(&m, 0, sizeof(m));
	m.fn = fn;
	m.arg = arg;
	if ((rc = below != NULL ? ruleset_walk_below(o->delta, below,
	    collect, &m) : ruleset_walk(o->delta, collect, &m)) != 0) {
		errno = ENOMEM;
		goto out;
	}
	if ((rc = below != NULL ? ruleset_walk_below(o->base, below,
	    merge_base, &m) : ruleset_walk(o->base, merge_base, &m)) != 0)
		goto out;
	for (; m.next < m.n; m.next++) {
		e = &m.e[m.next];
		if (e->rule != &rule_tombstone &&
		    (rc = fn(e->pattern, e->rule, arg)) != 0)
			goto out;
	}
out:
	for (i = 0; i < m.n; i++)
		free(m.e[i].pattern);
	free(m.e);
	return rc;
}

/* copy_entry - ruleset_walk() callback: an entry into the next delta */
static int
copy_entry(const char *pattern, const struct rule *rule, void *arg)
{
	enum rule_kind	 kind;
	const char	*name;

	name = split_pattern(pattern, &kind);
	return ruleset_put(arg, kind, name, rule);
}

/* overlay_next - a writable generation that answers as cur does */
struct ruleset *
overlay_next(struct ruleset *cur)
{
	const struct overlay *co = ruleset_overlay(cur);
	struct overlay	*o;
	struct ruleset	*set;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	if ((set = ruleset_new()) == NULL ||
	    (o->delta = ruleset_new()) == NULL) {
		free(set);
		free(o);
		return NULL;
	}
	o->base = ruleset_hold(co != NULL ? co->base : cur);
	o->count = ruleset_count(cur);
	ruleset_set_overlay(set, o, &overlay_generation);
	if (co != NULL && ruleset_walk(co->delta, copy_entry,
	    o->delta) != 0) {
		ruleset_free(set);
		return NULL;
	}
	return set;
}

/* overlay_delta - the patterns the delta of a generation holds */
size_t
overlay_delta(const struct ruleset *set)
{
	const struct overlay *o = ruleset_overlay(set);

	return o == NULL ? 0 : ruleset_count(o->delta);
}

/* overlay_walk_changes - the patterns two generations may differ in */
int
overlay_walk_changes(const struct ruleset *old, const struct ruleset *new,
    ruleset_walk_fn *fn, void *arg)
{
	const struct overlay *on = ruleset_overlay(new);
	const struct overlay *oo = ruleset_overlay(old);
	int		 rc;

	if (on == NULL || (oo != NULL ? oo->base : old) != on->base)
		return OVERLAY_UNRELATED;
	if ((rc = ruleset_walk(on->delta, fn, arg)) != 0)
		return rc;
	return oo != NULL ? ruleset_walk(oo->delta, fn, arg) : 0;
}

/* overlay_free - the delta, and one reference to the base */
static void
overlay_free(struct overlay *o)
{
	if (o == NULL)
		return;
	ruleset_free(o->delta);
	ruleset_free(o->base);
	free(o);
}
