/*
 * e2e_client - tiny network clients for the end-to-end tests
 *
 *	e2e_client smtp [-b BIND] [-H HOST] -p PORT [-f FROM] [-s SUBJECT]
 *	    [-a PLAIN] RCPT...
 *		One SMTP session from source address BIND (default: the
 *		kernel's choice): EHLO, with -a "AUTH PLAIN PLAIN" (PLAIN:
 *		the base64 initial response; the reply printed as "AUTH
 *		235 ...", the session goes on whatever it is), MAIL FROM,
 *		one RCPT TO per argument,
 *		DATA when any was accepted, QUIT.  MAIL FROM has
 *		SMTPUTF8 when a recipient has an 8-bit octet (RFC 6531).
 *		Prints one line per reply: "CONNECT 220", "RCPT <addr> 250
 *		2.1.5 Ok", "DATA 250 ...".  Exit 0 when the dialogue ran, 1
 *		on a protocol or network failure.
 *	e2e_client socketmap [-H HOST] -p PORT
 *		One persistent connection; every stdin line "MAP KEY" is
 *		sent as a netstring, every answer printed on a line.
 *	e2e_client raw [-H HOST] -p PORT
 *		Sends stdin as it is, then prints everything received
 *		until the server closes (up to 30 s).
 *
 * Hosts are numeric IPv4 or IPv6 addresses.  Every read has a 60 s
 * timeout: a test never hangs on a silent server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS	60000

static int
sockaddr_fill(const char *host, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return AF_INET6;
	}
	fprintf(stderr, "e2e_client: %s: not a numeric address\n", host);
	exit(1);
}

static int
dial(const char *host, int port, const char *bind_addr)
{
	struct sockaddr_storage ss, bs;
	socklen_t	 len, blen;
	int		 fd, family;

	family = sockaddr_fill(host, port, &ss, &len);
	if ((fd = socket(family, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		exit(1);
	}
	if (bind_addr != NULL) {
		sockaddr_fill(bind_addr, 0, &bs, &blen);
		if (bind(fd, (struct sockaddr *)&bs, blen) == -1) {
			fprintf(stderr, "e2e_client: bind %s: %s\n", bind_addr,
			    strerror(errno));
			exit(1);
		}
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		fprintf(stderr, "e2e_client: connect %s port %d: %s\n", host,
		    port, strerror(errno));
		printf("CONNECT failed\n");
		exit(1);
	}
	return fd;
}

static int
wait_readable(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	int		rc;

	while ((rc = poll(&pfd, 1, TIMEOUT_MS)) == -1 && errno == EINTR)
		;
	return rc;
}

static void
send_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "e2e_client: send: %s\n",
			    strerror(errno));
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* --- SMTP -------------------------------------------------------------- */

static char	rbuf[65536];
static size_t	rlen;

/* One line, CRLF removed; exits on EOF or timeout. */
static void
read_line(int fd, char *line, size_t size)
{
	char	*nl;
	ssize_t	 n;
	size_t	 l;

	while ((nl = memchr(rbuf, '\n', rlen)) == NULL) {
		if (rlen == sizeof(rbuf) || wait_readable(fd) <= 0) {
			fprintf(stderr, "e2e_client: read timeout\n");
			exit(1);
		}
		n = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);
		if (n <= 0) {
			fprintf(stderr, "e2e_client: server closed\n");
			exit(1);
		}
		rlen += (size_t)n;
	}
	l = (size_t)(nl - rbuf);
	if (l > 0 && rbuf[l - 1] == '\r')
		l--;
	if (l >= size)
		l = size - 1;
	memcpy(line, rbuf, l);
	line[l] = '\0';
	l = (size_t)(nl - rbuf) + 1;
	memmove(rbuf, rbuf + l, rlen - l);
	rlen -= l;
}

/* The last line of a (multi-line) reply; returns the code. */
static int
reply(int fd, char *line, size_t size)
{
	do
		read_line(fd, line, size);
	while (strlen(line) > 3 && line[3] == '-');
	return atoi(line);
}

static void
command(int fd, const char *fmt, const char *arg)
{
	char	buf[1200];
	int	n;

	n = snprintf(buf, sizeof(buf), fmt, arg);
	send_all(fd, buf, (size_t)n);
}

/* utf8_any - some recipient has an octet >= 0x80 */
static int
utf8_any(int nrcpt, char **rcpts)
{
	const unsigned char *p;
	int	i;

	for (i = 0; i < nrcpt; i++)
		for (p = (const unsigned char *)rcpts[i]; *p != '\0'; p++)
			if (*p >= 0x80)
				return 1;
	return 0;
}

