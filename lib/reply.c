/*
 * reply - the SMTP replies of milter-relay
 *
 * NAME
 *	reply - status codes, enhanced status codes and texts, in one place
 * SYNOPSIS
 *	#include "reply.h"
 *
 *	void reply_set(struct decision *d, enum reply_kind kind,
 *	    const char *rcpt, size_t len);
 *	void reply_rule(struct decision *d, const char *reply);
 *	void reply_custom(struct decision *d, const char *reply,
 *	    const char *rcpt, size_t len);
 *	void reply_clear(struct decision *d);
 *	int reply_valid(const char *text, const char **why);
 *	void reply_format(enum reply_kind kind, char *out, size_t outlen);
 *	void reply_escape(const char *in, char *out, size_t outlen);
 * DESCRIPTION
 *	reply_set() writes the reply of kind into d->rcode, d->xcode and
 *	d->text (it leaves the outcome alone):
 *
 *	REPLY_SYNTAX		501 5.1.3 Bad recipient address syntax
 *	REPLY_ROUTING		554 5.7.1 <ADDR>: Sender-specified routing is
 *				not allowed
 *	REPLY_DENIED		554 5.7.1 <ADDR>: Relay access denied
 *	REPLY_DENIED_LATER	451 4.7.1 <ADDR>: Relay access temporarily
 *				denied, try again later
 *	REPLY_UNAVAILABLE	451 4.7.1 Relay decision unavailable, try
 *				again later
 *	REPLY_ROUTE_MISMATCH	451 4.7.1 <ADDR>: Relay route mismatch, try
 *				again later
 *	REPLY_UNKNOWN_USER	550 5.1.1 <ADDR>: Recipient address rejected:
 *				User unknown
 *	REPLY_UNVERIFIED	450 4.1.1 <ADDR>: Recipient address rejected:
 *				unverified address, try again later
 *	REPLY_ROUTE_PENDING	451 4.7.1 Relay route being updated, try
 *				again later (static mode's access table:
 *				Postfix puts the recipient before it)
 *	REPLY_UNKNOWN_USER_TABLE 550 5.1.1 User unknown (static mode's
 *				access table: Postfix puts "<ADDR>:
 *				Recipient address rejected:" before it,
 *				as REPLY_UNKNOWN_USER reads)
 *
 *	ADDR is rcpt[0..len) as the client gave it, without the spaces and
 *	angle brackets around it, cut at REPLY_ADDR_MAX octets, with every
 *	octet that is not printable ASCII, and '%' (a format character to
 *	libmilter), shown as '?'; a reply without ADDR ignores rcpt.  So
 *	d->text is always printable ASCII without '%'.
 *
 *	reply_rule() writes a deny rule's own reply, "ddd x.y.z text" that
 *	reply_valid() accepted at load.  reply_custom() does the same for a
 *	configured reply that stands for a kind with ADDR
 *	(verify.unknown_reply): "ddd x.y.z <ADDR>: text".  reply_clear()
 *	empties the three.
 *
 *	reply_valid() accepts "ddd x.y.z text": ddd is 4xx or 5xx (second
 *	digit 0-5), the enhanced status class x equals the first digit, y
 *	and z have 1 to 3 digits; text is optional, printable ASCII
 *	without '%'; REPLY_MAX octets at most.  0, or -1 with *why set to
 *	a static string.
 *
 *	reply_format() writes the reply of kind as "ddd x.y.z text",
 *	without ADDR: an access table value, to which Postfix adds the
 *	recipient itself.
 *
 *	reply_escape() copies a reply text for smfi_setreply(), which
 *	reads its text as a format: every '%' doubled, cut to fit outlen.
 */
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "reply.h"
#include "strutil.h"

#define RCODE_SYNTAX	"501"
#define XCODE_SYNTAX	"5.1.3"
#define RCODE_DENIED	"554"
#define XCODE_DENIED	"5.7.1"
#define RCODE_TEMPFAIL	"451"
#define XCODE_TEMPFAIL	"4.7.1"
#define RCODE_NO_USER	"550"
#define XCODE_NO_USER	"5.1.1"
#define RCODE_UNVERIFIED "450"
#define XCODE_UNVERIFIED "4.1.1"

