/*
 * sts_cache.h - the MTA-STS policy cache (RFC 8461 3.1, 3.3, 5.1, 10.2)
 *
 * One cache per process, shared by every thread.  It is sharded: a
 * lookup holds one shard mutex only while it inspects or updates an
 * entry, never across DNS or HTTPS.  Concurrent lookups of one domain
 * share one discovery: the first does the work, the others wait for it
 * (up to wait_ms) or, when a valid policy is already cached, use that.
 * Lookups of a domain whose policy is cached and recently checked do no
 * I/O and take O(1).
 *
 * Policies persist in <state_dir>/cache/<domain> (atomic rename,
 * sts_store.h), so they survive restarts and crashes (STS-CACHE-10);
 * entries are loaded lazily on first use, so start-up does not scale
 * with the cache size.  No lock a lookup needs is held while a file is
 * read, written or flushed to disk.
 *
 * Rules, with their checklist IDs:
 *   STS-CACHE-1  a policy is valid until fetch time + max_age.
 *   STS-CACHE-2  a valid cached policy is used; its TXT id is checked
 *                again when used after txt_check_interval.
 *   STS-CACHE-3/4 a policy is refetched every refresh_interval (or half
 *                its max_age, whichever is sooner) even if its id is
 *                unchanged; success restarts its lifetime.
 *   STS-CACHE-6  TXT gone, DNS or HTTPS trouble: keep applying it.
 *   STS-CACHE-7  a new id whose fetch fails: keep the old policy and
 *                do not refetch that id for fetch_backoff (STS-HTTP-5).
 *   STS-HTTP-8   no valid policy and the fetch fails: no policy.
 *   STS-TXT-5    a vanished TXT record never drops a valid policy.
 *   "No policy" answers are remembered for negative_ttl, DNS failures
 *   for tempfail_ttl.
 */
#ifndef STS_CACHE_H
#define STS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns.h"
#include "status.h"
#include "sts_fetch.h"
#include "sts_policy.h"
#include "tlsrpt_types.h"

struct sts_cache;

struct sts_cache_opts {
	const char		*state_dir;	/* NULL: memory only */
	struct dns		*dns;
	struct sts_fetch_opts	 fetch;
	int			 txt_check_interval;
	int			 refresh_interval;
	int			 fetch_backoff;
	int			 negative_ttl;
	int			 tempfail_ttl;
	size_t			 max_entries;
	int			 wait_ms;	/* wait for another thread's fetch */
	int			 max_fetches;	/* checks in flight (the pool) */
};

/* lookup flags */
#define STS_LOOKUP_ASYNC	0x01	/* a due check runs in the background */
#define STS_LOOKUP_FORCE	0x02	/* check TXT and refetch now, no back-off */
#define STS_LOOKUP_CACHED	0x04	/* never touch the network, nor the
					 * disk: an entry not read from the
					 * state directory yet is "not cached"
					 * (a reactor thread may call it) */
#define STS_LOOKUP_PEEK		0x08	/* with CACHED: an entry not in memory
					 * is not created */
#define STS_LOOKUP_LOAD		0x10	/* with CACHED: may read the state
					 * directory (stsctl) */
#define STS_LOOKUP_BACKGROUND	0x20	/* the work this lookup needs (first
					 * read, discovery) runs in the pool;
					 * the caller waits up to wait_ms */
