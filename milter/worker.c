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
 * Static mode: the tables of the rules just published, written after the
 * milter and the socketmap serve them (a large rule set takes seconds to
 * export); the caller holds worker_publish_lock.
 */
static void
worker_publish_static(void)
{
	const struct config *config;

	config = live_acquire();
	saslmaps_publish(config);
	staticmaps_publish(config);
	live_release(config);
}

/*
 * Reloads come from the control thread (SIGHUP) and from the rules_source
 * listener: one at a time (worker_publish_lock), so that an older
 * snapshot is never published after a newer one.
 */
static void
worker_reload(void)
{
	char	 err[ERRMSG_MAX];
	struct config *config;
	const struct config *old;
	size_t	 n;
	int	 cached;
	unsigned long refused;

	pthread_mutex_lock(&worker_publish_lock);
	refused = authfile_refusals();
	config = source_load(worker_daemon->conf_path, SOURCE_CACHE, &cached,
	    err, sizeof(err));
	if (config == NULL) {
		metrics_reload_failed();
		if (authfile_refusals() != refused)
			metrics_add(MC_CREDENTIALS_REFUSED);
		old = live_acquire();
		log_error("reload failed: %s; keeping the previous "
		    "configuration (%zu rules)", err,
		    old != NULL ? ruleset_count(old->rules) : (size_t)0);
		live_release(old);
		pthread_mutex_unlock(&worker_publish_lock);
		return;
	}
	if (cached)
		log_warning("reload: %s", err);
	old = live_acquire();
	worker_check_static(old, config);
	callbacks_reloaded(old, config);
	live_release(old);
	n = ruleset_count(config->rules);
	metrics_loaded(config, 1);
	live_replace(config);
	log_info("reload: %s: OK, %zu rules", worker_daemon->conf_path, n);
	worker_publish_static();
	pthread_mutex_unlock(&worker_publish_lock);
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

/* Static mode: a held name's time is up (one publish at a time). */
static void
worker_release_holds(void)
{
	pthread_mutex_lock(&worker_publish_lock);
	staticmaps_release();
	pthread_mutex_unlock(&worker_publish_lock);
}

static void *
worker_control(void *arg)
{
	struct pollfd pfd;
	int	 fd = (int)(intptr_t)arg;
	char	 buf[64];
	ssize_t	 n, i;
	int	 reload, counters, r;

	if (atomic_load(&worker_restarted))
		worker_check_file();
	pthread_mutex_lock(&worker_publish_lock);
	worker_publish_static();
	pthread_mutex_unlock(&worker_publish_lock);
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, staticmaps_wait_ms())) == 0) {
			worker_release_holds();
			continue;
		}
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
			worker_reload();
		if (counters) {
			callbacks_log_counters();
			if (worker_daemon->socketmap_fd != -1)
				socketmap_log_counters();
		}
	}
}

/*
 * The rules the supervisor holds: those of the start or of the last
 * reload that loaded.  A restarted worker serves them even when the file
 * on disk is broken now, and says so.
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
	} else {
		/*
		 * Rules from a database reload without the supervisor: the
		 * rules_cache holds the last set that loaded.
		 */
		config_free(daemon->config);
		daemon->config = NULL;
		if ((config = source_load(daemon->conf_path, SOURCE_CACHE,
		    &cached, err, sizeof(err))) == NULL) {
			log_error("worker: %s", err);
			return -1;
		}
		if (cached)
			log_warning("worker: %s", err);
	}
	metrics_loaded(config, 0);
	live_replace(config);
	return 0;
}

/* The rules_source listener, once the first config is published. */
static int
worker_listen(void)
{
	char	 err[1024];
	const struct config *config;
	int	 rc;

	config = live_acquire();
	rc = 0;
	if (config != NULL && config->rules_source != NULL &&
	    pgsource_listen_start(source_conninfo(config), worker_reload,
	    err, sizeof(err)) == -1) {
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
	if (daemon->socketmap_fd != -1)
		socketmap_stop();
	live_shutdown();
	log_info("worker %ld stopped", (long)getpid());
	exit(0);
}
