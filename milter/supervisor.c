/*
 * supervisor - the parent process: signals, pid file, worker restarts
 *
 * See daemon.h, supervisor_run().  libmilter's signal thread takes SIGHUP
 * for "stop", so the process that runs smfi_main() cannot reload on
 * SIGHUP.  The supervisor is a single-threaded parent that receives every
 * signal with sigtimedwait() (through a signalfd polled beside the metrics
 * server's descriptor when metrics are served) and passes the
 * administrator's intent to the worker over a pipe: SIGHUP ->
 * WORKER_RELOAD, SIGUSR1 -> WORKER_COUNTERS, SIGTERM/SIGINT -> WORKER_STOP
 * (then SIGTERM, then SIGKILL if the worker does not exit in time).
 *
 * A worker that dies is forked again after 1, 2, 4 ... 30 s; the delay
 * starts over once a worker has run for SUPERVISOR_HEALTHY seconds, and
 * after SUPERVISOR_MAX_FAILS quick deaths in a row the supervisor gives
 * up and exits (EX_SOFTWARE) so that the service manager sees it.  The
 * listening milter socket stays open in the supervisor, so connections
 * that arrive during a restart wait in its backlog.
 *
 * A restarted worker serves the last rule set that loaded, whatever the
 * file on disk holds now: the supervisor keeps the configuration of the
 * start (shared with the first worker, copy-on-write) and, after a
 * SIGHUP, loads the file itself, keeping the new set when it loads and
 * the old one when it does not.  That load waits until a wait of the
 * main loop ends without a signal (a burst of SIGHUPs costs one load,
 * and each SIGHUP is passed on at once), or until a worker is to be
 * restarted; while it runs, the metrics endpoint waits.  Each
 * restart forks the worker with that set; the worker then checks the
 * file and logs when it does not load.  The cost is one more copy of the
 * rules in the supervisor once a reload has happened.  When only the
 * domains_file's lines changed, that copy is the set held plus those lines
 * (source_file_update(), against a record of the file of the set held:
 * the one made at start, then the supervisor's own), and a restarted
 * worker gets the record with the set, so its next reload diffs too.  With rules_source
 * the supervisor holds the file's rules alone (loaded again right after
 * the first fork): a restarted worker reads the rows again, from the
 * database or from rules_cache, and serves no rules (every RCPT
 * tempfailed) until the database answers when neither has them
 * (worker.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "filediff.h"
#include "ruleset.h"
#include "strutil.h"

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "pidfile.h"
#include "source.h"

#define SUPERVISOR_HEALTHY	60	/* s of life that reset backoff */
#define SUPERVISOR_MAX_FAILS	10
#define SUPERVISOR_MAX_DELAY	30
#define SUPERVISOR_STOP_WAIT	20	/* s for a clean worker stop */
#define SUPERVISOR_TERM_WAIT	5

struct supervisor {
	struct daemon	*daemon;
	pid_t		 pid;		/* worker, -1 when none */
	int		 ctl;		/* pipe to the worker */
	long long	 started;	/* ms, mono_ms() */
	long long	 restart_at;	/* ms, when pid == -1 */
	int		 fails;
	int		 load_pending;	/* a SIGHUP since the last load */
	struct source_gen gen;		/* the domains_file of daemon->config */
	int		 sigfd;		/* signalfd with metrics, else -1 */
};

/* mono_ms - the monotonic clock in milliseconds */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * supervisor_keep_file - after a fork: the worker has its copy of the
 * generation state; the first domains_file record (main's) is the
 * supervisor's too, the start load's mark and file rules the first
 * worker's alone
 */
static void
supervisor_keep_file(struct supervisor *sv)
{
	struct source_gen *g = &sv->daemon->gen;

	if (g->file != NULL && g->file != sv->gen.file) {
		filediff_free(sv->gen.file);
		sv->gen.file = g->file;
	}
	g->file = NULL;
	source_gen_clear(g);
}

static int
supervisor_spawn(struct supervisor *sv, int first)
{
	int	 fds[2];
	pid_t	 pid;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_error("supervisor: pipe: %s", strerror(errno));
		return -1;
	}
	/* a restarted worker diffs against the file of the rules it gets */
	if (sv->daemon->gen.file == NULL)
		sv->daemon->gen.file = sv->gen.file;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		supervisor_keep_file(sv);
		log_error("supervisor: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[1]);
		if (sv->sigfd != -1)
			close(sv->sigfd);
		metrics_http_forget();
		worker_run(sv->daemon, fds[0], first);
	}
	close(fds[0]);
	supervisor_keep_file(sv);
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1)
		log_warning("supervisor: fcntl: %s", strerror(errno));
	sv->ctl = fds[1];
	sv->pid = pid;
	sv->started = mono_ms();
	log_info("supervisor %ld: worker %ld started", (long)getpid(),
	    (long)pid);
	/* sv->daemon->config stays: the rules of the next restart */
	return 0;
}

