/*
 * sts_pool.c - the policy cache's threads: the pool of fetches, its
 * refresh timer and the writer (see sts_pool.h)
 */
#include <sys/resource.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sts_pool.h"
#include "workq.h"
#include "thr.h"
#include "xmalloc.h"

#define STS_POOL_SCAN_S	60		/* the timer's period */
#define STS_WRITER_GATHER_MS 10		/* the writer waits for more */

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

	(void)pthread_setname_np(pthread_self(), "sts-refresh");
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
sts_pool_new(int max, size_t queue, void (*run)(void *, const char *, int),
    void (*scan)(void *), void *arg)
{
	struct sts_pool	*p = xcalloc(1, sizeof(*p));

	p->p_run = run;
	p->p_scan = scan;
	p->p_arg = arg;
	p->p_wq = workq_new(max, queue < 64 ? 64 : queue, sts_pool_run, p);
	if (p->p_wq != NULL)
		workq_name(p->p_wq, "sts-pool");
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

/* --- the writer: one thread that persists, in order, off every lock --- */

struct sts_writer_item {
	struct sts_writer_item	*w_next;
	char			 w_domain[];
};

struct sts_writer {
	void			(*w_fn)(void *, const char *);
	void			(*w_flush)(void *);
	void			*w_arg;
	pthread_mutex_t		 w_mu;
	pthread_cond_t		 w_cv;		/* work, or stop */
	pthread_cond_t		 w_idle;	/* queue empty, nothing running */
	struct sts_writer_item	*w_head, **w_tail;
	int			 w_busy, w_stop;
	pthread_t		 w_thread;
};

static void *
sts_writer_run(void *arg)
{
	struct sts_writer	*w = arg;
	struct sts_writer_item	*it, *next;

	/* background work, as the discoveries': lookups are answered from
	 * memory, the file is for the next start (and the fleet's store) */
	thr_background("sts-writer");
	pthread_mutex_lock(&w->w_mu);
	for (;;) {
		while (w->w_head == NULL && !w->w_stop)
			pthread_cond_wait(&w->w_cv, &w->w_mu);
		if (w->w_head == NULL)
			break;			/* stopped and drained */
		/*
		 * Let a storm gather: during a cold storm (hundreds of new
		 * domains a second) items come one by one, and a wake-up,
		 * a batch and a disk flush for each cost the writer more
		 * than the files (README "The cold path").  Lookups are
		 * answered from memory; the file is for the next start.
		 */
		w->w_busy = 1;
		if (!w->w_stop) {
			pthread_mutex_unlock(&w->w_mu);
			(void)usleep(STS_WRITER_GATHER_MS * 1000);
			pthread_mutex_lock(&w->w_mu);
		}
		/* all that waits, in order, then one flush for the lot */
		it = w->w_head;
		w->w_head = NULL;
		w->w_tail = &w->w_head;
		pthread_mutex_unlock(&w->w_mu);
		for (; it != NULL; it = next) {
			next = it->w_next;
			w->w_fn(w->w_arg, it->w_domain);
			free(it);
		}
		if (w->w_flush != NULL)
			w->w_flush(w->w_arg);
		pthread_mutex_lock(&w->w_mu);
		w->w_busy = 0;
		if (w->w_head == NULL)
			pthread_cond_broadcast(&w->w_idle);
	}
	pthread_cond_broadcast(&w->w_idle);
	pthread_mutex_unlock(&w->w_mu);
	return NULL;
}

struct sts_writer *
sts_writer_new(void (*fn)(void *, const char *), void (*flush)(void *),
    void *arg)
{
	struct sts_writer	*w = xcalloc(1, sizeof(*w));

	w->w_fn = fn;
	w->w_flush = flush;
	w->w_arg = arg;
	w->w_tail = &w->w_head;
	pthread_mutex_init(&w->w_mu, NULL);
	pthread_cond_init(&w->w_cv, NULL);
	pthread_cond_init(&w->w_idle, NULL);
	if (pthread_create(&w->w_thread, NULL, sts_writer_run, w) != 0) {
		pthread_cond_destroy(&w->w_idle);
		pthread_cond_destroy(&w->w_cv);
		pthread_mutex_destroy(&w->w_mu);
		free(w);
		return NULL;
	}
	return w;
}

void
sts_writer_push(struct sts_writer *w, const char *domain)
{
	size_t			 n = strlen(domain) + 1;
	struct sts_writer_item	*it = xmalloc(sizeof(*it) + n);

	it->w_next = NULL;
	memcpy(it->w_domain, domain, n);
	pthread_mutex_lock(&w->w_mu);
	*w->w_tail = it;
	w->w_tail = &it->w_next;
	if (w->w_head == it && !w->w_busy)	/* else it comes anyway */
		pthread_cond_signal(&w->w_cv);
	pthread_mutex_unlock(&w->w_mu);
}

void
sts_writer_drain(struct sts_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->w_mu);
	while (w->w_head != NULL || w->w_busy)
		pthread_cond_wait(&w->w_idle, &w->w_mu);
	pthread_mutex_unlock(&w->w_mu);
}

void
sts_writer_free(struct sts_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->w_mu);
	w->w_stop = 1;
	pthread_cond_signal(&w->w_cv);
	pthread_mutex_unlock(&w->w_mu);
	pthread_join(w->w_thread, NULL);	/* after the last item */
	pthread_cond_destroy(&w->w_idle);
	pthread_cond_destroy(&w->w_cv);
	pthread_mutex_destroy(&w->w_mu);
	free(w);
}
