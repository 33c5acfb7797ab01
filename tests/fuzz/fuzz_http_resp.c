/*
 * fuzz_http_resp - libFuzzer target for the streaming HTTP/1.x response
 * parser (common/net/http_resp.c): what a policy host sends back over
 * TLS to the daemon's own fetcher (http_loop.c).  Peer-controlled from
 * the first byte: status line, headers, interim responses, chunk sizes,
 * trailers, the cap (STS-HTTP-4).
 *
 * Input: two bytes of cap (0 .. 65535), one byte of split seed (its top
 * bit: whether the close is clean, i.e. came with close_notify), then
 * the response.  It is parsed twice: whole, then in pieces whose lengths
 * come from the seed (1 .. 64 bytes, each piece copied alone so ASan
 * sees reads past it), each followed by http_resp_eof() when the feed
 * wanted more.
 *
 * Invariant (abort() on violation): both runs give the same answer
 * (complete, wanting more or failed; the status, the failure kind, the
 * Content-Type and the reason; the body unless it failed: a body past
 * the cap keeps what came before the refused piece); the body stays within the cap
 * and NUL-terminated; a failure has a reason and a kind of PROTO or
 * TOOBIG, a success neither.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "http_resp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct run {
	struct http_resp	 p;
	struct buf		 body, why;
	int			 rc;
};

static void
parse(struct run *r, const uint8_t *data, size_t size, size_t max,
    unsigned seed, int clean)
{
	size_t	at = 0, n;
	char	*piece;

	buf_init(&r->body, max);
	buf_init(&r->why, 0);
	http_resp_init(&r->p, &r->body, max);
	r->rc = 0;
	while (r->rc == 0 && at < size) {
		if (seed == 0)
			n = size;
		else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 64;
		}
		if (n > size - at)
			n = size - at;
		piece = malloc(n);
		memcpy(piece, data + at, n);
		r->rc = http_resp_feed(&r->p, piece, n, &r->why);
		free(piece);
		at += n;
	}
	if (r->rc == 0)
		r->rc = http_resp_eof(&r->p, clean, &r->why) == 1 ? 2 : -1;
}

static void
check(const struct run *r, size_t max)
{
	if (r->body.b_len > max || (r->body.b_data != NULL &&
	    r->body.b_data[r->body.b_len] != '\0'))
		abort();
	if (r->rc == -1 && (r->why.b_len == 0 ||
	    (r->p.r_fail != HTTP_FAIL_PROTO &&
	    r->p.r_fail != HTTP_FAIL_TOOBIG)))
		abort();
	if (r->rc != -1 && (r->why.b_len != 0 ||
	    r->p.r_fail != HTTP_FAIL_NONE || r->p.r_status < 200 ||
	    r->p.r_status > 599))
		abort();
}

static void
done(struct run *r)
{
	http_resp_clear(&r->p);
	buf_free(&r->body);
	buf_free(&r->why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	a, b;
	size_t		max;

	if (size < 3)
		return 0;
	max = (size_t)data[0] << 8 | data[1];
	parse(&a, data + 3, size - 3, max, 0, data[2] >> 7);
	parse(&b, data + 3, size - 3, max, data[2] | 1u, data[2] >> 7);
	check(&a, max);
	check(&b, max);
	if (a.rc != b.rc || a.p.r_status != b.p.r_status ||
	    a.p.r_fail != b.p.r_fail || (a.rc != -1 &&
	    (a.body.b_len != b.body.b_len || (a.body.b_len > 0 &&
	    memcmp(a.body.b_data, b.body.b_data, a.body.b_len) != 0))) ||
	    strcmp(buf_str(&a.why),
	    buf_str(&b.why)) != 0 || (a.p.r_ctype == NULL) !=
	    (b.p.r_ctype == NULL) || (a.p.r_ctype != NULL &&
	    strcmp(a.p.r_ctype, b.p.r_ctype) != 0))
		abort();
	done(&a);
	done(&b);
	return 0;
}
