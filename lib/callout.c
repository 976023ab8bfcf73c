/*
 * callout - ask a next hop whether a recipient exists (SMTP, no DATA)
 *
 * SYNOPSIS
 *	size_t callout_hops(rule, domain, hops, max)
 *	void callout_probe(hops, nhops, helo, rcpt, timeout_ms, answer)
 *	int callout_mx_parse(answer, len, mx, max)
 *	int callout_reply_line(reply, line, len)
 *	int callout_rcpt_path(local, domain, out, outlen)
 *
 * DESCRIPTION
 *	callout_hops() turns a rule's smart hosts (the normalized list the
 *	rule set stores, walked with nexthop_list_next(): "host",
 *	"mx:host", "[addr]", "addr", each with an optional ":port") into
 *	the hops to ask, in order (at most max); without a smart
 *	host the MX hosts of the recipient domain.  It returns the number
 *	of hops written, 0 when there is none.
 *
 *	callout_probe() asks the hops in order, within timeout_ms in all:
 *	connect, read the greeting, EHLO helo (HELO when EHLO is refused),
 *	MAIL FROM:<>, RCPT TO:rcpt, QUIT; never DATA.  A 2xx reply to RCPT
 *	is RECIPIENT_VALID, 5xx RECIPIENT_INVALID; when a hop cannot be
 *	reached, or refuses or defers the session before RCPT, or answers
 *	RCPT with anything else, the next hop is asked; when none answered
 *	2xx or 5xx, RECIPIENT_UNKNOWN.  An "mx:" hop is its MX hosts by
 *	preference (res_query; a name without MX records is its own host,
 *	as RFC 5321 says); names are resolved with getaddrinfo() (every
 *	address of a name in turn).  answer->reply holds the RCPT reply, or
 *	what went wrong, as printable ASCII; answer->hop the hop that gave
 *	it.  Reading stops at the time limit, and no lookup starts after it
 *	(the answer is then RECIPIENT_UNKNOWN, "time limit reached").
 *
 *	A lookup cannot be interrupted, so the resolver's own waiting is
 *	bounded by the time left: the calling thread's resolver state
 *	(glibc's _res, one per thread, read by res_query() and by the DNS
 *	lookups of getaddrinfo()) asks each name server once (retry 1) and
 *	waits at most the time left, in whole seconds and at least one,
 *	shared among the name servers (retrans); its own settings are put
 *	back after the lookup.  A lookup over TCP (resolv.conf "options
 *	use-vc") has no time limit in glibc: callers run probes in threads
 *	of their own.
 *
 *	The MX lookup asks res_query() with a buffer of 2048 octets and,
 *	as Postfix's dns_query() does, asks again with a buffer twice as
 *	large while the answer did not fit (res_query() returns the length
 *	of the whole answer, which may exceed the buffer, and sets TC), up
 *	to 65536 octets; only the octets that are in the buffer are
 *	parsed, and an answer that stays truncated is a failed lookup.
 *
 *	callout_mx_parse() reads the MX records of the DNS answer
 *	answer[0..len) into mx: the max of lowest preference, sorted by
 *	preference (records of other types and names that do not expand
 *	are skipped); their number, or -1 when the answer is malformed.
 *
 *	callout_reply_line() reads one line of an SMTP reply, without its
 *	CRLF, into reply (zeroed before the first line): 1 when the line
 *	ends the reply (reply->code is its code, reply->text its first line
 *	made printable), 0 when more lines follow ("NNN-"), -1 when the
 *	line is not a reply line (three digits, the first 2 to 5, then
 *	nothing, a space or '-') or its code is not the first line's (RFC
 *	5321 4.2.1).  A session with a malformed reply goes no further.
 *
 *	callout_rcpt_path() writes "<local@domain>", the local part quoted
 *	when it is not a dot-string: 0, or -1 when it does not fit or holds
 *	a character that cannot be sent (control characters, CR, LF).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "callout.h"
#include "decide.h"
#include "nexthop.h"

#define LINE_MAX_SMTP	1024
#define MX_MAX		CALLOUT_HOPS_MAX
#define DNS_REPLY_MIN	(NS_PACKETSZ * 4)	/* 2048 */
#define DNS_REPLY_MAX	65536			/* as Postfix */

/* One SMTP conversation. */
struct conv {
	int		 fd;
	struct timespec	 deadline;
	char		 buf[LINE_MAX_SMTP * 2];
	size_t		 len;
	struct callout_reply r;			/* the last reply */
};

