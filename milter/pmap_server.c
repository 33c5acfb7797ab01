/*
 * pmap_server.c - the policy-map listener: reactors, connections, the
 * fetch step and the deadline (see pmap_server.h)
 *
 * SYNOPSIS
 *	#include "pmap_server.h"
 *
 * DESCRIPTION
 *	Reactors (half the CPUs, at least one; STS_POLICYMAP_REACTORS
 *	overrides), each with its own epoll set, own the connections;
 *	reactor 0 also accepts and deals them round-robin.  Only its
 *	reactor touches a connection: nothing of it is locked.  A reactor
 *	answers what the cache knows without network I/O itself (the hot
 *	path: STS_LOOKUP_CACHED, pmap_reply_fresh(), no epoll_ctl; a reply
 *	made in the same second from unchanged state comes from its memo).
 *
 *	Anything else becomes a job (pmap_job.h) and the connection waits
 *	out of the epoll set: a lookup job runs the fetch step,
 *	fetch_start(), the one place where a lookup leaves the reactor;
 *	an event job hands an Exim TLS outcome to the hook.  Requests of
 *	a reactor for the same domain share one lookup job.  A finished
 *	job comes back to its reactor's box, which answers every
 *	connection still waiting for it.
 *
 *	Deadline.  A connection still waiting deadline_ms after its
 *	request came is answered from what the cache knows then
 *	(pmap_obs.pending): the cached policy, else "no policy".  All
 *	deadlines are "arrival + deadline_ms", so a reactor keeps its
 *	waiting connections in one list, oldest first, and sleeps in
 *	epoll_wait until the first is due.  The job goes on.
 *
 * DIAGNOSTICS
 *	pmap_server_new() returns NULL with one line in why.  Protocol
 *	errors are logged (at most one line a second) and answered with
 *	PERM (line requests: "error ..."), then the connection is closed.
 *
 * SEE ALSO
 *	pmap_reply.h, pmap_frame.h, pmap_memo.h, pmap_listen.h,
 *	rfc-checklist.md 1.3 (STS-HTTP-8, STS-HTTP-9), 1.6
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dane_cache.h"
#include "clock.h"
#include "exim_event.h"
#include "log.h"
#include "override.h"
#include "pmap_conn.h"
#include "pmap_fetch.h"
#include "pmap_frame.h"
#include "thr.h"
#include "pmap_job.h"
#include "pmap_listen.h"
#include "pmap_memo.h"
#include "pmap_reply.h"
#include "pmap_server.h"
#include "pmap_server_impl.h"
#include "sts_cache.h"
#include "xmalloc.h"

static void	conn_run(struct pmap_server *, struct reactor *, struct conn *,
		    struct buf *);

void
pmap_server_opts_conf(struct pmap_server_opts *o, const struct conf *c)
{
	o->tempfail = c ? c->policymap_tempfail : 0;
	o->txt_check_interval = c ? c->txt_check_interval : 300;
	o->refresh_interval = c ? c->refresh_interval : 86400;
	o->deadline_ms = (c ? c->policymap_deadline : 3) * 1000;
	o->realtime = c ? c->policymap_realtime : 0;	/* tests: as they run */
}


/*
 * answered - count one answered request and, at LOG_LEVEL_LOOKUPS, log
 * it: the one place that says what the maps answer.  q may be NULL
 * (then req is read again, only when the line is wanted).
 */
