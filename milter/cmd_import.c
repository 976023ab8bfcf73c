/*
 * cmd_import - "milter-relay import": Postfix and Sendmail tables to rules
 *
 *	milter-relay import [-n] [-o OUTPUT | --to postgresql:CONNINFO]
 *	    FORMAT FILE [FORMAT FILE ...]
 *
 * Reads each FILE (the source text of a postmap/makemap table; "-" is
 * standard input) in its FORMAT (postfix-transport, postfix-relay-domains,
 * sendmail-mailertable, sendmail-access) and prints on standard output the
 * domains_file lines that give, together, the same result (lib/import.h
 * says how).  -n: relay_domains is not in parent_domain_matches_subdomains
 * ("name" exact, ".name" below).  -o: write OUTPUT instead, under a
 * temporary name in its directory, renamed into place once complete
 * (lib/util/safefile.h), so that a reload never reads half a file.  Warnings
 * go to standard error.  FORMAT domains-file takes a domains_file as it
 * is (a last line without a newline is refused, as the loader refuses
 * it); its lines follow those of the other sources.
 *
 * --to postgresql:CONNINFO: instead of printing them, the lines are
 * checked as a domains_file (all of them, duplicates included) and then
 * replace every row of the table "rules" in one transaction
 * (pgsource_store()); the daemons listening reload.  A password in
 * CONNINFO is on the command line, where any user can read it: import
 * warns; libpq takes it from PGPASSFILE (~/.pgpass) or PGPASSWORD when
 * CONNINFO has none.
 *
 * Exit: EX_OK (also for -h, the usage); EX_USAGE for bad arguments;
 * EX_NOINPUT when a file cannot be opened; EX_DATAERR, naming FILE:LINE,
 * at the first entry that cannot be expressed exactly (nothing is printed
 * or stored then); EX_CANTCREAT when OUTPUT cannot be created; EX_IOERR
 * when writing fails; EX_UNAVAILABLE when the database refuses; EX_OSERR
 * when memory runs out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <getopt.h>

#include "../lib/config.h"
#include "../lib/import.h"
#include "../lib/ruleset.h"
#include "strutil.h"
#include "safefile.h"
#include "cli.h"
#include "commands.h"
#include "pgsource.h"

#define IMPORT_DOMAINS_FILE	"domains-file"

static int
import_usage(void)
{
	fprintf(stderr, "usage: milter-relay import [-n] [-o output | "
	    "--to postgresql:CONNINFO] FORMAT FILE [FORMAT FILE ...]\n"
	    "formats: postfix-transport postfix-relay-domains "
	    "sendmail-mailertable sendmail-access domains-file\n");
	return EX_USAGE;
}

static int
import_one(struct import *imp, const char *fmtname, const char *path)
{
	enum import_format	 format;
	char			 err[ERRMSG_MAX];
	FILE			*fp;
	int			 rc;

	if (import_format_parse(fmtname, &format) == -1) {
		cli_error("import: unknown format \"%s\"", fmtname);
		return import_usage();
	}
	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		cli_error("import: %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	rc = import_file(imp, format, strcmp(path, "-") == 0 ? "(stdin)" :
	    path, fp, err, sizeof(err));
	if (fp != stdin)
		fclose(fp);
	if (rc == -1) {
		cli_error("import: %s", err);
		return EX_DATAERR;
	}
	return EX_OK;
}

/* import_copy - a domains_file as it is */
static int
import_copy(const char *path, FILE *out)
{
	char	 buf[65536];
	FILE	*fp;
	size_t	 n;
	int	 rc;
	char	 last;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		cli_error("import: %s: %s", path,
		    strerror(errno));
		return EX_NOINPUT;
	}
	rc = EX_OK;
	last = '\n';
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (fwrite(buf, 1, n, out) != n)
			rc = EX_IOERR;
		last = buf[n - 1];
	}
	if (ferror(fp)) {
		cli_error("import: %s: read error", path);
		rc = EX_IOERR;
	} else if (rc == EX_OK && last != '\n') {
		cli_error("import: %s: %s", path, ERRMSG_INCOMPLETE);
		rc = EX_DATAERR;
	}
	if (fp != stdin)
		fclose(fp);
	return rc;
}

