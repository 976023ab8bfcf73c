/*
 * live - the configuration in force, swapped atomically on reload
 *
 * The daemon holds one immutable struct config at a time.  Readers (milter
 * callbacks, socketmap threads) take a reference for the duration of one
 * decision and drop it after; reload builds a new config off to the side
 * and publishes it with live_replace(); the old one is freed when its
 * last reader lets go.  Readers never wait for a reload.
 *
 * live_acquire() returns the current config with a reference held, or
 * NULL when none was ever published (the caller then fails closed).
 * live_release() drops a reference taken by live_acquire() (NULL is
 * fine).  live_replace() publishes config (the daemon owns it from then
 * on) and drops the previous one.  live_shutdown() drops the last one.
 */
#ifndef MR_LIVE_H
#define MR_LIVE_H

#include "../lib/config.h"

const struct config *live_acquire(void);
void	live_release(const struct config *config);
void	live_replace(struct config *config);
void	live_shutdown(void);

#endif
