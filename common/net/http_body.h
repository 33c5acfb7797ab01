/*
 * http_body.h - the capped body of an HTTP reply, as it streams in
 *
 * http_body_add() is what libcurl's write callback (http.c) does with
 * each chunk of body bytes: the chunk (size * n bytes at p) is appended
 * to b whole, or, when it would take b past max bytes (or size * n
 * overflows, or b cannot hold it), refused whole: *toobig is set and 0
 * returned, which makes curl abort the transfer (STS-HTTP-4).  A body
 * of exactly max bytes is accepted.  Returns the bytes taken.
 *
 * Pure: no curl, no I/O; tests/unit/test_http_body.c and
 * tests/fuzz/fuzz_http_body.c drive it as curl would.
 */
#ifndef HTTP_BODY_H
#define HTTP_BODY_H

#include <stddef.h>

#include "buf.h"

size_t	http_body_add(struct buf *b, size_t max, const char *p, size_t size,
	    size_t n, int *toobig);

#endif
