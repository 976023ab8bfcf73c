/*
 * main - milter-relay: options, subcommands, start-up of the daemon
 *
 *	milter-relay [-ft] [-c config] [-p socket] [-m socketmap]
 *	    [-M metrics] [-u user] [-g group] [-P pidfile]
 *	milter-relay -V | -h
 *	milter-relay query|reload|export|import ...	(see commands.h)
 *
 * Start-up runs as root: load the configuration (exit EX_CONFIG with
 * the error), open the milter socket through libmilter (a stale unix
 * socket is removed only when nothing listens on it; the mode comes from
 * socket_mode, default 0660, the owner from -u/-g so that a Postfix in
 * group postfix can connect), the socketmap socket and the metrics
 * socket (HTTP, served by the supervisor), create the shared counters
 * (metrics.c), go to the
 * background unless -f, write the pid file, drop privileges
 * (initgroups, setgid, setuid), then become the supervisor
 * (supervisor.c), which forks the worker.  Options override the file's
 * settings.  -t only checks the configuration (with maps_dir, also that
 * the static tables can express the rule set): "FILE: OK, N rules" and
 * exit 0, or the error and exit 1 (as "nginx -t" and "postfix check"
 * do, so that scripts test one status).  Before the OK line it warns, on
 * standard error, about a socketmap or metrics socket other hosts can
 * reach (sockspec_local()), the rules static mode reaches only in their
 * A-label form (staticmaps_idn_rules()), and what mtacheck.c finds in
 * the rules, the directories the daemon writes and the Postfix beside
 * it; the start log has the warnings about the sockets and the
 * directories (and staticmaps.c logs the A-label rules it writes).
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "authfile.h"
#include "config.h"
#include "ruleset.h"
#include "sockspec.h"
#include "strutil.h"

#include "callbacks.h"
#include "cli.h"
#include "commands.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "mtacheck.h"
#include "pidfile.h"
#include "source.h"
#include "staticmaps.h"
#include "socketmap.h"

#ifndef MR_VERSION
#define MR_VERSION	"unknown"
#endif

#define DEFAULT_SOCKET_MODE	0660

struct options {
	const char	*conf;
	const char	*socket;
	const char	*socketmap;
	const char	*metrics;
	const char	*user;
	const char	*group;
	const char	*pidfile;
	int		 foreground;
	int		 test;
};

struct creds {
	uid_t		 uid;		/* -1: no change */
	gid_t		 gid;		/* -1: no change */
	const char	*user;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: milter-relay [-ft] [-c config] [-p socket] "
	    "[-m socketmap]\n"
	    "                    [-M metrics] [-u user] [-g group] "
	    "[-P pidfile]\n"
	    "       milter-relay -V | -h\n"
	    "       milter-relay query [-c config] [-a client] [--auth] "
	    "address ...\n"
	    "       milter-relay reload [-c config] [-P pidfile]\n"
	    "       milter-relay stats [-c config] [-M metrics]\n"
	    "       milter-relay export [-c config] format\n"
	    "       milter-relay import [-n] [-o output | "
	    "--to postgresql:conninfo] format file ...\n");
}

static int
subcommand(int argc, char **argv, int *status)
{
	static const struct {
		const char *name;
		int	(*fn)(int, char **);
	} cmds[] = {
		{ "query", cmd_query },
		{ "reload", cmd_reload },
		{ "export", cmd_export },
		{ "import", cmd_import },
		{ "stats", cmd_stats },
	};
	size_t	 i;

	if (argc < 2)
		return 0;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0) {
			*status = cmds[i].fn(argc - 1, argv + 1);
			return 1;
		}
	return 0;
}

static int
version(void)
{
	unsigned int maj, min, pl;

	smfi_version(&maj, &min, &pl);
	printf("milter-relay %s (libmilter %u.%u.%u)\n", MR_VERSION, maj, min,
	    pl);
	return 0;
}