#define STS_LOOKUP_START	0x40	/* never wait: queue that work (or
					 * find it queued or running) and
					 * answer at once ("policy discovery
					 * started"); on_ready fires when done */

struct sts_lookup {
	struct sts_policy	*policy;	/* caller's copy; NULL = none */
	char			 id[STS_ID_MAX + 1];	/* id of that policy */
	char			 txt_id[STS_ID_MAX + 1]; /* last id seen in DNS */
	time_t			 fetched;
	time_t			 expires;
	time_t			 checked;	/* last TXT check */
	int			 from_cache;	/* no network I/O this call */
	int			 ran_check;	/* this thread ran the check */
	int			 fetch_failed;	/* last fetch attempt failed */
	enum tlsrpt_result	 fetch_result;	/* its RFC 8460 type */
	char			 reason[256];	/* why no policy / fetch error */
	uint64_t		 stamp;		/* see sts_cache_stamp_valid() */
	int			 pending;	/* START: the work is queued or
						 * running; on_ready will tell */
};

struct sts_state;
/* sts_lookup_from_state - out as a lookup answered from st (a state read
 * elsewhere: the fleet's entry); out->policy shares st's */
void		  sts_lookup_from_state(const struct sts_state *,
		      struct sts_lookup *out);
struct conf;
/* sts_cache_opts_conf - the options the configuration asks for */
void		  sts_cache_opts_conf(struct sts_cache_opts *, const struct conf *,
		      struct dns *);
struct sts_cache *sts_cache_new(const struct sts_cache_opts *);
void		  sts_cache_free(struct sts_cache *);
/*
 * sts_cache_lookup - the policy to apply to domain (normalised, A-label)
 *
 * ST_OK: out->policy is the policy to apply (mode may be none).
 * ST_NOTFOUND: no policy applies; if out->fetch_failed a valid TXT
 *     record was found but the policy could not be fetched (RFC 8461 6).
 * ST_TEMPFAIL: DNS failed and nothing is cached (fail open, RFC 8461 5).
 * Caller clears out with sts_lookup_clear().
 */
enum status	  sts_cache_lookup(struct sts_cache *, const char *domain,
		      int flags, struct sts_lookup *out);
void		  sts_lookup_clear(struct sts_lookup *);
/* sts_cache_flush - forget domain (NULL: everything), memory and disk */
int		  sts_cache_flush(struct sts_cache *, const char *domain);
/* sts_cache_foreach - every persisted policy (reads the disk) */
int		  sts_cache_foreach(struct sts_cache *,
		      void (*fn)(void *, const char *domain,
		      const struct sts_lookup *), void *arg);
/* sts_cache_on_fetch_failure - fn is called, by the thread whose
 * lookup ran the check (the gate, a policy map, a refresher), each time
 * a policy fetch fails for a domain with a valid TXT record (not for a
 * cached mode none), so every interface's failures are journaled; set
 * it before the first lookup */
void		  sts_cache_on_fetch_failure(struct sts_cache *,
		      void (*fn)(void *, const char *domain,
		      const struct sts_lookup *), void *arg);
/* sts_cache_on_ready - fn is called (from a pool thread) whenever the
 * pool has done work on domain (a START lookup's, any other's): a START
 * caller that got out->pending looks again then.  May be called at any
 * time; once it returns, no call of the previous fn is running. */
void		  sts_cache_on_ready(struct sts_cache *,
		      void (*fn)(void *, const char *domain), void *arg);
/*
 * sts_cache_start_refresher - the pool of fetches.  A check leaves the
 * caller's thread: a few pool threads (at most 16) read cache files and
 * hand checks over to the loops, where the DNS lookups (one thread,
 * dns_async) and the HTTPS fetches (one thread per CPU, http.h) wait on
 * the network without a thread each: up to max_fetches (nthreads when
 * max_fetches is 0) fetches in flight, 16 times as many checks under
 * way; beyond that a lookup answers ST_TEMPFAIL "too many policy
 * discoveries waiting".  Files are written by one writer thread.  The
 * pool runs ASYNC checks, BACKGROUND/START work, and every minute the
 * refreshes that are due (STS-CACHE-3).  Without it every lookup does
 * its own work on its own thread (stsctl, tests).
 */
int		  sts_cache_start_refresher(struct sts_cache *, int nthreads);
/* sts_cache_pooled - 1 once the pool runs (START lookups then queue
 * work; without it they only answer what is known) */
int		  sts_cache_pooled(struct sts_cache *);
size_t		  sts_cache_size(struct sts_cache *);
/*
 * struct sts_cache_l2 - a second-level store shared with other
 * processes (the fleet's Redis, fleet_l2.h), asked by the thread that
 * runs a check, with no lock held.  get() comes first (not for FORCE):
 * it may fill *shared with the state another process stored and say
 * STS_L2_FRESH (use it, no check now), STS_L2_BASE (use it, then check:
 * a policy whose id is unchanged is not fetched again) or STS_L2_NONE;
 * local_fetched is the cached policy's fetch time, 0 if none.  It may
 * wait for another process's check of domain, within its own budget.
 * put() follows every check get() did not answer FRESH, with the state
 * after it (also when nothing is worth sharing: it ends what get()
 * began, e.g. a lock).  forget() (may be NULL) is told of every
 * sts_cache_flush(), before it.  Set before the first lookup; l2
 * outlives c.
 */
enum sts_l2_use { STS_L2_NONE, STS_L2_BASE, STS_L2_FRESH };
struct sts_state;
struct sts_cache_l2 {
	enum sts_l2_use	(*get)(void *arg, const char *domain,
			    time_t local_fetched, struct sts_state *shared);
	void		(*put)(void *arg, const char *domain,
			    const struct sts_state *);
	void		(*forget)(void *arg, const char *domain);
	void		 *arg;
};
void		  sts_cache_set_l2(struct sts_cache *,
		      const struct sts_cache_l2 *);
/*
 * sts_cache_stats - counters since sts_cache_new() (lock-free reads):
 * a hit is a lookup answered from what the cache knows (a policy or a
 * remembered "no policy"/DNS failure) without waiting for discovery; a
 * miss is one that ran or waited for a discovery, or found nothing with
 * CACHED.  Fetches are HTTPS policy fetch attempts by outcome
 * (TLSRPT_SUCCESS or the RFC 8460 sts-* failure type, RPT-RES-*).
 */
struct sts_cache_stats {
	unsigned long	hits, misses;
	unsigned long	fetches[TLSRPT_RESULT_MAX];
};
void		  sts_cache_stats(struct sts_cache *, struct sts_cache_stats *);
/*
 * sts_cache_stamp_valid - 1 while nothing that decides the answer of
 * the lookup that returned stamp has changed in the cache (a check or
 * fetch applied, an expiry, a flush or an eviction of that domain, or
 * of one of the domains that share its generation slot: 1 in
 * STS_CACHE_GEN_SLOTS, by hash_fnv32(domain)).  Time is the caller's
 * part: an answer also depends on the clock second it was made in.
 * Lock-free; lets the policy map reuse a formatted reply, and a storm
 * of discoveries of other domains leaves that reply usable.
 */
#define STS_CACHE_GEN_SLOTS	4096
int		  sts_cache_stamp_valid(struct sts_cache *, uint64_t stamp);

#endif
