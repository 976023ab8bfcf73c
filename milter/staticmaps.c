/*
 * staticmaps - static mode: the rule set as LMDB tables Postfix reads
 *
 * staticmaps_publish() is called once for every configuration that is
 * about to be published (start, reload, rules_source notification),
 * never per recipient.  When the configuration sets maps_dir, it writes
 * into that directory the tables of export.h, as Postfix's lmdb: tables
 * (one unnamed database a file, opened MDB_NOSUBDIR; every key and
 * every value ends with a NUL byte, as postmap(1) writes them):
 *
 *	relay_domains.lmdb	postfix-relay-domains (relay_domains)
 *	transport.lmdb		postfix-transport (transport_maps)
 *	access.lmdb		postfix-access (check_recipient_access:
 *				the replies of deny rules)
 *	tls_policy.lmdb		postfix-tls-policy (smtp_tls_policy_maps)
 *
 * Every table is exported first; only when all four exports succeed is
 * each written aside as NAME.lmdb.tmp, synced, and renamed over
 * NAME.lmdb.  Postfix never sees a half-written table, and its daemons
 * notice the change by themselves (the file they hold open is unlinked:
 * they finish the current session and restart), without postfix reload.
 *
 * When the exporter cannot express the rule set (a deny exception in a
 * relayed namespace, ...), or a write fails, the error is logged naming
 * the rule, the tables already in maps_dir stay as they were, and 0 or
 * -1 is returned (-1 on failure; the configuration is still published:
 * the milter and the socketmap apply it).  Such a rule set needs
 * maps-only mode (contrib/postfix/main-maps.cf).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "config.h"
#include "export.h"
#include "strutil.h"

#include "log.h"
#include "staticmaps.h"

#define STATICMAPS_NTABLES	4
#define STATICMAPS_MAP_MIN	(1024 * 1024)	/* LMDB map size, bytes */
#define STATICMAPS_MAP_FACTOR	4	/* map size per byte of text */

static const struct staticmaps_table {
	const char		*name;	/* NAME.lmdb */
	enum export_format	 format;
} staticmaps_tables[STATICMAPS_NTABLES] = {
	{ "relay_domains", EXPORT_POSTFIX_RELAY_DOMAINS },
	{ "transport", EXPORT_POSTFIX_TRANSPORT },
	{ "access", EXPORT_POSTFIX_ACCESS },
	{ "tls_policy", EXPORT_POSTFIX_TLS_POLICY },
};

static int	staticmaps_export(const struct config *config,
		    enum export_format format, char **text, size_t *len,
		    char *err, size_t errlen);
static int	staticmaps_write(const char *path, char *text, size_t len,
		    char *err, size_t errlen);

int
staticmaps_publish(const struct config *config)
{
	char		*text[STATICMAPS_NTABLES] = { NULL };
	size_t		 len[STATICMAPS_NTABLES];
	char		 tmp[STATICMAPS_NTABLES][PATH_MAX];
	char		 path[PATH_MAX], err[ERRMSG_MAX];
	size_t		 i, written = 0;
	int		 rc = -1;

	if (config == NULL || config->maps_dir == NULL)
		return 0;
	for (i = 0; i < STATICMAPS_NTABLES; i++)
		if (staticmaps_export(config, staticmaps_tables[i].format,
		    &text[i], &len[i], err, sizeof(err)) == -1) {
			log_error("static maps: %s; keeping the previous "
			    "tables in \"%s\" (run Postfix on this rule set "
			    "in maps-only mode: contrib/postfix/main-maps.cf)",
			    err, config->maps_dir);
			goto out;
		}
	for (written = 0; written < STATICMAPS_NTABLES; written++) {
		snprintf(tmp[written], sizeof(tmp[written]), "%s/%s.lmdb.tmp",
		    config->maps_dir, staticmaps_tables[written].name);
		if (staticmaps_write(tmp[written], text[written],
		    len[written], err, sizeof(err)) == -1) {
			log_error("static maps: %s; keeping the previous "
			    "tables in \"%s\"", err, config->maps_dir);
			unlink(tmp[written]);
			goto out;
		}
	}
	for (i = 0; i < STATICMAPS_NTABLES; i++) {
		snprintf(path, sizeof(path), "%s/%s.lmdb", config->maps_dir,
		    staticmaps_tables[i].name);
		if (rename(tmp[i], path) == -1) {
			log_error("static maps: rename \"%s\": %s", tmp[i],
			    strerror(errno));
			goto out;
		}
	}
	written = 0;
	log_info("static maps: wrote %d tables in \"%s\"", STATICMAPS_NTABLES,
	    config->maps_dir);
	rc = 0;
out:
	for (i = 0; i < written; i++)
		unlink(tmp[i]);
	for (i = 0; i < STATICMAPS_NTABLES; i++)
		free(text[i]);
	return rc;
}

/* One table as export_write() prints it, in memory. */
static int
staticmaps_export(const struct config *config, enum export_format format,
    char **text, size_t *len, char *err, size_t errlen)
{
	FILE	*f;
	int	 rc;

	*text = NULL;
	*len = 0;
	if ((f = open_memstream(text, len)) == NULL) {
		snprintf(err, errlen, "open_memstream: %s", strerror(errno));
		return -1;
	}
	rc = export_write_flags(config, format, EXPORT_DENY_BY_ACCESS, f, NULL,
	    err, errlen);
	if (fclose(f) == EOF && rc == 0) {
		snprintf(err, errlen, "%s: out of memory",
		    export_format_name(format));
		rc = -1;
	}
	return rc;
}

/*
 * Write the "key<TAB>value" lines of text (comment lines skipped) as a
 * new LMDB file at path; text is split in place.
 */
static int
staticmaps_write(const char *path, char *text, size_t len, char *err,
    size_t errlen)
{
	MDB_env		*env = NULL;
	MDB_txn		*txn = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	char		*line, *next, *tab;
	size_t		 mapsize;
	int		 e;

	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "unlink \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	mapsize = STATICMAPS_MAP_MIN + STATICMAPS_MAP_FACTOR * len;
	if ((e = mdb_env_create(&env)) != 0 ||
	    (e = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (e = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_NOSYNC, 0644)) != 0 ||
	    (e = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (e = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto fail;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || (tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		k.mv_data = line;
		k.mv_size = strlen(line) + 1;	/* with the NUL */
		v.mv_data = tab + 1;
		v.mv_size = strlen(tab + 1) + 1;
		if ((e = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			goto fail;
	}
	e = mdb_txn_commit(txn);
	txn = NULL;
	if (e != 0 || (e = mdb_env_sync(env, 1)) != 0)
		goto fail;
	mdb_env_close(env);
	return 0;
fail:
	snprintf(err, errlen, "\"%s\": %s", path, mdb_strerror(e));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return -1;
}
