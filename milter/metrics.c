/*
 * metrics - the daemon's counters, shared by the supervisor and the worker
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	int	metrics_init(void);
 *	void	metrics_add(enum metrics_counter c);
 *	void	metrics_decision(const struct decision *d, uint64_t start);
 *	void	metrics_socketmap(int map, int status, uint64_t start);
 *	void	metrics_loaded(const struct config *config, int reload);
 *	void	metrics_reload_failed(void);
 *	void	metrics_serving(int serving);
 *	int	metrics_healthy(void);
 *	void	metrics_static_stale(int stale);
 *	const char *metrics_unhealthy(void);
 *	int	metrics_format(FILE *fp);
 *
 * DESCRIPTION
 *	Every counter of the daemon lives in one struct metrics in a
 *	shared anonymous mapping that metrics_init() creates in the
 *	supervisor before the first worker is forked: each worker inherits
 *	it, so counters survive reloads and worker restarts, and the
 *	supervisor (which serves them over HTTP, metrics_http.c) and the
 *	worker see one set of figures.  Counting is one relaxed atomic add
 *	(two clock reads for latency histograms): no locks, no allocation,
 *	no system call.  Until metrics_init() runs (and if it fails) the
 *	counters are a private static struct: nothing ever dereferences
 *	NULL.
 *
 *	metrics_add() counts one event of a plain counter.
 *	metrics_now() is a monotonic clock in nanoseconds.
 *	metrics_decision() counts one RCPT decision by outcome and reason
 *	(d->reason, an enum decide_reason, labelled with its
 *	decide_reason_name()), observes its latency since start
 *	(metrics_now()) and, when the decision matched a rule given in the
 *	configuration's inline "domains" list, counts a hit for that rule
 *	(rules of domains_file are not counted one by one: there may be
 *	millions).  A reason out of the enum's range is counted as
 *	"other".
 *	metrics_socketmap() counts one socketmap lookup by map (an enum
 *	map_name of maps.h, as maps_parse() found it; "other" for a
 *	request that did not parse, -1) and answer (status, an enum
 *	map_status) and observes its latency.
 *	metrics_loaded() records a configuration now in use: the rule
 *	count, the time of the last successful load, the patterns of its
 *	inline rules; with reload set it counts a successful reload.
 *	metrics_reload_failed() counts a reload that kept the old rules.
 *	metrics_serving() says whether a worker serves (set by the worker,
 *	cleared by the supervisor when the worker is gone);
 *	metrics_healthy() is 1 when a worker serves a loaded rule set.
 *	metrics_static_stale() says whether static mode's tables are stale
 *	(set by staticmaps.c: the rules in force could not be written and
 *	holding every name failed too, so Postfix answers from older
 *	tables; cleared by the next write or hold that succeeds; it
 *	outlives a worker, as the tables do).  metrics_unhealthy() is what
 *	/healthz answers: NULL when a worker serves a loaded rule set and
 *	the tables are not stale, else the reason, a sentence.
 *	metrics_get(), metrics_decisions() (all reasons of an outcome) and
 *	metrics_socketmap_answers() (all maps, an enum map_status) read
 *	counters for the SIGUSR1 log lines.
 *	metrics_format() writes every metric in the Prometheus text
 *	exposition format (version 0.0.4): HELP and TYPE lines, units in
 *	the names (seconds, _total), label values escaped.
 *
 *	The table of inline rule patterns holds METRICS_RULES_MAX patterns
 *	over the daemon's life (a pattern removed by a reload keeps its
 *	slot, and is no longer exported); patterns past that are not
 *	counted, which metrics_loaded() logs.
 *
 * DIAGNOSTICS
 *	metrics_init() returns 0, or -1 with errno when the mapping cannot
 *	be made (the counters then stay per process).  metrics_format()
 *	returns 0, or -1 when writing to fp failed.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "config.h"
#include "decide.h"
#include "maps.h"
#include "ruleset.h"

#include "log.h"
#include "metrics.h"

#ifndef MR_VERSION
#define MR_VERSION	"unknown"
#endif

#define METRICS_RULES_MAX	1024	/* inline patterns tracked */
#define METRICS_RULES_SLOTS	2048	/* hash slots, a power of two */
#define NOUTCOMES		4	/* enum outcome */

