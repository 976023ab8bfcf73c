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
 * The tables are the exporter's typed entries (export_table()), never
 * printed and parsed back; a held entry is known by its kind, not by its
 * reply (a deny rule may read like one).  The held names and the access
 * table last written are remembered in memory, and the held names with
 * their times in maps_dir/holds (written before the access table), where
 * a restarted worker finds them.  A table created where there was none
 * holds nothing (Postfix cannot have used the old one).
 *
 * staticmaps_publish() returns STATICMAPS_OK, or, with the tables
 * already in maps_dir left as they were and the error logged (naming
 * the rule) and counted (milter_relay_static_writes_total):
 * STATICMAPS_REFUSED when the exporter cannot express the rule set (a
 * deny exception in a relayed namespace, ...: such a rule set needs
 * maps-only mode, contrib/postfix/main-maps.cf), STATICMAPS_FAILED when
 * a table cannot be written (then staticmaps_retry_due() says when to
 * publish the rules in force again).  The worker calls it before a
 * reload takes effect, and refuses the reload when it fails: the tables
 * are never older than the rules in force.  With STATICMAPS_LIVE (the
 * configuration is in force already: start, retry) a failure holds
 * every name of the tables in place instead, until a publish succeeds.
 * staticmaps_check() is the export alone, for -t: 0, or -1 with the
 * rule named in err.
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
#include "safefile.h"
#include "strutil.h"

#include "log.h"
#include "metrics.h"
#include "staticmaps.h"

#define STATICMAPS_MAP_MIN	(1024 * 1024)	/* LMDB map size, bytes */
#define STATICMAPS_MAP_FACTOR	4	/* map size per byte of a table */
#define STATICMAPS_HOLDS	"holds"	/* the held names, in maps_dir */
#define STATICMAPS_RETRY_MS	5000	/* a failed write tried again */

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
static struct kvtable staticmaps_access;	/* as last written, typed */
static struct kvtable staticmaps_deny;	/* its deny rules' entries */
static atomic_llong staticmaps_due_ms;
static atomic_llong staticmaps_retry_ms;	/* a failed write again, 0 */
static int staticmaps_held_all;	/* every name held: no release */

static int	staticmaps_export(const struct config *config,
		    struct kvtable *new, struct kvtable *deny, char *err,
		    size_t errlen);
static void	staticmaps_result(const char *dir, enum staticmaps_result rc,
		    int flags, const char *err);
static void	staticmaps_hold_all(const char *dir);
static int	staticmaps_hold(const char *dir, const struct kvtable *old,
		    const struct kvtable *new, const struct kvtable *deny,
		    int had_tables, struct routehold *holds,
		    struct kvtable *access);
static int	staticmaps_holds_save(const char *dir,
		    const struct routehold *holds, char *err, size_t errlen);
static void	staticmaps_keep(struct kvtable *to, struct kvtable *from);
static double	staticmaps_now(void);
static void	staticmaps_set_due(void);
static void	staticmaps_path(char *path, const char *dir,
		    enum staticmaps_table table, const char *suffix);

