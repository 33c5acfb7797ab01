/*
 * fuzz_pmap_request - libFuzzer target for what a policy-map client
 * sends: the bytes of one connection (netstrings or an Exim line),
 * framed by pmap_frame_next(), read by pmap_reply_read() and answered by
 * pmap_reply_make() for no policy, an enforce policy and a deadline.
 *
 * Invariants (abort() on violation):
 *   - a framed request lies inside the input and consumes at least its
 *     own bytes; a protocol error has a reason;
 *   - a key read as a domain (ST_OK) is non-empty, lower case, without
 *     a trailing dot; an Exim MX question has its host inside the text;
 *   - every reply is shorter than PMAP_MAX_REPLY and holds no CR, LF or
 *     NUL; a veto is only ever the answer to an MX question under an
 *     enforce policy; the deadline never answers TEMP.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pmap_frame.h"
#include "pmap_reply.h"
#include "sts_cache.h"
#include "sts_policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *POLICY = "version: STSv1\nmode: enforce\n"
    "mx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n";

static void
check_req(const struct pmap_req *q)
{
	const char	*c;
	size_t		 n = strlen(q->domain);

	if (q->kst == ST_OK) {
		if (n == 0 || q->domain[n - 1] == '.')
			abort();
		for (c = q->domain; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				abort();
	}
	if (q->host != NULL && (q->host < q->text ||
	    q->host > q->text + sizeof(q->text)))
		abort();
}

static void
check_reply(const struct pmap_req *q, const struct pmap_obs *o)
{
	struct buf	r = BUF_INIT;
	enum pmap_kind	k;

	k = pmap_reply_make(q, o, &r);
	if (r.b_len >= PMAP_MAX_REPLY || memchr(buf_str(&r), '\r', r.b_len) ||
	    memchr(buf_str(&r), '\n', r.b_len) ||
	    strlen(buf_str(&r)) != r.b_len)
		abort();
	if (k == PMAP_VETO && (q->host == NULL || o->st != ST_OK))
		abort();
	if (k == PMAP_TEMP && o->pending)
		abort();
	buf_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sts_policy	*pol;
	struct pmap_req			*q = malloc(sizeof(*q));
	struct sts_lookup		 l;
	struct pmap_obs			 o;
	enum pmap_frame_mode		 mode = PMAP_FRAME_UNKNOWN;
	const char			*in = (const char *)data, *err;
	size_t				 left = size, off, len, used;
	int				 k, i;

	if (pol == NULL && sts_policy_parse(POLICY, strlen(POLICY), &pol,
	    NULL) != ST_OK)
		abort();
	memset(&l, 0, sizeof(l));
	l.policy = pol;
	while ((k = pmap_frame_next(&mode, in, left, 1, &off, &len, &used,
	    &err)) == 1) {
		if (off + len > left || used < off + len || used > left)
			abort();
		pmap_reply_read(in + off, len, mode == PMAP_FRAME_LINE, q);
		check_req(q);
		for (i = 0; i < 4; i++) {
			memset(&o, 0, sizeof(o));
			o.st = i == 0 ? ST_NOTFOUND : i == 1 ? ST_TEMPFAIL :
			    ST_OK;
			o.lookup = i >= 2 ? &l : NULL;
			o.tempfail = 1;
			o.pending = i == 1 || i == 3;
			check_reply(q, &o);
		}
		in += used;
		left -= used;
		if (mode == PMAP_FRAME_LINE)
			break;			/* one request per line */
	}
	if (k < 0 && (err == NULL || *err == '\0'))
		abort();
	free(q);
	return 0;
}
