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
#include "statedir.h"
#include "sts_cache.h"
#include "sts_state.h"
#include "sts_store.h"
#include "xmalloc.h"

#define NSHARD		64

struct entry {
	struct entry		*e_next;
	uint32_t		 e_hash;
	char			*e_domain;
	struct sts_state	 e_st;
	int			 e_loaded;	/* read from disk (or no disk) */
	int			 e_busy;
	int			 e_queued;
};

struct shard {
	pthread_mutex_t		  s_mu;
	pthread_cond_t		  s_cv;
	struct entry		**s_tab;
	size_t			  s_nbuckets;
	size_t			  s_count;
	size_t			  s_evict;	/* rotating eviction cursor */
	/* Bumped (under s_mu) whenever an entry's answer may change;
	 * read without the lock by sts_cache_stamp_valid(). */
	atomic_uint		  s_gen;
};

struct queue_item {
	struct queue_item	*q_next;
	char			*q_domain;
};

struct sts_cache {
	struct sts_cache_opts	 c_o;
	struct sts_state_opts	 c_so;
	char			*c_dir;		/* <state_dir>/cache or NULL */
	struct shard		 c_shard[NSHARD];
	pthread_mutex_t		 c_qmu;
	pthread_cond_t		 c_qcv;
	struct queue_item	*c_qhead, *c_qtail;
	int			 c_stop;
	int			 c_nthreads;
	void			(*c_fail_fn)(void *, const char *,
				    const struct sts_lookup *);
	void			*c_fail_arg;
	pthread_t		*c_threads;
};

static uint32_t
hash_domain(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static void
entry_free(struct entry *e)
{
	sts_state_clear(&e->e_st);
	free(e->e_domain);
	free(e);
}

/* --- the table -------------------------------------------------------- */

/* changed - an entry of s changed what lookups answer; s locked */
static void
changed(struct shard *s)
{
	atomic_fetch_add_explicit(&s->s_gen, 1, memory_order_release);
}

static struct shard *
shard_of(struct sts_cache *c, uint32_t h)
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
shard_evict(struct shard *s, const struct entry *keep)
{
	size_t		 i, b;
	struct entry	**pp, *e;

	for (i = 0; i < s->s_nbuckets; i++) {
		b = (s->s_evict + i) % s->s_nbuckets;
		for (pp = &s->s_tab[b]; (e = *pp) != NULL; pp = &e->e_next) {
			if (e == keep || e->e_busy || e->e_queued)
				continue;
			*pp = e->e_next;
			entry_free(e);
			s->s_count--;
			s->s_evict = b + 1;
			changed(s);
			return;
		}
	}
}

static struct entry *
shard_find(struct shard *s, uint32_t h, const char *domain)
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

	if ((e = shard_find(s, h, domain)) != NULL)
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
		shard_evict(s, e);
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
		changed(s);
	}
	sts_store_rec_clear(&r);
	e->e_loaded = 1;
	e->e_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
}

/* persist - write e's file; s locked on entry and exit, e busy */
static void
persist(struct sts_cache *c, struct shard *s, struct entry *e)
{
	struct sts_store_rec	r;
	struct buf		data = BUF_INIT;

	if (c->c_dir == NULL || e->e_st.st_policy == NULL)
		return;
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
	e->e_busy = 1;
	pthread_mutex_unlock(&s->s_mu);
	(void)sts_store_remove(c->c_dir, e->e_domain);
	pthread_mutex_lock(&s->s_mu);
	e->e_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
}

/* --- lookups ---------------------------------------------------------- */

static void
answer(const struct sts_state *st, struct sts_lookup *out)
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

