/*
 * fuzz_tables - libFuzzer target: the builder and the typed tables
 * (lib/config.c config_begin()/config_finish(), lib/export.c
 * export_table())
 *
 * The input is a domains_file.  It is loaded through the builder (the
 * file's rules, then config_finish() deriving the TLS and credential
 * tables); a rule set that loads is exported in every format, without
 * and with the static mode's flags, as typed tables.  Every table must
 * have unique keys (a key twice would be two answers), every entry a
 * kind (never EXPORT_KIND_NONE), an entry that says "no" (":", "SKIP")
 * must be typed EXPORT_KIND_NO and an EXPORT_KIND_NO entry must say no;
 * no entry may be a hold (only routehold.c makes those); and the text
 * export_write_flags() prints must be export_print() of the same table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "export.h"
#include "maps.h"

static char	dir[] = "/tmp/fuzz_tables.XXXXXX";
static char	conf[sizeof(dir) + 16], rules[sizeof(dir) + 16];

static void
die(const char *why, const char *what)
{
	fprintf(stderr, "fuzz_tables: %s: %s\n", why, what);
	abort();
}

static void
cleanup(void)
{
	unlink(conf);
	unlink(rules);
	rmdir(dir);
}

static void
setup(void)
{
	FILE	*f;

	if (conf[0] != '\0')
		return;
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	snprintf(rules, sizeof(rules), "%s/rules", dir);
	if ((f = fopen(conf, "w")) == NULL)
		abort();
	fprintf(f, "domains_file = \"%s\";\n", rules);
	fclose(f);
}

static int
says_no(const char *value)
{
	return strcmp(value, MAPS_VALUE_NOCHANGE) == 0 ||
	    strcmp(value, MAPS_VALUE_SKIP) == 0 ||
	    strcmp(value, EXPORT_VALUE_DUNNO) == 0;
}

static void
check_table(const struct config *c, enum export_format f, int flags)
{
	struct kvtable	 t;
	char		 err[1024], *a = NULL, *b = NULL;
	size_t		 i, n, alen = 0, blen = 0;
	FILE		*fa, *fb;
	int		 rc;

	kvtable_init(&t);
	rc = export_table(c, f, flags, &t, NULL, err, sizeof(err));
	if (rc == -1) {
		if (t.n != 0)
			die("a refused table not empty", err);
		return;
	}
	for (i = 0; i < t.n; i++) {
		if (t.v[i].kind == EXPORT_KIND_NONE ||
		    t.v[i].kind == EXPORT_KIND_HOLD ||
		    t.v[i].kind == EXPORT_KIND_BELOW)
			die("an entry of the wrong kind", t.v[i].key);
		if ((t.v[i].kind == EXPORT_KIND_NO) !=
		    (says_no(t.v[i].value) && t.v[i].kind != EXPORT_KIND_RCPT))
			die("an entry typed against its value", t.v[i].key);
	}
	if ((fa = open_memstream(&a, &alen)) == NULL ||
	    (fb = open_memstream(&b, &blen)) == NULL)
		abort();
	if (export_print(f, &t, fa, err, sizeof(err)) == -1 ||
	    export_write_flags(c, f, flags, fb, NULL, err, sizeof(err)) == -1)
		die("printed, then refused", err);
	fclose(fa);
	fclose(fb);
	if (strcmp(a, b) != 0)
		die("the text is not the typed table", a);
	free(a);
	free(b);
	n = t.n;
	kvtable_sort(&t);
	if (t.n != n)
		die("a key twice", export_format_name(f));
	kvtable_free(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_builder *bld;
	struct config	*c;
	char		 err[1024];
	FILE		*f;
	int		 fmt;

	setup();
	if ((f = fopen(rules, "w")) == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	if ((bld = config_begin(conf, err, sizeof(err))) == NULL)
		return 0;
	if ((c = config_finish(bld, err, sizeof(err))) == NULL)
		return 0;
	for (fmt = EXPORT_POSTFIX_TRANSPORT; fmt <= EXPORT_POSTFIX_ACCESS;
	    fmt++) {
		check_table(c, fmt, 0);
		check_table(c, fmt, EXPORT_DENY_BY_ACCESS | EXPORT_RECIPIENTS);
	}
	config_free(c);
	return 0;
}
