/*
 * mtacheck - what "milter-relay -t" says about the MTA beside it and the
 * directories the daemon writes (interface in mtacheck.c)
 */
#ifndef MR_MTACHECK_H
#define MR_MTACHECK_H

struct config;

/* one finding, a complete sentence without "warning: " */
typedef void mtacheck_say_fn(const char *msg);

int	mtacheck_rules(const struct config *config, mtacheck_say_fn *say);
int	mtacheck_dirs(const struct config *config, mtacheck_say_fn *say);
int	mtacheck_postfix(const struct config *config, mtacheck_say_fn *say);

#endif