#define NREASONS		DECIDE_REASON_COUNT

/* Socketmap maps: enum map_name, then "other" (an unknown name). */
#define NMAPS		(MAP_NAMES + 1)
#define MAP_OTHER	MAP_NAMES

/* Answers, by enum map_status. */
static const char *const answers[] = {
	[MAP_OK] = "ok",
	[MAP_NOTFOUND] = "notfound",
	[MAP_TEMP] = "temp",
	[MAP_PERM] = "perm"
};
#define NANSWERS	(sizeof(answers) / sizeof(answers[0]))

/* Upper bounds of the latency buckets, in ns; then +Inf. */
static const uint64_t bounds[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 100000000
};
#define NBOUNDS		(sizeof(bounds) / sizeof(bounds[0]))

struct histogram {
	_Atomic uint64_t bucket[NBOUNDS + 1];	/* not cumulative */
	_Atomic uint64_t sum_ns;
};

struct rule_slot {
	_Atomic uint32_t used;		/* pattern is complete */
	_Atomic uint32_t gen;		/* last config that has it */
	_Atomic uint64_t hits;
	char		 pattern[PATTERN_MAX + 1];
};

struct metrics {
	_Atomic uint64_t counter[MC_COUNT];
	_Atomic uint64_t decisions[NOUTCOMES][NREASONS];
	_Atomic uint64_t lookups[NMAPS][NANSWERS];
	struct histogram rcpt_latency;
	struct histogram sm_latency[NMAPS];
	_Atomic uint64_t reloads_ok;
	_Atomic uint64_t reloads_failed;
	_Atomic int64_t	 last_success;	/* unix time, 0: never */
	_Atomic uint64_t rules;
	_Atomic int	 loaded;
	_Atomic int	 serving;
	_Atomic int	 static_stale;	/* tables neither written nor held */
	_Atomic uint32_t gen;		/* of the config in use */
	_Atomic uint32_t nrules;	/* slots in use */
	int64_t		 start_time;
	struct rule_slot rule[METRICS_RULES_SLOTS];
};

static struct metrics private_metrics;
static struct metrics *m = &private_metrics;