/* run_check - discover for e and apply; shard locked on entry and exit */
static void
run_check(struct sts_cache *c, struct shard *s, struct entry *e, int force)
{
	struct sts_state_snap	 sn;
	struct sts_state_outcome o;
	int			 save;

	sts_state_snapshot(&e->e_st, &c->c_so, e->e_domain, force,
	    clock_now(), &sn);
	e->e_busy = 1;
	pthread_mutex_unlock(&s->s_mu);

	sts_state_discover(&c->c_so, &sn, &o);

	pthread_mutex_lock(&s->s_mu);
	save = sts_state_apply(&e->e_st, &c->c_so, &o, clock_now());
	changed(s);
	pthread_cond_broadcast(&s->s_cv);	/* waiters may use it now */
	if (save)
		persist(c, s, e);
	e->e_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
	sts_state_outcome_clear(&o);
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

static void enqueue(struct sts_cache *, struct entry *);

/*
 * lookup_step - one decision of the lookup loop; s locked.  Returns
 * 1 to decide again (something ran or changed), 0 to answer, -1 when
 * a wait for another thread timed out.
 */
static int
lookup_step(struct sts_cache *c, struct shard *s, struct entry **ep,
    uint32_t h, const char *domain, int flags, int *checked_here,
    struct timespec *dl)
{
	struct entry	*e = *ep;
	time_t		 now = clock_now();
	int		 cached = flags & STS_LOOKUP_CACHED, rc;

	if (!e->e_loaded && !e->e_busy) {
		if (cached && !(flags & STS_LOOKUP_LOAD))
			return 0;		/* no disk on this thread */
		load_entry(c, s, e);
		return 1;
	}
	if (!*checked_here && sts_state_expire(&e->e_st, now)) {
		changed(s);
		if (!e->e_busy)		/* else the running check persists */
			unpersist(c, s, e);
		return 1;
	}
	if (e->e_st.st_policy != NULL) {
		int due = (flags & STS_LOOKUP_FORCE) ||
		    now - e->e_st.st_checked >= c->c_o.txt_check_interval ||
		    sts_state_refresh_due(&e->e_st, c->c_o.refresh_interval,
		    now);

		if (!due || *checked_here || e->e_busy || cached)
			return 0;
		if (flags & STS_LOOKUP_ASYNC) {
			enqueue(c, e);
			return 0;
		}
	} else if (e->e_busy) {
		if (cached)
			return 0;
		rc = wait_busy(c, s, dl);
		/* While we waited the entry may have been evicted or
		 * flushed: find it again. */
		*ep = shard_get(c, s, h, domain);
		return rc == -1 && (*ep)->e_busy ? -1 : 1;
	} else if (*checked_here || cached ||
	    (now < e->e_st.st_neg_until && !(flags & STS_LOOKUP_FORCE)))
		return 0;
	run_check(c, s, e, flags & STS_LOOKUP_FORCE);
	*checked_here = 1;
	return 1;
}

enum status
sts_cache_lookup(struct sts_cache *c, const char *domain, int flags,
    struct sts_lookup *out)
{
	uint32_t	 h = hash_domain(domain);
	struct shard	*s = shard_of(c, h);
	struct entry	*e;
	int		 checked_here = 0, rc;
	enum status	 st;
	struct timespec	 dl = { 0, 0 };

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->s_mu);
	if ((flags & STS_LOOKUP_PEEK) && shard_find(s, h, domain) == NULL) {
		pthread_mutex_unlock(&s->s_mu);
		snprintf(out->reason, sizeof(out->reason), "not cached");
		return ST_TEMPFAIL;
	}
	e = shard_get(c, s, h, domain);
	while ((rc = lookup_step(c, s, &e, h, domain, flags, &checked_here,
	    &dl)) == 1)
		;
	if (rc == -1) {
		pthread_mutex_unlock(&s->s_mu);
		snprintf(out->reason, sizeof(out->reason),
		    "policy discovery still running");
		return ST_TEMPFAIL;
	}
	answer(&e->e_st, out);
	out->from_cache = !checked_here;
	out->stamp = (uint64_t)(s - c->c_shard) << 32 |
	    atomic_load_explicit(&s->s_gen, memory_order_relaxed);
	if (e->e_st.st_policy != NULL)
		st = ST_OK;
	else if (e->e_loaded && (clock_now() < e->e_st.st_neg_until ||
	    checked_here))
		st = e->e_st.st_neg_status == ST_TEMPFAIL ? ST_TEMPFAIL :
		    ST_NOTFOUND;
	else {
		st = ST_TEMPFAIL;	/* CACHED only and nothing known */
		snprintf(out->reason, sizeof(out->reason), "not cached");
	}
	pthread_mutex_unlock(&s->s_mu);
	return st;
}

void
sts_lookup_clear(struct sts_lookup *l)
{
	sts_policy_free(l->policy);
	memset(l, 0, sizeof(*l));
}

/* --- background refresh ----------------------------------------------- */

