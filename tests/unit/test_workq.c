/*
 * test_workq.c - the bounded job queue (workq.c, issue 15): every job
 * runs once, never more than max_threads at once, threads only when
 * needed, a full queue refuses, free hands back what never ran
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "workq.h"

static pthread_mutex_t	mu = PTHREAD_MUTEX_INITIALIZER;
static int		running, peak, done, dropped;
static int		sleep_us;

static void
job(void *ctx, void *arg)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	if (++running > peak)
		peak = running;
	pthread_mutex_unlock(&mu);
	usleep((useconds_t)sleep_us);
	pthread_mutex_lock(&mu);
	running--;
	done++;
	pthread_mutex_unlock(&mu);
	free(arg);
}

static int
started(void)
{
	int	p;

	pthread_mutex_lock(&mu);
	p = peak;
	pthread_mutex_unlock(&mu);
	return p > 0;
}

static void
drop(void *arg)
{
	dropped++;
	free(arg);
}

static void
test_workq_table(void)
{
	static const struct {
		int	threads;
		size_t	queue;
		int	jobs;
		int	sleep_us;
		int	want_peak_max;
		int	want_refused_min;
	} rows[] = {
		{ 1, 100, 50, 0, 1, 0 },
		{ 4, 100, 40, 20000, 4, 0 },
		{ 64, 1000, 200, 20000, 64, 0 },
		{ 2, 4, 50, 50000, 2, 40 },	/* 2 running + 4 waiting */
	};
	struct workq	*w;
	size_t		 r;
	int		 i, refused, threads;
	size_t		 queued;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		running = peak = done = dropped = 0;
		sleep_us = rows[r].sleep_us;
		w = workq_new(rows[r].threads, rows[r].queue, job, NULL);
		for (refused = i = 0; i < rows[r].jobs; i++) {
			int *p = malloc(sizeof(int));

			if (workq_push(w, p) == -1) {
				refused++;
				free(p);
			}
		}
		for (i = 0; i < 500; i++) {
			pthread_mutex_lock(&mu);
			if (done + refused == rows[r].jobs) {
				pthread_mutex_unlock(&mu);
				break;
			}
			pthread_mutex_unlock(&mu);
			usleep(10000);
		}
		workq_stats(w, &threads, &queued);
		CHECKF(threads <= rows[r].threads, "row %zu: %d threads", r,
		    threads);
		CHECKF(queued == 0, "row %zu: %zu queued", r, queued);
		workq_free(w, drop);
		CHECKF(done + refused == rows[r].jobs, "row %zu: %d done, %d "
		    "refused", r, done, refused);
		CHECKF(peak <= rows[r].want_peak_max, "row %zu: peak %d", r,
		    peak);
		CHECKF(refused >= rows[r].want_refused_min, "row %zu: %d "
		    "refused", r, refused);
		CHECKF(dropped == 0, "row %zu: %d dropped", r, dropped);
	}
}

/* workq_free with jobs still waiting: they are dropped, not run */
static void
test_workq_free_drops(void)
{
	struct workq	*w;
	int		 i, n = 0;

	running = peak = done = dropped = 0;
	sleep_us = 100000;
	w = workq_new(1, 10, job, NULL);
	for (i = 0; i < 5; i++)
		n += workq_push(w, malloc(sizeof(int))) == 0;
	CHECK_INT(n, 5);
	/* the first one runs (polled: a fixed 20 ms was too short on a
	 * loaded machine) */
	for (i = 0; i < 5000 && !started(); i++)
		usleep(1000);
	workq_free(w, drop);
	CHECK_INT(done, 1);
	CHECK_INT(dropped, 4);
}

/* workq_name: its threads take the name, not their starter's */
static char	got_name[16];

static void
name_job(void *ctx, void *arg)
{
	(void)ctx;
	(void)pthread_getname_np(pthread_self(), got_name, sizeof(got_name));
	free(arg);
}

static void
test_workq_name(void)
{
	struct workq	*w = workq_new(1, 4, name_job, NULL);
	int		 i;

	(void)pthread_setname_np(pthread_self(), "starter");
	workq_name(w, "sts-test-pool");
	CHECK_INT(workq_push(w, malloc(1)), 0);
	for (i = 0; i < 2000 && __atomic_load_n(&got_name[0], __ATOMIC_ACQUIRE)
	    == '\0'; i++)
		usleep(1000);
	workq_free(w, free);
	CHECK_STR(got_name, "sts-test-pool");
}

int
main(void)
{
	RUN(test_workq_table);
	RUN(test_workq_free_drops);
	RUN(test_workq_name);
	return harness_done("test_workq");
}
