/*
 * pmap_fetch.c - the policy map's fetch step without a thread per fetch
 * (see pmap_fetch.h)
 *
 * Waiting jobs sit in a hash table by domain (64 mutexes; they are
 * linked through j_next, which the job pool does not use for them).
 * A job is answered exactly once: by pmap_fetch_start() when the cache
 * answers at once and the job is still in the table, else by ready().
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "log.h"
#include "pmap_fetch.h"
#include "xmalloc.h"

#define NBUCKET	1024
#define NLOCK	64		/* bucket b is under f_mu[b % NLOCK] */

struct pmap_fetch {
	struct sts_cache	*f_cache;
	void			(*f_done)(void *, struct pmap_job *);
	void			*f_arg;
	/* several: a reactor never waits for a pool thread (nice +10)
	 * that holds the one lock of an unrelated domain */
	pthread_mutex_t		 f_mu[NLOCK];
	struct pmap_job		*f_wait[NBUCKET];
};

static size_t
bucket(const char *domain)
{
	return hash_fnv32(domain) % NBUCKET;
}

/* take - remove j from the table; 0 if it was not there (answered) */
static int
take(struct pmap_fetch *f, struct pmap_job *j)
{
	struct pmap_job	**pp;
	size_t		  b = bucket(j->j_domain);
	int		  found = 0;

	pthread_mutex_lock(&f->f_mu[b % NLOCK]);
	for (pp = &f->f_wait[b]; *pp != NULL; pp = &(*pp)->j_next)
		if (*pp == j) {
			*pp = j->j_next;
			found = 1;
			break;
		}
	pthread_mutex_unlock(&f->f_mu[b % NLOCK]);
	return found;
}

/* finish - j's answer is what the cache says now (fetched: after the
 * discovery j waited for, not from the cache); hand it back */
static void
finish(struct pmap_fetch *f, struct pmap_job *j, int flags, int fetched)
{
	j->j_st = sts_cache_lookup(f->f_cache, j->j_domain, flags, &j->j_l);
	if (fetched)
		j->j_l.from_cache = 0;	/* logged as cache=fetched */
	if (j->j_st == ST_TEMPFAIL)
		log_debug(LOG_LEVEL_EVENTS, "policymap: domain=%s "
		    "result=temperror reason=%s", j->j_domain, j->j_l.reason);
	f->f_done(f->f_arg, j);
}

/* ready - the cache's pool has done domain: answer its waiting jobs */
static void
ready(void *arg, const char *domain)
{
	struct pmap_fetch	*f = arg;
	struct pmap_job		**pp, *j, *mine = NULL;
	size_t			  b = bucket(domain);

	pthread_mutex_lock(&f->f_mu[b % NLOCK]);
	for (pp = &f->f_wait[b]; (j = *pp) != NULL;) {
		if (strcmp(j->j_domain, domain) != 0) {
			pp = &j->j_next;
			continue;
		}
		*pp = j->j_next;
		j->j_next = mine;
		mine = j;
	}
	pthread_mutex_unlock(&f->f_mu[b % NLOCK]);
	while ((j = mine) != NULL) {
		mine = j->j_next;
		j->j_next = NULL;
		/* what the pool found; no new work from here */
		finish(f, j, STS_LOOKUP_CACHED, 1);
	}
}

struct pmap_fetch *
pmap_fetch_new(struct sts_cache *cache, void (*done)(void *,
    struct pmap_job *), void *arg)
{
	struct pmap_fetch	*f = xcalloc(1, sizeof(*f));
	int			 i;

	f->f_cache = cache;
	f->f_done = done;
	f->f_arg = arg;
	for (i = 0; i < NLOCK; i++)
		pthread_mutex_init(&f->f_mu[i], NULL);
	sts_cache_on_ready(cache, ready, f);
	return f;
}

void
pmap_fetch_start(struct pmap_fetch *f, struct pmap_job *j)
{
	struct sts_lookup	l;
	enum status		st;
	size_t			b = bucket(j->j_domain);

	/* in the table first: ready() may come before the lookup returns */
	pthread_mutex_lock(&f->f_mu[b % NLOCK]);
	j->j_next = f->f_wait[b];
	f->f_wait[b] = j;
	pthread_mutex_unlock(&f->f_mu[b % NLOCK]);
	st = sts_cache_lookup(f->f_cache, j->j_domain, STS_LOOKUP_ASYNC |
	    STS_LOOKUP_START, &l);
	if (l.pending) {		/* ready() will answer it */
		sts_lookup_clear(&l);
		return;
	}
	if (!take(f, j)) {		/* ready() answered it already */
		sts_lookup_clear(&l);
		return;
	}
	j->j_next = NULL;
	j->j_st = st;
	j->j_l = l;
	if (st == ST_TEMPFAIL)
		log_debug(LOG_LEVEL_EVENTS, "policymap: domain=%s "
		    "result=temperror reason=%s", j->j_domain, l.reason);
	f->f_done(f->f_arg, j);
}

void
pmap_fetch_free(struct pmap_fetch *f)
{
	struct pmap_job	*j;
	size_t		 b;

	if (f == NULL)
		return;
	sts_cache_on_ready(f->f_cache, NULL, NULL);	/* no ready() after */
	for (b = 0; b < NBUCKET; b++)
		while ((j = f->f_wait[b]) != NULL) {
			f->f_wait[b] = j->j_next;
			pmap_job_free(j);
		}
	for (b = 0; b < NLOCK; b++)
		pthread_mutex_destroy(&f->f_mu[b]);
	free(f);
}
