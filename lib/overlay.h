/*
 * overlay - a rule set's next generation: the previous one plus a change
 *
 * Interface in overlay.c.
 */
#ifndef MR_OVERLAY_H
#define MR_OVERLAY_H

#include <stddef.h>

#include "ruleset.h"

struct overlay;

struct ruleset *overlay_next(struct ruleset *cur);
int	overlay_remove(struct ruleset *set, const char *pattern);
const struct rule *overlay_rule(const struct ruleset *set,
	    const char *pattern);
size_t	overlay_delta(const struct ruleset *set);
#define OVERLAY_UNRELATED	(-2)	/* overlay_walk_changes(): no base shared */
int	overlay_walk_changes(const struct ruleset *old,
	    const struct ruleset *new, ruleset_walk_fn *fn, void *arg);

/* what ruleset.c calls for a set that is a generation */
int	overlay_add(struct overlay *o, const char *pattern,
	    const struct rule_spec *spec, char *err, size_t errlen);
const struct rule *overlay_lookup(const struct overlay *o,
	    const char *domain, size_t *name_len);
int	overlay_has_pattern(const struct overlay *o, const char *pattern);
size_t	overlay_count(const struct overlay *o);
int	overlay_any(const struct overlay *o,
	    int (*fn)(const struct rule *rule));
int	overlay_walk(const struct overlay *o, ruleset_walk_fn *fn, void *arg);
int	overlay_set_dir(struct overlay *o, const char *dir);
void	overlay_free(struct overlay *o);

#endif
