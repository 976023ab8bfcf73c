/*
 * source - a configuration with the rules of its rules_source
 *
 * SYNOPSIS
 *	#include "source.h"
 *
 *	struct config *source_load(const char *path, int flags,
 *	    int *from_cache, char *err, size_t errlen);
 *	const char *source_conninfo(const struct config *config);
 *	int source_add_cache(struct config *config, char *err,
 *	    size_t errlen);
 *
 *	struct config *source_load_gen(const char *path, int flags,
 *	    int *from_cache, struct source_gen *gen, char *err,
 *	    size_t errlen);
 *	int source_update(const char *path, const struct config *cur,
 *	    struct source_gen *gen, struct config **out, char *err,
 *	    size_t errlen);
 *	struct config *source_load_file(const char *path,
 *	    struct source_gen *gen, char *err, size_t errlen);
 *	int source_file_update(const char *path, const struct config *cur,
 *	    struct source_gen *gen, struct config **out,
 *	    struct source_file_stats *st, char *err, size_t errlen);
 *	int source_gen_take(struct source_gen *from,
 *	    struct source_gen *into);
 *	int source_gen_pending(const struct source_gen *gen);
 *	void source_gen_flush(struct source_gen *gen, const char *cache);
 *	void source_gen_clear(struct source_gen *gen);
 *
 * DESCRIPTION
 *	source_load() is config_load() plus the rules of the database that
 *	rules_source names (pgsource_load()): the file's rules and the
 *	table's rows make one rule set, and a pattern given in both is a
 *	duplicate.  The file's rules and the rows go into one builder
 *	(config_begin(), config_finish()), whose finish derives the TLS
 *	policy table and the credentials once over the whole set: the
 *	rows' tls settings are in the "tls" map, and one smart host given
 *	two policies (by a row and a row, or a row and the file) refuses
 *	the set.  Either everything loads or nothing does.  When the rules
 *	come from rules_cache instead, the file is read again only if rows
 *	were added before the database failed.
 *
 *	With SOURCE_CACHE (the daemon) the rows read are also written to
 *	rules_cache, in domains_file format, through lib/safefile.h: a
 *	temporary file, synced and renamed over rules_cache once every row
 *	was good, so the cache is always one complete good snapshot.  When the
 *	database cannot be reached, the rules come from rules_cache
 *	instead (loaded as a domains_file), *from_cache is set to 1 and
 *	err says why the database was not used, for a warning.  A cache
 *	that cannot be written is logged and does not fail the load.
 *	Without SOURCE_CACHE (query, export, -t) the database must answer.
 *	With SOURCE_CACHE_ONLY the database is not asked: the rules come
 *	from rules_cache (a restarted worker whose database load failed:
 *	the last set that loaded).
 *
 *	It returns the configuration, or NULL with err: the file is bad, a
 *	row is refused (err names its pattern), or the database cannot be
 *	reached and there is no cache to fall back on.  Messages show the
 *	connection string only through pgsource_mask(), without password.
 *
 *	source_add_cache() adds the rules of rules_cache to a configuration
 *	loaded from the file alone (config_load()): the file's rules and the
 *	rows go into one new builder (config_begin_over()), whose finish
 *	derives the TLS policy table and the credentials over both: 0, or
 *	-1 with err (no rules_cache, a line refused, a smart host given two
 *	policies by a file rule and a row) and the configuration exactly as
 *	it was, nothing of the cache added.
 *
 *	source_conninfo() is the connection string of rules_source (after
 *	"postgresql:"), or NULL when the configuration has none.
 *
 *	source_load_gen() is source_load() that also fills gen (cleared
 *	first) with what source_update() needs to build the next
 *	generation from this one: the database's mark (pgsource_load())
 *	and the file's own rules (the file is loaded a second time for
 *	them).  gen stays empty when the rules came from rules_cache.
 *
 *	source_update() builds the configuration that a source_load() now
 *	would return, from cur (the generation gen describes) and the rows
 *	changed since (pgsource_update()): the file is loaded again and
 *	must give the same rules as before (else SOURCE_FULL), and the new
 *	rule set is overlay_next() of cur's plus the change, at the cost
 *	of the change.  It returns SOURCE_NEW with the configuration in
 *	*out, SOURCE_SAME when no row changed, SOURCE_FULL when the change
 *	cannot be told from the log (no log, a gap, a TRUNCATE, too many
 *	rows, a row pattern not written in canonical form, tls,
 *	recipients_file or auth_file in a row, a file rule with a file of
 *	its own, a delta grown past SOURCE_COMPACT: the caller then loads it all with
 *	source_load_gen(); also when the change log cannot be read: the
 *	full read then says why, if it fails too), or SOURCE_FAIL with err
 *	(the file does not load, a changed row is refused: err names it);
 *	gen follows the generation returned.
 *	source_load_gen() also records, without rules_source, the
 *	domains_file as it was read (gen->file, lib/filediff.h).
 *	source_load_file() is
 *	config_load() (the file alone, never the database) that records the
 *	domains_file into gen->file when it loads (the supervisor's copy of
 *	the rules).  source_file_update() builds
 *	the configuration that a reload now would load, from cur (the
 *	generation gen->file describes) and the lines of the domains_file
 *	changed since: the file's settings and inline rules are loaded again
 *	(CONFIG_NO_DOMAINS_FILE; the new settings are those of the result),
 *	and the rule set is overlay_next() of cur's, the rules of the lines
 *	removed taken out (overlay_remove()), those of the lines added or
 *	changed parsed and added with config_parse_domains_line(), in file
 *	order.  It returns SOURCE_NEW with the configuration in *out and st
 *	filled, gen->file then describing it; SOURCE_FAIL with err
 *	("FILE:LINE: reason", as a full load says) when a changed line is
 *	refused; SOURCE_FULL when a full load must tell: no record,
 *	rules_source, TLS or credentials tables (a rule with tls or
 *	auth_file), the file does not load, another domains_file, the inline
 *	rules changed, an inline rule with a file of its own, a delta at
 *	SOURCE_COMPACT, or what filediff_update() cannot tell; also a
 *	duplicate pattern (the full load names its first line), a line whose
 *	rule has tls, and a removed line whose rule is not there.
 *	source_gen_take() moves the changes waiting for rules_cache from
 *	one gen to another (merged with those there: 0, or -1 out of
 *	memory, then all are dropped and the cache misses them until the
 *	next full read), source_gen_pending() says whether some wait.
 *	source_gen_flush() then brings rules_cache (cache, NULL: none) up
 *	to date with the changes waiting (the lines of the changed patterns replaced), once the
 *	generation is published: the cache costs the reader of the change
 *	no time.  source_gen_clear() releases what gen holds.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "filediff.h"
#include "overlay.h"
#include "ruleset.h"
#include "safefile.h"
#include "strutil.h"

#include "log.h"
#include "pgsource.h"
#include "source.h"

const char *
source_conninfo(const struct config *config)
{
	if (config->rules_source == NULL)
		return NULL;
	return config->rules_source + strlen(CONFIG_SOURCE_PGSQL);
}

/* cache_open - the temporary file of a new snapshot, or NULL */
static struct safefile *
cache_open(const char *cache, FILE **fp)
{
	struct safefile	*sf;
	char		 err[ERRMSG_MAX];

	if ((sf = safefile_open(cache, fp, err, sizeof(err))) == NULL) {
		log_warning("rules_cache: %s", err);
		return NULL;
	}
	fprintf(*fp, "# milter-relay rules_cache: the rows of the last good "
	    "load of rules_source\n");
	return sf;
}

