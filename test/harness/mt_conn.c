/*
 * mt_conn - MTA side of the milter protocol, version 6 (see mt_conn.h)
 *
 * Packets are a 4-byte big-endian length, a command byte and data, as in
 * sendmail's libmilter/engine.c and Postfix's src/milter/milter8.c.  Every
 * wait is bounded by the connection's timeout: blocking sockets with
 * SO_RCVTIMEO and SO_SNDTIMEO, connect bounded by poll() (inet) or
 * SO_SNDTIMEO (unix).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "mt_conn.h"
#include "sockspec.h"

#define MT_OFFER_PROT	(SMFI_CURR_PROT)
#define MT_OFFER_ACTS	(SMFI_CURR_ACTS)

static const char *kind_names[MT_KIND_COUNT] = {
	"noreply", "skipped", "unsent", "continue", "accept", "reject",
	"tempfail", "discard", "skip", "shutdown", "connfail"
};

const char *
mt_kind_name(enum mt_kind k)
{
	if ((int)k < 0 || k >= MT_KIND_COUNT)
		return "?";
	return kind_names[k];
}

int
mt_kind_parse(const char *s, enum mt_kind *k)
{
	int	i;

	for (i = 0; i < MT_KIND_COUNT; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum mt_kind)i;
			return 0;
		}
	}
	return -1;
}

static void
conn_err(struct mt_conn *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static const char *
cmd_name(int cmd)
{
	switch (cmd) {
	case SMFIC_ABORT:	return "ABORT";
	case SMFIC_BODY:	return "BODY";
	case SMFIC_CONNECT:	return "CONNECT";
	case SMFIC_MACRO:	return "MACRO";
	case SMFIC_BODYEOB:	return "EOM";
	case SMFIC_HELO:	return "HELO";
	case SMFIC_QUIT_NC:	return "QUIT_NC";
	case SMFIC_HEADER:	return "HEADER";
	case SMFIC_MAIL:	return "MAIL";
	case SMFIC_EOH:		return "EOH";
	case SMFIC_OPTNEG:	return "OPTNEG";
	case SMFIC_QUIT:	return "QUIT";
	case SMFIC_RCPT:	return "RCPT";
	case SMFIC_DATA:	return "DATA";
	case SMFIC_UNKNOWN:	return "UNKNOWN";
	}
	return "?";
}

static const char *
reply_name(int cmd)
{
	switch (cmd) {
	case SMFIR_ADDRCPT:	return "ADDRCPT";
	case SMFIR_DELRCPT:	return "DELRCPT";
	case SMFIR_ADDRCPT_PAR:	return "ADDRCPT_PAR";
	case SMFIR_SHUTDOWN:	return "SHUTDOWN";
	case SMFIR_ACCEPT:	return "ACCEPT";
	case SMFIR_REPLBODY:	return "REPLBODY";
	case SMFIR_CONTINUE:	return "CONTINUE";
	case SMFIR_DISCARD:	return "DISCARD";
	case SMFIR_CHGFROM:	return "CHGFROM";
	case SMFIR_CONN_FAIL:	return "CONN_FAIL";
	case SMFIR_ADDHEADER:	return "ADDHEADER";
	case SMFIR_INSHEADER:	return "INSHEADER";
	case SMFIR_SETSYMLIST:	return "SETSYMLIST";
	case SMFIR_CHGHEADER:	return "CHGHEADER";
	case SMFIR_PROGRESS:	return "PROGRESS";
	case SMFIR_QUARANTINE:	return "QUARANTINE";
	case SMFIR_REJECT:	return "REJECT";
	case SMFIR_SKIP:	return "SKIP";
	case SMFIR_TEMPFAIL:	return "TEMPFAIL";
	case SMFIR_REPLYCODE:	return "REPLYCODE";
	}
	return "?";
}

/* The protocol flag asking the MTA not to send this event. */
static uint32_t
skip_flag(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return SMFIP_NOCONNECT;
	case SMFIC_HELO:	return SMFIP_NOHELO;
	case SMFIC_MAIL:	return SMFIP_NOMAIL;
	case SMFIC_RCPT:	return SMFIP_NORCPT;
	case SMFIC_DATA:	return SMFIP_NODATA;
	case SMFIC_HEADER:	return SMFIP_NOHDRS;
	case SMFIC_EOH:		return SMFIP_NOEOH;
	case SMFIC_BODY:	return SMFIP_NOBODY;
	case SMFIC_UNKNOWN:	return SMFIP_NOUNKNOWN;
	}
	return 0;
}

