/*
 * pmap_server_impl.h - the insides of the policy-map server
 * (pmap_server.h), shared by its files and included by nothing else:
 *	pmap_server.c	reactors, requests, answers, jobs, deadlines;
 *	pmap_sconn.c	its connections: the list of all, the reactor each
 *			belongs to, the wait for a job, epoll registration.
 */
#ifndef PMAP_SERVER_IMPL_H
#define PMAP_SERVER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pmap_conn.h"
#include "pmap_job.h"
#include "pmap_listen.h"
#include "pmap_memo.h"
#include "pmap_reply.h"
#include "pmap_server.h"
#include "thr.h"

#define PM_MAX_REACTORS	4
/* workers (started on demand): Exim events, and DANE verdicts, which
 * wait on DNS (a few queries each) -- so as many as the cache's fetches
 * would be right, but a verdict is cached per domain and 64 waiting on
 * DNS is plenty; fetches too if the cache has no pool */
#define PM_WORKERS	64
#define PM_EVENTS	64
/* epoll data of the non-connection fds: NULL is the stop eventfd,
 * 1..PMAP_LISTEN_MAX the listeners, this a reactor's done eventfd */
#define PM_DONE_TAG	((void *)(intptr_t)(PMAP_LISTEN_MAX + 1))

struct conn {
	struct pmap_conn	 c_io;
	int			 c_reactor;
	uint32_t		 c_events;	/* registered epoll events */
	int			 c_inset;	/* in its reactor's epoll set */
	/* waiting for a job (the request is copied: c_io.in moves on) */
	struct pmap_job		*c_job;
	char			*c_req;
	size_t			 c_reqlen;
	int64_t			 c_deadline;	/* clock_mono_ms() */
	struct conn		*c_wprev, *c_wnext;	/* reactor's waiting */
	struct conn		*c_jnext;	/* the job's waiters */
	struct conn		*c_prev, *c_next;	/* all connections */
	/* accept hands a connection to another reactor through epoll_ctl
	 * and epoll_wait; this release/acquire pair says so to the
	 * compiler and TSan */
	atomic_uint		 c_handoff;
};

struct reactor {
	struct pmap_server	*r_pm;
	int			 r_idx;
	int			 r_ep;
	pthread_t		 r_thread;
	int			 r_started;
	struct pmap_memo	*r_memo;
	struct pmap_job_box	 r_done;	/* jobs finished for it */
	struct conn		*r_whead, *r_wtail;	/* waiting, by deadline */
	struct pmap_job		*r_inflight;	/* lookup jobs not yet done */
	struct thr_rt		 r_rt;		/* policymap_realtime (thr.h) */
};

struct pmap_server {
	struct sts_cache	*pm_cache;
	struct dane_cache	*pm_dane;	/* dane = yes; NULL: off */
	struct pmap_server_opts	 pm_o;
	struct pmap_listen	 pm_listen;
	int			 pm_evfd;		/* stop signal */
	int			 pm_nreactors;
	struct reactor		 pm_r[PM_MAX_REACTORS];
	atomic_uint		 pm_rr;
	atomic_int		 pm_stop;

	pthread_rwlock_t	 pm_ovlock;
	const struct override	*pm_ov;
	atomic_uint		 pm_ovgen;	/* bumped with pm_ov */

	struct pmap_exim_hook	 pm_hook;

	atomic_ulong		 pm_requests, pm_memo_hits, pm_deadline;
	atomic_ulong		 pm_lookups[PMAP_NFLAVOURS][PMAP_NKINDS];
	atomic_ulong		 pm_nconns;
	atomic_ulong		 pm_realtime;	/* reactors at SCHED_RR */

	struct pmap_job_pool	*pm_jobs;
	struct pmap_fetch	*pm_fetch;	/* NULL: the workers fetch */

	pthread_mutex_t		 pm_cmu;	/* connection list */
	struct conn		*pm_conns;
	atomic_long		 pm_lastwarn;
};


/* pmap_sconn.c */
/* a new connection on fd, given to a reactor round-robin */
struct conn	*pmap_sconn_new(struct pmap_server *, int fd);
/* c no longer waits: out of its job and the deadline list */
void		 pmap_sconn_unwait(struct pmap_server *, struct conn *);
void		 pmap_sconn_free(struct pmap_server *, struct conn *);
/* make c's reactor wait for want (EPOLLIN, EPOLLOUT or 0); -1: epoll_ctl
 * failed and c is freed */
int		 pmap_sconn_arm(struct pmap_server *, struct conn *,
		    uint32_t want);
/* at most one protocol warning per second */
void		 pmap_sconn_warn(struct pmap_server *, const char *what,
		    int fd);

#endif
