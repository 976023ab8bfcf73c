/*
 * NAME
 *	saslmaps - the credentials of the smart hosts as a table Postfix reads
 * SYNOPSIS
 *	#include "saslmaps.h"
 *
 *	int	saslmaps_publish(config)
 * DESCRIPTION
 *	Rules with auth_file give their next hops a username and password
 *	(saslpasswd.h).  They reach Postfix through one table only, never
 *	through the socketmap (socketmap_table(5): not for secrets):
 *
 *		MAPS_DIR/sasl_passwd.lmdb	smtp_sasl_password_maps
 *
 *	an lmdb: table as postmap(1) writes it, mode 0600.  Postfix's smtp(8)
 *	opens smtp_sasl_password_maps as root before it gives up privileges
 *	(smtp_sasl_initialize(), "pre jail"), so a file that only the
 *	service user and root can read serves it.
 *
 *	saslmaps_publish() is called for every configuration the worker
 *	publishes, in every mode (milter, maps-only, static), whenever the
 *	configuration sets maps_dir; the table has no entry when no rule
 *	has credentials, so main.cf can name it always.  When the table in
 *	place differs (or is missing, or has another mode) it is written
 *	aside as sasl_passwd.lmdb.tmp and renamed over it; Postfix's smtp
 *	processes notice the change by themselves.  A rule set that fails
 *	to load never gets here: the table in place stays.  0, or -1 (and a
 *	log line) when the table could not be written.
 * DIAGNOSTICS
 *	Log lines name the directory and the number of next hops, never a
 *	username or password.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvtable.h"
#include "saslpasswd.h"
#include "strutil.h"

#include "log.h"
#include "saslmaps.h"
#include "staticmaps.h"

static int
saslmaps_add(const char *key, const char *value, void *arg)
{
	return kvtable_add(arg, key, value) == -1 ? -1 : 0;
}

/* A table of secrets, wiped before it is freed. */
static void
saslmaps_wipe(struct kvtable *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		explicit_bzero(t->v[i].value, strlen(t->v[i].value));
	kvtable_free(t);
}

/* saslmaps_publish - MAPS_DIR/sasl_passwd.lmdb, when it changed */
int
saslmaps_publish(const struct config *config)
{
	struct kvtable	 old, new;
	struct stat	 st;
	char		 path[PATH_MAX], tmp[PATH_MAX], err[ERRMSG_MAX];
	int		 rc = -1, missing;

	if (config == NULL)
		return 0;
	if (config->maps_dir == NULL) {
		if (config->sasl != NULL)
			log_warning("credentials: rules have auth_file but "
			    "maps_dir is unset: Postfix gets them only from "
			    "\"milter-relay export postfix-sasl-passwd\"");
		return 0;
	}
	if (strlen(config->maps_dir) + sizeof("/" SASLMAPS_TABLE ".tmp") >
	    sizeof(path)) {
		log_error("credentials: maps_dir \"%s\" is too long",
		    config->maps_dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", config->maps_dir,
	    SASLMAPS_TABLE);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", config->maps_dir,
	    SASLMAPS_TABLE);
	kvtable_init(&old);
	kvtable_init(&new);
	if (saslpasswd_walk(config->sasl, SASLPASSWD_POSTFIX, saslmaps_add,
	    &new, err, sizeof(err)) != 0) {
		log_error("credentials: out of memory; keeping \"%s\"", path);
		goto out;
	}
	kvtable_sort(&new);
	if ((missing = staticmaps_read(path, &old, err,
	    sizeof(err))) == -1) {
		log_error("credentials: %s; writing it again", err);
		missing = 1;
	}
	if (!missing && kvtable_equal(&old, &new) && stat(path, &st) == 0 &&
	    (st.st_mode & 07777) == SASLMAPS_MODE) {
		rc = 0;
		goto out;
	}
	if (staticmaps_write(tmp, &new, SASLMAPS_MODE, err, sizeof(err)) == -1 ||
	    chmod(tmp, SASLMAPS_MODE) == -1) {
		log_error("credentials: %s; keeping \"%s\"", err, path);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		log_error("credentials: rename \"%s\": %s", tmp,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	log_info("credentials: wrote %s (%zu next hops) in \"%s\"",
	    SASLMAPS_TABLE, saslpasswd_count(config->sasl), config->maps_dir);
	rc = 0;
out:
	saslmaps_wipe(&old);
	saslmaps_wipe(&new);
	return rc;
}
