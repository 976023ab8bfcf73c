/*
 * metrics - the daemon's counters, shared by the supervisor and the worker
 *
 * See metrics.c for the interface: metrics_init(), the counting calls
 * (metrics_add(), metrics_decision(), metrics_socketmap(), ...), the
 * state calls (metrics_loaded(), metrics_serving(), ...) and the views
 * (metrics_get(), metrics_format()).
 */
#ifndef MR_METRICS_H
#define MR_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct decision;

enum metrics_counter {
	MC_SESSIONS,		/* milter connections */
	MC_RCPTS,		/* RCPT callbacks */
	MC_ROUTE_MISMATCH,	/* MTA next hop differs from the rule's */
	MC_FAILURES,		/* no session, no configuration, no reply */
	MC_SM_CONNECTIONS,	/* socketmap connections accepted */
	MC_SM_REFUSED,		/* over the connection limit */
	MC_SM_MALFORMED,	/* bad netstrings: connection closed */
	MC_SM_IDLE_CLOSED,
	MC_SM_SLOW_CLOSED,	/* a request not whole within its deadline */
	MC_SM_EVICTED,		/* slot taken over by a new client */
	MC_WORKER_RESTARTS,
	MC_RELOAD_REQUESTS,	/* SIGHUPs the supervisor received */
	MC_VERIFY_HITS,		/* recipient verification cache */
	MC_VERIFY_MISSES,
	MC_VERIFY_PROBES,	/* callouts made */
	MC_FINAL_DELIVERY,	/* left to the MTA's own mailers */
	MC_VERIFY_VALID,	/* RCPTs verified: valid, invalid, unknown */
	MC_VERIFY_INVALID,
	MC_VERIFY_UNKNOWN,
	MC_VERIFY_BUSY,		/* refused: too many callouts at once */
	MC_STATIC_OK,		/* static mode: tables written or current */
	MC_STATIC_REFUSED,	/* rule set the tables cannot express */
	MC_STATIC_FAILED,	/* tables not written: an I/O error */
	MC_STATIC_INPLACE,	/* static mode: keys updated in place */
	MC_CREDENTIALS_REFUSED,	/* loads refused for an auth_file */
	MC_COUNT
};

uint64_t metrics_now(void);
int	metrics_init(void);
void	metrics_add(enum metrics_counter c);
uint64_t metrics_get(enum metrics_counter c);
uint64_t metrics_decisions(int outcome);
uint64_t metrics_socketmap_answers(int answer);
void	metrics_decision(const struct decision *d, uint64_t start);
void	metrics_socketmap(int map, int status, uint64_t start);
void	metrics_loaded(const struct config *config, int reload);
void	metrics_reload_failed(void);
void	metrics_serving(int serving);
int	metrics_healthy(void);
void	metrics_static_stale(int stale);
const char *metrics_unhealthy(void);
int	metrics_format(FILE *fp);

#endif
