/*
 * cmd_query - "milter-relay query": the decision for addresses, offline
 *
 *	milter-relay query [-c config] [-a CLIENT_IP] [--auth] ADDRESS...
 *
 * Loads the configuration and prints one line per address, through the
 * same decide() the milter calls at RCPT:
 *
 *	ADDRESS: OUTCOME [enforced=OUTCOME] [reply="CODE X.Y.Z TEXT"]
 *	    rule=PATTERN|- [route=TRANSPORT:NEXTHOP] trusted=yes|no
 *	    reason="..."
 *
 * (one line; "enforced=" only in log-only mode when enforcing would
 * answer differently; "reply=" for reject and tempfail; "route=" when
 * the rule names a smart host).  -a gives the client address (without
 * it the client has no address, as a unix-socket client); --auth makes
 * it SMTP-authenticated.  Exit 0, EX_CONFIG on a configuration error,
 * EX_USAGE on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "decide.h"
#include "maps.h"
#include "netaddr.h"
#include "strutil.h"

#include "cli.h"
#include "commands.h"
#include "log.h"

static void
query_usage(void)
{
	fprintf(stderr, "usage: milter-relay query [-c config] [-a client] "
	    "[--auth] address ...\n");
}

static void
query_print(const struct config *config, const struct client *client,
    const char *addr)
{
	struct decision d;
	char	 reply[REPLY_MAX + 32], q[REPLY_MAX * 4 + 64];
	char	 route[MAPS_ANSWER_MAX], a[1024];

	decide(config, client, addr, strlen(addr), &d);
	printf("%s: %s", log_quote(addr, strlen(addr), 0, a, sizeof(a)),
	    decision_outcome_name(d.outcome));
	if (d.enforced != d.outcome)
		printf(" enforced=%s", decision_outcome_name(d.enforced));
	if (d.rcode[0] != '\0' && (d.outcome == OUTCOME_REJECT ||
	    d.outcome == OUTCOME_TEMPFAIL || d.enforced != d.outcome)) {
		snprintf(reply, sizeof(reply), "%s %s %s", d.rcode, d.xcode,
		    d.text);
		printf(" reply=\"%s\"", log_quote(reply, strlen(reply), 1, q,
		    sizeof(q)));
	}
	printf(" rule=%s", d.pattern[0] != '\0' ? d.pattern : "-");
	if (d.rule != NULL && maps_route(d.rule, MAP_POSTFIX_TRANSPORT,
	    route, sizeof(route)) == 0)
		printf(" route=%s", route);
	printf(" trusted=%s reason=\"%s\"\n", d.trusted ? "yes" : "no",
	    d.reason != NULL ? d.reason : "");
}

int
cmd_query(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "auth", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	 err[ERRMSG_MAX];
	const char *conf = CONFIG_DEFAULT_PATH, *client_ip = NULL;
	struct client client;
	struct config *config;
	int	 ch, i;

	memset(&client, 0, sizeof(client));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "a:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			client_ip = optarg;
			break;
		case 'A':
			client.authenticated = 1;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'h':
			query_usage();
			return 0;
		default:
			query_usage();
			return EX_USAGE;
		}
	}
	if (optind == argc) {
		query_usage();
		return EX_USAGE;
	}
	if (client_ip != NULL) {
		if (netaddr_parse(client_ip, &client.addr) != 0) {
			cli_error("query: not an IP address: %s",
			    client_ip);
			return EX_USAGE;
		}
		client.has_addr = 1;
	}
	if ((config = config_load(conf, err, sizeof(err))) == NULL) {
		cli_error("%s", err);
		return EX_CONFIG;
	}
	for (i = optind; i < argc; i++)
		query_print(config, &client, argv[i]);
	config_free(config);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("query: stdout: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}
