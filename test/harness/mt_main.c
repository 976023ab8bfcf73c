/*
 * milter-test - a milter protocol (version 6) client that plays the MTA
 *
 * Scenario mode:
 *	milter-test -s SOCKET [-t SECONDS] [-v] FILE...
 * Load mode:
 *	milter-test -s SOCKET --load -c CONNECTIONS -n RECIPIENTS
 *	    [-r RCPTS_PER_MESSAGE] [-m MESSAGES_PER_SESSION] [-f RCPTS_FILE]
 *	    [-a CLIENT_IP] [--auth NAME] [--expect KIND [CODE...]]
 *	    [--duration-max SECONDS] [--json] [-t SECONDS]
 *	    [--macro STAGE:NAME=VALUE]...
 *
 * SOCKET is unix:/path, inet:port@host, inet6:port@host or a path.  -t is
 * the time to wait for any one reply (default 10 s).  Exit status: 0 all
 * expectations held, 1 some did not, 2 usage, connection or protocol
 * error (EX_USAGE-like errors are reported as 2 so that scripts can tell
 * "wrong reply" from "could not test").  See README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_load.h"
#include "mt_scenario.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: milter-test -s SOCKET [-t SECONDS] [-v] FILE...\n"
	    "       milter-test -s SOCKET --load -c CONNS -n RCPTS "
	    "[-r RCPTS/MSG] [-m MSGS/SESSION]\n"
	    "           [-f RCPTS_FILE] [-a CLIENT_IP] [--auth NAME] "
	    "[--expect KIND [CODE [XCODE]]]\n"
	    "           [--duration-max SECONDS] [--json] [-t SECONDS]\n"
	    "           [--macro connect|mail|rcpt:NAME=VALUE]...\n");
	exit(2);
}

static long
num_arg(const char *opt, const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "milter-test: %s: bad number \"%s\" "
		    "(%ld..%ld)\n", opt, s, min, max);
		exit(2);
	}
	return v;
}

static double
secs_arg(const char *opt, const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v > 0) ||
	    v > 86400) {
		fprintf(stderr, "milter-test: %s: bad duration \"%s\"\n", opt,
		    s);
		exit(2);
	}
	return v;
}

enum {
	OPT_LOAD = 256, OPT_AUTH, OPT_EXPECT, OPT_DURATION, OPT_JSON,
	OPT_MACRO
};

static const struct option long_opts[] = {
	{ "socket",		required_argument, NULL, 's' },
	{ "timeout",		required_argument, NULL, 't' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "load",		no_argument,	   NULL, OPT_LOAD },
	{ "auth",		required_argument, NULL, OPT_AUTH },
	{ "expect",		required_argument, NULL, OPT_EXPECT },
	{ "duration-max",	required_argument, NULL, OPT_DURATION },
	{ "json",		no_argument,	   NULL, OPT_JSON },
	{ "macro",		required_argument, NULL, OPT_MACRO },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 }
};

int
main(int argc, char **argv)
{
	struct mt_load_opts	 lo;
	const char		*sock = NULL;
	double			 timeout = 10;
	int			 ch, load = 0, verbose = 0, i, rc, worst;

	mt_load_defaults(&lo);
	while ((ch = getopt_long(argc, argv, "a:c:f:hm:n:r:s:t:v", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 't':
			timeout = secs_arg("-t", optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_LOAD:
			load = 1;
			break;
		case 'c':
			lo.connections = (int)num_arg("-c", optarg, 1, 4096);
			break;
		case 'n':
			lo.recipients = num_arg("-n", optarg, 1, 1000000000L);
			break;
		case 'r':
			lo.per_message = (int)num_arg("-r", optarg, 1, 10000);
			break;
		case 'm':
			lo.per_session = (int)num_arg("-m", optarg, 1, 1000000);
			break;
		case 'f':
			lo.rcpt_file = optarg;
			break;
		case 'a':
			lo.client = optarg;
			break;
		case OPT_AUTH:
			lo.auth = optarg;
			break;
		case OPT_EXPECT:
			lo.expect = optarg;
			break;
		case OPT_DURATION:
			lo.duration_max = secs_arg("--duration-max", optarg);
			break;
		case OPT_JSON:
			lo.json = 1;
			break;
		case OPT_MACRO:
			if (lo.nmacros == (int)(sizeof(lo.macros) /
			    sizeof(lo.macros[0]))) {
				fprintf(stderr, "milter-test: too many "
				    "--macro\n");
				exit(2);
			}
			lo.macros[lo.nmacros++] = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (sock == NULL)
		usage();
	lo.socket = sock;
	lo.timeout_ms = (int)(timeout * 1000);
	if (load) {
		if (argc != 0)
			usage();
		return mt_load_run(&lo);
	}
	if (argc == 0)
		usage();
	for (worst = 0, i = 0; i < argc; i++) {
		rc = mt_scenario_run(argv[i], sock, (int)(timeout * 1000),
		    verbose);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}