/* The protocol flag telling the MTA not to wait for a reply. */
static uint32_t
noreply_flag(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return SMFIP_NR_CONN;
	case SMFIC_HELO:	return SMFIP_NR_HELO;
	case SMFIC_MAIL:	return SMFIP_NR_MAIL;
	case SMFIC_RCPT:	return SMFIP_NR_RCPT;
	case SMFIC_DATA:	return SMFIP_NR_DATA;
	case SMFIC_HEADER:	return SMFIP_NR_HDR;
	case SMFIC_EOH:		return SMFIP_NR_EOH;
	case SMFIC_BODY:	return SMFIP_NR_BODY;
	case SMFIC_UNKNOWN:	return SMFIP_NR_UNKN;
	}
	return 0;
}

/* The SMFIM_* macro stage of an event, -1 when it has none. */
static int
macro_stage(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return SMFIM_CONNECT;
	case SMFIC_HELO:	return SMFIM_HELO;
	case SMFIC_MAIL:	return SMFIM_ENVFROM;
	case SMFIC_RCPT:	return SMFIM_ENVRCPT;
	case SMFIC_DATA:	return SMFIM_DATA;
	case SMFIC_BODYEOB:	return SMFIM_EOM;
	case SMFIC_EOH:		return SMFIM_EOH;
	}
	return -1;
}

static void
dump_data(const char *dir, int cmd, int is_reply, const unsigned char *p,
    size_t len)
{
	size_t	i;

	fprintf(stderr, "%s %s", dir, is_reply ? reply_name(cmd) :
	    cmd_name(cmd));
	if (len > 0)
		fputc(' ', stderr);
	for (i = 0; i < len && i < 400; i++) {
		if (p[i] == '\0')
			fputc(i + 1 < len ? '|' : ' ', stderr);
		else if (isprint(p[i]))
			fputc(p[i], stderr);
		else
			fprintf(stderr, "\\x%02x", p[i]);
	}
	fputc('\n', stderr);
}

static int
out_reserve(struct mt_conn *c, size_t more)
{
	unsigned char	*p;
	size_t		 size;

	if (c->out_len + more <= c->out_size)
		return 0;
	size = c->out_size ? c->out_size : 4096;
	while (size < c->out_len + more)
		size *= 2;
	if ((p = realloc(c->out, size)) == NULL) {
		conn_err(c, "out of memory");
		return -1;
	}
	c->out = p;
	c->out_size = size;
	return 0;
}

/* Append one packet to the output buffer. */
static int
out_packet(struct mt_conn *c, int cmd, const void *data, size_t len)
{
	uint32_t	nlen;

	if (len + 1 > MT_MAX_PACKET) {
		conn_err(c, "%s packet too large", cmd_name(cmd));
		return -1;
	}
	if (out_reserve(c, len + 5) < 0)
		return -1;
	nlen = htonl((uint32_t)(len + 1));
	memcpy(c->out + c->out_len, &nlen, 4);
	c->out[c->out_len + 4] = (unsigned char)cmd;
	if (len > 0)
		memcpy(c->out + c->out_len + 5, data, len);
	c->out_len += len + 5;
	if (c->verbose)
		dump_data(">", cmd, 0, data, len);
	return 0;
}

static int
out_flush(struct mt_conn *c)
{
	size_t	off;
	ssize_t	n;

	for (off = 0; off < c->out_len; off += (size_t)n) {
		n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
		if (n >= 0)
			continue;
		n = 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			conn_err(c, "write: timeout after %d ms",
			    c->timeout_ms);
		else
			conn_err(c, "write: %s", strerror(errno));
		return -1;
	}
	c->out_len = 0;
	return 0;
}

/* Make LEN bytes available at c->in + c->in_off. */
static int
in_fill(struct mt_conn *c, size_t len)
{
	unsigned char	*p;
	size_t		 size;
	ssize_t		 n;

	if (c->in_len - c->in_off >= len)
		return 0;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (len > c->in_size) {
		size = c->in_size ? c->in_size : 4096;
		while (size < len)
			size *= 2;
		if ((p = realloc(c->in, size)) == NULL) {
			conn_err(c, "out of memory");
			return -1;
		}
		c->in = p;
		c->in_size = size;
	}
	while (c->in_len < len) {
		n = recv(c->fd, c->in + c->in_len, c->in_size - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			conn_err(c, "connection closed by the filter");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			conn_err(c, "timeout after %d ms", c->timeout_ms);
		else
			conn_err(c, "read: %s", strerror(errno));
		return -1;
	}
	return 0;
}

ssize_t
mt_packet_parse(const unsigned char *buf, size_t len, size_t *plen,
    int *cmd, const unsigned char **data, size_t *dlen)
{
	*plen = 0;
	if (len < 4)
		return 0;
	*plen = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) |
	    ((size_t)buf[2] << 8) | buf[3];
	if (*plen < 1 || *plen > MT_MAX_PACKET)
		return -1;
	if (len - 4 < *plen)
		return 0;
	*cmd = buf[4];
	*data = buf + 5;
	*dlen = *plen - 1;
	return (ssize_t)(4 + *plen);
}

