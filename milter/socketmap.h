/*
 * socketmap - the socketmap server of the daemon (Postfix socketmap:,
 * Sendmail K... socket maps), answering from the live configuration
 *
 * socketmap_open() parses "inet:PORT@HOST", "inet6:PORT@HOST" or
 * "unix:/path" and returns a listening socket, before privileges are
 * dropped; -1 with a message in err.  socketmap_start() serves it from
 * threads of its own (every answer through maps_answer() on the config
 * of live_acquire()); 0 or -1 with err.  socketmap_stop() stops serving,
 * closes every connection and the listening socket (a unix socket file
 * is the daemon's to remove: the supervisor outlives the worker).
 * socketmap_log_counters() logs request counters (SIGUSR1).
 */
#ifndef MR_SOCKETMAP_H
#define MR_SOCKETMAP_H

#include <stddef.h>

int	socketmap_open(const char *spec, char *err, size_t errlen);
int	socketmap_start(int fd, char *err, size_t errlen);
void	socketmap_stop(void);
void	socketmap_log_counters(void);

#endif