#define REPLY_ADDR_MAX	256

static const struct {
	const char	*rcode;
	const char	*xcode;
	int		 addr;		/* "<ADDR>: " before the text */
	const char	*text;
} replies[] = {
	[REPLY_SYNTAX] = { RCODE_SYNTAX, XCODE_SYNTAX, 0,
	    "Bad recipient address syntax" },
	[REPLY_ROUTING] = { RCODE_DENIED, XCODE_DENIED, 1,
	    "Sender-specified routing is not allowed" },
	[REPLY_DENIED] = { RCODE_DENIED, XCODE_DENIED, 1,
	    "Relay access denied" },
	[REPLY_DENIED_LATER] = { RCODE_TEMPFAIL, XCODE_TEMPFAIL, 1,
	    "Relay access temporarily denied, try again later" },
	[REPLY_UNAVAILABLE] = { RCODE_TEMPFAIL, XCODE_TEMPFAIL, 0,
	    "Relay decision unavailable, try again later" },
	[REPLY_ROUTE_MISMATCH] = { RCODE_TEMPFAIL, XCODE_TEMPFAIL, 1,
	    "Relay route mismatch, try again later" },
	[REPLY_UNKNOWN_USER] = { RCODE_NO_USER, XCODE_NO_USER, 1,
	    "Recipient address rejected: User unknown" },
	[REPLY_UNVERIFIED] = { RCODE_UNVERIFIED, XCODE_UNVERIFIED, 1,
	    "Recipient address rejected: unverified address, try again "
	    "later" },
	[REPLY_ROUTE_PENDING] = { RCODE_TEMPFAIL, XCODE_TEMPFAIL, 0,
	    "Relay route being updated, try again later" },
	[REPLY_UNKNOWN_USER_TABLE] = { RCODE_NO_USER, XCODE_NO_USER, 0,
	    "User unknown" },
};

static void	reply_show(const char *rcpt, size_t len, char *out,
		    size_t outlen);
static int	reply_digits(const char *s, size_t min, size_t max,
		    size_t *n);

/* reply_set - the reply of one kind, see above */
void
reply_set(struct decision *d, enum reply_kind kind, const char *rcpt,
    size_t len)
{
	char	show[REPLY_ADDR_MAX + 1];
	size_t	at;

	/* copies, not snprintf(): every decision that refuses comes here */
	if ((size_t)kind >= sizeof(replies) / sizeof(replies[0]))
		kind = REPLY_UNAVAILABLE;
	at = 0;
	str_append(d->rcode, sizeof(d->rcode), &at, replies[kind].rcode);
	at = 0;
	str_append(d->xcode, sizeof(d->xcode), &at, replies[kind].xcode);
	at = 0;
	if (replies[kind].addr && rcpt != NULL) {
		reply_show(rcpt, len, show, sizeof(show));
		str_append(d->text, sizeof(d->text), &at, "<");
		str_append(d->text, sizeof(d->text), &at, show);
		str_append(d->text, sizeof(d->text), &at, ">: ");
	}
	str_append(d->text, sizeof(d->text), &at, replies[kind].text);
}

/* reply_rule - a deny rule's own reply, checked at load */
void
reply_rule(struct decision *d, const char *reply)
{
	const char	*sp;
	size_t		 n;

	memcpy(d->rcode, reply, 3);
	d->rcode[3] = '\0';
	reply += 4;
	sp = strchr(reply, ' ');
	n = sp == NULL ? strlen(reply) : (size_t)(sp - reply);
	if (n >= sizeof(d->xcode))
		n = sizeof(d->xcode) - 1;
	memcpy(d->xcode, reply, n);
	d->xcode[n] = '\0';
	snprintf(d->text, sizeof(d->text), "%s", sp == NULL ? "" : sp + 1);
}

