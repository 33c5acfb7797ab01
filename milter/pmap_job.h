/*
 * pmap_job.h - the policy map's work that may block: the fetch step
 * and the Exim hook
 *
 * A reactor (pmap_server.c) never does network or file I/O.  What
 * needs it becomes a job, run by a pool of worker threads (workq.h:
 * started on demand, up to nthreads):
 *   lookup  sts_cache_lookup(STS_LOOKUP_ASYNC) of j_domain into j_st,
 *	     j_l (the fetch step: blocks only while nothing is known yet),
 *	     and with a DANE cache (pmap_job_pool_set_dane) the domain's
 *	     DANE verdict into j_dane (dane_cache_get: DNS lookups);
 *   event   the Exim hook with j_ev, or its invalid() with j_invalid.
 * When a job is done the pool calls done(arg, j) from the worker; the
 * owner takes the job back from there (and frees it).  The fields under
 * "the owner's" are never touched by the pool.
 */
#ifndef PMAP_JOB_H
#define PMAP_JOB_H

#include <pthread.h>

#include "buf.h"
#include "dane_cache.h"
#include "domain.h"
#include "exim_event.h"
#include "status.h"
#include "sts_cache.h"

enum pmap_job_kind { PMAP_JOB_LOOKUP, PMAP_JOB_EVENT };

/* the Exim hook (pmap_server.h): event(arg, ev) for a TLS outcome or a
 * veto, invalid(arg, why) for a line that could not be read */
struct pmap_exim_hook {
	void	(*event)(void *arg, const struct exim_event *);
	void	(*invalid)(void *arg, const char *why);
	void	 *arg;
};

struct conn;

struct pmap_job {
	enum pmap_job_kind	 j_kind;
	struct pmap_job		*j_next;	/* the pool's queue */
	/* lookup: the domain, then what the fetch step found */
	char			 j_domain[DOMAIN_MAX + 1];
	enum status		 j_st;
	struct sts_lookup	 j_l;
	enum dane_state		 j_dane;	/* DANE_NONE without a cache */
	/* event: the event, or why its line was invalid */
	struct exim_event	*j_ev;
	char			*j_invalid;
	/* the owner's */
	int			 j_owner;
	struct pmap_job		*j_onext;
	struct conn		*j_waiters;
	struct buf		 j_reply;
};

struct pmap_job_pool;

/* pmap_job_pool_new - nthreads workers (started at once); hook is the
 * owner's and must outlive the pool */
struct pmap_job_pool *pmap_job_pool_new(int nthreads, struct sts_cache *,
		    const struct pmap_exim_hook *,
		    void (*done)(void *arg, struct pmap_job *), void *arg);
/* pmap_job_pool_set_fetch - lookups go on to f (pmap_fetch.h) after
 * their DANE verdict instead of blocking in a worker; before the first
 * job */
struct pmap_fetch;
void		 pmap_job_pool_set_fetch(struct pmap_job_pool *,
		    struct pmap_fetch *);
/* pmap_job_pool_set_dane - lookups also ask dc (STS-DANE-1); before
 * the first job */
void		 pmap_job_pool_set_dane(struct pmap_job_pool *,
		    struct dane_cache *dc);
/* pmap_job_pool_stop - let the workers finish the job in hand, join
 * them, free the jobs never started; NULL is fine */
void		 pmap_job_pool_stop(struct pmap_job_pool *);
/* pmap_job_start - queue j; done() will get it back (at once, not run,
 * when 65536 jobs are waiting: a lookup then answers ST_TEMPFAIL) */
void		 pmap_job_start(struct pmap_job_pool *, struct pmap_job *);

/* pmap_job_lookup - a new lookup job for domain */
struct pmap_job	*pmap_job_lookup(const char *domain);
/* pmap_job_report - a new event job for the words of an "exim-tlsrpt"
 * line (exim_event_read; an invalid line goes to the hook's invalid) */
struct pmap_job	*pmap_job_report(const char *words);
/* pmap_job_veto - a new event job: Exim was told not to connect to MX
 * host mx of domain at ip (NULL: not known; exim_event_veto) */
struct pmap_job	*pmap_job_veto(const char *domain, const char *mx,
		    const char *ip);
void		 pmap_job_free(struct pmap_job *);

/*
 * A box: where finished jobs wait for their owner.  pmap_job_box_post()
 * may be called from any thread; it makes fd readable.  The owner polls
 * fd and takes every job with pmap_job_box_take().
 */
struct pmap_job_box {
	int		 fd;		/* eventfd */
	pthread_mutex_t	 mu;
	struct pmap_job	*head;
};
int		 pmap_job_box_init(struct pmap_job_box *);
void		 pmap_job_box_post(struct pmap_job_box *, struct pmap_job *);
struct pmap_job	*pmap_job_box_take(struct pmap_job_box *);
/* pmap_job_box_free - frees the jobs left in it too */
void		 pmap_job_box_free(struct pmap_job_box *);

#endif