/* cache_commit - rename the snapshot in place when good; or drop it */
static void
cache_commit(struct safefile *sf, int good)
{
	char	 err[ERRMSG_MAX];

	if (!good)
		safefile_abort(sf);
	else if (safefile_commit(sf, err, sizeof(err)) == -1)
		log_warning("rules_cache: %s", err);
}

/* a delta past this many patterns, or a sixteenth of the set: compact */
#define SOURCE_COMPACT		4096
/* a change of more rows than this, or an eighth of the set: load all */
#define SOURCE_CHANGE_MAX	10000

/*
 * The rows of rules_source added to the builder: 0; 1 when the rules are
 * to come from rules_cache instead (err says why); -1 with err.
 */
static int
source_rows(struct config_builder *b, int flags, struct pgsource_mark *mark,
    char *err, size_t errlen)
{
	const struct config *c = config_builder_config(b);
	struct safefile	*sf;
	char		 msg[768], where[256];
	FILE		*snap;
	int		 rc;

	sf = NULL;
	snap = NULL;
	pgsource_mask(source_conninfo(c), where, sizeof(where));
	if (flags & SOURCE_CACHE_ONLY) {
		if (c->rules_cache == NULL ||
		    access(c->rules_cache, F_OK) == -1) {
			snprintf(err, errlen, "rules_source %s: no "
			    "rules_cache snapshot", where);
			return -1;
		}
		snprintf(err, errlen, "rules_source %s: not asked; rules "
		    "from rules_cache %s", where, c->rules_cache);
		return 1;
	}
	if ((flags & SOURCE_CACHE) && c->rules_cache != NULL)
		sf = cache_open(c->rules_cache, &snap);
	rc = pgsource_load(config_builder_rules(b), source_conninfo(c), snap,
	    mark, msg, sizeof(msg));
	if (sf != NULL)
		cache_commit(sf, rc == PGSOURCE_OK);
	if (rc == PGSOURCE_OK)
		return 0;
	if (rc == PGSOURCE_BAD) {
		snprintf(err, errlen, "rules_source %s: %s", where, msg);
		return -1;
	}
	if (!(flags & SOURCE_CACHE) || c->rules_cache == NULL ||
	    access(c->rules_cache, F_OK) == -1) {
		snprintf(err, errlen, "rules_source %s: %s%s", where, msg,
		    (flags & SOURCE_CACHE) ? "; and no rules_cache snapshot "
		    "to start from" : "");
		return -1;
	}
	snprintf(err, errlen, "rules_source %s: %s; rules from rules_cache "
	    "%s", where, msg, c->rules_cache);
	return 1;
}

