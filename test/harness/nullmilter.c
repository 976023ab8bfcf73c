/*
 * nullmilter - a libmilter filter that lets everything through
 *
 *	nullmilter -p SOCKET [-f] [-b BACKLOG] [-A] [-T]
 *
 * The baseline for benchmarks: it negotiates like milter-relay does (the
 * connect, MAIL and RCPT stages only; no HELO, DATA, headers, EOH, body or
 * unknown commands; no reply to connect and MAIL where the MTA offers
 * SMFIP_NR_CONN / SMFIP_NR_MAIL; the same macro lists by smfi_setsymlist)
 * and answers every RCPT and end of message with SMFIS_CONTINUE, which
 * libmilter sends as SMFIR_CONTINUE.  No other action is requested.  -f
 * stays in the foreground, otherwise it detaches.  SIGTERM/SIGINT stop it
 * (libmilter's signal thread) and the socket file is removed.  Exit
 * status from sysexits.h.
 *
 * Two switches make it the test filter of milter-test's own tests; the
 * benchmark baseline uses neither:
 *	-A	ask for every stage, with a reply to each (no skip, no
 *		no-reply flags, no macro lists), so that HELO, DATA, headers,
 *		EOH and body are exercised too.
 *	-T	reply at RCPT according to the local part of the address:
 *		accept, reject, tempfail, discard: that reply;
 *		code-CCC-X.Y.Z: smfi_setreply(CCC, X.Y.Z, "nullmilter
 *		refuses <addr>") with reject or tempfail by CCC;
 *		macro-NAME: reject with 550 5.7.1 "NAME=VALUE" (or "NAME
 *		unset") from smfi_getsymval("{NAME}");
 *		mod: continue, and at end of message add a header
 *		"X-Nullmilter: modified" and accept; sleep: wait 10 s, then
 *		continue; anything else: continue.  It asks, by
 *		smfi_setsymlist, for only "{rcpt_addr} {auth_authen}
 *		{rcpt_host}" at RCPT and only "{mail_addr}" at MAIL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define NULL_WANT_NO	(SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOHDRS | \
			 SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN)
#define NULL_WANT_NR	(SMFIP_NR_CONN | SMFIP_NR_MAIL)
#define NULL_MOD	0x40000000UL	/* private: add a header at EOM */
/* the macros milter-relay asks for (milter/callbacks.c), same traffic */
#define NULL_MAIL_MACROS	"{auth_authen} {i}"
#define NULL_RCPT_MACROS	"{i} {rcpt_mailer} {rcpt_host} {rcpt_addr}"


static int	all_stages;		/* -A */
static int	test_replies;		/* -T */

/*
 * The negotiated flags live in the per-connection private pointer, as an
 * integer: nothing to allocate or free.
 */
static unsigned long
null_flags(SMFICTX *ctx)
{
	return (unsigned long)(uintptr_t)smfi_getpriv(ctx);
}

static int
set_symlists(SMFICTX *ctx, unsigned long actions, const char *mail,
    const char *rcpt)
{
	if ((actions & SMFIF_SETSYMLIST) == 0)
		return 0;
	if (smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)mail) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)rcpt) != MI_SUCCESS)
		return -1;
	return 0;
}

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long	want;

	(void)f2;
	(void)f3;
	want = all_stages ? 0 : (NULL_WANT_NO | NULL_WANT_NR) & f1;
	*pf0 = 0;
	if (all_stages)
		;	/* no macro lists: the MTA sends its defaults */
	else if (test_replies) {
		*pf0 = (SMFIF_ADDHDRS | SMFIF_SETSYMLIST) & f0;
		if (set_symlists(ctx, *pf0, "{mail_addr}",
		    "{rcpt_addr} {auth_authen} {rcpt_host}") < 0)
			return SMFIS_REJECT;
	} else {
		*pf0 = SMFIF_SETSYMLIST & f0;
		if (set_symlists(ctx, *pf0, NULL_MAIL_MACROS,
		    NULL_RCPT_MACROS) < 0)
			return SMFIS_REJECT;
	}
	*pf1 = want;
	*pf2 = 0;
	*pf3 = 0;
	smfi_setpriv(ctx, (void *)(uintptr_t)want);
	return SMFIS_CONTINUE;
}

static sfsistat
null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return (null_flags(ctx) & SMFIP_NR_CONN) ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

