/*
 * sts_cache_impl.h - the insides of the policy cache, shared by its two
 * files and included by nothing else:
 *	sts_cache.c	the table, the disk, lookups, flush and stats;
 *	sts_cache_bg.c	its background work: the pool's jobs and timer,
 *			the loop's fetch completions, the writer.
 * Locking: see sts_cache.c.  "s locked" means the shard's s_mu is held.
 */
#ifndef STS_CACHE_IMPL_H
#define STS_CACHE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "fs_batch.h"
#include "sts_cache.h"
#include "sts_state.h"

/* HTTPS loops at most: one per CPU, so that TLS handshakes (most of a
 * cold lookup's CPU) can use them all */
#define STS_CACHE_LOOPS	8
/* threads of the pool (sts_pool.h) at most */
#define STS_CACHE_POOL	16
#define NSHARD		64
/* generations of answers (the policy map's memo, sts_cache_stamp_valid),
 * per slot of domains' hashes, so a cold storm that changes a shard's
 * other entries does not outdate a cached domain's memoized answer */
#define NGEN		STS_CACHE_GEN_SLOTS

struct entry {
	struct entry		*e_next;
	uint32_t		 e_hash;
	char			*e_domain;
	struct sts_state	 e_st;
	int			 e_loaded;	/* read from disk (or no disk) */
	int			 e_busy;
	int			 e_queued;
	int			 e_dirty;	/* the writer has it to save */
	int			 e_l2put;	/* ... and to share (c_l2) */
};

struct shard {
	pthread_mutex_t		  s_mu;
	pthread_cond_t		  s_cv;
	struct entry		**s_tab;
	size_t			  s_nbuckets;
	size_t			  s_count;
	size_t			  s_evict;	/* rotating eviction cursor */
	/* sts_cache_stats(): per shard, so lookups of different shards
	 * never share the counters' cache line */
	atomic_ulong		  s_hits, s_misses;
};

/* a job of the pool: a discovery (a waiter wants it) or a refresh */
enum job_kind { JOB_REFRESH = 1, JOB_DISCOVER = 2 };

struct sts_cache {
	struct sts_cache_opts	 c_o;
	struct sts_state_opts	 c_so;
	char			*c_dir;		/* <state_dir>/cache or NULL */
	struct shard		 c_shard[NSHARD];
	/* Bumped (under the entry's shard lock) whenever an entry's answer
	 * may change, at e_hash % NGEN; read without a lock by
	 * sts_cache_stamp_valid(). */
	atomic_uint		 c_gen[NGEN];
	struct sts_pool		*c_pool;	/* the fetches; NULL: inline */
	void			(*c_fail_fn)(void *, const char *,
				    const struct sts_lookup *);
	void			*c_fail_arg;
	pthread_rwlock_t	 c_ready_lock;	/* held while fn runs */
	void			(*c_ready_fn)(void *, const char *);
	void			*c_ready_arg;
	atomic_ulong		 c_fetches[TLSRPT_RESULT_MAX];	/* stats */
	/* with the pool: fetches wait on the network in the loop, files
	 * are written by the writer (sts_pool.h) */
	struct http_loop	*c_loop;		/* c_loops[0], or NULL */
	struct http_loop	*c_loops[STS_CACHE_LOOPS];
	int			 c_nloops;
	atomic_uint		 c_nextloop;	/* round robin */
	struct sts_writer	*c_writer;
	struct fs_batch		 c_wbatch;	/* the writer's staged files */
	atomic_ulong		 c_inflight;	/* checks past the pool */
	unsigned long		 c_inflight_max;
	atomic_int		 c_stopping;
	const struct sts_cache_l2 *c_l2;	/* the fleet's store; NULL */
};

/* a pool job's lookup: a check whose fetch went to the loop is not
 * waited for (the loop's completion reports it and says ready) */
#define LOOKUP_NOWAIT	0x1000

/* sts_cache.c */
uint32_t	 cache_hash(const char *);
struct shard	*cache_shard(struct sts_cache *, uint32_t h);
struct entry	*cache_find(struct shard *, uint32_t h, const char *domain);
void		 cache_changed(struct sts_cache *, const struct entry *);
						/* e's shard locked */
void		 cache_answer(const struct sts_state *, struct sts_lookup *);
void		 cache_yield_cpu(void);
/* fold a check's outcome into e, persist (also when save: a state taken
 * from the fleet's store), share; s locked, e busy (not after) */
void		 cache_check_done(struct sts_cache *, struct shard *,
		    struct entry *, struct sts_state_outcome *, int save);
/* share e's state with the fleet's store after a check; s locked, e
 * busy; by the writer when there is one, in order */
void		 cache_l2_put(struct sts_cache *, struct shard *,
		    struct entry *);
void		 cache_report_failure(struct sts_cache *, const char *domain,
		    const struct sts_lookup *);
enum status	 cache_lookup_locked(struct sts_cache *, struct shard *,
		    struct entry *, uint32_t h, const char *domain, int flags,
		    struct sts_lookup *, int *hit);

/* sts_cache_bg.c */
/* the writer saves e (or removes its file when e has no policy) */
void		 cache_mark_dirty(struct sts_cache *, struct entry *);
/* the writer shares e's state (c_l2) */
void		 cache_mark_l2(struct sts_cache *, struct entry *);
/* the rest of a check (after its snapshot) in the DNS and HTTPS loops:
 * its entry stays busy until the outcome is applied (save: persist it
 * anyway, a state taken from the fleet's store) */
void		 cache_check_start(struct sts_cache *,
		    const struct sts_state_snap *, int save);
/* queue work on e for the pool; s locked; -1 if full */
int		 cache_enqueue(struct sts_cache *, struct entry *,
		    enum job_kind);
/* the pool (or the loop) has done work on domain: on_ready */
void		 cache_ready(struct sts_cache *, const char *domain);

#endif
