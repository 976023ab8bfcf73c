/*
 * rcptlist - a list of valid recipient addresses (recipients_file)
 *
 * SYNOPSIS
 *	struct rcptlist *rcptlist_load(path, err, errlen)
 *	int rcptlist_contains(list, local, domain)
 *	int rcptlist_has_domain(list, domain)
 *
 *	struct rcptlist *rcptlist_new(void)
 *	int rcptlist_parse_line(list, line, len, err, errlen)
 *	int rcptlist_finish(list)
 *	size_t rcptlist_count(list)
 *	const char *rcptlist_entry(list, i)
 *	const char *rcptlist_path(list)
 *	void rcptlist_free(list)
 *
 * DESCRIPTION
 *	A rule with recipients = "list" accepts only the recipients its
 *	recipients_file names.  The file has one entry a line:
 *
 *		user@example.com	that address
 *		@example.com		every address of example.com
 *		# comment		also after an entry: "a@b  # note"
 *
 *	Blank lines are ignored, leading and trailing blanks too.  The
 *	domain is normalized with domain_normalize() (lower case, A-labels),
 *	the local part is compared without regard to ASCII case.  A local
 *	part is 1 to LOCAL_MAX octets, printable and without blanks, '@',
 *	'"' or '\' (quoted local parts cannot be listed).
 *
 *	rcptlist_load() reads a whole file; every line ends with a newline
 *	(a last line without one is refused, "incomplete last line": the
 *	file was read while it was being written).  On the first bad line it
 *	returns NULL with "FILE:LINE: reason" in err (also for a file that
 *	cannot be read, or is not a regular file: "FILE: reason").  Nothing
 *	is half loaded.
 *
 *	rcptlist_contains() is 1 when "local@domain" or "@domain" is listed,
 *	else 0; domain must be normalized already (as address_parse()
 *	gives it).  rcptlist_has_domain() is 1 when "@domain" is listed.
 *	Lookups allocate nothing and take no lock: a finished list is never
 *	modified again.
 *
 *	rcptlist_new(), rcptlist_parse_line() and rcptlist_finish() are the
 *	pieces of rcptlist_load() (the fuzz target drives them):
 *	rcptlist_parse_line() returns 0 for an entry added, 1 for a blank or
 *	comment line, -1 with a reason in err; rcptlist_finish() sorts the
 *	entries for lookups (0, or -1 out of memory).  A repeated entry is
 *	not an error: a list is a set.
 *
 *	rcptlist_entry() is entry i (0 to rcptlist_count() - 1) of a
 *	finished list, "local@domain" (local part in lower case) or
 *	"@domain", in sorted order (the static tables write them).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "domain.h"
#include "rcptlist.h"
#include "sorttab.h"
#include "strutil.h"

#define ENTRY_MAX	(LOCAL_MAX + 1 + DOMAIN_MAX)

struct rcptlist {
	char	**entry;	/* "local@domain" or "@domain", sorted */
	size_t	  count;
	size_t	  cap;
	char	 *path;
};

struct rcptlist *
rcptlist_new(void)
{
	return calloc(1, sizeof(struct rcptlist));
}

/* rcptlist_add - append one entry, copied */
static int
rcptlist_add(struct rcptlist *list, const char *entry)
{
	char	**grown;

	if ((grown = sorttab_grow(list->entry, list->count, &list->cap,
	    sizeof(*grown))) == NULL)
		return -1;
	list->entry = grown;
	if ((list->entry[list->count] = strdup(entry)) == NULL)
		return -1;
	list->count++;
	return 0;
}

/* local_ok - a local part this list can hold */
static const char *
local_ok(const char *s, size_t len)
{
	size_t	i;
	int	c;

	if (len == 0)
		return "empty local part";
	if (len > LOCAL_MAX)
		return "local part too long";
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\')
			return "bad character in local part";
	}
	return NULL;
}

