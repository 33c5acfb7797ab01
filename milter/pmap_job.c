/*
 * pmap_job.c - the policy map's worker pool (see pmap_job.h)
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "exim_event.h"
#include "log.h"
#include "pmap_fetch.h"
#include "pmap_fetch.h"
#include "pmap_job.h"
#include "sts_cache.h"
#include "workq.h"
#include "xmalloc.h"

#define POOL_QUEUE	65536	/* jobs waiting for a worker */

struct pmap_job_pool {
	struct sts_cache	*p_cache;
	struct dane_cache	*p_dane;	/* NULL: no DANE */
	struct pmap_fetch	*p_fetch;	/* NULL: lookups block here */
	const struct pmap_exim_hook *p_hook;	/* the owner's */
	void			(*p_done)(void *, struct pmap_job *);
	void			*p_arg;
	struct workq		*p_wq;
};

struct pmap_job *
pmap_job_lookup(const char *domain)
{
	struct pmap_job	*j = xcalloc(1, sizeof(*j));

	j->j_kind = PMAP_JOB_LOOKUP;
	snprintf(j->j_domain, sizeof(j->j_domain), "%s", domain);
	return j;
}

/* event - an event job: ev, or with why (ev NULL) an invalid line */
static struct pmap_job *
event(struct exim_event *ev, enum status st, const struct buf *why)
{
	struct pmap_job	*j = xcalloc(1, sizeof(*j));

	j->j_kind = PMAP_JOB_EVENT;
	if (st == ST_OK)
		j->j_ev = ev;
	else {
		free(ev);
		j->j_invalid = xstrdup(buf_str(why));
	}
	return j;
}

struct pmap_job *
pmap_job_report(const char *words)
{
	struct exim_event	*ev = xmalloc(sizeof(*ev));
	struct buf		 why = BUF_INIT;
	struct pmap_job		*j;

	j = event(ev, exim_event_read(words, ev, &why), &why);
	buf_free(&why);
	return j;
}

struct pmap_job *
pmap_job_veto(const char *domain, const char *mx, const char *ip)
{
	struct exim_event	*ev = xmalloc(sizeof(*ev));
	struct buf		 why = BUF_INIT;
	struct pmap_job		*j;

	j = event(ev, exim_event_veto(ev, domain, mx, ip, &why), &why);
	buf_free(&why);
	return j;
}

void
pmap_job_free(struct pmap_job *j)
{
	if (j == NULL)
		return;
	sts_lookup_clear(&j->j_l);
	free(j->j_ev);
	free(j->j_invalid);
	buf_free(&j->j_reply);
	free(j);
}

/* run - one job's work, in a worker, then back to its owner */
static void
run(void *arg, void *job)
{
	struct pmap_job_pool	*p = arg;
	struct pmap_job		*j = job;

	if (j->j_kind == PMAP_JOB_LOOKUP && p->p_fetch != NULL) {
		/* the DANE verdict here, then the fetch without a thread */
		if (p->p_dane != NULL)
			j->j_dane = dane_cache_get(p->p_dane, j->j_domain,
			    NULL);
		pmap_fetch_start(p->p_fetch, j);	/* calls done */
		return;
	}
	if (j->j_kind == PMAP_JOB_LOOKUP) {
		/* the fetch step */
		j->j_st = sts_cache_lookup(p->p_cache, j->j_domain,
		    STS_LOOKUP_ASYNC, &j->j_l);
		if (p->p_dane != NULL)
			j->j_dane = dane_cache_get(p->p_dane, j->j_domain,
			    NULL);
		if (j->j_st == ST_TEMPFAIL)
			log_debug(LOG_LEVEL_EVENTS, "policymap: domain=%s "
			    "result=temperror reason=%s", j->j_domain,
			    j->j_l.reason);
	} else if (j->j_ev != NULL) {
		if (p->p_hook->event != NULL)
			p->p_hook->event(p->p_hook->arg, j->j_ev);
	} else if (p->p_hook->invalid != NULL)
		p->p_hook->invalid(p->p_hook->arg, j->j_invalid);
	p->p_done(p->p_arg, j);
}

struct pmap_job_pool *
pmap_job_pool_new(int nthreads, struct sts_cache *cache,
    const struct pmap_exim_hook *hook, void (*done)(void *, struct pmap_job *),
    void *arg)
{
	struct pmap_job_pool	*p = xcalloc(1, sizeof(*p));

	p->p_cache = cache;
	p->p_hook = hook;
	p->p_done = done;
	p->p_arg = arg;
	if ((p->p_wq = workq_new(nthreads, POOL_QUEUE, run, p)) == NULL) {
		free(p);
		return NULL;
	}
	workq_name(p->p_wq, "sts-pmap-job");
	return p;
}

void
pmap_job_pool_set_dane(struct pmap_job_pool *p, struct dane_cache *dc)
{
	p->p_dane = dc;
}

void
pmap_job_pool_set_fetch(struct pmap_job_pool *p, struct pmap_fetch *f)
{
	p->p_fetch = f;
}

void
pmap_job_start(struct pmap_job_pool *p, struct pmap_job *j)
{
	if (workq_push(p->p_wq, j) == 0)
		return;
	/* Full: answered now, as a lookup that could not be made. */
	if (j->j_kind == PMAP_JOB_LOOKUP) {
		j->j_st = ST_TEMPFAIL;
		snprintf(j->j_l.reason, sizeof(j->j_l.reason),
		    "too many policy-map lookups waiting");
	}
	p->p_done(p->p_arg, j);
}

/* drop - a job the pool never started */
static void
drop(void *job)
{
	pmap_job_free(job);
}

void
pmap_job_pool_stop(struct pmap_job_pool *p)
{
	if (p == NULL)
		return;
	workq_free(p->p_wq, drop);
	free(p);
}

int
pmap_job_box_init(struct pmap_job_box *b)
{
	b->head = NULL;
	pthread_mutex_init(&b->mu, NULL);
	if ((b->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		pthread_mutex_destroy(&b->mu);
		return -1;
	}
	return 0;
}

void
pmap_job_box_post(struct pmap_job_box *b, struct pmap_job *j)
{
	uint64_t	one = 1;

	pthread_mutex_lock(&b->mu);
	j->j_next = b->head;
	b->head = j;
	pthread_mutex_unlock(&b->mu);
	if (write(b->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("policymap: eventfd");
}

struct pmap_job *
pmap_job_box_take(struct pmap_job_box *b)
{
	struct pmap_job	*j;
	uint64_t	 n;

	if (read(b->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("policymap: eventfd");
	pthread_mutex_lock(&b->mu);
	j = b->head;
	b->head = NULL;
	pthread_mutex_unlock(&b->mu);
	return j;
}

void
pmap_job_box_free(struct pmap_job_box *b)
{
	struct pmap_job	*j, *next;

	if (b->fd < 0)
		return;
	for (j = b->head; j != NULL; j = next) {
		next = j->j_next;
		pmap_job_free(j);
	}
	close(b->fd);
	b->fd = -1;
	pthread_mutex_destroy(&b->mu);
}
