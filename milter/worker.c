/*
 * worker - the process that serves the milter and the socketmap
 *
 * See daemon.h, worker_run().  The worker inherits from the supervisor
 * the listening milter socket (opened through libmilter before the fork,
 * so smfi_main() finds it open and uses it), the socketmap socket and a
 * pipe from which a thread of its own reads the supervisor's commands.
 * libmilter's signal thread still sigwaits SIGHUP, SIGTERM and SIGINT
 * in this process and stops on each; the supervisor never sends them,
 * it writes WORKER_RELOAD or WORKER_STOP on the pipe instead.
 *
 * A reload is first tried as a diff of the domains_file against the
 * record of the file the rules in force came from (source_file_update():
 * the lines changed, at their cost); what a diff cannot tell is a full
 * load, which records the file again.  A refused load keeps the record:
 * it still describes the rules in force.
 *
 * The first worker takes from main() the start load's generation state
 * (the domains_file's record; with rules_source the snapshot of its read
 * and the file's own rules), so that its first change, the listener's
 * catch-up after its LISTEN included, reads the change log from that
 * snapshot instead of the whole table; a restarted worker reads the rows
 * again itself (worker_config()).
 *
 * The control thread never waits for a publish: a reload (WORKER_RELOAD:
 * the file and every row) and a change of the rules_source table (from
 * its listener: the rows changed, source_update()) are requests to the
 * publisher thread, which serves them one at a time; requests made
 * while it publishes are merged into one more run after it (a reload
 * covers a change), never lost.  The publisher also writes the static
 * tables and releases their holds, so stop and counters are answered
 * while it works.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "authfile.h"
#include "config.h"
#include "filediff.h"
#include "overlay.h"
#include "ruleset.h"
#include "strutil.h"

#include "callbacks.h"
#include "daemon.h"
#include "live.h"
#include "log.h"
#include "metrics.h"
#include "pgsource.h"
#include "saslmaps.h"
#include "socketmap.h"
#include "source.h"
#include "staticmaps.h"

#define WORKER_NAME	"mrelay-worker"	/* see worker_run() */
#define KICK_INTERVAL_MS 50	/* SIGUSR2 to smfi_main() this often */
#define KICK_SECONDS	10	/* for at most this long */

static struct daemon *worker_daemon;
static atomic_int worker_stopping;
static atomic_int worker_done;		/* smfi_main() returned */
static atomic_int worker_restarted;	/* not the first worker */
static pthread_t worker_main;		/* the thread in smfi_main() */
static pthread_mutex_t worker_publish_lock = PTHREAD_MUTEX_INITIALIZER;

#define WANT_RELOAD	0x01	/* the file and every row */
#define WANT_CHANGE	0x02	/* the rows changed */

/* The publisher's queue: what is asked, merged. */
static pthread_mutex_t worker_queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_queue_cond = PTHREAD_COND_INITIALIZER;
static int worker_want;
static int worker_quit;
static pthread_t worker_publisher_tid;
/* the generation published, as source_update() knows it (publisher) */
static struct source_gen worker_gen;

/*
 * rules_cache after a change: written by a thread of its own, so that
 * rewriting a large snapshot does not delay the next change.  The
 * changes waiting (their patterns and lines, merged) are under
 * worker_cache_pend_lock; a write of the file, by that thread or by a
 * full read, under worker_cache_file_lock (taken first).  A full read
 * writes the whole snapshot: the changes waiting are in it.
 */
static pthread_mutex_t worker_cache_file_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t worker_cache_pend_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_cache_cond = PTHREAD_COND_INITIALIZER;
static struct source_gen worker_cache_pend;
static char *worker_cache_path;
static int worker_cache_quit;
static pthread_t worker_cache_tid;
/* the rules_source of a worker serving no rules yet (worker_closed()) */
static char *worker_closed_source;


/* Settings read only at start-up: say so when a reload changes them. */
static void
worker_check_static(const struct config *old, const struct config *new)
{
	if (old == NULL)
		return;
	if (!str_same(old->socket, new->socket) ||
	    !str_same(old->socketmap, new->socketmap) ||
	    !str_same(old->metrics, new->metrics) ||
	    !str_same(old->user, new->user) ||
	    !str_same(old->group, new->group) ||
	    !str_same(old->pidfile, new->pidfile) ||
	    !str_same(old->syslog_facility, new->syslog_facility) ||
	    old->socket_mode != new->socket_mode ||
	    old->milter_timeout != new->milter_timeout)
		log_warning("reload: %s: socket, socketmap, metrics, user, "
		    "group, pidfile, socket_mode, milter_timeout and syslog_facility "
		    "take effect only at restart", new->path);
}

