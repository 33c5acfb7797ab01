/*
 * tcache.c - TTL cache with per-key single flight
 *
 * 16 shards, each a mutex, a condition variable and a chained table.
 * An entry either holds a value with an expiry or is "busy" (someone
 * computes it).  Expired values stay until replaced, so a waiter that
 * times out could be handed a stale value; we do not: freshness is the
 * point of the probe cache.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"
#include "tcache.h"
#include "xmalloc.h"

#define TC_SHARDS	16

struct tc_entry {
	struct tc_entry	*t_next;
	char		*t_key;
	uint32_t	 t_hash;
	void		*t_val;
	time_t		 t_expires;
	int		 t_busy;
};

struct tc_shard {
	pthread_mutex_t	  s_mu;
	pthread_cond_t	  s_cv;
	struct tc_entry	**s_tab;
	size_t		  s_nb, s_n;
};

struct tcache {
	struct tc_shard	  c_sh[TC_SHARDS];
	size_t		  c_max;
	void		*(*c_dup)(const void *);
	void		 (*c_free)(void *);
	const struct tcache_l2 *c_l2;	/* the fleet's store, or NULL */
};

struct tcache *
tcache_new(size_t max, void *(*dup)(const void *), void (*freefn)(void *))
{
	struct tcache	*c = xcalloc(1, sizeof(*c));
	int		 i;

	c->c_max = max ? max : 100000;
	c->c_dup = dup;
	c->c_free = freefn;
	for (i = 0; i < TC_SHARDS; i++) {
		pthread_mutex_init(&c->c_sh[i].s_mu, NULL);
		pthread_cond_init(&c->c_sh[i].s_cv, NULL);
		c->c_sh[i].s_nb = 64;
		c->c_sh[i].s_tab = xcalloc(64, sizeof(struct tc_entry *));
	}
	return c;
}

static void
tc_entry_free(struct tcache *c, struct tc_entry *e)
{
	if (e->t_val)
		c->c_free(e->t_val);
	free(e->t_key);
	free(e);
}

void
tcache_free(struct tcache *c)
{
	struct tc_entry	*e, *n;
	size_t		 i, b;

	if (c == NULL)
		return;
	for (i = 0; i < TC_SHARDS; i++) {
		for (b = 0; b < c->c_sh[i].s_nb; b++)
			for (e = c->c_sh[i].s_tab[b]; e; e = n) {
				n = e->t_next;
				tc_entry_free(c, e);
			}
		free(c->c_sh[i].s_tab);
		pthread_mutex_destroy(&c->c_sh[i].s_mu);
		pthread_cond_destroy(&c->c_sh[i].s_cv);
	}
	free(c);
}

static struct tc_entry **
tc_slot(struct tc_shard *s, uint32_t h, const char *key)
{
	struct tc_entry	**pp;

	for (pp = &s->s_tab[(h / TC_SHARDS) % s->s_nb]; *pp; pp = &(*pp)->t_next)
		if ((*pp)->t_hash == h && !strcmp((*pp)->t_key, key))
			return pp;
	return pp;
}

static void
tc_grow(struct tc_shard *s)
{
	size_t		  nb = s->s_nb * 2, b;
	struct tc_entry	**tab = xcalloc(nb, sizeof(*tab)), *e, *n;

	for (b = 0; b < s->s_nb; b++)
		for (e = s->s_tab[b]; e; e = n) {
			n = e->t_next;
			e->t_next = tab[(e->t_hash / TC_SHARDS) % nb];
			tab[(e->t_hash / TC_SHARDS) % nb] = e;
		}
	free(s->s_tab);
	s->s_tab = tab;
	s->s_nb = nb;
}

/* tc_prune - drop expired idle entries of one bucket chain, then any */
static void
tc_prune(struct tcache *c, struct tc_shard *s, time_t now)
{
	struct tc_entry	**pp, *e;
	size_t		  b;

	for (b = 0; b < s->s_nb && s->s_n * TC_SHARDS > c->c_max; b++)
		for (pp = &s->s_tab[b]; (e = *pp) != NULL;) {
			if (!e->t_busy && (e->t_expires <= now ||
			    s->s_n * TC_SHARDS > c->c_max + c->c_max / 4)) {
				*pp = e->t_next;
				tc_entry_free(c, e);
				s->s_n--;
			} else
				pp = &e->t_next;
		}
}

