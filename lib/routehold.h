/*
 * routehold - hold the mail of names whose route just changed in the
 * static tables (interface in routehold.c)
 */
#ifndef MR_ROUTEHOLD_H
#define MR_ROUTEHOLD_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

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
int	routehold_copy(struct routehold *to, const struct routehold *from);
void	routehold_expire(struct routehold *h, double now);
int	routehold_changes(struct routehold *h,
	    const struct routehold_tables *tables, double until);
int	routehold_access(const struct routehold *h,
	    const struct routehold_tables *tables, const struct kvtable *access,
	    struct kvtable *out);
int	routehold_release(const struct routehold *h,
	    const struct kvtable *access, const struct kvtable *deny,
	    struct kvtable *out);
int	routehold_save(const struct routehold *h, double now, time_t wall,
	    FILE *out);
int	routehold_load(struct routehold *h, const char *text, double now,
	    time_t wall);
int	routehold_has(const struct routehold *h, const char *key);
const char *routehold_value(void);
double	routehold_next(const struct routehold *h);
void	routehold_free(struct routehold *h);

#endif
