/*
 * filediff - what changed in a file of lines since a generation read it
 *
 * SYNOPSIS
 *	#include "filediff.h"
 *
 *	struct filediff *filediff_record(const char *path, int fd);
 *	void filediff_line(struct filediff *d, const char *line,
 *	    size_t len);
 *	int filediff_end(struct filediff *d);
 *
 *	int filediff_update(const struct filediff *old, const char *path,
 *	    struct filediff_change *ch, struct filediff **next);
 *	const char *filediff_path(const struct filediff *d);
 *	size_t filediff_bytes(const struct filediff *d);
 *	void filediff_free(struct filediff *d);
 *
 * DESCRIPTION
 *	A filediff describes a file as one reader read it, so that the next
 *	reader can be told which lines changed without reading it all
 *	again: a seeded 64-bit hash (XXH3) of every line, sorted (8 octets a
 *	line), a 128-bit hash of the whole file, and the file itself, kept
 *	open: a file replaced by rename(2) still reads as it was.  The seed
 *	is random, so that lines cannot be chosen to collide.
 *
 *	filediff_record() starts the record of a read of path through fd
 *	(duplicated; NULL out of memory); the reader hands it each line it
 *	reads, newline included, in order (filediff_line()), and
 *	filediff_end() closes the record: 0, or -1 when it is of no use
 *	(out of memory; the file changed while it was read: its size or
 *	time of change is not what it was at the start, or the lines are
 *	not all of it); the caller then frees it.
 *
 *	filediff_update() reads path again and hands the caller the lines
 *	that changed since old: ch->removed() for each line of old not in
 *	the file any more, first, in old's order, then ch->added() for each
 *	line new or changed, in file order with its line number.  A line
 *	given twice counts twice.  When the file begins with old's file
 *	octet for octet (it was appended to, in place or not) only the new
 *	lines are hashed and compared: that costs one read of the file and
 *	the lines added.  Otherwise the hashes of every line, sorted, are
 *	merged with old's, and the lines removed are found again by reading
 *	old's file (opened again through /proc/self/fd: the descriptor kept
 *	may be shared with another process, and is only ever read with
 *	pread(2)).  A line read again for a callback is hashed again and must
 *	be the line recorded.  It returns FILEDIFF_OK with the record of
 *	the file read in *next, FILEDIFF_FULL when it cannot tell (the file
 *	cannot be opened, is not a regular file, changed while it was
 *	read, ends without a newline, old's file changed in place and lost
 *	a removed line, a line names a file of its own ("recipients_file",
 *	"auth_file") in old or new, more than ch->max lines changed, out of
 *	memory), or a callback's non-zero return.  The caller then reads the
 *	whole file in the usual way, which says what is wrong with it.
 *
 *	filediff_path() is the path a record was read from,
 *	filediff_bytes() the memory it holds, filediff_free() releases it
 *	and closes its file (NULL is fine).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "filediff.h"

#define FILEDIFF_LINE_MAX	8192	/* a longer added line: FULL */
#define FILEDIFF_MARK		1024	/* lines between offsets kept */

/* A line of a file being diffed: its hash and where it starts. */
struct entry {
	uint64_t	 hash;
	uint64_t	 off;
};

struct filediff {
	char		*path;
	int		 fd;		/* the file read, kept open */
	uint64_t	 seed;
	XXH128_hash_t	 whole;		/* of the first len octets */
	uint64_t	 len;
	unsigned long	 lines;
	uint64_t	*h;		/* every line's hash, sorted */
	size_t		 n, cap;
	int		 files;		/* a line names a file of its own */
	int		 bad;		/* out of memory while reading */
	XXH3_state_t	*st;		/* while reading */
	struct stat	 sb;		/* at the start of the read */
	/* while diffed: the lines read, every FILEDIFF_MARK-th's offset */
	int		 diffed;
	struct entry	*e;
	size_t		 ne, cape;
	uint64_t	*mark;
	size_t		 nmark, capmark;
};

/*
 * room - v with room for one more of size octets (n used, *cap grown):
 * v or its larger copy, NULL out of memory (v then as it was)
 */
