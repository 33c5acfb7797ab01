/*
 * http_impl.h - what http.c lends http_loop.c: the URL's parts, the
 * pinning checks, the host-name check in OpenSSL and the User-Agent,
 * so that a request through the loop is checked exactly as one through
 * http_do().  Not for other modules.
 */
#ifndef HTTP_IMPL_H
#define HTTP_IMPL_H

#include <openssl/x509_vfy.h>

#include "buf.h"
#include "http.h"
#include "status.h"

#define HTTP_BODY_DEFAULT	(16u * 1024 * 1024)	/* as buf.c */

int		 http_url_split(const char *url, char **host, long *port,
		    char **target, struct buf *why);
int		 http_pin_check(const struct http_req *, const char *urlhost,
		    long urlport, struct buf *why);
int		 http_verify_host(X509_VERIFY_PARAM *, const char *host);
int		 http_safe(const char *);
enum status	 http_reply_end(struct http_reply *, const char *url,
		    const char *err, struct buf *why);
const char	*http_user_agent(void);

#endif
