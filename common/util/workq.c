/*
 * workq.c - a bounded job queue run by threads started on demand
 * (see workq.h)
 *
 * One mutex and one condition variable; the queue is a ring of
 * max_queued slots.  A thread is started by workq_push() when no
 * thread is idle and fewer than max_threads run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "workq.h"
#include "xmalloc.h"

struct workq {
	pthread_mutex_t	  w_mu;
	pthread_cond_t	  w_cv;
	void		**w_ring;
	size_t		  w_cap, w_head, w_len;
	int		  w_max, w_nthreads, w_idle, w_stop;
	pthread_t	 *w_threads;
	void		(*w_fn)(void *, void *);
	void		 *w_ctx;
	char		  w_name[16];	/* "": the starter's */
};

static void *
workq_main(void *arg)
{
	struct workq	*w = arg;
	void		*job;

	pthread_mutex_lock(&w->w_mu);
	if (w->w_name[0] != '\0')
		(void)pthread_setname_np(pthread_self(), w->w_name);
	for (;;) {
		while (w->w_len == 0 && !w->w_stop) {
			w->w_idle++;
			pthread_cond_wait(&w->w_cv, &w->w_mu);
			w->w_idle--;
		}
		if (w->w_stop)
			break;
		job = w->w_ring[w->w_head];
		w->w_head = (w->w_head + 1) % w->w_cap;
		w->w_len--;
		pthread_mutex_unlock(&w->w_mu);
		w->w_fn(w->w_ctx, job);
		pthread_mutex_lock(&w->w_mu);
	}
	pthread_mutex_unlock(&w->w_mu);
	return NULL;
}

void
workq_name(struct workq *w, const char *name)
{
	pthread_mutex_lock(&w->w_mu);
	snprintf(w->w_name, sizeof(w->w_name), "%s", name);
	pthread_mutex_unlock(&w->w_mu);
}

struct workq *
workq_new(int max_threads, size_t max_queued, void (*fn)(void *, void *),
    void *ctx)
{
	struct workq	*w = xcalloc(1, sizeof(*w));

	w->w_max = max_threads > 0 ? max_threads : 1;
	w->w_cap = max_queued > 0 ? max_queued : 1;
	w->w_ring = xcalloc(w->w_cap, sizeof(*w->w_ring));
	w->w_threads = xcalloc((size_t)w->w_max, sizeof(*w->w_threads));
	w->w_fn = fn;
	w->w_ctx = ctx;
	pthread_mutex_init(&w->w_mu, NULL);
	pthread_cond_init(&w->w_cv, NULL);
	return w;
}

int
workq_push(struct workq *w, void *job)
{
	int	rc = 0;

	pthread_mutex_lock(&w->w_mu);
	if (w->w_stop || w->w_len == w->w_cap) {
		rc = -1;
		goto out;
	}
	w->w_ring[(w->w_head + w->w_len) % w->w_cap] = job;
	w->w_len++;
	/* Start a thread when every running one is busy: the idle ones
	 * (already woken for jobs ahead of this one) are not enough. */
	if ((size_t)w->w_idle < w->w_len && w->w_nthreads < w->w_max &&
	    pthread_create(&w->w_threads[w->w_nthreads], NULL, workq_main,
	    w) == 0)
		w->w_nthreads++;
	if (w->w_nthreads == 0) {	/* no thread at all: refuse the job */
		w->w_len--;
		rc = -1;
		goto out;
	}
	pthread_cond_signal(&w->w_cv);
out:
	pthread_mutex_unlock(&w->w_mu);
	return rc;
}

void
workq_free(struct workq *w, void (*drop)(void *))
{
	int	i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->w_mu);
	w->w_stop = 1;
	pthread_cond_broadcast(&w->w_cv);
	pthread_mutex_unlock(&w->w_mu);
	for (i = 0; i < w->w_nthreads; i++)
		pthread_join(w->w_threads[i], NULL);
	for (; w->w_len > 0; w->w_len--) {
		if (drop != NULL)
			drop(w->w_ring[w->w_head]);
		w->w_head = (w->w_head + 1) % w->w_cap;
	}
	pthread_cond_destroy(&w->w_cv);
	pthread_mutex_destroy(&w->w_mu);
	free(w->w_threads);
	free(w->w_ring);
	free(w);
}

void
workq_stats(struct workq *w, int *threads, size_t *queued)
{
	pthread_mutex_lock(&w->w_mu);
	*threads = w->w_nthreads;
	*queued = w->w_len;
	pthread_mutex_unlock(&w->w_mu);
}