static long
ms_left(const struct timespec *deadline)
{
	struct timespec	now;
	long		ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

static void
printable(const char *in, size_t len, char *out, size_t outlen)
{
	size_t	i, n;

	for (i = n = 0; i < len && n + 1 < outlen; i++)
		out[n++] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[n] = '\0';
}

size_t
callout_hops(const struct rule *rule, const char *domain,
    struct callout_hop *hops, size_t max)
{
	const char	*smarthost;
	struct nexthop	 hop;
	size_t		 n;

	if (max == 0 || rule == NULL)
		return 0;
	smarthost = rule->smarthost;
	memset(hops, 0, sizeof(*hops));
	hops->port = 25;
	if (smarthost == NULL) {
		if (domain == NULL || strlen(domain) > DOMAIN_MAX)
			return 0;
		snprintf(hops->host, sizeof(hops->host), "%s", domain);
		hops->mx = 1;
		return 1;
	}
	/* a list of hops in preference order: nexthop.c walks it */
	for (n = 0; n < max && nexthop_list_next(&smarthost, &hop) == 1;
	    n++) {
		memset(&hops[n], 0, sizeof(hops[n]));
		snprintf(hops[n].host, sizeof(hops[n].host), "%s", hop.host);
		hops[n].port = nexthop_port(&hop);
		hops[n].mx = hop.mx;
	}
	return n;
}

int
callout_rcpt_path(const char *local, const char *domain, char *out,
    size_t outlen)
{
	size_t	 i, o, len;
	int	 quote, c;

	len = strlen(local);
	quote = len == 0 || local[0] == '.' || local[len - 1] == '.' ||
	    strstr(local, "..") != NULL;
	for (i = 0; i < len; i++) {
		c = (unsigned char)local[i];
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (!isalnum(c) && c < 0x80 &&
		    strchr("!#$%&'*+-/=?^_`{|}~.", c) == NULL)
			quote = 1;
	}
	o = 0;
	if (o + 2 > outlen)
		return -1;
	out[o++] = '<';
	if (quote)
		out[o++] = '"';
	for (i = 0; i < len; i++) {
		if (o + 3 > outlen)
			return -1;
		if (quote && (local[i] == '"' || local[i] == '\\'))
			out[o++] = '\\';
		out[o++] = local[i];
	}
	if (quote)
		out[o++] = '"';
	if (o + strlen(domain) + 3 > outlen)
		return -1;
	o += (size_t)snprintf(out + o, outlen - o, "@%s>", domain);
	return 0;
}

/* conv_wait - wait for events on the socket until the deadline: 0 or -1 */
static int
conv_wait(const struct conv *c, short events)
{
	struct pollfd	p;

	p.fd = c->fd;
	p.events = events;
	return poll(&p, 1, (int)ms_left(&c->deadline)) == 1 ? 0 : -1;
}

/* conv_connect - a connection to addr within the deadline: 0 or -1 */
static int
conv_connect(struct conv *c, const struct addrinfo *ai)
{
	socklen_t	len;
	int		err, saved;

	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (c->fd == -1)
		return -1;
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		goto fail;
	if (conv_wait(c, POLLOUT) == -1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	close(c->fd);
	c->fd = -1;
	errno = saved;
	return -1;
}

/* conv_line - the next line into line (without CRLF): its length, or -1 */
static ssize_t
conv_line(struct conv *c, char *line, size_t linelen)
{
	char		*nl;
	ssize_t		 n;
	size_t		 l, keep;

	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			l = (size_t)(nl - c->buf);
			if (l > 0 && c->buf[l - 1] == '\r')
				l--;
			keep = l < linelen ? l : linelen;
			memcpy(line, c->buf, keep);
			l = (size_t)(nl - c->buf) + 1;
			memmove(c->buf, c->buf + l, c->len - l);
			c->len -= l;
			return (ssize_t)keep;
		}
		if (c->len == sizeof(c->buf))
			return -1;		/* a line too long */
		if (conv_wait(c, POLLIN) == -1)
			return -1;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

int
callout_reply_line(struct callout_reply *r, const char *line, size_t len)
{
	int	code;

	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) ||
	    (len > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->code == 0) {
		r->code = code;
		printable(line, len, r->text, sizeof(r->text));
	} else if (code != r->code)
		return -1;
	return len > 3 && line[3] == '-' ? 0 : 1;
}

/* conv_reply - one reply (all its lines); its code, or -1 */
static int
conv_reply(struct conv *c)
{
	char	line[LINE_MAX_SMTP];
	ssize_t	n;
	int	rc;

	memset(&c->r, 0, sizeof(c->r));
	do {
		if ((n = conv_line(c, line, sizeof(line))) == -1 ||
		    (rc = callout_reply_line(&c->r, line, (size_t)n)) == -1)
			return -1;
	} while (rc == 0);
	return c->r.code;
}

/* conv_cmd - send a command, read its reply: the code, or -1 */
static int
conv_cmd(struct conv *c, const char *cmd)
{
	char		 out[LINE_MAX_SMTP];
	size_t		 len, off;
	ssize_t		 n;

	len = (size_t)snprintf(out, sizeof(out), "%s\r\n", cmd);
	if (len >= sizeof(out))
		return -1;
	for (off = 0; off < len; off += (size_t)n) {
		if (conv_wait(c, POLLOUT) == -1)
			return -1;
		n = send(c->fd, out + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
	}
	return conv_reply(c);
}

/*
 * conv_session - one SMTP session on a connected socket: 1 when the
 * RCPT reply settled it (answer filled), 0 to try the next address.
 */
static int
conv_session(struct conv *c, const char *helo, const char *rcpt,
    struct callout_answer *a)
{
	char	cmd[LINE_MAX_SMTP];
	int	code;

	if ((code = conv_reply(c)) != 220)
		goto fail;
	snprintf(cmd, sizeof(cmd), "EHLO %s", helo);
	if ((code = conv_cmd(c, cmd)) / 100 == 5) {
		snprintf(cmd, sizeof(cmd), "HELO %s", helo);
		code = conv_cmd(c, cmd);
	}
	if (code / 100 != 2)
		goto fail;
	if ((code = conv_cmd(c, "MAIL FROM:<>")) / 100 != 2)
		goto fail;
	snprintf(cmd, sizeof(cmd), "RCPT TO:%s", rcpt);
	code = conv_cmd(c, cmd);
	if (code / 100 != 2 && code / 100 != 5)
		goto fail;
	a->status = code / 100 == 2 ? RECIPIENT_VALID : RECIPIENT_INVALID;
	snprintf(a->reply, sizeof(a->reply), "%s", c->r.text);
	c->len = 0;
	(void)conv_cmd(c, "QUIT");
	return 1;
fail:
	if (code == -1)
		snprintf(a->reply, sizeof(a->reply), "%s",
		    ms_left(&c->deadline) == 0 ? "time limit reached" :
		    "connection lost or bad reply");
	else
		snprintf(a->reply, sizeof(a->reply), "%s", c->r.text);
	if (code != -1)
		(void)conv_cmd(c, "QUIT");
	return 0;
}

/* The settings of the thread's resolver that a lookup bounds. */
struct resolver_saved {
	int	retrans, retry;
};

/*
 * resolver_bound - the thread's resolver asks each name server once and
 * waits no longer than ms (whole seconds, at least one); what it had
 * before into saved: 0, or -1 when the resolver cannot be initialized.
 */
static int
resolver_bound(long ms, struct resolver_saved *saved)
{
	int	seconds, each, nservers;

	if (!(_res.options & RES_INIT) && res_init() == -1)
		return -1;
	saved->retrans = _res.retrans;
	saved->retry = _res.retry;
	/* glibc waits retrans per server and try (the later ones shifted
	 * and divided by their number: about nscount * retrans in all) */
	nservers = _res.nscount > 0 ? _res.nscount : 1;
	seconds = (int)((ms + 999) / 1000);
	each = (seconds + nservers - 1) / nservers;
	if (each < 1)
		each = 1;
	if (saved->retrans <= 0 || each < saved->retrans)
		_res.retrans = each;
	_res.retry = 1;
	return 0;
}

static void
resolver_restore(const struct resolver_saved *saved)
{
	_res.retrans = saved->retrans;
	_res.retry = saved->retry;
}

/* probe_host - every address of one host: 1 settled, 0 not */
static int
probe_host(const char *host, unsigned port, const char *helo,
    const char *rcpt, const struct timespec *deadline,
    struct callout_answer *a)
{
	struct addrinfo	 hints, *res, *ai;
	struct resolver_saved saved;
	struct conv	 c;
	char		 service[8];
	long		 left;
	int		 rc, done;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(service, sizeof(service), "%u", port);
	if (strchr(host, ':') != NULL)
		snprintf(a->hop, sizeof(a->hop), "[%s]:%u", host, port);
	else
		snprintf(a->hop, sizeof(a->hop), "%s:%u", host, port);
	if ((left = ms_left(deadline)) == 0) {
		snprintf(a->reply, sizeof(a->reply), "time limit reached");
		return 0;
	}
	if (resolver_bound(left, &saved) == -1) {
		snprintf(a->reply, sizeof(a->reply), "cannot resolve: "
		    "no resolver");
		return 0;
	}
	rc = getaddrinfo(host, service, &hints, &res);
	resolver_restore(&saved);
	if (rc != 0) {
		snprintf(a->reply, sizeof(a->reply), "cannot resolve: %s",
		    ms_left(deadline) == 0 ? "time limit reached" :
		    gai_strerror(rc));
		return 0;
	}
	done = 0;
	for (ai = res; ai != NULL && !done; ai = ai->ai_next) {
		memset(&c, 0, sizeof(c));
		c.deadline = *deadline;
		if (ms_left(deadline) == 0) {
			snprintf(a->reply, sizeof(a->reply),
			    "time limit reached");
			break;
		}
		if (conv_connect(&c, ai) == -1) {
			snprintf(a->reply, sizeof(a->reply), "cannot connect: "
			    "%s", ms_left(deadline) == 0 ?
			    "time limit reached" : strerror(errno));
			continue;
		}
		done = conv_session(&c, helo, rcpt, a);
		close(c.fd);
	}
	freeaddrinfo(res);
	return done;
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct callout_mx	*x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

int
callout_mx_parse(const unsigned char *answer, size_t len,
    struct callout_mx *mx, size_t max)
{
	ns_msg		 msg;
	ns_rr		 rr;
	char		 host[DOMAIN_MAX + 1];
	unsigned	 pref;
	int		 i, count;
	size_t		 n, j;

	if (len > DNS_REPLY_MAX || ns_initparse(answer, (int)len, &msg) == -1)
		return -1;
	if (max == 0)
		return 0;
	count = ns_msg_count(msg, ns_s_an);
	n = 0;
	for (i = 0; i < count; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) == -1)
			return -1;
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
			continue;
		/* the max best: a full list gives up its last for a better */
		pref = ns_get16(ns_rr_rdata(rr));
		if (n == max && pref >= mx[n - 1].pref)
			continue;
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg),
		    ns_rr_rdata(rr) + 2, host, sizeof(host)) < 0)
			continue;
		j = n < max ? n : n - 1;
		memcpy(mx[j].host, host, sizeof(host));
		mx[j].pref = pref;
		if (n < max)
			n++;
		qsort(mx, n, sizeof(*mx), mx_cmp);
	}
	return (int)n;
}

