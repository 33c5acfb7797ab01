/*
 * fuzz_pmap_stream - libFuzzer target for the policy map's connection
 * framing as the server runs it (milter/pmap_conn.c over pmap_frame.c):
 * the bytes a client sends on one connection, arriving in reads of any
 * size, netstrings (Postfix, Sendmail: many requests) or a line (Exim:
 * one request), answered in every flavour the request names.
 * fuzz_pmap_request covers the keys and replies of whole requests; this
 * one covers what partial reads do to the framing.
 *
 * Input: byte 0 seeds the read sizes; the rest is the stream.
 *
 * Invariants (abort() on violation):
 *   - the same requests, in order, the same answers and the same
 *     outcome (a protocol error or not) whether the stream arrives in one read per buffer
 *     or in reads of 1.. bytes: a read boundary never changes what a
 *     request is;
 *   - the input buffer never holds more than PMAP_MAX_QUERY + 32 bytes;
 *   - the output is one well-formed netstring per answer (netstring
 *     connections), or one line without CR/LF (line connections); a
 *     protocol error closes the connection after its answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pmap_conn.h"
#include "pmap_frame.h"
#include "pmap_reply.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define IN_MAX		(PMAP_MAX_QUERY + 32)
#define MAXREQ		256

struct run {
	size_t		 nreq;
	size_t		 roff[MAXREQ], rlen[MAXREQ];	/* in the stream */
	int		 error;
	struct buf	 out;
	enum pmap_frame_mode mode;
};

/* serve - one connection fed the stream in reads of the sizes rnd picks */
static void
serve(const char *s, size_t size, unsigned seed, int whole, struct run *r)
{
	struct pmap_conn	 c;
	struct pmap_req		*q = malloc(sizeof(*q));
	struct pmap_obs		 o;
	struct buf		 rep = BUF_INIT;
	const char		*err;
	size_t			 fed = 0, base = 0, off, len, used, n;
	int			 k;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	memset(r, 0, sizeof(*r));
	o.st = ST_NOTFOUND;
	c.fd = -1;
	c.in = malloc(IN_MAX);
	c.incap = IN_MAX;
	for (;;) {
		/* a read: what fits, of the size this read returns */
		seed = seed * 1103515245u + 12345u;
		n = whole ? IN_MAX : 1 + (seed >> 16) % 97;
		if (n > IN_MAX - c.inlen)
			n = IN_MAX - c.inlen;
		if (n > size - fed)
			n = size - fed;
		memcpy(c.in + c.inlen, s + fed, n);
		c.inlen += n;
		fed += n;
		if (fed == size)
			c.eof = 1;
		if (c.inlen > IN_MAX)
			abort();
		while ((k = pmap_conn_next(&c, &off, &len, &used,
		    &err)) == 1) {
			if (off + len > c.inlen || used > c.inlen)
				abort();
			r->roff[r->nreq] = base + off;
			r->rlen[r->nreq++] = len;
			pmap_reply_read(c.in + off, len,
			    c.mode == PMAP_FRAME_LINE, q);
			buf_reset(&rep);
			(void)pmap_reply_make(q, &o, &rep);
			(void)pmap_conn_reply(&c, rep.b_data ? rep.b_data : "",
			    rep.b_len);
			pmap_conn_consume(&c, used);
			base += used;
			/* both runs stop right after the same request */
			if (c.closing || r->nreq == MAXREQ)
				break;
		}
		if (k < 0) {
			r->error = 1;
			if (!c.closing || c.inlen != 0)
				abort();
		}
		if (k != 0 || c.closing || r->nreq == MAXREQ ||
		    (c.eof && k == 0))
			break;
	}
	r->mode = c.mode;
	buf_append(&r->out, c.out ? c.out : "", c.outlen);
	pmap_conn_close(&c);
	buf_free(&rep);
	free(q);
}

/* check_out - the answers are framed as the connection's mode says */
static void
check_out(const struct run *r)
{
	const char	*p = r->out.b_data, *end = p + r->out.b_len;
	size_t		 n, answers = 0;

	if (r->mode == PMAP_FRAME_LINE) {
		if (memchr(p, '\n', r->out.b_len) || memchr(p, '\r',
		    r->out.b_len) || r->nreq + r->error > 1)
			abort();
		return;
	}
	while (p < end) {
		for (n = 0; p < end && *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (size_t)(*p - '0');
		if (p == end || *p != ':' || (size_t)(end - p) < n + 2 ||
		    p[n + 1] != ',')
			abort();
		p += n + 2;
		answers++;
	}
	if (answers != r->nreq + r->error)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	a, b;
	size_t		i;

	if (size < 1)
		return 0;
	serve((const char *)data + 1, size - 1, data[0], 1, &a);
	serve((const char *)data + 1, size - 1, data[0], 0, &b);
	if (a.nreq != b.nreq || a.error != b.error)
		abort();
	for (i = 0; i < a.nreq; i++)
		if (a.roff[i] != b.roff[i] || a.rlen[i] != b.rlen[i])
			abort();
	/* the answers too (an error's text may name the limit it met
	 * first: an over-long run of digits is no request either way) */
	if (!a.error && (a.mode != b.mode || a.out.b_len != b.out.b_len ||
	    (a.out.b_len && memcmp(a.out.b_data, b.out.b_data,
	    a.out.b_len) != 0)))
		abort();
	check_out(&a);
	buf_free(&a.out);
	buf_free(&b.out);
	return 0;
}
