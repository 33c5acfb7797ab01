/*
 * fleet_l2.h - the fleet's shared policy and verdict cache on Redis
 * (issue 12 item 2): the second-level store behind the daemon's policy
 * cache (sts_cache_set_l2) and its probe-verdict cache (tcache_l2)
 *
 * SYNOPSIS
 *	struct fleet_l2 *l2 = fleet_l2_new(&fc, conf);
 *	sts_cache_set_l2(cache, fleet_l2_policies(l2));
 *	struct tcache_l2 v = { fleet_l2_verdict_get, fleet_l2_verdict_put, l2 };
 *	gate_share_verdicts(gate, &v);
 *	...
 *	fleet_l2_free(l2);	(after the gate and the cache)
 *
 * DESCRIPTION
 *	Policies.  Before a node checks a domain it reads P pol:<domain>
 *	(fleet_cache.h): a state another node checked recently is used as
 *	it is (no DNS, no HTTPS); an older valid policy becomes the base
 *	of the check (an unchanged id is not fetched again).  Otherwise
 *	the node takes the fetch lock P lock:pol:<domain> (SET NX PX
 *	fleet_lock_ms) in the same round trip as a second read; a node
 *	that finds it taken polls (2 ms, 5, 10, 20, 30, then every 50 ms)
 *	until the holder's state arrives, the lock is free (then it takes
 *	it), or fleet_lock_ms passed (then it checks alone).  After its
 *	check the node writes the new state, with PXAT its own expiry
 *	(STS-CACHE-1: max_age, the "no policy" time; never without one),
 *	unless Redis holds a state checked later, and releases the lock
 *	if it still holds it -- one Lua script.  A "no policy" state never
 *	replaces a policy (STS-TXT-5).  A flush of the node's cache
 *	(stsctl cache flush) deletes the fleet's copy too, so the node's
 *	next check fetches anew and shares the result.
 *
 *	Verdicts.  On a local miss the gate reads P mx:<host>|<ip>|<port>
 *	and its PTTL (one round trip) before probing; a probe's verdict
 *	is written with PX its TTL.
 *
 *	Budgets.  Every read runs on the caller's thread with at most
 *	fleet_budget_ms for the connection (waiting for it included):
 *	a connection that is busy longer, or a Redis that is down (the
 *	back-off of fleet_redis.h), is "nothing shared" at once.  Writes
 *	never block the caller: they go to a queue, one entry a key (the
 *	latest state wins), written by a thread of their own; while Redis
 *	is away they wait there (up to FLEET_L2_QUEUE_MAX keys; beyond,
 *	the oldest are dropped and counted) and are written when it is
 *	back -- the re-sync.  At every new connection (the first, after
 *	an outage, after a Redis restart) the writer also offers every
 *	policy of the local cache files (a Redis that lost its data is
 *	filled again; a state checked later by another node is kept).
 *	Three connections: "fleet cache" (policy reads, on the cache's
 *	pool threads), "fleet verdicts" (reads on the RCPT path) and
 *	"fleet cache writer"; each logs its first failure of an outage
 *	and the recovery (fleet_redis.h), the rest is counted.
 */
#ifndef FLEET_L2_H
#define FLEET_L2_H

#include <time.h>

#include "buf.h"
#include "conf.h"
#include "fleet_conf.h"
#include "sts_cache.h"

#define FLEET_L2_QUEUE_MAX	100000

struct fleet_l2;

struct fleet_l2_stats {
	unsigned long	pol_fresh;	/* states used as they were */
	unsigned long	pol_base;	/* policies a check started from */
	unsigned long	pol_none;	/* nothing usable: checked alone */
	unsigned long	lock_owned;	/* checks run under the fetch lock */
	unsigned long	lock_waited;	/* checks that waited for another node */
	unsigned long	lock_alone;	/* gave up waiting */
	unsigned long	verdict_hits, verdict_misses;
	unsigned long	unavailable;	/* reads not made or failed: Redis
					 * down, slow or busy */
	unsigned long	written;	/* values written */
	unsigned long	dropped;	/* updates dropped (queue full) */
	unsigned long	resynced;	/* policies offered after an outage */
	unsigned long	queued;		/* waiting to be written now */
};

/* fleet_l2_new - fc->on must be set; c gives the cache's intervals and
 * state_dir (whose cache files are re-synced after an outage) */
struct fleet_l2	*fleet_l2_new(const struct fleet_conf *fc,
		    const struct conf *c);
/* fleet_l2_free - writes what is queued (up to fleet_timeout, when Redis
 * is up: a node does not wait at its stop for a Redis that is away), stops */
void		 fleet_l2_free(struct fleet_l2 *);
const struct sts_cache_l2 *fleet_l2_policies(struct fleet_l2 *);
/* the verdict store, tcache_l2's get and put (arg: the fleet_l2) */
int		 fleet_l2_verdict_get(void *l2, const char *key,
		    struct buf *text, time_t *ttl);
void		 fleet_l2_verdict_put(void *l2, const char *key,
		    const struct buf *text, time_t ttl);
void		 fleet_l2_stats(struct fleet_l2 *, struct fleet_l2_stats *);
/* fleet_l2_flush - wait up to timeout_ms for the queue to be written;
 * 0 if it was (tests, shutdown) */
int		 fleet_l2_flush(struct fleet_l2 *, int timeout_ms);

#endif
