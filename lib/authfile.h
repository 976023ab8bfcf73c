/*
 * authfile - the credentials of a smart host (auth_file); interface in
 * authfile.c.
 */
#ifndef MR_AUTHFILE_H
#define MR_AUTHFILE_H

#include <stddef.h>
#include <sys/types.h>

#define AUTHFILE_USER_MAX	255
#define AUTHFILE_PASS_MAX	255
#define AUTHFILE_SIZE_MAX	(AUTHFILE_USER_MAX + AUTHFILE_PASS_MAX + 3)

struct authfile {
	char	*path;
	char	 user[AUTHFILE_USER_MAX + 1];
	char	 pass[AUTHFILE_PASS_MAX + 1];
};

int	authfile_parse(const char *text, size_t len, struct authfile *af,
	    const char **why);
int	authfile_mode_ok(mode_t mode, uid_t uid, gid_t gid, uid_t user,
	    gid_t group, const char **why);
struct authfile *authfile_load(const char *path, uid_t user, gid_t group,
	    char *err, size_t errlen);
/* The files of one rule set, each read once, by the service user, group. */
struct authset {
	struct authfile	**v;
	size_t		  n;
	uid_t		  user;		/* (uid_t)-1: the process's */
	gid_t		  group;
};

const struct authfile *authset_load(struct authset *set, const char *path,
	    char *err, size_t errlen);
void	authset_free(struct authset *set);
void	authfile_service(uid_t user, gid_t group);
void	authfile_refuse(void);
unsigned long authfile_refusals(void);
int	authfile_same(const struct authfile *a, const struct authfile *b);
void	authfile_free(struct authfile *af);

#endif
