/*
 * fuzz_routehold - libFuzzer target: static tables and held names
 * (lib/util/kvtable.c, lib/routehold.c)
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

#include "domain.h"
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

/*
 * The holds saved and read back (what a restarted worker holds), and the
 * input itself read as a saved file: sorted, nothing held past its time.
 */
static void
check_saved(const struct routehold *h, const char *in)
{
	struct routehold back;
	char		*text = NULL;
	size_t		 len = 0, i, j;
	FILE		*f;

	if ((f = open_memstream(&text, &len)) == NULL ||
	    routehold_save(h, 0.0, 1000, f) == -1)
		abort();
	fclose(f);
	routehold_init(&back);
	if (routehold_load(&back, text, 0.0, 1000) == -1)
		abort();
	/* every key that can be a table's key comes back, no other */
	for (i = j = 0; i < h->n; i++) {
		if (strlen(h->v[i].key) > DOMAIN_MAX + 1)
			continue;
		if (j >= back.n || strcmp(back.v[j].key, h->v[i].key) != 0)
			die("a hold lost when read back", h->v[i].key);
		if (back.v[j].until < h->v[i].until)
			die("a hold read back shorter", back.v[j].key);
		j++;
	}
	if (j != back.n)
		die("a hold read back that was not saved", back.v[j].key);
	routehold_free(&back);
	free(text);
	routehold_init(&back);
	if (routehold_load(&back, in, 0.0, 1000) == -1)
		abort();
	for (i = 0; i < back.n; i++)
		if ((i > 0 && strcmp(back.v[i - 1].key, back.v[i].key) >= 0) ||
		    back.v[i].until <= 0 || back.v[i].until > ROUTEHOLD_SECONDS)
			die("a hold read from text out of bounds",
			    back.v[i].key);
	routehold_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvtable	 t[5], out, released;
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
		/* the deny rules' table typed as the exporter types it */
		for (j = 0; i == 4 && j < t[i].n; j++)
			t[i].v[j].kind = strcmp(t[i].v[j].value,
			    EXPORT_VALUE_DUNNO) == 0 ? EXPORT_KIND_NO :
			    EXPORT_KIND_REPLY;
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
		if (out.v[i].kind == EXPORT_KIND_HOLD)
			held = out.v[i].value;
	if (held == NULL)
		held = "(none held)";
	for (i = 0; i < 4; i++)
		for (j = 0; j < t[i].n; j++)
			check_key(&rt, &t[4], &out, t[i].v[j].key, held);
	check_saved(&h, in);
	routehold_expire(&h, 1.0);
	if (h.n != 0 || routehold_next(&h) != 0)
		die("a hold outlived its time", "");
	/* let go: every name answered as by the deny rules' table alone */
	kvtable_init(&released);
	if (routehold_release(&h, &out, &t[4], &released) == -1)
		abort();
	check_table(&released);
	for (i = 0; i < 5; i++)
		for (j = 0; j < t[i].n; j++)
			if (strcmp(access_answer(&released, t[i].v[j].key),
			    access_answer(&t[4], t[i].v[j].key)) != 0)
				die("a released name's answer moved",
				    t[i].v[j].key);
	kvtable_free(&released);
	kvtable_free(&out);
	routehold_free(&h);
	for (i = 0; i < 5; i++) {
		kvtable_free(&t[i]);
		free(text[i]);
	}
	free(in);
	return 0;
}
