/*
 * daemon - start-up state shared by main, the supervisor and the worker
 *
 * main() fills a struct daemon: options, the first configuration, the
 * milter socket (opened through libmilter as root, so that every worker
 * inherits the listening descriptor) and the socketmap socket; then it
 * drops privileges and calls supervisor_run().
 *
 * supervisor_run() is the parent process: it owns the signals (SIGHUP
 * reload, SIGTERM/SIGINT stop, SIGUSR1 counters), writes and removes the
 * pid file, serves the metrics over HTTP (metrics_http.c) when
 * metrics_fd is open, forks the worker and restarts it with a bounded
 * backoff when it dies.  It returns the process exit status.
 * supervisor_block_signals() blocks those signals and puts them in set:
 * main() calls it first, so that a signal during start-up waits for the
 * supervisor.
 *
 * worker_run() is the child: it serves the milter (smfi_main()) and the
 * socketmap, and reads one-byte commands from the supervisor on ctl_fd:
 * WORKER_RELOAD (load the file again, swap it in or keep the old rules
 * and log why), WORKER_COUNTERS (log counters), WORKER_STOP (stop
 * cleanly); end of file on ctl_fd means the supervisor is gone and stops
 * the worker too.  It never returns.
 *
 * listen_prepare() removes a stale unix socket (only when connect(2) to
 * it is refused: nothing listens) and refuses to start when something
 * listens; listen_finish() checks that the socket file is a socket of
 * the given mode (set by listen_umask() around bind(2)) and gives it its
 * owner without following links.  Both 0 or -1 with err.
 */
#ifndef MR_DAEMON_H
#define MR_DAEMON_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "source.h"

#define WORKER_RELOAD	'R'
#define WORKER_COUNTERS	'C'
#define WORKER_STOP	'S'

struct daemon {
	char		*conf_path;
	char		*socket;	/* milter socket spec */
	char		*socketmap;	/* NULL: none */
	char		*metrics;	/* HTTP endpoint, NULL: none */
	int		 metrics_fd;	/* -1: none */
	char		*pidfile;	/* NULL: none */
	int		 foreground;
	int		 socketmap_fd;	/* -1: none */
	char		*unix_path;	/* milter socket file, or NULL */
	char		*socketmap_path; /* socketmap file, or NULL */
	dev_t		 sock_dev;	/* identity of the socket file */
	ino_t		 sock_ino;
	struct config	*config;	/* the first worker's, then NULL */
	struct source_gen gen;		/* what config's next generation is
					   built from (the start load's mark
					   and file rules, the domains_file's
					   record): the worker's to take */
};

int	supervisor_run(struct daemon *daemon);
void	supervisor_block_signals(sigset_t *set);
void	worker_run(struct daemon *daemon, int ctl_fd, int first)
	    __attribute__((noreturn));

int	listen_unix_path(const char *spec, char *path, size_t pathlen);
int	listen_prepare(const char *spec, char *err, size_t errlen);
int	listen_finish(const char *spec, int mode, uid_t uid, gid_t gid,
	    char *err, size_t errlen);
mode_t	listen_umask(int mode);

#endif
