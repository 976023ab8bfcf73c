/*
 * mt_scenario - run a scenario file against a filter (see mt_scenario.h)
 *
 * A scenario file has one command a line.  Blank lines are ignored; '#'
 * at the start of a word begins a comment (so "<a#b@x>" is an address but
 * "rcpt <x@y>  # note" ends at "note").  Words are separated by blanks; a
 * word beginning with '<' runs to the matching '>' and "..." quotes keep
 * blanks inside a word (the quotes stay part of it, "" alone is an empty
 * word).  Any event command may end with "expect KIND [CODE [XCODE
 * [TEXT...]]]" (grammar in mt_expect.h).
 *
 *	connect ADDR [NAME [PORT]]	new session: QUIT the previous one,
 *					open the socket, negotiate, send
 *					SMFIC_CONNECT.  ADDR is an IPv4 or
 *					IPv6 address, "unix" (or a /path),
 *					or "unknown".  NAME defaults to
 *					"[ADDR]", PORT to 54321.
 *	macro NAME [VALUE...]		set a macro, sent with every following
 *					event (only those the filter asked
 *					for when it sent a list for the
 *					stage).  No VALUE unsets it; ""
 *					sets it empty.  Macros set before
 *					the first connect are file defaults;
 *					each connect starts from them again.
 *					MAIL and RCPT also carry Postfix's
 *					{mail_addr} / {rcpt_addr} (the
 *					address without <>) unless set here.
 *					Note: libmilter ignores an empty
 *					macro packet, so a stage whose
 *					macros are all unset keeps the
 *					previous values, as with Postfix:
 *					use "" to clear a value.  In a
 *					VALUE, \r, \n, \t and \\ stand for
 *					CR, LF, TAB and a backslash (the
 *					MTA's hostile macros, in tests).
 *	helo NAME
 *	mail ADDR [ESMTP-ARGS...]
 *	rcpt ADDR [ESMTP-ARGS...]
 *	data
 *	header NAME VALUE...		one header (DATA first if not sent)
 *	eoh
 *	body TEXT...			one body chunk, TEXT + CRLF
 *	eom				end of message.  Sends DATA, a
 *					Subject header, EOH and a body chunk
 *					first when the scenario did not; the
 *					outcome is the first of these that
 *					is not continue/noreply/skipped,
 *					else the EOM reply.
 *	abort				SMFIC_ABORT (no reply)
 *	quit				SMFIC_QUIT and close (no reply)
 *
 * The harness keeps the MTA's state as Postfix (milter8.c) does, because
 * libmilter itself ignores events that come after a final decision:
 *  - after accept, reject, tempfail, shutdown or connfail at connect or
 *    helo, nothing more is sent in the session (until the next connect);
 *  - after accept or discard at mail, rcpt, data, header, eoh or body,
 *    nothing more is sent for the message (the MTA no longer asks the
 *    filter about it: later recipients are NOT checked by the filter);
 *  - after reject or tempfail at mail, data, header, eoh or body, the
 *    message is over and SMFIC_ABORT is sent, as the MTA resets;
 *  - "mail" after a message that ended early sends SMFIC_ABORT first.
 * An event that is not sent for these reasons has the outcome "unsent",
 * which fails any expectation but "expect unsent".  At the end of the file
 * an open session gets SMFIC_QUIT.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfdef.h>

#include "mt_conn.h"
#include "mt_expect.h"
#include "mt_pack.h"
#include "mt_scenario.h"

#define MAXWORDS	64
#define MAXLINE		4096
#define DEFAULT_PORT	54321

struct run {
	const char	*file;
	int		 line;
	const char	*socket;
	int		 timeout_ms;
	int		 verbose;
	int		 checks;
	int		 failures;
	int		 session;	/* conn is open */
	int		 seen_connect;
	int		 conn_done;	/* line of a connection decision */
	int		 msg_done;	/* line of a message-level decision */
	int		 data_sent;
	int		 hdr_sent;
	int		 eoh_sent;
	int		 body_sent;
	struct mt_conn	 conn;
	struct mt_macros *cur;		/* macros sent with the next event */
	struct mt_macros macros;
	struct mt_macros defaults;
};

struct cmd {
	const char	*name;
	int		 min;		/* arguments, without expect */
	int		 max;
	int		 can_expect;
	int		(*run)(struct run *, char **, int, struct mt_reply *);
};

