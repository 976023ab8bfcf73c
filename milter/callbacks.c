/*
 * callbacks - the libmilter callbacks of milter-relay
 *
 * See callbacks.h.  One struct session per SMTP connection (milter-regex
 * style context, smfi_setpriv()), created at connect and freed at close.
 * The decision itself is decide() from lib/, on the configuration held
 * for the duration of one RCPT through live_acquire()/live_release().
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "address.h"
#include "config.h"
#include "decide.h"
#include "maps.h"
#include "netaddr.h"
#include "nexthop.h"
#include "reply.h"
#include "routechange.h"

#include "callbacks.h"
#include "live.h"
#include "log.h"
#include "metrics.h"
#include "verify.h"

#define SESSION_ID_MAX	16
#define QID_MAX		64
#define CLIENT_TEXT_MAX	64
#define RCPT_LOG_MAX	600
#define HOST_MAX	300

struct session {
	char		id[SESSION_ID_MAX];
	struct client	client;
	char		client_text[CLIENT_TEXT_MAX];
	char		qid[QID_MAX];
};

static unsigned long session_seed;
static atomic_ulong session_next;

/* Names whose smart host a recent reload changed (routechange.c). */
static struct routechange *route_changes;

void
callbacks_init(void)
{
	unsigned long seed = 0;

	if (route_changes == NULL && (route_changes = routechange_new()) ==
	    NULL)
		log_warning("route check: out of memory; routes changed by a "
		    "reload will be reported as mismatches");

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
	session_seed = seed & 0xffffffffUL;
}

static void
session_new_id(char *buf, size_t len)
{
	unsigned long n;

	n = atomic_fetch_add_explicit(&session_next, 1, memory_order_relaxed);
	snprintf(buf, len, "%08lx", (session_seed + n) & 0xffffffffUL);
}

static void
session_set_qid(struct session *s, SMFICTX *ctx)
{
	const char *i;

	i = smfi_getsymval(ctx, "{i}");
	if (i == NULL)
		i = smfi_getsymval(ctx, "i");
	if (i != NULL && *i != '\0')
		log_quote(i, strlen(i), 0, s->qid, sizeof(s->qid));
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	static const unsigned long nosteps = SMFIP_NOHELO | SMFIP_NOHDRS |
	    SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA;

	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_SETSYMLIST;
	/* libmilter fakes the no-reply flags for MTAs that lack them */
	*pf1 = (f1 & nosteps) | SMFIP_NR_CONN | SMFIP_NR_MAIL;
	*pf2 = 0;
	*pf3 = 0;
	if (*pf0 & SMFIF_SETSYMLIST) {
		if (smfi_setsymlist(ctx, SMFIM_ENVFROM,
		    "{auth_authen} {i}") != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVRCPT,
		    "{i} {rcpt_mailer} {rcpt_host} {rcpt_addr}") != MI_SUCCESS)
			log_warning("cannot request macros; relying on the "
			    "MTA's defaults");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	struct session *s;

	(void)hostname;
	metrics_add(MC_SESSIONS);
	if ((s = smfi_getpriv(ctx)) == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			/* cb_envrcpt tempfails every RCPT without a session */
			log_error("connect: out of memory");
			return SMFIS_NOREPLY;
		}
		if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
			log_error("connect: smfi_setpriv failed");
			free(s);
			return SMFIS_NOREPLY;
		}
	}
	memset(s, 0, sizeof(*s));
	session_new_id(s->id, sizeof(s->id));
	if (hostaddr != NULL && (hostaddr->sa_family == AF_INET ||
	    hostaddr->sa_family == AF_INET6) &&
	    netaddr_from_sockaddr(hostaddr, &s->client.addr) == 0) {
		s->client.has_addr = 1;
		netaddr_format(&s->client.addr, s->client_text,
		    sizeof(s->client_text));
	} else if (hostaddr != NULL && hostaddr->sa_family == AF_UNIX)
		snprintf(s->client_text, sizeof(s->client_text), "local");
	else
		snprintf(s->client_text, sizeof(s->client_text), "unknown");
	return SMFIS_NOREPLY;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s;
	const char *auth;

	(void)argv;
	if ((s = smfi_getpriv(ctx)) == NULL)
		return SMFIS_NOREPLY;
	auth = smfi_getsymval(ctx, "{auth_authen}");
	s->client.authenticated = auth != NULL && *auth != '\0';
	s->qid[0] = '\0';
	session_set_qid(s, ctx);
	return SMFIS_NOREPLY;
}