static int
do_smtp(const char *host, int port, const char *bind_addr, const char *from,
    const char *subject, const char *auth, int nrcpt, char **rcpts)
{
	char	line[1024];
	int	fd, i, accepted = 0, code;

	fd = dial(host, port, bind_addr);
	code = reply(fd, line, sizeof(line));
	printf("CONNECT %s\n", line);
	if (code != 220)
		return 1;
	command(fd, "EHLO e2e.test\r\n", NULL);
	if (reply(fd, line, sizeof(line)) != 250) {
		printf("EHLO %s\n", line);
		return 1;
	}
	if (auth != NULL) {
		command(fd, "AUTH PLAIN %s\r\n", auth);
		(void)reply(fd, line, sizeof(line));
		printf("AUTH %s\n", line);
	}
	command(fd, utf8_any(nrcpt, rcpts) ? "MAIL FROM:<%s> SMTPUTF8\r\n" :
	    "MAIL FROM:<%s>\r\n", from);
	code = reply(fd, line, sizeof(line));
	if (code != 250) {
		printf("MAIL %s\n", line);
		return 1;
	}
	for (i = 0; i < nrcpt; i++) {
		command(fd, "RCPT TO:<%s>\r\n", rcpts[i]);
		code = reply(fd, line, sizeof(line));
		printf("RCPT <%s> %s\n", rcpts[i], line);
		if (code == 250 || code == 251)
			accepted++;
	}
	if (accepted > 0) {
		command(fd, "DATA\r\n", NULL);
		code = reply(fd, line, sizeof(line));
		if (code != 354) {
			printf("DATA %s\n", line);
			return 1;
		}
		command(fd, "From: <%s>\r\n", from);
		command(fd, "Subject: %s\r\n\r\nmilter-relay e2e test\r\n.\r\n",
		    subject);
		reply(fd, line, sizeof(line));
		printf("DATA %s\n", line);
	}
	command(fd, "QUIT\r\n", NULL);
	(void)reply(fd, line, sizeof(line));
	fflush(stdout);
	close(fd);
	return 0;
}

/* --- socketmap ----------------------------------------------------------- */

static int
do_socketmap(const char *host, int port)
{
	char	 line[12000], out[12100], ans[12000];
	size_t	 len, got, want, i;
	ssize_t	 n;
	int	 fd, hdr;

	fd = dial(host, port, NULL);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		hdr = snprintf(out, sizeof(out), "%zu:", len);
		memcpy(out + hdr, line, len);
		out[hdr + len] = ',';
		send_all(fd, out, (size_t)hdr + len + 1);
		/* "LEN:" then LEN octets and ',' */
		got = 0;
		want = 0;
		for (;;) {
			if (wait_readable(fd) <= 0) {
				fprintf(stderr, "e2e_client: timeout\n");
				return 1;
			}
			n = read(fd, ans + got, 1);
			if (n <= 0) {
				printf("EOF\n");
				fflush(stdout);
				return 1;
			}
			if (ans[got] == ':')
				break;
			if (++got >= 8)
				return 1;
		}
		ans[got] = '\0';
		want = strtoul(ans, NULL, 10) + 1;
		for (i = 0; i < want; i += (size_t)n) {
			if (wait_readable(fd) <= 0)
				return 1;
			n = read(fd, ans + i, want - i);
			if (n <= 0)
				return 1;
		}
		printf("%.*s\n", (int)(want - 1), ans);
		fflush(stdout);
	}
	close(fd);
	return 0;
}

static int
do_raw(const char *host, int port)
{
	char	buf[16384];
	size_t	n;
	ssize_t	r;
	int	fd;

	fd = dial(host, port, NULL);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		send_all(fd, buf, n);
	for (;;) {
		if (wait_readable(fd) <= 0) {
			printf("\nTIMEOUT\n");
			return 1;
		}
		r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		fwrite(buf, 1, (size_t)r, stdout);
	}
	printf("\nCLOSED\n");
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: e2e_client smtp|socketmap|raw [-b bind] "
	    "[-H host] [-p port] [-f from] [-s subject] [-a plain] "
	    "[rcpt...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*mode, *host = "127.0.0.1", *bind_addr = NULL;
	const char	*from = "sender@e2e.test", *subject = "e2e";
	const char	*auth = NULL;
	int		 ch, port = 0;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "a:b:H:p:f:s:")) != -1) {
		switch (ch) {
		case 'a':
			auth = optarg;
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'f':
			from = optarg;
			break;
		case 's':
			subject = optarg;
			break;
		default:
			usage();
		}
	}
	if (port <= 0 || port > 65535)
		usage();
	if (strcmp(mode, "smtp") == 0)
		return do_smtp(host, port, bind_addr, from, subject, auth,
		    argc - optind, argv + optind);
	if (strcmp(mode, "socketmap") == 0)
		return do_socketmap(host, port);
	if (strcmp(mode, "raw") == 0)
		return do_raw(host, port);
	usage();
	return 2;
}