static void *
room(void *v, size_t *cap, size_t n, size_t size)
{
	void	*grown;
	size_t	 ncap;

	if (n < *cap)
		return v;
	ncap = *cap == 0 ? 1024 : *cap * 2;
	if ((grown = reallocarray(v, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return grown;
}

/* rec_new - an empty record of path read through fd (taken), or NULL */
static struct filediff *
rec_new(const char *path, int fd, uint64_t seed)
{
	struct filediff	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->path = strdup(path)) == NULL ||
	    (d->st = XXH3_createState()) == NULL ||
	    XXH3_128bits_reset_withSeed(d->st, seed) == XXH_ERROR ||
	    fstat(fd, &d->sb) == -1) {
		if (d != NULL) {
			XXH3_freeState(d->st);
			free(d->path);
			free(d);
		}
		close(fd);
		return NULL;
	}
	d->fd = fd;
	d->seed = seed;
	return d;
}

struct filediff *
filediff_record(const char *path, int fd)
{
	uint64_t	 seed;
	int		 dfd;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		return NULL;
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return NULL;
	return rec_new(path, dfd, seed);
}

/* names_file - a line that may name a file of its own */
static int
names_file(const char *line, size_t len)
{
	return memmem(line, len, "recipients_file", 15) != NULL ||
	    memmem(line, len, "auth_file", 9) != NULL;
}

/*
 * take - a line read: hashed, counted; its hash kept (a record), or its
 * entry and every FILEDIFF_MARK-th line's offset (a file diffed)
 */
static void
take(struct filediff *d, const char *line, size_t len)
{
	uint64_t	 h;
	void		*v;

	if (XXH3_128bits_update(d->st, line, len) == XXH_ERROR)
		d->bad = 1;
	h = XXH3_64bits_withSeed(line, len, d->seed);
	if (!d->diffed) {
		if ((v = room(d->h, &d->cap, d->n, sizeof(*d->h))) == NULL) {
			d->bad = 1;
			return;
		}
		d->h = v;
		d->h[d->n++] = h;
	} else {
		if ((v = room(d->e, &d->cape, d->ne, sizeof(*d->e))) == NULL) {
			d->bad = 1;
			return;
		}
		d->e = v;
		d->e[d->ne].hash = h;
		d->e[d->ne++].off = d->len;
		if (d->lines % FILEDIFF_MARK == 0) {
			if ((v = room(d->mark, &d->capmark, d->nmark,
			    sizeof(*d->mark))) == NULL) {
				d->bad = 1;
				return;
			}
			d->mark = v;
			d->mark[d->nmark++] = d->len;
		}
	}
	d->files |= names_file(line, len);
	d->len += len;
	d->lines++;
}

void
filediff_line(struct filediff *d, const char *line, size_t len)
{
	if (d != NULL)
		take(d, line, len);
}

static int
hash_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* off_cmp - entries in file order */
static int
off_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* sort - n elements of size (none: maybe no array) in cmp's order */
static void
sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* same_file - the file is as it was at the start, and all of it read */
static int
same_file(const struct filediff *d)
{
	struct stat	 sb;

	return fstat(d->fd, &sb) == 0 && sb.st_dev == d->sb.st_dev &&
	    sb.st_ino == d->sb.st_ino && sb.st_size == d->sb.st_size &&
	    sb.st_mtim.tv_sec == d->sb.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == d->sb.st_mtim.tv_nsec &&
	    (uint64_t)sb.st_size == d->len;
}

/* done - the record complete: the whole file's hash; reading state gone */
static int
done(struct filediff *d)
{
	int	 ok;

	ok = !d->bad && same_file(d);
	d->whole = XXH3_128bits_digest(d->st);
	XXH3_freeState(d->st);
	d->st = NULL;
	return ok ? 0 : -1;
}

/* unread - what a diff kept of the lines read dropped */
static void
unread(struct filediff *d)
{
	free(d->e);
	free(d->mark);
	d->e = NULL;
	d->mark = NULL;
	d->ne = d->cape = d->nmark = d->capmark = 0;
	d->diffed = 0;
}

/* fit - the hashes in an array of their size */
static void
fit(struct filediff *d)
{
	uint64_t	*v;

	if (d->cap > d->n && d->n > 0 &&
	    (v = reallocarray(d->h, d->n, sizeof(*v))) != NULL) {
		d->h = v;
		d->cap = d->n;
	}
}

int
filediff_end(struct filediff *d)
{
	if (d == NULL || done(d) == -1)
		return -1;
	sort(d->h, d->n, sizeof(*d->h), hash_cmp);
	fit(d);
	return 0;
}

/*
 * read_line - the line at off of fd into buf, which must hash to hash:
 * its length, or 0 (FULL: too long, not there, not that line)
 */
static size_t
read_line(int fd, uint64_t off, uint64_t seed, uint64_t hash, char *buf,
    size_t buflen)
{
	ssize_t	 n;
	char	*nl;
	size_t	 len;

	if ((n = pread(fd, buf, buflen, (off_t)off)) <= 0)
		return 0;
	if ((nl = memchr(buf, '\n', (size_t)n)) == NULL)
		return 0;
	len = (size_t)(nl - buf) + 1;
	return XXH3_64bits_withSeed(buf, len, seed) == hash ? len : 0;
}

/* line_no - the number of the line at off, from the marks kept */
static unsigned long
line_no(const struct filediff *d, uint64_t off)
{
	char		 buf[65536];
	const char	*p, *end;
	size_t		 lo, hi, mid;
	uint64_t	 at;
	unsigned long	 no;
	ssize_t		 n;

	if (d->nmark == 0)
		return 0;
	lo = 0;
	hi = d->nmark;
	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (d->mark[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	no = (unsigned long)lo * FILEDIFF_MARK + 1;
	for (at = d->mark[lo]; at < off; at += (uint64_t)n) {
		if ((n = pread(d->fd, buf, off - at < sizeof(buf) ?
		    (size_t)(off - at) : sizeof(buf), (off_t)at)) <= 0)
			return 0;
		for (p = buf, end = buf + n;
		    (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			no++;
	}
	return no;
}

/* restart - an edit, not an append: every line, from the start */
static void
restart(struct filediff *d, FILE *fp)
{
	rewind(fp);
	d->len = 0;
	d->lines = 0;
	d->ne = 0;
	d->nmark = 0;
	d->files = 0;
	if (XXH3_128bits_reset_withSeed(d->st, d->seed) == XXH_ERROR)
		d->bad = 1;
}

/*
 * prefix - the file begins with old's file: its first old->len octets
 * read in blocks and hashed (fp then stands right after them), 1; or 0
 */
static int
prefix(struct filediff *d, FILE *fp, const struct filediff *old)
{
	char		 buf[65536];
	uint64_t	 left;
	size_t		 n;

	if ((uint64_t)d->sb.st_size < old->len)
		return 0;
	for (left = old->len; left > 0; left -= n) {
		n = fread(buf, 1, left < sizeof(buf) ? (size_t)left :
		    sizeof(buf), fp);
		if (n == 0)
			return 0;
		if (XXH3_128bits_update(d->st, buf, n) == XXH_ERROR)
			d->bad = 1;
	}
	if (!XXH128_isEqual(XXH3_128bits_digest(d->st), old->whole))
		return 0;
	d->len = old->len;
	d->lines = old->lines;
	return 1;
}

/*
 * scan - the file read into d's entries; with old, when the file begins
 * with old's file, only the lines past it (*append set then):
 * FILEDIFF_OK or FILEDIFF_FULL
 */
static int
scan(struct filediff *d, const struct filediff *old, int *append)
{
	FILE		*fp;
	char		*line;
	size_t		 cap;
	ssize_t		 n;
	int		 fd, rc;

	if ((fd = dup(d->fd)) == -1 || (fp = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		return FILEDIFF_FULL;
	}
	d->diffed = 1;
	*append = old->len > 0 && prefix(d, fp, old);
	if (!*append && old->len > 0)
		restart(d, fp);
	line = NULL;
	cap = 0;
	rc = FILEDIFF_OK;
	while ((n = getline(&line, &cap, fp)) != -1) {
		if (line[n - 1] != '\n') {
			rc = FILEDIFF_FULL;
			break;
		}
		take(d, line, (size_t)n);
	}
	if (rc == FILEDIFF_OK && ferror(fp))
		rc = FILEDIFF_FULL;
	free(line);
	fclose(fp);
	return rc;
}

/* The lines of a change: the hashes gone (sorted), the lines come. */
struct delta {
	uint64_t	*gone;
	struct entry	*come;
	size_t		 ngone, ncome;
};

/*
 * delta_walk - old's sorted hashes and d's sorted entries merged: the
 * lines gone and come counted, and copied when dl's arrays are there
 */
static void
delta_walk(const struct filediff *old, const struct filediff *d,
    struct delta *dl)
{
	size_t	 i, j;

	dl->ngone = dl->ncome = 0;
	for (i = j = 0; i < old->n || j < d->ne;) {
		if (i < old->n && j < d->ne && old->h[i] == d->e[j].hash) {
			i++;
			j++;
		} else if (j == d->ne || (i < old->n &&
		    old->h[i] < d->e[j].hash)) {
			if (dl->gone != NULL)
				dl->gone[dl->ngone] = old->h[i];
			dl->ngone++;
			i++;
		} else {
			if (dl->come != NULL)
				dl->come[dl->ncome] = d->e[j];
			dl->ncome++;
			j++;
		}
	}
}

/*
 * edit - an edit: d's entries sorted, what went and came (come in file
 * order), d's hashes those of its entries; FILEDIFF_OK or FULL
 */
static int
edit(const struct filediff *old, struct filediff *d, size_t max,
    struct delta *dl)
{
	size_t	 i;

	sort(d->e, d->ne, sizeof(*d->e), entry_cmp);
	delta_walk(old, d, dl);
	if (dl->ngone + dl->ncome > max)
		return FILEDIFF_FULL;
	if ((dl->gone = calloc(dl->ngone + 1, sizeof(*dl->gone))) == NULL ||
	    (dl->come = calloc(dl->ncome + 1, sizeof(*dl->come))) == NULL ||
	    (d->h = calloc(d->ne + 1, sizeof(*d->h))) == NULL)
		return FILEDIFF_FULL;
	delta_walk(old, d, dl);
	sort(dl->come, dl->ncome, sizeof(*dl->come), off_cmp);
	for (i = 0; i < d->ne; i++)
		d->h[i] = d->e[i].hash;
	d->n = d->cap = d->ne;
	return FILEDIFF_OK;
}

/*
 * appended - an append: come are d's entries as read, d's hashes old's
 * and theirs merged; FILEDIFF_OK or FULL
 */
static int
appended(const struct filediff *old, struct filediff *d, size_t max,
    struct delta *dl)
{
	uint64_t	*add;
	size_t		 i, j, k;

	if (d->ne > max)
		return FILEDIFF_FULL;
	if ((dl->come = calloc(d->ne + 1, sizeof(*dl->come))) == NULL ||
	    (add = calloc(d->ne + 1, sizeof(*add))) == NULL)
		return FILEDIFF_FULL;
	if ((d->h = reallocarray(NULL, old->n + d->ne + 1,
	    sizeof(*d->h))) == NULL) {
		free(add);
		return FILEDIFF_FULL;
	}
	for (i = 0; i < d->ne; i++) {
		dl->come[i] = d->e[i];
		add[i] = d->e[i].hash;
	}
	dl->ncome = d->ne;
	sort(add, d->ne, sizeof(*add), hash_cmp);
	for (i = j = k = 0; i < old->n || j < d->ne;)
		if (j == d->ne || (i < old->n && old->h[i] < add[j]))
			d->h[k++] = old->h[i++];
		else
			d->h[k++] = add[j++];
	d->n = d->cap = k;
	free(add);
	return FILEDIFF_OK;
}

/*
 * gone_lines - the lines of old's file whose hashes went, each found
 * again by reading it (once each, in old's order) and handed to
 * ch->removed(): FILEDIFF_OK, FULL when one is not there, or its return
 */
static int
gone_lines(const struct filediff *old, const struct delta *dl,
    struct filediff_change *ch)
{
	char		 proc[64], *line, *used;
	uint64_t	 h;
	size_t		 cap, lo, hi, mid, found;
	ssize_t		 n;
	FILE		*fp;
	int		 fd, rc;

	if (dl->ngone == 0)
		return FILEDIFF_OK;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", old->fd);
	if ((used = calloc(dl->ngone, 1)) == NULL)
		return FILEDIFF_FULL;
	if ((fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		free(used);
		return FILEDIFF_FULL;
	}
	line = NULL;
	cap = 0;
	found = 0;
	rc = FILEDIFF_OK;
	while (rc == FILEDIFF_OK && found < dl->ngone &&
	    (n = getline(&line, &cap, fp)) != -1) {
		h = XXH3_64bits_withSeed(line, (size_t)n, old->seed);
		for (lo = 0, hi = dl->ngone; lo < hi;) {
			mid = (lo + hi) / 2;
			if (dl->gone[mid] < h)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo < dl->ngone && dl->gone[lo] == h && used[lo])
			lo++;
		if (lo == dl->ngone || dl->gone[lo] != h)
			continue;
		used[lo] = 1;
		found++;
		rc = ch->removed(line, (size_t)n, ch->arg);
	}
	/* a line gone from old's file too: it changed in place */
	if (rc == FILEDIFF_OK && found < dl->ngone)
		rc = FILEDIFF_FULL;
	free(line);
	free(used);
	fclose(fp);
	return rc;
}

/* come_lines - the lines come, in file order, to ch->added() */
static int
come_lines(const struct filediff *d, const struct delta *dl,
    unsigned long first, struct filediff_change *ch)
{
	char		 buf[FILEDIFF_LINE_MAX];
	size_t		 i, len;
	unsigned long	 no;
	int		 rc;

	for (i = 0; i < dl->ncome; i++) {
		if ((len = read_line(d->fd, dl->come[i].off, d->seed,
		    dl->come[i].hash, buf, sizeof(buf))) == 0)
			return FILEDIFF_FULL;
		no = first != 0 ? first + i : line_no(d, dl->come[i].off);
		if (no == 0)
			return FILEDIFF_FULL;
		if ((rc = ch->added(buf, len, no, ch->arg)) != 0)
			return rc;
	}
	return FILEDIFF_OK;
}

int
filediff_update(const struct filediff *old, const char *path,
    struct filediff_change *ch, struct filediff **next)
{
	struct filediff	*d;
	struct delta	 dl;
	int		 fd, rc, append;

	*next = NULL;
	ch->nadded = ch->nremoved = 0;
	ch->append = 0;
	/* O_NONBLOCK: a FIFO is not waited for, it is no regular file */
	if (old->files || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return FILEDIFF_FULL;
	if ((d = rec_new(path, fd, old->seed)) == NULL)
		return FILEDIFF_FULL;
	if (!S_ISREG(d->sb.st_mode) || (rc = scan(d, old, &append)) != 0 ||
	    d->files || done(d) == -1) {
		filediff_free(d);
		return FILEDIFF_FULL;
	}
	memset(&dl, 0, sizeof(dl));
	rc = append ? appended(old, d, ch->max, &dl) :
	    edit(old, d, ch->max, &dl);
	if (rc == FILEDIFF_OK)
		rc = gone_lines(old, &dl, ch);
	if (rc == FILEDIFF_OK)
		rc = come_lines(d, &dl, append ? old->lines + 1 : 0, ch);
	ch->nadded = dl.ncome;
	ch->nremoved = dl.ngone;
	ch->append = append;
	free(dl.gone);
	free(dl.come);
	unread(d);
	if (rc != FILEDIFF_OK) {
		filediff_free(d);
		return rc;
	}
	*next = d;
	return FILEDIFF_OK;
}

const char *
filediff_path(const struct filediff *d)
{
	return d->path;
}

size_t
filediff_bytes(const struct filediff *d)
{
	return d == NULL ? 0 : sizeof(*d) + d->cap * sizeof(*d->h);
}

void
filediff_free(struct filediff *d)
{
	if (d == NULL)
		return;
	if (d->fd != -1)
		close(d->fd);
	XXH3_freeState(d->st);
	free(d->e);
	free(d->mark);
	free(d->h);
	free(d->path);
	free(d);
}
