/*
 * cmd_export - "milter-relay export [-s] [-c conf] FORMAT"
 *
 * Prints the rule set of the configuration as a static table for
 * postmap(1) or makemap(8) (lib/export.h): FORMAT is postfix-transport,
 * postfix-relay-domains, sendmail-mailertable, sendmail-access,
 * postfix-tls-policy, postfix-access, postfix-sasl-passwd or
 * sendmail-authinfo (the last two hold passwords: redirect them to a file
 * that only root reads).  The
 * table goes to stdout, advice (relay_domains and
 * parent_domain_matches_subdomains) to stderr.  With -s, the tables are
 * exactly those static mode writes into maps_dir (contrib/postfix/
 * main-static.cf: the access table checked first, so relay_domains need
 * not exclude what it refuses; recipients = "list" and "verify" applied
 * by the access table).
 *
 * Exit: 0 (also for -h, the usage); EX_USAGE for bad arguments; EX_CONFIG
 * when the configuration does not load; EX_DATAERR when the format cannot
 * express the rule set (the message names the rule; nothing is printed to
 * stdout); EX_IOERR when stdout cannot be written.
 */
#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

#include "../lib/config.h"
#include "../lib/export.h"
#include "strutil.h"
#include "cli.h"
#include "commands.h"
#include "source.h"

static int
export_usage(void)
{
	fprintf(stderr, "usage: milter-relay export [-s] [-c conf] FORMAT\n"
	    "FORMAT: postfix-transport, postfix-relay-domains, "
	    "sendmail-mailertable, sendmail-access, postfix-tls-policy,\n"
	    "        postfix-access, postfix-sasl-passwd, sendmail-authinfo\n");
	return EX_USAGE;
}

int
cmd_export(int argc, char **argv)
{
	const char		*path = CONFIG_DEFAULT_PATH;
	struct config		*config;
	enum export_format	 format;
	char			 err[ERRMSG_MAX];
	int			 ch, rc, flags = 0;

	optind = 1;
	while ((ch = getopt(argc, argv, "+c:hs")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 's':
			flags = EXPORT_DENY_BY_ACCESS | EXPORT_RECIPIENTS;
			break;
		case 'h':
			export_usage();
			return EX_OK;
		default:
			return export_usage();
		}
	}
	if (argc - optind != 1)
		return export_usage();
	if (export_format_parse(argv[optind], &format) == -1) {
		cli_error("export: unknown format \"%s\"", argv[optind]);
		return export_usage();
	}
	config = source_load(path, 0, NULL, err, sizeof(err));
	if (config == NULL) {
		cli_error("%s", err);
		return EX_CONFIG;
	}
	rc = EX_OK;
	if (export_write_flags(config, format, flags, stdout, stderr, err,
	    sizeof(err)) == -1) {
		cli_error("export: %s", err);
		rc = ferror(stdout) ? EX_IOERR : EX_DATAERR;
	}
	config_free(config);
	return rc;
}
