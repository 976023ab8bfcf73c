/*
 * NAME
 *	authfile - the credentials of a smart host (auth_file)
 * SYNOPSIS
 *	#include "authfile.h"
 *
 *	struct authfile *authfile_load(path, user, group, err, errlen)
 *	int	authfile_parse(text, len, af, why)
 *	int	authfile_mode_ok(mode, uid, gid, user, group, why)
 *	const struct authfile *authset_load(set, path, err, errlen)
 *	void	authset_free(set)
 *	void	authfile_service(user, group)
 *	void	authfile_refuse(void)
 *	unsigned long authfile_refusals(void)
 *	int	authfile_same(a, b)
 *	void	authfile_free(af)
 * DESCRIPTION
 *	A rule's auth_file holds the username and password that the MTA
 *	gives its smart hosts (SMTP AUTH).  The file is one line:
 *
 *		username:password
 *
 *	ending with a newline or not (one "\r\n" is taken as a newline);
 *	nothing may follow it.  The username is split off at the first
 *	colon, as Postfix splits a smtp_sasl_password_maps value: 1 to
 *	AUTHFILE_USER_MAX printable octets without blanks.  The password
 *	is 1 to AUTHFILE_PASS_MAX octets, no control characters (UTF-8 is
 *	fine) and no blank at either end (a text table would lose it).
 *
 *	authfile_parse() fills af->user and af->pass from text (af->path is
 *	left alone): 0, or -1 with a reason in *why.  The reason never
 *	quotes the file: it is a secret.
 *
 *	authfile_mode_ok() is 1 when a file of that mode and owner may hold
 *	a secret, else 0 with a reason in *why: a regular file, no bit
 *	beyond 0640, owned by root or by the service user (the daemon's,
 *	who must read it), and group-readable only when its group is the
 *	service group.
 *
 *	authfile_load() opens path (no symbolic link at its end), checks it
 *	with authfile_mode_ok() (the service user, (uid_t)-1 for the
 *	process's own, and the service group) and reads it
 *	with authfile_parse(): the credentials, or NULL with "FILE: reason"
 *	in err (a missing file, others may read it, a malformed line).
 *
 *	authset_load() is authfile_load() once per path for a rule set
 *	(rules naming one file share it), with the set's service user and
 *	group (the configuration's "user" and "group"; authfile_service()
 *	overrides them for the process: the daemon's -u and -g, (uid_t)-1
 *	and (gid_t)-1 for none): the credentials, or NULL with the reason
 *	in err.  authset_free()
 *	frees them all (the set itself is the caller's).
 *
 *	authfile_refuse() counts a rule set refused for its credentials (a
 *	file authset_load() refused, a rule whose credentials could travel
 *	in clear, a hop given two): authfile_refusals() is the count of the
 *	process, for the metrics.
 *
 *	authfile_same() is 1 when two files give the same credentials.
 *	authfile_free() wipes the secret and frees (NULL is fine).
 * DIAGNOSTICS
 *	Every message names the file and never says what it holds.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authfile.h"
#include "strutil.h"

/* a blank, a control character, or DEL */
static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* authfile_parse - "username:password", one line */
int
authfile_parse(const char *text, size_t len, struct authfile *af,
    const char **why)
{
	const char	*colon, *pass;
	size_t		 i, ulen, plen;

	if (len > 0 && text[len - 1] == '\n') {
		len--;
		if (len > 0 && text[len - 1] == '\r')
			len--;
	}
	if (len == 0) {
		*why = "empty: one line username:password";
		return -1;
	}
	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)text[i])) {
			*why = text[i] == '\n' ? "more than one line" :
			    "a control character";
			return -1;
		}
	if ((colon = memchr(text, ':', len)) == NULL) {
		*why = "no colon: one line username:password";
		return -1;
	}
	ulen = (size_t)(colon - text);
	pass = colon + 1;
	plen = len - ulen - 1;
	if (ulen == 0 || ulen > AUTHFILE_USER_MAX) {
		*why = "the username must have 1 to 255 octets";
		return -1;
	}
	if (memchr(text, ' ', ulen) != NULL) {
		*why = "a blank in the username";
		return -1;
	}
	if (plen == 0 || plen > AUTHFILE_PASS_MAX) {
		*why = "the password must have 1 to 255 octets";
		return -1;
	}
	if (pass[0] == ' ' || pass[plen - 1] == ' ') {
		*why = "a blank at an end of the password";
		return -1;
	}
	memcpy(af->user, text, ulen);
	af->user[ulen] = '\0';
	memcpy(af->pass, pass, plen);
	af->pass[plen] = '\0';
	return 0;
}

