/*
 * sts_pool.c - the policy cache's pool of fetches and its refresh timer
 * (see sts_pool.h)
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sts_pool.h"
#include "workq.h"
#include "xmalloc.h"

#define STS_POOL_SCAN_S	60		/* the timer's period */

struct sts_pool {
	struct workq	*p_wq;
	void		(*p_run)(void *, const char *, int);
	void		(*p_scan)(void *);
	void		*p_arg;
	pthread_mutex_t	 p_mu;		/* the timer: */
	pthread_cond_t	 p_cv;
	int		 p_stop;
	int		 p_timer;	/* its thread runs */
	pthread_t	 p_thread;
};

struct sts_pool_job {
	char	*j_domain;
	int	 j_kind;
};

static void
sts_pool_drop(void *arg)
{
	struct sts_pool_job	*j = arg;

	free(j->j_domain);
	free(j);
}

static void
sts_pool_run(void *ctx, void *arg)
{
	struct sts_pool		*p = ctx;
	struct sts_pool_job	*j = arg;

	p->p_run(p->p_arg, j->j_domain, j->j_kind);
	sts_pool_drop(j);
}

static void *
sts_pool_timer(void *arg)
{
	struct sts_pool	*p = arg;
	struct timespec	 ts;

	pthread_mutex_lock(&p->p_mu);
	while (!p->p_stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += STS_POOL_SCAN_S;
		if (pthread_cond_timedwait(&p->p_cv, &p->p_mu, &ts) ==
		    ETIMEDOUT && !p->p_stop) {
			pthread_mutex_unlock(&p->p_mu);
			p->p_scan(p->p_arg);
			pthread_mutex_lock(&p->p_mu);
		}
	}
	pthread_mutex_unlock(&p->p_mu);
	return NULL;
}

struct sts_pool *
sts_pool_new(int max, void (*run)(void *, const char *, int),
    void (*scan)(void *), void *arg)
{
	struct sts_pool	*p = xcalloc(1, sizeof(*p));
	size_t		 queue = (size_t)(max > 0 ? max : 1) * 16;

	p->p_run = run;
	p->p_scan = scan;
	p->p_arg = arg;
	p->p_wq = workq_new(max, queue < 64 ? 64 : queue, sts_pool_run, p);
	pthread_mutex_init(&p->p_mu, NULL);
	pthread_cond_init(&p->p_cv, NULL);
	if (pthread_create(&p->p_thread, NULL, sts_pool_timer, p) != 0) {
		sts_pool_free(p);
		return NULL;
	}
	p->p_timer = 1;
	return p;
}

int
sts_pool_push(struct sts_pool *p, const char *domain, int kind)
{
	struct sts_pool_job	*j = xcalloc(1, sizeof(*j));

	j->j_domain = xstrdup(domain);
	j->j_kind = kind;
	if (workq_push(p->p_wq, j) == -1) {
		sts_pool_drop(j);
		return -1;
	}
	return 0;
}

void
sts_pool_free(struct sts_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->p_mu);
	p->p_stop = 1;
	pthread_cond_broadcast(&p->p_cv);
	pthread_mutex_unlock(&p->p_mu);
	if (p->p_timer)
		pthread_join(p->p_thread, NULL);
	workq_free(p->p_wq, sts_pool_drop);
	pthread_cond_destroy(&p->p_cv);
	pthread_mutex_destroy(&p->p_mu);
	free(p);
}
