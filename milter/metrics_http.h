/*
 * metrics_http - the HTTP endpoint of the metrics (libmicrohttpd)
 *
 * See metrics_http.c.
 */
#ifndef MR_METRICS_HTTP_H
#define MR_METRICS_HTTP_H

#include <stddef.h>

int	metrics_http_open(const char *spec, char *err, size_t errlen);
int	metrics_http_start(int fd, char *err, size_t errlen);
int	metrics_http_fd(void);
int	metrics_http_timeout(int max_ms);
void	metrics_http_run(void);
void	metrics_http_forget(void);
void	metrics_http_stop(void);

#endif
