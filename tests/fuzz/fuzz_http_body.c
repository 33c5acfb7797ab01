/*
 * fuzz_http_body - libFuzzer target for the capped HTTP body
 * (common/net/http_body.c), the body of the write callback libcurl
 * hands a policy host's or report endpoint's body bytes to (http.c):
 * the cap (STS-HTTP-4), the buffer's growth, and a chunk that would
 * pass the cap.
 *
 * Input: two bytes of cap (0 .. 65535), one byte for the buffer's own
 * cap (0: the cap, as http.c sets it; else 1 .. 255 times 257 bytes,
 * below or above the cap), then chunks: one control byte (curl's size:
 * 1, 2, 3, 0, 4096, or a size whose product overflows), one byte of n,
 * then the chunk's bytes when the chunk is taken from the input.  Each
 * chunk is handed in a copy of its own, so ASan sees reads past it.
 *
 * Invariant (abort() on violation): a model of the rule gives the same
 * result for every chunk: taken whole (returns size * n, the body is
 * the concatenation of the chunks taken) exactly when the product does
 * not overflow and the body stays within both caps, else refused whole
 * (0, toobig set, the body as it was); the body is NUL-terminated and
 * never longer than the cap.  Chunks go on after a refusal (curl would
 * stop; the rule must hold regardless).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http_body.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 sizes[8] = { 1, 1, 2, 3, 0, 4096,
	    SIZE_MAX / 2 + 1, SIZE_MAX };
	struct buf		 b;
	char			*want, *chunk;
	size_t			 max, cap, at = 3, len = 0, csize, n, prod, got;
	int			 toobig = 0, was, ok;

	if (size < 3)
		return 0;
	max = (size_t)data[0] << 8 | data[1];
	cap = data[2] == 0 ? max : (size_t)data[2] * 257;
	buf_init(&b, cap);
	want = malloc(max + 1);
	while (size - at >= 2) {
		csize = sizes[data[at] & 7];
		n = data[at + 1];
		at += 2;
		/* bytes only for a product that may be read */
		if (csize <= 4096) {
			if (csize != 0 && n > (size - at) / csize)
				n = (size - at) / csize;
			prod = csize * n;
		} else
			prod = n == 0 ? 0 : SIZE_MAX;	/* past any cap */
		ok = !(csize > 4096 && n != 0) && len <= max &&
		    prod <= max - len && (cap == 0 || prod <= cap - len);
		chunk = malloc(prod <= size - at ? prod + 1 : 1);
		if (prod <= size - at) {
			memcpy(chunk, data + at, prod);
			at += prod;
		}
		was = toobig;
		got = http_body_add(&b, max, chunk, csize, n, &toobig);
		if (ok) {
			if (got != prod || toobig != was || b.b_len != len + prod ||
			    memcmp(b.b_data + len, chunk, prod) != 0)
				abort();
			memcpy(want + len, chunk, prod);
			len += prod;
		} else if (got != 0 || !toobig || b.b_len != len)
			abort();
		free(chunk);
		if (b.b_len > max || (b.b_data != NULL &&
		    (b.b_data[b.b_len] != '\0' ||
		    memcmp(b.b_data, want, len) != 0)))
			abort();
	}
	buf_free(&b);
	free(want);
	return 0;
}