enum staticmaps_result
staticmaps_publish(const struct config *config, int flags)
{
	struct kvtable	 old[TABLE_COUNT], new[TABLE_COUNT], deny;
	struct routehold holds;		/* the new ones: kept on success */
	char		 path[TABLE_COUNT][PATH_MAX], tmp[PATH_MAX];
	char		 err[ERRMSG_MAX], names[128];
	int		 changed[TABLE_COUNT], missing[TABLE_COUNT];
	int		 i;
	size_t		 len;
	enum staticmaps_result rc = STATICMAPS_FAILED;
	double		 start = staticmaps_now();

	if (config == NULL || config->maps_dir == NULL)
		return STATICMAPS_OK;
	routehold_init(&holds);
	kvtable_init(&deny);
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_init(&old[i]);
		kvtable_init(&new[i]);
		staticmaps_path(path[i], config->maps_dir, i, "");
	}
	if (strlen(config->maps_dir) + sizeof("/relay_domains.lmdb.tmp") >
	    PATH_MAX) {
		errmsg_set(err, sizeof(err), "maps_dir \"%s\" is too long",
		    config->maps_dir);
		goto out;
	}
	if (staticmaps_export(config, new, &deny, err, sizeof(err)) == -1) {
		rc = STATICMAPS_REFUSED;
		goto out;
	}
	for (i = 0; i < TABLE_COUNT; i++)
		if ((missing[i] = staticmaps_read(path[i], &old[i], err,
		    sizeof(err))) == -1)
			goto out;
	if (staticmaps_hold(config->maps_dir, old, new, &deny,
	    !missing[TABLE_RELAY] && !missing[TABLE_TRANSPORT], &holds,
	    &new[TABLE_ACCESS]) == -1) {
		errmsg_set(err, sizeof(err), "out of memory");
		goto out;
	}
	names[0] = '\0';
	for (i = 0, len = 0; i < TABLE_COUNT; i++) {
		changed[i] = missing[i] || !kvtable_equal(&old[i], &new[i]);
		if (!changed[i])
			continue;
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		if (staticmaps_write(tmp, &new[i], STATICMAPS_MODE, err,
		    sizeof(err)) == -1)
			goto out;
		len += (size_t)snprintf(names + len, len < sizeof(names) ?
		    sizeof(names) - len : 0, "%s%s", len ? ", " : "",
		    staticmaps_tables[i].name);
	}
	/* the holds before the access table that answers them */
	if (staticmaps_holds_save(config->maps_dir, &holds, err,
	    sizeof(err)) == -1)
		goto out;
	for (i = 0; i < TABLE_COUNT; i++) {
		if (!changed[i])
			continue;
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		if (rename(tmp, path[i]) == -1) {
			errmsg_set(err, sizeof(err), "rename \"%s\": %s", tmp,
			    strerror(errno));
			goto out;
		}
	}
	if (!str_same(staticmaps_dir, config->maps_dir)) {
		free(staticmaps_dir);
		staticmaps_dir = strdup(config->maps_dir);
	}
	staticmaps_keep(&staticmaps_access, &new[TABLE_ACCESS]);
	staticmaps_keep(&staticmaps_deny, &deny);
	routehold_free(&staticmaps_holds);
	staticmaps_holds = holds;
	routehold_init(&holds);
	staticmaps_set_due();
	staticmaps_held_all = 0;
	atomic_store(&staticmaps_retry_ms, 0);
	if (names[0] == '\0')
		log_info("static maps: the tables in \"%s\" are up to date "
		    "(%.2f s)", config->maps_dir, staticmaps_now() - start);
	else
		log_info("static maps: wrote %s in \"%s\" (%.2f s)", names,
		    config->maps_dir, staticmaps_now() - start);
	if (staticmaps_holds.n > 0)
		log_info("static maps: %zu names held (451 4.7.1) until "
		    "Postfix's address resolver has the new tables",
		    staticmaps_holds.n);
	rc = STATICMAPS_OK;
out:
	for (i = 0; rc != STATICMAPS_OK && i < TABLE_COUNT; i++) {
		staticmaps_path(tmp, config->maps_dir, i, ".tmp");
		unlink(tmp);
	}
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_free(&old[i]);
		kvtable_free(&new[i]);
	}
	kvtable_free(&deny);
	routehold_free(&holds);
	staticmaps_result(config->maps_dir, rc, flags, err);
	return rc;
}

int
staticmaps_check(const struct config *config, char *err, size_t errlen)
{
	struct kvtable	 new[TABLE_COUNT], deny;
	int		 i, rc;

	if (config == NULL || config->maps_dir == NULL)
		return 0;
	kvtable_init(&deny);
	for (i = 0; i < TABLE_COUNT; i++)
		kvtable_init(&new[i]);
	rc = staticmaps_export(config, new, &deny, err, errlen);
	for (i = 0; i < TABLE_COUNT; i++)
		kvtable_free(&new[i]);
	kvtable_free(&deny);
	return rc;
}

/* The tables of the rule set, typed and sorted: 0, or -1 (err). */
static int
staticmaps_export(const struct config *config, struct kvtable *new,
    struct kvtable *deny, char *err, size_t errlen)
{
	enum export_format formats[TABLE_COUNT];
	struct kvtable	 out[TABLE_COUNT];
	int		 i;

	for (i = 0; i < TABLE_COUNT; i++) {
		formats[i] = staticmaps_tables[i].format;
		kvtable_init(&out[i]);
	}
	/* one walk of the rules for the four tables */
	if (export_tables(config, formats, TABLE_COUNT, EXPORT_DENY_BY_ACCESS |
	    EXPORT_RECIPIENTS, out, NULL, err, errlen) == -1)
		return -1;
	for (i = 0; i < TABLE_COUNT; i++) {
		kvtable_sort(&out[i]);
		*(i == TABLE_ACCESS ? deny : &new[i]) = out[i];
	}
	return 0;
}

/*
 * Count and log the result of a publish.  A failure keeps the tables in
 * place; for a configuration already in force (STATICMAPS_LIVE) every
 * name of them is held too, and a failed write is tried again.
 */
