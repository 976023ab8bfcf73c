/*
 * mt_expect - expectations on filter replies
 *
 * Grammar (scenario files after the word "expect", and --expect):
 *
 *	KIND [CODE [XCODE [TEXT...]]]
 *
 * KIND is one of accept, continue, reject, tempfail, discard, noreply,
 * skipped, unsent, skip, shutdown, connfail (mt_conn.h).  "continue" matches an
 * SMFIR_CONTINUE reply and also an event whose reply the filter told us not
 * to wait for (noreply): the MTA continues in both cases.  Every other KIND
 * matches only itself; "accept" (SMFIR_ACCEPT) and "continue"
 * (SMFIR_CONTINUE) are different replies.  "reject" is SMFIR_REJECT or a
 * REPLYCODE with a 5xx code, "tempfail" SMFIR_TEMPFAIL or a 4xx REPLYCODE.
 * CODE (3 digits) must equal the reply's SMTP code, XCODE (like 5.7.1) its
 * enhanced status code, and TEXT, the remaining words joined by single
 * spaces, must occur in the rest of the reply text.  A CODE expectation
 * does not hold for a bare SMFIR_REJECT/TEMPFAIL, which carries no text.
 *
 *	mt_expect_parse(exp, argv, argc, err, errlen)
 *		0, or -1 with a message in ERR.
 *	mt_expect_match(exp, reply)
 *		1 when the reply meets the expectation, else 0.
 *	mt_expect_str(exp, buf, len)
 *		the expectation in the grammar above.
 */
#ifndef MT_EXPECT_H
#define MT_EXPECT_H

#include "mt_conn.h"

struct mt_expect {
	enum mt_kind kind;
	char	code[4];		/* "" when not given */
	char	xcode[32];
	char	text[MT_TEXT_MAX];
};

extern int mt_expect_parse(struct mt_expect *, char *const *, int, char *,
	    size_t);
extern int mt_expect_match(const struct mt_expect *, const struct mt_reply *);
extern char *mt_expect_str(const struct mt_expect *, char *, size_t);

#endif
