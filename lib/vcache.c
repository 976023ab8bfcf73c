/*
 * vcache - the cache of recipient verification results (LMDB)
 *
 * SYNOPSIS
 *	struct vcache *vcache_open(path, max_entries, err, errlen)
 *	int vcache_get(cache, key, now, positive_expire, negative_expire,
 *	    status)
 *	int vcache_put(cache, key, status, now, positive_expire,
 *	    negative_expire)
 *	size_t vcache_count(cache)
 *	void vcache_close(cache)
 *
 * DESCRIPTION
 *	Results of callouts, keyed by the recipient address asked (the
 *	caller's key: verify.c keeps the local part's case),
 *	in one LMDB file (path, with LMDB's lock file path-lock next to
 *	it), so that they survive reloads, worker restarts and daemon
 *	restarts, and any number of threads may read them at once.  A value
 *	is the status (RECIPIENT_VALID or RECIPIENT_INVALID; unknown
 *	results are not kept) and the time it was learned; whether it is
 *	still good is judged at read time with the lifetimes then in force.
 *
 *	vcache_open() opens or creates the file; the map is sized for
 *	max_entries keys of the largest size.  NULL with a reason in err.
 *	Stale reader slots of dead processes are cleared.  Open it in the
 *	process that uses it (not across fork()).
 *
 *	vcache_get(): 1 and *status when key has a result still good at
 *	now, 0 when not (absent or expired), -1 on an LMDB error.
 *	vcache_put(): stores a result; when the cache holds max_entries
 *	keys, expired ones are dropped first, then those older than the
 *	average age, so it never grows past its bound.  0, or -1 on an LMDB
 *	error (the caller carries on without the cache).
 *	vcache_count() is the number of keys; vcache_close() closes
 *	(NULL is fine); call it when no other thread uses the cache.
 *
 *	Each thread keeps one read transaction, reset between lookups and
 *	aborted when the thread ends, so that a lookup takes neither a lock
 *	nor an allocation (LMDB with MDB_NOTLS: the reader slot belongs to
 *	the transaction).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "strutil.h"
#include "vcache.h"

#define KEY_MAX		511	/* LMDB's default key limit */
#define ENTRY_BYTES	1024	/* room per key in the map, generous */

struct vcache {
	MDB_env		*env;
	MDB_dbi		 dbi;
	size_t		 max;
	pthread_key_t	 reader;	/* a thread's read transaction */
	int		 has_key;
};

struct value {
	int64_t		when;
	uint8_t		status;
};

static void
seterr(char *err, size_t errlen, const char *path, const char *what, int rc)
{
	errmsg_set(err, errlen, "%s: %s: %s", path, what,
	    mdb_strerror(rc));
}

/* reader_end - a thread ends: its read transaction goes */
static void
reader_end(void *txn)
{
	mdb_txn_abort(txn);
}

/* reader_begin - this thread's read transaction, renewed; NULL: error */
static MDB_txn *
reader_begin(struct vcache *c)
{
	MDB_txn	*txn;

	if ((txn = pthread_getspecific(c->reader)) != NULL) {
		if (mdb_txn_renew(txn) == 0)
			return txn;
		mdb_txn_abort(txn);
		pthread_setspecific(c->reader, NULL);
	}
	if (mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn) != 0)
		return NULL;
	if (pthread_setspecific(c->reader, txn) != 0) {
		mdb_txn_abort(txn);
		return NULL;
	}
	return txn;
}

struct vcache *
vcache_open(const char *path, size_t max_entries, char *err, size_t errlen)
{
	struct vcache	*c;
	MDB_txn		*txn;
	size_t		 mapsize;
	int		 rc, dead;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	c->max = max_entries;
	mapsize = max_entries * ENTRY_BYTES + (1 << 20);
	if ((rc = mdb_env_create(&c->env)) != 0) {
		seterr(err, errlen, path, "mdb_env_create", rc);
		free(c);
		return NULL;
	}
	if ((rc = mdb_env_set_mapsize(c->env, mapsize)) != 0 ||
	    (rc = mdb_env_set_maxreaders(c->env, 4096)) != 0 ||
	    (rc = mdb_env_open(c->env, path, MDB_NOSUBDIR | MDB_NOTLS |
	    MDB_NOSYNC, 0600)) != 0) {
		seterr(err, errlen, path, "cannot open", rc);
		goto fail;
	}
	(void)mdb_reader_check(c->env, &dead);
	if ((rc = pthread_key_create(&c->reader, reader_end)) != 0) {
		errmsg_set(err, errlen, "%s: pthread_key_create: %s",
		    path, strerror(rc));
		goto fail;
	}
	c->has_key = 1;
	if ((rc = mdb_txn_begin(c->env, NULL, 0, &txn)) != 0) {
		seterr(err, errlen, path, "mdb_txn_begin", rc);
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &c->dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		seterr(err, errlen, path, "mdb_dbi_open", rc);
		goto fail;
	}
	return c;
fail:
	if (c->has_key)
		pthread_key_delete(c->reader);
	mdb_env_close(c->env);
	free(c);
	return NULL;
}

