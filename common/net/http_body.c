/*
 * http_body.c - the capped body of an HTTP reply, as it streams in
 *
 * SYNOPSIS
 *	#include "http_body.h"
 *
 *	size_t http_body_add(struct buf *b, size_t max, const char *p,
 *	    size_t size, size_t n, int *toobig);
 *
 * DESCRIPTION
 *	The body of libcurl's write callback (CURLOPT_WRITEFUNCTION in
 *	http.c), apart so that the cap can be unit-tested and fuzzed
 *	without a network: size * n bytes at p are appended to b when the
 *	body stays within max bytes (STS-HTTP-4), else nothing is kept of
 *	the chunk, *toobig is set and 0 is returned (not size * n: curl
 *	then aborts with CURLE_WRITE_ERROR, which http.c maps to
 *	HTTP_FAIL_TOOBIG).  A product size * n that overflows is too big.
 *	A body of exactly max bytes is accepted; size * n == 0 takes
 *	nothing and is not an error.  When b's own cap (b_max) is below
 *	max the chunk that would pass it is refused likewise, whole (b
 *	is left as it was, b_trunc set).
 *
 * OWNERSHIP
 *	b, p and toobig are borrowed.
 */
#include <stdint.h>

#include "buf.h"
#include "http_body.h"

size_t
http_body_add(struct buf *b, size_t max, const char *p, size_t size,
    size_t n, int *toobig)
{
	size_t	had = b->b_len;

	if (size != 0 && n > SIZE_MAX / size)
		goto toobig;
	n *= size;
	if (had > max || n > max - had)
		goto toobig;
	if (buf_append(b, p, n) == -1) {
		/* b's own cap is below max: keep nothing of the chunk */
		b->b_len = had;
		b->b_data[had] = '\0';
		goto toobig;
	}
	return n;
toobig:
	*toobig = 1;
	return 0;
}
