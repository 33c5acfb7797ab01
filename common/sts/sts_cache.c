/*
 * sts_cache.c - the MTA-STS policy cache: a sharded table of per-domain
 * states (sts_state.c), persisted one file a domain (sts_store.c)
 *
 * Layout: NSHARD shards, each a mutex, a condition variable and a
 * chained hash table that doubles when full.  An entry is one domain
 * and its struct sts_state.  e_busy marks an entry whose discovery (or
 * first read from disk) runs without the lock; other threads wait on
 * the shard condition (or use the valid cached policy).
 *
 * No lock a lookup needs is held across I/O: the network part works on
 * a snapshot taken under the lock and its outcome is applied under the
 * lock; the cache file is written (and fsync'ed) after the lock is
 * dropped, the entry still busy so that writes of one domain stay in
 * order; an entry is read from disk on its first non-CACHED lookup,
 * also without the lock.  A STS_LOOKUP_CACHED lookup never touches the
 * disk (it may run on a reactor thread): an entry not read yet answers
 * "not cached", unless STS_LOOKUP_LOAD allows the read.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "domain.h"
#include "hash.h"
#include "http.h"
#include "statedir.h"
#include "sts_cache.h"
#include "sts_cache_impl.h"
#include "sts_pool.h"
#include "sts_state.h"
#include "sts_store.h"
#include "xmalloc.h"


uint32_t
cache_hash(const char *s)
{
	return hash_fnv32(s);
}

static void
entry_free(struct entry *e)
{
	sts_state_clear(&e->e_st);
	free(e->e_domain);
	free(e);
}

/* --- the table -------------------------------------------------------- */

/* cache_changed - e changed what lookups of it answer (or goes); its
 * shard locked */
void
cache_changed(struct sts_cache *c, const struct entry *e)
{
	atomic_fetch_add_explicit(&c->c_gen[e->e_hash % NGEN], 1,
	    memory_order_release);
}

struct shard *
cache_shard(struct sts_cache *c, uint32_t h)
{
	return &c->c_shard[h % NSHARD];
}

static void
shard_grow(struct shard *s)
{
	size_t		  nb = s->s_nbuckets * 2, i;
	struct entry	**tab = xcalloc(nb, sizeof(*tab)), *e, *next;

	for (i = 0; i < s->s_nbuckets; i++)
		for (e = s->s_tab[i]; e != NULL; e = next) {
			next = e->e_next;
			e->e_next = tab[(e->e_hash / NSHARD) % nb];
			tab[(e->e_hash / NSHARD) % nb] = e;
		}
	free(s->s_tab);
	s->s_tab = tab;
	s->s_nbuckets = nb;
}

/* shard_evict - drop one idle entry other than keep (memory bound) */
static void
shard_evict(struct sts_cache *c, struct shard *s, const struct entry *keep)
{
	size_t		 i, b;
	struct entry	**pp, *e;

	for (i = 0; i < s->s_nbuckets; i++) {
		b = (s->s_evict + i) % s->s_nbuckets;
		for (pp = &s->s_tab[b]; (e = *pp) != NULL; pp = &e->e_next) {
			if (e == keep || e->e_busy || e->e_queued ||
			    e->e_dirty || e->e_l2put)
				continue;
			*pp = e->e_next;
			cache_changed(c, e);
			entry_free(e);
			s->s_count--;
			s->s_evict = b + 1;
			return;
		}
	}
}

struct entry *
cache_find(struct shard *s, uint32_t h, const char *domain)
{
	struct entry	*e;

	for (e = s->s_tab[(h / NSHARD) % s->s_nbuckets]; e; e = e->e_next)
		if (e->e_hash == h && strcmp(e->e_domain, domain) == 0)
			return e;
	return NULL;
}

/* shard_get - the entry of domain, a new one (not read yet) if none */
static struct entry *
shard_get(struct sts_cache *c, struct shard *s, uint32_t h, const char *domain)
{
	struct entry	*e;
	size_t		 b, limit;

	if ((e = cache_find(s, h, domain)) != NULL)
		return e;
	e = xcalloc(1, sizeof(*e));
	e->e_hash = h;
	e->e_domain = xstrdup(domain);
	e->e_loaded = c->c_dir == NULL;
	if (s->s_count >= s->s_nbuckets)
		shard_grow(s);
	b = (h / NSHARD) % s->s_nbuckets;
	e->e_next = s->s_tab[b];
	s->s_tab[b] = e;
	s->s_count++;
	limit = c->c_o.max_entries / NSHARD + 1;
	if (s->s_count > limit)
		shard_evict(c, s, e);
	return e;
}