/*
 * Static mode: the tables of the rules in force (at start, and again
 * after a failed write), every name held when they cannot be written;
 * the caller holds worker_publish_lock.
 */
static void
worker_publish_static(void)
{
	const struct config *config;

	config = live_acquire();
	saslmaps_publish(config);
	staticmaps_publish(config, STATICMAPS_LIVE);
	live_release(config);
}

/*
 * Reloads come from the control thread (SIGHUP) and from the rules_source
 * listener: one at a time (worker_publish_lock), so that an older
 * snapshot is never published after a newer one.
 *
 * worker_install - a configuration into force: in static mode the tables
 * first, or it is refused (never stale tables; the generation state is
 * then forgotten, the next change is a full read); how ends the log
 * line.  The caller holds worker_publish_lock; old is the number of
 * rules in force.
 */
static int
worker_install(struct config *config, size_t old, const char *how)
{
	const struct config *cur;
	size_t	 n;

	if (staticmaps_publish(config, 0) != STATICMAPS_OK) {
		metrics_reload_failed();
		log_error("reload refused: %s: the static tables are not "
		    "written; keeping the previous configuration (%zu rules)",
		    worker_daemon->conf_path, old);
		config_free(config);
		source_gen_clear(&worker_gen);
		return -1;
	}
	metrics_loaded(config, 1);
	n = ruleset_count(config->rules);
	cur = live_acquire();
	callbacks_reloaded(cur, config);
	if (cur == NULL && worker_closed_source != NULL)
		log_info("worker: the rows of rules_source loaded; recipients "
		    "are decided again");
	live_release(cur);
	live_replace(config);
	log_info("reload: %s: OK, %zu rules%s", worker_daemon->conf_path, n,
	    how);
	cur = live_acquire();
	saslmaps_publish(cur);
	live_release(cur);
	return 0;
}

/*
 * worker_failed - log and count a refused load: err says why, n rules stay
 * in force; refused is authfile_refusals() before the load
 */
static void
worker_failed(unsigned long refused, const char *err, size_t n)
{
	metrics_reload_failed();
	if (authfile_refusals() != refused)
		metrics_add(MC_CREDENTIALS_REFUSED);
	log_error("reload failed: %s; keeping the previous configuration "
	    "(%zu rules)", err, n);
}

/*
 * worker_file_reload - a reload by the domains_file's changed lines
 * (source_file_update()): 1 when done (in force, or refused), 0 when it
 * takes a full load.  The caller holds worker_publish_lock.
 */
static int
worker_file_reload(unsigned long refused)
{
	struct source_file_stats st;
	char	 err[ERRMSG_MAX], how[192];
	struct config *config;
	const struct config *cur;
	size_t	 n;
	int	 rc;

	if (worker_gen.file == NULL || (cur = live_acquire()) == NULL)
		return 0;
	rc = source_file_update(worker_daemon->conf_path, cur, &worker_gen,
	    &config, &st, err, sizeof(err));
	n = ruleset_count(cur->rules);
	if (rc == SOURCE_NEW)
		worker_check_static(cur, config);
	/* live_replace() waits for the readers of the one it replaces */
	live_release(cur);
	switch (rc) {
	case SOURCE_NEW:
		snprintf(how, sizeof(how), " (domains_file diff%s: %zu lines "
		    "added, %zu removed; %zu patterns since the last full "
		    "load)", st.append ? ", appended" : "", st.added,
		    st.removed, st.delta);
		worker_install(config, n, how);
		return 1;
	case SOURCE_FAIL:
		worker_failed(refused, err, n);
		return 1;
	}
	log_info("reload: %s: the domains_file's change is not told by a "
	    "diff; a full load", worker_daemon->conf_path);
	return 0;
}

