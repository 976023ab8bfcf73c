/*
 * fuzz_milter - libFuzzer target: milter packets as received by the harness
 *
 * The input is what a filter sends to test/harness/milter-test over one
 * connection: packets of a 4-byte big-endian length, a command byte and
 * data, decoded by the harness's own functions (mt_packet_parse(),
 * mt_conn_optneg(), mt_conn_reply() in test/harness/mt_conn.c).
 *
 * Pass 1 plays a session as mt_conn_open() and mt_conn_event() do: the
 * first packet is the SMFIC_OPTNEG reply, the next ones answer the events
 * CONNECT, HELO, MAIL, RCPT, DATA, HEADER, EOH, BODY, EOM in turn (and
 * again), an event the negotiated flags skip or leave unanswered taking
 * no packet.  Pass 2 takes every packet as a reply to end of message on a
 * fresh connection, so that reply decoding is reached without a valid
 * negotiation.
 *
 * Checked against an independent reading of the protocol (mfdef.h), beyond
 * ASan's "never read past the buffer": a length word of 0 or over
 * MT_MAX_PACKET is refused, a truncated packet is "need more", a whole one
 * lies inside the input; a negotiation is accepted exactly when its
 * version, actions and flags are within the offer and its macro lists
 * well formed, and then each stage's list is the NUL-terminated last list
 * the filter sent for it; a reply is final, intermediate or refused
 * exactly as the protocol says, a parsed reply code is 3 digits, 4xx
 * (tempfail) or 5xx (reject), followed by ' ' or '-', and its text is the
 * packet's; every refusal comes with a message.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "../harness/mt_conn.h"

struct event {
	int		cmd;
	uint32_t	skip;		/* SMFIP_NO*: not sent */
	uint32_t	noreply;	/* SMFIP_NR_*: not answered */
};

static const struct event events[] = {
	{ SMFIC_CONNECT,	SMFIP_NOCONNECT,	SMFIP_NR_CONN },
	{ SMFIC_HELO,		SMFIP_NOHELO,		SMFIP_NR_HELO },
	{ SMFIC_MAIL,		SMFIP_NOMAIL,		SMFIP_NR_MAIL },
	{ SMFIC_RCPT,		SMFIP_NORCPT,		SMFIP_NR_RCPT },
	{ SMFIC_DATA,		SMFIP_NODATA,		SMFIP_NR_DATA },
	{ SMFIC_HEADER,		SMFIP_NOHDRS,		SMFIP_NR_HDR },
	{ SMFIC_EOH,		SMFIP_NOEOH,		SMFIP_NR_EOH },
	{ SMFIC_BODY,		SMFIP_NOBODY,		SMFIP_NR_BODY },
	{ SMFIC_BODYEOB,	0,			0 },
};
#define NEVENTS	(sizeof(events) / sizeof(events[0]))

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_milter: %s\n", why);
	abort();
}

static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* One packet at BUF: its size, 0 when incomplete, -1 when refused. */
static ssize_t
frame(const unsigned char *buf, size_t len, int *cmd,
    const unsigned char **data, size_t *dlen)
{
	uint32_t	word;
	size_t		plen = 12345;
	ssize_t		n;

	*cmd = -1;
	*data = NULL;
	*dlen = SIZE_MAX;
	n = mt_packet_parse(buf, len, &plen, cmd, data, dlen);
	if (len < 4) {
		if (n != 0 || plen != 0)
			die("short header is not need-more");
		return 0;
	}
	word = get32(buf);
	if (plen != word)
		die("length word misread");
	if (word == 0 || word > MT_MAX_PACKET) {
		if (n != -1)
			die("length 0 or over MT_MAX_PACKET not refused");
		return -1;
	}
	if (len - 4 < word) {
		if (n != 0)
			die("truncated packet is not need-more");
		return 0;
	}
	if (n != (ssize_t)(4 + (size_t)word) || *cmd != buf[4] ||
	    *data != buf + 5 || *dlen != word - 1)
		die("packet misframed");
	return n;
}

/*
 * The expected outcome of an OPTNEG reply: 0 accepted, -1 refused; when
 * accepted, last[stage] is the offset of the stage's last macro list in
 * DATA, or SIZE_MAX.
 */