/* --- disk, without the shard lock ------------------------------------- */

/* load_entry - first use of e: read its file; s locked on entry and exit */
static void
load_entry(struct sts_cache *c, struct shard *s, struct entry *e)
{
	struct sts_store_rec	r;
	int			rc;

	e->e_busy = 1;
	pthread_mutex_unlock(&s->s_mu);
	rc = sts_store_read(c->c_dir, e->e_domain, &r);
	pthread_mutex_lock(&s->s_mu);
	if (rc == 0) {
		sts_state_from_rec(&e->e_st, &r);
		cache_changed(c, e);
	}
	sts_store_rec_clear(&r);
	e->e_loaded = 1;
	e->e_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
}



/* persist - write e's file (the writer's job when there is one); s
 * locked on entry and exit, e busy */
static void
persist(struct sts_cache *c, struct shard *s, struct entry *e)
{
	struct sts_store_rec	r;
	struct buf		data = BUF_INIT;

	if (c->c_dir == NULL || e->e_st.st_policy == NULL)
		return;
	if (c->c_writer != NULL) {
		cache_mark_dirty(c, e);
		return;
	}
	sts_state_to_rec(&e->e_st, &r);
	sts_store_format(&r, &data);		/* r borrows the policy */
	pthread_mutex_unlock(&s->s_mu);
	(void)sts_store_write(c->c_dir, e->e_domain, &data);
	buf_free(&data);
	pthread_mutex_lock(&s->s_mu);
}

/* unpersist - e's policy expired: remove its file; s locked, e not busy */
static void
unpersist(struct sts_cache *c, struct shard *s, struct entry *e)
{
	if (c->c_dir == NULL)
		return;
	if (c->c_writer != NULL) {
		cache_mark_dirty(c, e);	/* no policy: the writer removes it */
		return;
	}
	e->e_busy = 1;
	pthread_mutex_unlock(&s->s_mu);
	(void)sts_store_remove(c->c_dir, e->e_domain);
	pthread_mutex_lock(&s->s_mu);
	e->e_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
}

/* --- lookups ---------------------------------------------------------- */

void
cache_answer(const struct sts_state *st, struct sts_lookup *out)
{
	out->policy = sts_policy_ref(st->st_policy);	/* shared, immutable */
	memcpy(out->id, st->st_id, sizeof(out->id));
	memcpy(out->txt_id, st->st_txt_id, sizeof(out->txt_id));
	out->fetched = st->st_fetched;
	out->expires = st->st_policy ? sts_state_expires(st) : 0;
	out->checked = st->st_checked;
	out->fetch_failed = st->st_failed;
	out->fetch_result = st->st_failed ? st->st_fail_rt : TLSRPT_SUCCESS;
	if (st->st_reason != NULL) {		/* hot path: no printf */
		size_t n = strnlen(st->st_reason, sizeof(out->reason) - 1);

		memcpy(out->reason, st->st_reason, n);
		out->reason[n] = '\0';
	} else
		out->reason[0] = '\0';
}

void
sts_lookup_from_state(const struct sts_state *st, struct sts_lookup *out)
{
	memset(out, 0, sizeof(*out));
	cache_answer(st, out);
	out->from_cache = 1;
}

/*
 * yield_cpu - a thread that runs discoveries leaves the CPU to lookups
 * answered from the cache: it runs at nice +10 from its first discovery
 * on (Linux nice is per thread; unprivileged, so it is never undone:
 * such threads do discovery work).  Cached lookups keep their latency
 * while TLS handshakes saturate the CPUs (issue 15).
 */
void
cache_yield_cpu(void)
{
	static _Thread_local int	niced;

	if (!niced) {
		niced = 1;
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	}
}

