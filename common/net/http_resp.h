/*
 * http_resp.h - an HTTP/1.x response, parsed as it streams in
 *
 * The policy fetcher's parser (http_loop.c reads the bytes off TLS and
 * hands them here).  http_resp_init() readies p to put the body into
 * body (borrowed, capped at max bytes: STS-HTTP-4; a body of exactly
 * max bytes is accepted).  http_resp_feed() takes the next n bytes:
 * 0 when more are needed, 1 when the response is complete (bytes after
 * it are ignored; later calls return 1 again), -1 when it failed, with
 * p->r_fail HTTP_FAIL_TOOBIG (a Content-Length, a chunk or a body past
 * max) or HTTP_FAIL_PROTO (anything malformed) and one reason appended
 * to why.  http_resp_eof(p, clean, why) says the peer closed; clean
 * says the close is authenticated (TLS close_notify): 1 when that ends
 * the response (a body delimited by a clean close, or one already
 * complete), else -1 with the reason (nothing, or part of a response,
 * arrived; or a body delimited by the close ended without close_notify:
 * whoever can inject a FIN could cut it, so it is refused).  A failed
 * parser stays failed.
 *
 * What it accepts: a status line "HTTP/1.<d> <3 digits>[ <reason>]"
 * (100..599), header lines "name: value" (token names; values without
 * control characters but HTAB), CRLF or bare LF line ends; 1xx interim
 * responses are skipped (at most 8; 101 is an error); the body is
 * chunked (Transfer-Encoding: chunked; no other coding; not in
 * HTTP/1.0), Content-Length long (equal duplicates only; both framings
 * at once are refused, RFC 9112 6.3), or runs to the close; 204 and 304
 * have none.  Lines are at most HTTP_RESP_LINE bytes and the headers
 * (of all interim responses and the trailer too) at most HTTP_RESP_HEAD
 * bytes; the chunked framing (size lines with their extensions, the
 * CRLFs) at most HTTP_RESP_HEAD plus max bytes.  Obsolete line folding
 * is refused.
 *
 * p->r_status is the final status (or the last seen, after a failure);
 * p->r_ctype the last Content-Type, trimmed, owned by p until the
 * caller takes it (sets it NULL).  http_resp_clear() frees what p
 * holds; the body stays the caller's.
 *
 * Pure: no I/O, no logging.  tests/unit/test_http_resp.c and
 * tests/fuzz/fuzz_http_resp.c drive it.
 */
#ifndef HTTP_RESP_H
#define HTTP_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"

#define HTTP_RESP_LINE		8192
#define HTTP_RESP_HEAD		65536
#define HTTP_RESP_INTERIM	8

struct http_resp {
	long		 r_status;
	char		*r_ctype;
	enum http_fail	 r_fail;
	/* the parser's */
	struct buf	*r_body;
	size_t		 r_max;
	int		 r_state;
	struct buf	 r_line;	/* the line being read */
	size_t		 r_head;	/* header bytes so far */
	int		 r_interim;	/* 1xx responses skipped */
	int		 r_chunked;
	int		 r_haslen;
	uint64_t	 r_len;		/* Content-Length */
	uint64_t	 r_left;	/* of the body or the chunk */
	int		 r_any;		/* a byte arrived */
	int		 r_minor;	/* HTTP/1.<minor> */
	uint64_t	 r_frame;	/* chunked framing bytes so far */
};

void	http_resp_init(struct http_resp *, struct buf *body, size_t max);
int	http_resp_feed(struct http_resp *, const char *p, size_t n,
	    struct buf *why);
int	http_resp_eof(struct http_resp *, int clean, struct buf *why);
void	http_resp_clear(struct http_resp *);

#endif