static void
answered(struct pmap_server *pm, const struct conn *c, const char *req,
    size_t reqlen, const struct pmap_req *q, const char *reply, size_t rlen,
    const char *state, enum pmap_flavour fl, enum pmap_kind kind)
{
	struct pmap_req	*tmp = NULL;
	char		 d[DOMAIN_MAX + 1], r[512];
	size_t		 n = rlen < sizeof(r) - 1 ? rlen : sizeof(r) - 1;

	atomic_fetch_add_explicit(&pm->pm_requests, 1, memory_order_relaxed);
	if ((unsigned)fl < PMAP_NFLAVOURS && (unsigned)kind < PMAP_NKINDS)
		atomic_fetch_add_explicit(&pm->pm_lookups[fl][kind], 1,
		    memory_order_relaxed);
	if (!log_enabled(LOG_LEVEL_LOOKUPS))
		return;
	if (q == NULL) {
		tmp = xmalloc(sizeof(*tmp));
		pmap_reply_read(req, reqlen, c->c_io.mode == PMAP_FRAME_LINE,
		    tmp);
		q = tmp;
	}
	memcpy(r, reply, n);
	r[n] = '\0';
	(void)log_printable(r, sizeof(r), r);
	(void)log_printable(d, sizeof(d), q->kst == ST_OK ? q->domain :
	    q->fl == PMAP_EXIM_TLSRPT ? "" : q->key);
	log_debug(LOG_LEVEL_LOOKUPS, "policymap: flavour=%s domain=%s "
	    "cache=%s reply=\"%s%s\"", pmap_reply_flavour_name(q->fl),
	    d[0] ? d : "-", state, r, n < rlen ? "..." : "");
	free(tmp);
}

/* --- jobs --------------------------------------------------------------- */

/* job_done - the pool hands a finished job back to its reactor */
static void
job_done(void *arg, struct pmap_job *j)
{
	struct pmap_server	*pm = arg;

	pmap_job_box_post(&pm->pm_r[j->j_owner].r_done, j);
}

/*
 * fetch_start - the fetch step: find out, with network I/O if need be,
 * what the cache says about j->j_domain (j_st, j_l), then job_done(j).
 * The one place a lookup leaves the reactor: the cache's pool of
 * fetches does it (pmap_fetch.h), holding no thread while it waits on
 * the network; a worker (pmap_job.h) first when the domain's DANE
 * verdict must be looked up, or when the cache has no pool.
 */
static void
fetch_start(struct pmap_server *pm, struct pmap_job *j)
{
	if (pm->pm_fetch != NULL && (pm->pm_dane == NULL ||
	    dane_cache_peek(pm->pm_dane, j->j_domain, &j->j_dane)))
		pmap_fetch_start(pm->pm_fetch, j);
	else
		pmap_job_start(pm->pm_jobs, j);
}

/* lookup_job - the lookup job of rx for domain: the one in flight, or a
 * new one handed to the fetch step */
static struct pmap_job *
lookup_job(struct pmap_server *pm, struct reactor *rx, const char *domain)
{
	struct pmap_job	*j;

	for (j = rx->r_inflight; j != NULL; j = j->j_onext)
		if (strcmp(j->j_domain, domain) == 0)
			return j;
	j = pmap_job_lookup(domain);
	j->j_owner = rx->r_idx;
	j->j_onext = rx->r_inflight;
	rx->r_inflight = j;
	fetch_start(pm, j);
	return j;
}

/* event_job - start event job j of rx; its waiter will get reply */
static struct pmap_job *
event_job(struct pmap_server *pm, struct reactor *rx, struct pmap_job *j,
    const char *reply, size_t rlen)
{
	j->j_owner = rx->r_idx;
	buf_init(&j->j_reply, rlen + 1);
	buf_append(&j->j_reply, reply, rlen);
	pmap_job_start(pm->pm_jobs, j);
	return j;
}

/* veto_job - Exim is told not to connect to an MX host: a session the
 * policy refused, for the journal */
static struct pmap_job *
veto_job(struct pmap_server *pm, struct reactor *rx, const struct pmap_req *q,
    const struct buf *reply)
{
	return event_job(pm, rx, pmap_job_veto(q->domain, q->host, q->ip),
	    buf_str(reply), reply->b_len);
}

/* --- answering --------------------------------------------------------- */

/* overrides - the override for domain, and the generation of the table
 * it came from */
static enum override_action
overrides(struct pmap_server *pm, const char *domain, unsigned *gen)
{
	enum override_action	ov;

	pthread_rwlock_rdlock(&pm->pm_ovlock);
	*gen = atomic_load_explicit(&pm->pm_ovgen, memory_order_relaxed);
	ov = override_lookup(pm->pm_ov, domain);
	pthread_rwlock_unlock(&pm->pm_ovlock);
	return ov;
}

