/*
 * test_http_body.c - the capped HTTP body (http_body.c), chunk by
 * chunk as libcurl's write callback hands it (STS-HTTP-4): taken whole
 * within the cap, exactly the cap accepted, one byte past it refused
 * whole, an overflowing size * n refused without a read, the buffer's
 * own cap below the cap refused whole too
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "http_body.h"

/* one body: chunks of "size x n" bytes, each taken or refused */
struct chunk {
	size_t	 size, n;
	size_t	 want;		/* return value: bytes taken, 0 = refused */
};

static void
test_http_body_table(void)
{
	static const struct {
		const char	*name;
		size_t		 max, bufcap;	/* bufcap 0: as http.c (= max) */
		struct chunk	 c[4];
		size_t		 nc;
		size_t		 len;		/* the body at the end */
		int		 toobig;
	} t[] = {
		{ "one chunk within", 10, 0, { { 1, 4, 4 } }, 1, 4, 0 },
		{ "exactly the cap (STS-HTTP-4)", 10, 0,
		    { { 1, 6, 6 }, { 2, 2, 4 } }, 2, 10, 0 },
		{ "one byte past the cap", 10, 0,
		    { { 1, 6, 6 }, { 1, 5, 0 } }, 2, 6, 1 },
		{ "refused chunk then a fitting one", 10, 0,
		    { { 1, 11, 0 }, { 1, 3, 3 } }, 2, 3, 1 },
		{ "empty chunk", 10, 0, { { 1, 0, 0 }, { 0, 5, 0 } }, 2, 0, 0 },
		{ "cap 0: any byte too big", 0, 0, { { 1, 1, 0 } }, 1, 0, 1 },
		{ "size * n overflows", 10, 0,
		    { { SIZE_MAX / 2 + 1, 2, 0 } }, 1, 0, 1 },
		{ "huge size, n 1", 10, 0, { { SIZE_MAX, 1, 0 } }, 1, 0, 1 },
		{ "buffer's cap below the cap: refused whole", 10, 5,
		    { { 1, 3, 3 }, { 1, 3, 0 }, { 1, 2, 2 } }, 3, 5, 1 },
		{ "buffer's cap above the cap", 4, 100,
		    { { 1, 4, 4 }, { 1, 1, 0 } }, 2, 4, 1 },
	};
	static const char	src[] = "abcdefghijklmnopqrstuvwxyz";
	char			want[32];
	size_t			i, j, k, got, len;
	int			toobig;
	struct buf		b;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_init(&b, t[i].bufcap ? t[i].bufcap : t[i].max);
		toobig = 0;
		len = 0;
		for (j = 0, k = 0; j < t[i].nc; j++) {
			const struct chunk *c = &t[i].c[j];

			got = http_body_add(&b, t[i].max, src + k, c->size,
			    c->n, &toobig);
			CHECKF(got == c->want, "%s: chunk %zu took %zu",
			    t[i].name, j, got);
			if (got != 0) {
				memcpy(want + len, src + k, got);
				len += got;
			}
			if (c->size <= 2)
				k += c->size * c->n;	/* the next letters */
		}
		CHECKF(b.b_len == t[i].len && len == t[i].len, "%s: %zu bytes",
		    t[i].name, b.b_len);
		CHECKF(toobig == t[i].toobig, "%s: toobig %d", t[i].name,
		    toobig);
		CHECKF(b.b_len == 0 || (memcmp(b.b_data, want, len) == 0 &&
		    b.b_data[len] == '\0'), "%s: body %s", t[i].name,
		    buf_str(&b));
		buf_free(&b);
	}
}

/* a body streamed in many small chunks: kept in order, cap enforced */
static void
test_http_body_stream(void)
{
	struct buf	b;
	char		c;
	size_t		i, taken = 0;
	int		toobig = 0;

	buf_init(&b, 1000);
	for (i = 0; i < 1500; i++) {
		c = (char)('a' + i % 26);
		taken += http_body_add(&b, 1000, &c, 1, 1, &toobig);
	}
	CHECK_INT(taken, 1000);
	CHECK_INT(b.b_len, 1000);
	CHECK_INT(toobig, 1);
	CHECK(b.b_data[0] == 'a' && b.b_data[999] == 'a' + 999 % 26 &&
	    b.b_data[1000] == '\0');
	buf_free(&b);
}

int
main(void)
{
	RUN(test_http_body_table);
	RUN(test_http_body_stream);
	return harness_done("test_http_body");
}
