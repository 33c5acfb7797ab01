/*
 * http_loop.c - many HTTPS transfers on one thread (curl's multi
 * interface, driven by epoll)
 *
 * SYNOPSIS
 *	#include "http.h"
 *
 *	struct http_loop *http_loop_new(int max, struct buf *why);
 *	int http_loop_submit(struct http_loop *l, const struct http_req *req,
 *	    http_done_fn *done, void *arg);
 *	unsigned long http_loop_pending(struct http_loop *l);
 *	void http_loop_free(struct http_loop *l);
 *
 * DESCRIPTION
 *	The contract is in http.h.  Each transfer is set up and finished
 *	by http.c (http_xfer_setup, http_xfer_finish), so a request made
 *	through a loop gets exactly what http_do() would give it.
 *
 *	The thread sleeps in epoll_wait() on the transfers' sockets (curl
 *	says which through CURLMOPT_SOCKETFUNCTION), an eventfd that
 *	submit and free write to, and curl's next timer
 *	(CURLMOPT_TIMERFUNCTION); each wake-up runs
 *	curl_multi_socket_action() for the sockets that are ready only.
 *	So the work per event does not grow with the transfers in flight:
 *	curl_multi_perform() and curl_multi_poll(), which the loop used
 *	first, visit every transfer at every wake-up, which with a few
 *	hundred policy hosts waiting on the network cost more CPU than
 *	the handshakes (README "The cold path").
 *
 * THREAD SAFETY
 *	submit, pending and free may be called from any thread; the multi
 *	handle and every transfer in it belong to the loop's thread.
 */

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "http.h"
#include "http_impl.h"
#include "status.h"
#include "thr.h"
#include "xmalloc.h"

#define LOOP_EVENTS	64		/* epoll events per wake-up */
#define LOOP_IDLE_MS	1000		/* longest sleep without a timer */

struct http_loop {
	CURLM			*l_multi;
	pthread_t		 l_thread;
	pthread_mutex_t		 l_mu;
	struct http_xfer	*l_in, **l_intail;	/* submitted, FIFO */
	atomic_int		 l_stop;
	int			 l_ep;		/* epoll */
	int			 l_wake;	/* eventfd: submit, stop */
	int			 l_max;		/* transfers at once */
	/* the loop thread's */
	LIST_HEAD(, http_xfer)	 l_act;		/* in the multi */
	int			 l_active;
	int64_t			 l_due;		/* curl's timer, ms; -1 none */
	atomic_ulong		 l_count;	/* submitted, not done */
};