/* count_fetch - sts_cache_stats(), RPT-RES-* */
static void
count_fetch(struct sts_cache *c, const struct sts_state_outcome *o)
{
	if (o->o_fetched)
		atomic_fetch_add_explicit(&c->c_fetches[o->o_policy != NULL ?
		    TLSRPT_SUCCESS : o->o_rt >= TLSRPT_STS_POLICY_FETCH_ERROR &&
		    o->o_rt < TLSRPT_RESULT_MAX ? o->o_rt :
		    TLSRPT_STS_POLICY_FETCH_ERROR], 1, memory_order_relaxed);
}

/* cache_check_done - fold a check's outcome into e; s locked, e busy (no
 * longer on return) */
void
cache_check_done(struct sts_cache *c, struct shard *s, struct entry *e,
    struct sts_state_outcome *o, int save)
{
	count_fetch(c, o);
	save |= sts_state_apply(&e->e_st, &c->c_so, o, clock_now());
	cache_changed(c, e);
	pthread_cond_broadcast(&s->s_cv);	/* waiters may use it now */
	if (save)
		persist(c, s, e);
	cache_l2_put(c, s, e);
	e->e_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
	sts_state_outcome_clear(o);
}




/*
 * run_check - discover for e and apply; shard locked on entry and exit.
 * With the loops, the check goes on there (cache_check_start) and 1 is
 * returned: e stays busy until its outcome is applied.
 */
static enum sts_l2_use l2_get(struct sts_cache *, struct shard *,
		    struct entry *, int);

static int
run_check(struct sts_cache *c, struct shard *s, struct entry *e, int force)
{
	struct sts_state_snap	 sn;
	struct sts_state_outcome o;
	enum sts_l2_use		 use;

	cache_yield_cpu();
	e->e_busy = 1;
	if ((use = l2_get(c, s, e, force)) == STS_L2_FRESH) {
		/* another node checked: not this lookup's to report */
		pthread_cond_broadcast(&s->s_cv);
		persist(c, s, e);
		e->e_busy = 0;
		pthread_cond_broadcast(&s->s_cv);
		return 1;
	}
	sts_state_snapshot(&e->e_st, &c->c_so, e->e_domain, force,
	    clock_now(), &sn);
	pthread_mutex_unlock(&s->s_mu);

	if (c->c_loop != NULL) {
		cache_check_start(c, &sn, use != STS_L2_NONE);
		pthread_mutex_lock(&s->s_mu);
		return 1;
	}
	sts_state_discover(&c->c_so, &sn, &o);
	pthread_mutex_lock(&s->s_mu);
	cache_check_done(c, s, e, &o, use != STS_L2_NONE);
	return 0;
}

/* l2_get - what the second-level store knows of e before a check
 * (sts_cache_l2); s locked on entry and exit, e busy */
static enum sts_l2_use
l2_get(struct sts_cache *c, struct shard *s, struct entry *e, int force)
{
	struct sts_state	sh;
	time_t			lf = e->e_st.st_policy ? e->e_st.st_fetched : 0;
	enum sts_l2_use		use;

	if (c->c_l2 == NULL || force)
		return STS_L2_NONE;
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_unlock(&s->s_mu);
	use = c->c_l2->get(c->c_l2->arg, e->e_domain, lf, &sh);
	pthread_mutex_lock(&s->s_mu);
	if (use != STS_L2_NONE) {
		sts_state_clear(&e->e_st);
		e->e_st = sh;
		cache_changed(c, e);
	}
	return use;
}

void
cache_l2_put(struct sts_cache *c, struct shard *s, struct entry *e)
{
	struct sts_state	cp;

	if (c->c_l2 == NULL)
		return;
	if (c->c_writer != NULL) {	/* in order, off the loops' threads */
		cache_mark_l2(c, e);
		return;
	}
	sts_state_copy(&cp, &e->e_st);
	pthread_mutex_unlock(&s->s_mu);
	c->c_l2->put(c->c_l2->arg, e->e_domain, &cp);
	sts_state_clear(&cp);
	pthread_mutex_lock(&s->s_mu);
}

