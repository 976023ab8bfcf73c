/*
 * verify - recipient callouts of recipients = "verify" rules
 *
 * SYNOPSIS
 *	void verify_recipient(config, client, rcpt, d)
 *	const char *verify_status_name(status)
 *	const char *verify_reason(status)
 *	void verify_counters(counts)
 *	void verify_log_counters(void)
 *
 * DESCRIPTION
 *	verify_recipient() settles a decision that decide() left with
 *	d->verify set, through decide_recipient():
 *
 *	1. the cache (vcache, an LMDB file opened at first use in the
 *	   worker, so it outlives reloads and worker restarts): a result
 *	   still good answers at once ("cached");
 *	2. else a callout (callout_probe()) to the rule's next hops in a
 *	   thread of its own; RCPTs for one address that arrive while it
 *	   runs wait for that one callout; a RCPT waits at most the
 *	   callout's time limit (verify.timeout) and a little more, then
 *	   is unknown, so no milter thread is held longer whatever the next
 *	   hop does;
 *	3. at most verify.max_probes callouts run at once, and at most
 *	   verify.max_probes_per_client started for one client address
 *	   (unix-socket clients, without address, count as one; client
 *	   NULL, the socketmap's rcpt map, which does not know the SMTP
 *	   client, has max_probes alone): a RCPT
 *	   that would need one more is unknown (tempfail by default), so a
 *	   storm of distinct addresses cannot take threads or sockets, and
 *	   one client's storm leaves the other clients' RCPTs their
 *	   callouts.  Waiting for a callout already running (the same
 *	   address) is not one more.
 *
 *	The cache is keyed by the address asked, local part as the client
 *	gave it and domain normalized (address_parse()), and the callout
 *	asks that same local part: a next hop whose local parts differ in
 *	case answers each spelling for itself.
 *
 *	The decision's reason is then the callout's result, its log phrase
 *	verify_reason(): "verified recipient", "recipient refused by the
 *	next hop", "recipient unverified" (with " (cached)" for an answer
 *	from the cache), or why no callout was made: VERIFY_CANNOT for an
 *	address no callout can ask, "too many callouts at once", "cannot
 *	start a callout", "too many callouts for this client", "callout
 *	time limit reached".
 *	verify_status_name() is "valid", "invalid" or "unknown" (the log
 *	line of a callout, "milter-relay query --verify").
 *
 *	Valid and invalid results go into the cache (unknown ones do not);
 *	a callout that ends after its waiters gave up still fills it.  One
 *	log line per callout: recipient, hop, result, the next hop's reply,
 *	milliseconds.  Without a usable cache file (logged once) every
 *	recipient takes a callout.
 *
 *	The counters are the metrics module's (MC_VERIFY_*, shared with
 *	the supervisor, served as milter_relay_verify_*): valid, invalid,
 *	unknown results given to RCPTs; cache hits and misses; callouts
 *	started; RCPTs refused for too many callouts.  verify_counters()
 *	copies them; verify_log_counters() logs them (SIGUSR1).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "callout.h"
#include "config.h"
#include "decide.h"
#include "strutil.h"
#include "vcache.h"

#include "log.h"
#include "metrics.h"
#include "verify.h"

#define KEY_MAX		(LOCAL_MAX + 1 + DOMAIN_MAX)
#define PATH_MAX_RCPT	(LOCAL_MAX * 2 + DOMAIN_MAX + 8)
#define HELO_MAX	256
#define WAIT_MARGIN_MS	250

/* One callout in flight, shared by the RCPTs that wait for it. */
struct flight {
	struct flight		*next;
	char			 key[KEY_MAX + 1];
	int			 refs;		/* thread + waiters */
	int			 done;
	struct callout_answer	 answer;
	struct callout_hop	 hops[CALLOUT_HOPS_MAX];
	size_t			 nhops;
	char			 helo[HELO_MAX];
	char			 rcpt[PATH_MAX_RCPT];
	long			 timeout_ms;
	long			 positive_expire;
	long			 negative_expire;
	struct timespec		 deadline;	/* of the waiters */
	struct netaddr		 client;	/* who started it */
	int			 bucket;	/* BUCKET_* */
};