static void
run_msg(struct run *r, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s:%d: ", r->file, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Split LINE in place into words; returns the count or -1. */
static int
split_words(char *line, char **w, int max)
{
	char	*p = line;
	int	 n = 0, quote, angle;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max)
			return -1;
		w[n++] = p;
		if (p[0] == '"' && p[1] == '"' &&
		    (p[2] == '\0' || isspace((unsigned char)p[2]))) {
			p[0] = '\0';
			p += p[2] == '\0' ? 2 : 3;
			continue;
		}
		angle = *p == '<';
		quote = 0;
		for (; *p != '\0'; p++) {
			if (quote) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '"')
					quote = 0;
			} else if (*p == '"')
				quote = 1;
			else if (angle && *p == '>')
				angle = 0;
			else if (!angle && isspace((unsigned char)*p))
				break;
		}
		if (*p != '\0')
			*p++ = '\0';
	}
}

static void
tx_reset(struct run *r)
{
	r->data_sent = r->hdr_sent = r->eoh_sent = r->body_sent = 0;
}

static int
event(struct run *r, int cmd, const void *data, size_t len,
    struct mt_reply *rep)
{
	if (mt_conn_event(&r->conn, cmd, r->cur, data, len, rep) < 0) {
		run_msg(r, "error: %s", r->conn.err);
		return -1;
	}
	return 0;
}

static int
strings_event(struct run *r, int cmd, char **argv, int argc,
    struct mt_reply *rep)
{
	unsigned char	buf[MAXLINE + MAXWORDS];
	size_t		len;

	if ((len = mt_pack_strings(buf, sizeof(buf), argv, argc)) == 0 &&
	    argc > 0) {
		run_msg(r, "error: arguments too long");
		return -1;
	}
	return event(r, cmd, buf, len, rep);
}

/*
 * MAIL or RCPT with Postfix's automatic macro MNAME ({mail_addr},
 * {rcpt_addr}: the address without <>), unless the scenario set it.
 */
static int
addr_event(struct run *r, int cmd, const char *mname, char **argv, int argc,
    struct mt_reply *rep)
{
	struct mt_macros m;
	char		 addr[MAXLINE];
	size_t		 len;
	int		 rc;

	memset(&m, 0, sizeof(m));
	snprintf(addr, sizeof(addr), "%s", argv[0]);
	len = strlen(addr);
	if (addr[0] == '<' && len >= 2 && addr[len - 1] == '>') {
		addr[len - 1] = '\0';
		memmove(addr, addr + 1, len - 1);
	}
	if (mt_macros_copy(&m, &r->macros) < 0 ||
	    (mt_macros_get(&m, mname) == NULL &&
	    mt_macros_set(&m, mname, addr) < 0)) {
		mt_macros_free(&m);
		run_msg(r, "error: too many macros (at most %d)",
		    MT_MACROS_MAX);
		return -1;
	}
	r->cur = &m;
	rc = strings_event(r, cmd, argv, argc, rep);
	r->cur = &r->macros;
	mt_macros_free(&m);
	return rc;
}

static void
session_end(struct run *r)
{
	if (!r->session)
		return;
	/* the filter may have closed after a connection-level decision */
	if (mt_conn_quit(&r->conn) < 0 && !r->conn_done)
		run_msg(r, "warning: QUIT: %s", r->conn.err);
	r->session = 0;
}

