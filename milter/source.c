/*
 * source - a configuration with the rules of its rules_source
 *
 * SYNOPSIS
 *	#include "source.h"
 *
 *	struct config *source_load(const char *path, int flags,
 *	    int *from_cache, char *err, size_t errlen);
 *	const char *source_conninfo(const struct config *config);
 *
 * DESCRIPTION
 *	source_load() is config_load() plus the rules of the database that
 *	rules_source names (pgsource_load()): the file's rules and the
 *	table's rows make one rule set, and a pattern given in both is a
 *	duplicate.  Either everything loads or nothing does.
 *
 *	With SOURCE_CACHE (the daemon) the rows read are also written to
 *	rules_cache, in domains_file format: into "rules_cache.tmp.PID",
 *	which is synced and renamed over rules_cache once the whole set is
 *	good, so the cache is always one complete good snapshot.  When the
 *	database cannot be reached, the rules come from rules_cache
 *	instead (loaded as a domains_file), *from_cache is set to 1 and
 *	err says why the database was not used, for a warning.  A cache
 *	that cannot be written is logged and does not fail the load.
 *	Without SOURCE_CACHE (query, export, -t) the database must answer.
 *
 *	It returns the configuration, or NULL with err: the file is bad, a
 *	row is refused (err names its pattern), or the database cannot be
 *	reached and there is no cache to fall back on.  Messages show the
 *	connection string only through pgsource_mask(), without password.
 *
 *	source_conninfo() is the connection string of rules_source (after
 *	"postgresql:"), or NULL when the configuration has none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ruleset.h"

#include "log.h"
#include "pgsource.h"
#include "source.h"

const char *
source_conninfo(const struct config *config)
{
	if (config->rules_source == NULL)
		return NULL;
	return config->rules_source + strlen(CONFIG_SOURCE_PGSQL);
}

/* cache_open - the temporary file of a new snapshot, or NULL */
static FILE *
cache_open(const char *cache, char *tmp, size_t tmplen)
{
	FILE	*fp;
	int	 fd;

	snprintf(tmp, tmplen, "%s.tmp.%ld", cache, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		log_warning("rules_cache %s: cannot write: %s", tmp,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	fprintf(fp, "# milter-relay rules_cache: the rows of the last good "
	    "load of rules_source\n");
	return fp;
}

/* cache_commit - sync and rename the snapshot in place; or drop it */
static void
cache_commit(FILE *fp, const char *tmp, const char *cache, int good)
{
	int	 ok;

	ok = fflush(fp) == 0 && !ferror(fp) && fsync(fileno(fp)) == 0;
	if (fclose(fp) != 0)
		ok = 0;
	if (good && ok && rename(tmp, cache) == 0)
		return;
	if (good)
		log_warning("rules_cache %s: cannot write: %s", cache,
		    strerror(errno));
	(void)unlink(tmp);
}

static int
source_rows(struct config *c, int flags, char *err,
    size_t errlen)
{
	char	 msg[768], where[256], tmp[4096];
	FILE	*snap;
	int	 rc;

	snap = NULL;
	if ((flags & SOURCE_CACHE) && c->rules_cache != NULL)
		snap = cache_open(c->rules_cache, tmp, sizeof(tmp));
	rc = pgsource_load(c->rules, source_conninfo(c), snap, msg,
	    sizeof(msg));
	if (snap != NULL)
		cache_commit(snap, tmp, c->rules_cache, rc == PGSOURCE_OK);
	if (rc == PGSOURCE_OK)
		return 0;
	pgsource_mask(source_conninfo(c), where, sizeof(where));
	if (rc == PGSOURCE_BAD) {
		snprintf(err, errlen, "rules_source %s: %s", where, msg);
		return -1;
	}
	if (!(flags & SOURCE_CACHE) || c->rules_cache == NULL ||
	    access(c->rules_cache, F_OK) == -1) {
		snprintf(err, errlen, "rules_source %s: %s%s", where, msg,
		    (flags & SOURCE_CACHE) ? "; and no rules_cache snapshot "
		    "to start from" : "");
		return -1;
	}
	snprintf(err, errlen, "rules_source %s: %s; rules from rules_cache "
	    "%s", where, msg, c->rules_cache);
	return 1;
}

struct config *
source_load(const char *path, int flags, int *from_cache, char *err,
    size_t errlen)
{
	struct config	*c;
	char		 why[2048];
	int		 rc;

	if (from_cache != NULL)
		*from_cache = 0;
	if ((c = config_load(path, err, errlen)) == NULL)
		return NULL;
	if (c->rules_source == NULL)
		return c;
	rc = source_rows(c, flags, why, sizeof(why));
	if (rc == 0)
		return c;
	if (rc == -1) {
		snprintf(err, errlen, "%s", why);
		config_free(c);
		return NULL;
	}
	/* the file's rules again, without the rows read before the failure */
	config_free(c);
	if ((c = config_load(path, err, errlen)) == NULL)
		return NULL;
	if (config_load_domains_file(c->rules, c->rules_cache, err,
	    errlen) == -1) {
		config_free(c);
		return NULL;
	}
	if (from_cache != NULL)
		*from_cache = 1;
	snprintf(err, errlen, "%s", why);
	return c;
}
