/*
 * live - the configuration in force, swapped atomically on reload
 *
 * See live.h.  Each published config sits in one of a few static slots
 * with a reference count: one reference for being published, one per
 * reader.  live_acquire() reads the current slot and takes a reference
 * under a mutex held for two instructions (so a reader can never touch a
 * slot that is being freed); live_release() is one atomic decrement,
 * without a lock (a thread-local hint names the slot, so no scan).  The
 * reference counts live on cache lines of their own, apart from the
 * mutex and the current pointer.
 *
 * live_replace() publishes the new slot, then waits (up to
 * LIVE_DRAIN_MS) for the readers of the old one to finish so that the
 * reloading thread, not a milter thread answering an RCPT, pays for
 * freeing a large rule set.  Whoever drops the last reference frees it.
 * Slots are static memory, so a stale slot pointer is never a dangling
 * one; a slot is reused only once its count reached zero.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "live.h"
#include "log.h"

#define LIVE_SLOTS	16
#define LIVE_DRAIN_MS	5000

struct live_slot {
	_Atomic(struct config *) config;
	atomic_uint	refs;
	char		pad[64 - sizeof(void *) - sizeof(atomic_uint)];
} __attribute__((aligned(64)));

static struct live_slot live_slots[LIVE_SLOTS];
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_slot *live_current;
/* the slot this thread acquired last: release finds it without a scan */
static _Thread_local struct live_slot *live_hint;
/* serializes live_replace() and live_shutdown() callers */
static pthread_mutex_t live_writer = PTHREAD_MUTEX_INITIALIZER;

static struct live_slot *
live_find(const struct config *config)
{
	int	 i;

	for (i = 0; i < LIVE_SLOTS; i++)
		if (atomic_load_explicit(&live_slots[i].config,
		    memory_order_acquire) == config)
			return &live_slots[i];
	return NULL;
}

/* Drop one reference; free the config when it was the last one. */
static void
live_unref(struct live_slot *slot)
{
	struct config *config;

	if (atomic_fetch_sub_explicit(&slot->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	/* unpublish first: the address may come back from malloc at once */
	config = atomic_exchange_explicit(&slot->config, NULL,
	    memory_order_acq_rel);
	config_free(config);
}

const struct config *
live_acquire(void)
{
	struct live_slot *slot;
	struct config *config = NULL;

	pthread_mutex_lock(&live_lock);
	if ((slot = live_current) != NULL) {
		atomic_fetch_add_explicit(&slot->refs, 1,
		    memory_order_relaxed);
		config = atomic_load_explicit(&slot->config,
		    memory_order_relaxed);
	}
	pthread_mutex_unlock(&live_lock);
	live_hint = slot;
	return config;
}

void
live_release(const struct config *config)
{
	struct live_slot *slot;

	if (config == NULL)
		return;
	/* a config address is in one slot only while we hold a reference */
	slot = live_hint;
	if (slot == NULL || atomic_load_explicit(&slot->config,
	    memory_order_acquire) != config)
		slot = live_find(config);
	if (slot == NULL) {
		log_error("live: release of an unknown configuration");
		return;
	}
	live_unref(slot);
}

static void
live_sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait for the readers of a retired slot, then drop its published ref. */
static void
live_retire(struct live_slot *slot)
{
	int	 waited;

	for (waited = 0; waited < LIVE_DRAIN_MS; waited++) {
		if (atomic_load_explicit(&slot->refs,
		    memory_order_acquire) == 1)
			break;
		live_sleep_ms(1);
	}
	if (waited == LIVE_DRAIN_MS)
		log_warning("live: readers still hold the previous "
		    "configuration after %d ms; the last one frees it",
		    LIVE_DRAIN_MS);
	live_unref(slot);
}

/* A slot nobody uses; NULL when every slot is still referenced. */
static struct live_slot *
live_free_slot(void)
{
	int	 i, tries;

	for (tries = 0; tries < LIVE_DRAIN_MS; tries++) {
		for (i = 0; i < LIVE_SLOTS; i++)
			if (atomic_load_explicit(&live_slots[i].config,
			    memory_order_acquire) == NULL &&
			    atomic_load_explicit(&live_slots[i].refs,
			    memory_order_acquire) == 0)
				return &live_slots[i];
		live_sleep_ms(1);
	}
	return NULL;
}

/* Make slot (NULL: none) current, retire the old one; live_writer held. */
static void
live_swap(struct live_slot *slot)
{
	struct live_slot *old;

	pthread_mutex_lock(&live_lock);
	old = live_current;
	live_current = slot;
	pthread_mutex_unlock(&live_lock);
	if (old != NULL)
		live_retire(old);
}

void
live_replace(struct config *config)
{
	struct live_slot *slot;

	if (config == NULL)
		return;
	pthread_mutex_lock(&live_writer);
	if ((slot = live_free_slot()) == NULL) {
		log_error("live: no free slot for the new configuration; "
		    "keeping the previous one");
		pthread_mutex_unlock(&live_writer);
		config_free(config);
		return;
	}
	atomic_store_explicit(&slot->refs, 1, memory_order_relaxed);
	atomic_store_explicit(&slot->config, config, memory_order_release);
	live_swap(slot);
	pthread_mutex_unlock(&live_writer);
}

void
live_shutdown(void)
{
	pthread_mutex_lock(&live_writer);
	live_swap(NULL);
	pthread_mutex_unlock(&live_writer);
}
