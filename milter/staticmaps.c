/*
 * staticmaps - static mode: the rule set as LMDB tables Postfix reads
 *
 * staticmaps_publish() is called once for every configuration the worker
 * has just published (start, reload, rules_source notification), never
 * per recipient, by one thread at a time.  When the configuration sets
 * maps_dir, it keeps in that directory the tables of export.h, as
 * Postfix's lmdb: tables (one unnamed database a file, opened
 * MDB_NOSUBDIR; every key and every value ends with a NUL byte, as
 * postmap(1) writes them):
 *
 *	access.lmdb		postfix-access (check_recipient_access,
 *				first for every client: the replies of
 *				deny rules, and the names held, below)
 *	relay_domains.lmdb	postfix-relay-domains (relay_domains)
 *	transport.lmdb		postfix-transport (transport_maps)
 *	tls_policy.lmdb		postfix-tls-policy (smtp_tls_policy_maps)
 *
 * Every table is exported and compared with the file in place; only
 * when all exports succeed is each table that differs (or is missing)
 * written aside as NAME.lmdb.tmp, synced, and renamed over NAME.lmdb,
 * access.lmdb first.  Postfix never sees a half-written table, and its
 * daemons notice the change by themselves (the file they hold open is
 * unlinked: they re-open it), without postfix reload.
 *
 * smtpd(8) re-opens the access table at its next session, but
 * relay_domains and transport are trivial-rewrite(8)'s, which takes up
 * to about 16 s to notice, and its clients cache an answer for 30 s.
 * So every name whose relay permission or route changed is held
 * (routehold.h): the access table answers 451 4.7.1 for it, to every
 * client, for ROUTEHOLD_SECONDS.  staticmaps_wait_ms() says how long
 * until a hold is up (-1: none held); staticmaps_release() then takes
 * the held entries whose time is up out of the access table in place.
 * Mail for a changed name is never relayed or routed by the old tables.
 * The held names are remembered in memory; a restarted worker finds
 * them in access.lmdb, held as long as its time stamp says.  A table
 * created where there was none holds nothing (Postfix cannot have used
 * the old one).
 *
 * When the exporter cannot express the rule set (a deny exception in a
 * relayed namespace, ...), or a write fails, the error is logged naming
 * the rule, the tables already in maps_dir stay as they were, and -1 is
 * returned (the configuration is still published: the milter and the
 * socketmap apply it); 0 otherwise.  Such a rule set needs maps-only
 * mode (contrib/postfix/main-maps.cf).
 *
 * staticmaps_read() and staticmaps_write() read and write one such table
 * file (saslmaps.c writes its secret one with them, mode 0600).
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "config.h"
#include "export.h"
#include "kvtable.h"
#include "routehold.h"
#include "strutil.h"

#include "log.h"
#include "staticmaps.h"

#define STATICMAPS_MAP_MIN	(1024 * 1024)	/* LMDB map size, bytes */
#define STATICMAPS_MAP_FACTOR	4	/* map size per byte of a table */

enum staticmaps_table {
	TABLE_ACCESS,		/* renamed first: the holds before the rest */
	TABLE_RELAY,
	TABLE_TRANSPORT,
	TABLE_TLS,
	TABLE_COUNT
};

static const struct {
	const char		*name;	/* NAME.lmdb */
	enum export_format	 format;
} staticmaps_tables[TABLE_COUNT] = {
	[TABLE_ACCESS] = { "access", EXPORT_POSTFIX_ACCESS },
	[TABLE_RELAY] = { "relay_domains", EXPORT_POSTFIX_RELAY_DOMAINS },
	[TABLE_TRANSPORT] = { "transport", EXPORT_POSTFIX_TRANSPORT },
	[TABLE_TLS] = { "tls_policy", EXPORT_POSTFIX_TLS_POLICY },
};

/*
 * The held names, the directory of the last tables written, and the next
 * time a name's hold is up (monotonic ms, 0: none).
 */
static struct routehold staticmaps_holds;
static int staticmaps_holds_read;
static char *staticmaps_dir;
static atomic_llong staticmaps_due_ms;

static int	staticmaps_export(const struct config *config,
		    enum export_format format, struct kvtable *table,
		    char *err, size_t errlen);
static int	staticmaps_hold(const struct kvtable *old_access,
		    const struct timespec *mtime, const struct kvtable *old,
		    const struct kvtable *new, const struct kvtable *deny,
		    int had_tables, struct kvtable *access);