static void tc_store(struct tcache *, const char *, void *, time_t);

/* tc_l2_get - a miss: the second-level store's value if it has one
 * (TC_HIT, stored here for its time left), else TC_MISS (e is busy) */
static enum tc_res
tc_l2_get(struct tcache *c, const char *key, void **out)
{
	struct buf	 text = BUF_INIT;
	time_t		 ttl = 0;
	void		*v = NULL;

	if (c->c_l2 != NULL && c->c_l2->get(c->c_l2->arg, key, &text,
	    &ttl) == 0 && ttl > 0)
		v = c->c_l2->parse(text.b_data, text.b_len);
	buf_free(&text);
	if (v == NULL)
		return TC_MISS;
	*out = c->c_dup(v);
	tc_store(c, key, v, ttl);	/* wakes the waiters */
	return TC_HIT;
}

enum tc_res
tcache_get(struct tcache *c, const char *key, void **out, int64_t deadline_ms)
{
	uint32_t	  h = hash_fnv32(key);
	struct tc_shard	 *s = &c->c_sh[h % TC_SHARDS];
	struct tc_entry	**pp, *e;
	struct timespec	  ts;
	int64_t		  left;

	*out = NULL;
	pthread_mutex_lock(&s->s_mu);
	for (;;) {
		pp = tc_slot(s, h, key);
		if ((e = *pp) == NULL) {
			if (s->s_n >= s->s_nb)
				tc_grow(s);
			if (s->s_n * TC_SHARDS > c->c_max)
				tc_prune(c, s, clock_now());
			pp = tc_slot(s, h, key);
			e = xcalloc(1, sizeof(*e));
			e->t_key = xstrdup(key);
			e->t_hash = h;
			*pp = e;
			s->s_n++;
		}
		if (!e->t_busy && e->t_val && clock_now() < e->t_expires) {
			*out = c->c_dup(e->t_val);
			pthread_mutex_unlock(&s->s_mu);
			return TC_HIT;
		}
		if (!e->t_busy) {
			e->t_busy = 1;
			pthread_mutex_unlock(&s->s_mu);
			return tc_l2_get(c, key, out);
		}
		left = deadline_ms - clock_mono_ms();
		if (left <= 0) {
			pthread_mutex_unlock(&s->s_mu);
			return TC_TIMEOUT;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (long)(left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		(void)pthread_cond_timedwait(&s->s_cv, &s->s_mu, &ts);
	}
}

/* tc_store - tcache_put() without the second-level store */
static void
tc_store(struct tcache *c, const char *key, void *val, time_t ttl)
{
	uint32_t	  h = hash_fnv32(key);
	struct tc_shard	 *s = &c->c_sh[h % TC_SHARDS];
	struct tc_entry	 *e;

	pthread_mutex_lock(&s->s_mu);
	if ((e = *tc_slot(s, h, key)) != NULL) {
		if (e->t_val)
			c->c_free(e->t_val);
		e->t_val = val;
		e->t_expires = clock_now() + ttl;
		e->t_busy = 0;
	} else
		c->c_free(val);
	pthread_cond_broadcast(&s->s_cv);
	pthread_mutex_unlock(&s->s_mu);
}

void
tcache_put(struct tcache *c, const char *key, void *val, time_t ttl)
{
	struct buf	text = BUF_INIT;

	/* val is the caller's until stored: its text first */
	if (c->c_l2 != NULL && c->c_l2->fmt(val, &text) == 0 &&
	    !text.b_trunc && ttl > 0) {
		tc_store(c, key, val, ttl);
		c->c_l2->put(c->c_l2->arg, key, &text, ttl);
	} else
		tc_store(c, key, val, ttl);
	buf_free(&text);
}

void
tcache_set_l2(struct tcache *c, const struct tcache_l2 *l2)
{
	c->c_l2 = l2;
}

void
tcache_abandon(struct tcache *c, const char *key)
{
	uint32_t	  h = hash_fnv32(key);
	struct tc_shard	 *s = &c->c_sh[h % TC_SHARDS];
	struct tc_entry	 *e;

	pthread_mutex_lock(&s->s_mu);
	if ((e = *tc_slot(s, h, key)) != NULL)
		e->t_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
	pthread_mutex_unlock(&s->s_mu);
}