static int
do_connect(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	unsigned char	 buf[1024];
	char		 name[300], *end;
	const char	*host;
	unsigned long	 port = DEFAULT_PORT;
	size_t		 len;

	session_end(r);
	tx_reset(r);
	if (!r->seen_connect && mt_macros_copy(&r->defaults, &r->macros) < 0)
		goto nomem;
	r->seen_connect = 1;
	r->conn_done = r->msg_done = 0;
	if (mt_macros_copy(&r->macros, &r->defaults) < 0)
		goto nomem;
	if (argc > 2) {
		errno = 0;
		port = strtoul(argv[2], &end, 10);
		if (*end != '\0' || port > 65535 || errno != 0) {
			run_msg(r, "error: bad port %s", argv[2]);
			return -1;
		}
	}
	if (argc > 1)
		host = argv[1];
	else if (strcmp(argv[0], "unix") == 0 || argv[0][0] == '/')
		host = "localhost";
	else {
		snprintf(name, sizeof(name), "[%s]", argv[0]);
		host = name;
	}
	len = mt_pack_connect(buf, sizeof(buf), host, argv[0],
	    (unsigned)port);
	if (len == 0) {
		run_msg(r, "error: bad client address %s (want IPv4, IPv6, "
		    "unix or unknown)", argv[0]);
		return -1;
	}
	if (mt_conn_open(&r->conn, r->socket, r->timeout_ms, r->verbose) < 0) {
		run_msg(r, "error: %s: %s", r->socket, r->conn.err);
		mt_conn_close(&r->conn);
		return -1;
	}
	r->session = 1;
	return event(r, SMFIC_CONNECT, buf, len, rep);
nomem:
	run_msg(r, "error: out of memory");
	return -1;
}

static int
do_helo(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	return strings_event(r, SMFIC_HELO, argv, argc, rep);
}

static int
send_abort(struct run *r)
{
	tx_reset(r);
	r->msg_done = 0;
	if (mt_conn_abort(&r->conn, &r->macros) < 0) {
		run_msg(r, "error: ABORT: %s", r->conn.err);
		return -1;
	}
	return 0;
}

static int
do_mail(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	if (r->msg_done && send_abort(r) < 0)
		return -1;
	tx_reset(r);
	return addr_event(r, SMFIC_MAIL, "{mail_addr}", argv, argc, rep);
}

static int
do_rcpt(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	return addr_event(r, SMFIC_RCPT, "{rcpt_addr}", argv, argc, rep);
}

static int
do_data(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	(void)argv;
	(void)argc;
	r->data_sent = 1;
	return event(r, SMFIC_DATA, NULL, 0, rep);
}

/* Is this outcome one after which the MTA goes on with the message? */
static int
goes_on(const struct mt_reply *rep)
{
	return rep->kind == MT_CONTINUE || rep->kind == MT_NOREPLY ||
	    rep->kind == MT_SKIPPED || rep->kind == MT_SKIP;
}

static int
auto_data(struct run *r, struct mt_reply *rep)
{
	if (r->data_sent)
		return 0;
	return do_data(r, NULL, 0, rep);
}

static int
send_header(struct run *r, const char *name, const char *value,
    struct mt_reply *rep)
{
	char	*hv[2];

	hv[0] = (char *)name;
	hv[1] = (char *)value;
	r->hdr_sent = 1;
	return strings_event(r, SMFIC_HEADER, hv, 2, rep);
}

static int
do_header(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	char	value[MAXLINE], name[MAXLINE];
	size_t	off = 0;
	int	i;

	if (auto_data(r, rep) < 0)
		return -1;
	if (!goes_on(rep))
		return 0;
	snprintf(name, sizeof(name), "%s", argv[0]);
	if (name[0] != '\0' && name[strlen(name) - 1] == ':')
		name[strlen(name) - 1] = '\0';
	value[0] = '\0';
	for (i = 1; i < argc && off < sizeof(value); i++)
		off += (size_t)snprintf(value + off, sizeof(value) - off,
		    "%s%s", i > 1 ? " " : "", argv[i]);
	return send_header(r, name, value, rep);
}

static int
do_eoh(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	(void)argv;
	(void)argc;
	if (auto_data(r, rep) < 0)
		return -1;
	if (!goes_on(rep))
		return 0;
	r->eoh_sent = 1;
	return event(r, SMFIC_EOH, NULL, 0, rep);
}

static int
do_body(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	char	text[MAXLINE + 2];
	size_t	off = 0;
	int	i;

	if (!r->eoh_sent && do_eoh(r, NULL, 0, rep) < 0)
		return -1;
	if (!goes_on(rep))
		return 0;
	text[0] = '\0';
	for (i = 0; i < argc && off < sizeof(text) - 2; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - 2 - off,
		    "%s%s", i > 0 ? " " : "", argv[i]);
	strcat(text, "\r\n");
	r->body_sent = 1;
	return event(r, SMFIC_BODY, text, strlen(text), rep);
}

