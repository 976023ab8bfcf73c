/*
 * ruleoracle - who a rule table lets relay, stated apart from lib/
 */
#ifndef MR_RULEORACLE_H
#define MR_RULEORACLE_H

#include <stddef.h>

int	ruleoracle_nearest(const char *const *patterns, size_t n,
	    const char *key, size_t len);
int	ruleoracle_routed(const char *addr, size_t len);

#endif