static void
staticmaps_result(const char *dir, enum staticmaps_result rc, int flags,
    const char *err)
{
	switch (rc) {
	case STATICMAPS_OK:
		metrics_add(MC_STATIC_OK);
		return;
	case STATICMAPS_REFUSED:
		metrics_add(MC_STATIC_REFUSED);
		log_error("static maps: %s; %s (run Postfix on this rule set "
		    "in maps-only mode: contrib/postfix/main-maps.cf)", err,
		    flags & STATICMAPS_LIVE ? "holding every name of the "
		    "previous tables" : "keeping the previous tables and "
		    "rules");
		break;
	case STATICMAPS_FAILED:
		metrics_add(MC_STATIC_FAILED);
		log_error("static maps: %s; %s; trying again in %d s", err,
		    flags & STATICMAPS_LIVE ? "holding every name of the "
		    "previous tables" : "keeping the previous tables and "
		    "rules", STATICMAPS_RETRY_MS / 1000);
		atomic_store(&staticmaps_retry_ms,
		    (long long)(staticmaps_now() * 1000) + STATICMAPS_RETRY_MS);
		break;
	}
	if (flags & STATICMAPS_LIVE)
		staticmaps_hold_all(dir);
}

/*
 * Fail closed: the access table in dir with every key of the relay_domains
 * and transport tables in dir held, until a publish succeeds.
 */
static void
staticmaps_hold_all(const char *dir)
{
	struct kvtable	 t[TABLE_COUNT], out;
	const struct kvpair *e;
	char		 path[PATH_MAX], tmp[PATH_MAX], err[ERRMSG_MAX];
	size_t		 i;
	int		 j, rc;

	kvtable_init(&out);
	for (j = 0; j < TABLE_COUNT; j++)
		kvtable_init(&t[j]);
	for (j = 0; j < TABLE_COUNT; j++) {
		staticmaps_path(path, dir, j, "");
		if (staticmaps_read(path, &t[j], err, sizeof(err)) == -1)
			goto fail;
	}
	/*
	 * The access table in place with its refusals (4xx, 5xx) kept and
	 * every other entry held (a DUNNO or a listed address would answer
	 * before a hold above it), and every other key of relay_domains and
	 * transport held.
	 */
	for (i = 0; i < t[TABLE_ACCESS].n; i++) {
		e = &t[TABLE_ACCESS].v[i];
		if (e->value[0] == '4' || e->value[0] == '5')
			rc = kvtable_add_kind(&out, e->key, e->value,
			    EXPORT_KIND_NONE);
		else
			rc = kvtable_add_kind(&out, e->key, routehold_value(),
			    EXPORT_KIND_HOLD);
		if (rc == -1)
			goto nomem;
	}
	for (j = TABLE_RELAY; j <= TABLE_TRANSPORT; j++)
		for (i = 0; i < t[j].n; i++)
			if (kvtable_get(&t[TABLE_ACCESS], t[j].v[i].key) ==
			    NULL && kvtable_add_kind(&out, t[j].v[i].key,
			    routehold_value(), EXPORT_KIND_HOLD) == -1)
				goto nomem;
	kvtable_sort(&out);
	staticmaps_path(path, dir, TABLE_ACCESS, "");
	staticmaps_path(tmp, dir, TABLE_ACCESS, ".tmp");
	if (staticmaps_write(tmp, &out, STATICMAPS_MODE, err,
	    sizeof(err)) == -1)
		goto fail;
	if (rename(tmp, path) == -1) {
		errmsg_set(err, sizeof(err), "rename \"%s\": %s", tmp,
		    strerror(errno));
		unlink(tmp);
		goto fail;
	}
	staticmaps_held_all = 1;
	log_warning("static maps: every name of the tables in \"%s\" held "
	    "(451 4.7.1) until the rules are written", dir);
	goto out;
nomem:
	errmsg_set(err, sizeof(err), "out of memory");
fail:
	log_error("static maps: holding every name: %s", err);
out:
	for (j = 0; j < TABLE_COUNT; j++)
		kvtable_free(&t[j]);
	kvtable_free(&out);
}

int
staticmaps_retry_due(void)
{
	long long	 due = atomic_load(&staticmaps_retry_ms);

	return due != 0 && due <= (long long)(staticmaps_now() * 1000);
}

/*
 * The holds whose time is up: their entries leave the access table in
 * place, the rest of it stays as the last publish wrote it (so this
 * needs no configuration: a reload that failed since changes nothing).
 */