static int
do_eom(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	static char	*line[] = { "milter-test" };

	(void)argv;
	(void)argc;
	if (auto_data(r, rep) < 0)
		return -1;
	if (goes_on(rep) && !r->hdr_sent && !r->eoh_sent &&
	    send_header(r, "Subject", "milter-test", rep) < 0)
		return -1;
	if (goes_on(rep) && !r->body_sent && do_body(r, line, 1, rep) < 0)
		return -1;
	if (goes_on(rep) && event(r, SMFIC_BODYEOB, NULL, 0, rep) < 0)
		return -1;
	tx_reset(r);
	r->msg_done = 0;
	return 0;
}

static int
do_abort(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	(void)argv;
	(void)argc;
	(void)rep;
	return send_abort(r);
}

static int
do_quit(struct run *r, char **argv, int argc, struct mt_reply *rep)
{
	(void)argv;
	(void)argc;
	(void)rep;
	session_end(r);
	return 0;
}

static const struct cmd commands[] = {
	{ "connect",	1, 3, 1, do_connect },
	{ "helo",	1, 1, 1, do_helo },
	{ "mail",	1, MAXWORDS, 1, do_mail },
	{ "rcpt",	1, MAXWORDS, 1, do_rcpt },
	{ "data",	0, 0, 1, do_data },
	{ "header",	1, MAXWORDS, 1, do_header },
	{ "eoh",	0, 0, 1, do_eoh },
	{ "body",	0, MAXWORDS, 1, do_body },
	{ "eom",	0, 0, 1, do_eom },
	{ "abort",	0, 0, 0, do_abort },
	{ "quit",	0, 0, 0, do_quit },
	{ NULL,		0, 0, 0, NULL }
};

/* macro_unescape - \r, \n, \t and \\ in a macro value, in place */
static void
macro_unescape(char *v)
{
	char	*o = v;

	for (; *v != '\0'; v++) {
		if (*v != '\\' || v[1] == '\0') {
			*o++ = *v;
			continue;
		}
		v++;
		switch (*v) {
		case 'r':
			*o++ = '\r';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		default:
			*o++ = *v;
			break;
		}
	}
	*o = '\0';
}

static int
do_macro(struct run *r, char **w, int n)
{
	char	value[MAXLINE];
	size_t	off = 0;
	int	i;

	if (n < 2) {
		run_msg(r, "syntax error: macro NAME [VALUE...]");
		return -1;
	}
	if (n == 2) {
		mt_macros_unset(&r->macros, w[1]);
		return 0;
	}
	value[0] = '\0';
	for (i = 2; i < n && off < sizeof(value); i++)
		off += (size_t)snprintf(value + off, sizeof(value) - off,
		    "%s%s", i > 2 ? " " : "", w[i]);
	macro_unescape(value);
	if (mt_macros_set(&r->macros, w[1], value) < 0) {
		run_msg(r, "error: too many macros (at most %d)",
		    MT_MACROS_MAX);
		return -1;
	}
	return 0;
}

/* Would the MTA skip this command, the filter having decided? */
static int
unsent(struct run *r, int (*fn)(struct run *, char **, int,
    struct mt_reply *))
{
	if (fn == do_connect || fn == do_quit)
		return 0;
	if (r->conn_done)
		return 1;
	if (fn == do_mail || fn == do_abort || fn == do_helo)
		return 0;
	return r->msg_done != 0;
}

/* Track the MTA's state after a reply (see the top of the file). */
static int
after(struct run *r, int (*fn)(struct run *, char **, int,
    struct mt_reply *), const struct mt_reply *rep)
{
	enum mt_kind	k = rep->kind;

	if (fn == do_abort || fn == do_quit || fn == do_eom)
		return 0;
	if (k == MT_SHUTDOWN || k == MT_CONNFAIL ||
	    ((fn == do_connect || fn == do_helo) && (k == MT_ACCEPT ||
	    k == MT_REJECT || k == MT_TEMPFAIL))) {
		r->conn_done = r->line;
		return 0;
	}
	if (k == MT_ACCEPT || k == MT_DISCARD) {
		r->msg_done = r->line;
		return 0;
	}
	if ((k == MT_REJECT || k == MT_TEMPFAIL) && fn != do_rcpt &&
	    fn != do_connect && fn != do_helo) {
		if (send_abort(r) < 0)
			return -1;
		r->msg_done = r->line;
	}
	return 0;
}

