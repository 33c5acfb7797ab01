/*
 * dane_cache.c - DANE verdicts per domain, kept for their DNS TTL
 *
 * SYNOPSIS
 *	#include "dane_cache.h"
#include "hash.h"
 *
 *	struct dane_cache *dane_cache_new(struct dns *, size_t max_entries);
 *	int dane_cache_peek(struct dane_cache *, const char *domain,
 *	    enum dane_state *st);
 *	enum dane_state dane_cache_get(struct dane_cache *, const char *domain,
 *	    struct dane_result *copy);
 *
 * DESCRIPTION
 *	A verdict of dane_lookup() is kept for the smallest TTL of the
 *	answers it used, clamped to [DANE_CACHE_MIN_TTL, DANE_CACHE_MAX_TTL];
 *	bogus and tempfail verdicts for DANE_CACHE_FAIL_TTL, so a repaired
 *	zone is seen soon and a broken one is not asked for on every
 *	message.  Time is the clock seam's (clock_now).  Domains are
 *	compared without case.  When max_entries are kept, expired ones
 *	are dropped; if none has expired the new verdict is returned but
 *	not kept.  Single-flight: a thread that misses a domain whose
 *	lookup another thread is running waits for that lookup's verdict
 *	instead of making its own (dane_cache_counts: lookups made, misses
 *	that joined one).
 *
 * THREAD SAFETY
 *	One mutex around the table and the lookups in flight; lookups run
 *	outside it, the on_bogus hook too.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "dane.h"
#include "dane_cache.h"
#include "hash.h"
#include "xmalloc.h"

struct dane_entry {
	char			*domain;
	time_t			 expires;
	struct dane_result	 r;
	struct dane_entry	*next;		/* same bucket */
};

/* A lookup in flight: the threads that miss the same domain meanwhile
 * wait for its verdict instead of looking it up again. */
struct dane_flight {
	char			*domain;
	pthread_cond_t		 cv;
	int			 done, waiters;
	struct dane_result	 r;		/* when done */
	struct dane_flight	*next;
};

struct dane_cache {
	pthread_mutex_t		 mu;
	struct dane_flight	*flights;	/* in flight, under mu */
	unsigned long		 lookups, joined;	/* under mu */
	struct dns		*dns;
	struct dane_entry	**b;		/* nb buckets */
	size_t			 nb, n, max;
	dane_bogus_fn		*on_bogus;
	void			*on_bogus_arg;
};

struct dane_cache *
dane_cache_new(struct dns *dns, size_t max_entries)
{
	struct dane_cache	*dc = xcalloc(1, sizeof(*dc));

	pthread_mutex_init(&dc->mu, NULL);
	dc->dns = dns;
	dc->max = max_entries > 0 ? max_entries : 1;
	for (dc->nb = 64; dc->nb < dc->max && dc->nb < (1u << 24); )
		dc->nb <<= 1;
	dc->b = xcalloc(dc->nb, sizeof(*dc->b));
	return dc;
}

static void
dane_entry_free(struct dane_entry *e)
{
	free(e->domain);
	dane_result_clear(&e->r);
	free(e);
}

void
dane_cache_free(struct dane_cache *dc)
{
	struct dane_entry	*e, *next;
	size_t			 i;

	if (dc == NULL)
		return;
	for (i = 0; i < dc->nb; i++)
		for (e = dc->b[i]; e != NULL; e = next) {
			next = e->next;
			dane_entry_free(e);
		}
	free(dc->b);
	pthread_mutex_destroy(&dc->mu);
	free(dc);
}

void
dane_cache_on_bogus(struct dane_cache *dc, dane_bogus_fn *fn, void *arg)
{
	dc->on_bogus = fn;
	dc->on_bogus_arg = arg;
}

size_t
dane_cache_count(struct dane_cache *dc)
{
	size_t	n;

	pthread_mutex_lock(&dc->mu);
	n = dc->n;
	pthread_mutex_unlock(&dc->mu);
	return n;
}

/* dane_cache_slot - the bucket of domain (FNV-1a, case folded) */
static struct dane_entry **
dane_cache_slot(struct dane_cache *dc, const char *domain)
{
	return &dc->b[hash_fnv32_lower(domain) & (dc->nb - 1)];
}

/* under mu */
static struct dane_entry *
dane_cache_find(struct dane_cache *dc, const char *domain)
{
	struct dane_entry	*e;

	for (e = *dane_cache_slot(dc, domain); e != NULL; e = e->next)
		if (strcasecmp(e->domain, domain) == 0)
			return e;
	return NULL;
}

/* dane_cache_prune - drop every expired entry; under mu */
static void
dane_cache_prune(struct dane_cache *dc, time_t now)
{
	struct dane_entry	**pp, *e;
	size_t			  i;

	for (i = 0; i < dc->nb; i++)
		for (pp = &dc->b[i]; (e = *pp) != NULL; ) {
			if (e->expires > now) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			dane_entry_free(e);
			dc->n--;
		}
}

static void
dane_result_copy(struct dane_result *dst, const struct dane_result *src)
{
	size_t	i, j;

	*dst = *src;
	for (i = 0; i < src->nhost; i++) {
		dst->host[i].name = xstrdup(src->host[i].name);
		dst->host[i].cname = src->host[i].cname == NULL ? NULL :
		    xstrdup(src->host[i].cname);
		dst->host[i].tlsa = src->host[i].ntlsa == 0 ? NULL :
		    xcalloc(src->host[i].ntlsa, sizeof(char *));
		for (j = 0; j < src->host[i].ntlsa; j++)
			dst->host[i].tlsa[j] = xstrdup(src->host[i].tlsa[j]);
	}
}

