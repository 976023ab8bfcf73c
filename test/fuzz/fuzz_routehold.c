/*
 * fuzz_routehold - libFuzzer target: static tables and held names
 * (lib/kvtable.c, lib/routehold.c)
 *
 * Each input line "T key<TAB>value" adds an entry to table T: o and O
 * are the old relay_domains and transport tables, n and N the new ones,
 * d the deny rules' access table.  Every table parsed must be sorted
 * with unique keys, each found by kvtable_get().  Then the access table
 * published with the holds must give, searched as Postfix searches it,
 * at every key of the four tables: the deny rules' reply where they
 * refuse the name, else the held reply where Postfix's answer (relay
 * and transport) changed, else what the deny rules' table alone gives.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "kvtable.h"
#include "routehold.h"
#include "strutil.h"

#define TABLES	"oOnNd"

static void
die(const char *why, const char *key)
{
	fprintf(stderr, "fuzz_routehold: %s: \"%s\"\n", why, key);
	abort();
}

static void
check_table(const struct kvtable *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		if (i > 0 && strcmp(t->v[i - 1].key, t->v[i].key) >= 0)
			die("not sorted or a key twice", t->v[i].key);
		if (kvtable_get(t, t->v[i].key) != t->v[i].value)
			die("kvtable_get misses a key", t->v[i].key);
	}
}

/* What the access table says for key; no answer and DUNNO alike. */
static const char *
access_answer(const struct kvtable *t, const char *key)
{
	const char	*v = kvtable_search(t, key);

	return v == NULL ? EXPORT_VALUE_DUNNO : v;
}

static void
check_key(const struct routehold_tables *rt, const struct kvtable *deny,
    const struct kvtable *out, const char *key, const char *held)
{
	const char	*want, *got;
	int		 changed;

	changed = !str_same(kvtable_search(rt->old_relay, key),
	    kvtable_search(rt->new_relay, key)) ||
	    !str_same(kvtable_search(rt->old_transport, key),
	    kvtable_search(rt->new_transport, key));
	want = access_answer(deny, key);
	if (changed && strcmp(want, EXPORT_VALUE_DUNNO) == 0)
		want = held;
	got = access_answer(out, key);
	if (strcmp(want, got) != 0)
		die(changed ? "a changed name is not held" :
		    "an unchanged name's answer moved", key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvtable	 t[5], out;
	struct routehold h;
	struct routehold_tables rt;
	char		*in, *text[5], *line, *next, *p;
	size_t		 len[5] = { 0 }, i, j;
	FILE		*f[5];
	const char	*held = NULL;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (strlen(in) != size) {
		free(in);
		return 0;
	}
	for (i = 0; i < 5; i++) {
		text[i] = NULL;
		if ((f[i] = open_memstream(&text[i], &len[i])) == NULL)
			abort();
	}
	for (line = in; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '\0' || line[1] != ' ' ||
		    (p = strchr(TABLES, line[0])) == NULL)
			continue;
		fprintf(f[p - TABLES], "%s\n", line + 2);
	}
	for (i = 0; i < 5; i++) {
		fclose(f[i]);
		kvtable_init(&t[i]);
		if (kvtable_parse(&t[i], text[i]) == -1)
			abort();
		check_table(&t[i]);
	}
	rt.old_relay = &t[0];
	rt.old_transport = &t[1];
	rt.new_relay = &t[2];
	rt.new_transport = &t[3];
	routehold_init(&h);
	kvtable_init(&out);
	if (routehold_changes(&h, &rt, 1.0) == -1 ||
	    routehold_access(&h, &rt, &t[4], &out) == -1)
		abort();
	check_table(&out);
	for (i = 0; i < out.n && held == NULL; i++)
		if (routehold_is_held(out.v[i].value))
			held = out.v[i].value;
	if (held == NULL)
		held = "(none held)";
	for (i = 0; i < 4; i++)
		for (j = 0; j < t[i].n; j++)
			check_key(&rt, &t[4], &out, t[i].v[j].key, held);
	routehold_expire(&h, 1.0);
	if (h.n != 0 || routehold_next(&h) != 0)
		die("a hold outlived its time", "");
	kvtable_free(&out);
	routehold_free(&h);
	for (i = 0; i < 5; i++) {
		kvtable_free(&t[i]);
		free(text[i]);
	}
	free(in);
	return 0;
}
