/*
 * rcptlist - a list of valid recipient addresses (recipients_file)
 *
 * Interface comment in rcptlist.c.
 */
#ifndef MR_RCPTLIST_H
#define MR_RCPTLIST_H

#include <stddef.h>

#define RCPTLIST_LINE_MAX	1024

struct rcptlist;

struct rcptlist *rcptlist_new(void);
int	rcptlist_parse_line(struct rcptlist *list, const char *line,
	    size_t len, char *err, size_t errlen);
int	rcptlist_finish(struct rcptlist *list);
struct rcptlist *rcptlist_load(const char *path, char *err, size_t errlen);
int	rcptlist_contains(const struct rcptlist *list, const char *local,
	    const char *domain);
int	rcptlist_has_domain(const struct rcptlist *list, const char *domain);
size_t	rcptlist_count(const struct rcptlist *list);
const char *rcptlist_entry(const struct rcptlist *list, size_t i);
const char *rcptlist_path(const struct rcptlist *list);
void	rcptlist_free(struct rcptlist *list);

#endif