static sfsistat
null_envfrom(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return (null_flags(ctx) & SMFIP_NR_MAIL) ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

/* -T: reply with what the local part says (see the top of the file). */
static sfsistat
test_rcpt(SMFICTX *ctx, const char *addr)
{
	char		 local[128], name[140], text[400];
	const char	*v, *lp;
	size_t		 len;

	lp = addr + (*addr == '<');
	len = strcspn(lp, "@>");
	if (len >= sizeof(local))
		return SMFIS_CONTINUE;
	memcpy(local, lp, len);
	local[len] = '\0';
	if (strcmp(local, "accept") == 0)
		return SMFIS_ACCEPT;
	if (strcmp(local, "reject") == 0)
		return SMFIS_REJECT;
	if (strcmp(local, "tempfail") == 0)
		return SMFIS_TEMPFAIL;
	if (strcmp(local, "discard") == 0)
		return SMFIS_DISCARD;
	if (strcmp(local, "sleep") == 0) {
		sleep(10);
		return SMFIS_CONTINUE;
	}
	if (strcmp(local, "mod") == 0) {
		smfi_setpriv(ctx, (void *)(uintptr_t)(null_flags(ctx) |
		    NULL_MOD));
		return SMFIS_CONTINUE;
	}
	if (strncmp(local, "code-", 5) == 0 && len > 9 && local[8] == '-') {
		local[8] = '\0';
		snprintf(text, sizeof(text), "nullmilter refuses %s", addr);
		if (smfi_setreply(ctx, local + 5, local + 9, text) !=
		    MI_SUCCESS)
			return SMFIS_TEMPFAIL;
		return local[5] == '4' ? SMFIS_TEMPFAIL : SMFIS_REJECT;
	}
	if (strncmp(local, "macro-", 6) == 0) {
		snprintf(name, sizeof(name), "{%s}", local + 6);
		if ((v = smfi_getsymval(ctx, name)) != NULL)
			snprintf(text, sizeof(text), "%s=%s", local + 6, v);
		else
			snprintf(text, sizeof(text), "%s unset", local + 6);
		smfi_setreply(ctx, "550", "5.7.1", text);
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
null_envrcpt(SMFICTX *ctx, char **argv)
{
	if (test_replies && argv[0] != NULL)
		return test_rcpt(ctx, argv[0]);
	return SMFIS_CONTINUE;
}

static void
clear_mod(SMFICTX *ctx)
{
	smfi_setpriv(ctx, (void *)(uintptr_t)(null_flags(ctx) & ~NULL_MOD));
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	if ((null_flags(ctx) & NULL_MOD) == 0)
		return SMFIS_CONTINUE;
	clear_mod(ctx);
	if (smfi_addheader(ctx, "X-Nullmilter", "modified") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_ACCEPT;
}

static sfsistat
null_abort(SMFICTX *ctx)
{
	clear_mod(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat
null_close(SMFICTX *ctx)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_desc = {
	"nullmilter",		/* name */
	SMFI_VERSION,		/* version */
	SMFIF_ADDHDRS | SMFIF_SETSYMLIST,	/* what -T may use */
	null_connect,		/* connect */
	NULL,			/* helo */
	null_envfrom,		/* envfrom */
	null_envrcpt,		/* envrcpt */
	NULL,			/* header */
	NULL,			/* eoh */
	NULL,			/* body */
	null_eom,		/* eom */
	null_abort,		/* abort */
	null_close,		/* close */
	NULL,			/* unknown */
	NULL,			/* data */
	null_negotiate		/* negotiate */
};

static void
usage(void)
{
	fprintf(stderr, "usage: nullmilter -p SOCKET [-f] [-b BACKLOG] "
	    "[-A] [-T]\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	const char	*sock = NULL;
	int		 ch, fg = 0, backlog = 256;

	while ((ch = getopt(argc, argv, "Ab:fp:T")) != -1) {
		switch (ch) {
		case 'A':
			all_stages = 1;
			break;
		case 'T':
			test_replies = 1;
			break;
		case 'b':
			backlog = atoi(optarg);
			if (backlog < 1)
				usage();
			break;
		case 'f':
			fg = 1;
			break;
		case 'p':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	if (sock == NULL || optind != argc)
		usage();
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_setbacklog(backlog) == MI_FAILURE ||
	    smfi_register(null_desc) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot set up %s\n", sock);
		return EX_SOFTWARE;
	}
	/* remove a stale socket file, then bind now to report errors */
	if (smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot open %s\n", sock);
		return EX_UNAVAILABLE;
	}
	if (!fg && daemon(0, 0) < 0) {
		perror("nullmilter: daemon");
		return EX_OSERR;
	}
	return smfi_main() == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}