/* say_stderr - a finding of -t, on standard error */
static void
say_stderr(const char *msg)
{
	cli_error("warning: %s", msg);
}

/* say_log - a finding at start, in the log */
static void
say_log(const char *msg)
{
	log_warning("%s", msg);
}

/* listen_warn - the socketmap or the metrics reachable from elsewhere */
static void
listen_warn(const char *socketmap, const char *metrics,
    void (*say)(const char *))
{
	const char	*spec[2] = { socketmap, metrics };
	const char	*what[2] = { "socketmap", "metrics" };
	char		 msg[512];
	int		 i;

	for (i = 0; i < 2; i++) {
		if (spec[i] == NULL || sockspec_local(spec[i]))
			continue;
		snprintf(msg, sizeof(msg), "%s \"%s\" can be reached from "
		    "other hosts, without authentication: %s; keep it on "
		    "loopback (\"inet:PORT\") or behind a firewall", what[i],
		    spec[i], i == 0 ? "they read every relay decision and "
		    "route, and through the rcpt map make callouts" :
		    "they read the counters and the inline rules' patterns");
		say(msg);
	}
}

static int
config_test(const char *path)
{
	char	 err[ERRMSG_MAX];
	struct config *config;

	if ((config = source_load(path, 0, NULL, err, sizeof(err))) == NULL) {
		cli_error("%s", err);
		return 1;
	}
	if (staticmaps_check(config, err, sizeof(err)) == -1) {
		cli_error("%s: maps_dir: static mode %s", path, err);
		config_free(config);
		return 1;
	}
	listen_warn(config->socketmap, config->metrics, say_stderr);
	(void)staticmaps_idn_rules(config, say_stderr);
	(void)mtacheck_rules(config, say_stderr);
	(void)mtacheck_dirs(config, say_stderr);
	(void)mtacheck_postfix(config, say_stderr);
	printf("%s: OK, %zu rules\n", path, ruleset_count(config->rules));
	config_free(config);
	return 0;
}

static int
creds_resolve(const char *user, const char *group, struct creds *c)
{
	struct passwd *pw;
	struct group *gr;

	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->user = user;
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			cli_error("no such user: %s", user);
			return -1;
		}
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			cli_error("no such group: %s", group);
			return -1;
		}
		c->gid = gr->gr_gid;
	}
	return 0;
}

static int
creds_drop(const struct creds *c)
{
	if (c->gid != (gid_t)-1) {
		if (c->user != NULL && geteuid() == 0 &&
		    initgroups(c->user, c->gid) == -1) {
			log_error("initgroups(%s): %s", c->user,
			    strerror(errno));
			return -1;
		}
		if (c->user == NULL && geteuid() == 0 &&
		    setgroups(1, &c->gid) == -1) {
			log_error("setgroups: %s", strerror(errno));
			return -1;
		}
		if (setgid(c->gid) == -1) {
			log_error("setgid(%ld): %s", (long)c->gid,
			    strerror(errno));
			return -1;
		}
	}
	if (c->uid != (uid_t)-1) {
		if (setuid(c->uid) == -1) {
			log_error("setuid(%ld): %s", (long)c->uid,
			    strerror(errno));
			return -1;
		}
		if (c->uid != 0 && setuid(0) == 0) {
			log_error("privileges could be regained; refusing "
			    "to run");
			return -1;
		}
	} else if (geteuid() == 0)
		log_warning("running as root: set \"user\" in the "
		    "configuration or use -u");
	return 0;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL) {
		cli_error("out of memory");
		exit(EX_OSERR);
	}
	return p;
}