/*
 * Read one packet.  *data points into the input buffer and stays valid
 * until the next read.
 */
static int
in_packet(struct mt_conn *c, int *cmd, const unsigned char **data,
    size_t *len)
{
	size_t	plen;
	ssize_t	n;

	while ((n = mt_packet_parse(c->in + c->in_off, c->in_len - c->in_off,
	    &plen, cmd, data, len)) == 0) {
		if (in_fill(c, plen == 0 ? 4 : 4 + plen) < 0)
			return -1;
	}
	if (n < 0) {
		conn_err(c, "bad packet length %zu from the filter", plen);
		return -1;
	}
	c->in_off += (size_t)n;
	if (c->verbose)
		dump_data("<", *cmd, *cmd != SMFIC_OPTNEG, *data, *len);
	return 0;
}

static int
open_unix(struct mt_conn *c, const char *path)
{
	struct sockaddr_un	sun;
	struct timeval		tv;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		conn_err(c, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		conn_err(c, "socket: %s", strerror(errno));
		return -1;
	}
	/* Linux bounds a connect to a full listen queue by SO_SNDTIMEO. */
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		conn_err(c, "connect to %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
connect_timeout(struct mt_conn *c, int fd, const struct sockaddr *sa,
    socklen_t salen)
{
	struct pollfd	pfd;
	socklen_t	len;
	int		err, n;

	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
	    (connect(fd, sa, salen) < 0 && errno != EINPROGRESS))
		return -1;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	while ((n = poll(&pfd, 1, c->timeout_ms)) < 0 && errno == EINTR)
		continue;
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	len = sizeof(err);
	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* inet:port@host, inet6:port@host, or Postfix's inet:host:port. */
static int
open_inet(struct mt_conn *c, const char *spec, int family)
{
	struct addrinfo	 hints, *res, *ai;
	struct sockspec_inet in;
	char		 buf[300], *host, *port, *at;
	const char	*why;
	int		 fd, one = 1, rc;

	if (strlen(spec) >= sizeof(buf)) {
		conn_err(c, "socket address too long");
		return -1;
	}
	if (strchr(spec, '@') != NULL) {
		if (sockspec_inet(spec, &in, &why) == -1) {
			conn_err(c, "bad socket address %s: %s", spec, why);
			return -1;
		}
		snprintf(buf, sizeof(buf), "%u", in.port);
		port = buf;
		host = in.host;
	} else if ((at = strrchr(strcpy(buf, spec), ':')) != NULL) {
		*at = '\0';
		host = buf;
		port = at + 1;
		if (*host == '[' && host[strlen(host) - 1] == ']') {
			host[strlen(host) - 1] = '\0';
			host++;
		}
	} else {
		conn_err(c, "bad socket address %s (want port@host)", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		conn_err(c, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect_timeout(c, fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		conn_err(c, "connect to %s: %s", spec, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	else if (c->err[0] == '\0')
		conn_err(c, "connect to %s: no usable address", spec);
	return fd;
}

static int
open_socket(struct mt_conn *c, const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(c, spec + 5);
	if (strncmp(spec, "local:", 6) == 0)
		return open_unix(c, spec + 6);
	if (strncmp(spec, "inet:", 5) == 0)
		return open_inet(c, spec + 5, AF_INET);
	if (strncmp(spec, "inet6:", 6) == 0)
		return open_inet(c, spec + 6, AF_INET6);
	if (strchr(spec, ':') == NULL)
		return open_unix(c, spec);
	conn_err(c, "bad socket %s (want unix:/path, inet:port@host, "
	    "inet6:port@host or a path)", spec);
	return -1;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* The optional macro lists after the three words of the OPTNEG reply. */
static int
parse_symlists(struct mt_conn *c, const unsigned char *p, size_t len)
{
	const unsigned char	*nul;
	uint32_t		 stage;

	while (len > 0) {
		if (len < 5 || (nul = memchr(p + 4, '\0', len - 4)) == NULL) {
			conn_err(c, "bad macro list in OPTNEG reply");
			return -1;
		}
		stage = get_u32(p);
		if (stage <= SMFIM_LAST) {
			free(c->symlist[stage]);
			if ((c->symlist[stage] = strdup((const char *)p + 4))
			    == NULL) {
				conn_err(c, "out of memory");
				return -1;
			}
		}
		len -= (size_t)(nul + 1 - p);
		p = nul + 1;
	}
	return 0;
}

int
mt_conn_optneg(struct mt_conn *c, int cmd, const unsigned char *data,
    size_t len)
{
	if (cmd != SMFIC_OPTNEG || len < MILTER_OPTLEN) {
		conn_err(c, "bad OPTNEG reply (command '%c', %zu bytes)",
		    cmd, len);
		return -1;
	}
	c->version = get_u32(data);
	c->actions = get_u32(data + 4);
	c->pflags = get_u32(data + 8) & ~SMFI_INTERNAL;
	if (c->version < 2 || c->version > SMFI_PROT_VERSION) {
		conn_err(c, "filter speaks protocol version %u", c->version);
		return -1;
	}
	if ((c->actions & MT_OFFER_ACTS) != c->actions) {
		conn_err(c, "filter wants actions 0x%x, offered 0x%x",
		    c->actions, (unsigned)MT_OFFER_ACTS);
		return -1;
	}
	if ((c->pflags & MT_OFFER_PROT) != c->pflags) {
		conn_err(c, "filter wants protocol flags 0x%x, offered 0x%x",
		    c->pflags, (unsigned)MT_OFFER_PROT);
		return -1;
	}
	if (c->verbose)
		fprintf(stderr, "= version %u actions 0x%x protocol 0x%x\n",
		    c->version, c->actions, c->pflags);
	return parse_symlists(c, data + MILTER_OPTLEN, len - MILTER_OPTLEN);
}

static int
negotiate(struct mt_conn *c)
{
	unsigned char		 opt[MILTER_OPTLEN];
	const unsigned char	*data;
	size_t			 len;
	int			 cmd;

	put_u32(opt, SMFI_PROT_VERSION);
	put_u32(opt + 4, MT_OFFER_ACTS);
	put_u32(opt + 8, MT_OFFER_PROT);
	if (out_packet(c, SMFIC_OPTNEG, opt, sizeof(opt)) < 0 ||
	    out_flush(c) < 0 || in_packet(c, &cmd, &data, &len) < 0)
		return -1;
	return mt_conn_optneg(c, cmd, data, len);
}

/*
 * Blocking I/O, each read and write bounded by the timeout: one system call
 * per packet in the common case, which matters in load mode.
 */
static int
set_blocking_timeouts(struct mt_conn *c)
{
	struct timeval	tv;
	int		flags;

	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	if ((flags = fcntl(c->fd, F_GETFL)) < 0 ||
	    fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		conn_err(c, "socket options: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
mt_conn_open(struct mt_conn *c, const char *spec, int timeout_ms,
    int verbose)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = timeout_ms;
	c->verbose = verbose;
	if ((c->fd = open_socket(c, spec)) < 0)
		return -1;
	if (set_blocking_timeouts(c) < 0)
		return -1;
	return negotiate(c);
}

void
mt_conn_close(struct mt_conn *c)
{
	int	i;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (i = 0; i <= SMFIM_LAST; i++) {
		free(c->symlist[i]);
		c->symlist[i] = NULL;
	}
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_len = c->in_off = c->in_size = 0;
	c->out_len = c->out_size = 0;
}

/* Macro names compare without their braces: "{i}" is "i". */
static int
macro_name_eq(const char *a, size_t alen, const char *b)
{
	size_t	blen = strlen(b);

	if (alen >= 2 && a[0] == '{' && a[alen - 1] == '}') {
		a++;
		alen -= 2;
	}
	if (blen >= 2 && b[0] == '{' && b[blen - 1] == '}') {
		b++;
		blen -= 2;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

static int
macros_find(const struct mt_macros *m, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < m->count; i++)
		if (macro_name_eq(name, len, m->name[i]))
			return (int)i;
	return -1;
}

static int
macro_add(unsigned char *buf, size_t *off, size_t size, const char *name,
    size_t nlen, const char *value)
{
	size_t	vlen = strlen(value);

	if (*off + nlen + vlen + 2 > size)
		return -1;
	memcpy(buf + *off, name, nlen);
	buf[*off + nlen] = '\0';
	memcpy(buf + *off + nlen + 1, value, vlen + 1);
	*off += nlen + vlen + 2;
	return 0;
}

/*
 * Queue the SMFIC_MACRO packet of one event: the macros the filter asked
 * for at this stage when it sent a list, otherwise every macro defined.
 */
static int
out_macros(struct mt_conn *c, int cmd, int stage, const struct mt_macros *m)
{
	unsigned char	 buf[8192];
	const char	*list, *p;
	size_t		 off = 1, i, len;
	int		 idx;

	buf[0] = (unsigned char)cmd;
	list = c->symlist[stage];
	if (list == NULL) {
		for (i = 0; i < m->count; i++)
			if (macro_add(buf, &off, sizeof(buf), m->name[i],
			    strlen(m->name[i]), m->value[i]) < 0)
				goto toolong;
	} else {
		for (p = list; *p != '\0'; p += len) {
			p += strspn(p, " ,");
			len = strcspn(p, " ,");
			if (len == 0 || (idx = macros_find(m, p, len)) < 0)
				continue;
			if (macro_add(buf, &off, sizeof(buf), p, len,
			    m->value[idx]) < 0)
				goto toolong;
		}
	}
	/*
	 * Sent even when empty, as Postfix does: libmilter keeps a stage's
	 * macros until the next SMFIC_MACRO for that stage, so skipping it
	 * would leave the previous transaction's values (say {auth_authen})
	 * in place.
	 */
	return out_packet(c, SMFIC_MACRO, buf, off);
toolong:
	conn_err(c, "macros too long");
	return -1;
}

static void
record_mod(struct mt_reply *r, int cmd, const unsigned char *data,
    size_t len)
{
	size_t	i, n;

	r->mods++;
	n = (size_t)snprintf(r->lastmod, sizeof(r->lastmod), "%s",
	    reply_name(cmd));
	for (i = 0; i < len && n + 2 < sizeof(r->lastmod); i++) {
		if (i == 0)
			r->lastmod[n++] = ' ';
		r->lastmod[n++] = data[i] == '\0' ? ' ' :
		    (isprint(data[i]) ? (char)data[i] : '?');
	}
	r->lastmod[n] = '\0';
}

static int
is_modification(int cmd)
{
	return cmd == SMFIR_ADDRCPT || cmd == SMFIR_DELRCPT ||
	    cmd == SMFIR_ADDRCPT_PAR || cmd == SMFIR_REPLBODY ||
	    cmd == SMFIR_CHGFROM || cmd == SMFIR_ADDHEADER ||
	    cmd == SMFIR_INSHEADER || cmd == SMFIR_CHGHEADER;
}

static int
replycode(struct mt_conn *c, struct mt_reply *r, const unsigned char *data,
    size_t len)
{
	const char	*t = (const char *)data;

	if (len == 0 || t[len - 1] != '\0' || len < 4 ||
	    (t[0] != '4' && t[0] != '5') || !isdigit((unsigned char)t[1]) ||
	    !isdigit((unsigned char)t[2]) || (t[3] != ' ' && t[3] != '-')) {
		conn_err(c, "malformed REPLYCODE from the filter: %.*s",
		    (int)len, t);
		return -1;
	}
	snprintf(r->text, sizeof(r->text), "%s", t);
	r->kind = t[0] == '4' ? MT_TEMPFAIL : MT_REJECT;
	return 0;
}

int
mt_conn_reply(struct mt_conn *c, int cmd, int rc, const unsigned char *data,
    size_t len, struct mt_reply *r)
{
	r->cmd = rc;
	switch (rc) {
	case SMFIR_PROGRESS:
		return 0;
	case SMFIR_CONTINUE:
		r->kind = MT_CONTINUE;
		return 1;
	case SMFIR_ACCEPT:
		r->kind = MT_ACCEPT;
		return 1;
	case SMFIR_REJECT:
		r->kind = MT_REJECT;
		return 1;
	case SMFIR_TEMPFAIL:
		r->kind = MT_TEMPFAIL;
		return 1;
	case SMFIR_DISCARD:
		r->kind = MT_DISCARD;
		return 1;
	case SMFIR_SKIP:
		r->kind = MT_SKIP;
		return 1;
	case SMFIR_SHUTDOWN:
		r->kind = MT_SHUTDOWN;
		return 1;
	case SMFIR_CONN_FAIL:
		r->kind = MT_CONNFAIL;
		return 1;
	case SMFIR_REPLYCODE:
		return replycode(c, r, data, len) < 0 ? -1 : 1;
	case SMFIR_QUARANTINE:
		record_mod(r, rc, data, len);
		return 0;
	}
	if (cmd == SMFIC_BODYEOB && is_modification(rc)) {
		record_mod(r, rc, data, len);
		return 0;
	}
	conn_err(c, "unexpected filter reply '%c' (%s) to %s", rc,
	    reply_name(rc), cmd_name(cmd));
	return -1;
}

/* Read replies to event CMD up to the final one. */
static int
read_reply(struct mt_conn *c, int cmd, struct mt_reply *r)
{
	const unsigned char	*data;
	size_t			 len;
	int			 rc, n;

	do {
		if (in_packet(c, &rc, &data, &len) < 0)
			return -1;
	} while ((n = mt_conn_reply(c, cmd, rc, data, len, r)) == 0);
	return n < 0 ? -1 : 0;
}

int
mt_conn_event(struct mt_conn *c, int cmd, const struct mt_macros *macros,
    const void *data, size_t len, struct mt_reply *r)
{
	int	stage;

	memset(r, 0, sizeof(*r));
	if (c->fd < 0) {
		conn_err(c, "not connected");
		return -1;
	}
	c->out_len = 0;
	stage = macro_stage(cmd);
	if (stage >= 0 && macros != NULL &&
	    out_macros(c, cmd, stage, macros) < 0)
		return -1;
	if ((c->pflags & skip_flag(cmd)) != 0) {
		r->kind = MT_SKIPPED;
		return out_flush(c);
	}
	if (out_packet(c, cmd, data, len) < 0 || out_flush(c) < 0)
		return -1;
	if ((c->pflags & noreply_flag(cmd)) != 0) {
		r->kind = MT_NOREPLY;
		return 0;
	}
	return read_reply(c, cmd, r);
}

int
mt_conn_abort(struct mt_conn *c, const struct mt_macros *macros)
{
	(void)macros;
	c->out_len = 0;
	if (out_packet(c, SMFIC_ABORT, NULL, 0) < 0)
		return -1;
	return out_flush(c);
}

int
mt_conn_quit(struct mt_conn *c)
{
	int	rc;

	c->out_len = 0;
	rc = out_packet(c, SMFIC_QUIT, NULL, 0);
	if (rc == 0)
		rc = out_flush(c);
	mt_conn_close(c);
	return rc;
}

char *
mt_reply_str(const struct mt_reply *r, char *buf, size_t len)
{
	if (r->text[0] != '\0')
		snprintf(buf, len, "%s %s", mt_kind_name(r->kind), r->text);
	else
		snprintf(buf, len, "%s", mt_kind_name(r->kind));
	return buf;
}

int
mt_macros_set(struct mt_macros *m, const char *name, const char *value)
{
	char	*v;
	int	 i;

	if ((v = strdup(value)) == NULL)
		return -1;
	if ((i = macros_find(m, name, strlen(name))) >= 0) {
		free(m->value[i]);
		m->value[i] = v;
		return 0;
	}
	if (m->count >= MT_MACROS_MAX ||
	    (m->name[m->count] = strdup(name)) == NULL) {
		free(v);
		return -1;
	}
	m->value[m->count++] = v;
	return 0;
}

const char *
mt_macros_get(const struct mt_macros *m, const char *name)
{
	int	i;

	if ((i = macros_find(m, name, strlen(name))) < 0)
		return NULL;
	return m->value[i];
}

void
mt_macros_unset(struct mt_macros *m, const char *name)
{
	int	i;

	if ((i = macros_find(m, name, strlen(name))) < 0)
		return;
	free(m->name[i]);
	free(m->value[i]);
	m->count--;
	memmove(&m->name[i], &m->name[i + 1],
	    (m->count - (size_t)i) * sizeof(m->name[0]));
	memmove(&m->value[i], &m->value[i + 1],
	    (m->count - (size_t)i) * sizeof(m->value[0]));
}

int
mt_macros_copy(struct mt_macros *dst, const struct mt_macros *src)
{
	size_t	i;

	mt_macros_free(dst);
	for (i = 0; i < src->count; i++)
		if (mt_macros_set(dst, src->name[i], src->value[i]) < 0)
			return -1;
	return 0;
}

void
mt_macros_free(struct mt_macros *m)
{
	size_t	i;

	for (i = 0; i < m->count; i++) {
		free(m->name[i]);
		free(m->value[i]);
	}
	m->count = 0;
}
