/*
 * tcache.h - a small TTL cache with one computation per key at a time
 *
 * Used by the gate for MX sets, host addresses and probe verdicts.
 * tcache_get() returns TC_HIT with a copy of a fresh value; TC_MISS
 * when the caller must compute the value and then call tcache_put()
 * (or tcache_abandon()); concurrent callers of the same key wait for
 * that computation until their deadline (TC_TIMEOUT).  No lock is held
 * while the caller computes.  Bounded: beyond max entries the oldest
 * idle entries of a shard go.  Thread-safe.
 */
#ifndef TCACHE_H
#define TCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

struct tcache;

enum tc_res {
	TC_HIT,
	TC_MISS,
	TC_TIMEOUT
};

struct tcache	*tcache_new(size_t max, void *(*dup)(const void *),
		    void (*freefn)(void *));
void		 tcache_free(struct tcache *);
/* deadline_ms is on clock_mono_ms(); now is clock_now() for expiry */
enum tc_res	 tcache_get(struct tcache *, const char *key, void **out,
		    int64_t deadline_ms);
void		 tcache_put(struct tcache *, const char *key, void *val,
		    time_t ttl);
void		 tcache_abandon(struct tcache *, const char *key);

/*
 * struct tcache_l2 - a second-level store shared with other processes
 * (the fleet's Redis, fleet_l2.h) behind one tcache.  On a miss the
 * thread that must compute the value asks get() first (the store keeps
 * to its own time budget): 0 with the value's text and its seconds
 * left, or -1.  A value put is offered to put(), which must not block
 * (the fleet queues it).  Values travel as text: the cache's user says
 * how (fmt: 0, or -1 for a value not to share; parse: a new value, or
 * NULL).  Set before the first tcache_get(); l2 outlives the cache.
 */
struct tcache_l2 {
	int	 (*get)(void *arg, const char *key, struct buf *text,
		    time_t *ttl);
	void	 (*put)(void *arg, const char *key, const struct buf *text,
		    time_t ttl);
	void	  *arg;
	int	 (*fmt)(const void *val, struct buf *text);
	void	*(*parse)(const char *text, size_t len);
};
void		 tcache_set_l2(struct tcache *, const struct tcache_l2 *);

#endif