static int
open_milter_socket(struct daemon *d, const struct creds *c, int mode)
{
	char	 err[ERRMSG_MAX], path[PATH_MAX];
	struct stat st;
	mode_t	 old;
	int	 r;

	/* a silent MTA-side peer is dropped after milter_timeout */
	if (smfi_register(*callbacks_desc()) != MI_SUCCESS ||
	    smfi_setconn(d->socket) != MI_SUCCESS ||
	    smfi_settimeout(d->config->milter_timeout) != MI_SUCCESS) {
		log_error("libmilter: cannot register the filter on %s",
		    d->socket);
		return EX_SOFTWARE;
	}
	if (listen_prepare(d->socket, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return EX_UNAVAILABLE;
	}
	/* the mode at bind(2): never a chmod by name as root */
	old = umask(listen_umask(mode));
	r = smfi_opensocket(0);
	umask(old);
	if (r != MI_SUCCESS) {
		log_error("cannot open the milter socket %s", d->socket);
		return EX_UNAVAILABLE;
	}
	if (listen_unix_path(d->socket, path, sizeof(path)) == 1) {
		d->unix_path = xstrdup(path);
		if (lstat(path, &st) == 0) {
			d->sock_dev = st.st_dev;
			d->sock_ino = st.st_ino;
		}
	}
	if (listen_finish(d->socket, mode, c->uid, c->gid, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		return EX_NOPERM;
	}
	return 0;
}

static int
open_socketmap(struct daemon *d, const struct creds *c, int mode)
{
	char	 err[ERRMSG_MAX], path[PATH_MAX];
	mode_t	 old;

	if (d->socketmap == NULL)
		return 0;
	if (listen_prepare(d->socketmap, err, sizeof(err)) != 0) {
		log_error("socketmap: %s", err);
		return EX_UNAVAILABLE;
	}
	old = umask(listen_umask(mode));
	d->socketmap_fd = socketmap_open(d->socketmap, err, sizeof(err));
	umask(old);
	if (d->socketmap_fd == -1) {
		log_error("socketmap: %s", err);
		return EX_UNAVAILABLE;
	}
	if (listen_unix_path(d->socketmap, path, sizeof(path)) == 1)
		d->socketmap_path = xstrdup(path);
	if (listen_finish(d->socketmap, mode, c->uid, c->gid, err,
	    sizeof(err)) != 0) {
		log_error("socketmap: %s", err);
		return EX_NOPERM;
	}
	return 0;
}

static int
open_metrics(struct daemon *d)
{
	char	 err[1024];

	if (d->metrics == NULL)
		return 0;
	if ((d->metrics_fd = metrics_http_open(d->metrics, err,
	    sizeof(err))) == -1) {
		log_error("metrics: %s", err);
		return EX_UNAVAILABLE;
	}
	return 0;
}

static void
startup_cleanup(struct daemon *d)
{
	if (d->unix_path != NULL)
		(void)unlink(d->unix_path);
	if (d->socketmap_path != NULL)
		(void)unlink(d->socketmap_path);
}

static int
run_daemon(const struct options *o)
{
	/* static: the worker's pointers stay reachable until exit */
	static struct daemon d;
	char	 err[ERRMSG_MAX], abspath[PATH_MAX];
	struct creds c;
	struct config *config;
	struct group *gr;
	struct passwd *pw;
	sigset_t sigs;
	int	 mode, status, cached;

	/*
	 * A SIGTERM during start-up waits for the supervisor, which then
	 * stops cleanly (socket and pid file removed).
	 */
	supervisor_block_signals(&sigs);
	memset(&d, 0, sizeof(d));
	d.socketmap_fd = -1;
	d.metrics_fd = -1;
	d.foreground = o->foreground;
	/* -u, -g: the owner and group an auth_file may have */
	authfile_service(o->user != NULL && (pw = getpwnam(o->user)) != NULL ?
	    pw->pw_uid : (uid_t)-1, o->group != NULL &&
	    (gr = getgrnam(o->group)) != NULL ? gr->gr_gid : (gid_t)-1);
	/*
	 * Kept for the first worker: its first reload diffs the
	 * domains_file, its first read of rules_source (the listener's
	 * catch-up) reads the change log from this load's snapshot.
	 */
	if ((config = source_load_gen(o->conf, SOURCE_CACHE, &cached, &d.gen,
	    err, sizeof(err))) == NULL) {
		cli_error("%s", err);
		return EX_CONFIG;
	}
	if (cached)
		cli_error("warning: %s", err);
	/* reloads run after chdir("/") */
	d.conf_path = xstrdup(realpath(o->conf, abspath) != NULL ?
	    abspath : o->conf);
	d.config = config;
	d.socket = xstrdup(o->socket != NULL ? o->socket : config->socket);
	d.socketmap = xstrdup(o->socketmap != NULL ? o->socketmap :
	    config->socketmap);
	d.metrics = xstrdup(o->metrics != NULL ? o->metrics :
	    config->metrics);
	d.pidfile = xstrdup(o->pidfile != NULL ? o->pidfile :
	    config->pidfile);
	if (d.socket == NULL) {
		cli_error("no milter socket: set \"socket\" in %s or use -p",
		    o->conf);
		return EX_USAGE;
	}
	if (creds_resolve(o->user != NULL ? o->user : config->user,
	    o->group != NULL ? o->group : config->group, &c) != 0)
		return EX_NOUSER;
	/* start-up errors go to the terminal, later ones to syslog */
	if (log_open("milter-relay", 1, config->syslog_facility) != 0) {
		cli_error("unknown syslog facility %s", config->syslog_facility);
		return EX_CONFIG;
	}
	mode = config->socket_mode >= 0 ? config->socket_mode :
	    DEFAULT_SOCKET_MODE;
	if ((status = open_milter_socket(&d, &c, mode)) != 0 ||
	    (status = open_socketmap(&d, &c, mode)) != 0 ||
	    (status = open_metrics(&d)) != 0) {
		startup_cleanup(&d);
		return status;
	}
	if (!o->foreground && daemon(0, 0) == -1) {
		log_error("daemon: %s", strerror(errno));
		startup_cleanup(&d);
		return EX_OSERR;
	}
	(void)log_open("milter-relay", o->foreground, config->syslog_facility);
	listen_warn(d.socketmap, d.metrics, say_log);
	(void)mtacheck_dirs(config, say_log);
	if (metrics_init() != 0)
		log_warning("metrics: no shared memory (%s); counters start "
		    "over when a worker restarts", strerror(errno));
	if (d.pidfile != NULL && pidfile_write(d.pidfile, err,
	    sizeof(err)) != 0) {
		log_error("pidfile: %s", err);
		startup_cleanup(&d);
		return EX_CANTCREAT;
	}
	if (creds_drop(&c) != 0) {
		startup_cleanup(&d);
		pidfile_remove(d.pidfile);
		return EX_NOPERM;
	}
	log_info("milter-relay %s starting: %s, %zu rules, socket %s",
	    MR_VERSION, d.conf_path, ruleset_count(config->rules), d.socket);
	status = supervisor_run(&d);
	free(d.conf_path);
	free(d.socket);
	free(d.socketmap);
	free(d.metrics);
	free(d.pidfile);
	free(d.unix_path);
	free(d.socketmap_path);
	return status;
}

int
main(int argc, char **argv)
{
	struct options o;
	int	 ch, status;

	if (subcommand(argc, argv, &status))
		return status;
	memset(&o, 0, sizeof(o));
	o.conf = CONFIG_DEFAULT_PATH;
	while ((ch = getopt(argc, argv, "c:fg:hm:M:p:P:tu:V")) != -1) {
		switch (ch) {
		case 'c':
			o.conf = optarg;
			break;
		case 'f':
			o.foreground = 1;
			break;
		case 'g':
			o.group = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'm':
			o.socketmap = optarg;
			break;
		case 'M':
			o.metrics = optarg;
			break;
		case 'p':
			o.socket = optarg;
			break;
		case 'P':
			o.pidfile = optarg;
			break;
		case 't':
			o.test = 1;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'V':
			return version();
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (o.test)
		return config_test(o.conf);
	return run_daemon(&o);
}
