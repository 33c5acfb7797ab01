/*
 * fuzz_tlsrpt_txt.c - libFuzzer target for the _smtp._tls TXT parser
 *
 * The input is one TXT record; it is also split on LF into an RRset for
 * tlsrpt_txt_select().  Invariants (abort() on violation):
 *   - ST_OK => 1 <= nrua <= TLSRPT_RUA_MAX; every URI is non-empty
 *     printable ASCII without ',', ';' or '!', and no two are
 *     equal;
 *   - a failure leaves *out NULL with one non-empty reason line;
 *   - tlsrpt_rua_mailto() ST_OK => one '@', non-empty local part and
 *     domain, no control characters or spaces; its kind is RUA_MAILTO;
 *   - select ST_OK => exactly one record begins with "v=TLSRPTv1;".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "status.h"
#include "tlsrpt_txt.h"

#define RR_MAX	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_mailto - the invariants of tlsrpt_rua_mailto() on one URI */
static void
check_mailto(const char *uri)
{
	enum status	 st;
	char		*addr = (char *)uri;
	const char	*at, *c;

	st = tlsrpt_rua_mailto(uri, &addr, NULL);
	if (st != ST_OK) {
		if (addr != NULL)
			abort();
		return;
	}
	if (tlsrpt_rua_kind(uri) != RUA_MAILTO)
		abort();
	if ((at = strchr(addr, '@')) == NULL || at == addr ||
	    at[1] == '\0' || strchr(at + 1, '@') != NULL)
		abort();
	for (c = addr; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			abort();
	free(addr);
}

static void
check_list(const struct tlsrpt_txt *t)
{
	size_t		 i, k;
	const char	*c;

	if (t->t_nrua < 1 || t->t_nrua > TLSRPT_RUA_MAX)
		abort();
	for (i = 0; i < t->t_nrua; i++) {
		if (t->t_rua[i][0] == '\0')
			abort();
		for (c = t->t_rua[i]; *c != '\0'; c++)
			if ((unsigned char)*c <= 0x20 ||
			    (unsigned char)*c >= 0x7f || *c == ',' ||
			    *c == ';' || *c == '!')
				abort();
		for (k = 0; k < i; k++)
			if (strcmp(t->t_rua[k], t->t_rua[i]) == 0)
				abort();
		(void)tlsrpt_rua_kind(t->t_rua[i]);
		check_mailto(t->t_rua[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf		 why = BUF_INIT;
	struct tlsrpt_txt	*t = (struct tlsrpt_txt *)&why;
	enum status		 st;
	char			*copy, *recs[RR_MAX];
	size_t			 lens[RR_MAX], n = 0, i, hits = 0;
	const char		*p, *end, *eol;

	copy = malloc(size + 1);
	memcpy(copy, data, size);
	st = tlsrpt_txt_parse(copy, size, &t, &why);
	if (st == ST_OK) {
		check_list(t);
		tlsrpt_txt_free(t);
	} else if ((st != ST_NOTFOUND && st != ST_INVALID) || t != NULL ||
	    why.b_len == 0 || strchr(buf_str(&why), '\n') != NULL)
		abort();
	/* the input as one URI, NUL-terminated */
	copy[size] = '\0';
	(void)tlsrpt_rua_kind(copy);
	check_mailto(copy);
	free(copy);

	p = (const char *)data;
	end = p + size;
	while (n < RR_MAX && p <= end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		lens[n] = (size_t)((eol ? eol : end) - p);
		recs[n] = malloc(lens[n] ? lens[n] : 1);
		memcpy(recs[n], p, lens[n]);
		if (lens[n] >= 11 && memcmp(recs[n], "v=TLSRPTv1;", 11) == 0)
			hits++;
		n++;
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	buf_reset(&why);
	st = tlsrpt_txt_select(recs, lens, n, &t, &why);
	if (st == ST_OK) {
		if (hits != 1)
			abort();
		check_list(t);
		tlsrpt_txt_free(t);
	} else if (t != NULL || (st == ST_NOTFOUND && hits == 1) ||
	    (st == ST_INVALID && hits != 1))
		abort();
	for (i = 0; i < n; i++)
		free(recs[i]);
	buf_free(&why);
	return 0;
}