static void
check(struct run *r, const struct mt_expect *e, const struct mt_reply *rep)
{
	char	want[MT_TEXT_MAX + 64], got[MT_TEXT_MAX + 64];

	r->checks++;
	if (mt_expect_match(e, rep))
		return;
	r->failures++;
	run_msg(r, "expected %s, got %s", mt_expect_str(e, want,
	    sizeof(want)), mt_reply_str(rep, got, sizeof(got)));
}

/* One line: 0 done, -1 error (stop the file). */
static int
run_line(struct run *r, char *line)
{
	const struct cmd	*c;
	struct mt_expect	 exp;
	struct mt_reply		 rep;
	char			*w[MAXWORDS], err[256];
	int			 n, nargs, i;

	if ((n = split_words(line, w, MAXWORDS)) < 0) {
		run_msg(r, "syntax error: more than %d words", MAXWORDS);
		return -1;
	}
	if (n == 0)
		return 0;
	if (strcmp(w[0], "macro") == 0)
		return do_macro(r, w, n);
	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, w[0]) == 0)
			break;
	if (c->name == NULL) {
		run_msg(r, "syntax error: unknown command \"%s\"", w[0]);
		return -1;
	}
	for (nargs = n - 1, i = 1; i < n; i++) {
		if (strcmp(w[i], "expect") == 0) {
			nargs = i - 1;
			break;
		}
	}
	if (nargs < c->min || nargs > c->max) {
		run_msg(r, "syntax error: %s takes %d to %d arguments",
		    c->name, c->min, c->max);
		return -1;
	}
	if (nargs < n - 1) {
		if (!c->can_expect) {
			run_msg(r, "syntax error: %s gets no reply to expect",
			    c->name);
			return -1;
		}
		if (mt_expect_parse(&exp, w + nargs + 2, n - nargs - 2, err,
		    sizeof(err)) < 0) {
			run_msg(r, "syntax error: %s", err);
			return -1;
		}
	}
	if (!r->session && c->run != do_connect) {
		run_msg(r, "syntax error: %s outside a session (connect "
		    "first)", c->name);
		return -1;
	}
	memset(&rep, 0, sizeof(rep));
	if (unsent(r, c->run)) {
		rep.kind = MT_UNSENT;
		if (r->verbose)
			fprintf(stderr, "= %s not sent: the filter decided "
			    "the %s at line %d\n", c->name, r->conn_done ?
			    "connection" : "message", r->conn_done ?
			    r->conn_done : r->msg_done);
	} else {
		if (c->run(r, w + 1, nargs, &rep) < 0)
			return -1;
		if (after(r, c->run, &rep) < 0)
			return -1;
	}
	if (nargs < n - 1)
		check(r, &exp, &rep);
	return 0;
}

static int
run_file(struct run *r, FILE *fp)
{
	char	line[MAXLINE];
	size_t	len;

	while (fgets(line, sizeof(line), fp) != NULL) {
		r->line++;
		len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			run_msg(r, "syntax error: line too long");
			return -1;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (run_line(r, line) < 0)
			return -1;
	}
	if (ferror(fp)) {
		run_msg(r, "error: read: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
mt_scenario_run(const char *file, const char *socket, int timeout_ms,
    int verbose)
{
	struct run	 r;
	FILE		*fp;
	int		 rc;

	memset(&r, 0, sizeof(r));
	r.conn.fd = -1;
	r.cur = &r.macros;
	r.file = file;
	r.socket = socket;
	r.timeout_ms = timeout_ms;
	r.verbose = verbose;
	if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, "milter-test: %s: %s\n", file,
		    strerror(errno));
		return 2;
	}
	rc = run_file(&r, fp);
	fclose(fp);
	if (rc == 0)
		session_end(&r);
	else
		mt_conn_close(&r.conn);
	mt_macros_free(&r.macros);
	mt_macros_free(&r.defaults);
	if (rc < 0) {
		printf("%s: ERROR (after %d checks, %d failed)\n", file,
		    r.checks, r.failures);
		return 2;
	}
	if (r.failures > 0) {
		printf("%s: FAILED (%d of %d checks)\n", file, r.failures,
		    r.checks);
		return 1;
	}
	printf("%s: ok (%d checks)\n", file, r.checks);
	return 0;
}
