/*
 * tablefmt - the names of the MTA table formats (interface in tablefmt.c)
 */
#ifndef MR_TABLEFMT_H
#define MR_TABLEFMT_H

enum tablefmt {
	TABLEFMT_POSTFIX_TRANSPORT,
	TABLEFMT_POSTFIX_RELAY_DOMAINS,
	TABLEFMT_SENDMAIL_MAILERTABLE,
	TABLEFMT_SENDMAIL_ACCESS,
	TABLEFMT_POSTFIX_TLS_POLICY,	/* export only */
	TABLEFMT_POSTFIX_ACCESS,	/* export only */
	TABLEFMT_POSTFIX_SASL_PASSWD,	/* export only, never a socketmap */
	TABLEFMT_SENDMAIL_AUTHINFO	/* export only, never a socketmap */
};

int	tablefmt_parse(const char *name, enum tablefmt *out);
const char *tablefmt_name(enum tablefmt format);

#endif