/* wait_busy - wait for another thread's work on e; -1 on timeout */
static int
wait_busy(struct sts_cache *c, struct shard *s, struct timespec *dl)
{
	int64_t	ms;

	if (dl->tv_sec == 0) {	/* the first wait sets the deadline */
		clock_gettime(CLOCK_REALTIME, dl);
		ms = (int64_t)dl->tv_nsec / 1000000 + c->c_o.wait_ms;
		dl->tv_sec += ms / 1000;
		dl->tv_nsec = (long)(ms % 1000) * 1000000;
	}
	return pthread_cond_timedwait(&s->s_cv, &s->s_mu, dl) == ETIMEDOUT ?
	    -1 : 0;
}


#define STEP_AGAIN	1	/* decide again: something ran or changed */
#define STEP_ANSWER	0
#define STEP_TIMEOUT	(-1)	/* a wait for another thread timed out */
#define STEP_FULL	(-2)	/* the pool's queue is full */
#define STEP_STARTED	(-3)	/* STS_LOOKUP_START queued the work */

/* a pool job's lookup: a check whose fetch went to the loop is not
 * waited for (the loop's completion reports it and says ready) */


/* checked_here: how this lookup had the check done */
#define CHECK_RAN	1	/* on this thread: this lookup reports it */
#define CHECK_QUEUED	2	/* by the pool: its job reports it */

/* step_queue - the pool does e's work (read, discovery) for this lookup */
static int
step_queue(struct sts_cache *c, struct entry *e, int flags, int *checked_here)
{
	if ((c->c_loop != NULL && atomic_load(&c->c_inflight) >=
	    c->c_inflight_max) || cache_enqueue(c, e, JOB_DISCOVER) == -1)
		return STEP_FULL;
	*checked_here = CHECK_QUEUED;	/* the pool checks (and reports) */
	return (flags & STS_LOOKUP_START) ? STEP_STARTED : STEP_AGAIN;
}

/* lookup_step - one decision of the lookup loop; s locked */
static int
lookup_step(struct sts_cache *c, struct shard *s, struct entry **ep,
    uint32_t h, const char *domain, int flags, int *checked_here,
    struct timespec *dl)
{
	struct entry	*e = *ep;
	time_t		 now = clock_now();
	int		 cached = flags & STS_LOOKUP_CACHED, rc, due;
	int		 start = flags & STS_LOOKUP_START;
	int		 pool = c->c_pool != NULL &&
			    (flags & (STS_LOOKUP_BACKGROUND | STS_LOOKUP_START));

	if (!*checked_here && sts_state_expire(&e->e_st, now)) {
		cache_changed(c, e);			/* STS-CACHE-1 */
		/* else the running check persists; and a CACHED lookup (a
		 * reactor's, a collector's) never touches the disk: the
		 * stale file expires again when it is next read */
		if (!e->e_busy && !cached)
			unpersist(c, s, e);
		return STEP_AGAIN;
	}
	if (e->e_busy || e->e_queued) {
		if (e->e_st.st_policy != NULL || cached)
			return STEP_ANSWER;
		if (start)		/* on_ready will tell */
			return c->c_pool != NULL ? STEP_STARTED : STEP_ANSWER;
		if (flags & LOOKUP_NOWAIT)
			return STEP_STARTED;
		rc = wait_busy(c, s, dl);
		/* While we waited the entry may have been evicted or
		 * flushed: find it again. */
		*ep = shard_get(c, s, h, domain);
		return rc == -1 && ((*ep)->e_busy || (*ep)->e_queued) ?
		    STEP_TIMEOUT : STEP_AGAIN;
	}
	if (!e->e_loaded) {
		if ((cached && !(flags & STS_LOOKUP_LOAD)) ||
		    (start && !pool))
			return STEP_ANSWER;	/* no disk on this thread */
		if (pool)
			return step_queue(c, e, flags, checked_here);
		load_entry(c, s, e);
		return STEP_AGAIN;
	}
	if (e->e_st.st_policy != NULL) {
		due = (flags & STS_LOOKUP_FORCE) ||
		    now - e->e_st.st_checked >= c->c_o.txt_check_interval ||
		    sts_state_refresh_due(&e->e_st, c->c_o.refresh_interval,
		    now);
		if (!due || *checked_here || cached)
			return STEP_ANSWER;
		if (flags & (STS_LOOKUP_ASYNC | STS_LOOKUP_BACKGROUND |
		    STS_LOOKUP_START)) {
			(void)cache_enqueue(c, e, JOB_REFRESH);
			return STEP_ANSWER;
		}
	} else if (*checked_here || cached ||
	    (now < e->e_st.st_neg_until && !(flags & STS_LOOKUP_FORCE)))
		return STEP_ANSWER;
	else if (pool)
		return step_queue(c, e, flags, checked_here);
	else if (start)
		return STEP_ANSWER;
	/* in the loop: its completion reports it, as a pool job's would */
	*checked_here = run_check(c, s, e, flags & STS_LOOKUP_FORCE) ?
	    CHECK_QUEUED : CHECK_RAN;
	return STEP_AGAIN;
}