static void
worker_reload(void)
{
	char	 err[ERRMSG_MAX];
	struct source_gen next;
	struct filediff *file;
	struct config *config;
	const struct config *old;
	size_t	 n;
	int	 cached;
	unsigned long refused;

	pthread_mutex_lock(&worker_publish_lock);
	refused = authfile_refusals();
	if (worker_file_reload(refused)) {
		pthread_mutex_unlock(&worker_publish_lock);
		return;
	}
	pthread_mutex_lock(&worker_cache_file_lock);
	pthread_mutex_lock(&worker_cache_pend_lock);
	source_gen_clear(&worker_cache_pend);
	pthread_mutex_unlock(&worker_cache_pend_lock);
	memset(&next, 0, sizeof(next));
	config = source_load_gen(worker_daemon->conf_path, SOURCE_CACHE,
	    &cached, &next, err, sizeof(err));
	pthread_mutex_unlock(&worker_cache_file_lock);
	/* refused: the domains_file's record still tells the rules in force */
	file = worker_gen.file;
	worker_gen.file = NULL;
	source_gen_clear(&worker_gen);
	if (config == NULL) {
		worker_gen.file = file;
		source_gen_clear(&next);
	} else {
		filediff_free(file);
		worker_gen = next;
	}
	if (config == NULL) {
		old = live_acquire();
		worker_failed(refused, err,
		    old != NULL ? ruleset_count(old->rules) : 0);
		live_release(old);
		pthread_mutex_unlock(&worker_publish_lock);
		return;
	}
	if (cached)
		log_warning("reload: %s", err);
	old = live_acquire();
	worker_check_static(old, config);
	n = old != NULL ? ruleset_count(old->rules) : 0;
	live_release(old);
	worker_install(config, n, "");
	pthread_mutex_unlock(&worker_publish_lock);
}

/*
 * The rows of rules_source changed: the next generation from the one
 * published and those rows, or a full reload when the change cannot be
 * told (source_update()).
 */
static void
worker_update(void)
{
	char	 err[ERRMSG_MAX], how[128], *cache;
	struct config *config;
	const struct config *cur;
	size_t	 n;
	int	 rc;
	unsigned long refused;

	pthread_mutex_lock(&worker_publish_lock);
	refused = authfile_refusals();
	if ((cur = live_acquire()) == NULL)
		rc = SOURCE_FULL;
	else
		rc = source_update(worker_daemon->conf_path, cur, &worker_gen,
		    &config, err, sizeof(err));
	/* live_replace() waits for the readers of the one it replaces */
	n = cur != NULL ? ruleset_count(cur->rules) : 0;
	live_release(cur);
	switch (rc) {
	case SOURCE_NEW:
		snprintf(how, sizeof(how), " (changed rows; %zu patterns "
		    "since the last full load)", overlay_delta(config->rules));
		cache = config->rules_cache != NULL ?
		    strdup(config->rules_cache) : NULL;
		if (worker_install(config, n, how) == 0) {
			pthread_mutex_lock(&worker_cache_pend_lock);
			if (source_gen_take(&worker_gen,
			    &worker_cache_pend) == -1)
				log_warning("rules_cache: out of memory; the "
				    "next full read writes it");
			free(worker_cache_path);
			worker_cache_path = cache;
			cache = NULL;
			pthread_cond_signal(&worker_cache_cond);
			pthread_mutex_unlock(&worker_cache_pend_lock);
		}
		free(cache);
		break;
	case SOURCE_SAME:
		/* no generation: no reload counted */
		log_info("reload: %s: no row changed (change log read; %zu "
		    "rules in force)", worker_daemon->conf_path, n);
		break;
	case SOURCE_FAIL:
		worker_failed(refused, err, n);
		break;
	}
	pthread_mutex_unlock(&worker_publish_lock);
	if (rc == SOURCE_FULL)
		worker_reload();
}

/* worker_cache_writer - the changes waiting into rules_cache, in turn */
static void *
worker_cache_writer(void *arg)
{
	struct source_gen now;
	char	*path;

	(void)arg;
	memset(&now, 0, sizeof(now));
	for (;;) {
		pthread_mutex_lock(&worker_cache_pend_lock);
		while (!source_gen_pending(&worker_cache_pend) &&
		    !worker_cache_quit)
			pthread_cond_wait(&worker_cache_cond,
			    &worker_cache_pend_lock);
		if (!source_gen_pending(&worker_cache_pend)) {
			pthread_mutex_unlock(&worker_cache_pend_lock);
			return NULL;
		}
		pthread_mutex_unlock(&worker_cache_pend_lock);
		pthread_mutex_lock(&worker_cache_file_lock);
		pthread_mutex_lock(&worker_cache_pend_lock);
		(void)source_gen_take(&worker_cache_pend, &now);
		path = worker_cache_path != NULL ?
		    strdup(worker_cache_path) : NULL;
		pthread_mutex_unlock(&worker_cache_pend_lock);
		source_gen_flush(&now, path);
		pthread_mutex_unlock(&worker_cache_file_lock);
		free(path);
	}
}

