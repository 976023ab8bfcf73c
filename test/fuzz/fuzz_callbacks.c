/*
 * NAME
 *	fuzz_callbacks - libFuzzer target: the daemon's milter callbacks
 * SYNOPSIS
 *	build-fuzz/fuzz_callbacks [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	Feeds milter-relay's own libmilter callbacks (milter/callbacks.c,
 *	compiled as the daemon compiles it) with hostile milter packets,
 *	decoded here the way libmilter's engine hands them over: each
 *	packet is a 16-bit length, a command octet and its data:
 *
 *	O	negotiate (12 octets: version, actions, protocol)
 *	C	connect: host name NUL, family '4' '6' 'L' 'U', 16-bit port,
 *		address NUL (an address inet_pton() refuses: no sockaddr)
 *	D	macros: the stage ('C', 'M' or 'R'), then NAME NUL VALUE NUL
 *		pairs; a stage's macros replace that stage's earlier ones
 *	M	MAIL, R RCPT: NUL-separated arguments (argv)
 *	E	end of message, A abort, Q quit (close, then a new session)
 *
 *	libmilter's own functions are replaced here (smfi_getpriv,
 *	smfi_setpriv, smfi_getsymval, smfi_setreply, smfi_setsymlist), and
 *	so are the daemon modules around the callbacks: the live
 *	configuration (a fixed file, loaded once), the metrics (nothing)
 *	and the callouts (verify_recipient(): the result "unknown").  The
 *	log is the daemon's (milter/log.c, foreground): stderr is /dev/null
 *	while a callback runs, unless MR_FUZZ_LOG is set (to read the
 *	daemon's lines, or a sanitizer report, when an input fails).
 *
 *	Besides the sanitizers, it aborts when a property fails:
 *	- the RCPT callback returns continue, reject or tempfail, and a
 *	  reject (tempfail) comes with a 5xx (4xx) reply set in that call;
 *	- every reply set is one libmilter and the MTA accept: a 4xx or 5xx
 *	  code, an enhanced code of the same class, a text without CR, LF
 *	  or NUL whose every '%' is doubled (smfi_setreply() formats it);
 *	- never an open relay: a recipient continued for a client that is
 *	  not trusted (its address outside trusted_networks, no
 *	  {auth_authen} at MAIL), whose {rcpt_mailer} is none of the local
 *	  mailers, is not source-routed (ruleoracle_routed()) and either an
 *	  unqualified postmaster or covered by an "always" rule
 *	  (ruleoracle_nearest(): the rule language, not lib/decide.c).
 * DIAGNOSTICS
 *	abort() with the property and the recipient on stderr.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "decide.h"

#include "../../milter/callbacks.h"
#include "../../milter/live.h"
#include "../../milter/log.h"
#include "../../milter/metrics.h"
#include "../../milter/verify.h"
#include "ruleoracle.h"

#define ARGS_MAX	16
#define MACROS_MAX	16
#define VALUE_MAX	1024

static const struct {
	const char	*pattern;
	const char	*rule;
	int		 always;
} rules[] = {
	{ "example.com", "smarthost = \"[10.1.2.3]\";", 1 },
	{ "#example.org", "relay = \"always\";", 1 },
	{ "partner.example", "relay = \"trusted\";", 0 },
	{ "lab.example.com", "relay = \"deny\";"
	    " reply = \"550 5.7.1 No mail for the lab\";", 0 },
	{ "open.lab.example.com", "relay = \"always\";", 1 },
	{ ".sub.example.net", "smarthost = \"[192.0.2.7]:2525\";", 1 },
	{ "xn--bcher-kva.example", "relay = \"always\";", 1 },
};
#define NRULES	(sizeof(rules) / sizeof(rules[0]))

static const char *patterns[NRULES];
static struct config *config;

/* The stand-in of libmilter's context: the private pointer and macros. */
struct macro {
	char	name[64];
	char	value[VALUE_MAX];
};
struct smfi_str {
	void		*priv;
	struct macro	 macros[3][MACROS_MAX];	/* C, M, R stages */
	int		 nmacros[3];
	int		 reply_set;
	char		 rcode[8];
};
static struct smfi_str ctx;

/* --- libmilter, replaced --------------------------------------------------- */

void *
smfi_getpriv(SMFICTX *c)
{
	return c->priv;
}

int
smfi_setpriv(SMFICTX *c, void *p)
{
	c->priv = p;
	return MI_SUCCESS;
}

/* later stages first, as libmilter looks macros up */
char *
smfi_getsymval(SMFICTX *c, char *name)
{
	int	st, i;

	for (st = 2; st >= 0; st--)
		for (i = 0; i < c->nmacros[st]; i++)
			if (strcmp(c->macros[st][i].name, name) == 0)
				return c->macros[st][i].value;
	return NULL;
}

int
smfi_setsymlist(SMFICTX *c, int stage, char *list)
{
	(void)c;
	(void)stage;
	(void)list;
	return MI_SUCCESS;
}

static void quiet(int);

static void
die(const char *what, const char *detail)
{
	quiet(0);
	fprintf(stderr, "fuzz_callbacks: %s: \"%s\"\n", what, detail);
	abort();
}