/*
 * cache_report_failure - RFC 8461 6: a failed fetch is reportable (not for a
 * cached mode none).  Called, unlocked, after every lookup; reported by
 * the one that ran the check on its own thread (a caller's, a refresh
 * job's, a discovery job's: never also by a caller that only queued the
 * job, nor lost when that caller stops waiting), so the failures every
 * interface meets (gate, policy maps, refresher) reach the one handler
 * once each.
 */
void
cache_report_failure(struct sts_cache *c, const char *domain,
    const struct sts_lookup *l)
{
	if (l->fetch_failed && l->ran_check && c->c_fail_fn != NULL &&
	    (l->policy == NULL || l->policy->p_mode != STS_MODE_NONE))
		c->c_fail_fn(c->c_fail_arg, domain, l);
}

/* cache_lookup_locked - the lookup of e (found by shard_get); s locked; *hit
 * (if not NULL) 1 when answered from what the cache knew */
enum status
cache_lookup_locked(struct sts_cache *c, struct shard *s, struct entry *e,
    uint32_t h, const char *domain, int flags, struct sts_lookup *out,
    int *hit)
{
	static const char *const why[] = { "", "policy discovery still running",
	    "too many policy discoveries waiting", "policy discovery started" };
	int		 checked_here = 0, rc;
	struct timespec	 dl = { 0, 0 };

	while ((rc = lookup_step(c, s, &e, h, domain, flags, &checked_here,
	    &dl)) == STEP_AGAIN)
		;
	if (rc < 0) {
		snprintf(out->reason, sizeof(out->reason), "%s", why[-rc]);
		out->pending = rc == STEP_STARTED;
		return ST_TEMPFAIL;
	}
	cache_answer(&e->e_st, out);
	out->from_cache = !checked_here;
	out->ran_check = checked_here == CHECK_RAN;
	out->stamp = (uint64_t)(e->e_hash % NGEN) << 32 |
	    atomic_load_explicit(&c->c_gen[e->e_hash % NGEN],
	    memory_order_relaxed);
	if (hit != NULL)
		*hit = !checked_here;
	if (e->e_st.st_policy != NULL)
		return ST_OK;
	if (e->e_loaded && (clock_now() < e->e_st.st_neg_until ||
	    checked_here))
		return e->e_st.st_neg_status == ST_TEMPFAIL ? ST_TEMPFAIL :
		    ST_NOTFOUND;
	if (hit != NULL)
		*hit = 0;
	snprintf(out->reason, sizeof(out->reason), "not cached");
	return ST_TEMPFAIL;		/* CACHED only and nothing known */
}

enum status
sts_cache_lookup(struct sts_cache *c, const char *domain, int flags,
    struct sts_lookup *out)
{
	uint32_t	 h = cache_hash(domain);
	struct shard	*s = cache_shard(c, h);
	enum status	 st;
	int		 hit = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->s_mu);
	if ((flags & STS_LOOKUP_PEEK) && cache_find(s, h, domain) == NULL) {
		pthread_mutex_unlock(&s->s_mu);
		atomic_fetch_add_explicit(&s->s_misses, 1,
		    memory_order_relaxed);
		snprintf(out->reason, sizeof(out->reason), "not cached");
		return ST_TEMPFAIL;
	}
	st = cache_lookup_locked(c, s, shard_get(c, s, h, domain), h, domain, flags,
	    out, &hit);
	atomic_fetch_add_explicit(hit ? &s->s_hits : &s->s_misses, 1,
	    memory_order_relaxed);
	pthread_mutex_unlock(&s->s_mu);
	cache_report_failure(c, domain, out);
	return st;
}