/*
 * answer - answer q from the cache without network I/O into r (1), or
 * start the job it needs (0, *jp).  mn says what a reply came from (for
 * the memo), *kind and *state what it is (for the log).
 */
static int
answer(struct pmap_server *pm, struct reactor *rx, const struct pmap_req *q,
    struct buf *r, struct pmap_memo_note *mn, struct pmap_job **jp,
    enum pmap_kind *kind, const char **state)
{
	struct pmap_obs		o;
	struct sts_lookup	l;

	memset(&o, 0, sizeof(o));
	o.st = ST_NOTFOUND;
	o.tempfail = pm->pm_o.tempfail;
	*jp = NULL;
	*state = "none";
	if (q->fl == PMAP_EXIM_TLSRPT) {
		mn->ok = 0;			/* an event: no memo */
		*state = "event";
		if (pm->pm_hook.event != NULL) {
			*jp = event_job(pm, rx, pmap_job_report(q->key), "", 0);
			return 0;
		}
	} else if (pmap_reply_lookup(q)) {
		o.ov = overrides(pm, q->domain, &mn->ovgen);
		if (o.ov == OVERRIDE_SKIP)
			*state = "override";
		else {
			o.st = sts_cache_lookup(pm->pm_cache, q->domain,
			    STS_LOOKUP_CACHED, &l);
			mn->hasstamp = 1;
			mn->stamp = l.stamp;
			if (!pmap_reply_fresh(o.st, &l, mn->second,
			    pm->pm_o.txt_check_interval,
			    pm->pm_o.refresh_interval) ||
			    (pm->pm_dane != NULL && !dane_cache_peek(
			    pm->pm_dane, q->domain, &o.dane))) {
				/* STS-DANE-1: a DANE verdict not known yet
				 * is the fetch step's too */
				sts_lookup_clear(&l);
				*jp = lookup_job(pm, rx, q->domain);
				return 0;
			}
			o.lookup = &l;
			*state = "hit";
		}
	}
	*kind = pmap_reply_make(q, &o, r);
	if (o.lookup != NULL)
		sts_lookup_clear(&l);
	if (*kind == PMAP_VETO && pm->pm_hook.event != NULL) {
		mn->ok = 0;
		*jp = veto_job(pm, rx, q, r);
		return 0;
	}
	return 1;
}

/* park - c waits for job j with the request req (its deadline runs from
 * now); c leaves the epoll set.  -1: c is gone. */
static int
park(struct pmap_server *pm, struct reactor *rx, struct conn *c,
    struct pmap_job *j, const char *req, size_t reqlen)
{
	if (pmap_sconn_arm(pm, c, 0) < 0)
		return -1;
	c->c_req = xmalloc(reqlen + 1);
	memcpy(c->c_req, req, reqlen);
	c->c_req[reqlen] = '\0';
	c->c_reqlen = reqlen;
	c->c_job = j;
	c->c_jnext = j->j_waiters;
	j->j_waiters = c;
	c->c_deadline = clock_mono_ms() + pm->pm_o.deadline_ms;
	c->c_wnext = NULL;
	c->c_wprev = rx->r_wtail;
	if (rx->r_wtail)
		rx->r_wtail->c_wnext = c;
	else
		rx->r_whead = c;
	rx->r_wtail = c;
	return 0;
}

/* resume - c's wait is over: send reply, go on with the connection (q
 * NULL: an event's, "" for an Exim report, else the veto's text) */
static void
resume(struct pmap_server *pm, struct reactor *rx, struct conn *c,
    const struct pmap_req *q, const struct buf *reply, const char *state,
    enum pmap_kind kind, struct buf *r)
{
	pmap_sconn_unwait(pm, c);
	answered(pm, c, c->c_req, c->c_reqlen, q, buf_str(reply),
	    reply->b_len, state, q != NULL ? q->fl : reply->b_len == 0 ?
	    PMAP_EXIM_TLSRPT : PMAP_EXIM, q != NULL ? kind :
	    reply->b_len == 0 ? PMAP_EMPTY : PMAP_VETO);
	(void)pmap_conn_reply(&c->c_io, buf_str(reply), reply->b_len);
	free(c->c_req);
	c->c_req = NULL;
	conn_run(pm, rx, c, r);
}