static double	staticmaps_now(void);
static void	staticmaps_set_due(void);
static void	staticmaps_path(char *path, const char *dir,
		    enum staticmaps_table table, const char *suffix);

int
staticmaps_publish(const struct config *config)
{
	struct kvtable	 old[TABLE_COUNT], new[TABLE_COUNT], deny;
	struct timespec	 mtime[TABLE_COUNT];
	char		 path[TABLE_COUNT][PATH_MAX], tmp[PATH_MAX];
	char		 err[ERRMSG_MAX], names[128];
	int		 changed[TABLE_COUNT], missing[TABLE_COUNT];
	int		 i, rc = -1;
	size_t		 len;

	if (config == NULL || config->maps_dir == NULL)
		return 0;
	if (strlen(config->maps_dir) + sizeof("/relay_domains.lmdb.tmp") >
	    PATH_MAX) {
		log_error("static maps: maps_dir \"%s\" is too long",
		    config->maps_dir);
		return -1;
	}
	kvtable_init(&deny);
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_init(&old[i]);
		kvtable_init(&new[i]);
		staticmaps_path(path[i], config->maps_dir, i, "");
	}
	for (i = 0; i < TABLE_COUNT; i++)
		if (staticmaps_export(config, staticmaps_tables[i].format,
		    i == TABLE_ACCESS ? &deny : &new[i], err,
		    sizeof(err)) == -1) {
			log_error("static maps: %s; keeping the previous "
			    "tables in \"%s\" (run Postfix on this rule set "
			    "in maps-only mode: contrib/postfix/main-maps.cf)",
			    err, config->maps_dir);
			goto out;
		}
	for (i = 0; i < TABLE_COUNT; i++) {
		missing[i] = staticmaps_read(path[i], &old[i], &mtime[i], err,
		    sizeof(err));
		if (missing[i] == -1) {
			log_error("static maps: %s; keeping the previous "
			    "tables in \"%s\"", err, config->maps_dir);
			goto out;
		}
	}
	if (staticmaps_hold(&old[TABLE_ACCESS], &mtime[TABLE_ACCESS], old,
	    new, &deny, !missing[TABLE_RELAY] && !missing[TABLE_TRANSPORT],
	    &new[TABLE_ACCESS]) == -1) {
		log_error("static maps: out of memory; keeping the previous "
		    "tables in \"%s\"", config->maps_dir);
		goto out;
	}
	names[0] = '\0';
	for (i = 0, len = 0; i < TABLE_COUNT; i++) {
		changed[i] = missing[i] || !kvtable_equal(&old[i], &new[i]);
		if (!changed[i])
			continue;
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		if (staticmaps_write(tmp, &new[i], STATICMAPS_MODE, err,
		    sizeof(err)) == -1) {
			log_error("static maps: %s; keeping the previous "
			    "tables in \"%s\"", err, config->maps_dir);
			goto out;
		}
		len += (size_t)snprintf(names + len, len < sizeof(names) ?
		    sizeof(names) - len : 0, "%s%s", len ? ", " : "",
		    staticmaps_tables[i].name);
	}
	for (i = 0; i < TABLE_COUNT; i++) {
		if (!changed[i])
			continue;
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		if (rename(tmp, path[i]) == -1) {
			log_error("static maps: rename \"%s\": %s", tmp,
			    strerror(errno));
			goto out;
		}
	}
	if (!str_same(staticmaps_dir, config->maps_dir)) {
		free(staticmaps_dir);
		staticmaps_dir = strdup(config->maps_dir);
	}
	if (names[0] == '\0')
		log_info("static maps: the tables in \"%s\" are up to date",
		    config->maps_dir);
	else
		log_info("static maps: wrote %s in \"%s\"", names,
		    config->maps_dir);
	if (staticmaps_holds.n > 0)
		log_info("static maps: %zu names held (451 4.7.1) until "
		    "Postfix's address resolver has the new tables",
		    staticmaps_holds.n);
	rc = 0;
out:
	for (i = 0; rc == -1 && i < TABLE_COUNT; i++) {
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		unlink(tmp);
	}
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_free(&old[i]);
		kvtable_free(&new[i]);
	}
	kvtable_free(&deny);
	return rc;
}

/*
 * The holds whose time is up: their entries leave the access table in
 * place, the rest of it stays as the last publish wrote it (so this
 * needs no configuration: a reload that failed since changes nothing).
 */