/* worker_ask - a request to the publisher, merged with those pending */
static void
worker_ask(int what)
{
	pthread_mutex_lock(&worker_queue_lock);
	worker_want |= what;
	pthread_cond_signal(&worker_queue_cond);
	pthread_mutex_unlock(&worker_queue_lock);
}

/* worker_changed - the rules_source listener's callback */
static void
worker_changed(void)
{
	worker_ask(WANT_CHANGE);
}

static void
worker_wake(int sig)
{
	(void)sig;
}

/*
 * libmilter's listener holds its mutex across a select() of up to 5 s,
 * and smfi_stop() needs that mutex after setting the stop flag.  A
 * kicker thread interrupts the select() with SIGUSR2 until smfi_main()
 * returns, so the worker stops at once.  The handler has SA_RESTART, so
 * a late SIGUSR2 interrupts nothing else; select() is never restarted.
 */
static void *
worker_kicker(void *arg)
{
	struct timespec ts = { 0, KICK_INTERVAL_MS * 1000000L };
	int	 i;

	(void)arg;
	for (i = 0; i < KICK_SECONDS * 1000 / KICK_INTERVAL_MS &&
	    !atomic_load(&worker_done); i++) {
		pthread_kill(worker_main, SIGUSR2);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
worker_stop(const char *why)
{
	pthread_t tid;
	int	 kicking;

	log_info("worker stopping: %s", why);
	metrics_serving(0);
	atomic_store(&worker_stopping, 1);
	kicking = pthread_create(&tid, NULL, worker_kicker, NULL) == 0;
	smfi_stop();
	/* it ends once smfi_main() returned: nothing runs at exit() */
	if (kicking)
		pthread_join(tid, NULL);
}

/* A restarted worker, serving already: is the file on disk good? */
static void
worker_check_file(void)
{
	char	 err[ERRMSG_MAX];
	struct config *config;
	const struct config *cur;
	size_t	 n;

	cur = live_acquire();
	n = cur != NULL ? ruleset_count(cur->rules) : 0;
	live_release(cur);
	if ((config = config_load(worker_daemon->conf_path, err,
	    sizeof(err))) == NULL) {
		log_error("worker: the file on disk does not load: %s; "
		    "serving the last rules that loaded (%zu rules)", err, n);
		return;
	}
	config_free(config);
	log_info("worker: restarted with the last rules that loaded (%zu "
	    "rules); changes on disk take effect at the next reload", n);
}

/*
 * Static mode: a held name's time is up, or a failed write is due again
 * (one publish at a time).
 */
static void
worker_release_holds(void)
{
	pthread_mutex_lock(&worker_publish_lock);
	if (staticmaps_retry_due())
		worker_publish_static();
	staticmaps_release();
	pthread_mutex_unlock(&worker_publish_lock);
}

/* worker_queue_wait - until asked, or a hold is up (then 0) */
static int
worker_queue_wait(void)
{
	struct timespec ts;
	int	 ms;

	while (worker_want == 0 && !worker_quit) {
		if ((ms = staticmaps_wait_ms()) < 0) {
			pthread_cond_wait(&worker_queue_cond,
			    &worker_queue_lock);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (ms == 0 || pthread_cond_timedwait(&worker_queue_cond,
		    &worker_queue_lock, &ts) == ETIMEDOUT)
			return 0;
	}
	return 1;
}

/* worker_publisher - reloads, changes and static writes, in turn */
static void *
worker_publisher(void *arg)
{
	int	 want;

	(void)arg;
	pthread_mutex_lock(&worker_publish_lock);
	worker_publish_static();
	pthread_mutex_unlock(&worker_publish_lock);
	pthread_mutex_lock(&worker_queue_lock);
	for (;;) {
		if (!worker_queue_wait()) {
			pthread_mutex_unlock(&worker_queue_lock);
			worker_release_holds();
			pthread_mutex_lock(&worker_queue_lock);
			continue;
		}
		if (worker_quit)
			break;
		want = worker_want;
		worker_want = 0;
		pthread_mutex_unlock(&worker_queue_lock);
		if (want & WANT_RELOAD)
			worker_reload();
		else
			worker_update();
		pthread_mutex_lock(&worker_queue_lock);
	}
	pthread_mutex_unlock(&worker_queue_lock);
	return NULL;
}

static void *
worker_control(void *arg)
{
	struct pollfd pfd;
	int	 fd = (int)(intptr_t)arg;
	char	 buf[64];
	ssize_t	 n, i;
	int	 reload, counters, r;

	if (atomic_load(&worker_restarted) && worker_closed_source == NULL)
		worker_check_file();
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, -1);
		if (r == -1 && errno == EINTR)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			worker_stop("the supervisor is gone");
			return NULL;
		}
		reload = counters = 0;
		for (i = 0; i < n; i++) {
			if (buf[i] == WORKER_STOP) {
				worker_stop("asked by the supervisor");
				return NULL;
			}
			reload |= buf[i] == WORKER_RELOAD;
			counters |= buf[i] == WORKER_COUNTERS;
		}
		/* several SIGHUPs in a row need one reload */
		if (reload)
			worker_ask(WANT_RELOAD);
		if (counters) {
			callbacks_log_counters();
			if (worker_daemon->socketmap_fd != -1)
				socketmap_log_counters();
		}
	}
}