/* Whose callouts a flight counts among (verify.max_probes_per_client). */
#define BUCKET_NONE	0	/* the socketmap: the client is not known */
#define BUCKET_UNIX	1	/* a milter client without address */
#define BUCKET_ADDR	2	/* a milter client's address */

static pthread_mutex_t	 verify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 verify_cond;
static pthread_once_t	 verify_once = PTHREAD_ONCE_INIT;
static struct flight	*flights;
static long		 probes_running;
static struct vcache	*cache;
static char		*cache_path;	/* set once, with cache_ready */
static atomic_int	 cache_ready;
static atomic_int	 cache_warned;


static void
verify_init(void)
{
	pthread_condattr_t	attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&verify_cond, &attr);
	pthread_condattr_destroy(&attr);
}

/* count_result - one more RCPT with this result */
static void
count_result(enum recipient_status status)
{
	metrics_add(status == RECIPIENT_VALID ? MC_VERIFY_VALID :
	    status == RECIPIENT_INVALID ? MC_VERIFY_INVALID :
	    MC_VERIFY_UNKNOWN);
}

/* verify_cache - the cache, opened at first use; NULL without one */
static struct vcache *
verify_cache(const struct config *config)
{
	const char	*path;
	char		 err[ERRMSG_MAX];

	path = config->verify.cache != NULL ? config->verify.cache :
	    VERIFY_CACHE_DEFAULT;
	if (!atomic_load_explicit(&cache_ready, memory_order_acquire)) {
		pthread_mutex_lock(&verify_lock);
		if (!atomic_load_explicit(&cache_ready,
		    memory_order_relaxed)) {
			cache = vcache_open(path,
			    (size_t)config->verify.cache_size, err,
			    sizeof(err));
			if (cache == NULL)
				log_error("verify cache: %s; every recipient "
				    "of a verify rule takes a callout", err);
			cache_path = strdup(path);
			atomic_store_explicit(&cache_ready, 1,
			    memory_order_release);
		}
		pthread_mutex_unlock(&verify_lock);
	}
	if (cache_path != NULL && strcmp(cache_path, path) != 0 &&
	    !atomic_exchange(&cache_warned, 1))
		log_warning("verify cache: %s stays in use until restart, "
		    "not %s", cache_path, path);
	return cache;
}

static void
flight_unref(struct flight *f)
{
	if (--f->refs == 0)
		free(f);
}

/* verify_status_name - "valid", "invalid", "unknown" */
const char *
verify_status_name(enum recipient_status status)
{
	switch (status) {
	case RECIPIENT_VALID:
		return "valid";
	case RECIPIENT_INVALID:
		return "invalid";
	case RECIPIENT_UNKNOWN:
	default:
		return "unknown";
	}
}

/* verify_reason - the log's phrase of a callout's result */
const char *
verify_reason(enum recipient_status status)
{
	switch (status) {
	case RECIPIENT_VALID:
		return "verified recipient";
	case RECIPIENT_INVALID:
		return "recipient refused by the next hop";
	case RECIPIENT_UNKNOWN:
	default:
		return "recipient unverified";
	}
}

