/*
 * dns_async.c - DNS lookups that wait in one loop thread (dns.h)
 *
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	int dns_async_start(struct dns *, struct buf *why);
 *	void dns_txt_start(struct dns *, const char *name,
 *	    dns_done_fn *done, void *arg);
 *	void dns_addr_start(struct dns *, const char *name,
 *	    dns_done_fn *done, void *arg);
 *
 * DESCRIPTION
 *	dns_async_start() gives the handle a thread of its own (named
 *	sts-dns) with one getdns context, set up as every context of the
 *	handle (dns_ctx_new), that runs getdns's own event loop.  A lookup
 *	started with dns_txt_start() or dns_addr_start() is handed to that
 *	thread (a queue and an eventfd the loop watches) and asked with
 *	getdns_general(): no thread waits for the answer.  The answer is
 *	judged, the CNAME chain followed and a timed-out query tried again
 *	exactly as dns_txt() and dns_addr() do (dns_judge, dns_q_*, the
 *	same attempts per query), so the status, records and why are the
 *	same.  dns_addr_start() asks A and AAAA at once and merges them as
 *	dns_addr() does.  Only the lookups of a policy discovery (TXT, the
 *	policy host's addresses) are asynchronous; DNSSEC-validated lookups
 *	(DANE) block their thread (dns.c).
 *
 *	done(arg, st, out, why) is called once, on the loop thread; out
 *	and why are the loop's during the call (move out's arrays and
 *	zero it to keep them).  Without a loop (never started, or
 *	stopped) a lookup runs at once on the caller's thread through
 *	dns_txt()/dns_addr(), done() before the call returns.
 *
 *	dns_async_stop() (from dns_free(), or the owner of the callbacks
 *	before it goes away) cancels what is in flight: those lookups are
 *	done with ST_TEMPFAIL "shutting down", on the stopping thread.
 *
 * THREAD SAFETY
 *	Starting lookups: any thread.  The getdns context is only touched
 *	by the loop thread (getdns is not thread-safe), and by the stopping
 *	thread once the loop thread is gone.
 */
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_impl.h"
#include "thr.h"
#include "xmalloc.h"

/* one query in the loop */
struct dns_aq {
	struct dns_aq		*a_next;	/* the submitted queue */
	LIST_ENTRY(dns_aq)	 a_fly;		/* in flight */
	struct dns		*a_d;
	struct dns_q		 a_q;
	struct dns_rrset	 a_out;
	char			*a_name;
	int			 a_tries;
	getdns_transaction_t	 a_tid;
	dns_done_fn		*a_done;
	void			*a_arg;
};

struct dns_loop {
	getdns_context		*l_ctx;
	getdns_eventloop	*l_ev;
	getdns_eventloop_event	 l_wake;
	int			 l_fd;		/* eventfd: work or stop */
	pthread_t		 l_thread;
	pthread_mutex_t		 l_mu;		/* l_in */
	struct dns_aq		*l_in, **l_intail;
	atomic_int		 l_stop;
	LIST_HEAD(, dns_aq)	 l_fly;		/* asked (loop thread) */
};

static void	aq_ask(struct dns_loop *, struct dns_aq *, const char *);

/* aq_end - aq is done: its status, then done() */
static void
aq_end(struct dns_aq *aq, enum status st)
{
	struct buf	why = BUF_INIT;

	dns_count(aq->a_d, aq->a_q.type, st);
	st = dns_q_end(&aq->a_q, st, &why);
	aq->a_done(aq->a_arg, st, &aq->a_out, buf_str(&why));
	dns_rrset_clear(&aq->a_out);
	buf_free(&why);
	free(aq->a_name);
	free(aq);
}

/* aq_answer - getdns's answer to aq's query (loop thread) */
static void
aq_answer(getdns_context *ctx, getdns_callback_type_t cbt, getdns_dict *resp,
    void *arg, getdns_transaction_t tid)
{
	struct dns_aq	*aq = arg;
	struct dns_loop	*l = aq->a_d->d_loop;
	getdns_dict	*reply = NULL;
	uint32_t	 rstatus;
	enum status	 st;

	(void)ctx;
	(void)tid;
	LIST_REMOVE(aq, a_fly);
	if (cbt == GETDNS_CALLBACK_CANCEL) {
		buf_puts(&aq->a_q.err, "shutting down");
		getdns_dict_destroy(resp);
		aq_end(aq, ST_TEMPFAIL);
		return;
	}
	/* a timeout: the next resolver, as dns_ask() does */
	if (resp != NULL && getdns_dict_get_int(resp, "status", &rstatus) ==
	    0 && rstatus == GETDNS_RESPSTATUS_ALL_TIMEOUT &&
	    ++aq->a_tries < aq->a_d->d_tries) {
		getdns_dict_destroy(resp);
		aq_ask(l, aq, buf_str(&aq->a_q.qname)[0] ?
		    buf_str(&aq->a_q.qname) : ".");
		return;
	}
	st = dns_judge(resp, 0, &reply, &aq->a_q.sec, &aq->a_q.err);
	if (dns_q_step(&aq->a_q, &st, reply)) {
		getdns_dict_destroy(resp);
		aq->a_tries = 0;
		aq_ask(l, aq, dns_q_next(&aq->a_q));
		return;
	}
	getdns_dict_destroy(resp);
	aq_end(aq, st);
}

