/*
 * cmd_reload - "milter-relay reload": SIGHUP to the running daemon
 *
 *	milter-relay reload [-c config] [-P pidfile]
 *
 * Reads the pid file (-P, else the configuration's "pidfile") and sends
 * SIGHUP to the supervisor, which has the worker load the file again.
 * It checks first that the pid belongs to a milter-relay process (its
 * command line names milter-relay), so that a stale pid file never
 * makes it signal an unrelated process.  The result of the reload is in
 * the daemon's log.  Exit 0; EX_USAGE, EX_CONFIG (no pid file known),
 * EX_NOINPUT (no pid file), EX_DATAERR (garbage in it),
 * EX_UNAVAILABLE (no such process, or not milter-relay), EX_NOPERM.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

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

/* 1 when /proc says pid runs milter-relay, 0 when not, -1 unknown */
static int
reload_is_ours(pid_t pid)
{
	char	 path[64], buf[4096];
	ssize_t	 n, i;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, "milter-relay") != NULL;
}

static const char *
reload_pidfile(const char *conf, char *buf, size_t len, int *status)
{
	char	 err[ERRMSG_MAX];
	struct config *config;

	if ((config = config_load(conf, err, sizeof(err))) == NULL) {
		cli_error("reload: %s", err);
		*status = EX_CONFIG;
		return NULL;
	}
	if (config->pidfile == NULL) {
		cli_error("reload: %s sets no pidfile; use -P", conf);
		config_free(config);
		*status = EX_CONFIG;
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
	int	 ch, status;

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
	    (path = reload_pidfile(conf, buf, sizeof(buf), &status)) == NULL)
		return status;
	if (pidfile_read(path, &pid, err, sizeof(err)) != 0) {
		cli_error("reload: %s (is milter-relay running?)", err);
		return errno == ENOENT ? EX_NOINPUT : EX_DATAERR;
	}
	if (reload_is_ours(pid) == 0) {
		cli_error("reload: %s: process %ld is not "
		    "milter-relay (stale pid file?)", path, (long)pid);
		return EX_UNAVAILABLE;
	}
	if (kill(pid, SIGHUP) == -1) {
		cli_error("reload: process %ld: %s",
		    (long)pid, strerror(errno));
		return errno == EPERM ? EX_NOPERM : EX_UNAVAILABLE;
	}
	printf("milter-relay: reload requested from process %ld; see the "
	    "log for the result\n", (long)pid);
	return 0;
}
