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
 *	again: a seeded 64-bit hash (XXH3) and the offset of every line,
 *	sorted by hash (16 octets a line), a 128-bit hash of the whole
 *	file, and the file itself, kept open: a file replaced by rename(2)
 *	still reads as it was.  The seed is random, so that lines cannot be
 *	chosen to collide.
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
 *	the file any more, first, then ch->added() for each line new or
 *	changed, in file order with its line number.  A line given twice
 *	counts twice.  When the file begins with old's file octet for octet
 *	(it was appended to, in place or not) only the new lines are
 *	hashed into the record and compared: that costs one read of the
 *	file and the lines added.  Otherwise the two sorted records are
 *	merged.  A line read again for a callback is hashed again and must
 *	be the line recorded.  It returns FILEDIFF_OK with the record of
 *	the file read in *next, FILEDIFF_FULL when it cannot tell (the file
 *	cannot be opened, is not a regular file, changed while it was
 *	read, ends without a newline, old's file changed in place under a
 *	removed line, a line names a file of its own ("recipients_file",
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

#define FILEDIFF_LINE_MAX	8192	/* a longer changed line: FULL */
#define FILEDIFF_MARK		1024	/* lines between offsets kept */

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
	struct entry	*e;		/* sorted by hash, then offset */
	size_t		 n, cap;
	int		 files;		/* a line names a file of its own */
	int		 bad;		/* out of memory while recording */
	XXH3_state_t	*st;		/* while reading */
	struct stat	 sb;		/* at the start of the read */
	uint64_t	*mark;		/* line k*FILEDIFF_MARK's offset */
	size_t		 nmark, capmark;
};

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

/* push - one more entry (hash, off), in file order for now */
static void
push(struct filediff *d, uint64_t hash, uint64_t off)
{
	struct entry	*grown;
	size_t		 ncap;

	if (d->n == d->cap) {
		ncap = d->cap == 0 ? 1024 : d->cap * 2;
		if ((grown = reallocarray(d->e, ncap, sizeof(*grown))) ==
		    NULL) {
			d->bad = 1;
			return;
		}
		d->e = grown;
		d->cap = ncap;
	}
	d->e[d->n].hash = hash;
	d->e[d->n++].off = off;
}

/* names_file - a line that may name a file of its own */
static int
names_file(const char *line, size_t len)
{
	return memmem(line, len, "recipients_file", 15) != NULL ||
	    memmem(line, len, "auth_file", 9) != NULL;
}

/* take - a line read: hashed, counted, its entry kept */
static void
take(struct filediff *d, const char *line, size_t len)
{
	uint64_t	*grown;
	size_t		 ncap;

	if (XXH3_128bits_update(d->st, line, len) == XXH_ERROR)
		d->bad = 1;
	push(d, XXH3_64bits_withSeed(line, len, d->seed), d->len);
	if (d->lines % FILEDIFF_MARK == 0) {
		if (d->nmark == d->capmark) {
			ncap = d->capmark == 0 ? 64 : d->capmark * 2;
			if ((grown = reallocarray(d->mark, ncap,
			    sizeof(*grown))) == NULL) {
				d->bad = 1;
				return;
			}
			d->mark = grown;
			d->capmark = ncap;
		}
		d->mark[d->nmark++] = d->len;
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
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* sort - n entries (none: no array) in the order of cmp */
static void
sort(struct entry *e, size_t n, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp);
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

/* unmark - the line offsets kept for line_no() dropped */
static void
unmark(struct filediff *d)
{
	free(d->mark);
	d->mark = NULL;
	d->nmark = d->capmark = 0;
}

int
filediff_end(struct filediff *d)
{
	if (d == NULL || done(d) == -1)
		return -1;
	unmark(d);
	sort(d->e, d->n, entry_cmp);
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
	d->n = 0;
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
 * scan - the file read into d; with old, when the file begins with old's
 * file, only the lines past it (*append set then): FILEDIFF_OK or
 * FILEDIFF_FULL
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

/* merged - old's entries and the appended ones (sorted), into d */
static int
merged(struct filediff *d, const struct filediff *old)
{
	struct entry	*v;
	size_t		 i, j, k;

	sort(d->e, d->n, entry_cmp);
	if ((v = reallocarray(NULL, old->n + d->n + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = j = k = 0; i < old->n || j < d->n;)
		if (j == d->n || (i < old->n &&
		    entry_cmp(&old->e[i], &d->e[j]) < 0))
			v[k++] = old->e[i++];
		else
			v[k++] = d->e[j++];
	free(d->e);
	d->e = v;
	d->n = d->cap = k;
	return 0;
}

/* off_cmp - entries in file order */
static int
off_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* The lines of a change: those gone (old's offsets), those come. */
struct delta {
	struct entry	*gone, *come;
	size_t		 ngone, ncome;
};

/*
 * delta_walk - old's and d's sorted records merged: the lines gone and
 * come counted, and copied when dl's arrays are there
 */
static void
delta_walk(const struct filediff *old, const struct filediff *d,
    struct delta *dl)
{
	size_t	 i, j;

	dl->ngone = dl->ncome = 0;
	for (i = j = 0; i < old->n || j < d->n;) {
		if (i < old->n && j < d->n && old->e[i].hash == d->e[j].hash) {
			i++;
			j++;
		} else if (j == d->n || (i < old->n &&
		    old->e[i].hash < d->e[j].hash)) {
			if (dl->gone != NULL)
				dl->gone[dl->ngone] = old->e[i];
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

/* delta_of - what went and came, come in file order; or FULL */
static int
delta_of(const struct filediff *old, const struct filediff *d, size_t max,
    struct delta *dl)
{
	memset(dl, 0, sizeof(*dl));
	delta_walk(old, d, dl);
	if (dl->ngone + dl->ncome > max)
		return FILEDIFF_FULL;
	if ((dl->gone = calloc(dl->ngone + 1, sizeof(*dl->gone))) == NULL ||
	    (dl->come = calloc(dl->ncome + 1, sizeof(*dl->come))) == NULL)
		return FILEDIFF_FULL;
	delta_walk(old, d, dl);
	sort(dl->come, dl->ncome, off_cmp);
	return FILEDIFF_OK;
}

/* apply - the callbacks for the lines gone, then those come */
static int
apply(const struct filediff *old, const struct filediff *d,
    const struct delta *dl, unsigned long first, struct filediff_change *ch)
{
	char		 buf[FILEDIFF_LINE_MAX];
	size_t		 i, len;
	unsigned long	 no;
	int		 rc;

	for (i = 0; i < dl->ngone; i++) {
		if ((len = read_line(old->fd, dl->gone[i].off, old->seed,
		    dl->gone[i].hash, buf, sizeof(buf))) == 0)
			return FILEDIFF_FULL;
		if ((rc = ch->removed(buf, len, ch->arg)) != 0)
			return rc;
	}
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
	if (append) {
		if (d->n > ch->max) {
			filediff_free(d);
			return FILEDIFF_FULL;
		}
		/* the new lines as they are, in file order */
		if ((dl.come = calloc(d->n + 1, sizeof(*dl.come))) == NULL) {
			filediff_free(d);
			return FILEDIFF_FULL;
		}
		if (d->n > 0)
			memcpy(dl.come, d->e, d->n * sizeof(*dl.come));
		dl.ncome = d->n;
		rc = merged(d, old) == -1 ? FILEDIFF_FULL :
		    apply(old, d, &dl, old->lines + 1, ch);
	} else {
		sort(d->e, d->n, entry_cmp);
		rc = delta_of(old, d, ch->max, &dl);
		if (rc == FILEDIFF_OK)
			rc = apply(old, d, &dl, 0, ch);
	}
	ch->nadded = dl.ncome;
	ch->nremoved = dl.ngone;
	ch->append = append;
	free(dl.gone);
	free(dl.come);
	unmark(d);
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
	return d == NULL ? 0 : sizeof(*d) + d->cap * sizeof(*d->e);
}

void
filediff_free(struct filediff *d)
{
	if (d == NULL)
		return;
	if (d->fd != -1)
		close(d->fd);
	XXH3_freeState(d->st);
	free(d->mark);
	free(d->e);
	free(d->path);
	free(d);
}