/* reply_custom - a configured reply with ADDR, checked at load */
void
reply_custom(struct decision *d, const char *reply, const char *rcpt,
    size_t len)
{
	char	show[REPLY_ADDR_MAX + 1], text[REPLY_MAX + 1];
	size_t	n, t;

	reply_rule(d, reply);
	memcpy(text, d->text, sizeof(text));
	reply_show(rcpt, len, show, sizeof(show));
	n = (size_t)snprintf(d->text, sizeof(d->text), "<%s>: ", show);
	if (n >= sizeof(d->text))
		return;
	t = strlen(text);
	if (t > sizeof(d->text) - 1 - n)
		t = sizeof(d->text) - 1 - n;
	memcpy(d->text + n, text, t);
	d->text[n + t] = '\0';
}

/* reply_format - "ddd x.y.z text" of a kind, without ADDR */
void
reply_format(enum reply_kind kind, char *out, size_t outlen)
{
	if ((size_t)kind >= sizeof(replies) / sizeof(replies[0]))
		kind = REPLY_UNAVAILABLE;
	snprintf(out, outlen, "%s %s %s", replies[kind].rcode,
	    replies[kind].xcode, replies[kind].text);
}

/* reply_clear - no reply (accept, continue) */
void
reply_clear(struct decision *d)
{
	d->rcode[0] = d->xcode[0] = d->text[0] = '\0';
}

/* reply_show - the recipient as shown in replies, see above */
static void
reply_show(const char *rcpt, size_t len, char *out, size_t outlen)
{
	size_t	i, n;
	int	c;

	while (len > 0 && (*rcpt == ' ' || *rcpt == '\t')) {
		rcpt++;
		len--;
	}
	while (len > 0 && (rcpt[len - 1] == ' ' || rcpt[len - 1] == '\t'))
		len--;
	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>') {
		rcpt++;
		len -= 2;
	}
	if (len > REPLY_ADDR_MAX)
		len = REPLY_ADDR_MAX;
	for (i = n = 0; i < len && n + 1 < outlen; i++) {
		c = (unsigned char)rcpt[i];
		out[n++] = c > 0x20 && c < 0x7f && c != '%' ? (char)c : '?';
	}
	if (outlen > 0)
		out[n] = '\0';
}

/* reply_digits - min to max decimal digits at s; their count in *n */
static int
reply_digits(const char *s, size_t min, size_t max, size_t *n)
{
	size_t	i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
		;
	*n = i;
	return i >= min && i <= max;
}

/* reply_valid - check a rule's reply, see above */
int
reply_valid(const char *text, const char **why)
{
	const char	*p;
	size_t		 n;

	if (strlen(text) > REPLY_MAX) {
		*why = "reply too long";
		return -1;
	}
	if (!reply_digits(text, 3, 3, &n) ||
	    (text[0] != '4' && text[0] != '5') || text[1] > '5' ||
	    text[3] != ' ') {
		*why = "reply must start with a 4xx or 5xx code and a space";
		return -1;
	}
	p = text + 4;
	if (p[0] != text[0] || p[1] != '.' ||
	    !reply_digits(p + 2, 1, 3, &n) || p[2 + n] != '.') {
		*why = "reply needs an enhanced status code of the same class "
		    "(e.g. 550 5.7.1)";
		return -1;
	}
	p += 2 + n + 1;
	if (!reply_digits(p, 1, 3, &n) || (p[n] != '\0' && p[n] != ' ')) {
		*why = "reply needs an enhanced status code of the same class "
		    "(e.g. 550 5.7.1)";
		return -1;
	}
	for (p += n; *p != '\0'; p++) {
		if (*p == '%') {
			*why = "'%' is not allowed in a reply";
			return -1;
		}
		if (*p < 0x20 || *p > 0x7e) {
			*why = "reply must be printable ASCII on one line";
			return -1;
		}
	}
	return 0;
}

/* reply_escape - a reply text for smfi_setreply(): '%' doubled */
void
reply_escape(const char *in, char *out, size_t outlen)
{
	size_t	 o = 0;

	if (outlen == 0)
		return;
	for (; *in != '\0' && o + 2 < outlen; in++) {
		if (*in == '%')
			out[o++] = '%';
		out[o++] = *in;
	}
	out[o] = '\0';
}