uint64_t
metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* metrics_init - the shared mapping, inherited by every worker */
int
metrics_init(void)
{
	void	*p;

	private_metrics.start_time = (int64_t)time(NULL);
	p = mmap(NULL, sizeof(struct metrics), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	memcpy(p, &private_metrics, sizeof(struct metrics));
	m = p;
	return 0;
}

/* inc - one relaxed atomic add */
static void
inc(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t
get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void
metrics_add(enum metrics_counter c)
{
	if ((unsigned)c < MC_COUNT)
		inc(&m->counter[c], 1);
}

uint64_t
metrics_get(enum metrics_counter c)
{
	return (unsigned)c < MC_COUNT ? get(&m->counter[c]) : 0;
}

uint64_t
metrics_decisions(int outcome)
{
	uint64_t n = 0;
	size_t	 r;

	if (outcome < 0 || outcome >= NOUTCOMES)
		return 0;
	for (r = 0; r < NREASONS; r++)
		n += get(&m->decisions[outcome][r]);
	return n;
}

uint64_t
metrics_socketmap_answers(int answer)
{
	uint64_t n = 0;
	size_t	 i;

	if (answer < 0 || (size_t)answer >= NANSWERS)
		return 0;
	for (i = 0; i < NMAPS; i++)
		n += get(&m->lookups[i][answer]);
	return n;
}

/* observe - one latency into a histogram */
static void
observe(struct histogram *h, uint64_t start)
{
	uint64_t ns, now;
	size_t	 i;

	now = metrics_now();
	ns = now > start ? now - start : 0;
	for (i = 0; i < NBOUNDS && ns > bounds[i]; i++)
		;
	inc(&h->bucket[i], 1);
	inc(&h->sum_ns, ns);
}

/* hash - FNV-1a of a pattern */
static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* rule_find - the slot of a pattern, or of the free slot it would take */
static struct rule_slot *
rule_find(const char *pattern, int *found)
{
	struct rule_slot *s;
	uint32_t i, n;

	i = hash(pattern);
	for (n = 0; n < METRICS_RULES_SLOTS; n++, i++) {
		s = &m->rule[i & (METRICS_RULES_SLOTS - 1)];
		if (!atomic_load_explicit(&s->used, memory_order_acquire)) {
			*found = 0;
			return s;
		}
		if (strcmp(s->pattern, pattern) == 0) {
			*found = 1;
			return s;
		}
	}
	*found = 0;
	return NULL;
}

static size_t
reason_index(const struct decision *d)
{
	if ((unsigned)d->reason >= NREASONS)
		return DECIDE_REASON_OTHER;
	return d->reason;
}

void
metrics_decision(const struct decision *d, uint64_t start)
{
	struct rule_slot *s;
	int	 found;

	if ((unsigned)d->outcome < NOUTCOMES)
		inc(&m->decisions[d->outcome][reason_index(d)], 1);
	observe(&m->rcpt_latency, start);
	if (d->pattern[0] == '\0')
		return;
	s = rule_find(d->pattern, &found);
	if (found && atomic_load_explicit(&s->gen, memory_order_relaxed) ==
	    atomic_load_explicit(&m->gen, memory_order_relaxed))
		inc(&s->hits, 1);
}

/* map_label - the name of map i, or "other" */
static const char *
map_label(size_t i)
{
	return i < MAP_NAMES ? maps_name((enum map_name)i) : "other";
}

void
metrics_socketmap(int map, int status, uint64_t start)
{
	size_t	i, a;

	i = (unsigned)map < MAP_NAMES ? (size_t)map : MAP_OTHER;
	a = (unsigned)status < NANSWERS ? (size_t)status : MAP_PERM;
	inc(&m->lookups[i][a], 1);
	observe(&m->sm_latency[i], start);
}

/* metrics_loaded - a configuration now in use (the worker's one writer) */
void
metrics_loaded(const struct config *config, int reload)
{
	struct rule_slot *s;
	uint32_t gen;
	size_t	 i, skipped = 0;
	int	 found;

	gen = atomic_load(&m->gen) + 1;
	for (i = 0; i < config->ninline_patterns; i++) {
		s = rule_find(config->inline_patterns[i], &found);
		if (!found && (s == NULL ||
		    atomic_load(&m->nrules) >= METRICS_RULES_MAX)) {
			skipped++;
			continue;
		}
		if (!found) {
			snprintf(s->pattern, sizeof(s->pattern), "%s",
			    config->inline_patterns[i]);
			atomic_store(&s->gen, gen);
			atomic_store_explicit(&s->used, 1,
			    memory_order_release);
			atomic_fetch_add(&m->nrules, 1);
		} else
			atomic_store(&s->gen, gen);
	}
	atomic_store(&m->gen, gen);
	if (skipped > 0)
		log_warning("metrics: %zu rules of \"domains\" not counted "
		    "one by one (at most %d patterns over the daemon's life)",
		    skipped, METRICS_RULES_MAX);
	atomic_store(&m->rules, (uint64_t)ruleset_count(config->rules));
	atomic_store(&m->last_success, (int64_t)time(NULL));
	atomic_store(&m->loaded, 1);
	if (reload)
		inc(&m->reloads_ok, 1);
}

void
metrics_reload_failed(void)
{
	inc(&m->reloads_failed, 1);
}

void
metrics_serving(int serving)
{
	atomic_store(&m->serving, serving);
}

int
metrics_healthy(void)
{
	return atomic_load(&m->serving) && atomic_load(&m->loaded);
}

void
metrics_static_stale(int stale)
{
	atomic_store(&m->static_stale, stale != 0);
}

const char *
metrics_unhealthy(void)
{
	if (!metrics_healthy())
		return "no worker serves a rule set";
	if (atomic_load(&m->static_stale))
		return "static tables stale: the rules in force are not "
		    "written and the names not held; Postfix answers from "
		    "older tables (see the log)";
	return NULL;
}

/* Exposition. */

/* label - a label value, escaped: backslash, double quote, newline */
static void
label(FILE *fp, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', fp);
		if (*v == '\n')
			fputs("\\n", fp);
		else
			fputc(*v, fp);
	}
}

static void
family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
scalar(FILE *fp, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(fp, name, type, help);
	fprintf(fp, "%s %llu\n", name, (unsigned long long)v);
}

/* histogram - one series; lname="lvalue" when lname is not NULL */
static void
histogram(FILE *fp, const char *name, const char *lname,
    const char *lvalue, struct histogram *h)
{
	uint64_t cum = 0;
	size_t	 i;

	for (i = 0; i <= NBOUNDS; i++) {
		cum += get(&h->bucket[i]);
		fprintf(fp, "%s_bucket{", name);
		if (lname != NULL) {
			fprintf(fp, "%s=\"", lname);
			label(fp, lvalue);
			fputs("\",", fp);
		}
		if (i < NBOUNDS)
			fprintf(fp, "le=\"%g\"} %llu\n",
			    (double)bounds[i] / 1e9, (unsigned long long)cum);
		else
			fprintf(fp, "le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	fprintf(fp, "%s_sum", name);
	if (lname != NULL) {
		fprintf(fp, "{%s=\"", lname);
		label(fp, lvalue);
		fputs("\"}", fp);
	}
	fprintf(fp, " %.9f\n", (double)get(&h->sum_ns) / 1e9);
	fprintf(fp, "%s_count", name);
	if (lname != NULL) {
		fprintf(fp, "{%s=\"", lname);
		label(fp, lvalue);
		fputs("\"}", fp);
	}
	fprintf(fp, " %llu\n", (unsigned long long)cum);
}

static void
format_decisions(FILE *fp)
{
	size_t	 o, r;
	uint32_t gen;
	struct rule_slot *s;

	family(fp, "milter_relay_rcpt_decisions_total", "counter",
	    "RCPT decisions by outcome told to the MTA and by reason.");
	for (o = 0; o < NOUTCOMES; o++)
		for (r = 0; r < NREASONS; r++) {
			fprintf(fp, "milter_relay_rcpt_decisions_total{"
			    "outcome=\"%s\",reason=\"",
			    decision_outcome_name((enum outcome)o));
			label(fp, decide_reason_name(r));
			fprintf(fp, "\"} %llu\n",
			    (unsigned long long)get(&m->decisions[o][r]));
		}
	family(fp, "milter_relay_rcpt_decision_duration_seconds",
	    "histogram", "Time from the RCPT callback to the reply.");
	histogram(fp, "milter_relay_rcpt_decision_duration_seconds", NULL,
	    NULL, &m->rcpt_latency);
	family(fp, "milter_relay_rule_hits_total", "counter",
	    "RCPT decisions that matched a rule of the inline domains list.");
	gen = atomic_load(&m->gen);
	for (o = 0; o < METRICS_RULES_SLOTS; o++) {
		s = &m->rule[o];
		if (!atomic_load_explicit(&s->used, memory_order_acquire) ||
		    atomic_load(&s->gen) != gen)
			continue;
		fputs("milter_relay_rule_hits_total{rule=\"", fp);
		label(fp, s->pattern);
		fprintf(fp, "\"} %llu\n", (unsigned long long)get(&s->hits));
	}
}

static void
format_socketmap(FILE *fp)
{
	size_t	 i, a;

	family(fp, "milter_relay_socketmap_lookups_total", "counter",
	    "Socketmap lookups by map and answer.");
	for (i = 0; i < NMAPS; i++)
		for (a = 0; a < NANSWERS; a++)
			fprintf(fp, "milter_relay_socketmap_lookups_total{"
			    "map=\"%s\",answer=\"%s\"} %llu\n", map_label(i),
			    answers[a],
			    (unsigned long long)get(&m->lookups[i][a]));
	family(fp, "milter_relay_socketmap_lookup_duration_seconds",
	    "histogram", "Time to answer one socketmap request.");
	for (i = 0; i < NMAPS; i++)
		histogram(fp, "milter_relay_socketmap_lookup_duration_seconds",
		    "map", map_label(i), &m->sm_latency[i]);
	scalar(fp, "milter_relay_socketmap_connections_total", "counter",
	    "Socketmap connections accepted.",
	    get(&m->counter[MC_SM_CONNECTIONS]));
	scalar(fp, "milter_relay_socketmap_refused_connections_total",
	    "counter", "Socketmap connections refused over the limit.",
	    get(&m->counter[MC_SM_REFUSED]));
	scalar(fp, "milter_relay_socketmap_malformed_requests_total",
	    "counter", "Malformed socketmap requests (connection closed).",
	    get(&m->counter[MC_SM_MALFORMED]));
	scalar(fp, "milter_relay_socketmap_idle_closed_total", "counter",
	    "Socketmap connections closed for idleness.",
	    get(&m->counter[MC_SM_IDLE_CLOSED]));
	scalar(fp, "milter_relay_socketmap_slow_closed_total", "counter",
	    "Socketmap connections closed: a request not whole in time.",
	    get(&m->counter[MC_SM_SLOW_CLOSED]));
	scalar(fp, "milter_relay_socketmap_evicted_total", "counter",
	    "Socketmap connections closed to give the slot to a new client.",
	    get(&m->counter[MC_SM_EVICTED]));
}

static void
format_daemon(FILE *fp)
{
	scalar(fp, "milter_relay_sessions_total", "counter",
	    "Milter sessions (SMTP connections) seen.",
	    get(&m->counter[MC_SESSIONS]));
	scalar(fp, "milter_relay_final_deliveries_total", "counter",
	    "Recipients no rule covers that the MTA delivers itself "
	    "(policy.local_mailers).", get(&m->counter[MC_FINAL_DELIVERY]));
	scalar(fp, "milter_relay_route_mismatches_total", "counter",
	    "Recipients the MTA routed elsewhere than the rule's smart host.",
	    get(&m->counter[MC_ROUTE_MISMATCH]));
	scalar(fp, "milter_relay_internal_failures_total", "counter",
	    "RCPTs deferred for an internal failure (no session, no "
	    "configuration, no reply).", get(&m->counter[MC_FAILURES]));
	family(fp, "milter_relay_reloads_total", "counter",
	    "Configuration reloads by result.");
	fprintf(fp, "milter_relay_reloads_total{result=\"success\"} %llu\n"
	    "milter_relay_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)get(&m->reloads_ok),
	    (unsigned long long)get(&m->reloads_failed));
	scalar(fp, "milter_relay_reload_requests_total", "counter",
	    "Reload requests (SIGHUP) the supervisor received.",
	    get(&m->counter[MC_RELOAD_REQUESTS]));
	scalar(fp, "milter_relay_credentials_refused_total", "counter",
	    "Reloads refused for a rule's credentials (auth_file unreadable, "
	    "readable by others, malformed, or not under TLS).",
	    get(&m->counter[MC_CREDENTIALS_REFUSED]));
	family(fp, "milter_relay_last_reload_success_timestamp_seconds",
	    "gauge", "Unix time of the last successful configuration load.");
	fprintf(fp, "milter_relay_last_reload_success_timestamp_seconds "
	    "%lld\n", (long long)atomic_load(&m->last_success));
	scalar(fp, "milter_relay_rules", "gauge",
	    "Rules in the rule set in use.", get(&m->rules));
	scalar(fp, "milter_relay_worker_up", "gauge",
	    "1 while a worker serves a loaded rule set, else 0.",
	    (uint64_t)metrics_healthy());
	scalar(fp, "milter_relay_worker_restarts_total", "counter",
	    "Workers the supervisor started again after one died.",
	    get(&m->counter[MC_WORKER_RESTARTS]));
	scalar(fp, "milter_relay_verify_cache_hits_total", "counter",
	    "Recipient verification answers found in the cache.",
	    get(&m->counter[MC_VERIFY_HITS]));
	scalar(fp, "milter_relay_verify_cache_misses_total", "counter",
	    "Recipient verification lookups not in the cache.",
	    get(&m->counter[MC_VERIFY_MISSES]));
	scalar(fp, "milter_relay_verify_probes_total", "counter",
	    "Recipient verification callouts made to next hops.",
	    get(&m->counter[MC_VERIFY_PROBES]));
	family(fp, "milter_relay_verify_results_total", "counter",
	    "Recipients of verify rules by result, cached or not.");
	fprintf(fp, "milter_relay_verify_results_total{result=\"valid\"} "
	    "%llu\n"
	    "milter_relay_verify_results_total{result=\"invalid\"} %llu\n"
	    "milter_relay_verify_results_total{result=\"unknown\"} %llu\n",
	    (unsigned long long)get(&m->counter[MC_VERIFY_VALID]),
	    (unsigned long long)get(&m->counter[MC_VERIFY_INVALID]),
	    (unsigned long long)get(&m->counter[MC_VERIFY_UNKNOWN]));
	scalar(fp, "milter_relay_verify_busy_total", "counter",
	    "Recipients left unverified: too many callouts at once.",
	    get(&m->counter[MC_VERIFY_BUSY]));
	family(fp, "milter_relay_static_writes_total", "counter",
	    "Static mode: publishes of the tables by result.");
	fprintf(fp, "milter_relay_static_writes_total{result=\"ok\"} %llu\n"
	    "milter_relay_static_writes_total{result=\"in_place\"} %llu\n"
	    "milter_relay_static_writes_total{result=\"refused\"} %llu\n"
	    "milter_relay_static_writes_total{result=\"failed\"} %llu\n",
	    (unsigned long long)get(&m->counter[MC_STATIC_OK]),
	    (unsigned long long)get(&m->counter[MC_STATIC_INPLACE]),
	    (unsigned long long)get(&m->counter[MC_STATIC_REFUSED]),
	    (unsigned long long)get(&m->counter[MC_STATIC_FAILED]));
	scalar(fp, "milter_relay_static_tables_stale", "gauge",
	    "Static mode: 1 while the tables in maps_dir are older than the "
	    "rules in force and not held (neither written nor held), else 0.",
	    (uint64_t)atomic_load(&m->static_stale));
	family(fp, "milter_relay_start_time_seconds", "gauge",
	    "Unix time the daemon started.");
	fprintf(fp, "milter_relay_start_time_seconds %lld\n",
	    (long long)m->start_time);
	family(fp, "milter_relay_build_info", "gauge",
	    "Always 1; the version as a label.");
	fputs("milter_relay_build_info{version=\"", fp);
	label(fp, MR_VERSION);
	fputs("\"} 1\n", fp);
}

int
metrics_format(FILE *fp)
{
	format_decisions(fp);
	format_socketmap(fp);
	format_daemon(fp);
	return ferror(fp) ? -1 : 0;
}