/* authfile_mode_ok - may a file of this mode and owner hold a secret */
int
authfile_mode_ok(mode_t mode, uid_t uid, gid_t gid, uid_t user,
    gid_t group, const char **why)
{
	if (!S_ISREG(mode)) {
		*why = "not a regular file";
		return 0;
	}
	if ((mode & 07777 & ~(mode_t)0640) != 0) {
		*why = "others may read or change it (mode beyond 0640)";
		return 0;
	}
	if (uid != 0 && uid != user) {
		*why = "owned by a user other than root and the service user";
		return 0;
	}
	if ((mode & 0040) != 0 && gid != group) {
		*why = "readable by a group other than the service group";
		return 0;
	}
	return 1;
}

/* authfile_load - the credentials of a file that only we may read */
struct authfile *
authfile_load(const char *path, uid_t user, gid_t group, char *err,
    size_t errlen)
{
	struct authfile	*af;
	struct stat	 st;
	const char	*why;
	char		 buf[AUTHFILE_SIZE_MAX + 2];
	ssize_t		 n;
	size_t		 len;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		errmsg_set(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!authfile_mode_ok(st.st_mode, st.st_uid, st.st_gid,
	    user != (uid_t)-1 ? user : geteuid(), group, &why)) {
		errmsg_set(err, errlen, "%s: %s", path, why);
		close(fd);
		return NULL;
	}
	for (len = 0; len < sizeof(buf); len += (size_t)n) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			errmsg_set(err, errlen, "%s: %s", path,
			    strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return NULL;
		}
		if (n == 0)
			break;
	}
	close(fd);
	if ((af = calloc(1, sizeof(*af))) == NULL ||
	    (af->path = strdup(path)) == NULL) {
		errmsg_set(err, errlen, "%s: out of memory", path);
		authfile_free(af);
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	if (len == sizeof(buf)) {
		why = "too long: one line username:password";
		goto bad;
	}
	if (authfile_parse(buf, len, af, &why) == -1)
		goto bad;
	explicit_bzero(buf, sizeof(buf));
	return af;
bad:
	errmsg_set(err, errlen, "%s: %s", path, why);
	authfile_free(af);
	explicit_bzero(buf, sizeof(buf));
	return NULL;
}

/* The service user and group the daemon was told on its command line. */
static uid_t authfile_user = (uid_t)-1;
static gid_t authfile_group = (gid_t)-1;

/* authfile_service - the user and group -u, -g gave, over the config's */
void
authfile_service(uid_t user, gid_t group)
{
	authfile_user = user;
	authfile_group = group;
}

/* Rule sets refused for their credentials, in this process. */
static atomic_ulong authfile_refused;

/* authfile_refuse - count a rule set refused for its credentials */
void
authfile_refuse(void)
{
	atomic_fetch_add(&authfile_refused, 1);
}

/* authfile_refusals - how many so far */
unsigned long
authfile_refusals(void)
{
	return atomic_load(&authfile_refused);
}

/* authset_load - the file at path, read once for the set */
const struct authfile *
authset_load(struct authset *set, const char *path, char *err,
    size_t errlen)
{
	struct authfile	**grown, *af;
	size_t		  i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->path, path) == 0)
			return set->v[i];
	if ((af = authfile_load(path, authfile_user != (uid_t)-1 ?
	    authfile_user : set->user, authfile_group != (gid_t)-1 ?
	    authfile_group : set->group, err, errlen)) == NULL) {
		authfile_refuse();
		return NULL;
	}
	if ((grown = realloc(set->v, (set->n + 1) * sizeof(*grown))) == NULL) {
		authfile_free(af);
		errmsg_set(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	set->v = grown;
	set->v[set->n++] = af;
	return af;
}

/* authset_free - every file of the set */
void
authset_free(struct authset *set)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		authfile_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* authfile_same - the same credentials */
int
authfile_same(const struct authfile *a, const struct authfile *b)
{
	return strcmp(a->user, b->user) == 0 && strcmp(a->pass, b->pass) == 0;
}

/* authfile_free - wipe and release */
void
authfile_free(struct authfile *af)
{
	if (af == NULL)
		return;
	free(af->path);
	explicit_bzero(af, sizeof(*af));
	free(af);
}