/* loop_sock - curl wants s watched for what (or no longer) */
static int
loop_sock(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct http_loop	*l = userp;
	struct epoll_event	 ev;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		/* curl forgets sockp itself; a closed fd left epoll anyway */
		(void)epoll_ctl(l->l_ep, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = s;
	if (sockp != NULL &&
	    epoll_ctl(l->l_ep, EPOLL_CTL_MOD, s, &ev) == 0)
		return 0;
	if (epoll_ctl(l->l_ep, EPOLL_CTL_ADD, s, &ev) == -1 &&
	    (errno != EEXIST || epoll_ctl(l->l_ep, EPOLL_CTL_MOD, s, &ev) == -1))
		return -1;		/* curl fails that transfer */
	(void)curl_multi_assign(l->l_multi, s, l);
	return 0;
}

/* loop_timer - curl's next timeout: ms from now, -1 none */
static int
loop_timer(CURLM *m, long ms, void *userp)
{
	struct http_loop	*l = userp;

	(void)m;
	l->l_due = ms < 0 ? -1 : clock_mono_ms() + ms;
	return 0;
}

static void
loop_done(struct http_xfer *x, int cc)
{
	struct buf	why = BUF_INIT;
	enum status	st;

	st = http_xfer_finish(x, cc, &why);
	x->x_done(x->x_arg, st, &x->x_reply, buf_str(&why));
	http_reply_clear(&x->x_reply);
	buf_free(&why);
	free(x);
}

/* loop_unlink - x has left the multi */
static void
loop_unlink(struct http_loop *l, struct http_xfer *x)
{
	LIST_REMOVE(x, x_act);
	l->l_active--;
}

/* loop_admit - move submitted transfers into the multi, up to l_max */
static void
loop_admit(struct http_loop *l)
{
	struct http_xfer	*x;

	while (l->l_active < l->l_max) {
		pthread_mutex_lock(&l->l_mu);
		if ((x = l->l_in) != NULL && (l->l_in = x->x_next) == NULL)
			l->l_intail = &l->l_in;
		pthread_mutex_unlock(&l->l_mu);
		if (x == NULL)
			return;
		x->x_next = NULL;
		if (curl_multi_add_handle(l->l_multi, x->x_curl) != CURLM_OK) {
			buf_puts(&x->x_err, "curl_multi_add_handle failed");
			loop_done(x, -1);
			atomic_fetch_sub(&l->l_count, 1);
			continue;
		}
		l->l_active++;
		LIST_INSERT_HEAD(&l->l_act, x, x_act);
	}
}

/* loop_reap - the transfers curl has finished */
static void
loop_reap(struct http_loop *l)
{
	struct http_xfer	*x;
	CURLMsg			*m;
	int			 left;

	while ((m = curl_multi_info_read(l->l_multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		(void)curl_multi_remove_handle(l->l_multi, m->easy_handle);
		loop_unlink(l, x);
		loop_done(x, (int)m->data.result);
		atomic_fetch_sub(&l->l_count, 1);
	}
}

/* loop_wait - how long epoll may sleep: until curl's timer, at most
 * LOOP_IDLE_MS */
static int
loop_wait(const struct http_loop *l)
{
	int64_t	d;

	if (l->l_due < 0)
		return LOOP_IDLE_MS;
	d = l->l_due - clock_mono_ms();
	return d <= 0 ? 0 : d > LOOP_IDLE_MS ? LOOP_IDLE_MS : (int)d;
}

static void *
loop_run(void *arg)
{
	struct http_loop	*l = arg;
	struct epoll_event	 ev[LOOP_EVENTS];
	uint64_t		 v;
	int			 n, i, running, fl;

	thr_background("sts-https");	/* handshakes wait, answers do not */
	while (!atomic_load(&l->l_stop)) {
		loop_admit(l);		/* each add sets a timer of 0 */
		n = epoll_wait(l->l_ep, ev, LOOP_EVENTS, loop_wait(l));
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == l->l_wake) {
				(void)read(l->l_wake, &v, sizeof(v));
				continue;
			}
			fl = ((ev[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
			    ((ev[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
			    ((ev[i].events & (EPOLLERR | EPOLLHUP)) ?
			    CURL_CSELECT_ERR : 0);
			(void)curl_multi_socket_action(l->l_multi,
			    ev[i].data.fd, fl, &running);
		}
		if (l->l_due >= 0 && l->l_due <= clock_mono_ms()) {
			l->l_due = -1;	/* curl sets the next one */
			(void)curl_multi_socket_action(l->l_multi,
			    CURL_SOCKET_TIMEOUT, 0, &running);
		}
		loop_reap(l);
	}
	return NULL;
}

static void
loop_poke(struct http_loop *l)
{
	uint64_t	one = 1;

	(void)write(l->l_wake, &one, sizeof(one));
}

struct http_loop *
http_loop_new(int max, struct buf *why)
{
	struct http_loop	*l = xcalloc(1, sizeof(*l));
	struct epoll_event	 ev;

	l->l_max = max > 0 ? max : 1;
	l->l_intail = &l->l_in;
	LIST_INIT(&l->l_act);
	l->l_due = -1;
	l->l_ep = l->l_wake = -1;
	pthread_mutex_init(&l->l_mu, NULL);
	if ((l->l_ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (l->l_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		buf_printf(why, "HTTPS loop: %s", strerror(errno));
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = l->l_wake;
	if (epoll_ctl(l->l_ep, EPOLL_CTL_ADD, l->l_wake, &ev) == -1) {
		buf_printf(why, "HTTPS loop: %s", strerror(errno));
		goto fail;
	}
	if ((l->l_multi = curl_multi_init()) == NULL) {
		buf_puts(why, "curl_multi_init failed");
		goto fail;
	}
	(void)curl_multi_setopt(l->l_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)l->l_max);
	(void)curl_multi_setopt(l->l_multi, CURLMOPT_SOCKETFUNCTION, loop_sock);
	(void)curl_multi_setopt(l->l_multi, CURLMOPT_SOCKETDATA, l);
	(void)curl_multi_setopt(l->l_multi, CURLMOPT_TIMERFUNCTION, loop_timer);
	(void)curl_multi_setopt(l->l_multi, CURLMOPT_TIMERDATA, l);
	if (pthread_create(&l->l_thread, NULL, loop_run, l) != 0) {
		buf_puts(why, "cannot start the HTTPS loop thread");
		goto fail;
	}
	return l;
fail:
	if (l->l_multi != NULL)
		curl_multi_cleanup(l->l_multi);
	if (l->l_wake != -1)
		(void)close(l->l_wake);
	if (l->l_ep != -1)
		(void)close(l->l_ep);
	pthread_mutex_destroy(&l->l_mu);
	free(l);
	return NULL;
}

int
http_loop_submit(struct http_loop *l, const struct http_req *req,
    http_done_fn *done, void *arg)
{
	struct http_xfer	*x = xcalloc(1, sizeof(*x));

	x->x_done = done;
	x->x_arg = arg;
	if (http_xfer_setup(x, req, &x->x_reply) == -1 ||
	    curl_easy_setopt(x->x_curl, CURLOPT_PRIVATE, x) != CURLE_OK) {
		loop_done(x, -1);	/* at once, on this thread */
		return 0;
	}
	atomic_fetch_add(&l->l_count, 1);
	pthread_mutex_lock(&l->l_mu);
	*l->l_intail = x;
	l->l_intail = &x->x_next;
	pthread_mutex_unlock(&l->l_mu);
	loop_poke(l);
	return 0;
}

unsigned long
http_loop_pending(struct http_loop *l)
{
	return atomic_load(&l->l_count);
}

void
http_loop_free(struct http_loop *l)
{
	struct http_xfer	*x, *next;

	if (l == NULL)
		return;
	atomic_store(&l->l_stop, 1);
	loop_poke(l);
	pthread_join(l->l_thread, NULL);
	/* what is still in flight or waiting fails: "shutting down" */
	while ((x = LIST_FIRST(&l->l_act)) != NULL) {
		(void)curl_multi_remove_handle(l->l_multi, x->x_curl);
		loop_unlink(l, x);
		buf_puts(&x->x_err, "shutting down");
		loop_done(x, -1);
	}
	for (x = l->l_in; x != NULL; x = next) {
		next = x->x_next;
		buf_puts(&x->x_err, "shutting down");
		loop_done(x, -1);
	}
	curl_multi_cleanup(l->l_multi);
	(void)close(l->l_wake);
	(void)close(l->l_ep);
	pthread_mutex_destroy(&l->l_mu);
	free(l);
}