int
source_add_cache(struct config *c, char *err, size_t errlen)
{
	struct config_builder *b;
	char		 msg[ERRMSG_MAX];

	if (c->rules_cache == NULL) {
		snprintf(err, errlen, "no rules_cache");
		return -1;
	}
	/* the file's rules and the rows in a new builder: c stays on failure */
	if ((b = config_begin_over(c, msg, sizeof(msg))) == NULL)
		goto fail;
	if (config_builder_file(b, c->rules_cache, err, errlen) == -1) {
		config_abort(b);
		return -1;
	}
	if (config_finish(b, msg, sizeof(msg)) != NULL)
		return 0;
fail:
	snprintf(err, errlen, "rules_cache %s: %s", c->rules_cache, msg);
	return -1;
}

struct config *
source_load(const char *path, int flags, int *from_cache, char *err,
    size_t errlen)
{
	return source_load_gen(path, flags, from_cache, NULL, err, errlen);
}

/* gen_pending_clear - no change waiting for rules_cache */
static void
gen_pending_clear(struct source_gen *gen)
{
	free(gen->patterns);
	free(gen->lines);
	gen->patterns = gen->lines = NULL;
	gen->patterns_len = gen->lines_len = 0;
}

/* source_gen_clear - forget the generation described */
void
source_gen_clear(struct source_gen *gen)
{
	pgsource_mark_clear(&gen->mark);
	ruleset_free(gen->files);
	gen->files = NULL;
	filediff_free(gen->file);
	gen->file = NULL;
	gen_pending_clear(gen);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* cache_merge - the old snapshot without the changed patterns' lines */
static int
cache_merge(FILE *old, FILE *fp, char **gone, size_t ngone)
{
	char	*line, *key, c;
	size_t	 cap, n;
	ssize_t	 len;

	line = NULL;
	cap = 0;
	while ((len = getline(&line, &cap, old)) > 0) {
		if (line[0] == '#' && (line[1] == ' ' || line[1] == '\n'))
			continue;
		n = strcspn(line, " \t\n");
		key = line;
		c = line[n];
		line[n] = '\0';
		if (bsearch(&key, gone, ngone, sizeof(*gone), str_cmp) != NULL)
			continue;
		line[n] = c;
		fputs(line, fp);
	}
	free(line);
	return ferror(old) ? -1 : 0;
}

/* split_lines - the lines of buf (NUL for each newline), sorted; NULL */
static char **
split_lines(char *buf, size_t *n)
{
	char	**v, *p;
	size_t	  i, len;

	len = strlen(buf);
	for (*n = 0, i = 0; i < len; i++)
		*n += buf[i] == '\n';
	if ((v = calloc(*n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0, p = buf; i < *n; i++) {
		v[i] = p;
		p += strcspn(p, "\n");
		*p++ = '\0';
	}
	qsort(v, *n, sizeof(*v), str_cmp);
	return v;
}

/*
 * gen_pending_merge - a change (its patterns and lines, taken) added to
 * those waiting for rules_cache: a line of the earlier ones whose
 * pattern changed again goes, the change's lines come; 0 or -1
 */
static int
gen_pending_merge(struct source_gen *gen, struct source_gen *ch)
{
	char	**set, *copy, *line, *end, *key, c;
	size_t	  n, len;
	FILE	 *fp;
	char	 *buf;

	if (gen->patterns == NULL) {
		gen->patterns = ch->patterns;
		gen->patterns_len = ch->patterns_len;
		gen->lines = ch->lines;
		gen->lines_len = ch->lines_len;
		ch->patterns = ch->lines = NULL;
		return 0;
	}
	if ((copy = strdup(ch->patterns)) == NULL)
		return -1;
	if ((set = split_lines(copy, &n)) == NULL ||
	    (fp = open_memstream(&buf, &len)) == NULL) {
		free(set);
		free(copy);
		return -1;
	}
	for (line = gen->lines; line != NULL && *line != '\0'; line = end) {
		end = line + strcspn(line, "\n");
		if (*end == '\n')
			end++;
		key = line;
		c = line[strcspn(line, " \t\n")];
		line[strcspn(line, " \t\n")] = '\0';
		if (bsearch(&key, set, n, sizeof(*set), str_cmp) == NULL) {
			line[strlen(line)] = c;
			fwrite(line, 1, (size_t)(end - line), fp);
		} else
			line[strlen(line)] = c;
	}
	fwrite(ch->lines, 1, ch->lines_len, fp);
	free(set);
	free(copy);
	if (fclose(fp) != 0)
		return -1;
	free(gen->lines);
	gen->lines = buf;
	gen->lines_len = len;
	if ((buf = realloc(gen->patterns, gen->patterns_len +
	    ch->patterns_len + 1)) == NULL)
		return -1;
	memcpy(buf + gen->patterns_len, ch->patterns, ch->patterns_len + 1);
	gen->patterns = buf;
	gen->patterns_len += ch->patterns_len;
	return 0;
}

/* source_gen_take - the changes waiting in from, merged into into */
int
source_gen_take(struct source_gen *from, struct source_gen *into)
{
	int	 rc;

	if (from->patterns == NULL)
		return 0;
	/* short of memory: a cache that misses changes, never a broken one */
	if ((rc = gen_pending_merge(into, from)) == -1)
		gen_pending_clear(into);
	gen_pending_clear(from);
	return rc;
}

/* source_gen_pending - changes wait for rules_cache */
int
source_gen_pending(const struct source_gen *gen)
{
	return gen->patterns != NULL;
}

/* source_gen_flush - the change into rules_cache, after its publish */
void
source_gen_flush(struct source_gen *gen, const char *cache)
{
	struct safefile	*sf;
	FILE		*old, *fp;
	char		**gone, *p;
	size_t		 n, i;

	if (gen->patterns == NULL || cache == NULL) {
		gen_pending_clear(gen);
		return;
	}
	for (n = 0, i = 0; i < gen->patterns_len; i++)
		n += gen->patterns[i] == '\n';
	gone = calloc(n + 1, sizeof(*gone));
	old = fopen(cache, "r");
	sf = NULL;
	if (gone != NULL && old != NULL &&
	    (sf = cache_open(cache, &fp)) != NULL) {
		for (n = 0, p = gen->patterns; *p != '\0'; p++) {
			gone[n++] = p;
			p += strcspn(p, "\n");
			*p = '\0';
		}
		qsort(gone, n, sizeof(*gone), str_cmp);
		if (cache_merge(old, fp, gone, n) == 0 &&
		    gen->lines_len > 0)
			(void)fwrite(gen->lines, 1, gen->lines_len, fp);
		cache_commit(sf, !ferror(old) && !ferror(fp));
	} else if (old == NULL)
		log_warning("rules_cache: %s: %s; the next full read writes "
		    "it", cache, strerror(errno));
	if (old != NULL)
		fclose(old);
	free(gone);
	gen_pending_clear(gen);
}

/* gen_files - the file's own rules, for the next source_update() */
static void
gen_files(const char *path, struct source_gen *gen)
{
	struct config	*f;
	char		 err[ERRMSG_MAX];

	if ((f = config_load(path, err, sizeof(err))) == NULL) {
		pgsource_mark_clear(&gen->mark);
		return;
	}
	gen->files = f->rules;
	f->rules = NULL;
	config_free(f);
}

struct config *
source_load_gen(const char *path, int flags, int *from_cache,
    struct source_gen *gen, char *err, size_t errlen)
{
	struct config_builder *b;
	struct config	*c;
	struct filediff	*rec;
	char		 why[2048], msg[ERRMSG_MAX], cache[PATH_MAX];
	size_t		 before;
	int		 rc;

	if (from_cache != NULL)
		*from_cache = 0;
	if (gen != NULL)
		source_gen_clear(gen);
	if ((b = config_begin_flags(path, gen != NULL ? CONFIG_RECORD : 0,
	    err, errlen)) == NULL)
		return NULL;
	if (config_builder_config(b)->rules_source == NULL) {
		rec = config_builder_record(b);
		if ((c = config_finish(b, msg, sizeof(msg))) == NULL)
			snprintf(err, errlen, "%s: %s", path, msg);
		if (c != NULL && gen != NULL)
			gen->file = rec;
		else
			filediff_free(rec);
		return c;
	}
	before = ruleset_count(config_builder_rules(b));
	rc = source_rows(b, flags, gen != NULL ? &gen->mark : NULL, why,
	    sizeof(why));
	if (rc == 0 && gen != NULL && gen->mark.snapshot != NULL)
		gen_files(path, gen);
	if (rc == 0) {
		if ((c = config_finish(b, msg, sizeof(msg))) == NULL) {
			snprintf(err, errlen, "rules_source: %s", msg);
			if (gen != NULL)
				source_gen_clear(gen);
		}
		return c;
	}
	if (gen != NULL)
		source_gen_clear(gen);
	if (rc == -1) {
		snprintf(err, errlen, "%s", why);
		config_abort(b);
		return NULL;
	}
	/* the file's rules again, without the rows read before the failure */
	if (ruleset_count(config_builder_rules(b)) != before) {
		config_abort(b);
		if ((b = config_begin(path, err, errlen)) == NULL)
			return NULL;
	}
	/* kept: the builder is gone after config_finish() */
	snprintf(cache, sizeof(cache), "%s",
	    config_builder_config(b)->rules_cache);
	if (config_builder_file(b, cache, err, errlen) == -1) {
		config_abort(b);
		return NULL;
	}
	if ((c = config_finish(b, msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "rules_cache %s: %s", cache, msg);
		return NULL;
	}
	if (from_cache != NULL)
		*from_cache = 1;
	snprintf(err, errlen, "%s", why);
	return c;
}

/* rule_in - ruleset_walk() callback: 1 unless set arg says the same */
static int
rule_in(const char *pattern, const struct rule *r, void *arg)
{
	const struct rule *other;

	other = overlay_rule(arg, pattern);
	return other != NULL && rule_same(r, other) ? 0 : 1;
}

/* rules_same - two rule sets say the same, pattern by pattern */
static int
rules_same(const struct ruleset *a, const struct ruleset *b)
{
	return ruleset_count(a) == ruleset_count(b) &&
	    ruleset_walk(a, rule_in, (void *)b) == 0;
}

/* has_file - a rule reading a file of its own (it may have changed) */
static int
has_file(const struct rule *r)
{
	return r->rcptlist != NULL || r->auth != NULL;
}

/* file_same - the file's rules are those of the generation held */
static int
file_same(const struct config *c, const struct config *cur,
    const struct source_gen *gen)
{
	return c->rules_source != NULL &&
	    str_same(c->rules_source, cur->rules_source) &&
	    str_same(c->rules_cache, cur->rules_cache) &&
	    !ruleset_any(c->rules, has_file) &&
	    rules_same(c->rules, gen->files);
}

/* source_update - the next generation from cur and the rows changed */
int
source_update(const char *path, const struct config *cur,
    struct source_gen *gen, struct config **out, char *err, size_t errlen)
{
	struct config	*c;
	struct ruleset	*next;
	struct pgsource_change ch;
	struct source_gen pend;
	char		 msg[ERRMSG_MAX], where[256];
	size_t		 n, changed;
	int		 rc;

	*out = NULL;
	n = ruleset_count(cur->rules);
	if (gen->files == NULL || gen->mark.snapshot == NULL ||
	    !gen->mark.exact || overlay_delta(cur->rules) >
	    (n / 16 > SOURCE_COMPACT ? n / 16 : SOURCE_COMPACT))
		return SOURCE_FULL;
	if ((c = config_load(path, err, errlen)) == NULL)
		return SOURCE_FAIL;
	if (!file_same(c, cur, gen)) {
		config_free(c);
		return SOURCE_FULL;
	}
	if ((next = overlay_next(cur->rules)) == NULL) {
		config_free(c);
		snprintf(err, errlen, "out of memory");
		return SOURCE_FAIL;
	}
	memset(&ch, 0, sizeof(ch));
	ch.max = n / 8 < SOURCE_CHANGE_MAX ? n / 8 : SOURCE_CHANGE_MAX;
	if (ch.max < 64)
		ch.max = 64;
	memset(&pend, 0, sizeof(pend));
	if (c->rules_cache != NULL) {
		ch.lines = open_memstream(&pend.lines, &pend.lines_len);
		ch.patterns = open_memstream(&pend.patterns,
		    &pend.patterns_len);
	}
	rc = pgsource_update(next, c->rules, source_conninfo(c), &gen->mark,
	    &ch, msg, sizeof(msg));
	changed = ch.changed;
	if (ch.lines != NULL && fclose(ch.lines) != 0)
		rc = rc == PGSOURCE_OK ? PGSOURCE_FULL : rc;
	if (ch.patterns != NULL && fclose(ch.patterns) != 0)
		rc = rc == PGSOURCE_OK ? PGSOURCE_FULL : rc;
	if (rc == PGSOURCE_OK && changed > 0 && c->rules_cache != NULL &&
	    gen_pending_merge(gen, &pend) == -1)
		rc = PGSOURCE_FULL;
	gen_pending_clear(&pend);
	if (rc != PGSOURCE_OK || changed == 0) {
		ruleset_free(next);
		config_free(c);
	}
	switch (rc) {
	case PGSOURCE_OK:
		break;
	case PGSOURCE_FULL:
	case PGSOURCE_DOWN:
		/* the full read says why, when it fails too */
		return SOURCE_FULL;
	default:
		snprintf(err, errlen, "rules_source %s: %s",
		    pgsource_mask(source_conninfo(cur), where, sizeof(where)),
		    msg);
		return SOURCE_FAIL;
	}
	if (changed == 0)
		return SOURCE_SAME;
	ruleset_free(gen->files);
	gen->files = c->rules;
	c->rules = next;
	*out = c;
	return SOURCE_NEW;
}

/* The next generation being built from a domains_file's changed lines. */
struct file_apply {
	struct ruleset	*next;
	const char	*path;
	char		*err;
	size_t		 errlen;
};

/* file_removed - filediff callback: a line gone, its rule removed */
static int
file_removed(const char *line, size_t len, void *arg)
{
	struct file_apply *fa = arg;
	char		 canon[PATTERN_MAX + 1];
	int		 rc;

	if ((rc = config_domains_line_pattern(line, len, canon)) == 1)
		return 0;
	/* a line of the generation in force that is not there: unsure */
	if (rc == -1 || overlay_remove(fa->next, canon) != 1)
		return FILEDIFF_FULL;
	return 0;
}

/*
 * file_added - filediff callback: a line new or changed, added with the
 * loader's checks and message; a duplicate (named with its first line by
 * the full load) and a rule of the derived tables load it all
 */
static int
file_added(const char *line, size_t len, unsigned long lineno, void *arg)
{
	struct file_apply *fa = arg;
	const struct rule *r;
	char		 canon[PATTERN_MAX + 1], msg[ERRMSG_MAX];
	int		 rc;

	if ((rc = config_domains_line_pattern(line, len, canon)) == 1)
		return 0;
	if (rc == 0 && overlay_rule(fa->next, canon) != NULL)
		return FILEDIFF_FULL;
	if (config_parse_domains_line(fa->next, line, len, msg,
	    sizeof(msg)) == -1) {
		snprintf(fa->err, fa->errlen, "%s:%lu: %s", fa->path, lineno,
		    msg);
		return FILEDIFF_FAIL;
	}
	if ((r = overlay_rule(fa->next, canon)) == NULL ||
	    r->tls != TLS_UNSET || has_file(r))
		return FILEDIFF_FULL;
	return 0;
}

/* inline_same - the inline rules of c are those cur was built with */
static int
inline_same(const struct config *c, const struct config *cur)
{
	const struct rule *a, *b;
	size_t	 i;

	if (c->ninline_patterns != cur->ninline_patterns)
		return 0;
	for (i = 0; i < c->ninline_patterns; i++)
		if (strcmp(c->inline_patterns[i],
		    cur->inline_patterns[i]) != 0 ||
		    (a = overlay_rule(c->rules, c->inline_patterns[i])) == NULL ||
		    (b = overlay_rule(cur->rules,
		    cur->inline_patterns[i])) == NULL || !rule_same(a, b))
			return 0;
	return 1;
}

/* file_settings - the file's settings, when a diff can follow; or NULL */
static struct config *
file_settings(const char *path, const struct config *cur,
    const struct source_gen *gen)
{
	struct config_builder *b;
	struct config	*c;
	char		 err[ERRMSG_MAX];

	/* a file that does not load: the full load says why */
	if ((b = config_begin_flags(path, CONFIG_NO_DOMAINS_FILE, err,
	    sizeof(err))) == NULL ||
	    (c = config_finish(b, err, sizeof(err))) == NULL)
		return NULL;
	if (c->rules_source == NULL && c->domains_file != NULL &&
	    strcmp(c->domains_file, filediff_path(gen->file)) == 0 &&
	    c->tls == NULL && c->sasl == NULL &&
	    !ruleset_any(c->rules, has_file) && inline_same(c, cur))
		return c;
	config_free(c);
	return NULL;
}

/* source_load_file - config_load(), the domains_file recorded in gen */
struct config *
source_load_file(const char *path, struct source_gen *gen, char *err,
    size_t errlen)
{
	struct config_builder *b;
	struct filediff	*rec;
	struct config	*c;
	char		 msg[ERRMSG_MAX];

	if ((b = config_begin_flags(path, CONFIG_RECORD, err, errlen)) == NULL)
		return NULL;
	rec = config_builder_record(b);
	if ((c = config_finish(b, msg, sizeof(msg))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, msg);
		filediff_free(rec);
		return NULL;
	}
	filediff_free(gen->file);
	gen->file = rec;
	return c;
}

/* source_file_update - the next generation from the domains_file's diff */
int
source_file_update(const char *path, const struct config *cur,
    struct source_gen *gen, struct config **out,
    struct source_file_stats *st, char *err, size_t errlen)
{
	struct filediff_change ch;
	struct file_apply fa;
	struct filediff	*nf;
	struct config	*c;
	struct ruleset	*next;
	size_t		 n, bound, delta;
	int		 rc;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	if (gen->file == NULL || cur->rules_source != NULL ||
	    cur->tls != NULL || cur->sasl != NULL)
		return SOURCE_FULL;
	n = ruleset_count(cur->rules);
	bound = n / 16 > SOURCE_COMPACT ? n / 16 : SOURCE_COMPACT;
	if ((delta = overlay_delta(cur->rules)) >= bound ||
	    (c = file_settings(path, cur, gen)) == NULL)
		return SOURCE_FULL;
	if ((next = overlay_next(cur->rules)) == NULL) {
		config_free(c);
		return SOURCE_FULL;
	}
	memset(&fa, 0, sizeof(fa));
	fa.next = next;
	fa.path = c->domains_file;
	fa.err = err;
	fa.errlen = errlen;
	memset(&ch, 0, sizeof(ch));
	ch.removed = file_removed;
	ch.added = file_added;
	ch.arg = &fa;
	ch.max = bound - delta;
	rc = filediff_update(gen->file, c->domains_file, &ch, &nf);
	if (rc != FILEDIFF_OK) {
		ruleset_free(next);
		config_free(c);
		return rc == FILEDIFF_FAIL ? SOURCE_FAIL : SOURCE_FULL;
	}
	st->added = ch.nadded;
	st->removed = ch.nremoved;
	st->append = ch.append;
	st->delta = overlay_delta(next);
	st->bytes = filediff_bytes(nf);
	ruleset_free(c->rules);
	c->rules = next;
	filediff_free(gen->file);
	gen->file = nf;
	*out = c;
	return SOURCE_NEW;
}
