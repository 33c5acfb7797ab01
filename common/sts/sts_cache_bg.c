/*
 * sts_cache_bg.c - the policy cache's background work (sts_cache.h):
 * the pool's jobs and refresh timer, the loop's fetch completions and
 * the writer's saves.  The cache's insides: sts_cache_impl.h.
 *
 * A check leaves its thread once its snapshot is taken
 * (cache_check_start): the TXT lookup and the policy host's addresses
 * wait in the DNS loop (dns_async.c), the HTTPS request in the HTTPS
 * loop (http.h), none holding a thread, and disco_apply() folds the
 * outcome into the entry on the thread of the last answer.  Files are written by the writer
 * (sts_pool.h), so no thread that answers lookups waits for a disk.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fs_batch.h"
#include "http.h"
#include "sts_cache_impl.h"
#include "sts_pool.h"
#include "sts_store.h"
#include "xmalloc.h"

/* a check whose policy fetch waits in the loop (e stays busy) */
struct disco {
	struct sts_cache		*d_c;
	struct sts_state_snap		 d_sn;
	struct sts_state_outcome	 d_o;
	int				 d_save;	/* persist anyway */
	char				 d_domain[DOMAIN_MAX + 1];
};

/* cache_mark_dirty - the writer saves e (or removes its file when e has no
 * policy); s locked */
void
cache_mark_dirty(struct sts_cache *c, struct entry *e)
{
	if (!e->e_dirty) {
		e->e_dirty = 1;
		if (!e->e_l2put)
			sts_writer_push(c->c_writer, e->e_domain);
	}
}

void
cache_mark_l2(struct sts_cache *c, struct entry *e)
{
	if (!e->e_l2put) {
		e->e_l2put = 1;
		if (!e->e_dirty)
			sts_writer_push(c->c_writer, e->e_domain);
	}
}

/* write_one - the writer's work on domain: its file as its entry is now,
 * and its state shared with the fleet's store */
static void
write_one(void *arg, const char *domain)
{
	struct sts_cache	*c = arg;
	uint32_t		 h = cache_hash(domain);
	struct shard		*s = cache_shard(c, h);
	struct entry		*e;
	struct sts_store_rec	 r;
	struct sts_state	 cp;
	struct buf		 data = BUF_INIT;
	int			 found = 0, have = 0, put = 0;

	pthread_mutex_lock(&s->s_mu);
	if ((e = cache_find(s, h, domain)) != NULL && e->e_dirty) {
		e->e_dirty = 0;
		found = c->c_dir != NULL;
		if (found && (have = e->e_st.st_policy != NULL)) {
			sts_state_to_rec(&e->e_st, &r);
			sts_store_format(&r, &data);	/* r borrows */
		}
	}
	if (e != NULL && e->e_l2put) {
		e->e_l2put = 0;
		sts_state_copy(&cp, &e->e_st);
		put = 1;
	}
	pthread_mutex_unlock(&s->s_mu);
	if (have)	/* renamed in place at the flush, after the lot */
		(void)sts_store_stage(&c->c_wbatch, c->c_dir, domain, &data);
	else if (found)
		sts_store_stage_remove(&c->c_wbatch, c->c_dir, domain);
	buf_free(&data);
	if (put) {
		c->c_l2->put(c->c_l2->arg, domain, &cp);
		sts_state_clear(&cp);
	}
}

/* write_flush - the files of what the writer took: one disk flush */
static void
write_flush(void *arg)
{
	struct sts_cache	*c = arg;

	(void)fs_batch_commit(&c->c_wbatch);
}

/* disco_apply - fold d's outcome into its entry and tell (the thread
 * of the last answer: DNS loop, HTTPS loop, or the checker's) */