/* import_store - check the lines as a domains_file, then store them */
static int
import_store(const char *to, char *text)
{
	struct ruleset	*rules;
	char		**lines, **grown, *p, *nl, err[ERRMSG_MAX], where[512];
	size_t		 n, cap;
	unsigned long	 lineno;
	int		 r, rc;

	if (strncmp(to, CONFIG_SOURCE_PGSQL, strlen(CONFIG_SOURCE_PGSQL)) != 0) {
		cli_error("import: --to must be %sCONNINFO",
		    CONFIG_SOURCE_PGSQL);
		return EX_USAGE;
	}
	to += strlen(CONFIG_SOURCE_PGSQL);
	if (pgsource_has_secret(to))
		cli_error("import: warning: the connection string gives a "
		    "password on the command line, where other users can "
		    "read it (ps); leave it out and give it in PGPASSFILE "
		    "(~/.pgpass) or PGPASSWORD, which libpq reads");
	if ((rules = ruleset_new()) == NULL)
		return EX_OSERR;
	lines = NULL;
	n = cap = 0;
	rc = EX_OK;
	for (p = text, lineno = 1; rc == EX_OK && *p != '\0'; p = nl,
	    lineno++) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = p + strlen(p);
		r = config_parse_domains_line(rules, p, strlen(p), err,
		    sizeof(err));
		if (r == -1) {
			cli_error("import: line %lu: %s",
			    lineno, err);
			rc = EX_DATAERR;
		} else if (r == 0) {
			if (n == cap) {
				cap = cap == 0 ? 1024 : cap * 2;
				if ((grown = reallocarray(lines, cap,
				    sizeof(*lines))) == NULL)
					rc = EX_OSERR;
				else
					lines = grown;
			}
			if (rc == EX_OK)
				lines[n++] = p;
		}
	}
	ruleset_free(rules);
	if (rc == EX_OK && pgsource_store(to, lines, n, err,
	    sizeof(err)) == -1) {
		cli_error("import: %s: %s",
		    pgsource_mask(to, where, sizeof(where)), err);
		rc = EX_UNAVAILABLE;
	}
	if (rc == EX_OK)
		cli_error("import: %zu rules stored in %s", n,
		    pgsource_mask(to, where, sizeof(where)));
	free(lines);
	return rc;
}

/* import_output - the lines to standard output, or through a renamed file */
static int
import_output(const char *text, size_t len, const char *output)
{
	struct safefile	*sf;
	FILE		*fp;
	char		 err[ERRMSG_MAX];

	if (output == NULL) {
		if (fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0)
			return EX_OK;
		cli_error("import: write error");
		return EX_IOERR;
	}
	if ((sf = safefile_open(output, &fp, err, sizeof(err))) == NULL) {
		cli_error("import: %s", err);
		return EX_CANTCREAT;
	}
	if (fwrite(text, 1, len, fp) != len) {
		cli_error("import: %s: write error", output);
		safefile_abort(sf);
		return EX_IOERR;
	}
	if (safefile_commit(sf, err, sizeof(err)) == -1) {
		cli_error("import: %s", err);
		return EX_IOERR;
	}
	return EX_OK;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct import	*imp;
	const char	*to, *output;
	char		 err[ERRMSG_MAX], *text;
	size_t		 len;
	FILE		*out;
	int		 ch, flags, i, rc;

	flags = 0;
	to = output = NULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hno:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			import_usage();
			return EX_OK;
		case 'n':
			flags |= IMPORT_EXACT_RELAY_DOMAINS;
			break;
		case 'o':
			output = optarg;
			break;
		case 't':
			to = optarg;
			break;
		default:
			return import_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || argc % 2 != 0 || (to != NULL && output != NULL))
		return import_usage();
	if ((imp = import_new(flags, stderr)) == NULL) {
		cli_error("import: out of memory");
		return EX_OSERR;
	}
	text = NULL;
	if ((out = open_memstream(&text, &len)) == NULL) {
		import_free(imp);
		return EX_OSERR;
	}
	rc = EX_OK;
	for (i = 0; rc == EX_OK && i < argc; i += 2)
		if (strcmp(argv[i], IMPORT_DOMAINS_FILE) != 0)
			rc = import_one(imp, argv[i], argv[i + 1]);
	if (rc == EX_OK && import_write(imp, out, err, sizeof(err)) == -1) {
		cli_error("import: %s", err);
		rc = EX_IOERR;
	}
	for (i = 0; rc == EX_OK && i < argc; i += 2)
		if (strcmp(argv[i], IMPORT_DOMAINS_FILE) == 0)
			rc = import_copy(argv[i + 1], out);
	import_free(imp);
	if (fclose(out) != 0 && rc == EX_OK)
		rc = EX_OSERR;
	if (rc == EX_OK && to != NULL)
		rc = import_store(to, text);
	else if (rc == EX_OK)
		rc = import_output(text, len, output);
	free(text);
	return rc;
}