/*
 * Load the file for the next restarts; keep the old set if it fails.  When
 * only the domains_file's lines changed, the set is the one held plus
 * those lines (source_file_update()), as in the worker.
 */
static void
supervisor_load(struct supervisor *sv)
{
	struct source_file_stats st;
	struct config *config;
	char	 err[ERRMSG_MAX];
	int	 rc;

	config = NULL;
	rc = SOURCE_FULL;
	if (sv->daemon->config != NULL)
		rc = source_file_update(sv->daemon->conf_path,
		    sv->daemon->config, &sv->gen, &config, &st, err,
		    sizeof(err));
	if (rc == SOURCE_FULL)
		config = source_load_file(sv->daemon->conf_path, &sv->gen,
		    err, sizeof(err));
	if (config == NULL) {
		log_warning("supervisor: %s; a restarted worker serves the "
		    "last rules that loaded (%zu rules)", err,
		    sv->daemon->config != NULL ?
		    ruleset_count(sv->daemon->config->rules) : (size_t)0);
		return;
	}
	config_free(sv->daemon->config);
	sv->daemon->config = config;
	malloc_trim(0);
}

static void
supervisor_tell(struct supervisor *sv, char cmd)
{
	ssize_t	 n;

	if (sv->pid == -1 || sv->ctl == -1)
		return;
	do
		n = write(sv->ctl, &cmd, 1);
	while (n == -1 && errno == EINTR);
	/* EAGAIN: the pipe is full of commands the worker will see */
	if (n == -1 && errno != EAGAIN)
		log_warning("supervisor: cannot reach the worker: %s",
		    strerror(errno));
}

static void
supervisor_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with status 0x%x", status);
}

/* Is the socket file still the one the workers listen on? */
static int
supervisor_socket_intact(const struct daemon *d)
{
	struct stat st;

	if (d->unix_path == NULL)
		return 1;
	if (stat(d->unix_path, &st) == -1)
		return 0;
	return st.st_dev == d->sock_dev && st.st_ino == d->sock_ino;
}

/* Reap the worker; 0 when it is dead and a restart is scheduled. */
static int
supervisor_reap(struct supervisor *sv, int stopping)
{
	char	 how[128];
	int	 status, delay;
	pid_t	 pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != sv->pid)
			continue;
		supervisor_describe(status, how, sizeof(how));
		close(sv->ctl);
		sv->ctl = -1;
		sv->pid = -1;
		metrics_serving(0);
		if (stopping) {
			log_info("supervisor: worker %ld %s", (long)pid, how);
			return 0;
		}
		if (mono_ms() - sv->started >= SUPERVISOR_HEALTHY * 1000LL)
			sv->fails = 0;
		sv->fails++;
		if (sv->fails > SUPERVISOR_MAX_FAILS) {
			log_error("supervisor: worker %ld %s; %d failures in "
			    "a row, giving up", (long)pid, how, sv->fails - 1);
			return -1;
		}
		if (!supervisor_socket_intact(sv->daemon)) {
			log_error("supervisor: worker %ld %s and the socket "
			    "%s is gone; exiting so that the service manager "
			    "starts milter-relay again", (long)pid, how,
			    sv->daemon->unix_path);
			return -1;
		}
		delay = 1 << (sv->fails - 1);
		if (delay > SUPERVISOR_MAX_DELAY)
			delay = SUPERVISOR_MAX_DELAY;
		sv->restart_at = mono_ms() + delay * 1000LL;
		log_warning("supervisor: worker %ld %s; restarting it in %d s",
		    (long)pid, how, delay);
	}
	return 0;
}

/* Wait up to secs seconds for the worker to exit. */
static void
supervisor_wait(struct supervisor *sv, const sigset_t *set, int secs)
{
	struct timespec ts = { 1, 0 };
	long long end;

	end = mono_ms() + secs * 1000LL;
	while (sv->pid != -1 && mono_ms() < end) {
		(void)sigtimedwait(set, NULL, &ts);
		(void)supervisor_reap(sv, 1);
	}
}

static void
supervisor_shutdown(struct supervisor *sv, const sigset_t *set)
{
	if (sv->pid != -1) {
		supervisor_tell(sv, WORKER_STOP);
		supervisor_wait(sv, set, SUPERVISOR_STOP_WAIT);
	}
	if (sv->pid != -1) {
		log_warning("supervisor: worker %ld does not stop; SIGTERM",
		    (long)sv->pid);
		kill(sv->pid, SIGTERM);
		supervisor_wait(sv, set, SUPERVISOR_TERM_WAIT);
	}
	if (sv->pid != -1) {
		log_warning("supervisor: worker %ld does not stop; SIGKILL",
		    (long)sv->pid);
		kill(sv->pid, SIGKILL);
		while (waitpid(sv->pid, NULL, 0) == -1 && errno == EINTR)
			;
		sv->pid = -1;
	}
	if (sv->daemon->unix_path != NULL &&
	    supervisor_socket_intact(sv->daemon) &&
	    unlink(sv->daemon->unix_path) == -1)
		log_warning("supervisor: %s: %s", sv->daemon->unix_path,
		    strerror(errno));
	if (sv->daemon->socketmap_path != NULL)
		(void)unlink(sv->daemon->socketmap_path);
	pidfile_remove(sv->daemon->pidfile);
}

