/*
 * fake_http.c - HTTP answers from a table the test fills
 *
 * A URL with no entry fails to connect.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakes.h"
#include "http.h"
#include "xmalloc.h"

#define FAKE_MAX	128

struct fake_resp {
	char		*url;
	long		 status;
	char		*ctype;
	char		*body;
	size_t		 blen;
	enum http_fail	 fail;
};

static struct fake_resp	fake[FAKE_MAX];
static int		nfake, ncalls, delay_ms;
static pthread_mutex_t	fake_mu = PTHREAD_MUTEX_INITIALIZER;

int
http_init(void)
{
	return 0;
}

void
fake_http_reset(void)
{
	int	i;

	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++) {
		free(fake[i].url);
		free(fake[i].ctype);
		free(fake[i].body);
	}
	nfake = ncalls = delay_ms = 0;
	pthread_mutex_unlock(&fake_mu);
}

void
fake_http_set(const char *url, long status, const char *ctype,
    const char *body, enum http_fail fail)
{
	fake_http_set_n(url, status, ctype, body ? body : "",
	    body ? strlen(body) : 0, fail);
}

void
fake_http_set_n(const char *url, long status, const char *ctype,
    const char *body, size_t blen, enum http_fail fail)
{
	struct fake_resp *f = NULL;
	int		  i;

	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++)
		if (!strcmp(fake[i].url, url))
			f = &fake[i];
	if (f == NULL) {
		if (nfake == FAKE_MAX)
			abort();
		f = &fake[nfake++];
		f->url = xstrdup(url);
	} else {
		free(f->ctype);
		free(f->body);
	}
	f->status = status;
	f->ctype = ctype ? xstrdup(ctype) : NULL;
	f->body = xmalloc(blen + 1);
	memcpy(f->body, body, blen);
	f->body[blen] = '\0';
	f->blen = blen;
	f->fail = fail;
	pthread_mutex_unlock(&fake_mu);
}

int
fake_http_calls(void)
{
	int	n;

	pthread_mutex_lock(&fake_mu);
	n = ncalls;
	pthread_mutex_unlock(&fake_mu);
	return n;
}

void
fake_http_delay_ms(int ms)
{
	pthread_mutex_lock(&fake_mu);
	delay_ms = ms;
	pthread_mutex_unlock(&fake_mu);
}

enum status
http_do(const struct http_req *req, struct http_reply *r, struct buf *why)
{
	struct fake_resp *f = NULL;
	int		  i, d;
	size_t		  len;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, req->max_body ? req->max_body : 65536);
	pthread_mutex_lock(&fake_mu);
	ncalls++;
	d = delay_ms;
	for (i = 0; i < nfake; i++)
		if (!strcmp(fake[i].url, req->url))
			f = &fake[i];
	if (f == NULL) {
		pthread_mutex_unlock(&fake_mu);
		r->fail = HTTP_FAIL_CONNECT;
		buf_printf(why, "connect to %s: connection refused", req->url);
		return ST_TEMPFAIL;
	}
	r->fail = f->fail;
	r->status = f->status;
	r->content_type = f->ctype ? xstrdup(f->ctype) : NULL;
	len = f->blen;
	if (r->fail == HTTP_FAIL_NONE && req->max_body && len > req->max_body)
		r->fail = HTTP_FAIL_TOOBIG;
	else
		buf_append(&r->body, f->body, len);
	pthread_mutex_unlock(&fake_mu);
	if (d)
		usleep((useconds_t)d * 1000);
	if (r->fail != HTTP_FAIL_NONE) {
		buf_printf(why, "%s: %s", req->url, http_fail_str(r->fail));
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

void
http_reply_clear(struct http_reply *r)
{
	free(r->content_type);
	buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

const char *
http_fail_str(enum http_fail f)
{
	static const char *const names[] = { "none", "connect", "timeout",
	    "certificate", "tls", "too-big", "protocol" };

	if ((unsigned)f < sizeof(names) / sizeof(names[0]))
		return names[f];
	return "unknown";
}

/* The loop: each request on a thread of its own, through http_do(),
 * at most max at once, as the real loop. */
struct http_loop {
	pthread_mutex_t	 l_mu;
	pthread_cond_t	 l_cv;
	unsigned long	 l_count;
	int		 l_running, l_max;
};

struct fake_xfer {
	struct http_loop	*x_loop;
	struct http_req		 x_req;
	http_done_fn		*x_done;
	void			*x_arg;
};

static void *
fake_loop_run(void *arg)
{
	struct fake_xfer	*x = arg;
	struct http_loop	*l = x->x_loop;
	struct http_reply	 r;
	struct buf		 why = BUF_INIT;
	enum status		 st;

	pthread_mutex_lock(&l->l_mu);
	while (l->l_running >= l->l_max)
		pthread_cond_wait(&l->l_cv, &l->l_mu);
	l->l_running++;
	pthread_mutex_unlock(&l->l_mu);
	st = http_do(&x->x_req, &r, &why);
	x->x_done(x->x_arg, st, &r, buf_str(&why));
	http_reply_clear(&r);
	buf_free(&why);
	free((char *)(uintptr_t)x->x_req.url);
	free(x);
	pthread_mutex_lock(&l->l_mu);
	l->l_count--;
	l->l_running--;
	pthread_cond_broadcast(&l->l_cv);
	pthread_mutex_unlock(&l->l_mu);
	return NULL;
}

struct http_loop *
http_loop_new(int max, struct buf *why)
{
	struct http_loop	*l = xcalloc(1, sizeof(*l));

	(void)why;
	l->l_max = max > 0 ? max : 1;
	pthread_mutex_init(&l->l_mu, NULL);
	pthread_cond_init(&l->l_cv, NULL);
	return l;
}

int
http_loop_submit(struct http_loop *l, const struct http_req *req,
    http_done_fn *done, void *arg)
{
	struct fake_xfer	*x = xcalloc(1, sizeof(*x));
	pthread_t		 t;

	x->x_loop = l;
	x->x_req = *req;
	x->x_req.url = xstrdup(req->url);
	x->x_req.addrs = NULL;		/* not kept: the fake ignores them */
	x->x_req.naddrs = 0;
	x->x_req.body = NULL;
	x->x_done = done;
	x->x_arg = arg;
	pthread_mutex_lock(&l->l_mu);
	l->l_count++;
	pthread_mutex_unlock(&l->l_mu);
	if (pthread_create(&t, NULL, fake_loop_run, x) != 0)
		abort();
	pthread_detach(t);
	return 0;
}

unsigned long
http_loop_pending(struct http_loop *l)
{
	unsigned long	n;

	pthread_mutex_lock(&l->l_mu);
	n = l->l_count;
	pthread_mutex_unlock(&l->l_mu);
	return n;
}

void
http_loop_free(struct http_loop *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->l_mu);
	while (l->l_count > 0)
		pthread_cond_wait(&l->l_cv, &l->l_mu);
	pthread_mutex_unlock(&l->l_mu);
	pthread_cond_destroy(&l->l_cv);
	pthread_mutex_destroy(&l->l_mu);
	free(l);
}

/* http_get - the fake's one fetch: what http_do() would answer */
enum status
http_get(const struct http_req *req, struct http_reply *r, struct buf *why)
{
	return http_do(req, r, why);
}
