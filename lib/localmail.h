/*
 * localmail - the MTA's own delivery agents (policy.local_mailers)
 *
 * Interface in localmail.c.
 */
#ifndef MR_LOCALMAIL_H
#define MR_LOCALMAIL_H

#define LOCALMAIL_MAX		16	/* names in policy.local_mailers */
#define LOCALMAIL_NAME_MAX	63	/* octets of one name */

struct localmail {
	int	n;
	char	name[LOCALMAIL_MAX][LOCALMAIL_NAME_MAX + 1];
};

void	localmail_default(struct localmail *lm);
int	localmail_add(struct localmail *lm, const char *name,
	    const char **why);
int	localmail_is_local(const struct localmail *lm, const char *mailer);

#endif