/*
 * mx_lookup - the MX hosts of name by preference, each query asked
 * within the time left; -1: lookup failed (or no time left)
 */
static int
mx_lookup(const char *name, const struct timespec *deadline,
    struct callout_mx *mx, size_t max)
{
	struct resolver_saved saved;
	unsigned char	*buf, *bigger;
	size_t		 size;
	long		 left;
	int		 len, n;

	size = DNS_REPLY_MIN;
	if ((buf = malloc(size)) == NULL)
		return -1;
	for (;;) {
		if ((left = ms_left(deadline)) == 0 ||
		    resolver_bound(left, &saved) == -1) {
			free(buf);
			return -1;
		}
		len = res_query(name, ns_c_in, ns_t_mx, buf, (int)size);
		resolver_restore(&saved);
		if (len < 0) {
			free(buf);
			return h_errno == HOST_NOT_FOUND ||
			    h_errno == NO_DATA ? 0 : -1;
		}
		/* res_query() says how long the whole answer was */
		if (((size_t)len <= size && !((HEADER *)buf)->tc) ||
		    size >= DNS_REPLY_MAX)
			break;
		if ((bigger = realloc(buf, size * 2)) == NULL) {
			free(buf);
			return -1;
		}
		buf = bigger;
		size *= 2;
	}
	if ((size_t)len > size || ((HEADER *)buf)->tc)
		n = -1;			/* truncated even at the largest */
	else
		n = callout_mx_parse(buf, (size_t)len, mx, max);
	free(buf);
	return n;
}

