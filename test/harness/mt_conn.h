/*
 * mt_conn - MTA side of the milter protocol, version 6
 *
 * One struct mt_conn is one connection to a filter, used by one thread.
 *
 *	mt_conn_open(conn, spec, timeout_ms, verbose)
 *		connects to SPEC (unix:/path, /path, inet:port@host,
 *		inet6:port@host) and sends SMFIC_OPTNEG offering protocol
 *		version 6, every action (SMFI_CURR_ACTS) and every protocol
 *		step (SMFI_CURR_PROT without the internal size bits), then
 *		reads the filter's answer: its protocol flags (skipped stages,
 *		no-reply stages) and its optional lists of macros per stage
 *		(SMFIM_*).  -1 on error with conn->err set.
 *	mt_conn_event(conn, cmd, macros, data, len, reply)
 *		sends one MTA event (SMFIC_CONNECT, HELO, MAIL, RCPT, DATA,
 *		HEADER, EOH, BODY, BODYEOB) as Postfix does: first, when
 *		MACROS is not NULL and the event has a macro stage, one
 *		SMFIC_MACRO packet, even empty (it replaces libmilter's
 *		macros of that stage), also for a stage the filter skips,
 *		with only the names the filter asked for when it sent a list
 *		for that stage; then the event unless the filter asked to skip
 *		it, then waits for the reply unless the filter negotiated the
 *		no-reply flag of that stage.  Progress replies are skipped,
 *		modification requests (at end of message) counted and
 *		recorded in reply->mods.  0 with *reply filled in, -1 on
 *		timeout, EOF or protocol error (conn->err set).
 *	mt_conn_abort(conn), mt_conn_quit(conn)
 *		send SMFIC_ABORT / SMFIC_QUIT (no reply); quit also closes.
 *	mt_conn_close(conn)
 *		closes the socket, frees memory.  Safe to call twice.
 *	mt_reply_str(reply, buf, len)
 *		formats a reply for messages: "reject 554 5.7.1 text".
 *
 *
 * The decoding of what the filter sends, callable on a buffer (the fuzz
 * target test/fuzz/fuzz_milter.c drives these directly):
 *
 *	mt_packet_parse(buf, len, plen, cmd, data, dlen)
 *		the packet at the start of BUF: returns its total size
 *		(4 + *plen) with *cmd and *data, *dlen (inside BUF) set; 0
 *		when BUF holds only a part of it (*plen is its length word
 *		when the 4-byte header is complete, 0 otherwise); -1 when the
 *		length word is outside 1..MT_MAX_PACKET (*plen says what it
 *		was).
 *	mt_conn_optneg(conn, cmd, data, len)
 *		takes the filter's SMFIC_OPTNEG reply: sets conn->version,
 *		actions, pflags (refused beyond what was offered) and
 *		conn->symlist[] from the macro lists.  0, or -1 with
 *		conn->err set.
 *	mt_conn_reply(conn, event, cmd, data, len, reply)
 *		takes one reply packet to EVENT: 1 when it is the final
 *		reply (reply->kind set), 0 for a progress report or a
 *		modification request (recorded), -1 for a malformed or
 *		unexpected reply (conn->err set).
 *
 *	mt_macros_set(macros, name, value), mt_macros_get(macros, name),
 *	mt_macros_unset(), mt_macros_copy(), mt_macros_free()
 *		a small ordered list of macro name/value pairs.  Names are
 *		stored as given ("{auth_authen}", "i") and compared with the
 *		braces ignored, as libmilter does.
 *
 * Every read waits at most timeout_ms for the next packet, so a hung filter
 * fails the caller rather than hanging it.
 */
#ifndef MT_CONN_H
#define MT_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MT_MACROS_MAX	32
#define MT_TEXT_MAX	1024
#define MT_MAX_PACKET	(1024 * 1024 + 16)	/* largest length word */

/* Outcome of one event, as the MTA sees it. */
enum mt_kind {
	MT_NOREPLY,		/* no-reply flag negotiated: not waited for */
	MT_SKIPPED,		/* the filter asked not to get this stage */
	MT_UNSENT,		/* not sent: the filter had already decided
				   the connection or the message */
	MT_CONTINUE,		/* SMFIR_CONTINUE */
	MT_ACCEPT,		/* SMFIR_ACCEPT */
	MT_REJECT,		/* SMFIR_REJECT or REPLYCODE 5xx */
	MT_TEMPFAIL,		/* SMFIR_TEMPFAIL or REPLYCODE 4xx */
	MT_DISCARD,		/* SMFIR_DISCARD */
	MT_SKIP,		/* SMFIR_SKIP (body chunks) */
	MT_SHUTDOWN,		/* SMFIR_SHUTDOWN (421) */
	MT_CONNFAIL,		/* SMFIR_CONN_FAIL */
	MT_KIND_COUNT
};

struct mt_reply {
	enum mt_kind kind;
	int	cmd;			/* SMFIR_* byte, 0 when none */
	char	text[MT_TEXT_MAX];	/* REPLYCODE text, "" otherwise */
	int	mods;			/* modification requests seen */
	char	lastmod[MT_TEXT_MAX];	/* the last one, formatted */
};

struct mt_macros {
	size_t	count;
	char	*name[MT_MACROS_MAX];
	char	*value[MT_MACROS_MAX];
};

struct mt_conn {
	int	fd;
	int	timeout_ms;
	int	verbose;
	uint32_t version;		/* as answered by the filter */
	uint32_t actions;
	uint32_t pflags;
	char	*symlist[7];		/* SMFIM_CONNECT..SMFIM_EOH, or NULL */
	unsigned char *in;		/* input buffer */
	size_t	in_len;
	size_t	in_off;
	size_t	in_size;
	unsigned char *out;		/* output buffer of one exchange */
	size_t	out_len;
	size_t	out_size;
	char	err[256];
};

extern const char *mt_kind_name(enum mt_kind);
extern int mt_kind_parse(const char *, enum mt_kind *);

extern ssize_t mt_packet_parse(const unsigned char *, size_t, size_t *,
	    int *, const unsigned char **, size_t *);
extern int mt_conn_optneg(struct mt_conn *, int, const unsigned char *,
	    size_t);
extern int mt_conn_reply(struct mt_conn *, int, int, const unsigned char *,
	    size_t, struct mt_reply *);
extern int mt_conn_open(struct mt_conn *, const char *, int, int);
extern int mt_conn_event(struct mt_conn *, int, const struct mt_macros *,
	    const void *, size_t, struct mt_reply *);
extern int mt_conn_abort(struct mt_conn *, const struct mt_macros *);
extern int mt_conn_quit(struct mt_conn *);
extern void mt_conn_close(struct mt_conn *);
extern char *mt_reply_str(const struct mt_reply *, char *, size_t);

extern int mt_macros_set(struct mt_macros *, const char *, const char *);
extern const char *mt_macros_get(const struct mt_macros *, const char *);
extern void mt_macros_unset(struct mt_macros *, const char *);
extern int mt_macros_copy(struct mt_macros *, const struct mt_macros *);
extern void mt_macros_free(struct mt_macros *);

#endif