static int
optneg_expect(int cmd, const unsigned char *data, size_t len,
    size_t last[SMFIM_LAST + 1])
{
	const unsigned char	*nul;
	uint32_t		 version, actions, pflags, stage;
	size_t			 off;

	for (stage = 0; stage <= SMFIM_LAST; stage++)
		last[stage] = SIZE_MAX;
	if (cmd != SMFIC_OPTNEG || len < MILTER_OPTLEN)
		return -1;
	version = get32(data);
	actions = get32(data + 4);
	pflags = get32(data + 8) & ~(uint32_t)SMFI_INTERNAL;
	if (version < 2 || version > SMFI_PROT_VERSION ||
	    (actions & ~(uint32_t)SMFI_CURR_ACTS) != 0 ||
	    (pflags & ~(uint32_t)SMFI_CURR_PROT) != 0)
		return -1;
	for (off = MILTER_OPTLEN; off < len; off = (size_t)(nul - data) + 1) {
		if (len - off < 5 ||
		    (nul = memchr(data + off + 4, '\0', len - off - 4)) == NULL)
			return -1;
		stage = get32(data + off);
		if (stage <= SMFIM_LAST)
			last[stage] = off + 4;
	}
	return 0;
}

static void
check_optneg(struct mt_conn *c, int cmd, const unsigned char *data,
    size_t len)
{
	size_t	last[SMFIM_LAST + 1];
	int	expect, rc, i;

	expect = optneg_expect(cmd, data, len, last);
	c->err[0] = '\0';
	rc = mt_conn_optneg(c, cmd, data, len);
	if (rc != expect)
		die(rc == 0 ? "bad OPTNEG accepted" : "good OPTNEG refused");
	if (rc < 0) {
		if (c->err[0] == '\0')
			die("OPTNEG refused without a message");
		return;
	}
	if (c->version != get32(data) ||
	    (c->actions & ~(uint32_t)SMFI_CURR_ACTS) != 0 ||
	    (c->pflags & ~(uint32_t)SMFI_CURR_PROT) != 0 ||
	    (c->pflags & (uint32_t)SMFI_INTERNAL) != 0)
		die("negotiated values beyond the offer");
	for (i = 0; i <= SMFIM_LAST; i++) {
		if (last[i] == SIZE_MAX) {
			if (c->symlist[i] != NULL)
				die("macro list for a stage not sent");
			continue;
		}
		if (c->symlist[i] == NULL)
			die("macro list lost");
		if (strnlen(c->symlist[i], len) >= len - last[i] ||
		    strcmp(c->symlist[i], (const char *)data + last[i]) != 0)
			die("macro list not the NUL-terminated one sent");
	}
}

static int
is_mod(int rc)
{
	return rc == SMFIR_ADDRCPT || rc == SMFIR_DELRCPT ||
	    rc == SMFIR_ADDRCPT_PAR || rc == SMFIR_REPLBODY ||
	    rc == SMFIR_CHGFROM || rc == SMFIR_ADDHEADER ||
	    rc == SMFIR_INSHEADER || rc == SMFIR_CHGHEADER;
}

/* The kind of a simple final reply, -1 when RC is not one. */
static int
final_kind(int rc)
{
	switch (rc) {
	case SMFIR_CONTINUE:	return MT_CONTINUE;
	case SMFIR_ACCEPT:	return MT_ACCEPT;
	case SMFIR_REJECT:	return MT_REJECT;
	case SMFIR_TEMPFAIL:	return MT_TEMPFAIL;
	case SMFIR_DISCARD:	return MT_DISCARD;
	case SMFIR_SKIP:	return MT_SKIP;
	case SMFIR_SHUTDOWN:	return MT_SHUTDOWN;
	case SMFIR_CONN_FAIL:	return MT_CONNFAIL;
	}
	return -1;
}

static int
replycode_ok(const unsigned char *d, size_t len)
{
	return len >= 4 && d[len - 1] == '\0' && (d[0] == '4' || d[0] == '5')
	    && isdigit(d[1]) && isdigit(d[2]) && (d[3] == ' ' || d[3] == '-');
}