static void *
probe_main(void *arg)
{
	struct flight	*f = arg, **pp;
	struct timespec	 t0, t1;
	char		 q[CALLOUT_REPLY_MAX * 4], r[KEY_MAX * 4 + 8];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	callout_probe(f->hops, f->nhops, f->helo, f->rcpt, f->timeout_ms,
	    &f->answer);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (cache != NULL && vcache_put(cache, f->key, f->answer.status,
	    time(NULL), f->positive_expire, f->negative_expire) == -1)
		log_warning("verify cache: cannot store a result");
	log_info("verify: rcpt=%s hop=%s result=%s reply=\"%s\" ms=%ld",
	    log_quote(f->key, strlen(f->key), 0, r, sizeof(r)),
	    f->answer.hop[0] != '\0' ? f->answer.hop : "-",
	    verify_status_name(f->answer.status),
	    log_quote(f->answer.reply, strlen(f->answer.reply), 1, q,
	    sizeof(q)), (long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	pthread_mutex_lock(&verify_lock);
	f->done = 1;
	for (pp = &flights; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	probes_running--;
	pthread_cond_broadcast(&verify_cond);
	flight_unref(f);
	pthread_mutex_unlock(&verify_lock);
	return NULL;
}

/* bucket_of - the BUCKET_* of a client (NULL: the socketmap's) */
static int
bucket_of(const struct client *client)
{
	if (client == NULL)
		return BUCKET_NONE;
	return client->has_addr ? BUCKET_ADDR : BUCKET_UNIX;
}

/* same_client - the flight was started by client */
static int
same_client(const struct flight *f, const struct client *client)
{
	if (f->bucket != bucket_of(client))
		return 0;
	return f->bucket != BUCKET_ADDR ||
	    (f->client.family == client->addr.family &&
	    memcmp(f->client.bytes, client->addr.bytes,
	    sizeof(f->client.bytes)) == 0);
}

/* client_probes - callouts running that client started */
static long
client_probes(const struct client *client)
{
	const struct flight	*f;
	long			 n;

	for (n = 0, f = flights; f != NULL; f = f->next)
		n += !f->done && same_client(f, client);
	return n;
}

/* flight_new - a callout for key, its thread started; NULL when not */
static struct flight *
flight_new(const struct config *config, const struct decision *d,
    const struct client *client, const struct address *a, const char *key)
{
	struct flight	*f;
	pthread_t	 t;
	pthread_attr_t	 attr;
	long		 ms;
	int		 rc;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	snprintf(f->key, sizeof(f->key), "%s", key);
	if ((f->bucket = bucket_of(client)) == BUCKET_ADDR)
		f->client = client->addr;
	f->nhops = callout_hops(d->rule, a->domain, f->hops,
	    CALLOUT_HOPS_MAX);
	if (f->nhops == 0 || callout_rcpt_path(a->local, a->domain, f->rcpt,
	    sizeof(f->rcpt)) == -1) {
		free(f);
		return NULL;
	}
	if (config->verify.helo_name != NULL)
		snprintf(f->helo, sizeof(f->helo), "%s",
		    config->verify.helo_name);
	else if (gethostname(f->helo, sizeof(f->helo) - 1) == -1 ||
	    f->helo[0] == '\0')
		snprintf(f->helo, sizeof(f->helo), "localhost");
	f->timeout_ms = config->verify.timeout_ms;
	f->positive_expire = config->verify.positive_expire;
	f->negative_expire = config->verify.negative_expire;
	clock_gettime(CLOCK_MONOTONIC, &f->deadline);
	ms = f->timeout_ms + WAIT_MARGIN_MS;
	f->deadline.tv_sec += ms / 1000;
	f->deadline.tv_nsec += (ms % 1000) * 1000000;
	if (f->deadline.tv_nsec >= 1000000000) {
		f->deadline.tv_sec++;
		f->deadline.tv_nsec -= 1000000000;
	}
	f->refs = 2;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&t, &attr, probe_main, f);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("verify: cannot start a callout: %s", strerror(rc));
		free(f);
		return NULL;
	}
	f->next = flights;
	flights = f;
	probes_running++;
	metrics_add(MC_VERIFY_PROBES);
	return f;
}

/* verify_probe - wait for the one callout of key: its status */
static enum recipient_status
verify_probe(const struct config *config, const struct decision *d,
    const struct client *client, const struct address *a, const char *key,
    const char **reason)
{
	struct flight		*f;
	enum recipient_status	 status;

	pthread_mutex_lock(&verify_lock);
	for (f = flights; f != NULL; f = f->next)
		if (strcmp(f->key, key) == 0)
			break;
	if (f != NULL)
		f->refs++;
	else if (probes_running >= config->verify.max_probes) {
		pthread_mutex_unlock(&verify_lock);
		metrics_add(MC_VERIFY_BUSY);
		*reason = "too many callouts at once";
		return RECIPIENT_UNKNOWN;
	} else if (client != NULL && client_probes(client) >=
	    config->verify.max_probes_per_client) {
		pthread_mutex_unlock(&verify_lock);
		metrics_add(MC_VERIFY_BUSY);
		*reason = "too many callouts for this client";
		return RECIPIENT_UNKNOWN;
	} else if ((f = flight_new(config, d, client, a, key)) == NULL) {
		pthread_mutex_unlock(&verify_lock);
		*reason = "cannot start a callout";
		return RECIPIENT_UNKNOWN;
	}
	while (!f->done && pthread_cond_timedwait(&verify_cond, &verify_lock,
	    &f->deadline) != ETIMEDOUT)
		;
	status = f->done ? f->answer.status : RECIPIENT_UNKNOWN;
	if (!f->done)
		*reason = "callout time limit reached";
	else
		*reason = verify_reason(status);
	flight_unref(f);
	pthread_mutex_unlock(&verify_lock);
	return status;
}

void
verify_recipient(const struct config *config, const struct client *client,
    const char *rcpt, struct decision *d)
{
	struct address		 a;
	struct vcache		*c;
	enum recipient_status	 status;
	const char		*why, *reason;
	char			 key[KEY_MAX + 1];
	int			 rc;

	pthread_once(&verify_once, verify_init);
	if (address_parse(rcpt, strlen(rcpt), &a, &why) == -1 ||
	    a.kind != ADDR_DOMAIN) {
		count_result(RECIPIENT_UNKNOWN);
		decide_recipient(config, rcpt, strlen(rcpt), RECIPIENT_UNKNOWN,
		    VERIFY_CANNOT, d);
		return;
	}
	/* what is asked is what is cached: the local part as given */
	snprintf(key, sizeof(key), "%s@%s", a.local, a.domain);
	if ((c = verify_cache(config)) != NULL &&
	    (rc = vcache_get(c, key, time(NULL),
	    config->verify.positive_expire, config->verify.negative_expire,
	    &status)) == 1) {
		metrics_add(MC_VERIFY_HITS);
		count_result(status);
		decide_recipient(config, rcpt, strlen(rcpt), status,
		    status == RECIPIENT_VALID ? "verified recipient (cached)" :
		    "recipient refused by the next hop (cached)", d);
		return;
	}
	metrics_add(MC_VERIFY_MISSES);
	status = verify_probe(config, d, client, &a, key, &reason);
	count_result(status);
	decide_recipient(config, rcpt, strlen(rcpt), status, reason, d);
}

void
verify_counters(struct verify_counts *out)
{
	out->valid = metrics_get(MC_VERIFY_VALID);
	out->invalid = metrics_get(MC_VERIFY_INVALID);
	out->unknown = metrics_get(MC_VERIFY_UNKNOWN);
	out->hits = metrics_get(MC_VERIFY_HITS);
	out->misses = metrics_get(MC_VERIFY_MISSES);
	out->probes = metrics_get(MC_VERIFY_PROBES);
	out->busy = metrics_get(MC_VERIFY_BUSY);
}

void
verify_log_counters(void)
{
	struct verify_counts	v;

	verify_counters(&v);
	log_info("verify counters: valid=%lu invalid=%lu unknown=%lu "
	    "cached=%lu misses=%lu probes=%lu busy=%lu", v.valid, v.invalid,
	    v.unknown, v.hits, v.misses, v.probes, v.busy);
}