int
smfi_setreply(SMFICTX *c, char *rcode, char *xcode, char *message)
{
	size_t	i;

	if (rcode == NULL || strlen(rcode) != 3 ||
	    (rcode[0] != '4' && rcode[0] != '5') ||
	    rcode[1] < '0' || rcode[1] > '9' || rcode[2] < '0' || rcode[2] > '9')
		die("reply code", rcode != NULL ? rcode : "(null)");
	if (xcode == NULL || xcode[0] != rcode[0] || xcode[1] != '.')
		die("enhanced code", xcode != NULL ? xcode : "(null)");
	for (i = 2; xcode[i] != '\0'; i++)
		if ((xcode[i] < '0' || xcode[i] > '9') && xcode[i] != '.')
			die("enhanced code", xcode);
	if (message == NULL)
		die("reply text", "(null)");
	for (i = 0; message[i] != '\0'; i++) {
		if (message[i] == '\r' || message[i] == '\n')
			die("CR or LF in the reply text", message);
		if (message[i] == '%' && message[++i] != '%')
			die("a single '%' in the reply text", message);
	}
	c->reply_set = 1;
	snprintf(c->rcode, sizeof(c->rcode), "%s", rcode);
	return MI_SUCCESS;
}

/* --- the daemon's modules around the callbacks, replaced ------------------ */

const struct config *
live_acquire(void)
{
	return config;
}

void
live_release(const struct config *c)
{
	(void)c;
}

uint64_t
metrics_now(void)
{
	return 0;
}

void
metrics_add(enum metrics_counter c)
{
	(void)c;
}

uint64_t
metrics_get(enum metrics_counter c)
{
	(void)c;
	return 0;
}

uint64_t
metrics_decisions(int outcome)
{
	(void)outcome;
	return 0;
}

void
metrics_decision(const struct decision *d, uint64_t start)
{
	(void)d;
	(void)start;
}

void
verify_recipient(const struct config *c, const struct client *client,
    const char *rcpt, struct decision *d)
{
	(void)client;
	decide_recipient(c, rcpt, strlen(rcpt), RECIPIENT_UNKNOWN,
	    "recipient unverified", d);
}

void
verify_log_counters(void)
{
}

/* --- the session ------------------------------------------------------------- */

static struct smfiDesc *desc;
static int	 peer_trusted, auth_at_mail;
static int	 stderr_fd = -1, null_fd = -1;	/* quiet callbacks */

/* quiet(1) before a callback, quiet(0) after */
static void
quiet(int on)
{
	if (null_fd != -1)
		dup2(on ? null_fd : stderr_fd, STDERR_FILENO);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 path[] = "/tmp/fuzz_callbacks.XXXXXX", err[256];
	FILE	*fp;
	size_t	 i;
	int	 fd;

	(void)argc;
	(void)argv;
	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		abort();
	fprintf(fp, "socket = \"unix:/nonexistent\";\npolicy = {\n"
	    "  trusted_networks = [ \"192.0.2.0/24\", \"2001:db8::/32\" ];\n"
	    "  unmatched = \"reject\";\n  route_check = \"enforce\";\n};\n"
	    "domains = (\n");
	for (i = 0; i < NRULES; i++) {
		patterns[i] = rules[i].pattern;
		fprintf(fp, "%s{ match = \"%s\"; %s }\n", i ? "," : "",
		    rules[i].pattern, rules[i].rule);
	}
	fprintf(fp, ");\n");
	fclose(fp);
	config = config_load(path, err, sizeof(err));
	unlink(path);
	if (config == NULL) {
		fprintf(stderr, "fuzz_callbacks: %s\n", err);
		abort();
	}
	log_open("fuzz_callbacks", 1, NULL);
	if (getenv("MR_FUZZ_LOG") == NULL &&
	    ((stderr_fd = dup(STDERR_FILENO)) == -1 ||
	    (null_fd = open("/dev/null", O_WRONLY)) == -1))
		abort();
	callbacks_init();
	desc = callbacks_desc();
	return 0;
}

/* NUL-separated arguments of data into argv (at most ARGS_MAX - 1) */
static int
split(char *data, size_t len, char **argv)
{
	size_t	i, start = 0;
	int	n = 0;

	for (i = 0; i <= len && n < ARGS_MAX - 1; i++)
		if (i == len || data[i] == '\0') {
			data[i] = '\0';
			argv[n++] = data + start;
			start = i + 1;
		}
	argv[n] = NULL;
	return n;
}

static void
macros(char *data, size_t len)
{
	char	*argv[ARGS_MAX];
	int	 st, n, i;

	if (len < 1)
		return;
	st = data[0] == 'C' ? 0 : data[0] == 'M' ? 1 : data[0] == 'R' ? 2 : -1;
	if (st < 0)
		return;
	n = split(data + 1, len - 1, argv);
	ctx.nmacros[st] = 0;
	for (i = 0; i + 1 < n && ctx.nmacros[st] < MACROS_MAX; i += 2) {
		snprintf(ctx.macros[st][ctx.nmacros[st]].name,
		    sizeof(ctx.macros[st][0].name), "%s", argv[i]);
		snprintf(ctx.macros[st][ctx.nmacros[st]].value,
		    sizeof(ctx.macros[st][0].value), "%s", argv[i + 1]);
		ctx.nmacros[st]++;
	}
}

