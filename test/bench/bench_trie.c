/*
 * bench_trie - speed and size of the rule set (lib/ruleset.c)
 *
 * usage: bench_trie [MAX]
 *
 * For 1k, 100k and MAX (default 1000000) generated rules - names like
 * "d123456.example-42.com", 70% namespace, 20% exact, 10% subdomains-only
 * rules, a few smart hosts, some trusted-only and deny rules - it prints:
 * lookups per second of ruleset_lookup() on one core; in the same run the
 * same lookups on a baseline, a POSIX hsearch_r() table of the names with
 * a walk up the parent names; their ratio; the resident memory the rule
 * set added, per rule (from /proc/self/statm, after malloc_trim); and, for
 * the largest size, the time config_load() takes to read the rules from a
 * generated domains_file.  The query mix: 40% rule names, 30% names below
 * them, 30% names no rule covers.  Both lookups must agree on every
 * query; the program says so and exits 1 if they do not.  Queries are
 * generated beforehand and packed one after the other, as a daemon has
 * them in cache; each rate is the best of ROUNDS passes, the two methods
 * alternating, so that a noisy machine hurts both alike.  No thresholds:
 * test/bench/run.sh judges the figures.
 */
#include <malloc.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ruleset.h"

#define NQUERIES	2000000
#define NAME_LEN	64
#define ROUNDS		3		/* best of, trie and baseline alternating */

static const char *const smarthosts[] = {
	"[192.0.2.25]", "mx:relay.example.net", "[2001:db8::25]:2525",
	"smtp.example.org"
};

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_bytes(void)
{
	FILE	*fp;
	long	 size, resident;

	malloc_trim(0);
	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(fp, "%ld %ld", &size, &resident) != 2)
		resident = 0;
	fclose(fp);
	return resident * sysconf(_SC_PAGESIZE);
}

/* Rule i: its pattern prefix, name and spec. */
static const char *
rule_prefix(size_t i)
{
	switch (i % 10) {
	case 3:
	case 7:
		return "#";
	case 5:
		return ".";
	default:
		return "";
	}
}

static void
rule_name(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "d%zu.example-%zu.com", i, i % 1000);
}

static void
rule_spec(size_t i, struct rule_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	if (i % 50 == 11) {
		spec->relay = "deny";
		return;
	}
	if (i % 20 == 1)
		spec->relay = "trusted";
	if (i % 3 != 0)
		spec->smarthost = smarthosts[i % 4];
}

static void
query_name(size_t n, char *buf, size_t len)
{
	size_t	i = (size_t)rand() % n;

	switch (rand() % 10) {
	case 0: case 1: case 2: case 3:
		rule_name(i, buf, len);
		break;
	case 4: case 5: case 6:
		snprintf(buf, len, "www.d%zu.example-%zu.com", i, i % 1000);
		break;
	case 7:
		snprintf(buf, len, "u%zu.example-%zu.com", i, i % 1000);
		break;
	case 8:
		snprintf(buf, len, "d%zu.example-%zu.net", i, i % 1000);
		break;
	default:
		snprintf(buf, len, "d%zu.example-%zu.com", i, (i + 1) % 1000);
		break;
	}
}

/* The baseline: a hash of names, three rule slots a name. */
struct hrules {
	const struct rule *rule[3];
};

static const struct rule *
hash_find(struct hsearch_data *h, const char *name, int self)
{
	ENTRY			 e, *found;
	const struct hrules	*r;

	e.key = (char *)name;
	e.data = NULL;
	if (hsearch_r(e, FIND, &found, h) == 0)
		return NULL;
	r = found->data;
	if (self)
		return r->rule[RULE_EXACT] != NULL ? r->rule[RULE_EXACT] :
		    r->rule[RULE_NAMESPACE];
	return r->rule[RULE_NAMESPACE] != NULL ? r->rule[RULE_NAMESPACE] :
	    r->rule[RULE_SUBDOMAINS];
}