int
staticmaps_release(void)
{
	struct kvtable	 new;
	char		 path[PATH_MAX], tmp[PATH_MAX], err[ERRMSG_MAX];
	size_t		 before = staticmaps_holds.n;
	int		 rc = -1;

	routehold_expire(&staticmaps_holds, staticmaps_now());
	if (staticmaps_dir == NULL || staticmaps_held_all) {
		staticmaps_set_due();
		return 0;
	}
	kvtable_init(&new);
	staticmaps_path(path, staticmaps_dir, TABLE_ACCESS, "");
	staticmaps_path(tmp, staticmaps_dir, TABLE_ACCESS, ".tmp");
	if (routehold_release(&staticmaps_holds, &staticmaps_access,
	    &staticmaps_deny, &new) == -1) {
		errmsg_set(err, sizeof(err), "out of memory");
		goto out;
	}
	if (!kvtable_equal(&new, &staticmaps_access)) {
		if (staticmaps_holds_save(staticmaps_dir, &staticmaps_holds,
		    err, sizeof(err)) == -1 ||
		    staticmaps_write(tmp, &new, STATICMAPS_MODE, err,
		    sizeof(err)) == -1)
			goto out;
		if (rename(tmp, path) == -1) {
			errmsg_set(err, sizeof(err), "rename \"%s\": %s", tmp,
			    strerror(errno));
			unlink(tmp);
			goto out;
		}
		log_info("static maps: let go of %zu held names in \"%s\"",
		    before - staticmaps_holds.n, staticmaps_dir);
		staticmaps_keep(&staticmaps_access, &new);
	}
	rc = 0;
out:
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
	long long	 due, retry, now;

	due = atomic_load(&staticmaps_due_ms);
	retry = atomic_load(&staticmaps_retry_ms);
	if (due == 0 || (retry != 0 && retry < due))
		due = retry;
	if (due == 0)
		return -1;
	now = (long long)(staticmaps_now() * 1000);
	if (due <= now)
		return 0;
	return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

/*
 * The access table to publish: the deny rules' table with the holds
 * (see above), the holds held now and those of this change in holds (an
 * empty set).  A restarted worker first reads what it held from
 * dir/holds.
 */
static int
staticmaps_hold(const char *dir, const struct kvtable *old,
    const struct kvtable *new, const struct kvtable *deny, int had_tables,
    struct routehold *holds, struct kvtable *access)
{
	struct routehold_tables tables = {
		&old[TABLE_RELAY], &old[TABLE_TRANSPORT],
		&new[TABLE_RELAY], &new[TABLE_TRANSPORT],
	};
	double		 now = staticmaps_now();
	char		 path[PATH_MAX], *text = NULL;
	size_t		 len = 0;
	FILE		*f;
	int		 rc = 0;

	if (!staticmaps_holds_read) {
		snprintf(path, sizeof(path), "%s/%s", dir, STATICMAPS_HOLDS);
		if ((f = fopen(path, "r")) != NULL) {
			if (getdelim(&text, &len, '\0', f) != -1)
				rc = routehold_load(&staticmaps_holds, text,
				    now, time(NULL));
			free(text);
			fclose(f);
		}
		if (rc == -1)
			return -1;
		staticmaps_holds_read = 1;
	}
	routehold_expire(&staticmaps_holds, now);
	if (routehold_copy(holds, &staticmaps_holds) == -1)
		return -1;
	if (had_tables && routehold_changes(holds, &tables,
	    now + ROUTEHOLD_SECONDS) == -1)
		return -1;
	return routehold_access(holds, &tables, deny, access);
}

/* dir/holds: the names held and until when, for a restarted worker. */
static int
staticmaps_holds_save(const char *dir, const struct routehold *holds,
    char *err, size_t errlen)
{
	struct safefile	*sf;
	char		 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", dir, STATICMAPS_HOLDS);
	if ((sf = safefile_open(path, &f, err, errlen)) == NULL)
		return -1;
	if (routehold_save(holds, staticmaps_now(), time(NULL), f) == -1) {
		safefile_abort(sf);
		errmsg_set(err, errlen, "\"%s\": write error", path);
		return -1;
	}
	return safefile_commit(sf, err, errlen);
}

/* Keep from (emptied) in to, freeing what to held. */
static void
staticmaps_keep(struct kvtable *to, struct kvtable *from)
{
	kvtable_free(to);
	*to = *from;
	kvtable_init(from);
}

/*
 * The table in place at path: 0, 1 when there is none (an empty table),
 * -1 on error.
 */
int
staticmaps_read(const char *path, struct kvtable *table, char *err,
    size_t errlen)
{
	MDB_env		*env = NULL;
	MDB_txn		*txn = NULL;
	MDB_cursor	*cur = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	struct stat	 st;
	int		 e, op;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 1;
		errmsg_set(err, errlen, "\"%s\": %s", path, strerror(errno));
		return -1;
	}
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