void
sts_lookup_clear(struct sts_lookup *l)
{
	sts_policy_free(l->policy);
	memset(l, 0, sizeof(*l));
}

/* --- the pool of fetches and the refresh timer ---------------------- */









/* --- the rest --------------------------------------------------------- */

void
sts_cache_opts_conf(struct sts_cache_opts *o, const struct conf *c,
    struct dns *dns)
{
	memset(o, 0, sizeof(*o));
	o->state_dir = c->state_dir;
	o->dns = dns;
	o->fetch.ca_file = c->ca_file;
	o->fetch.connect_timeout_ms = c->fetch_connect_timeout * 1000;
	o->fetch.timeout_ms = c->fetch_timeout * 1000;
	o->fetch.max_body = (size_t)c->policy_max_size;
	o->txt_check_interval = c->txt_check_interval;
	o->refresh_interval = c->refresh_interval;
	o->fetch_backoff = c->fetch_backoff;
	o->negative_ttl = c->negative_ttl;
	o->tempfail_ttl = c->tempfail_ttl;
	o->max_entries = (size_t)c->cache_max_entries;
	o->wait_ms = c->gate_deadline * 1000;
	o->max_fetches = c->fetch_concurrency;
}

struct sts_cache *
sts_cache_new(const struct sts_cache_opts *o)
{
	struct sts_cache	*c = xcalloc(1, sizeof(*c));
	int			 i;

	c->c_o = *o;
	c->c_so.dns = o->dns;
	c->c_so.fetch = &c->c_o.fetch;
	c->c_so.refresh_interval = o->refresh_interval;
	c->c_so.fetch_backoff = o->fetch_backoff;
	c->c_so.negative_ttl = o->negative_ttl;
	c->c_so.tempfail_ttl = o->tempfail_ttl;
	/* The configuration that lent these strings may be freed (SIGHUP). */
	c->c_o.state_dir = o->state_dir ? xstrdup(o->state_dir) : NULL;
	c->c_o.fetch.ca_file = o->fetch.ca_file ? xstrdup(o->fetch.ca_file) :
	    NULL;
	if (c->c_o.max_entries == 0)
		c->c_o.max_entries = 2000000;
	if (o->state_dir != NULL && o->state_dir[0] != '\0') {
		c->c_dir = statedir_cache(o->state_dir);
		(void)mkdir(o->state_dir, 0750);
		if (mkdir(c->c_dir, 0750) != 0 && errno != EEXIST) {
			free(c->c_dir);
			c->c_dir = NULL;
		}
	}
	for (i = 0; i < NSHARD; i++) {
		pthread_mutex_init(&c->c_shard[i].s_mu, NULL);
		pthread_cond_init(&c->c_shard[i].s_cv, NULL);
		c->c_shard[i].s_nbuckets = 16;
		c->c_shard[i].s_tab = xcalloc(16, sizeof(struct entry *));
	}
	pthread_rwlock_init(&c->c_ready_lock, NULL);
	return c;
}

void
sts_cache_free(struct sts_cache *c)
{
	struct entry		*e, *next;
	size_t			 i, b;

	if (c == NULL)
		return;
	sts_pool_free(c->c_pool);
	atomic_store(&c->c_stopping, 1);
	/* what is in flight is dropped: lookups, then fetches */
	if (c->c_loop != NULL)
		dns_async_stop(c->c_so.dns);
	for (i = 0; i < (size_t)c->c_nloops; i++)
		http_loop_free(c->c_loops[i]);
	sts_writer_free(c->c_writer);	/* what is to write: written */
	fs_batch_free(&c->c_wbatch);
	pthread_rwlock_destroy(&c->c_ready_lock);
	for (i = 0; i < NSHARD; i++) {
		for (b = 0; b < c->c_shard[i].s_nbuckets; b++)
			for (e = c->c_shard[i].s_tab[b]; e; e = next) {
				next = e->e_next;
				entry_free(e);
			}
		free(c->c_shard[i].s_tab);
		pthread_mutex_destroy(&c->c_shard[i].s_mu);
		pthread_cond_destroy(&c->c_shard[i].s_cv);
	}
	free(c->c_dir);
	free((char *)(uintptr_t)c->c_o.state_dir);
	free((char *)(uintptr_t)c->c_o.fetch.ca_file);
	free(c);
}

