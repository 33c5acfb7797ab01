/*
 * sts_pool.h - the policy cache's threads: the pool of fetches, its
 * refresh timer, and the writer
 *
 * sts_pool_new(max_threads, max_queued, run, scan, arg): domains pushed
 * with sts_pool_push() are handed to run(arg, domain, kind) by at most
 * max_threads threads (workq.h: started on demand), max_queued (at
 * least 64) waiting; a push beyond that returns -1 (the caller answers
 * "too many waiting").  Every minute a timer thread calls
 * scan(arg), which pushes the refreshes that are due (STS-CACHE-3).
 * sts_pool_free() stops the timer and the threads after the jobs they
 * run; jobs still waiting are dropped.
 *
 * The cache (sts_cache.c) owns what a job means; this module only runs
 * them.  Thread-safe.  Never logs.
 */
#ifndef STS_POOL_H
#define STS_POOL_H

struct sts_pool;

struct sts_pool	*sts_pool_new(int max_threads, size_t max_queued,
		    void (*run)(void *arg, const char *domain, int kind),
		    void (*scan)(void *arg), void *arg);
int		 sts_pool_push(struct sts_pool *, const char *domain, int kind);
void		 sts_pool_free(struct sts_pool *);

/*
 * The writer: sts_writer_push(domain) has fn(arg, domain) called on the
 * writer's one thread, in push order (the cache writes or removes the
 * domain's file there, so no thread that answers lookups waits for a
 * disk).  The writer takes all that waits at once and, after fn for
 * each, calls flush(arg) (NULL: none): the cache stages the files of
 * the lot and flushes the disk once (fs_batch.h).
 * sts_writer_drain() returns once everything pushed before it is done
 * and flushed; sts_writer_free() does what is pushed, then stops.
 */
struct sts_writer;

struct sts_writer *sts_writer_new(void (*fn)(void *arg, const char *domain),
		    void (*flush)(void *arg), void *arg);
void		 sts_writer_push(struct sts_writer *, const char *domain);
void		 sts_writer_drain(struct sts_writer *);
void		 sts_writer_free(struct sts_writer *);

#endif
