/*
 * cmd_stats - "milter-relay stats": the running daemon's counters
 *
 *	milter-relay stats [-c config] [-M metrics]
 *
 * Asks the daemon's metrics endpoint (-M, else the configuration's
 * "metrics"; a wildcard host is asked on loopback) for GET /metrics and
 * prints its samples, one "name{labels} value" a line, without the HELP
 * and TYPE comments: the figures Prometheus sees, for a shell and grep.
 * The request is one HTTP/1.0 GET on a blocking socket with a time limit
 * of STATS_TIMEOUT seconds.  Exit 0; EX_USAGE (also for a unix: endpoint),
 * EX_CONFIG (no endpoint known), EX_UNAVAILABLE (cannot connect),
 * EX_PROTOCOL (no 200 answer).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "sockspec.h"

#include "cli.h"
#include "commands.h"

#define STATS_TIMEOUT	10
#define STATS_MAX	(16 * 1024 * 1024)

static void
stats_usage(void)
{
	fprintf(stderr, "usage: milter-relay stats [-c config] "
	    "[-M metrics]\n");
}

/* stats_connect - "inet:PORT@HOST" or "inet6:PORT@HOST"; -2 bad spec */
static int
stats_connect(const char *spec)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { STATS_TIMEOUT, 0 };
	enum sockspec_kind kind;
	struct sockspec_inet in;
	char	 port[16], host[SOCKSPEC_HOST_MAX + 1];
	const char *p, *why;
	int	 fd = -1, rc, family;

	if (sockspec_parse(spec, &kind, &p) == -1 || kind == SOCKSPEC_UNIX ||
	    sockspec_inet(p, &in, &why) == -1) {
		cli_error("stats: %s: want " SOCKSPEC_INET_SYNTAX, spec);
		return -2;
	}
	family = kind == SOCKSPEC_INET6 ? AF_INET6 : AF_INET;
	snprintf(port, sizeof(port), "%u", in.port);
	snprintf(host, sizeof(host), "%s", in.host);
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "%s", family == AF_INET6 ?
		    "::1" : "127.0.0.1");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		cli_error("stats: %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		cli_error("stats: %s: %s", spec, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* stats_fetch - the whole answer, NUL-terminated, or NULL */
static char *
stats_fetch(int fd, size_t *lenp)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n"
	    "Host: localhost\r\nUser-Agent: milter-relay-stats\r\n\r\n";
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(req) - 1)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= STATS_MAX ||
			    (nbuf = realloc(buf, cap + 65536)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nbuf;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (buf != NULL)
		buf[len] = '\0';
	*lenp = len;
	return buf;
}

static int
stats_print(const char *spec)
{
	char	*buf, *body, *line, *nl;
	size_t	 len;
	int	 fd;

	if ((fd = stats_connect(spec)) < 0)
		return fd == -2 ? EX_USAGE : EX_UNAVAILABLE;
	buf = stats_fetch(fd, &len);
	close(fd);
	if (buf == NULL || (strncmp(buf, "HTTP/1.0 200", 12) != 0 &&
	    strncmp(buf, "HTTP/1.1 200", 12) != 0) ||
	    (body = strstr(buf, "\r\n\r\n")) == NULL) {
		cli_error("stats: %s: no metrics in the answer", spec);
		free(buf);
		return EX_PROTOCOL;
	}
	for (line = body + 4; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line) - 1;
		if (*line != '#' && nl > line)
			printf("%.*s\n", (int)(nl - line), line);
		if (nl[1] == '\0')
			break;
	}
	free(buf);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

int
cmd_stats(int argc, char **argv)
{
	char	 err[1024], spec[300];
	struct config *config;
	const char *conf = CONFIG_DEFAULT_PATH, *metrics = NULL;
	int	 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:hM:")) != -1) {
		switch (ch) {
		case 'h':
			stats_usage();
			return 0;
		case 'c':
			conf = optarg;
			break;
		case 'M':
			metrics = optarg;
			break;
		default:
			stats_usage();
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		stats_usage();
		return EX_USAGE;
	}
	if (metrics == NULL) {
		if ((config = config_load(conf, err, sizeof(err))) == NULL) {
			cli_error("stats: %s", err);
			return EX_CONFIG;
		}
		snprintf(spec, sizeof(spec), "%s", config->metrics != NULL ?
		    config->metrics : "");
		config_free(config);
		if (spec[0] == '\0') {
			cli_error("stats: %s sets no metrics; use -M", conf);
			return EX_CONFIG;
		}
		metrics = spec;
	}
	return stats_print(metrics);
}