static void
check_replycode(const struct mt_reply *r, const unsigned char *data)
{
	const char	*t = r->text;
	size_t		 n;

	if (!(t[0] == '4' || t[0] == '5') || !isdigit((unsigned char)t[1]) ||
	    !isdigit((unsigned char)t[2]) || (t[3] != ' ' && t[3] != '-'))
		die("reply code is not 4xx/5xx");
	if (r->kind != (t[0] == '4' ? MT_TEMPFAIL : MT_REJECT))
		die("reply code and kind disagree");
	n = strnlen(t, MT_TEXT_MAX);
	if (n >= MT_TEXT_MAX || memcmp(t, data, n) != 0 ||
	    (n < MT_TEXT_MAX - 1 && data[n] != '\0'))
		die("reply text is not the filter's");
}

/* One reply packet to event EV; returns what mt_conn_reply() did. */
static int
check_reply(struct mt_conn *c, int ev, int rc, const unsigned char *data,
    size_t len, struct mt_reply *r)
{
	int	expect, kind, mods = r->mods, n;

	kind = final_kind(rc);
	if (kind >= 0 || (rc == SMFIR_REPLYCODE && replycode_ok(data, len)))
		expect = 1;
	else if (rc == SMFIR_PROGRESS || rc == SMFIR_QUARANTINE ||
	    (ev == SMFIC_BODYEOB && is_mod(rc)))
		expect = 0;
	else
		expect = -1;
	c->err[0] = '\0';
	n = mt_conn_reply(c, ev, rc, data, len, r);
	if (n != expect)
		die(n < expect ? "good reply refused" : "bad reply taken");
	if (n < 0) {
		if (c->err[0] == '\0')
			die("reply refused without a message");
		return n;
	}
	if (r->cmd != rc)
		die("reply command not recorded");
	if (strnlen(r->lastmod, MT_TEXT_MAX) >= MT_TEXT_MAX)
		die("modification record not NUL-terminated");
	if (r->mods != mods + (rc != SMFIR_PROGRESS && n == 0))
		die("modification not counted");
	if (rc == SMFIR_REPLYCODE)
		check_replycode(r, data);
	else if (n == 1 && (r->kind != (enum mt_kind)kind || r->text[0]))
		die("wrong kind for a final reply");
	return n;
}

static void
conn_init(struct mt_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Pass 1: negotiation, then the events in turn. */
static void
session(const unsigned char *in, size_t size)
{
	struct mt_conn		 c;
	struct mt_reply		 r;
	const unsigned char	*data;
	size_t			 dlen, i, off;
	ssize_t			 n;
	int			 cmd;

	conn_init(&c);
	if ((n = frame(in, size, &cmd, &data, &dlen)) <= 0)
		return;
	check_optneg(&c, cmd, data, dlen);
	if (c.err[0] != '\0') {
		mt_conn_close(&c);
		return;
	}
	off = (size_t)n;
	for (i = 0; off < size; i = (i + 1) % NEVENTS) {
		if ((c.pflags & (events[i].skip | events[i].noreply)) != 0)
			continue;
		memset(&r, 0, sizeof(r));
		do {
			n = frame(in + off, size - off, &cmd, &data, &dlen);
			if (n <= 0)
				goto out;
			off += (size_t)n;
		} while ((n = check_reply(&c, events[i].cmd, cmd, data, dlen,
		    &r)) == 0);
		if (n < 0)
			break;
	}
out:
	mt_conn_close(&c);
}

/* Pass 2: every packet as a reply to end of message. */
static void
replies(const unsigned char *in, size_t size)
{
	struct mt_conn		 c;
	struct mt_reply		 r;
	const unsigned char	*data;
	size_t			 dlen, off;
	ssize_t			 n;
	int			 cmd;

	conn_init(&c);
	memset(&r, 0, sizeof(r));
	for (off = 0; off < size; off += (size_t)n) {
		if ((n = frame(in + off, size - off, &cmd, &data, &dlen)) <= 0)
			break;
		if (check_reply(&c, SMFIC_BODYEOB, cmd, data, dlen, &r) != 0)
			memset(&r, 0, sizeof(r));
	}
	mt_conn_close(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	session(data, size);
	replies(data, size);
	return 0;
}
