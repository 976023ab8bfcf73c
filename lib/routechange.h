/*
 * routechange - names whose smart host changed at a recent reload
 *
 * Interface comment in routechange.c.
 */
#ifndef MR_ROUTECHANGE_H
#define MR_ROUTECHANGE_H

#include <stddef.h>
#include <time.h>

#include "config.h"

/*
 * Postfix's queue manager resolves an address again after 30 s at most
 * (resolve_clnt_query()'s one entry): so long may mail for a name go by
 * its old smart host after a reload; 5 s more for a session in progress.
 * smtpd keeps resolved addresses while the process runs (smtpd_resolve.c,
 * no time limit): so long may {rcpt_host} name the old route.  An old
 * route is recognised for ROUTECHANGE_KEEP seconds.
 */
#define ROUTECHANGE_WINDOW	35
#define ROUTECHANGE_KEEP	3600
#define ROUTECHANGE_MAX		1000000	/* names kept, at most */

struct routechange;

struct routechange *routechange_new(void);
long	routechange_note(struct routechange *rc, const struct config *old,
	    const struct config *new, time_t now);
long	routechange_old_route(struct routechange *rc, const char *domain,
	    const char *mailer, const char *mtahosts, time_t now);
void	routechange_free(struct routechange *rc);

#endif
