/*
 * routehold - hold the mail of names whose route just changed in the
 * static tables (interface in routehold.c)
 */
#ifndef MR_ROUTEHOLD_H
#define MR_ROUTEHOLD_H

#include <stddef.h>

#include "kvtable.h"

#define ROUTEHOLD_SECONDS 30	/* how long a changed name is held */

struct routehold_entry {
	char		*key;
	double		 until;
};

struct routehold {
	struct routehold_entry *v;	/* sorted by key */
	size_t		 n, cap;
};

/* The relay_domains and transport tables Postfix has, and the new ones. */
struct routehold_tables {
	const struct kvtable *old_relay, *old_transport;
	const struct kvtable *new_relay, *new_transport;
};

void	routehold_init(struct routehold *h);
int	routehold_add(struct routehold *h, const char *key, double until);
void	routehold_expire(struct routehold *h, double now);
int	routehold_changes(struct routehold *h,
	    const struct routehold_tables *tables, double until);
int	routehold_access(const struct routehold *h,
	    const struct routehold_tables *tables, const struct kvtable *access,
	    struct kvtable *out);
int	routehold_has(const struct routehold *h, const char *key);
int	routehold_is_held(const char *value);
double	routehold_next(const struct routehold *h);
void	routehold_free(struct routehold *h);

#endif
