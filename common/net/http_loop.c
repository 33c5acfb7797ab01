/*
 * http_loop.c - many policy fetches on one thread: nonblocking
 * connections, OpenSSL and the streaming parser, driven by epoll
 *
 * SYNOPSIS
 *	#include "http.h"
 *
 *	struct http_loop *http_loop_new(int max, struct buf *why);
 *	int http_loop_submit(struct http_loop *l, const struct http_req *req,
 *	    http_done_fn *done, void *arg);
 *	unsigned long http_loop_pending(struct http_loop *l);
 *	void http_loop_free(struct http_loop *l);
 *	enum status http_get(const struct http_req *req,
 *	    struct http_reply *r, struct buf *why);
 *
 * DESCRIPTION
 *	The contract is in http.h.  A loop does GETs to pinned addresses
 *	(what a policy fetch is, STS-HTTP-1): the request is checked by
 *	http.c's own rules (http_url_split, http_pin_check), so a request
 *	refused by http_do() is refused here with the same kind of
 *	failure; what it sends is what http_do() sends, with Connection:
 *	close.  A fetch is a small state machine: TCP connect to the next
 *	pinned address (the next one when it fails), the TLS handshake
 *	(TLS 1.2 or later, STS-HTTP-7; SNI, STS-HTTP-6; the chain checked
 *	against the shared trust store, trust.c, and the name by OpenSSL,
 *	http_verify_host: STS-PKI-1..3), the request, then the response
 *	through http_resp.c, which caps the body (STS-HTTP-4) and never
 *	follows a redirect (STS-HTTP-2: a 3xx is just a status).
 *
 *	Why not libcurl's multi interface, which the loop used first:
 *	a handshake and GET through curl cost 1.8-2.0 ms of CPU here
 *	against 1.4 ms through OpenSSL alone (curl makes an SSL_CTX per
 *	connection, a resolver entry, a connection cache entry, its own
 *	header parser); with a few hundred policy hosts a second that was
 *	most of the daemon's cold-path CPU (README "The cold path").  One
 *	SSL_CTX serves every connection of a loop; the trust store is
 *	set per connection (SSL_set1_verify_cert_store), so a SIGHUP's new
 *	store is used by the next fetch.
 *
 *	The thread sleeps in epoll_wait() on the fetches' sockets, an
 *	eventfd that submit and free write to, and the earliest deadline
 *	(connect_timeout_ms covers TCP and TLS, timeout_ms the whole
 *	fetch, both counted from when the fetch starts; without either, a
 *	minute).  Each pinned address gets an equal share of the connect
 *	time left for its TCP connect and TLS handshake, so a silent one
 *	(or one that accepts and never answers) does not keep the next
 *	from being tried.  A fetch reads at most LOOP_READS records a wake-up, so a
 *	fast peer cannot hold the thread.  No close_notify is sent (the
 *	request said Connection: close); the peer's is required when the
 *	body runs to the close: without it the body may have been cut by
 *	whoever can forge a FIN, and the fetch fails (curl accepts it).
 *	http_loop_new() sets SIGPIPE to SIG_IGN if it is at SIG_DFL (TLS
 *	writes go through OpenSSL's socket BIO).
 *
 * THREAD SAFETY
 *	submit, pending and free may be called from any thread; a fetch
 *	in flight belongs to the loop's thread.
 */

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "buf.h"
#include "clock.h"
#include "http.h"
#include "http_impl.h"
#include "http_resp.h"
#include "status.h"
#include "thr.h"
#include "tls_lib.h"
#include "trust.h"
#include "xmalloc.h"

#define LOOP_EVENTS	64		/* epoll events per wake-up */
#define LOOP_IDLE_MS	1000		/* longest sleep without a deadline */
#define LOOP_READ	16384		/* one TLS record */
#define LOOP_READS	64		/* reads per wake-up, then the others */
#define LOOP_CEILING_MS	60000		/* a fetch without any timeout */

enum { HX_CONNECT, HX_HANDSHAKE, HX_SEND, HX_RECV };

