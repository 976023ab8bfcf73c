/*
 * saslpasswd - smart host credentials by next hop; interface in
 * saslpasswd.c.
 */
#ifndef MR_SASLPASSWD_H
#define MR_SASLPASSWD_H

#include <stddef.h>
#include <stdio.h>

#include "authfile.h"
#include "hoptable.h"

#define SASLPASSWD_KEY_MAX	(HOPTABLE_KEY_MAX + 16)
#define SASLPASSWD_VALUE_MAX	(2 * AUTHFILE_USER_MAX + AUTHFILE_PASS_MAX + 40)

enum saslpasswd_mta {
	SASLPASSWD_POSTFIX,	/* smtp_sasl_password_maps */
	SASLPASSWD_SENDMAIL	/* AuthInfo: in the access map */
};

struct ruleset;
struct saslpasswd;

typedef int saslpasswd_walk_fn(const char *key, const char *value,
	    void *arg);

int	saslpasswd_build(const struct ruleset *set, struct saslpasswd **out,
	    char *err, size_t errlen);
int	saslpasswd_walk(const struct saslpasswd *sp, enum saslpasswd_mta mta,
	    saslpasswd_walk_fn *fn, void *arg, char *err, size_t errlen);
int	saslpasswd_print(const struct saslpasswd *sp, enum saslpasswd_mta mta,
	    const char *name, FILE *out, char *err, size_t errlen);
const struct hop_entry *saslpasswd_find(const struct saslpasswd *sp,
	    const char *key);
size_t	saslpasswd_count(const struct saslpasswd *sp);
void	saslpasswd_free(struct saslpasswd *sp);

#endif