/*
 * worker_closed - a restarted worker without the rows of rules_source
 * serves no rules: file holds the file's rules alone (freed here), err
 * why the rows are not there; the listener is to use its rules_source.
 * 0, or -1 out of memory.
 */
static int
worker_closed(struct config *file, const char *err)
{
	const char *conninfo = source_conninfo(file);

	worker_closed_source = conninfo != NULL ? strdup(conninfo) : NULL;
	if (conninfo != NULL && worker_closed_source == NULL) {
		log_error("worker: out of memory");
		config_free(file);
		return -1;
	}
	log_error("worker: %s; the file's rules alone would drop the rows of "
	    "rules_source: every recipient is tempfailed (451 4.7.1) until "
	    "the database answers (set rules_cache to serve the last rows "
	    "instead)", err);
	config_free(file);
	return 0;
}

/*
 * The rules the supervisor holds: those of the start or of the last
 * reload that loaded.  A restarted worker serves them even when the file
 * on disk is broken now, and says so.  With rules_source it loads the
 * file and the database again (a worker reloads from the database
 * without the supervisor); when that fails (a row refused, the file
 * broken) the file and rules_cache, the last rows that loaded; when the
 * file is broken, the file's rules the supervisor holds (file only: see
 * supervisor.c) and rules_cache: never an exit in a loop.  When the rows
 * are nowhere (no rules_cache, or none that loads), the file's rules
 * alone would be a subset (a row's deny exception under a namespace the
 * file relays would relay): the worker serves no rules at all, every
 * RCPT tempfailed (451 4.7.1, the socketmap TEMP), and its listener
 * (worker_listen(), on the supervisor's rules_source) loads everything
 * once the database answers.
 */
static int
worker_config(struct daemon *daemon, int first)
{
	char	 err[ERRMSG_MAX];
	struct config *config;
	int	 cached;

	if (daemon->config == NULL) {
		log_error("worker: no rules loaded");
		return -1;
	}
	if (first || daemon->config->rules_source == NULL) {
		config = daemon->config;
		daemon->config = NULL;
		atomic_store(&worker_restarted, !first);
		/*
		 * What this config was loaded from: the domains_file's
		 * record; the first worker's also the start load's mark
		 */
		worker_gen = daemon->gen;
		memset(&daemon->gen, 0, sizeof(daemon->gen));
	} else if ((config = source_load_gen(daemon->conf_path, SOURCE_CACHE,
	    &cached, &worker_gen, err, sizeof(err))) != NULL) {
		if (cached)
			log_warning("worker: %s", err);
	} else {
		log_error("worker: %s", err);
		if ((config = source_load(daemon->conf_path, SOURCE_CACHE |
		    SOURCE_CACHE_ONLY, &cached, err, sizeof(err))) != NULL)
			log_warning("worker: %s", err);
		else {
			/* the supervisor's file rules: the file is broken */
			config = daemon->config;
			daemon->config = NULL;
			atomic_store(&worker_restarted, 1);
			if (source_add_cache(config, err, sizeof(err)) == 0)
				log_warning("worker: the file's rules of the "
				    "last load and the rows of rules_cache %s",
				    config->rules_cache);
			else if (worker_closed(config, err) == -1)
				return -1;
			else
				config = NULL;
		}
	}
	if (daemon->config != NULL) {
		config_free(daemon->config);
		daemon->config = NULL;
	}
	/* not taken: the rules came from elsewhere */
	source_gen_clear(&daemon->gen);
	if (config != NULL) {
		metrics_loaded(config, 0);
		live_replace(config);
	}
	return 0;
}