static void
disco_apply(struct disco *d)
{
	struct sts_cache	*c = d->d_c;
	uint32_t		 h = cache_hash(d->d_domain);
	struct shard		*s = cache_shard(c, h);
	struct entry		*e;
	struct sts_lookup	 l;
	int			 done = 0;

	memset(&l, 0, sizeof(l));
	pthread_mutex_lock(&s->s_mu);
	/* a busy entry is never evicted nor flushed */
	if ((e = cache_find(s, h, d->d_domain)) != NULL && e->e_busy) {
		if (atomic_load(&c->c_stopping)) {	/* "shutting down" */
			e->e_busy = 0;
			pthread_cond_broadcast(&s->s_cv);
		} else {
			cache_check_done(c, s, e, &d->d_o, d->d_save);
			cache_answer(&e->e_st, &l);
			l.ran_check = 1;	/* this check reports itself */
			done = 1;
		}
	}
	pthread_mutex_unlock(&s->s_mu);
	sts_state_outcome_clear(&d->d_o);
	if (done) {
		cache_report_failure(c, d->d_domain, &l);
		cache_ready(c, d->d_domain);
	}
	sts_lookup_clear(&l);
	atomic_fetch_sub(&c->c_inflight, 1);
	free(d);
}

/* disco_fetched - the answer to d's policy fetch */
static void
disco_fetched(void *arg, enum status st, struct sts_policy *policy,
    enum tlsrpt_result rt, const char *why)
{
	struct disco	*d = arg;

	(void)st;
	sts_state_fetched(&d->d_o, policy, rt, why);
	disco_apply(d);
}

/* disco_txt - the answer to d's TXT lookup: a fetch, or done */
static void
disco_txt(void *arg, enum status st, const struct sts_txt *txt,
    const char *why)
{
	struct disco	*d = arg;
	struct sts_cache *c = d->d_c;

	d->d_o.o_txt_st = st;
	if (st != ST_OK)
		buf_puts(&d->d_o.o_why, why);
	if (sts_state_txt_decide(&c->c_so, &d->d_sn, &d->d_o, txt))
		sts_fetch_policy_start(c->c_so.dns, c->c_so.fetch, d->d_domain,
		    c->c_loops[atomic_fetch_add(&c->c_nextloop, 1) %
		    (unsigned)c->c_nloops], disco_fetched, d);
	else
		disco_apply(d);
}

void
cache_check_start(struct sts_cache *c, const struct sts_state_snap *sn,
    int save)
{
	struct disco	*d = xcalloc(1, sizeof(*d));

	d->d_c = c;
	d->d_save = save;
	d->d_sn = *sn;
	snprintf(d->d_domain, sizeof(d->d_domain), "%s", sn->sn_domain);
	sts_state_outcome_init(&d->d_o);
	atomic_fetch_add(&c->c_inflight, 1);
	sts_fetch_txt_start(c->c_so.dns, d->d_domain, disco_txt, d);
}

/* cache_enqueue - queue work on e for the pool; shard locked; -1 if full */
int
cache_enqueue(struct sts_cache *c, struct entry *e, enum job_kind kind)
{
	if (e->e_queued)
		return 0;
	if (c->c_pool == NULL || sts_pool_push(c->c_pool, e->e_domain,
	    (int)kind) == -1)
		return -1;
	e->e_queued = 1;
	return 0;
}

/* job_run - one job on a pool thread: the lookup a caller left to us */
static void
job_run(void *arg, const char *domain, int kind)
{
	struct sts_cache	*c = arg;
	uint32_t		 h = cache_hash(domain);
	struct shard		*s = cache_shard(c, h);
	struct entry		*e;
	struct sts_lookup	 l;
	int			 ran = 0;

	memset(&l, 0, sizeof(l));
	pthread_mutex_lock(&s->s_mu);
	if ((e = cache_find(s, h, domain)) != NULL && e->e_queued) {
		e->e_queued = 0;	/* and busy before the lock drops */
		(void)cache_lookup_locked(c, s, e, h, domain, LOOKUP_NOWAIT, &l,
		    NULL);
		pthread_cond_broadcast(&s->s_cv);
		ran = !l.pending;	/* else the loop's completion will */
	}
	pthread_mutex_unlock(&s->s_mu);
	if (ran) {
		cache_report_failure(c, domain, &l);
		cache_ready(c, domain);	/* START callers wait for it */
	}
	sts_lookup_clear(&l);
}