int
rcptlist_parse_line(struct rcptlist *list, const char *line, size_t len,
    char *err, size_t errlen)
{
	char		 entry[ENTRY_MAX + 1], domain[DOMAIN_MAX + 1];
	const char	*p, *end, *at, *why;
	size_t		 i, llen, n;

	if (memchr(line, '\0', len) != NULL) {
		errmsg_set(err, errlen, "NUL octet in line");
		return -1;
	}
	if (len > RCPTLIST_LINE_MAX) {
		errmsg_set(err, errlen, "line too long");
		return -1;
	}
	p = line;
	end = line + len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	/* a comment: '#' at the start or after a blank */
	for (i = 0; p + i < end; i++)
		if (p[i] == '#' && (i == 0 ||
		    isspace((unsigned char)p[i - 1]))) {
			end = p + i;
			break;
		}
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end)
		return 1;
	for (i = 0; p + i < end; i++)
		if (isspace((unsigned char)p[i])) {
			errmsg_set(err, errlen, "one address a line");
			return -1;
		}
	if ((at = memchr(p, '@', (size_t)(end - p))) == NULL) {
		errmsg_set(err, errlen, "not an address (want user@domain or "
		    "@domain)");
		return -1;
	}
	if (memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL) {
		errmsg_set(err, errlen, "more than one '@'");
		return -1;
	}
	llen = (size_t)(at - p);
	if (llen > 0 && (why = local_ok(p, llen)) != NULL) {
		errmsg_set(err, errlen, "%s", why);
		return -1;
	}
	if (domain_normalize(at + 1, (size_t)(end - at - 1), domain,
	    &why) == -1) {
		errmsg_set(err, errlen, "bad domain: %s", why);
		return -1;
	}
	for (i = 0; i < llen; i++)
		entry[i] = (char)tolower((unsigned char)p[i]);
	n = strlen(domain);
	entry[llen] = '@';
	memcpy(entry + llen + 1, domain, n + 1);
	if (rcptlist_add(list, entry) == -1) {
		errmsg_set(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* entry_fold - a repeated entry: one stays */
static int
entry_fold(void *kept, void *dup, void *arg)
{
	(void)kept;
	(void)arg;
	free(*(char **)dup);
	return 0;
}

int
rcptlist_finish(struct rcptlist *list)
{
	(void)sorttab_sort(list->entry, &list->count, sizeof(*list->entry),
	    entry_fold, NULL);
	return 0;
}

struct rcptlist *
rcptlist_load(const char *path, char *err, size_t errlen)
{
	struct rcptlist	*list;
	struct stat	 st;
	FILE		*fp;
	int		 fd;
	char		*line, msg[ERRMSG_MAX];
	size_t		 cap;
	ssize_t		 n;
	unsigned long	 lineno;
	int		 rc;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		errmsg_set(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (fp = fdopen(fd, "r")) == NULL) {
		errmsg_set(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((list = rcptlist_new()) == NULL ||
	    (list->path = strdup(path)) == NULL) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		rcptlist_free(list);
		fclose(fp);
		return NULL;
	}
	line = NULL;
	cap = 0;
	rc = 0;
	for (lineno = 1; (n = getline(&line, &cap, fp)) != -1; lineno++) {
		/* a file cut while being written: refuse, do not guess */
		if (line[n - 1] != '\n') {
			errmsg_set(err, errlen, "%s:%lu: %s", path, lineno,
			    ERRMSG_INCOMPLETE);
			rc = -1;
			break;
		}
		n--;
		if (rcptlist_parse_line(list, line, (size_t)n, msg,
		    sizeof(msg)) != -1)
			continue;
		errmsg_set(err, errlen, "%s:%lu: %s", path, lineno, msg);
		rc = -1;
		break;
	}
	if (rc == 0 && ferror(fp)) {
		errmsg_set(err, errlen, "%s:%lu: read error: %s", path,
		    lineno, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rcptlist_finish(list) == -1) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	free(line);
	fclose(fp);
	if (rc == -1) {
		rcptlist_free(list);
		return NULL;
	}
	return list;
}

/* rcptlist_find - 1 when the lower-case entry is listed */
static int
rcptlist_find(const struct rcptlist *list, const char *entry)
{
	if (list == NULL)
		return 0;
	return sorttab_find(list->entry, list->count, sizeof(*list->entry),
	    entry) != NULL;
}

int
rcptlist_contains(const struct rcptlist *list, const char *local,
    const char *domain)
{
	char	 entry[ENTRY_MAX + 1];
	size_t	 i, llen, dlen;

	llen = strlen(local);
	dlen = strlen(domain);
	if (llen > LOCAL_MAX || dlen > DOMAIN_MAX)
		return 0;
	for (i = 0; i < llen; i++)
		entry[i] = (char)tolower((unsigned char)local[i]);
	entry[llen] = '@';
	memcpy(entry + llen + 1, domain, dlen + 1);
	if (llen > 0 && rcptlist_find(list, entry))
		return 1;
	return rcptlist_find(list, entry + llen);
}

int
rcptlist_has_domain(const struct rcptlist *list, const char *domain)
{
	return rcptlist_contains(list, "", domain);
}

size_t
rcptlist_count(const struct rcptlist *list)
{
	return list == NULL ? 0 : list->count;
}

const char *
rcptlist_entry(const struct rcptlist *list, size_t i)
{
	return i < rcptlist_count(list) ? list->entry[i] : NULL;
}

const char *
rcptlist_path(const struct rcptlist *list)
{
	return list == NULL || list->path == NULL ? "" : list->path;
}

void
rcptlist_free(struct rcptlist *list)
{
	size_t	i;

	if (list == NULL)
		return;
	for (i = 0; i < list->count; i++)
		free(list->entry[i]);
	free(list->entry);
	free(list->path);
	free(list);
}