/* conn_request - one request of c: from the memo, answered, or parked
 * (0: c waits, or is gone) */
static int
conn_request(struct pmap_server *pm, struct reactor *rx, struct conn *c,
    const char *req, size_t reqlen, size_t used, struct buf *r)
{
	struct pmap_memo_note	 mn;
	struct pmap_req		 q;
	struct pmap_job		*j;
	const char		*m, *state;
	enum pmap_kind		 kind = PMAP_NONE;
	size_t			 mlen, body, at, hlen;
	uint64_t		 h = 0;
	unsigned		 tag;
	int			 memo;

	memset(&mn, 0, sizeof(mn));
	mn.ok = 1;			/* so far: depends on the request only */
	mn.second = clock_now();	/* before anything is read */
	mn.ovgen = atomic_load_explicit(&pm->pm_ovgen, memory_order_acquire);
	memo = c->c_io.mode == PMAP_FRAME_NETSTRING && reqlen <= PMAP_MEMO_KEY_MAX;
	if (memo) {
		h = pmap_memo_hash(req, reqlen);
		m = pmap_memo_get(rx->r_memo, h, req, reqlen, mn.second,
		    mn.ovgen, pm->pm_cache, &mlen, &body, &tag);
		if (m != NULL) {
			pmap_conn_append(&c->c_io, m, mlen);
			atomic_fetch_add_explicit(&pm->pm_memo_hits, 1,
			    memory_order_relaxed);
			answered(pm, c, req, reqlen, NULL, m + body,
			    mlen - body - 1, "memo", tag / PMAP_NKINDS,
			    tag % PMAP_NKINDS);
			pmap_conn_consume(&c->c_io, used);
			return 1;
		}
	}
	pmap_reply_read(req, reqlen, c->c_io.mode == PMAP_FRAME_LINE, &q);
	buf_reset(r);
	if (!answer(pm, rx, &q, r, &mn, &j, &kind, &state)) {
		if (park(pm, rx, c, j, req, reqlen) < 0)
			return 0;
		pmap_conn_consume(&c->c_io, used);
		return 0;
	}
	answered(pm, c, req, reqlen, &q, buf_str(r), r->b_len, state, q.fl,
	    kind);
	mn.tag = (unsigned)q.fl * PMAP_NKINDS + kind;	/* for memo hits */
	at = c->c_io.outlen;
	hlen = pmap_conn_reply(&c->c_io, buf_str(r), r->b_len);
	if (memo)
		pmap_memo_put(rx->r_memo, h, req, reqlen, c->c_io.out + at,
		    c->c_io.outlen - at, hlen, &mn);
	pmap_conn_consume(&c->c_io, used);
	return 1;
}

/*
 * conn_run - answer what can be answered, write, and hand c on: back to
 * its epoll set, to a job, or to close().  r is the reactor's scratch
 * buffer.
 */
static void
conn_run(struct pmap_server *pm, struct reactor *rx, struct conn *c,
    struct buf *r)
{
	const char	*err;
	size_t		 off, reqlen, used;
	int		 k;

	for (;;) {
		if (c->c_io.outlen > 0) {
			k = pmap_conn_write(&c->c_io);
			if (k < 0)
				goto gone;
			if (k == 0) {
				(void)pmap_sconn_arm(pm, c, EPOLLOUT);
				return;
			}
		}
		if (c->c_io.closing)
			goto gone;
		k = pmap_conn_next(&c->c_io, &off, &reqlen, &used, &err);
		if (k < 0) {
			pmap_sconn_warn(pm, err, c->c_io.fd);
			continue;			/* write the PERM */
		}
		if (k == 0) {
			if (c->c_io.eof)
				goto gone;
			break;				/* EPOLLIN */
		}
		if (!conn_request(pm, rx, c, c->c_io.in + off, reqlen, used,
		    r))
			return;				/* waits for a job */
		/* Lock-step clients wait for this reply: send it now. */
	}
	(void)pmap_sconn_arm(pm, c, EPOLLIN);
	return;
gone:
	pmap_sconn_free(pm, c);
}

