/*
 * cmd_query - "milter-relay query": the decision for addresses, offline
 *
 *	milter-relay query [-c config] [-a CLIENT_IP] [--auth] [--verify]
 *	    [--mailer NAME] ADDRESS...
 *
 * Loads the configuration and prints one line per address, through the
 * same decide() the milter calls at RCPT:
 *
 *	ADDRESS: OUTCOME [enforced=OUTCOME] [reply="CODE X.Y.Z TEXT"]
 *	    rule=PATTERN|- [route=TRANSPORT:NEXTHOP] [auth=FILE]
 *	    [recipients=...]
 *	    trusted=yes|no
 *	    reason="..."
 *
 * (one line; "enforced=" only in log-only mode when enforcing would answer
 * differently; "reply=" for reject and tempfail; "route=" when the rule
 * names a smart host; "auth=FILE" when its smart hosts get the credentials
 * of that auth_file (the file, never what it holds); "recipients=list:FILE" or "recipients=verify" when
 * the rule checks its users).  -a gives the client address (without it the
 * client has no address, as a unix-socket client); --auth makes it
 * SMTP-authenticated; --mailer asks as the MTA would after resolving the
 * recipient to the delivery agent NAME ({rcpt_mailer}, e.g. "local": a
 * name no rule covers is then "MTA final delivery").  For a recipients =
 * "verify" rule the line says "recipients=verify hops=HOP,..." (what a
 * callout would ask); with --verify the callout is made (not through the
 * daemon's cache, which it neither reads nor fills) and the line shows the
 * decision it leads to, with "verify=valid|invalid|unknown hop=HOST:PORT
 * verify_reply="..."".  Exit 0, EX_CONFIG on a configuration error,
 * EX_USAGE on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "address.h"
#include "authfile.h"
#include "callout.h"
#include "config.h"
#include "decide.h"
#include "maps.h"
#include "netaddr.h"
#include "rcptlist.h"
#include "strutil.h"

#include "cli.h"
#include "commands.h"
#include "log.h"
#include "source.h"
#include "verify.h"

static void
query_usage(void)
{
	fprintf(stderr, "usage: milter-relay query [-c config] [-a client] "
	    "[--auth] [--verify] [--mailer name] address ...\n");
}

/* query_hops - the hops a callout would ask, "a:25,mx:b:25" */
static void
query_hops(const struct decision *d, const char *addr, char *out,
    size_t outlen)
{
	struct callout_hop	 hops[CALLOUT_HOPS_MAX];
	struct address		 a;
	const char		*why;
	size_t			 i, n, o;

	out[0] = '\0';
	if (address_parse(addr, strlen(addr), &a, &why) == -1)
		return;
	n = callout_hops(d->rule, a.domain, hops, CALLOUT_HOPS_MAX);
	for (i = o = 0; i < n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s%s%s%s:%u",
		    i > 0 ? "," : "", hops[i].mx ? "mx:" : "",
		    strchr(hops[i].host, ':') ? "[" : "", hops[i].host,
		    strchr(hops[i].host, ':') ? "]" : "", hops[i].port);
}

/* query_verify - the callout for a verify rule's recipient, made now */
static void
query_verify(const struct config *config, const char *addr,
    struct decision *d, struct callout_answer *ans)
{
	struct callout_hop	 hops[CALLOUT_HOPS_MAX];
	struct address		 a;
	const char		*why;
	char			 path[LOCAL_MAX * 2 + DOMAIN_MAX + 8];
	char			 helo[256];
	size_t			 n;

	memset(ans, 0, sizeof(*ans));
	ans->status = RECIPIENT_UNKNOWN;
	snprintf(ans->reply, sizeof(ans->reply), "%s", VERIFY_CANNOT);
	if (address_parse(addr, strlen(addr), &a, &why) == -1 ||
	    a.kind != ADDR_DOMAIN ||
	    (n = callout_hops(d->rule, a.domain, hops, CALLOUT_HOPS_MAX)) == 0 ||
	    callout_rcpt_path(a.local, a.domain, path, sizeof(path)) == -1) {
		decide_recipient(config, addr, strlen(addr), RECIPIENT_UNKNOWN,
		    VERIFY_CANNOT, d);
		return;
	}
	if (config->verify.helo_name != NULL)
		snprintf(helo, sizeof(helo), "%s", config->verify.helo_name);
	else if (gethostname(helo, sizeof(helo) - 1) == -1)
		snprintf(helo, sizeof(helo), "localhost");
	callout_probe(hops, n, helo, path, config->verify.timeout_ms, ans);
	decide_recipient(config, addr, strlen(addr), ans->status,
	    verify_reason(ans->status), d);
}

static void
query_print(const struct config *config, const struct client *client,
    const char *mailer, const char *addr, int verify)
{
	struct decision d;
	struct callout_answer ans;
	char	 reply[REPLY_MAX + 32], q[REPLY_MAX * 4 + 64];
	char	 route[MAPS_ANSWER_MAX], a[1024], hops[1024];
	int	 verified = 0;

	decide_rcpt(config, client, addr, strlen(addr), mailer, &d);
	if (d.verify)
		query_hops(&d, addr, hops, sizeof(hops));
	if (d.verify && verify) {
		query_verify(config, addr, &d, &ans);
		verified = 1;
	}
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
	if (d.rule != NULL && d.rule->auth != NULL)
		printf(" auth=%s", d.rule->auth->path);
	if (d.rule != NULL && d.rule->recipients == RECIPIENTS_LIST)
		printf(" recipients=list:%s", rcptlist_path(d.rule->rcptlist));
	else if (d.rule != NULL && d.rule->recipients == RECIPIENTS_VERIFY)
		printf(" recipients=verify");
	if (d.verify || verified)
		printf(" hops=%s", hops[0] != '\0' ? hops : "-");
	if (verified)
		printf(" verify=%s hop=%s verify_reply=\"%s\"",
		    verify_status_name(ans.status),
		    ans.hop[0] != '\0' ? ans.hop : "-",
		    log_quote(ans.reply, strlen(ans.reply), 1, q, sizeof(q)));
	printf(" trusted=%s reason=\"%s\"\n", d.trusted ? "yes" : "no",
	    decision_reason(&d));
}

int
cmd_query(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "auth", no_argument, NULL, 'A' },
		{ "verify", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "mailer", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 }
	};
	char	 err[ERRMSG_MAX];
	const char *conf = CONFIG_DEFAULT_PATH, *client_ip = NULL;
	const char *mailer = NULL;
	struct client client;
	struct config *config;
	int	 ch, i, verify = 0;

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
		case 'V':
			verify = 1;
			break;
		case 'M':
			mailer = optarg;
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
	if ((config = source_load(conf, 0, NULL, err, sizeof(err))) == NULL) {
		cli_error("%s", err);
		return EX_CONFIG;
	}
	for (i = optind; i < argc; i++)
		query_print(config, &client, mailer, argv[i], verify);
	config_free(config);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("query: stdout: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}
