/*
 * http_impl.h - what http.c and http_loop.c share: one transfer (a curl
 * easy handle and what its callbacks need), set up and finished by
 * http.c, performed by http_do() or by a loop.  Not for other modules.
 */
#ifndef HTTP_IMPL_H
#define HTTP_IMPL_H

#include <sys/queue.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "buf.h"
#include "http.h"

/* Per-request state shared with the curl callbacks. */
struct http_ctx {
	struct http_reply	*hc_reply;
	size_t			 hc_max;
	int			 hc_toobig;
	int			 hc_verify;
	char			*hc_host;	/* URL host, for the name check */
	X509_STORE		*hc_store;	/* shared trust store (trust.c) */
};

/*
 * One transfer: the easy handle and what its callbacks and the failure
 * path need.  http_do() keeps one on its stack; the loop one per
 * request on the heap (the callbacks hold its address).
 */
struct http_xfer {
	CURL			*x_curl;
	struct curl_slist	*x_resolve, *x_hdrs;
	struct http_ctx		 x_hc;
	struct buf		 x_err;
	char			 x_errbuf[CURL_ERROR_SIZE];
	char			*x_url;		/* for the why line */
	/* the loop's */
	struct http_reply	 x_reply;
	http_done_fn		*x_done;
	void			*x_arg;
	struct http_xfer	*x_next;	/* a loop's submitted queue */
	LIST_ENTRY(http_xfer)	 x_act;		/* a loop's transfers */
};

int		 http_xfer_setup(struct http_xfer *, const struct http_req *,
		    struct http_reply *);
enum status	 http_xfer_finish(struct http_xfer *, int cc, struct buf *why);

#endif