static void
connect_cmd(char *data, size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	struct sockaddr		*sa = NULL;
	char			*host, *addr, family;
	size_t			 hlen;

	if (len == 0 || data[len - 1] != '\0')
		return;
	host = data;
	hlen = strlen(host);
	if (hlen + 4 > len)
		return;
	family = data[hlen + 1];
	addr = data + hlen + 4;
	memset(&ss, 0, sizeof(ss));
	peer_trusted = 0;
	if (family == '4' && inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sa = (struct sockaddr *)sin;
		peer_trusted = (ntohl(sin->sin_addr.s_addr) >> 8) == 0xc00002;
	} else if (family == '6' &&
	    inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sa = (struct sockaddr *)sin6;
		peer_trusted = memcmp(sin6->sin6_addr.s6_addr,
		    "\x20\x01\x0d\xb8", 4) == 0 ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    memcmp(sin6->sin6_addr.s6_addr + 12, "\xc0\x00\x02", 3)
		    == 0);
	} else if (family == 'L') {
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", addr);
		sa = (struct sockaddr *)sun;
	}
	quiet(1);
	desc->xxfi_connect(&ctx, host, sa);
	quiet(0);
}

/* a local mailer of the configuration's default list */
static int
local_mailer(const char *m)
{
	return m != NULL && (strcmp(m, "local") == 0 ||
	    strcmp(m, "virtual") == 0 || strcmp(m, "lmtp") == 0);
}

static void
rcpt_cmd(char *data, size_t len)
{
	char		*argv[ARGS_MAX], addr[VALUE_MAX];
	const char	*a;
	size_t		 n;
	sfsistat	 rc;
	int		 r;

	split(data, len, argv);
	ctx.reply_set = 0;
	quiet(1);
	rc = desc->xxfi_envrcpt(&ctx, argv);
	quiet(0);
	if (rc == SMFIS_REJECT || rc == SMFIS_TEMPFAIL) {
		if (!ctx.reply_set)
			die("refused without a reply", argv[0]);
		if (ctx.rcode[0] != (rc == SMFIS_REJECT ? '5' : '4'))
			die("reply class differs from the status", argv[0]);
		return;
	}
	if (rc != SMFIS_CONTINUE)
		die("RCPT status not continue, reject or tempfail", argv[0]);
	if (peer_trusted || auth_at_mail ||
	    local_mailer(smfi_getsymval(&ctx, "{rcpt_mailer}")))
		return;
	/* the address: spaces and tabs around it, one pair of angle
	 * brackets dropped (RFC 5321's path as MTAs hand it over) */
	a = argv[0];
	n = strlen(a);
	while (n > 0 && (*a == ' ' || *a == '\t')) {
		a++;
		n--;
	}
	while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		n--;
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a++;
		n -= 2;
	}
	if (n >= sizeof(addr))
		die("continued: overlong recipient", argv[0]);
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (ruleoracle_routed(addr, n))
		die("continued: sender-specified routing, untrusted", argv[0]);
	if (memchr(addr, '@', n) == NULL && strcasecmp(addr, "postmaster") == 0)
		return;
	r = ruleoracle_nearest(patterns, NRULES, addr, n);
	if (r < 0 || !rules[r].always)
		die("continued: no always rule, untrusted client", argv[0]);
}

static void
session_close(void)
{
	quiet(1);
	desc->xxfi_close(&ctx);
	quiet(0);
	memset(&ctx, 0, sizeof(ctx));
	peer_trusted = auth_at_mail = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static char	 buf[65536 + 1];
	char		*argv[ARGS_MAX];
	unsigned long	 p[4];
	size_t		 off = 0, len;
	const char	*auth;
	int		 cmd;

	while (off + 3 <= size) {
		len = (size_t)in[off] << 8 | in[off + 1];
		cmd = in[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		memcpy(buf, in + off, len);
		buf[len] = '\0';
		off += len;
		switch (cmd) {
		case 'O':
			quiet(1);
			desc->xxfi_negotiate(&ctx, len > 4 ? 0x1ff : 0,
			    len > 8 ? 0x1fffff : 0, 0, 0, &p[0], &p[1], &p[2],
			    &p[3]);
			quiet(0);
			break;
		case 'C':
			connect_cmd(buf, len);
			break;
		case 'D':
			macros(buf, len);
			break;
		case 'M':
			split(buf, len, argv);
			quiet(1);
			desc->xxfi_envfrom(&ctx, argv);
			quiet(0);
			auth = smfi_getsymval(&ctx, "{auth_authen}");
			auth_at_mail = auth != NULL && *auth != '\0';
			break;
		case 'R':
			rcpt_cmd(buf, len);
			break;
		case 'E':
			desc->xxfi_eom(&ctx);
			break;
		case 'A':
			desc->xxfi_abort(&ctx);
			break;
		case 'Q':
			session_close();
			break;
		}
	}
	session_close();
	return 0;
}