/* The rules_source listener, once the first config is published. */
static int
worker_listen(void)
{
	char	 err[1024];
	const struct config *config;
	const char *conninfo;
	int	 rc;

	config = live_acquire();
	rc = 0;
	/* serving no rules (worker_closed()): the rules_source it lacks */
	conninfo = config != NULL ? source_conninfo(config) :
	    worker_closed_source;
	if (conninfo != NULL && pgsource_listen_start(conninfo,
	    worker_changed, err, sizeof(err)) == -1) {
		log_error("worker: rules_source listener: %s", err);
		rc = -1;
	}
	live_release(config);
	return rc;
}

static void
worker_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	/*
	 * The supervisor blocked HUP, TERM, INT, USR1 and CHLD.  HUP,
	 * TERM and INT stay blocked for libmilter's signal thread; a stray
	 * USR1 must not kill the worker; USR2 wakes the listener.
	 */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_wake;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void
worker_run(struct daemon *daemon, int ctl_fd, int first)
{
	char	 err[ERRMSG_MAX];
	pthread_t tid;
	int	 r;

	worker_daemon = daemon;
	worker_main = pthread_self();
	/*
	 * "pkill -HUP milter-relay" must reach only the supervisor:
	 * libmilter would take a SIGHUP to the worker for "stop".
	 */
	prctl(PR_SET_NAME, WORKER_NAME, 0, 0, 0);
	worker_signals();
	callbacks_init();
	if (worker_config(daemon, first) != 0)
		exit(EX_CONFIG);
	if ((r = pthread_create(&worker_cache_tid, NULL, worker_cache_writer,
	    NULL)) != 0 || (r = pthread_create(&worker_publisher_tid, NULL,
	    worker_publisher, NULL)) != 0) {
		log_error("worker: pthread_create: %s", strerror(r));
		exit(EX_OSERR);
	}
	if (worker_listen() != 0)
		exit(EX_OSERR);
	if ((r = pthread_create(&tid, NULL, worker_control,
	    (void *)(intptr_t)ctl_fd)) != 0) {
		log_error("worker: pthread_create: %s", strerror(r));
		exit(EX_OSERR);
	}
	/* joined before exit: smfi_stop() must be done when exit() runs */
	if (daemon->socketmap_fd != -1 &&
	    socketmap_start(daemon->socketmap_fd, err, sizeof(err)) != 0) {
		log_error("worker: socketmap: %s", err);
		exit(EX_SOFTWARE);
	}
	log_info("worker %ld serving %s%s%s", (long)getpid(), daemon->socket,
	    daemon->socketmap != NULL ? " and socketmap " : "",
	    daemon->socketmap != NULL ? daemon->socketmap : "");
	metrics_serving(1);
	r = smfi_main();
	atomic_store(&worker_done, 1);
	if (!atomic_load(&worker_stopping)) {
		log_error("worker: the milter loop ended (%s) without a stop "
		    "request", r == MI_SUCCESS ? "libmilter was told to stop "
		    "by a signal sent to the worker" : "libmilter failure");
		_exit(EX_SOFTWARE);
	}
	/* the control thread returns right after its smfi_stop() */
	pthread_join(tid, NULL);
	pgsource_listen_stop();
	/* a publish under way ends first: nothing is freed under it */
	pthread_mutex_lock(&worker_queue_lock);
	worker_quit = 1;
	pthread_cond_signal(&worker_queue_cond);
	pthread_mutex_unlock(&worker_queue_lock);
	pthread_join(worker_publisher_tid, NULL);
	pthread_mutex_lock(&worker_cache_pend_lock);
	worker_cache_quit = 1;
	pthread_cond_signal(&worker_cache_cond);
	pthread_mutex_unlock(&worker_cache_pend_lock);
	pthread_join(worker_cache_tid, NULL);
	source_gen_clear(&worker_gen);
	source_gen_clear(&worker_cache_pend);
	free(worker_cache_path);
	free(worker_closed_source);
	if (daemon->socketmap_fd != -1)
		socketmap_stop();
	live_shutdown();
	log_info("worker %ld stopped", (long)getpid());
	exit(0);
}
