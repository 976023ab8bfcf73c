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

#endif