/* aq_ask - send aq's query for qname (loop thread) */
static void
aq_ask(struct dns_loop *l, struct dns_aq *aq, const char *qname)
{
	getdns_return_t	r;

	r = getdns_general(l->l_ctx, qname, aq->a_q.type, NULL, aq,
	    &aq->a_tid, aq_answer);
	if (r == GETDNS_RETURN_GOOD) {
		LIST_INSERT_HEAD(&l->l_fly, aq, a_fly);
		return;
	}
	if (r == GETDNS_RETURN_BAD_DOMAIN_NAME) {
		buf_puts(&aq->a_q.err, "bad domain name");
		aq_end(aq, ST_INVALID);
		return;
	}
	buf_printf(&aq->a_q.err, "getdns: %s", getdns_get_errorstr_by_id(r));
	aq_end(aq, ST_TEMPFAIL);
}

/* loop_wake - the eventfd: new lookups to ask (loop thread) */
static void
loop_wake(void *arg)
{
	struct dns_loop	*l = arg;
	struct dns_aq	*aq, *next;
	uint64_t	 v;

	(void)read(l->l_fd, &v, sizeof(v));
	pthread_mutex_lock(&l->l_mu);
	aq = l->l_in;
	l->l_in = NULL;
	l->l_intail = &l->l_in;
	pthread_mutex_unlock(&l->l_mu);
	for (; aq != NULL; aq = next) {
		next = aq->a_next;
		aq->a_next = NULL;
		aq_ask(l, aq, dns_q_next(&aq->a_q));
	}
}

static void *
loop_run(void *arg)
{
	struct dns_loop	*l = arg;

	thr_background("sts-dns");
	while (!atomic_load(&l->l_stop))
		l->l_ev->vmt->run_once(l->l_ev, 1);
	return NULL;
}