static void
supervisor_signal(struct supervisor *sv, int sig)
{
	switch (sig) {
	case SIGHUP:
		metrics_add(MC_RELOAD_REQUESTS);
		if (sv->pid == -1) {
			log_info("supervisor: SIGHUP with no worker running; "
			    "the next worker serves what loads now");
			sv->load_pending = 1;
			break;
		}
		log_info("supervisor: SIGHUP: reloading %s",
		    sv->daemon->conf_path);
		supervisor_tell(sv, WORKER_RELOAD);
		sv->load_pending = 1;
		break;
	case SIGUSR1:
		log_info("counters: worker_restarts=%llu reload_requests=%llu",
		    (unsigned long long)metrics_get(MC_WORKER_RESTARTS),
		    (unsigned long long)metrics_get(MC_RELOAD_REQUESTS));
		supervisor_tell(sv, WORKER_COUNTERS);
		break;
	}
}

/* supervisor_block_signals - block the signals it waits for */
void
supervisor_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGCHLD);
	sigprocmask(SIG_BLOCK, set, NULL);
}

/*
 * The next signal of set, or -1 after about a second.  With metrics, a
 * signalfd and the HTTP server's descriptor are polled together and the
 * server does what is ready: one thread, so that forks stay safe.
 */
static int
supervisor_next(struct supervisor *sv, const sigset_t *set)
{
	struct timespec ts;
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	long long left;
	int	 n, wait_ms;

	/* a second at most; no later than a restart that is due */
	wait_ms = 1000;
	if (sv->pid == -1 && (left = sv->restart_at - mono_ms()) < wait_ms)
		wait_ms = left > 0 ? (int)left : 0;
	if (sv->sigfd == -1) {
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000L;
		return sigtimedwait(set, NULL, &ts);
	}
	pfd[0].fd = sv->sigfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = metrics_http_fd();
	pfd[1].events = POLLIN;
	n = poll(pfd, 2, metrics_http_timeout(wait_ms));
	metrics_http_run();
	if (n > 0 && (pfd[0].revents & POLLIN) != 0 &&
	    read(sv->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		return (int)si.ssi_signo;
	return -1;
}

int
supervisor_run(struct daemon *daemon)
{
	struct supervisor sv;
	sigset_t set;
	long long now;
	char	 err[256];
	int	 sig, status = 0;

	memset(&sv, 0, sizeof(sv));
	sv.daemon = daemon;
	sv.pid = -1;
	sv.ctl = -1;
	sv.sigfd = -1;
	supervisor_block_signals(&set);
	signal(SIGPIPE, SIG_IGN);

	if (daemon->metrics_fd != -1) {
		if (metrics_http_start(daemon->metrics_fd, err,
		    sizeof(err)) != 0)
			log_error("metrics %s: %s; serving mail without",
			    daemon->metrics, err);
		else if ((sv.sigfd = signalfd(-1, &set, SFD_CLOEXEC |
		    SFD_NONBLOCK)) == -1) {
			log_error("metrics %s: signalfd: %s; serving mail "
			    "without", daemon->metrics, strerror(errno));
			metrics_http_stop();
		}
	}
	if (supervisor_spawn(&sv, 1) != 0) {
		metrics_http_stop();
		source_gen_clear(&sv.gen);
		return EX_OSERR;
	}
	/* restarts with rules_source: the file's rules, the rows come again */
	if (daemon->config->rules_source != NULL)
		supervisor_load(&sv);
	for (;;) {
		sig = supervisor_next(&sv, &set);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("supervisor: %s: stopping", strsignal(sig));
			break;
		}
		if (sig == SIGCHLD && supervisor_reap(&sv, 0) != 0) {
			status = EX_SOFTWARE;
			break;
		}
		if (sig == SIGHUP || sig == SIGUSR1)
			supervisor_signal(&sv, sig);
		now = mono_ms();
		if (sv.load_pending && (sig == -1 ||
		    (sv.pid == -1 && now >= sv.restart_at))) {
			sv.load_pending = 0;
			supervisor_load(&sv);
		}
		if (sv.pid == -1 && now >= sv.restart_at) {
			metrics_add(MC_WORKER_RESTARTS);
			if (supervisor_spawn(&sv, 0) != 0)
				sv.restart_at = now + SUPERVISOR_MAX_DELAY * 1000LL;
		}
	}
	supervisor_shutdown(&sv, &set);
	config_free(daemon->config);
	daemon->config = NULL;
	source_gen_clear(&sv.gen);
	metrics_http_stop();
	if (sv.sigfd != -1)
		close(sv.sigfd);
	log_info("supervisor %ld: exit %d", (long)getpid(), status);
	return status;
}