/* finish - a finished lookup job: answer each connection waiting for it */
static void
finish_lookup(struct pmap_server *pm, struct reactor *rx, struct pmap_job *j,
    struct buf *r)
{
	struct pmap_obs		 o;
	struct pmap_req		*q = xmalloc(sizeof(*q));
	struct conn		*c;
	struct pmap_job		*ev;
	enum pmap_kind		 kind;
	unsigned		 gen;

	while ((c = j->j_waiters) != NULL) {
		pmap_reply_read(c->c_req, c->c_reqlen,
		    c->c_io.mode == PMAP_FRAME_LINE, q);
		memset(&o, 0, sizeof(o));
		o.st = j->j_st;
		o.lookup = &j->j_l;
		o.dane = j->j_dane;
		o.ov = overrides(pm, q->domain, &gen);
		o.tempfail = pm->pm_o.tempfail;
		buf_reset(r);
		kind = pmap_reply_make(q, &o, r);
		if (kind == PMAP_VETO && pm->pm_hook.event != NULL) {
			/* wait on for the journal, same deadline */
			ev = veto_job(pm, rx, q, r);
			j->j_waiters = c->c_jnext;
			c->c_job = ev;
			c->c_jnext = NULL;
			ev->j_waiters = c;
			continue;
		}
		resume(pm, rx, c, q, r, j->j_l.from_cache ? "hit" : "fetched",
		    kind, r);
	}
	free(q);
}

/* jobs_done - every job the fetch step or the hook finished for rx */
static void
jobs_done(struct pmap_server *pm, struct reactor *rx, struct buf *r)
{
	struct pmap_job	*j, *next, **pp;
	struct conn	*c;

	for (j = pmap_job_box_take(&rx->r_done); j != NULL; j = next) {
		next = j->j_next;
		if (j->j_kind == PMAP_JOB_LOOKUP) {
			for (pp = &rx->r_inflight; *pp != j;
			    pp = &(*pp)->j_onext)
				;
			*pp = j->j_onext;
			finish_lookup(pm, rx, j, r);
		} else if ((c = j->j_waiters) != NULL)
			resume(pm, rx, c, NULL, &j->j_reply, "event",
			    PMAP_EMPTY, r);
		pmap_job_free(j);
	}
}

/*
 * expire - answer every waiting connection whose deadline has passed
 * from what the cache knows now (RFC 8461 3.3: STS-HTTP-9 a cached
 * policy applies, STS-HTTP-8 else deliver as without one); the job goes
 * on.  Returns the milliseconds until the next deadline, -1 for none.
 */