/* value_good - 1 while a stored result is still good at now */
static int
value_good(const struct value *v, time_t now, long positive_expire,
    long negative_expire)
{
	long	life;

	life = v->status == RECIPIENT_VALID ? positive_expire :
	    negative_expire;
	return v->when <= (int64_t)now && (int64_t)now - v->when < life;
}

/* key_val - key as an LMDB key: 0, or -1 when empty or too long */
static int
key_val(const char *key, MDB_val *k)
{
	k->mv_size = strlen(key);
	k->mv_data = (void *)key;
	return k->mv_size == 0 || k->mv_size > KEY_MAX ? -1 : 0;
}

int
vcache_get(struct vcache *c, const char *key, time_t now,
    long positive_expire, long negative_expire,
    enum recipient_status *status)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	struct value	 val;
	int		 rc, found;

	if (key_val(key, &k) == -1)
		return 0;
	if ((txn = reader_begin(c)) == NULL)
		return -1;
	rc = mdb_get(txn, c->dbi, &k, &v);
	found = 0;
	if (rc == 0 && v.mv_size == sizeof(val)) {
		memcpy(&val, v.mv_data, sizeof(val));
		if ((val.status == RECIPIENT_VALID ||
		    val.status == RECIPIENT_INVALID) &&
		    value_good(&val, now, positive_expire, negative_expire)) {
			*status = (enum recipient_status)val.status;
			found = 1;
		}
	}
	mdb_txn_reset(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return -1;
	return found;
}

/* cache_trim - make room: drop expired keys, then the older half */
static int
cache_trim(struct vcache *c, MDB_txn *txn, time_t now, long positive_expire,
    long negative_expire)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	MDB_stat	 st;
	struct value	 val;
	long double	 sum;
	int64_t		 average;
	size_t		 n;
	int		 rc, pass;

	average = 0;
	for (pass = 0; pass < 2; pass++) {
		if ((rc = mdb_cursor_open(txn, c->dbi, &cur)) != 0)
			return rc;
		sum = 0;
		n = 0;
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
			if (v.mv_size != sizeof(val)) {
				mdb_cursor_del(cur, 0);
				continue;
			}
			memcpy(&val, v.mv_data, sizeof(val));
			if ((pass == 0 && !value_good(&val, now,
			    positive_expire, negative_expire)) ||
			    (pass == 1 && val.when <= average)) {
				if ((rc = mdb_cursor_del(cur, 0)) != 0)
					break;
				continue;
			}
			sum += val.when;
			n++;
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
		if ((rc = mdb_stat(txn, c->dbi, &st)) != 0)
			return rc;
		if (st.ms_entries < c->max)
			return 0;
		average = n > 0 ? (int64_t)(sum / n) : INT64_MAX;
	}
	return 0;
}

int
vcache_put(struct vcache *c, const char *key, enum recipient_status status,
    time_t now, long positive_expire, long negative_expire)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	MDB_stat	 st;
	struct value	 val;
	int		 rc;

	if (status != RECIPIENT_VALID && status != RECIPIENT_INVALID)
		return 0;
	if (key_val(key, &k) == -1)
		return 0;
	memset(&val, 0, sizeof(val));
	val.when = (int64_t)now;
	val.status = (uint8_t)status;
	v.mv_size = sizeof(val);
	v.mv_data = &val;
	if (mdb_txn_begin(c->env, NULL, 0, &txn) != 0)
		return -1;
	rc = mdb_stat(txn, c->dbi, &st);
	if (rc == 0 && st.ms_entries >= c->max)
		rc = cache_trim(c, txn, now, positive_expire, negative_expire);
	if (rc == 0)
		rc = mdb_put(txn, c->dbi, &k, &v, 0);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return mdb_txn_commit(txn) == 0 ? 0 : -1;
}

size_t
vcache_count(struct vcache *c)
{
	MDB_txn		*txn;
	MDB_stat	 st;
	size_t		 n;

	if (mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	n = mdb_stat(txn, c->dbi, &st) == 0 ? st.ms_entries : 0;
	mdb_txn_abort(txn);
	return n;
}

void
vcache_close(struct vcache *c)
{
	MDB_txn	*txn;

	if (c == NULL)
		return;
	if ((txn = pthread_getspecific(c->reader)) != NULL)
		mdb_txn_abort(txn);
	pthread_key_delete(c->reader);
	mdb_env_close(c->env);
	free(c);
}
