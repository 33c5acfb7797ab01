/*
 * fake_http.c - HTTP answers from a table the test fills
 *
 * A URL with no entry fails to connect.
 */
#include <pthread.h>
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
