/*
 * reply - the SMTP replies of milter-relay (interface in reply.c)
 */
#ifndef MR_REPLY_H
#define MR_REPLY_H

#include <stddef.h>

#define REPLY_MAX	500	/* "ddd x.y.z text" of a rule; any reply text */
#define REPLY_CODE_SIZE	4	/* "451" and its NUL */
#define REPLY_XCODE_SIZE 12	/* "4.7.1" up to "5.999.999" and its NUL */

enum reply_kind {
	REPLY_SYNTAX,		/* 501 5.1.3 */
	REPLY_ROUTING,		/* 554 5.7.1 sender-specified routing */
	REPLY_DENIED,		/* 554 5.7.1 */
	REPLY_DENIED_LATER,	/* 451 4.7.1 */
	REPLY_UNAVAILABLE,	/* 451 4.7.1 cannot decide */
	REPLY_ROUTE_MISMATCH,	/* 451 4.7.1 the MTA routes elsewhere */
	REPLY_UNKNOWN_USER,	/* 550 5.1.1 no such recipient */
	REPLY_UNVERIFIED,	/* 450 4.1.1 recipient not verified */
	REPLY_ROUTE_PENDING,	/* 451 4.7.1 static tables catching up */
	REPLY_UNKNOWN_USER_TABLE /* 550 5.1.1 the access table's words */
};

struct decision;

void	reply_set(struct decision *d, enum reply_kind kind, const char *rcpt,
	    size_t len);
void	reply_rule(struct decision *d, const char *reply);
void	reply_custom(struct decision *d, const char *reply, const char *rcpt,
	    size_t len);
void	reply_clear(struct decision *d);
int	reply_valid(const char *text, const char **why);
void	reply_format(enum reply_kind kind, char *out, size_t outlen);
void	reply_escape(const char *in, char *out, size_t outlen);

#endif