static int
expire(struct pmap_server *pm, struct reactor *rx, struct buf *r)
{
	struct pmap_obs		 o;
	struct pmap_req		*q = NULL;
	struct sts_lookup	 l;
	struct conn		*c;
	enum pmap_kind		 kind;
	int64_t			 now = clock_mono_ms();
	unsigned		 gen;

	while ((c = rx->r_whead) != NULL && c->c_deadline <= now) {
		atomic_fetch_add_explicit(&pm->pm_deadline, 1,
		    memory_order_relaxed);
		if (c->c_job->j_kind == PMAP_JOB_EVENT) {
			resume(pm, rx, c, NULL, &c->c_job->j_reply, "event",
			    PMAP_EMPTY, r);
			continue;
		}
		if (q == NULL)
			q = xmalloc(sizeof(*q));
		pmap_reply_read(c->c_req, c->c_reqlen,
		    c->c_io.mode == PMAP_FRAME_LINE, q);
		memset(&o, 0, sizeof(o));
		o.st = sts_cache_lookup(pm->pm_cache, q->domain,
		    STS_LOOKUP_CACHED, &l);
		o.lookup = &l;
		o.ov = overrides(pm, q->domain, &gen);
		o.pending = 1;
		/* DANE still unknown at the deadline: an MTA-STS reply could
		 * switch the MTA's own DANE off (STS-DANE-1), so a domain with
		 * a policy gets TEMP; one without, "no policy" (the MTA's DANE
		 * applies) */
		if (pm->pm_dane != NULL && pmap_reply_lookup(q) &&
		    !dane_cache_peek(pm->pm_dane, q->domain, &o.dane))
			o.dane = o.st == ST_OK && l.policy != NULL ?
			    DANE_TEMPFAIL : DANE_NONE;
		o.tempfail = pm->pm_o.tempfail;
		buf_reset(r);
		kind = pmap_reply_make(q, &o, r);
		sts_lookup_clear(&l);
		if (kind == PMAP_VETO && pm->pm_hook.event != NULL)
			(void)veto_job(pm, rx, q, r);	/* nobody waits */
		resume(pm, rx, c, q, r, "pending", kind, r);
	}
	free(q);
	if (rx->r_whead == NULL)
		return -1;
	return (int)(rx->r_whead->c_deadline - now);
}

/* --- reactors ----------------------------------------------------------- */

/* accept_all - take every pending connection on listener lfd */
static void
accept_all(struct pmap_server *pm, int lfd)
{
	int	fd;

	while ((fd = pmap_listen_accept(lfd)) >= 0)
		(void)pmap_sconn_arm(pm, pmap_sconn_new(pm, fd), EPOLLIN);
}

/*
 * sched_setup - cached answers first: the reactor at SCHED_RR when
 * policymap_realtime allows it (thr.h: else it waits behind the HTTPS
 * loops' handshakes for a scheduler tick when they fill the CPUs), at
 * least a short slice.  Reactor 0 says which.  Real-time is governed
 * (thr_rt_tick in the loop): a reactor busy more than half the time
 * steps down until it is quiet again.
 */
static void
sched_setup(struct pmap_server *pm, struct reactor *rx)
{
	int	rc, e;

	rc = thr_rt_start(&rx->r_rt, "sts-pmap",
	    pm->pm_o.realtime ? THR_RT_PRIO : 0);
	e = errno;
	if (rx->r_rt.on)
		atomic_fetch_add(&pm->pm_realtime, 1);
	if (rx->r_idx != 0 || !pm->pm_o.realtime)
		return;
	if (rc == 0)
		log_info("policymap: reactors at SCHED_RR priority %d "
		    "(policymap_realtime)", THR_RT_PRIO);
	else
		log_warnx("policymap: policymap_realtime: reactors at normal "
		    "priority (%s; allow SCHED_RR %d: start as root, or "
		    "LimitRTPRIO=%d and no RestrictRealtime in the unit): "
		    "cached answers may wait for a CPU when it is busy",
		    strerror(e), THR_RT_PRIO, THR_RT_PRIO);
}

static void *
reactor(void *arg)
{
	struct reactor		*rx = arg;
	struct pmap_server	*pm = rx->r_pm;
	struct epoll_event	 ev[PM_EVENTS];
	struct conn		*c;
	struct buf		 r = BUF_INIT;
	int			 n, i, wait = -1;

	buf_init(&r, 1 << 20);
	sched_setup(pm, rx);
	while (!atomic_load(&pm->pm_stop)) {
		n = epoll_wait(rx->r_ep, ev, PM_EVENTS, wait);
		if (n < 0 && errno != EINTR) {
			log_warn("policymap: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				goto out;		/* stop */
			if (ev[i].data.ptr == PM_DONE_TAG) {
				jobs_done(pm, rx, &r);
				continue;
			}
			if ((uintptr_t)ev[i].data.ptr <= PMAP_LISTEN_MAX) {
				accept_all(pm, pm->pm_listen.fd[
				    (uintptr_t)ev[i].data.ptr - 1]);
				continue;
			}
			c = ev[i].data.ptr;
			(void)atomic_load_explicit(&c->c_handoff,
			    memory_order_acquire);
			if ((ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR)) && pmap_conn_read(&c->c_io) < 0) {
				pmap_sconn_free(pm, c);
				continue;
			}
			conn_run(pm, rx, c, &r);
		}
		wait = expire(pm, rx, &r);
		if (thr_rt_tick(&rx->r_rt)) {
			if (rx->r_rt.on)
				atomic_fetch_add(&pm->pm_realtime, 1);
			else
				atomic_fetch_sub(&pm->pm_realtime, 1);
		}
	}
out:
	buf_free(&r);
	return NULL;
}