int
staticmaps_release(void)
{
	struct kvtable	 old, new;
	struct timespec	 mtime;
	char		 path[PATH_MAX], tmp[PATH_MAX], err[ERRMSG_MAX];
	size_t		 i;
	int		 rc = -1;

	routehold_expire(&staticmaps_holds, staticmaps_now());
	if (staticmaps_dir == NULL) {
		staticmaps_set_due();
		return 0;
	}
	kvtable_init(&old);
	kvtable_init(&new);
	staticmaps_path(path, staticmaps_dir, TABLE_ACCESS, "");
	staticmaps_path(tmp, staticmaps_dir, TABLE_ACCESS, ".tmp");
	if (staticmaps_read(path, &old, &mtime, err, sizeof(err)) == -1)
		goto out;
	for (i = 0; i < old.n; i++)
		if ((!routehold_is_held(old.v[i].value) ||
		    routehold_has(&staticmaps_holds, old.v[i].key)) &&
		    kvtable_add(&new, old.v[i].key, old.v[i].value) == -1) {
			errmsg_set(err, sizeof(err), "out of memory");
			goto out;
		}
	if (new.n < old.n) {
		if (staticmaps_write(tmp, &new, STATICMAPS_MODE, err,
		    sizeof(err)) == -1)
			goto out;
		if (rename(tmp, path) == -1) {
			errmsg_set(err, sizeof(err), "rename \"%s\": %s", tmp,
			    strerror(errno));
			unlink(tmp);
			goto out;
		}
		log_info("static maps: let go of %zu held names in \"%s\"",
		    old.n - new.n, staticmaps_dir);
	}
	rc = 0;
out:
	kvtable_free(&old);
	kvtable_free(&new);
	staticmaps_set_due();
	if (rc == -1) {
		log_error("static maps: letting go of held names: %s; "
		    "trying again in a second", err);
		atomic_store(&staticmaps_due_ms,
		    (long long)(staticmaps_now() * 1000) + 1000);
	}
	return rc;
}