int
dane_cache_peek(struct dane_cache *dc, const char *domain,
    enum dane_state *st)
{
	struct dane_entry	*e;
	int			 hit = 0, usable;

	pthread_mutex_lock(&dc->mu);
	if ((e = dane_cache_find(dc, domain)) != NULL &&
	    e->expires > clock_now()) {
		*st = e->r.state;
		hit = 1;
	}
	pthread_mutex_unlock(&dc->mu);
	/* validation known not to work: dane_lookup() would say DANE_NONE
	 * without a query, so no lookup (no thread) is needed for it */
	if (!hit && dns_dnssec_known(dc->dns, &usable) && !usable) {
		*st = DANE_NONE;
		hit = 1;
	}
	return hit;
}

int
dane_cache_peek_host(struct dane_cache *dc, const char *domain,
    const char *host, struct buf *records)
{
	struct dane_entry	*e;
	const struct dane_host	*h;
	int			 hit = 0;

	pthread_mutex_lock(&dc->mu);
	if ((e = dane_cache_find(dc, domain)) != NULL &&
	    e->expires > clock_now() && (e->r.state == DANE_ALL ||
	    e->r.state == DANE_SOME) &&
	    (h = dane_host_find(&e->r, host)) != NULL &&
	    h->state == DANE_H_USABLE) {
		if (records != NULL)
			dane_policy_string((const char *const *)h->tlsa,
			    h->ntlsa, records);
		hit = 1;
	}
	pthread_mutex_unlock(&dc->mu);
	return hit;
}

/* dane_cache_put - keep r (taken over) for domain; under mu */
static void
dane_cache_put(struct dane_cache *dc, const char *domain,
    struct dane_result *r, time_t now)
{
	struct dane_entry	*e, **slot;
	unsigned		 ttl = r->ttl;

	if (r->state == DANE_BOGUS || r->state == DANE_TEMPFAIL)
		ttl = DANE_CACHE_FAIL_TTL;
	else if (ttl < DANE_CACHE_MIN_TTL)
		ttl = DANE_CACHE_MIN_TTL;
	else if (ttl > DANE_CACHE_MAX_TTL)
		ttl = DANE_CACHE_MAX_TTL;
	if ((e = dane_cache_find(dc, domain)) != NULL)
		dane_result_clear(&e->r);
	else {
		if (dc->n >= dc->max)
			dane_cache_prune(dc, now);
		if (dc->n >= dc->max) {
			dane_result_clear(r);
			return;
		}
		e = xcalloc(1, sizeof(*e));
		e->domain = xstrdup(domain);
		slot = dane_cache_slot(dc, domain);
		e->next = *slot;
		*slot = e;
		dc->n++;
	}
	e->r = *r;
	e->expires = now + (time_t)ttl;
	memset(r, 0, sizeof(*r));
}

/* dane_flight_free - under mu, once nobody refers to f any more */
static void
dane_flight_free(struct dane_flight *f)
{
	free(f->domain);
	dane_result_clear(&f->r);
	pthread_cond_destroy(&f->cv);
	free(f);
}

/* dane_flight_join - wait (under mu) for f's verdict */
static enum dane_state
dane_flight_join(struct dane_cache *dc, struct dane_flight *f,
    struct dane_result *copy)
{
	enum dane_state	st;

	f->waiters++;
	dc->joined++;
	while (!f->done)
		pthread_cond_wait(&f->cv, &dc->mu);
	st = f->r.state;
	if (copy != NULL)
		dane_result_copy(copy, &f->r);
	if (--f->waiters == 0)
		dane_flight_free(f);	/* the leader has let go */
	return st;
}

enum dane_state
dane_cache_get(struct dane_cache *dc, const char *domain,
    struct dane_result *copy)
{
	struct dane_entry	*e;
	struct dane_flight	*f, **pp;
	struct dane_result	 r;
	struct buf		 why = BUF_INIT;
	enum dane_state		 st;
	time_t			 now = clock_now();

	pthread_mutex_lock(&dc->mu);
	if ((e = dane_cache_find(dc, domain)) != NULL && e->expires > now) {
		st = e->r.state;
		if (copy != NULL)
			dane_result_copy(copy, &e->r);
		pthread_mutex_unlock(&dc->mu);
		return st;
	}
	for (f = dc->flights; f != NULL; f = f->next)
		if (strcasecmp(f->domain, domain) == 0) {
			st = dane_flight_join(dc, f, copy);
			pthread_mutex_unlock(&dc->mu);
			return st;
		}
	f = xcalloc(1, sizeof(*f));
	f->domain = xstrdup(domain);
	pthread_cond_init(&f->cv, NULL);
	f->next = dc->flights;
	dc->flights = f;
	dc->lookups++;
	pthread_mutex_unlock(&dc->mu);

	dane_lookup(dc->dns, domain, &r, &why);
	buf_free(&why);
	st = r.state;
	if (st == DANE_BOGUS && dc->on_bogus != NULL)
		dc->on_bogus(dc->on_bogus_arg, domain, &r);
	if (copy != NULL)
		dane_result_copy(copy, &r);
	pthread_mutex_lock(&dc->mu);
	for (pp = &dc->flights; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	f->done = 1;
	if (f->waiters > 0) {
		dane_result_copy(&f->r, &r);
		pthread_cond_broadcast(&f->cv);
	} else
		dane_flight_free(f);
	dane_cache_put(dc, domain, &r, now);
	pthread_mutex_unlock(&dc->mu);
	dane_result_clear(&r);		/* when not kept */
	return st;
}

void
dane_cache_counts(struct dane_cache *dc, unsigned long *lookups,
    unsigned long *joined)
{
	pthread_mutex_lock(&dc->mu);
	*lookups = dc->lookups;
	*joined = dc->joined;
	pthread_mutex_unlock(&dc->mu);
}
