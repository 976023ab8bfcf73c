/*
 * tlspolicy - TLS policy per next hop; see tlspolicy.c for the interface.
 */
#ifndef MR_TLSPOLICY_H
#define MR_TLSPOLICY_H

#include <stddef.h>

#include "hoptable.h"
#include "nexthop.h"
#include "rulevalue.h"

#define TLSPOLICY_KEY_MAX	HOPTABLE_KEY_MAX
#define TLSPOLICY_VALUE_MAX	(16 + TLS_MATCH_MAX)

struct ruleset;
struct tlspolicy;

typedef int tlspolicy_walk_fn(const char *key, const char *value, void *arg);

int	tlspolicy_build(const struct ruleset *set, struct tlspolicy **out,
	    char *err, size_t errlen);
int	tlspolicy_postfix(const struct tlspolicy *tp, const char *key,
	    size_t len, char *value, size_t valuelen);
int	tlspolicy_sendmail(const struct tlspolicy *tp, const char *host,
	    size_t len, char *value, size_t valuelen);
int	tlspolicy_walk(const struct tlspolicy *tp, tlspolicy_walk_fn *fn,
	    void *arg);
void	tlspolicy_free(struct tlspolicy *tp);

#endif
