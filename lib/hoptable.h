/*
 * hoptable - a table of next hops, each given by one rule; interface in
 * hoptable.c.
 */
#ifndef MR_HOPTABLE_H
#define MR_HOPTABLE_H

#include <stddef.h>

#include "nexthop.h"

#define HOPTABLE_KEY_MAX	(NEXTHOP_TEXT_MAX + 2)

struct rule;
struct ruleset;

struct hop_entry {
	char		*key;		/* hoptable_key() */
	char		*host;		/* the hop's host (for Sendmail) */
	int		 family;	/* AF_INET, AF_INET6, 0: a name */
	unsigned	 port;		/* 0: none given, or 25 */
	const struct rule *rule;	/* the first rule that gave it */
	char		*pattern;	/* that rule's pattern */
};

struct hoptable {
	struct hop_entry *v;		/* sorted by key */
	size_t		 n, cap;
};

typedef int hoptable_takes_fn(const struct rule *rule);
typedef int hoptable_same_fn(const struct rule *a, const struct rule *b);
typedef void hoptable_conflict_fn(const struct hop_entry *a,
	    const struct hop_entry *b, char *err, size_t errlen);

int	hoptable_key(struct nexthop *hop, char *key, size_t keylen);
int	hoptable_build(const struct ruleset *set, hoptable_takes_fn *takes,
	    hoptable_same_fn *same, hoptable_conflict_fn *conflict,
	    struct hoptable *t, char *err, size_t errlen);
const struct hop_entry *hoptable_find(const struct hoptable *t,
	    const char *key);
void	hoptable_free(struct hoptable *t);

#endif