/* enqueue - queue e for a background check; shard locked */
static void
enqueue(struct sts_cache *c, struct entry *e)
{
	struct queue_item *q;

	if (e->e_queued || c->c_nthreads == 0)
		return;
	e->e_queued = 1;
	q = xcalloc(1, sizeof(*q));
	q->q_domain = xstrdup(e->e_domain);
	pthread_mutex_lock(&c->c_qmu);
	if (c->c_qtail)
		c->c_qtail->q_next = q;
	else
		c->c_qhead = q;
	c->c_qtail = q;
	pthread_cond_signal(&c->c_qcv);
	pthread_mutex_unlock(&c->c_qmu);
}

/* scan_due - queue every cached policy whose refresh is due */
static void
scan_due(struct sts_cache *c)
{
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
					enqueue(c, e);
		pthread_mutex_unlock(&s->s_mu);
	}
}

static void *
refresher(void *arg)
{
	struct sts_cache	*c = arg;
	struct queue_item	*q;
	struct timespec		 ts;
	struct sts_lookup	 l;
	uint32_t		 h;
	struct shard		*s;
	struct entry		*e;

	for (;;) {
		pthread_mutex_lock(&c->c_qmu);
		while (c->c_qhead == NULL && !c->c_stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 60;
			if (pthread_cond_timedwait(&c->c_qcv, &c->c_qmu, &ts) ==
			    ETIMEDOUT) {
				pthread_mutex_unlock(&c->c_qmu);
				scan_due(c);
				pthread_mutex_lock(&c->c_qmu);
			}
		}
		if (c->c_stop) {
			pthread_mutex_unlock(&c->c_qmu);
			return NULL;
		}
		q = c->c_qhead;
		c->c_qhead = q->q_next;
		if (c->c_qhead == NULL)
			c->c_qtail = NULL;
		pthread_mutex_unlock(&c->c_qmu);

		h = hash_domain(q->q_domain);
		s = shard_of(c, h);
		pthread_mutex_lock(&s->s_mu);
		if ((e = shard_find(s, h, q->q_domain)) != NULL)
			e->e_queued = 0;
		pthread_mutex_unlock(&s->s_mu);
		(void)sts_cache_lookup(c, q->q_domain, 0, &l);
		/* RFC 8461 6: a failed refresh is reportable (not for none) */
		if (l.fetch_failed && !l.from_cache && c->c_fail_fn != NULL &&
		    (l.policy == NULL || l.policy->p_mode != STS_MODE_NONE))
			c->c_fail_fn(c->c_fail_arg, q->q_domain, &l);
		sts_lookup_clear(&l);
		free(q->q_domain);
		free(q);
	}
}

void
sts_cache_on_fetch_failure(struct sts_cache *c, void (*fn)(void *,
    const char *, const struct sts_lookup *), void *arg)
{
	c->c_fail_arg = arg;
	c->c_fail_fn = fn;
}

int
sts_cache_start_refresher(struct sts_cache *c, int n)
{
	int	i;

	c->c_threads = xcalloc((size_t)n, sizeof(pthread_t));
	for (i = 0; i < n; i++) {
		if (pthread_create(&c->c_threads[i], NULL, refresher, c) != 0)
			return -1;
		c->c_nthreads++;
	}
	return 0;
}

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
	pthread_mutex_init(&c->c_qmu, NULL);
	pthread_cond_init(&c->c_qcv, NULL);
	return c;
}

void
sts_cache_free(struct sts_cache *c)
{
	struct entry		*e, *next;
	struct queue_item	*q;
	size_t			 i, b;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->c_qmu);
	c->c_stop = 1;
	pthread_cond_broadcast(&c->c_qcv);
	pthread_mutex_unlock(&c->c_qmu);
	for (i = 0; i < (size_t)c->c_nthreads; i++)
		pthread_join(c->c_threads[i], NULL);
	free(c->c_threads);
	while ((q = c->c_qhead) != NULL) {
		c->c_qhead = q->q_next;
		free(q->q_domain);
		free(q);
	}
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
				entry_free(e);
				s->s_count--;
				changed(s);
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
	answer(&st, &l);
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

	return i < NSHARD && atomic_load_explicit(&c->c_shard[i].s_gen,
	    memory_order_acquire) == (unsigned)(stamp & 0xffffffffu);
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
