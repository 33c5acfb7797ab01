/*
 * workq.h - a bounded job queue run by threads started on demand
 *
 * workq_new(max_threads, max_queued, fn, ctx): jobs pushed with
 * workq_push() are run as fn(ctx, job) by at most max_threads threads,
 * started when a job finds none idle (a quiet process keeps none
 * busy).  At most max_queued jobs wait; workq_push() then returns -1
 * and the job is not taken (the caller answers "busy").  Jobs run in
 * the order pushed.  workq_free() stops the threads after the jobs
 * they are running and hands the jobs still queued to drop().
 *
 * Thread-safe.  Never logs.
 */
#ifndef WORKQ_H
#define WORKQ_H

#include <stddef.h>

struct workq;

struct workq	*workq_new(int max_threads, size_t max_queued,
		    void (*fn)(void *ctx, void *job), void *ctx);
int		 workq_push(struct workq *, void *job);
/* workq_name - the name its threads take (top -H, ps -L; 15 bytes),
 * rather than that of the thread that happened to start them */
void		 workq_name(struct workq *, const char *);
void		 workq_free(struct workq *, void (*drop)(void *job));
/* workq_stats - threads started, jobs queued (not yet running) */
void		 workq_stats(struct workq *, int *threads, size_t *queued);

#endif
