/*
 * pmap_sconn.c - the policy-map server's connections (pmap_server_impl.h):
 * the list of all (for the stop), the reactor each belongs to, the wait
 * of one for a job (its job's waiters and its reactor's deadline list),
 * and its epoll registration.
 */
#include <sys/epoll.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pmap_server_impl.h"
#include "xmalloc.h"

/* pmap_sconn_warn - at most one protocol warning per second */
void
pmap_sconn_warn(struct pmap_server *pm, const char *what, int fd)
{
	long	now = (long)time(NULL), last = atomic_load(&pm->pm_lastwarn);

	if (now == last || !atomic_compare_exchange_strong(&pm->pm_lastwarn,
	    &last, now))
		return;
	log_warnx("policymap: fd=%d %s", fd, what);
}

struct conn *
pmap_sconn_new(struct pmap_server *pm, int fd)
{
	struct conn	*c = xcalloc(1, sizeof(*c));

	c->c_io.fd = fd;
	c->c_reactor = (int)(atomic_fetch_add(&pm->pm_rr, 1) %
	    (unsigned)pm->pm_nreactors);
	atomic_fetch_add_explicit(&pm->pm_nconns, 1, memory_order_relaxed);
	pthread_mutex_lock(&pm->pm_cmu);
	c->c_next = pm->pm_conns;
	if (pm->pm_conns)
		pm->pm_conns->c_prev = c;
	pm->pm_conns = c;
	pthread_mutex_unlock(&pm->pm_cmu);
	return c;
}

/* pmap_sconn_unwait - c no longer waits: out of its job and the deadline list */
void
pmap_sconn_unwait(struct pmap_server *pm, struct conn *c)
{
	struct reactor	 *rx = &pm->pm_r[c->c_reactor];
	struct conn	**pp;

	if (c->c_job == NULL)
		return;
	for (pp = &c->c_job->j_waiters; *pp != NULL; pp = &(*pp)->c_jnext)
		if (*pp == c) {
			*pp = c->c_jnext;
			break;
		}
	if (c->c_wprev)
		c->c_wprev->c_wnext = c->c_wnext;
	else
		rx->r_whead = c->c_wnext;
	if (c->c_wnext)
		c->c_wnext->c_wprev = c->c_wprev;
	else
		rx->r_wtail = c->c_wprev;
	c->c_job = NULL;
	c->c_jnext = c->c_wprev = c->c_wnext = NULL;
}

void
pmap_sconn_free(struct pmap_server *pm, struct conn *c)
{
	pmap_sconn_unwait(pm, c);
	pthread_mutex_lock(&pm->pm_cmu);
	if (c->c_prev)
		c->c_prev->c_next = c->c_next;
	else
		pm->pm_conns = c->c_next;
	if (c->c_next)
		c->c_next->c_prev = c->c_prev;
	pthread_mutex_unlock(&pm->pm_cmu);
	atomic_fetch_sub_explicit(&pm->pm_nconns, 1, memory_order_relaxed);
	pmap_conn_close(&c->c_io);
	free(c->c_req);
	free(c);
}

/*
 * pmap_sconn_arm - make c's reactor wait for want (EPOLLIN, EPOLLOUT or 0 =
 * nothing, while c waits for a job).  Level-triggered: the hot path
 * never calls epoll_ctl.  -1: epoll_ctl failed and c is freed.
 */
int
pmap_sconn_arm(struct pmap_server *pm, struct conn *c, uint32_t want)
{
	struct epoll_event	ev;
	int			fd = c->c_io.fd, ep = pm->pm_r[c->c_reactor].r_ep;
	int			op = c->c_inset ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (want == 0) {
		/* Out of the set: EPOLLHUP/EPOLLERR come even with no
		 * events asked for, and the reactor must not see c. */
		if (!c->c_inset)
			return 0;
		c->c_inset = 0;
		c->c_events = 0;
		if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) < 0) {
			log_warn("policymap: epoll_ctl");
			pmap_sconn_free(pm, c);
			return -1;
		}
		return 0;
	}
	if (c->c_inset && c->c_events == want)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = want | EPOLLRDHUP;
	ev.data.ptr = c;
	c->c_events = want;
	c->c_inset = 1;
	atomic_fetch_add_explicit(&c->c_handoff, 1, memory_order_release);
	if (epoll_ctl(ep, op, fd, &ev) < 0) {
		log_warn("policymap: epoll_ctl");
		pmap_sconn_free(pm, c);
		return -1;
	}
	return 0;
}