int
dns_async_start(struct dns *d, struct buf *why)
{
	struct dns_loop	*l;

	if (d->d_loop != NULL)
		return 0;
	l = xcalloc(1, sizeof(*l));
	LIST_INIT(&l->l_fly);
	l->l_intail = &l->l_in;
	pthread_mutex_init(&l->l_mu, NULL);
	pthread_mutex_lock(&d->d_lock);	/* as dns_take(): setup under it */
	l->l_ctx = dns_ctx_new(d, why);
	pthread_mutex_unlock(&d->d_lock);
	if (l->l_ctx == NULL)
		goto fail;
	if (getdns_context_get_eventloop(l->l_ctx, &l->l_ev) !=
	    GETDNS_RETURN_GOOD || l->l_ev == NULL) {
		buf_puts(why, "getdns: no event loop");
		goto fail;
	}
	if ((l->l_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		buf_printf(why, "eventfd: %s", strerror(errno));
		goto fail;
	}
	l->l_wake.userarg = l;
	l->l_wake.read_cb = loop_wake;
	if (l->l_ev->vmt->schedule(l->l_ev, l->l_fd, (uint64_t)-1,
	    &l->l_wake) != GETDNS_RETURN_GOOD) {
		buf_puts(why, "getdns: cannot watch the eventfd");
		goto fail;
	}
	d->d_loop = l;
	if (pthread_create(&l->l_thread, NULL, loop_run, l) != 0) {
		d->d_loop = NULL;
		l->l_ev->vmt->clear(l->l_ev, &l->l_wake);
		buf_puts(why, "cannot start the DNS loop thread");
		goto fail;
	}
	return 0;
fail:
	if (l->l_fd > 0)
		close(l->l_fd);
	if (l->l_ctx != NULL)
		getdns_context_destroy(l->l_ctx);
	pthread_mutex_destroy(&l->l_mu);
	free(l);
	return -1;
}

void
dns_async_stop(struct dns *d)
{
	struct dns_loop	*l = d->d_loop;
	struct dns_aq	*aq;
	uint64_t	 one = 1;

	if (l == NULL)
		return;
	atomic_store(&l->l_stop, 1);
	(void)write(l->l_fd, &one, sizeof(one));
	pthread_join(l->l_thread, NULL);
	/* the loop thread is gone: this thread has the context now */
	while ((aq = LIST_FIRST(&l->l_fly)) != NULL) {
		/* getdns calls aq_answer() with CANCEL, which unlinks it */
		(void)getdns_cancel_callback(l->l_ctx, aq->a_tid);
		if (LIST_FIRST(&l->l_fly) == aq) {
			LIST_REMOVE(aq, a_fly);
			buf_puts(&aq->a_q.err, "shutting down");
			aq_end(aq, ST_TEMPFAIL);
		}
	}
	while ((aq = l->l_in) != NULL) {
		l->l_in = aq->a_next;
		buf_puts(&aq->a_q.err, "shutting down");
		aq_end(aq, ST_TEMPFAIL);
	}
	l->l_ev->vmt->clear(l->l_ev, &l->l_wake);
	d->d_loop = NULL;
	getdns_context_destroy(l->l_ctx);
	close(l->l_fd);
	pthread_mutex_destroy(&l->l_mu);
	free(l);
}

/* dns_start - one query of type for name in the loop */
static void
dns_start(struct dns *d, const char *name, uint16_t type, dns_done_fn *done,
    void *arg)
{
	struct dns_loop	*l = d->d_loop;
	struct dns_aq	*aq = xcalloc(1, sizeof(*aq));
	uint64_t	 one = 1;

	aq->a_d = d;
	aq->a_done = done;
	aq->a_arg = arg;
	aq->a_name = name != NULL ? xstrdup(name) : NULL;
	if (dns_q_init(&aq->a_q, aq->a_name, type, 0, &aq->a_out) == -1) {
		buf_puts(&aq->a_q.err, "bad domain name");
		aq_end(aq, ST_INVALID);
		return;
	}
	pthread_mutex_lock(&l->l_mu);
	*l->l_intail = aq;
	l->l_intail = &aq->a_next;
	pthread_mutex_unlock(&l->l_mu);
	(void)write(l->l_fd, &one, sizeof(one));
}

void
dns_txt_start(struct dns *d, const char *name, dns_done_fn *done, void *arg)
{
	struct dns_rrset	out;
	struct buf		why = BUF_INIT;
	enum status		st;

	if (d->d_loop != NULL) {
		dns_start(d, name, RR_TXT, done, arg);
		return;
	}
	st = dns_txt(d, name, &out, &why);
	done(arg, st, &out, buf_str(&why));
	dns_rrset_clear(&out);
	buf_free(&why);
}

/* A and AAAA at once: the second answer merges them */
struct dns_addr2 {
	int			 n;		/* answers so far */
	enum status		 st4, st6;
	struct dns_rrset	 v4, v6;
	struct buf		 why4, why6;
	dns_done_fn		*done;
	void			*arg;
};

static void
addr2_one(struct dns_addr2 *a, int v6, enum status st, struct dns_rrset *out,
    const char *why)
{
	struct buf	w = BUF_INIT;

	if (v6) {
		a->st6 = st;
		a->v6 = *out;
		buf_puts(&a->why6, why);
	} else {
		a->st4 = st;
		a->v4 = *out;
		buf_puts(&a->why4, why);
	}
	memset(out, 0, sizeof(*out));		/* taken */
	if (++a->n < 2)
		return;
	st = dns_addr_merge(a->st4, &a->v4, buf_str(&a->why4), a->st6,
	    &a->v6, buf_str(&a->why6), &w);
	a->done(a->arg, st, &a->v4, buf_str(&w));
	dns_rrset_clear(&a->v4);
	buf_free(&a->why4);
	buf_free(&a->why6);
	buf_free(&w);
	free(a);
}

static void
addr2_v4(void *arg, enum status st, struct dns_rrset *out, const char *why)
{
	addr2_one(arg, 0, st, out, why);
}

static void
addr2_v6(void *arg, enum status st, struct dns_rrset *out, const char *why)
{
	addr2_one(arg, 1, st, out, why);
}

void
dns_addr_start(struct dns *d, const char *name, dns_done_fn *done, void *arg)
{
	struct dns_rrset	 out;
	struct buf		 why = BUF_INIT;
	struct dns_addr2	*a;
	enum status		 st;

	if (d->d_loop == NULL) {
		st = dns_addr(d, name, &out, &why);
		done(arg, st, &out, buf_str(&why));
		dns_rrset_clear(&out);
		buf_free(&why);
		return;
	}
	a = xcalloc(1, sizeof(*a));
	a->done = done;
	a->arg = arg;
	/* both answers come on the loop thread: no lock for a */
	dns_start(d, name, RR_A, addr2_v4, a);
	dns_start(d, name, RR_AAAA, addr2_v6, a);
}