int
staticmaps_wait_ms(void)
{
	long long	 due, now;

	if ((due = atomic_load(&staticmaps_due_ms)) == 0)
		return -1;
	now = (long long)(staticmaps_now() * 1000);
	if (due <= now)
		return 0;
	return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

/*
 * The access table to publish: the deny rules' table with the holds
 * (see above).  old_access and mtime: the access table in place, where a
 * restarted worker finds what it held.
 */
static int
staticmaps_hold(const struct kvtable *old_access, const struct timespec *mtime,
    const struct kvtable *old, const struct kvtable *new,
    const struct kvtable *deny, int had_tables, struct kvtable *access)
{
	struct routehold_tables tables = {
		&old[TABLE_RELAY], &old[TABLE_TRANSPORT],
		&new[TABLE_RELAY], &new[TABLE_TRANSPORT],
	};
	double		 now = staticmaps_now(), left;
	size_t		 i;

	if (!staticmaps_holds_read) {
		left = (double)mtime->tv_sec + mtime->tv_nsec / 1e9 +
		    ROUTEHOLD_SECONDS - (double)time(NULL);
		for (i = 0; i < old_access->n && left > 0; i++)
			if (routehold_is_held(old_access->v[i].value) &&
			    routehold_add(&staticmaps_holds,
			    old_access->v[i].key, now + left) == -1)
				return -1;
		staticmaps_holds_read = 1;
	}
	routehold_expire(&staticmaps_holds, now);
	if (had_tables && routehold_changes(&staticmaps_holds, &tables,
	    now + ROUTEHOLD_SECONDS) == -1)
		return -1;
	if (routehold_access(&staticmaps_holds, &tables, deny, access) == -1)
		return -1;
	staticmaps_set_due();
	return 0;
}

/* One table as export_write() prints it, parsed. */
static int
staticmaps_export(const struct config *config, enum export_format format,
    struct kvtable *table, char *err, size_t errlen)
{
	FILE	*f;
	char	*text = NULL;
	size_t	 len = 0;
	int	 rc;

	if ((f = open_memstream(&text, &len)) == NULL) {
		errmsg_set(err, errlen, "open_memstream: %s", strerror(errno));
		return -1;
	}
	rc = export_write_flags(config, format, EXPORT_DENY_BY_ACCESS, f, NULL,
	    err, errlen);
	if (fclose(f) == EOF && rc == 0) {
		errmsg_set(err, errlen, "%s: out of memory",
		    export_format_name(format));
		rc = -1;
	}
	if (rc == 0 && kvtable_parse(table, text) == -1) {
		errmsg_set(err, errlen, "%s: out of memory",
		    export_format_name(format));
		rc = -1;
	}
	free(text);
	return rc;
}

/*
 * The table in place at path, and its time stamp: 0, 1 when there is
 * none (an empty table), -1 on error.
 */
int
staticmaps_read(const char *path, struct kvtable *table,
    struct timespec *mtime, char *err, size_t errlen)
{
	MDB_env		*env = NULL;
	MDB_txn		*txn = NULL;
	MDB_cursor	*cur = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	struct stat	 st;
	int		 e, op;

	memset(mtime, 0, sizeof(*mtime));
	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 1;
		errmsg_set(err, errlen, "\"%s\": %s", path, strerror(errno));
		return -1;
	}
	*mtime = st.st_mtim;
	if ((e = mdb_env_create(&env)) != 0 ||
	    (e = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_RDONLY, 0644)) != 0 ||
	    (e = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (e = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 ||
	    (e = mdb_cursor_open(txn, dbi, &cur)) != 0)
		goto done;
	for (op = MDB_FIRST; (e = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		/* written by staticmaps_write(): both end with their NUL */
		if (k.mv_size == 0 || v.mv_size == 0 ||
		    ((char *)k.mv_data)[k.mv_size - 1] != '\0' ||
		    ((char *)v.mv_data)[v.mv_size - 1] != '\0') {
			e = MDB_CORRUPTED;
			goto done;
		}
		if (kvtable_add(table, k.mv_data, v.mv_data) == -1) {
			e = ENOMEM;
			goto done;
		}
	}
	if (e == MDB_NOTFOUND)
		e = 0;
done:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	if (e != 0) {
		errmsg_set(err, errlen, "\"%s\": %s", path, mdb_strerror(e));
		return -1;
	}
	kvtable_sort(table);
	return 0;
}

/* The table as a new LMDB file at path, of that mode. */
int
staticmaps_write(const char *path, const struct kvtable *table, int mode,
    char *err, size_t errlen)
{
	MDB_env		*env = NULL;
	MDB_txn		*txn = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	size_t		 mapsize, i;
	int		 e;

	if (unlink(path) == -1 && errno != ENOENT) {
		errmsg_set(err, errlen, "unlink \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	for (mapsize = STATICMAPS_MAP_MIN, i = 0; i < table->n; i++)
		mapsize += STATICMAPS_MAP_FACTOR * (strlen(table->v[i].key) +
		    strlen(table->v[i].value) + 2);
	if ((e = mdb_env_create(&env)) != 0 ||
	    (e = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (e = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_NOSYNC, (mdb_mode_t)mode)) != 0 ||
	    (e = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (e = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto fail;
	for (i = 0; i < table->n; i++) {
		k.mv_data = table->v[i].key;
		k.mv_size = strlen(table->v[i].key) + 1;	/* with the NUL */
		v.mv_data = table->v[i].value;
		v.mv_size = strlen(table->v[i].value) + 1;
		/* sorted: appended, no page splits in the middle */
		if ((e = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
			goto fail;
	}
	e = mdb_txn_commit(txn);
	txn = NULL;
	if (e != 0 || (e = mdb_env_sync(env, 1)) != 0)
		goto fail;
	mdb_env_close(env);
	return 0;
fail:
	errmsg_set(err, errlen, "\"%s\": %s", path, mdb_strerror(e));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return -1;
}

/* DIR/NAME.lmdb and a suffix, in PATH_MAX bytes (cut: open fails). */
static void
staticmaps_path(char *path, const char *dir, enum staticmaps_table table,
    const char *suffix)
{
	snprintf(path, PATH_MAX, "%s/%s.lmdb%s", dir,
	    staticmaps_tables[table].name, suffix);
}

/* The next time a hold is up, a little late rather than early. */
static void
staticmaps_set_due(void)
{
	double	 next = routehold_next(&staticmaps_holds);

	atomic_store(&staticmaps_due_ms, next == 0 ? 0 :
	    (long long)(next * 1000) + 1);
}

/* Seconds on the monotonic clock. */
static double
staticmaps_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
