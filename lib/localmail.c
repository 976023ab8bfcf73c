/*
 * localmail - the MTA's own delivery agents (policy.local_mailers)
 *
 * SYNOPSIS
 *	#include "localmail.h"
 *
 *	void	localmail_default(struct localmail *lm);
 *	int	localmail_add(struct localmail *lm, const char *name,
 *		    const char **why);
 *	int	localmail_is_local(const struct localmail *lm,
 *		    const char *mailer);
 *
 * DESCRIPTION
 *	Mail the MTA delivers itself is not relaying.  At RCPT the MTA
 *	names the delivery agent it resolved the recipient to, in the
 *	macro {rcpt_mailer}: Postfix "local" (mydestination, its own
 *	address literals), "virtual" (virtual mailbox domains), "lmtp"
 *	(mailboxes behind LMTP, e.g. Dovecot), Sendmail "local" (class w).
 *	A recipient that no rule covers and whose mailer is one of these
 *	is left to the MTA (decide.c).
 *
 *	localmail_default() sets the default list: local, virtual, lmtp.
 *
 *	localmail_add() appends one name.  A name is 1 to
 *	LOCALMAIL_NAME_MAX octets of letters, digits, '-', '_' and '.'
 *	(Postfix master.cf service names, Sendmail mailer names).  The
 *	MTA's relaying agents (smtp, relay, esmtp, smtp8, dsmtp, uucp-dom)
 *	are refused: listing one would let any client relay to every
 *	name no rule covers.
 *
 *	localmail_is_local() is 1 when mailer is non-NULL and one of the
 *	names (compared exactly, as both MTAs do), else 0.
 *
 * DIAGNOSTICS
 *	localmail_add() returns 0, or -1 with a static reason in *why
 *	(bad name, relaying agent, list full, duplicate).
 */
#include <string.h>

#include "localmail.h"

static const char *const localmail_relaying[] = {
	"smtp", "relay", "esmtp", "smtp8", "dsmtp", "uucp-dom", NULL
};

/* localmail_default - local, virtual, lmtp */
void
localmail_default(struct localmail *lm)
{
	const char	*why;

	memset(lm, 0, sizeof(*lm));
	(void)localmail_add(lm, "local", &why);
	(void)localmail_add(lm, "virtual", &why);
	(void)localmail_add(lm, "lmtp", &why);
}

/* localmail_add - append one validated name */
int
localmail_add(struct localmail *lm, const char *name, const char **why)
{
	size_t	i, len;

	len = strlen(name);
	if (len == 0 || len > LOCALMAIL_NAME_MAX) {
		*why = "a mailer name has 1 to 63 characters";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", name[i]) == NULL) {
			*why = "a mailer name has only letters, digits, "
			    "'-', '_' and '.'";
			return -1;
		}
	}
	for (i = 0; localmail_relaying[i] != NULL; i++) {
		if (strcmp(name, localmail_relaying[i]) == 0) {
			*why = "a relaying mailer cannot be local (every "
			    "client could relay through it)";
			return -1;
		}
	}
	if (localmail_is_local(lm, name)) {
		*why = "listed twice";
		return -1;
	}
	if (lm->n >= LOCALMAIL_MAX) {
		*why = "at most 16 local mailers";
		return -1;
	}
	memcpy(lm->name[lm->n], name, len + 1);
	lm->n++;
	return 0;
}

/* localmail_is_local - mailer is one of the MTA's own delivery agents */
int
localmail_is_local(const struct localmail *lm, const char *mailer)
{
	int	i;

	if (lm == NULL || mailer == NULL)
		return 0;
	for (i = 0; i < lm->n; i++)
		if (strcmp(lm->name[i], mailer) == 0)
			return 1;
	return 0;
}