/* one fetch */
struct hx {
	LIST_ENTRY(hx)		 h_act;		/* the loop's in flight */
	struct hx		*h_next;	/* the submitted queue */
	http_done_fn		*h_done;
	void			*h_arg;
	char			*h_url;		/* for the why line */
	char			*h_host;
	long			 h_port;
	char			**h_addrs;
	size_t			 h_naddrs, h_ai;
	X509_STORE		*h_store;	/* NULL: no verification */
	int			 h_connect_ms, h_timeout_ms;
	int64_t			 h_t0, h_due, h_cdue;
	int64_t			 h_adue;	/* this address's connect */
	int			 h_state;
	int			 h_fd;
	uint32_t		 h_ev;		/* what epoll watches */
	SSL			*h_ssl;
	struct buf		 h_req;		/* the request's bytes */
	size_t			 h_sent;
	struct http_resp	 h_resp;
	struct http_reply	 h_reply;
	struct buf		 h_err;		/* the reason */
};

struct http_loop {
	pthread_t		 l_thread;
	pthread_mutex_t		 l_mu;
	struct hx		*l_in, **l_intail;	/* submitted, FIFO */
	atomic_int		 l_stop;
	int			 l_ep;		/* epoll */
	int			 l_wake;	/* eventfd: submit, stop */
	int			 l_max;		/* fetches at once */
	SSL_CTX			*l_ctx;
	/* the loop thread's */
	LIST_HEAD(, hx)		 l_act;
	int			 l_active;
	atomic_ulong		 l_count;	/* submitted, not done */
};

static void
hx_free(struct hx *h)
{
	size_t	i;

	for (i = 0; i < h->h_naddrs; i++)
		free(h->h_addrs[i]);
	free(h->h_addrs);
	free(h->h_url);
	free(h->h_host);
	X509_STORE_free(h->h_store);
	buf_free(&h->h_req);
	http_resp_clear(&h->h_resp);
	http_reply_clear(&h->h_reply);
	buf_free(&h->h_err);
	free(h);
}

/* hx_close - the connection goes (the fetch stays) */
static void
hx_close(struct http_loop *l, struct hx *h)
{
	if (h->h_ssl != NULL) {
		SSL_free(h->h_ssl);
		h->h_ssl = NULL;
	}
	if (h->h_fd != -1) {
		if (l != NULL)
			(void)epoll_ctl(l->l_ep, EPOLL_CTL_DEL, h->h_fd, NULL);
		(void)close(h->h_fd);
		h->h_fd = -1;
	}
	h->h_ev = 0;
}

/*
 * hx_done - the fetch ends: f HTTP_FAIL_NONE when a response arrived,
 * else the failure with its reason in h_err; done() is called, h freed
 */
static void
hx_done(struct http_loop *l, struct hx *h, enum http_fail f)
{
	struct http_reply	*r = &h->h_reply;
	struct buf		 why = BUF_INIT;
	enum status		 st;

	hx_close(l, h);
	r->status = h->h_resp.r_status;
	if ((r->fail = f) == HTTP_FAIL_NONE) {
		r->content_type = h->h_resp.r_ctype;
		h->h_resp.r_ctype = NULL;
	}
	st = http_reply_end(r, h->h_url, buf_str(&h->h_err), &why);
	h->h_done(h->h_arg, st, r, buf_str(&why));
	buf_free(&why);
	if (l != NULL) {
		LIST_REMOVE(h, h_act);
		l->l_active--;
		atomic_fetch_sub(&l->l_count, 1);
	}
	hx_free(h);
}

/* hx_watch - epoll watches h's socket for ev */
static int
hx_watch(struct http_loop *l, struct hx *h, uint32_t ev)
{
	struct epoll_event	e;

	if (ev == h->h_ev)
		return 0;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = h;
	if (epoll_ctl(l->l_ep, h->h_ev == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
	    h->h_fd, &e) == -1)
		return -1;
	h->h_ev = ev;
	return 0;
}

/*
 * hx_addr_due - when to give up on this address (its TCP connect and
 * TLS handshake) and try the next: an equal share of the connect time
 * left for each address left, so an address that drops SYNs (a dead
 * IPv6 first, say) or never answers does not take all of it; -1 for
 * the last address (the fetch's own deadlines apply)
 */
