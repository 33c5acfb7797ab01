/*
 * fuzz_tlsrpt_dgram.c - libFuzzer target for the libtlsrpt datagram
 * parser (Postfix 3.10+ TLS-RPT events arriving on the collector socket)
 *
 * Invariants (abort() on violation):
 *   - ST_OK => 1 <= npol <= DGRAM_POLICIES_MAX; the domain and every
 *     policy domain are non-empty, lower case, without a trailing dot;
 *     every policy type is 1, 2 or 9; failed is 0 or 1; nfails <=
 *     DGRAM_FAILS_MAX and every result is a failure type; every string
 *     is NUL-terminated in its field, free of control characters and
 *     well-formed UTF-8 (what the journal may hold);
 *   - a failure leaves *out NULL with one non-empty reason line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "status.h"
#include "tlsrpt_dgram.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_str - s[0..size) holds a clean string */
static void
check_str(const char *s, size_t size, int allow_lf)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strnlen(s, size), i, k;

	if (n == size)
		abort();			/* not terminated */
	for (i = 0; i < n; i += k) {
		k = 1;
		if (p[i] == '\n' && allow_lf)
			continue;
		if (p[i] < 0x20 || p[i] == 0x7f)
			abort();
		if (p[i] < 0x80)
			continue;
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			k = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			k = 3;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			k = 4;
		else
			abort();
		if (i + k > n)
			abort();
	}
}

static void
check_domain(const char *d, size_t size)
{
	size_t	n = strnlen(d, size);

	check_str(d, size, 0);
	if (n == 0 || d[n - 1] == '.')
		abort();
	for (; *d; d++)
		if (*d >= 'A' && *d <= 'Z')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf		 why = BUF_INIT;
	struct tlsrpt_dgram	*g = (struct tlsrpt_dgram *)&why;
	enum status		 st;
	size_t			 i, j;

	st = tlsrpt_dgram_parse((const char *)data, size, &g, &why);
	if (st != ST_OK) {
		if (st != ST_INVALID || g != NULL || why.b_len == 0 ||
		    strchr(buf_str(&why), '\n') != NULL)
			abort();
		buf_free(&why);
		return 0;
	}
	if (g == NULL || g->npol < 1 || g->npol > DGRAM_POLICIES_MAX)
		abort();
	check_domain(g->domain, sizeof(g->domain));
	for (i = 0; i < g->npol; i++) {
		const struct dgram_policy *p = &g->pol[i];

		if ((p->ptype != DGRAM_TLSA && p->ptype != DGRAM_STS &&
		    p->ptype != DGRAM_NO_POLICY) ||
		    (p->failed != 0 && p->failed != 1) ||
		    p->nfails > DGRAM_FAILS_MAX ||
		    p->nlines > DGRAM_LINES_MAX)
			abort();
		check_domain(p->pdomain, sizeof(p->pdomain));
		check_str(p->text, sizeof(p->text), 1);
		check_str(p->mode, sizeof(p->mode), 0);
		for (j = 0; j < p->nfails; j++) {
			const struct dgram_fail *f = &p->fails[j];

			if (f->result == TLSRPT_SUCCESS ||
			    f->result >= TLSRPT_RESULT_MAX)
				abort();
			check_str(f->sip, sizeof(f->sip), 0);
			check_str(f->mx, sizeof(f->mx), 0);
			check_str(f->helo, sizeof(f->helo), 0);
			check_str(f->rip, sizeof(f->rip), 0);
			check_str(f->info, sizeof(f->info), 0);
			check_str(f->reason, sizeof(f->reason), 0);
			if (strchr(f->helo, ' ') != NULL)
				abort();
		}
	}
	tlsrpt_dgram_free(g);
	buf_free(&why);
	return 0;
}