/* cache_ready - the pool (or the loop) has done work on domain */
void
cache_ready(struct sts_cache *c, const char *domain)
{
	pthread_rwlock_rdlock(&c->c_ready_lock);
	if (c->c_ready_fn != NULL)
		c->c_ready_fn(c->c_ready_arg, domain);
	pthread_rwlock_unlock(&c->c_ready_lock);
}

/* scan_due - queue every cached policy whose refresh is due (the
 * pool's timer calls it every minute, STS-CACHE-3) */
static void
scan_due(void *arg)
{
	struct sts_cache *c = arg;
	struct shard	*s;
	struct entry	*e;
	size_t		 i, b;
	time_t		 now = clock_now();

	for (i = 0; i < NSHARD; i++) {
		s = &c->c_shard[i];
		pthread_mutex_lock(&s->s_mu);
		for (b = 0; b < s->s_nbuckets; b++)
			for (e = s->s_tab[b]; e; e = e->e_next)
				if (e->e_st.st_policy && !e->e_busy &&
				    sts_state_refresh_due(&e->e_st,
				    c->c_o.refresh_interval, now))
					(void)cache_enqueue(c, e, JOB_REFRESH);
		pthread_mutex_unlock(&s->s_mu);
	}
}

void
sts_cache_on_fetch_failure(struct sts_cache *c, void (*fn)(void *,
    const char *, const struct sts_lookup *), void *arg)
{
	c->c_fail_arg = arg;
	c->c_fail_fn = fn;
}

void
sts_cache_on_ready(struct sts_cache *c, void (*fn)(void *, const char *),
    void *arg)
{
	/* once this returns, no call of the old fn is running */
	pthread_rwlock_wrlock(&c->c_ready_lock);
	c->c_ready_arg = arg;
	c->c_ready_fn = fn;
	pthread_rwlock_unlock(&c->c_ready_lock);
}

void
sts_cache_set_l2(struct sts_cache *c, const struct sts_cache_l2 *l2)
{
	c->c_l2 = l2;
}

int
sts_cache_pooled(struct sts_cache *c)
{
	return c->c_pool != NULL;
}

int
sts_cache_start_refresher(struct sts_cache *c, int n)
{
	int		max = c->c_o.max_fetches > 0 ? c->c_o.max_fetches : n, i;
	struct buf	why = BUF_INIT;

	if (c->c_pool != NULL)
		return 0;
	/* the pool's threads only read cache files and hand checks over to
	 * the loops: a few suffice; but in a fleet one may wait for another
	 * node's fetch (sts_cache_l2.get, up to fleet_lock_ms) */
	if ((c->c_pool = sts_pool_new(max < STS_CACHE_POOL || c->c_l2 != NULL ?
	    max : STS_CACHE_POOL, (size_t)max * 16, job_run, scan_due,
	    c)) == NULL)
		return -1;
	/* without them (out of threads) the pool does it all, as before */
	if (c->c_dir != NULL || c->c_l2 != NULL)
		c->c_writer = sts_writer_new(write_one, write_flush, c);
	c->c_inflight_max = (unsigned long)max * 16;
	/* without a DNS loop the lookups block a pool thread, as before */
	(void)dns_async_start(c->c_so.dns, &why);
	/*
	 * One HTTPS loop per CPU.  One per CPU but one was tried (a CPU
	 * left for the answers): on 2 CPUs its cached p99 was somewhat
	 * lower but it answered 5-20 % fewer cold lookups a second (README,
	 * "The cold path").
	 */
	c->c_nloops = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (c->c_nloops < 1)
		c->c_nloops = 1;
	if (c->c_nloops > STS_CACHE_LOOPS)
		c->c_nloops = STS_CACHE_LOOPS;
	if (c->c_nloops > max)		/* max in flight over all loops */
		c->c_nloops = max;
	for (i = 0; i < c->c_nloops; i++)
		if ((c->c_loops[i] = http_loop_new(max / c->c_nloops,
		    &why)) == NULL)
			break;
	c->c_nloops = i;
	c->c_loop = i > 0 ? c->c_loops[0] : NULL;
	buf_free(&why);
	return 0;
}