/* reactor_init - reactor i's epoll set: the stop fd, its done fd, and
 * (reactor 0) the listeners */
static int
reactor_init(struct pmap_server *pm, int i, struct buf *why)
{
	struct reactor		*rx = &pm->pm_r[i];
	struct epoll_event	 ev;
	int			 j;

	rx->r_pm = pm;
	rx->r_idx = i;
	rx->r_memo = pmap_memo_new();
	if ((rx->r_ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    pmap_job_box_init(&rx->r_done) < 0) {
		buf_printf(why, "epoll/eventfd: %s", strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	(void)epoll_ctl(rx->r_ep, EPOLL_CTL_ADD, pm->pm_evfd, &ev);
	ev.data.ptr = PM_DONE_TAG;
	(void)epoll_ctl(rx->r_ep, EPOLL_CTL_ADD, rx->r_done.fd, &ev);
	for (j = 0; i == 0 && j < pm->pm_listen.n; j++) {
		/* listeners: small integers cast to pointers */
		ev.data.ptr = (void *)(intptr_t)(j + 1);
		(void)epoll_ctl(rx->r_ep, EPOLL_CTL_ADD, pm->pm_listen.fd[j],
		    &ev);
	}
	return 0;
}

struct pmap_server *
pmap_server_new(const char *spec, struct sts_cache *cache,
    const struct pmap_server_opts *o, struct buf *why)
{
	struct pmap_server	*pm = xcalloc(1, sizeof(*pm));
	int			 i;

	pm->pm_cache = cache;
	if (o != NULL)
		pm->pm_o = *o;
	else
		pmap_server_opts_conf(&pm->pm_o, NULL);
	pm->pm_evfd = -1;
	for (i = 0; i < PM_MAX_REACTORS; i++)
		pm->pm_r[i].r_ep = pm->pm_r[i].r_done.fd = -1;
	pthread_rwlock_init(&pm->pm_ovlock, NULL);
	pthread_mutex_init(&pm->pm_cmu, NULL);
	if (pmap_listen_open(&pm->pm_listen, spec, why) < 0) {
		pmap_server_stop(pm);
		return NULL;
	}
	/* Half the CPUs: the MTA's own processes (the clients) need the
	 * rest, and a reactor that sleeps less answers sooner. */
	i = (int)sysconf(_SC_NPROCESSORS_ONLN) / 2;
	if (getenv("STS_POLICYMAP_REACTORS") != NULL)
		i = atoi(getenv("STS_POLICYMAP_REACTORS"));
	pm->pm_nreactors = i < 1 ? 1 : i > PM_MAX_REACTORS ? PM_MAX_REACTORS : i;
	if ((pm->pm_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		buf_printf(why, "eventfd: %s", strerror(errno));
		pmap_server_stop(pm);
		return NULL;
	}
	for (i = 0; i < pm->pm_nreactors; i++)
		if (reactor_init(pm, i, why) < 0) {
			pmap_server_stop(pm);
			return NULL;
		}
	return pm;
}

int
pmap_server_add_fd(struct pmap_server *pm, int fd)
{
	struct conn	*c;

	if (pmap_listen_nonblock(fd) < 0)
		return -1;
	c = pmap_sconn_new(pm, fd);
	return pmap_sconn_arm(pm, c, EPOLLIN);
}

int
pmap_server_start(struct pmap_server *pm)
{
	int	i;

	if ((pm->pm_jobs = pmap_job_pool_new(PM_WORKERS, pm->pm_cache,
	    &pm->pm_hook, job_done, pm)) == NULL)
		return -1;
	pmap_job_pool_set_dane(pm->pm_jobs, pm->pm_dane);	/* no job yet */
	if (sts_cache_pooled(pm->pm_cache)) {
		pm->pm_fetch = pmap_fetch_new(pm->pm_cache, job_done, pm);
		pmap_job_pool_set_fetch(pm->pm_jobs, pm->pm_fetch);
	}
	for (i = 0; i < pm->pm_nreactors; i++) {
		if (pthread_create(&pm->pm_r[i].r_thread, NULL, reactor,
		    &pm->pm_r[i]) != 0)
			return -1;
		pm->pm_r[i].r_started = 1;
	}
	return 0;
}

void
pmap_server_stats(struct pmap_server *pm, struct pmap_server_stats *s)
{
	int	f, k;

	s->requests = atomic_load_explicit(&pm->pm_requests,
	    memory_order_relaxed);
	s->memo_hits = atomic_load_explicit(&pm->pm_memo_hits,
	    memory_order_relaxed);
	s->deadline = atomic_load_explicit(&pm->pm_deadline,
	    memory_order_relaxed);
	s->connections = atomic_load_explicit(&pm->pm_nconns,
	    memory_order_relaxed);
	s->realtime = atomic_load_explicit(&pm->pm_realtime,
	    memory_order_relaxed);
	for (f = 0; f < PMAP_NFLAVOURS; f++)
		for (k = 0; k < PMAP_NKINDS; k++)
			s->lookups[f][k] = atomic_load_explicit(
			    &pm->pm_lookups[f][k], memory_order_relaxed);
}

void
pmap_server_on_exim(struct pmap_server *pm, const struct pmap_exim_hook *h)
{
	pm->pm_hook = *h;
}

void
pmap_server_set_dane(struct pmap_server *pm, struct dane_cache *dc)
{
	pm->pm_dane = dc;
}

void
pmap_server_set_overrides(struct pmap_server *pm, const struct override *ov)
{
	pthread_rwlock_wrlock(&pm->pm_ovlock);
	pm->pm_ov = ov;
	atomic_fetch_add_explicit(&pm->pm_ovgen, 1, memory_order_release);
	pthread_rwlock_unlock(&pm->pm_ovlock);
}

void
pmap_server_stop(struct pmap_server *pm)
{
	uint64_t	one = 1;
	int		i;

	if (pm == NULL)
		return;
	atomic_store(&pm->pm_stop, 1);
	if (pm->pm_evfd >= 0)
		(void)write(pm->pm_evfd, &one, sizeof(one));
	for (i = 0; i < PM_MAX_REACTORS; i++)
		if (pm->pm_r[i].r_started)
			pthread_join(pm->pm_r[i].r_thread, NULL);
	/* The reactors are gone: every connection is in an epoll set or
	 * waits for a job that is still allocated (the workers never free
	 * one); then the pool frees the jobs it never started, and what
	 * the workers finish lands in a done box. */
	while (pm->pm_conns)
		pmap_sconn_free(pm, pm->pm_conns);
	pmap_job_pool_stop(pm->pm_jobs);
	pmap_fetch_free(pm->pm_fetch);	/* after the workers that start */
	pm->pm_fetch = NULL;
	pmap_listen_close(&pm->pm_listen);
	for (i = 0; i < PM_MAX_REACTORS; i++) {
		struct reactor *rx = &pm->pm_r[i];

		pmap_job_box_free(&rx->r_done);
		if (rx->r_ep >= 0)
			close(rx->r_ep);
		pmap_memo_free(rx->r_memo);
	}
	if (pm->pm_evfd >= 0)
		close(pm->pm_evfd);
	pthread_rwlock_destroy(&pm->pm_ovlock);
	pthread_mutex_destroy(&pm->pm_cmu);
	free(pm);
}