void
callout_probe(const struct callout_hop *hops, size_t nhops,
    const char *helo, const char *rcpt, long timeout_ms,
    struct callout_answer *a)
{
	struct timespec	 deadline;
	struct callout_mx mx[MX_MAX];
	size_t		 i, j;
	int		 n;

	memset(a, 0, sizeof(*a));
	a->status = RECIPIENT_UNKNOWN;
	snprintf(a->reply, sizeof(a->reply), "no next hop");
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	for (i = 0; i < nhops; i++) {
		if (ms_left(&deadline) == 0) {
			snprintf(a->reply, sizeof(a->reply), "time limit "
			    "reached");
			break;
		}
		if (!hops[i].mx) {
			if (probe_host(hops[i].host, hops[i].port, helo, rcpt,
			    &deadline, a))
				return;
			continue;
		}
		if ((n = mx_lookup(hops[i].host, &deadline, mx,
		    MX_MAX)) == -1) {
			snprintf(a->hop, sizeof(a->hop), "mx:%s",
			    hops[i].host);
			snprintf(a->reply, sizeof(a->reply), "MX lookup "
			    "failed%s", ms_left(&deadline) == 0 ?
			    ": time limit reached" : "");
			continue;
		}
		if (n == 0) {
			if (probe_host(hops[i].host, hops[i].port, helo, rcpt,
			    &deadline, a))
				return;
			continue;
		}
		for (j = 0; j < (size_t)n; j++)
			if (probe_host(mx[j].host, hops[i].port, helo, rcpt,
			    &deadline, a))
				return;
	}
	a->status = RECIPIENT_UNKNOWN;
}