static const struct rule *
hash_lookup(struct hsearch_data *h, const char *name)
{
	const struct rule	*r;
	const char		*s;

	if ((r = hash_find(h, name, 1)) != NULL)
		return r;
	for (s = strchr(name, '.'); s != NULL; s = strchr(s + 1, '.'))
		if ((r = hash_find(h, s + 1, 0)) != NULL)
			return r;
	return NULL;
}

struct sizerun {
	size_t	rules;
	double	build_s;
	double	trie_rate;
	double	hash_rate;
	double	bytes_per_rule;
	int	agree;
};

static struct ruleset *
build_trie(size_t n, double *secs)
{
	struct ruleset		*set;
	struct rule_spec	 spec;
	char			 name[NAME_LEN], pattern[NAME_LEN + 1];
	char			 err[256];
	double			 t0;
	size_t			 i;

	t0 = now();
	if ((set = ruleset_new()) == NULL)
		exit(2);
	for (i = 0; i < n; i++) {
		rule_name(i, name, sizeof(name));
		snprintf(pattern, sizeof(pattern), "%s%s", rule_prefix(i),
		    name);
		rule_spec(i, &spec);
		if (ruleset_add(set, pattern, &spec, err, sizeof(err)) == -1) {
			fprintf(stderr, "bench_trie: %s\n", err);
			exit(2);
		}
	}
	*secs = now() - t0;
	return set;
}

/*
 * The baseline table holds the same rules: the rule pointers come from
 * the trie (so answers compare by pointer), the names from one arena.
 */
static void
build_hash(struct hsearch_data *h, struct ruleset *set, size_t n,
    char **arena, struct hrules **slots)
{
	ENTRY		 e, *found;
	char		 name[NAME_LEN], *p;
	size_t		 i;
	int		 kind;

	memset(h, 0, sizeof(*h));
	if (hcreate_r(n + n / 3 + 16, h) == 0)
		exit(2);
	*arena = p = malloc(n * 24);
	*slots = calloc(n, sizeof(**slots));
	if (p == NULL || *slots == NULL)
		exit(2);
	for (i = 0; i < n; i++) {
		rule_name(i, name, sizeof(name));
		kind = rule_prefix(i)[0] == '#' ? RULE_EXACT :
		    rule_prefix(i)[0] == '.' ? RULE_SUBDOMAINS : RULE_NAMESPACE;
		/* the trie's rule for this pattern */
		(*slots)[i].rule[kind] = ruleset_lookup(set, name, NULL);
		if (kind == RULE_SUBDOMAINS) {
			char sub[NAME_LEN + 2];

			snprintf(sub, sizeof(sub), "x.%s", name);
			(*slots)[i].rule[kind] = ruleset_lookup(set, sub, NULL);
		}
		memcpy(p, name, strlen(name) + 1);
		e.key = p;
		e.data = &(*slots)[i];
		p += strlen(name) + 1;
		if (hsearch_r(e, ENTER, &found, h) == 0)
			exit(2);
	}
}

static void
run_size(size_t n, struct sizerun *out)
{
	struct ruleset		*set;
	struct hsearch_data	 h;
	struct hrules		*slots;
	char			*queries, *arena, *q;
	uint32_t		*off;
	const struct rule	*a, *b;
	double			 t0, rate;
	long			 rss0;
	size_t			 i, hits, hits2, nq, pos, len;
	int			 round;

	memset(out, 0, sizeof(*out));
	out->rules = n;
	rss0 = rss_bytes();
	set = build_trie(n, &out->build_s);
	out->bytes_per_rule = (double)(rss_bytes() - rss0) / (double)n;

	nq = NQUERIES;
	queries = malloc(nq * NAME_LEN);
	off = malloc(nq * sizeof(*off));
	if (queries == NULL || off == NULL)
		exit(2);
	srand(42);
	for (i = pos = 0; i < nq; i++) {
		q = queries + pos;
		query_name(n, q, NAME_LEN);
		len = strlen(q) + 1;
		off[i] = (uint32_t)pos;
		pos += len;
	}

	build_hash(&h, set, n, &arena, &slots);

	hits = hits2 = 0;
	for (round = 0; round < ROUNDS; round++) {
		hits = 0;
		t0 = now();
		for (i = 0; i < nq; i++)
			hits += ruleset_lookup(set, queries + off[i], NULL) !=
			    NULL;
		rate = (double)nq / (now() - t0);
		if (rate > out->trie_rate)
			out->trie_rate = rate;
		hits2 = 0;
		t0 = now();
		for (i = 0; i < nq; i++)
			hits2 += hash_lookup(&h, queries + off[i]) != NULL;
		rate = (double)nq / (now() - t0);
		if (rate > out->hash_rate)
			out->hash_rate = rate;
	}

	out->agree = hits == hits2;
	for (i = 0; i < nq && out->agree; i++) {
		a = ruleset_lookup(set, queries + off[i], NULL);
		b = hash_lookup(&h, queries + off[i]);
		if (a != b) {
			fprintf(stderr, "bench_trie: %s: trie and baseline "
			    "disagree\n", queries + off[i]);
			out->agree = 0;
		}
	}
	hdestroy_r(&h);
	free(arena);
	free(slots);
	free(queries);
	free(off);
	ruleset_free(set);
}