static void
hx_addr_due(struct hx *h)
{
	int64_t	now = clock_mono_ms(), end = h->h_cdue >= 0 ? h->h_cdue :
		    h->h_due;
	size_t	left = h->h_naddrs - h->h_ai;

	h->h_adue = -1;
	if (left > 1 && end > now)
		h->h_adue = now + (end - now) / (int64_t)left;
}

/* hx_addr_failed - why the current address failed, in h_err */
static void
hx_addr_failed(struct hx *h, const char *why)
{
	buf_reset(&h->h_err);
	buf_printf(&h->h_err, "Failed to connect to %s port %ld: %s",
	    h->h_addrs[h->h_ai], h->h_port, why);
}

/* hx_connect - connect to the next pinned address; -1: none left */
static int
hx_connect(struct http_loop *l, struct hx *h)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sl;
	const char		*a;
	int			 one = 1;

	for (; h->h_ai < h->h_naddrs; h->h_ai++) {
		a = h->h_addrs[h->h_ai];
		memset(&ss, 0, sizeof(ss));
		if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)h->h_port);
			sl = sizeof(*sin);
		} else {	/* http_pin_check: IPv4 or IPv6 */
			(void)inet_pton(AF_INET6, a, &sin6->sin6_addr);
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)h->h_port);
			sl = sizeof(*sin6);
		}
		buf_reset(&h->h_err);
		if ((h->h_fd = socket(ss.ss_family, SOCK_STREAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
			buf_printf(&h->h_err, "socket: %s", strerror(errno));
			continue;
		}
		(void)setsockopt(h->h_fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if ((connect(h->h_fd, (struct sockaddr *)&ss, sl) == 0 ||
		    errno == EINPROGRESS) &&
		    hx_watch(l, h, EPOLLOUT) == 0) {
			h->h_state = HX_CONNECT;
			hx_addr_due(h);
			return 0;
		}
		hx_addr_failed(h, strerror(errno));
		hx_close(l, h);
	}
	return -1;
}

/* hx_next - the current address failed (why): the next one; -1 when
 * none is left (h_err says why the last one failed) */
static int
hx_next(struct http_loop *l, struct hx *h, const char *why)
{
	hx_addr_failed(h, why);
	hx_close(l, h);
	h->h_ai++;
	return hx_connect(l, h);
}

/* hx_tls - the connection is up: the TLS client on it */
static int
hx_tls(struct http_loop *l, struct hx *h)
{
	unsigned char	ip[16];
	int		literal;

	literal = inet_pton(AF_INET, h->h_host, ip) == 1 ||
	    inet_pton(AF_INET6, h->h_host, ip) == 1;
	if ((h->h_ssl = SSL_new(l->l_ctx)) == NULL ||
	    SSL_set_fd(h->h_ssl, h->h_fd) != 1 ||
	    (!literal && SSL_set_tlsext_host_name(h->h_ssl,
	    h->h_host) != 1)) {
		buf_puts(&h->h_err, "cannot set up TLS");
		return -1;
	}
	if (h->h_store == NULL)
		SSL_set_verify(h->h_ssl, SSL_VERIFY_NONE, NULL);
	else if (SSL_set1_verify_cert_store(h->h_ssl, h->h_store) != 1 ||
	    http_verify_host(SSL_get0_param(h->h_ssl), h->h_host) == -1) {
		buf_puts(&h->h_err, "cannot set up certificate checks");
		return -1;
	}
	SSL_set_connect_state(h->h_ssl);
	h->h_state = HX_HANDSHAKE;
	return 0;
}

/* hx_tls_fail - why a handshake failed: the certificate, or TLS */
static enum http_fail
hx_tls_fail(struct hx *h, int err)
{
	long		vr = SSL_get_verify_result(h->h_ssl);
	unsigned long	e = ERR_peek_last_error();
	char		msg[256];

	if (vr != X509_V_OK && vr != X509_V_ERR_UNSPECIFIED) {
		ERR_clear_error();
		buf_printf(&h->h_err, "certificate verify failed (X.509 "
		    "error %ld: %s)", vr, X509_verify_cert_error_string(vr));
		return HTTP_FAIL_CERT;
	}
	if (e != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		buf_printf(&h->h_err, "TLS handshake failed: %s", msg);
	} else if (err == SSL_ERROR_SYSCALL && errno != 0)
		buf_printf(&h->h_err, "TLS handshake failed: %s",
		    strerror(errno));
	else
		buf_puts(&h->h_err, "TLS handshake failed: connection "
		    "closed");
	ERR_clear_error();
	return HTTP_FAIL_TLS;
}

/* hx_recv - read and parse; 1 done, 0 wait, -1 failed (f set) */
static int
hx_recv(struct hx *h, uint32_t *want, enum http_fail *f)
{
	char		buf[LOOP_READ];
	unsigned long	e;
	int		n, err, rc, reads;

	for (reads = 0; reads < LOOP_READS || SSL_has_pending(h->h_ssl);
	    reads++) {
		ERR_clear_error();
		if ((n = SSL_read(h->h_ssl, buf, sizeof(buf))) > 0) {
			if ((rc = http_resp_feed(&h->h_resp, buf, (size_t)n,
			    &h->h_err)) == 0)
				continue;
			*f = h->h_resp.r_fail;
			return rc;
		}
		e = ERR_peek_error();
		switch (err = SSL_get_error(h->h_ssl, n)) {
		case SSL_ERROR_WANT_READ:
			*want = EPOLLIN;
			return 0;
		case SSL_ERROR_WANT_WRITE:
			*want = EPOLLOUT;
			return 0;
		case SSL_ERROR_ZERO_RETURN:	/* close_notify: a clean end */
			rc = http_resp_eof(&h->h_resp, 1, &h->h_err);
			*f = h->h_resp.r_fail;
			return rc;
		}
		if ((err == SSL_ERROR_SSL && ERR_GET_REASON(e) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
		    (err == SSL_ERROR_SYSCALL && e == 0 && errno == 0)) {
			ERR_clear_error();	/* a FIN without close_notify */
			rc = http_resp_eof(&h->h_resp, 0, &h->h_err);
			*f = h->h_resp.r_fail;
			return rc;
		}
		buf_printf(&h->h_err, "Recv failure: %s", err ==
		    SSL_ERROR_SYSCALL && errno != 0 ? strerror(errno) :
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "TLS error");
		ERR_clear_error();
		*f = HTTP_FAIL_CONNECT;
		return -1;
	}
	*want = EPOLLIN;	/* the others' turn; level-triggered: back soon */
	return 0;
}

/*
 * hx_step - drive h as far as it goes without waiting; 1 when it ended
 * (hx_done called), else 0 with epoll set for what it waits on
 */
static int
hx_step(struct http_loop *l, struct hx *h)
{
	enum http_fail	f = HTTP_FAIL_CONNECT;
	uint32_t	want = EPOLLIN;
	socklen_t	sl = sizeof(int);
	int		n, err, soerr = 0;

	switch (h->h_state) {
	case HX_CONNECT:
		if (getsockopt(h->h_fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			if (hx_next(l, h, strerror(soerr)) == 0)
				return 0;
			goto fail;
		}
		if (hx_tls(l, h) == -1) {
			f = HTTP_FAIL_TLS;
			goto fail;
		}
		/* FALLTHROUGH */
	case HX_HANDSHAKE:
		ERR_clear_error();
		if ((n = SSL_connect(h->h_ssl)) != 1) {
			err = SSL_get_error(h->h_ssl, n);
			if (err == SSL_ERROR_WANT_READ ||
			    err == SSL_ERROR_WANT_WRITE) {
				want = err == SSL_ERROR_WANT_READ ? EPOLLIN :
				    EPOLLOUT;
				break;
			}
			f = hx_tls_fail(h, err);
			goto fail;
		}
		h->h_state = HX_SEND;
		h->h_cdue = -1;
		/* FALLTHROUGH */
	case HX_SEND:
		while (h->h_sent < h->h_req.b_len) {
			ERR_clear_error();
			n = SSL_write(h->h_ssl, h->h_req.b_data + h->h_sent,
			    (int)(h->h_req.b_len - h->h_sent));
			if (n > 0) {
				h->h_sent += (size_t)n;
				continue;
			}
			err = SSL_get_error(h->h_ssl, n);
			if (err == SSL_ERROR_WANT_READ ||
			    err == SSL_ERROR_WANT_WRITE) {
				want = err == SSL_ERROR_WANT_READ ? EPOLLIN :
				    EPOLLOUT;
				goto wait;
			}
			buf_printf(&h->h_err, "Send failure: %s",
			    err == SSL_ERROR_SYSCALL && errno != 0 ?
			    strerror(errno) : "TLS error");
			ERR_clear_error();
			goto fail;
		}
		h->h_state = HX_RECV;
		/* FALLTHROUGH */
	case HX_RECV:
		if ((n = hx_recv(h, &want, &f)) == 1) {
			hx_done(l, h, HTTP_FAIL_NONE);
			return 1;
		}
		if (n == -1)
			goto fail;
		break;
	}
wait:
	if (hx_watch(l, h, want) == 0)
		return 0;
	buf_printf(&h->h_err, "epoll: %s", strerror(errno));
	f = HTTP_FAIL_CONNECT;
fail:
	hx_done(l, h, f);
	return 1;
}

/* loop_admit - start submitted fetches, up to l_max at once */
static void
loop_admit(struct http_loop *l)
{
	struct hx	*h;

	while (l->l_active < l->l_max) {
		pthread_mutex_lock(&l->l_mu);
		if ((h = l->l_in) != NULL && (l->l_in = h->h_next) == NULL)
			l->l_intail = &l->l_in;
		pthread_mutex_unlock(&l->l_mu);
		if (h == NULL)
			return;
		h->h_next = NULL;
		l->l_active++;
		LIST_INSERT_HEAD(&l->l_act, h, h_act);
		h->h_t0 = clock_mono_ms();
		h->h_due = h->h_t0 + (h->h_timeout_ms > 0 ? h->h_timeout_ms :
		    LOOP_CEILING_MS);
		h->h_cdue = h->h_connect_ms > 0 ? h->h_t0 + h->h_connect_ms :
		    -1;
		if (hx_connect(l, h) == -1)
			hx_done(l, h, HTTP_FAIL_CONNECT);
	}
}

/*
 * loop_expire - fail the fetches past a deadline; the ms epoll may
 * sleep until the next one (at most LOOP_IDLE_MS)
 */
static int
loop_expire(struct http_loop *l)
{
	struct hx	*h, *next;
	int64_t		 now = clock_mono_ms(), next_due = now + LOOP_IDLE_MS;
	int		 conn;

	for (h = LIST_FIRST(&l->l_act); h != NULL; h = next) {
		next = LIST_NEXT(h, h_act);
		if (h->h_state <= HX_HANDSHAKE && h->h_adue >= 0 &&
		    now >= h->h_adue &&	/* this address is silent: the next */
		    hx_next(l, h, h->h_state == HX_CONNECT ? "TCP timed out" :
		    "TLS handshake timed out") == -1) {
			hx_done(l, h, HTTP_FAIL_CONNECT);
			continue;
		}
		conn = h->h_cdue >= 0 && now >= h->h_cdue;
		if (conn || (h->h_due >= 0 && now >= h->h_due)) {
			buf_reset(&h->h_err);
			buf_printf(&h->h_err, "%s timed out after %lld "
			    "milliseconds", conn ? "Connection" : "Operation",
			    (long long)(now - h->h_t0));
			hx_done(l, h, HTTP_FAIL_TIMEOUT);
			continue;
		}
		if (h->h_cdue >= 0 && h->h_cdue < next_due)
			next_due = h->h_cdue;
		if (h->h_state <= HX_HANDSHAKE && h->h_adue >= 0 &&
		    h->h_adue < next_due)
			next_due = h->h_adue;
		if (h->h_due >= 0 && h->h_due < next_due)
			next_due = h->h_due;
	}
	return (int)(next_due - now);
}

static void *
loop_run(void *arg)
{
	struct http_loop	*l = arg;
	struct epoll_event	 ev[LOOP_EVENTS];
	uint64_t		 v;
	int			 n, i;

	thr_background("sts-https");	/* handshakes wait, answers do not */
	while (!atomic_load(&l->l_stop)) {
		loop_admit(l);
		n = epoll_wait(l->l_ep, ev, LOOP_EVENTS, loop_expire(l));
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL) {
				(void)read(l->l_wake, &v, sizeof(v));
				continue;
			}
			(void)hx_step(l, ev[i].data.ptr);
		}
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
	struct sigaction	 sa;

	/* TLS writes go through OpenSSL's socket BIO: a reset peer must
	 * not kill the process (the daemon ignores SIGPIPE anyway) */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		(void)signal(SIGPIPE, SIG_IGN);
	l->l_max = max > 0 ? max : 1;
	l->l_intail = &l->l_in;
	LIST_INIT(&l->l_act);
	l->l_ep = l->l_wake = -1;
	pthread_mutex_init(&l->l_mu, NULL);
	if ((l->l_ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (l->l_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		buf_printf(why, "HTTPS loop: %s", strerror(errno));
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(l->l_ep, EPOLL_CTL_ADD, l->l_wake, &ev) == -1) {
		buf_printf(why, "HTTPS loop: %s", strerror(errno));
		goto fail;
	}
	/* one context for every connection: TLS 1.2+, chains checked */
	if ((l->l_ctx = SSL_CTX_new_ex(tls_lib(), NULL,
	    TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(l->l_ctx, TLS1_2_VERSION) != 1) {
		buf_puts(why, "HTTPS loop: cannot make a TLS context");
		goto fail;
	}
	SSL_CTX_set_verify(l->l_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(l->l_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(l->l_ctx, SSL_OP_NO_TICKET);
	if (pthread_create(&l->l_thread, NULL, loop_run, l) != 0) {
		buf_puts(why, "cannot start the HTTPS loop thread");
		goto fail;
	}
	return l;
fail:
	SSL_CTX_free(l->l_ctx);
	if (l->l_wake != -1)
		(void)close(l->l_wake);
	if (l->l_ep != -1)
		(void)close(l->l_ep);
	pthread_mutex_destroy(&l->l_mu);
	free(l);
	return NULL;
}

/* hx_new - a fetch for req, checked as http_do() checks it; -1 with
 * the failure's kind in *f and its reason in h_err */
static int
hx_new(struct hx *h, const struct http_req *req, enum http_fail *f)
{
	char	*target = NULL;
	size_t	 i, max = req->max_body ? req->max_body : HTTP_BODY_DEFAULT;

	h->h_fd = -1;
	h->h_cdue = h->h_due = h->h_adue = -1;
	buf_init(&h->h_err, 256);
	buf_init(&h->h_reply.body, max);
	http_resp_init(&h->h_resp, &h->h_reply.body, max);
	*f = HTTP_FAIL_PROTO;
	if (req->url == NULL || !http_safe(req->url) || strlen(req->url) >=
	    512) {
		buf_puts(&h->h_err, "bad URL");
		return -1;
	}
	h->h_url = xstrdup(req->url);
	if (req->method != NULL && strcmp(req->method, "GET") != 0) {
		buf_puts(&h->h_err, "the HTTPS loop does GET only");
		return -1;
	}
	if (strncasecmp(req->url, "https://", 8) != 0) {
		buf_puts(&h->h_err, "Protocol not supported: https only");
		return -1;
	}
	if (http_url_split(req->url, &h->h_host, &h->h_port, &target,
	    &h->h_err) == -1)
		return -1;
	if (req->naddrs == 0) {
		*f = HTTP_FAIL_CONNECT;
		buf_printf(&h->h_err, "Could not resolve host: %s (no pinned "
		    "address; names are not resolved through libc)",
		    http_safe(h->h_host) ? h->h_host : "?");
		goto fail;
	}
	if (http_pin_check(req, h->h_host, h->h_port, &h->h_err) == -1)
		goto fail;
	if (req->verify && (h->h_store = trust_get(req->ca_file,
	    &h->h_err)) == NULL) {
		*f = HTTP_FAIL_CERT;
		goto fail;
	}
	h->h_addrs = xcalloc(req->naddrs, sizeof(*h->h_addrs));
	for (i = 0; i < req->naddrs; i++)
		h->h_addrs[i] = xstrdup(req->addrs[i]);
	h->h_naddrs = req->naddrs;
	h->h_connect_ms = req->connect_timeout_ms;
	h->h_timeout_ms = req->timeout_ms;
	buf_init(&h->h_req, 0);
	buf_printf(&h->h_req, "GET %s HTTP/1.1\r\nHost: %s%s%s", target,
	    strchr(h->h_host, ':') != NULL ? "[" : "", h->h_host,
	    strchr(h->h_host, ':') != NULL ? "]" : "");
	if (h->h_port != 443)
		buf_printf(&h->h_req, ":%ld", h->h_port);
	buf_printf(&h->h_req, "\r\nUser-Agent: %s\r\nAccept: */*\r\n"
	    "Connection: close\r\n\r\n", http_user_agent());
	free(target);
	return 0;
fail:
	free(target);
	return -1;
}

int
http_loop_submit(struct http_loop *l, const struct http_req *req,
    http_done_fn *done, void *arg)
{
	struct hx	*h = xcalloc(1, sizeof(*h));
	enum http_fail	 f;

	h->h_done = done;
	h->h_arg = arg;
	if (hx_new(h, req, &f) == -1) {
		hx_done(NULL, h, f);	/* at once, on this thread */
		return 0;
	}
	atomic_fetch_add(&l->l_count, 1);
	pthread_mutex_lock(&l->l_mu);
	*l->l_intail = h;
	l->l_intail = &h->h_next;
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
	struct hx	*h, *next;

	if (l == NULL)
		return;
	atomic_store(&l->l_stop, 1);
	loop_poke(l);
	pthread_join(l->l_thread, NULL);
	/* what is still in flight or waiting fails: "shutting down" */
	while ((h = LIST_FIRST(&l->l_act)) != NULL) {
		buf_reset(&h->h_err);
		buf_puts(&h->h_err, "shutting down");
		hx_done(l, h, HTTP_FAIL_PROTO);
	}
	for (h = l->l_in; h != NULL; h = next) {
		next = h->h_next;
		buf_puts(&h->h_err, "shutting down");
		hx_done(NULL, h, HTTP_FAIL_PROTO);
		atomic_fetch_sub(&l->l_count, 1);
	}
	SSL_CTX_free(l->l_ctx);
	(void)close(l->l_wake);
	(void)close(l->l_ep);
	pthread_mutex_destroy(&l->l_mu);
	free(l);
}

/* one http_get(): its answer, moved out of the loop's reply */
struct http_wait {
	pthread_mutex_t		 w_mu;
	pthread_cond_t		 w_cv;
	int			 w_done;
	enum status		 w_st;
	struct http_reply	*w_r;
	struct buf		*w_why;
};

static void
wait_done(void *arg, enum status st, struct http_reply *r, const char *why)
{
	struct http_wait	*w = arg;

	pthread_mutex_lock(&w->w_mu);
	*w->w_r = *r;			/* moved: the loop frees nothing */
	r->content_type = NULL;
	memset(&r->body, 0, sizeof(r->body));
	buf_puts(w->w_why, why);
	w->w_st = st;
	w->w_done = 1;
	pthread_cond_signal(&w->w_cv);
	pthread_mutex_unlock(&w->w_mu);
}

enum status
http_get(const struct http_req *req, struct http_reply *r, struct buf *why)
{
	struct http_wait	 w;
	struct http_loop	*l;

	memset(r, 0, sizeof(*r));
	if ((l = http_loop_new(1, why)) == NULL) {
		r->fail = HTTP_FAIL_PROTO;
		return ST_TEMPFAIL;
	}
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.w_mu, NULL);
	pthread_cond_init(&w.w_cv, NULL);
	w.w_r = r;
	w.w_why = why;
	(void)http_loop_submit(l, req, wait_done, &w);
	pthread_mutex_lock(&w.w_mu);
	while (!w.w_done)
		pthread_cond_wait(&w.w_cv, &w.w_mu);
	pthread_mutex_unlock(&w.w_mu);
	http_loop_free(l);
	pthread_cond_destroy(&w.w_cv);
	pthread_mutex_destroy(&w.w_mu);
	return w.w_st;
}
