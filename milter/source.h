/*
 * source - a configuration with the rules of its rules_source
 *
 * Interface in source.c.
 */
#ifndef MR_SOURCE_H
#define MR_SOURCE_H

#include <stddef.h>

#include "config.h"
#include "pgsource.h"

#define SOURCE_CACHE	0x01	/* use and write rules_cache (the daemon) */
#define SOURCE_CACHE_ONLY 0x02	/* rules_cache, not the database */

#define SOURCE_NEW	0	/* a new generation */
#define SOURCE_SAME	1	/* nothing changed */
#define SOURCE_FULL	2	/* cannot tell the change: load it all */
#define SOURCE_FAIL	(-1)	/* the change is refused, or no database */

struct filediff;

/* What the daemon knows of the generation it holds. */
struct source_gen {
	struct pgsource_mark mark;
	struct ruleset	*files;		/* the file's own rules */
	struct filediff	*file;		/* its domains_file, no rules_source */
	/* for rules_cache, until source_gen_flush(): */
	char		*patterns;	/* the patterns changed, a line each */
	size_t		 patterns_len;
	char		*lines;		/* their rows now, as lines */
	size_t		 lines_len;
};

/* What a domains_file diff did (source_file_update()). */
struct source_file_stats {
	size_t		 added;		/* lines new or changed */
	size_t		 removed;	/* lines gone or changed */
	int		 append;	/* the file only grew */
	size_t		 delta;		/* patterns since the last full load */
	size_t		 bytes;		/* the record kept for the next */
};

struct config *source_load(const char *path, int flags, int *from_cache,
	    char *err, size_t errlen);
struct config *source_load_gen(const char *path, int flags,
	    int *from_cache, struct source_gen *gen, char *err, size_t errlen);
int	source_update(const char *path, const struct config *cur,
	    struct source_gen *gen, struct config **out, char *err,
	    size_t errlen);
struct config *source_load_file(const char *path, struct source_gen *gen,
	    char *err, size_t errlen);
int	source_file_update(const char *path, const struct config *cur,
	    struct source_gen *gen, struct config **out,
	    struct source_file_stats *st, char *err, size_t errlen);
int	source_gen_take(struct source_gen *from, struct source_gen *into);
int	source_gen_pending(const struct source_gen *gen);
void	source_gen_flush(struct source_gen *gen, const char *cache);
void	source_gen_clear(struct source_gen *gen);
const char *source_conninfo(const struct config *config);
int	source_add_cache(struct config *config, char *err, size_t errlen);

#endif
