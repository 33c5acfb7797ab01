/*
 * http.h - bounded HTTPS requests; a test seam
 *
 * http_do() performs one request (libcurl).  https only; redirects are never
 * followed (STS-HTTP-2); no proxies from the environment; TLS 1.2 or
 * later with full certificate and host-name validation against ca_file
 * (NULL = the system store) unless verify is 0 (RPT-TXT-11).  When
 * naddrs > 0 the host name is pinned to those addresses (CURLOPT_RESOLVE)
 * so libc never resolves it; SNI is the host name (STS-HTTP-6).  The
 * body is capped at max_body bytes while it streams (STS-HTTP-4).
 *
 * Returns ST_OK when an HTTP response was received (any status; check
 * r->status), else ST_TEMPFAIL with r->fail saying why and one line in
 * why.  http_init() must be called once before threads start.
 *
 * Tests link tests/fakes/fake_http.c instead of http.c.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

enum http_fail {
	HTTP_FAIL_NONE = 0,
	HTTP_FAIL_CONNECT,	/* refused, unreachable, no address */
	HTTP_FAIL_TIMEOUT,
	HTTP_FAIL_CERT,		/* certificate chain, expiry or name failed */
	HTTP_FAIL_TLS,		/* other TLS failure (handshake, version) */
	HTTP_FAIL_TOOBIG,	/* body exceeded max_body */
	HTTP_FAIL_PROTO		/* malformed HTTP, other errors */
};

struct http_req {
	const char	 *method;	/* "GET" (default) or "POST" */
	const char	 *url;		/* https://host[:port]/path */
	const char	 *host;		/* for pinning; must match the url */
	int		  port;		/* 0 = 443 */
	char *const	 *addrs;	/* pinned addresses (text), or NULL */
	size_t		  naddrs;
	const char	 *ca_file;	/* NULL = system store */
	int		  verify;	/* 1 = full validation */
	size_t		  max_body;
	int		  connect_timeout_ms;
	int		  timeout_ms;	/* whole request */
	const void	 *body;		/* POST body */
	size_t		  body_len;
	const char	 *content_type;	/* POST content type */
};

struct http_reply {
	long		 status;
	char		*content_type;	/* NULL if none */
	struct buf	 body;
	enum http_fail	 fail;
};

int		 http_init(void);
enum status	 http_do(const struct http_req *, struct http_reply *,
		    struct buf *why);
void		 http_reply_clear(struct http_reply *);

/*
 * The loop: many policy fetches in flight on one thread, none holding a
 * thread while it waits on the network (http_loop.c: its own client on
 * OpenSSL and http_resp.c, not libcurl).  It does GETs to pinned
 * addresses only; anything else fails as http_do() would fail it
 * (PROTO; no pinned address: CONNECT).  http_loop_new(max) starts the
 * thread; at most max fetches run at once, the others wait in
 * submission order.  http_loop_submit() takes a copy of what it needs
 * from req (which may go at once) and returns; done(arg, st, r, why) is
 * called once, on the loop's thread (or, when the request cannot even
 * be set up, on the caller's before submit returns), with what
 * http_do() would have returned for it; r and why are the loop's, valid
 * during the call (take r->body with buf_take-style moves if needed:
 * the loop frees what is left).  http_loop_free() stops the thread;
 * fetches not done are done with ST_TEMPFAIL "shutting down".
 * http_loop_pending() counts submitted, not done.  Thread-safe; done()
 * must not call http_loop_free().
 */
/*
 * http_get() is one fetch through a loop of its own, waited for: the
 * same client, checks and answers as the daemon's policy fetches, for
 * callers that do one at a time (stsctl, sts_fetch_policy()).
 */
struct http_loop;
typedef void	 http_done_fn(void *arg, enum status, struct http_reply *,
		    const char *why);
struct http_loop *http_loop_new(int max, struct buf *why);
int		 http_loop_submit(struct http_loop *, const struct http_req *,
		    http_done_fn *, void *arg);
unsigned long	 http_loop_pending(struct http_loop *);
void		 http_loop_free(struct http_loop *);
enum status	 http_get(const struct http_req *, struct http_reply *,
		    struct buf *why);
const char	*http_fail_str(enum http_fail);

#endif
