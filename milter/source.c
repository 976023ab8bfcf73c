/*
 * source - a configuration with the rules of its rules_source
 *
 * SYNOPSIS
 *	#include "source.h"
 *
 *	struct config *source_load(const char *path, int flags,
 *	    int *from_cache, char *err, size_t errlen);
 *	const char *source_conninfo(const struct config *config);
 *	int source_add_cache(struct config *config, char *err,
 *	    size_t errlen);
 *
 * DESCRIPTION
 *	source_load() is config_load() plus the rules of the database that
 *	rules_source names (pgsource_load()): the file's rules and the
 *	table's rows make one rule set, and a pattern given in both is a
 *	duplicate.  The file's rules and the rows go into one builder
 *	(config_begin(), config_finish()), whose finish derives the TLS
 *	policy table and the credentials once over the whole set: the
 *	rows' tls settings are in the "tls" map, and one smart host given
 *	two policies (by a row and a row, or a row and the file) refuses
 *	the set.  Either everything loads or nothing does.  When the rules
 *	come from rules_cache instead, the file is read again only if rows
 *	were added before the database failed.
 *
 *	With SOURCE_CACHE (the daemon) the rows read are also written to
 *	rules_cache, in domains_file format, through lib/safefile.h: a
 *	temporary file, synced and renamed over rules_cache once every row
 *	was good, so the cache is always one complete good snapshot.  When the
 *	database cannot be reached, the rules come from rules_cache
 *	instead (loaded as a domains_file), *from_cache is set to 1 and
 *	err says why the database was not used, for a warning.  A cache
 *	that cannot be written is logged and does not fail the load.
 *	Without SOURCE_CACHE (query, export, -t) the database must answer.
 *	With SOURCE_CACHE_ONLY the database is not asked: the rules come
 *	from rules_cache (a restarted worker whose database load failed:
 *	the last set that loaded).
 *
 *	It returns the configuration, or NULL with err: the file is bad, a
 *	row is refused (err names its pattern), or the database cannot be
 *	reached and there is no cache to fall back on.  Messages show the
 *	connection string only through pgsource_mask(), without password.
 *
 *	source_add_cache() adds the rules of rules_cache to a configuration
 *	loaded from the file alone (config_load()) and builds its TLS
 *	policy table: 0, or -1 with err (no rules_cache; a line refused:
 *	the rows before it stay added).
 *
 *	source_conninfo() is the connection string of rules_source (after
 *	"postgresql:"), or NULL when the configuration has none.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ruleset.h"
#include "safefile.h"
#include "strutil.h"

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
static struct safefile *
cache_open(const char *cache, FILE **fp)
{
	struct safefile	*sf;
	char		 err[ERRMSG_MAX];

	if ((sf = safefile_open(cache, fp, err, sizeof(err))) == NULL) {
		log_warning("rules_cache: %s", err);
		return NULL;
	}
	fprintf(*fp, "# milter-relay rules_cache: the rows of the last good "
	    "load of rules_source\n");
	return sf;
}

/* cache_commit - rename the snapshot in place when good; or drop it */
static void
cache_commit(struct safefile *sf, int good)
{
	char	 err[ERRMSG_MAX];

	if (!good)
		safefile_abort(sf);
	else if (safefile_commit(sf, err, sizeof(err)) == -1)
		log_warning("rules_cache: %s", err);
}

/*
 * The rows of rules_source added to the builder: 0; 1 when the rules are
 * to come from rules_cache instead (err says why); -1 with err.
 */
static int
source_rows(struct config_builder *b, int flags, char *err, size_t errlen)
{
	const struct config *c = config_builder_config(b);
	struct safefile	*sf;
	char		 msg[768], where[256];
	FILE		*snap;
	int		 rc;

	sf = NULL;
	snap = NULL;
	pgsource_mask(source_conninfo(c), where, sizeof(where));
	if (flags & SOURCE_CACHE_ONLY) {
		if (c->rules_cache == NULL ||
		    access(c->rules_cache, F_OK) == -1) {
			snprintf(err, errlen, "rules_source %s: no "
			    "rules_cache snapshot", where);
			return -1;
		}
		snprintf(err, errlen, "rules_source %s: not asked; rules "
		    "from rules_cache %s", where, c->rules_cache);
		return 1;
	}
	if ((flags & SOURCE_CACHE) && c->rules_cache != NULL)
		sf = cache_open(c->rules_cache, &snap);
	rc = pgsource_load(config_builder_rules(b), source_conninfo(c), snap,
	    msg, sizeof(msg));
	if (sf != NULL)
		cache_commit(sf, rc == PGSOURCE_OK);
	if (rc == PGSOURCE_OK)
		return 0;
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

int
source_add_cache(struct config *c, char *err, size_t errlen)
{
	char	 msg[ERRMSG_MAX];

	if (c->rules_cache == NULL) {
		snprintf(err, errlen, "no rules_cache");
		return -1;
	}
	if (config_load_domains_file(c->rules, c->rules_cache, err,
	    errlen) == -1)
		return -1;
	if (config_tls_build(c, msg, sizeof(msg)) == 0)
		return 0;
	snprintf(err, errlen, "rules_cache %s: %s", c->rules_cache, msg);
	return -1;
}

struct config *
source_load(const char *path, int flags, int *from_cache, char *err,
    size_t errlen)
{
	struct config_builder *b;
	struct config	*c;
	char		 why[2048], msg[ERRMSG_MAX], cache[PATH_MAX];
	size_t		 before;
	int		 rc;

	if (from_cache != NULL)
		*from_cache = 0;
	if ((b = config_begin(path, err, errlen)) == NULL)
		return NULL;
	if (config_builder_config(b)->rules_source == NULL) {
		if ((c = config_finish(b, msg, sizeof(msg))) == NULL)
			snprintf(err, errlen, "%s: %s", path, msg);
		return c;
	}
	before = ruleset_count(config_builder_rules(b));
	rc = source_rows(b, flags, why, sizeof(why));
	if (rc == 0) {
		if ((c = config_finish(b, msg, sizeof(msg))) == NULL)
			snprintf(err, errlen, "rules_source: %s", msg);
		return c;
	}
	if (rc == -1) {
		snprintf(err, errlen, "%s", why);
		config_abort(b);
		return NULL;
	}
	/* the file's rules again, without the rows read before the failure */
	if (ruleset_count(config_builder_rules(b)) != before) {
		config_abort(b);
		if ((b = config_begin(path, err, errlen)) == NULL)
			return NULL;
	}
	/* kept: the builder is gone after config_finish() */
	snprintf(cache, sizeof(cache), "%s",
	    config_builder_config(b)->rules_cache);
	if (config_builder_file(b, cache, err, errlen) == -1) {
		config_abort(b);
		return NULL;
	}
	if ((c = config_finish(b, msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "rules_cache %s: %s", cache, msg);
		return NULL;
	}
	if (from_cache != NULL)
		*from_cache = 1;
	snprintf(err, errlen, "%s", why);
	return c;
}