/* config_load() of n rules from a generated domains_file. */
static double
load_time(size_t n)
{
	char		 dir[] = "/tmp/bench_trie.XXXXXX", conf[128], list[128];
	char		 name[NAME_LEN], err[512];
	struct rule_spec spec;
	struct config	*c;
	FILE		*fp;
	double		 t0, t;
	size_t		 i;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(conf, sizeof(conf), "%s/milter-relay.conf", dir);
	snprintf(list, sizeof(list), "%s/domains.list", dir);
	if ((fp = fopen(list, "w")) == NULL)
		return -1;
	fprintf(fp, "# generated by bench_trie\n");
	for (i = 0; i < n; i++) {
		rule_name(i, name, sizeof(name));
		rule_spec(i, &spec);
		fprintf(fp, "%s%s", rule_prefix(i), name);
		if (spec.relay != NULL)
			fprintf(fp, " relay=%s", spec.relay);
		if (spec.smarthost != NULL)
			fprintf(fp, " smarthost=%s", spec.smarthost);
		fputc('\n', fp);
	}
	fclose(fp);
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(fp, "domains_file = \"domains.list\";\n");
	fclose(fp);
	t0 = now();
	c = config_load(conf, err, sizeof(err));
	t = now() - t0;
	if (c == NULL) {
		fprintf(stderr, "bench_trie: %s\n", err);
		t = -1;
	} else if (ruleset_count(c->rules) != n) {
		fprintf(stderr, "bench_trie: loaded %zu rules of %zu\n",
		    ruleset_count(c->rules), n);
		t = -1;
	}
	config_free(c);
	unlink(list);
	unlink(conf);
	rmdir(dir);
	return t;
}

int
main(int argc, char *argv[])
{
	struct sizerun	 r;
	size_t		 sizes[4], nsizes, max, i;
	double		 t;
	int		 ok;

	max = 1000000;
	if (argc > 1 && (max = strtoul(argv[1], NULL, 10)) < 1000) {
		fprintf(stderr, "usage: bench_trie [MAX >= 1000]\n");
		return 64;
	}
	nsizes = 0;
	sizes[nsizes++] = 1000;
	if (max > 100000)
		sizes[nsizes++] = 100000;
	if (max > 1000)
		sizes[nsizes++] = max;

	printf("%10s %14s %14s %7s %11s %9s\n", "rules", "trie lookup/s",
	    "hsearch/s", "ratio", "bytes/rule", "build s");
	ok = 1;
	for (i = 0; i < nsizes; i++) {
		run_size(sizes[i], &r);
		printf("%10zu %14.0f %14.0f %7.2f %11.1f %9.3f%s\n", r.rules,
		    r.trie_rate, r.hash_rate, r.trie_rate / r.hash_rate,
		    r.bytes_per_rule, r.build_s, r.agree ? "" : "  DISAGREE");
		fflush(stdout);
		ok &= r.agree;
	}
	t = load_time(max);
	printf("config_load of %zu rules from domains_file: %.3f s\n", max, t);
	return ok && t >= 0 ? 0 : 1;
}
