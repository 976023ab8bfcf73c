/*
 * mt_load - load mode of milter-test
 *
 *	mt_load_defaults(opts)
 *		fills in the defaults: 4 connections, 1000 recipients, 5
 *		recipients a message, 1 message a session, client 203.0.113.1,
 *		600 s at most, recipients rcptN@example.com.
 *	mt_load_run(opts)
 *		one thread per connection, each running full milter sessions
 *		(negotiate, connect, then per message: mail, rcpt..., eom, or
 *		abort when no recipient was accepted or when a RCPT got
 *		accept or discard, which decides the message: its later
 *		recipients are counted "unsent"; quit) until RECIPIENTS
 *		RCPT events were sent or DURATION_MAX passed.  Prints
 *		recipients/s, messages/s, RCPT latency p50/p99/max (in
 *		microseconds) and the count of each RCPT outcome, then the
 *		same as one key=value line (or JSON with opts->json).
 *		MACROS add macros to a stage: "connect:", "mail:" or
 *		"rcpt:" then NAME=VALUE, e.g. "rcpt:{rcpt_host}=[10.1.2.3]".
 *		Returns 0; 1 when EXPECT was given and a RCPT reply did not
 *		meet it, or a connect/mail/eom reply was not continue or
 *		accept, or a session failed (timeout, protocol error); 2 for
 *		bad options or when no connection could be made.
 */
#ifndef MT_LOAD_H
#define MT_LOAD_H

struct mt_load_opts {
	const char	*socket;
	int		 timeout_ms;
	int		 connections;
	long		 recipients;
	int		 per_message;
	int		 per_session;
	const char	*rcpt_file;
	const char	*client;
	const char	*auth;
	const char	*expect;
	double		 duration_max;
	int		 json;
	const char	*macros[16];	/* --macro STAGE:NAME=VALUE */
	int		 nmacros;
};

extern void mt_load_defaults(struct mt_load_opts *);
extern int mt_load_run(const struct mt_load_opts *);

#endif
