/*
 * cmd_import - "milter-relay import": Postfix and Sendmail tables to rules
 *
 *	milter-relay import [-n] [-o OUTPUT] FORMAT FILE [FORMAT FILE ...]
 *
 * Reads each FILE (the source text of a postmap/makemap table; "-" is
 * standard input) in its FORMAT (postfix-transport, postfix-relay-domains,
 * sendmail-mailertable, sendmail-access) and prints on standard output the
 * domains_file lines that give, together, the same result (lib/import.h
 * says how).  -n: relay_domains is not in parent_domain_matches_subdomains
 * ("name" exact, ".name" below).  -o: write OUTPUT instead, under a
 * temporary name in its directory, renamed into place once complete
 * (lib/safefile.h), so that a reload never reads half a file.  Warnings
 * go to standard error.
 *
 * Exit: EX_OK (also for -h, the usage); EX_USAGE for bad arguments;
 * EX_NOINPUT when a file cannot be opened; EX_DATAERR, naming FILE:LINE, at the first entry that cannot
 * be expressed exactly (nothing is printed then); EX_IOERR when writing
 * fails; EX_OSERR when memory runs out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/import.h"
#include "../lib/strutil.h"
#include "../lib/safefile.h"
#include "cli.h"
#include "commands.h"

static int
import_usage(void)
{
	fprintf(stderr, "usage: milter-relay import [-n] [-o output] FORMAT "
	    "FILE [FORMAT FILE ...]\n"
	    "formats: postfix-transport postfix-relay-domains "
	    "sendmail-mailertable sendmail-access\n");
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

/* The rules to standard output, or to output through a renamed file. */
static int
import_output(struct import *imp, const char *output)
{
	struct safefile	*sf;
	FILE		*fp;
	char		 err[ERRMSG_MAX];

	if (output == NULL) {
		if (import_write(imp, stdout, err, sizeof(err)) == 0)
			return EX_OK;
		cli_error("import: %s", err);
		return EX_IOERR;
	}
	if ((sf = safefile_open(output, &fp, err, sizeof(err))) == NULL) {
		cli_error("import: %s", err);
		return EX_CANTCREAT;
	}
	if (import_write(imp, fp, err, sizeof(err)) == -1) {
		cli_error("import: %s", err);
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
	struct import	*imp;
	const char	*output = NULL;
	int		 ch, flags, i, rc;

	flags = 0;
	optind = 1;
	while ((ch = getopt(argc, argv, "hno:")) != -1) {
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
		default:
			return import_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || argc % 2 != 0)
		return import_usage();
	if ((imp = import_new(flags, stderr)) == NULL) {
		cli_error("import: out of memory");
		return EX_OSERR;
	}
	rc = EX_OK;
	for (i = 0; rc == EX_OK && i < argc; i += 2)
		rc = import_one(imp, argv[i], argv[i + 1]);
	if (rc == EX_OK)
		rc = import_output(imp, output);
	import_free(imp);
	return rc;
}