int
sts_cache_flush(struct sts_cache *c, const char *domain)
{
	size_t		 i, b;
	struct entry	**pp, *e;
	int		 n = 0;

	sts_writer_drain(c->c_writer);	/* no queued write after it */
	if (c->c_l2 != NULL && c->c_l2->forget != NULL)	/* the fleet's */
		c->c_l2->forget(c->c_l2->arg, domain);
	/* The disk first: a lookup between the two steps then still finds
	 * the entry in memory, never reloads what is being flushed. */
	if (c->c_dir != NULL && domain != NULL)
		n = sts_store_remove(c->c_dir, domain) == 0;
	else if (c->c_dir != NULL)
		n = sts_store_clear(c->c_dir);
	for (i = 0; i < NSHARD; i++) {
		struct shard *s = &c->c_shard[i];

		pthread_mutex_lock(&s->s_mu);
		for (b = 0; b < s->s_nbuckets; b++)
			for (pp = &s->s_tab[b]; (e = *pp) != NULL;) {
				if (e->e_busy || e->e_queued || (domain &&
				    strcmp(domain, e->e_domain))) {
					pp = &e->e_next;
					continue;
				}
				*pp = e->e_next;
				cache_changed(c, e);
				entry_free(e);
				s->s_count--;
			}
		pthread_mutex_unlock(&s->s_mu);
	}
	return n;
}

struct foreach_arg {
	void	(*fn)(void *, const char *, const struct sts_lookup *);
	void	 *arg;
};

static void
foreach_one(void *arg, const char *domain, const struct sts_store_rec *r)
{
	struct foreach_arg	*fa = arg;
	struct sts_store_rec	 copy = *r;
	struct sts_state	 st;
	struct sts_lookup	 l;

	memset(&st, 0, sizeof(st));
	memset(&l, 0, sizeof(l));
	copy.policy = sts_policy_ref(r->policy);
	sts_state_from_rec(&st, &copy);
	memcpy(st.st_txt_id, st.st_id, sizeof(st.st_txt_id));
	free(st.st_reason);
	st.st_reason = NULL;
	cache_answer(&st, &l);
	l.from_cache = 1;
	fa->fn(fa->arg, domain, &l);
	sts_lookup_clear(&l);
	sts_state_clear(&st);
}

int
sts_cache_foreach(struct sts_cache *c, void (*fn)(void *, const char *,
    const struct sts_lookup *), void *arg)
{
	struct foreach_arg	fa = { fn, arg };

	if (c->c_dir == NULL)
		return 0;
	return sts_store_foreach(c->c_dir, foreach_one, &fa);
}

int
sts_cache_stamp_valid(struct sts_cache *c, uint64_t stamp)
{
	size_t	i = (size_t)(stamp >> 32);

	return i < NGEN && atomic_load_explicit(&c->c_gen[i],
	    memory_order_acquire) == (unsigned)(stamp & 0xffffffffu);
}

void
sts_cache_stats(struct sts_cache *c, struct sts_cache_stats *s)
{
	int	i;

	s->hits = s->misses = 0;
	for (i = 0; i < NSHARD; i++) {
		s->hits += atomic_load_explicit(&c->c_shard[i].s_hits,
		    memory_order_relaxed);
		s->misses += atomic_load_explicit(&c->c_shard[i].s_misses,
		    memory_order_relaxed);
	}
	for (i = 0; i < TLSRPT_RESULT_MAX; i++)
		s->fetches[i] = atomic_load_explicit(&c->c_fetches[i],
		    memory_order_relaxed);
}

size_t
sts_cache_size(struct sts_cache *c)
{
	size_t	i, n = 0;

	for (i = 0; i < NSHARD; i++) {
		pthread_mutex_lock(&c->c_shard[i].s_mu);
		n += c->c_shard[i].s_count;
		pthread_mutex_unlock(&c->c_shard[i].s_mu);
	}
	return n;
}