/*
 * The routing check: 1 when the MTA's next hop for the recipient is not
 * one of the smart hosts of the matched rule (nexthop_route_covers()), 0
 * when it is or cannot be checked (no smart host, macros not sent).
 */
static int
route_differs(SMFICTX *ctx, const struct decision *d, char *want,
    size_t wantlen, char *got, size_t gotlen)
{
	const char *mailer, *rhost;

	if (d->rule == NULL || d->rule->smarthost == NULL)
		return 0;
	rhost = smfi_getsymval(ctx, "{rcpt_host}");
	mailer = smfi_getsymval(ctx, "{rcpt_mailer}");
	if (rhost == NULL || *rhost == '\0')
		return 0;
	if (maps_route(d->rule, MAP_POSTFIX_TRANSPORT, want, wantlen) != 0)
		return 0;
	snprintf(got, gotlen, "%s:%s", mailer != NULL ? mailer : "",
	    rhost);
	return !nexthop_route_covers(d->rule->smarthost, mailer, rhost);
}

/* A log line built by copying strings, cut at LOG_LINE_MAX - 1 octets. */
struct line {
	char	 buf[LOG_LINE_MAX];
	size_t	 len;
};

static void
line_add1(struct line *l, const char *s)
{
	size_t	 n;

	n = strlen(s);
	if (n > sizeof(l->buf) - 1 - l->len)
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void
line_add(struct line *l, const char *a, const char *b)
{
	line_add1(l, a);
	line_add1(l, b);
}

static void
decision_log(const struct session *s, const char *rcpt,
    const struct decision *d)
{
	char	 r[RCPT_LOG_MAX], reply[REPLY_MAX + 32];
	char	 q[REPLY_MAX + 64], qreply[REPLY_MAX + 80];
	char	 enforced[40];
	struct line line;

	log_quote(rcpt, strlen(rcpt), 0, r, sizeof(r));
	qreply[0] = '\0';
	if (d->outcome == OUTCOME_REJECT || d->outcome == OUTCOME_TEMPFAIL) {
		snprintf(reply, sizeof(reply), "%s %s %s", d->rcode,
		    d->xcode, d->text);
		log_quote(reply, strlen(reply), 1, q, sizeof(q));
		snprintf(qreply, sizeof(qreply), " reply=\"%s\"", q);
	} else if (d->enforced != d->outcome && d->rcode[0] != '\0') {
		/* log-only: what enforcing would have answered */
		snprintf(reply, sizeof(reply), "%s %s %s", d->rcode,
		    d->xcode, d->text);
		log_quote(reply, strlen(reply), 1, q, sizeof(q));
		snprintf(qreply, sizeof(qreply), " reply=\"%s\"", q);
	}
	enforced[0] = '\0';
	if (d->enforced != d->outcome)
		snprintf(enforced, sizeof(enforced), " enforced=%s",
		    decision_outcome_name(d->enforced));
	/* one line a decision, made with copies: no printf pass (bench) */
	line.len = 0;
	line_add(&line, "session=", s != NULL ? s->id : "-");
	line_add(&line, " qid=",
	    s != NULL && s->qid[0] != '\0' ? s->qid : "-");
	line_add(&line, " client=", s != NULL ? s->client_text : "unknown");
	line_add(&line, " rcpt=", r);
	line_add(&line, " rule=", d->pattern[0] != '\0' ? d->pattern : "-");
	line_add(&line, " outcome=", decision_outcome_name(d->outcome));
	line_add(&line, enforced, " trusted=");
	line_add(&line, d->trusted ? "yes" : "no", " reason=\"");
	line_add(&line, decision_reason(d), "\"");
	line_add(&line, qreply, "");
	log_line(LOG_INFO, line.buf, line.len);
}

/* route_now - seconds of the monotonic clock */
static time_t
route_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* callbacks_reloaded - note the names whose route the reload changed */
void
callbacks_reloaded(const struct config *old, const struct config *new)
{
	long	n;

	if (route_changes == NULL || new->policy.route_check ==
	    ROUTE_CHECK_OFF)
		return;
	n = routechange_note(route_changes, old, new, route_now());
	if (n == -1)
		log_warning("route check: out of memory noting changed "
		    "routes; they may be reported as mismatches");
	else if (n > 0)
		log_info("route check: %ld names changed smart host; for %d "
		    "s the MTA may still route them the old way (\"route "
		    "being updated\")", n, ROUTECHANGE_WINDOW);
}

static void
route_check(SMFICTX *ctx, const struct session *s, const char *rcpt,
    const struct config *config, struct decision *d)
{
	char	 want[MAPS_ANSWER_MAX], got[HOST_MAX * 2], r[RCPT_LOG_MAX];
	char	 qgot[HOST_MAX * 8];
	long	 age;

	if (config == NULL || config->policy.route_check == ROUTE_CHECK_OFF)
		return;
	if (d->enforced != OUTCOME_ACCEPT && d->enforced != OUTCOME_CONTINUE)
		return;
	if (!route_differs(ctx, d, want, sizeof(want), got, sizeof(got)))
		return;
	/* {rcpt_mailer} and {rcpt_host} are the MTA's: quoted, as rcpt */
	log_quote(rcpt, strlen(rcpt), 0, r, sizeof(r));
	log_quote(got, strlen(got), 1, qgot, sizeof(qgot));
	age = route_changes == NULL ? -1 : routechange_old_route(route_changes,
	    d->domain, smfi_getsymval(ctx, "{rcpt_mailer}"),
	    smfi_getsymval(ctx, "{rcpt_host}"), route_now());
	if (age >= 0 && age < ROUTECHANGE_WINDOW) {
		/* mail may still go the old way: enforce holds it */
		log_info("session=%s rcpt=%s rule=%s route being updated: the "
		    "rule says %s, the MTA still chose the old \"%s\" (changed "
		    "%ld s ago)%s", s->id, r, d->pattern, want, qgot, age,
		    config->policy.route_check == ROUTE_CHECK_ENFORCE ?
		    "; deferring the recipient" : "");
		if (config->policy.route_check == ROUTE_CHECK_ENFORCE)
			decision_defer(config, d, REPLY_ROUTE_PENDING,
			    DECIDE_REASON_ROUTE_MISMATCH, rcpt, strlen(rcpt));
		return;
	}
	if (age >= 0) {
		/* smtpd's own cache; the queue manager resolves anew */
		log_info("session=%s rcpt=%s rule=%s old route cached by the "
		    "MTA: the rule says %s, smtpd still names \"%s\" (changed "
		    "%ld s ago); delivery takes the new one", s->id, r,
		    d->pattern, want, qgot, age);
		return;
	}
	metrics_add(MC_ROUTE_MISMATCH);
	log_warning("session=%s rcpt=%s rule=%s route mismatch: the rule "
	    "says %s, the MTA chose \"%s\"%s", s->id, r, d->pattern, want, qgot,
	    config->policy.route_check == ROUTE_CHECK_ENFORCE ?
	    "; deferring the recipient" : "");
	if (config->policy.route_check != ROUTE_CHECK_ENFORCE)
		return;
	decision_defer(config, d, REPLY_ROUTE_MISMATCH,
	    DECIDE_REASON_ROUTE_MISMATCH, rcpt, strlen(rcpt));
}

static sfsistat
reply_send(SMFICTX *ctx, struct decision *d)
{
	struct decision fail;
	char	 text[REPLY_MAX * 2 + 1], q[REPLY_MAX * 4 + 1];

	switch (d->outcome) {
	case OUTCOME_ACCEPT:
	case OUTCOME_CONTINUE:
		/* never SMFIS_ACCEPT: later recipients still need checking */
		return SMFIS_CONTINUE;
	case OUTCOME_REJECT:
	case OUTCOME_TEMPFAIL:
		break;
	}
	reply_escape(d->text, text, sizeof(text));
	if (smfi_setreply(ctx, d->rcode, d->xcode, text) != MI_SUCCESS) {
		metrics_add(MC_FAILURES);
		/* the text may hold the recipient: quoted */
		log_quote(d->text, strlen(d->text), 1, q, sizeof(q));
		log_error("smfi_setreply(%s %s \"%s\") failed; deferring",
		    d->rcode, d->xcode, q);
		decision_fail(&fail, DECIDE_REASON_CANNOT);
		(void)smfi_setreply(ctx, fail.rcode, fail.xcode, fail.text);
		return SMFIS_TEMPFAIL;
	}
	return d->outcome == OUTCOME_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s;
	const struct config *config;
	struct decision d;
	const char *rcpt;
	sfsistat ret;
	uint64_t start;

	start = metrics_now();
	rcpt = argv != NULL && argv[0] != NULL ? argv[0] : "";
	if ((s = smfi_getpriv(ctx)) == NULL) {
		metrics_add(MC_FAILURES);
		decision_fail(&d, DECIDE_REASON_NO_SESSION);
		decision_log(NULL, rcpt, &d);
		ret = reply_send(ctx, &d);
		metrics_decision(&d, start);
		return ret;
	}
	session_set_qid(s, ctx);
	config = live_acquire();
	if (config == NULL) {
		metrics_add(MC_FAILURES);
		decision_fail(&d, DECIDE_REASON_NOT_LOADED);
	} else {
		decide_rcpt(config, &s->client, rcpt, strlen(rcpt),
		    smfi_getsymval(ctx, "{rcpt_mailer}"), &d);
		if (d.reason == DECIDE_REASON_FINAL)
			metrics_add(MC_FINAL_DELIVERY);
		if (d.verify)
			verify_recipient(config, &s->client, rcpt, &d);
		route_check(ctx, s, rcpt, config, &d);
	}
	decision_log(s, rcpt, &d);
	ret = reply_send(ctx, &d);
	live_release(config);
	metrics_decision(&d, start);
	return ret;
}

/* End of message or abort: the transaction, and its queue id, are over. */
static sfsistat
cb_reset(SMFICTX *ctx)
{
	struct session *s;

	if ((s = smfi_getpriv(ctx)) != NULL)
		s->qid[0] = '\0';
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct session *s;

	if ((s = smfi_getpriv(ctx)) != NULL) {
		(void)smfi_setpriv(ctx, NULL);
		free(s);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc callbacks_filter = {
	.xxfi_name = "milter-relay",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_NONE,
	.xxfi_connect = cb_connect,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_eom = cb_reset,
	.xxfi_abort = cb_reset,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

struct smfiDesc *
callbacks_desc(void)
{
	return &callbacks_filter;
}

/* callbacks_log_counters - the SIGUSR1 line, a view of metrics.c */
void
callbacks_log_counters(void)
{
	unsigned long long o[4], rcpts = 0;
	int	 i;

	for (i = 0; i < 4; i++)
		rcpts += o[i] = metrics_decisions(i);
	log_info("counters: sessions=%llu rcpts=%llu accept=%llu reject=%llu "
	    "tempfail=%llu continue=%llu final_delivery=%llu "
	    "route_mismatch=%llu failures=%llu",
	    (unsigned long long)metrics_get(MC_SESSIONS), rcpts,
	    o[OUTCOME_ACCEPT], o[OUTCOME_REJECT], o[OUTCOME_TEMPFAIL],
	    o[OUTCOME_CONTINUE],
	    (unsigned long long)metrics_get(MC_FINAL_DELIVERY),
	    (unsigned long long)metrics_get(MC_ROUTE_MISMATCH),
	    (unsigned long long)metrics_get(MC_FAILURES));
	verify_log_counters();
}
