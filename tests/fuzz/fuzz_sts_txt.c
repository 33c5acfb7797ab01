/*
 * fuzz_sts_txt.c - libFuzzer target for sts_txt_parse/sts_txt_select
 *
 * The input is one _mta-sts TXT record; it is also split on LF into an
 * RRset for sts_txt_select().  Invariants (abort() on violation):
 *   - ST_OK => 1 <= strlen(id) <= STS_ID_MAX, id is ALPHA / DIGIT only,
 *     and no reason was written;
 *   - ST_NOTFOUND exactly when the input lacks the "v=STSv1;" prefix
 *     (STS-TXT-4, T-13);
 *   - a failure clears the id and writes one non-empty reason line;
 *   - select ST_OK => exactly one record has the prefix and parsing it
 *     alone gives the same id.
 * Each record is copied to its own exact-size heap block so that an
 * overread past len is caught by ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "status.h"
#include "sts_txt.h"

#define RR_MAX	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
has_prefix(const char *s, size_t len)
{
	return len >= 8 && memcmp(s, "v=STSv1;", 8) == 0;
}

/* check - the invariants of one parse result */
static void
check(const char *s, size_t len, enum status st, const struct sts_txt *t,
    const struct buf *why)
{
	size_t	i, n;

	if (st != ST_OK && st != ST_NOTFOUND && st != ST_INVALID)
		abort();
	if ((st == ST_NOTFOUND) != !has_prefix(s, len))
		abort();
	if (st == ST_OK) {
		n = strnlen(t->id, sizeof(t->id));
		if (n < 1 || n > STS_ID_MAX || why->b_len != 0)
			abort();
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)t->id[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z')))
				abort();
		}
		if (memchr(s, '\0', len) != NULL)
			abort();
	} else {
		if (t->id[0] != '\0' || why->b_len == 0 ||
		    strchr(buf_str(why), '\n') != NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 why = BUF_INIT;
	struct sts_txt	 t, t1;
	enum status	 st, st1;
	char		*copy, *recs[RR_MAX];
	size_t		 lens[RR_MAX], n = 0, i, hits = 0, k = 0;
	const char	*p, *end, *eol;

	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	st = sts_txt_parse(copy, size, &t, &why);
	check(copy, size, st, &t, &why);
	free(copy);

	/* the same bytes as an RRset, one record per line */
	p = (const char *)data;
	end = p + size;
	while (n < RR_MAX && p <= end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		lens[n] = (size_t)((eol ? eol : end) - p);
		recs[n] = malloc(lens[n] ? lens[n] : 1);
		memcpy(recs[n], p, lens[n]);
		n++;
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	buf_reset(&why);
	st = sts_txt_select(recs, lens, n, &t, &why);
	for (i = 0; i < n; i++)
		if (has_prefix(recs[i], lens[i])) {
			hits++;
			k = i;
		}
	if (st == ST_OK) {
		if (hits != 1)
			abort();
		st1 = sts_txt_parse(recs[k], lens[k], &t1, NULL);
		if (st1 != ST_OK || strcmp(t1.id, t.id) != 0)
			abort();
	} else if (st == ST_NOTFOUND) {
		if (hits == 1 || why.b_len == 0)
			abort();
	} else if (st != ST_INVALID || hits != 1)
		abort();
	for (i = 0; i < n; i++)
		free(recs[i]);
	buf_free(&why);
	return 0;
}
