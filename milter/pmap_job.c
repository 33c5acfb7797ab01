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
#include "pmap_job.h"
#include "sts_cache.h"
#include "xmalloc.h"

#define POOL_MAX	16

struct pmap_job_pool {
	struct sts_cache	*p_cache;
	const struct pmap_exim_hook *p_hook;	/* the owner's */
	void			(*p_done)(void *, struct pmap_job *);
	void			*p_arg;
	pthread_mutex_t		 p_mu;
	pthread_cond_t		 p_cv;
	struct pmap_job		*p_head, *p_tail;
	int			 p_stop;
	pthread_t		 p_thread[POOL_MAX];
	int			 p_nthreads;
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
pmap_job_veto(const char *domain, const char *mx)
{
	struct exim_event	*ev = xmalloc(sizeof(*ev));
	struct buf		 why = BUF_INIT;
	struct pmap_job		*j;

	j = event(ev, exim_event_veto(ev, domain, mx, &why), &why);
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

/* run - one job's work, in a worker */
static void
run(struct pmap_job_pool *p, struct pmap_job *j)
{
	if (j->j_kind == PMAP_JOB_LOOKUP) {
		/* the fetch step */
		j->j_st = sts_cache_lookup(p->p_cache, j->j_domain,
		    STS_LOOKUP_ASYNC, &j->j_l);
		if (j->j_st == ST_TEMPFAIL)
			log_debug(LOG_LEVEL_EVENTS, "policymap: domain=%s "
			    "result=temperror reason=%s", j->j_domain,
			    j->j_l.reason);
	} else if (j->j_ev != NULL) {
		if (p->p_hook->event != NULL)
			p->p_hook->event(p->p_hook->arg, j->j_ev);
	} else if (p->p_hook->invalid != NULL)
		p->p_hook->invalid(p->p_hook->arg, j->j_invalid);
}

static void *
worker(void *arg)
{
	struct pmap_job_pool	*p = arg;
	struct pmap_job		*j;

	for (;;) {
		pthread_mutex_lock(&p->p_mu);
		while (p->p_head == NULL && !p->p_stop)
			pthread_cond_wait(&p->p_cv, &p->p_mu);
		if (p->p_stop) {
			pthread_mutex_unlock(&p->p_mu);
			return NULL;
		}
		j = p->p_head;
		if ((p->p_head = j->j_next) == NULL)
			p->p_tail = NULL;
		pthread_mutex_unlock(&p->p_mu);
		run(p, j);
		p->p_done(p->p_arg, j);
	}
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
	pthread_mutex_init(&p->p_mu, NULL);
	pthread_cond_init(&p->p_cv, NULL);
	if (nthreads > POOL_MAX)
		nthreads = POOL_MAX;
	for (; p->p_nthreads < nthreads; p->p_nthreads++)
		if (pthread_create(&p->p_thread[p->p_nthreads], NULL, worker,
		    p) != 0) {
			pmap_job_pool_stop(p);
			return NULL;
		}
	return p;
}

void
pmap_job_start(struct pmap_job_pool *p, struct pmap_job *j)
{
	pthread_mutex_lock(&p->p_mu);
	j->j_next = NULL;
	if (p->p_tail)
		p->p_tail->j_next = j;
	else
		p->p_head = j;
	p->p_tail = j;
	pthread_cond_signal(&p->p_cv);
	pthread_mutex_unlock(&p->p_mu);
}

void
pmap_job_pool_stop(struct pmap_job_pool *p)
{
	struct pmap_job	*j;
	int		 i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->p_mu);
	p->p_stop = 1;
	pthread_cond_broadcast(&p->p_cv);
	pthread_mutex_unlock(&p->p_mu);
	for (i = 0; i < p->p_nthreads; i++)
		pthread_join(p->p_thread[i], NULL);
	while ((j = p->p_head) != NULL) {
		p->p_head = j->j_next;
		pmap_job_free(j);
	}
	pthread_mutex_destroy(&p->p_mu);
	pthread_cond_destroy(&p->p_cv);
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
