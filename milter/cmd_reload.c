/*
 * cmd_reload - "milter-relay reload": SIGHUP to the running daemon
 *
 * SYNOPSIS
 *	milter-relay reload [-c config] [-P pidfile]
 *
 * DESCRIPTION
 *	Reads the pid file (-P, else the configuration's "pidfile") and
 *	sends SIGHUP to the supervisor, which has the worker load the file
 *	again.  It checks first that the pid is the process that wrote the
 *	file and still holds its lock (pidfile_owner()), so that a stale pid
 *	file or a recycled pid never makes it signal another process.
 *
 *	It also loads the configuration itself.  A file with an error is
 *	named on stderr, and the daemon is still signalled: its reload then
 *	fails, which it logs ("reload failed: FILE:LINE: reason; keeping
 *	the previous configuration") and counts (reloads_total{result=
 *	"failed"}), as for any other reload.  The pid file of a broken file
 *	is its "pidfile" setting when libconfig can still read the file.
 *
 * DIAGNOSTICS
 *	Exit 0; EX_CONFIG when the file has an error (the daemon was told,
 *	or no pid file is known), EX_USAGE, EX_NOINPUT (no pid file),
 *	EX_DATAERR (garbage in it), EX_UNAVAILABLE (no such process, or
 *	not the one that wrote the pid file), EX_NOPERM.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libconfig.h>

#include "config.h"
#include "strutil.h"

#include "cli.h"
#include "commands.h"
#include "pidfile.h"

static void
reload_usage(void)
{
	fprintf(stderr, "usage: milter-relay reload [-c config] "
	    "[-P pidfile]\n");
}

/* reload_pidfile_setting - "pidfile" of a file config_load() refused */
static const char *
reload_pidfile_setting(const char *conf, char *buf, size_t len)
{
	config_t	 cf;
	const char	*v;
	int		 found = 0;

	config_init(&cf);
	if (config_read_file(&cf, conf) == CONFIG_TRUE &&
	    config_lookup_string(&cf, "pidfile", &v) == CONFIG_TRUE) {
		snprintf(buf, len, "%s", v);
		found = 1;
	}
	config_destroy(&cf);
	return found ? buf : NULL;
}

/*
 * reload_pidfile - the pid file named by conf; *broken set when conf has
 * an error (then the pid file is read leniently, or NULL)
 */
static const char *
reload_pidfile(const char *conf, char *buf, size_t len, int *broken)
{
	char	 err[ERRMSG_MAX];
	struct config *config;

	*broken = 0;
	if ((config = config_load(conf, err, sizeof(err))) == NULL) {
		*broken = 1;
		cli_error("reload: %s", err);
		return reload_pidfile_setting(conf, buf, len);
	}
	if (config->pidfile == NULL) {
		cli_error("reload: %s sets no pidfile; use -P", conf);
		config_free(config);
		return NULL;
	}
	snprintf(buf, len, "%s", config->pidfile);
	config_free(config);
	return buf;
}

int
cmd_reload(int argc, char **argv)
{
	char	 err[ERRMSG_MAX], buf[PATH_MAX];
	const char *conf = CONFIG_DEFAULT_PATH, *path = NULL;
	pid_t	 pid;
	int	 ch, broken = 0, ours;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:hP:")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'P':
			path = optarg;
			break;
		case 'h':
			reload_usage();
			return 0;
		default:
			reload_usage();
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		reload_usage();
		return EX_USAGE;
	}
	if (path == NULL &&
	    (path = reload_pidfile(conf, buf, sizeof(buf), &broken)) == NULL) {
		if (broken)
			cli_error("reload: no pid file known: use -P, so that "
			    "the daemon logs and counts the failed reload");
		return EX_CONFIG;
	}
	if (pidfile_read(path, &pid, err, sizeof(err)) != 0) {
		cli_error("reload: %s (is milter-relay running?)", err);
		return errno == ENOENT ? EX_NOINPUT : EX_DATAERR;
	}
	if ((ours = pidfile_owner(path, pid, err, sizeof(err))) == -1) {
		cli_error("reload: %s", err);
		return EX_NOINPUT;
	}
	if (ours == 0) {
		cli_error("reload: %s: process %ld did not write it or has "
		    "ended (stale pid file?); nothing signalled", path,
		    (long)pid);
		return EX_UNAVAILABLE;
	}
	if (kill(pid, SIGHUP) == -1) {
		cli_error("reload: process %ld: %s",
		    (long)pid, strerror(errno));
		return errno == EPERM ? EX_NOPERM : EX_UNAVAILABLE;
	}
	if (broken) {
		cli_error("reload: process %ld told: it logs the failed reload "
		    "and keeps the previous configuration", (long)pid);
		return EX_CONFIG;
	}
	printf("milter-relay: reload requested from process %ld; see the "
	    "log for the result\n", (long)pid);
	return 0;
}
