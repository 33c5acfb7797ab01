/*
 * fuzz_report_state - libFuzzer target for the reporter's per-report
 * state files (<state_dir>/reporter/<day>/<domain>.state): whatever a
 * crash, a full disk or a hand edit left there is read by
 * report_state_parse() and then used as the reporter uses it (retry
 * times, a failed and a delivered attempt, the final check).
 *
 * Invariants (abort() on violation):
 *   - ST_OK has a report-id (shorter than its field), at most
 *     REPORT_DEST_MAX destinations, every string set, valid enums;
 *     ST_INVALID has a reason and leaves nothing allocated;
 *   - what is read writes back (report_state_format) to a text that
 *     reads to the same state and writes to the same bytes;
 *   - a retry is due after now and no later than 24 h after the first
 *     attempt (RPT-RETRY-1), or never (0: give up); a failed attempt
 *     leaves the destination pending with a later retry or given up;
 *   - no undefined behaviour (UBSan) with any number in the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "report_state.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NOW	1700000000

static void
check(const struct report_state *s)
{
	size_t	i;

	if (s->report_id[0] == '\0' ||
	    strlen(s->report_id) >= sizeof(s->report_id) ||
	    s->ndest > REPORT_DEST_MAX || s->lk_last == NULL ||
	    (unsigned)s->rua > RUA_ST_GAVEUP)
		abort();
	for (i = 0; i < s->ndest; i++)
		if (s->dest[i].uri == NULL || s->dest[i].last == NULL ||
		    (unsigned)s->dest[i].st > DEST_UNSUPPORTED)
			abort();
}

static int
same(const struct report_state *a, const struct report_state *b)
{
	size_t	i;

	if (strcmp(a->report_id, b->report_id) != 0 || a->built != b->built ||
	    a->nsuccess != b->nsuccess || a->nfailure != b->nfailure ||
	    a->rua != b->rua || a->lk_tries != b->lk_tries ||
	    a->lk_first != b->lk_first || a->lk_next != b->lk_next ||
	    strcmp(a->lk_last, b->lk_last) != 0 || a->ndest != b->ndest)
		return 0;
	for (i = 0; i < a->ndest; i++) {
		const struct report_dest *x = &a->dest[i], *y = &b->dest[i];

		if (strcmp(x->uri, y->uri) != 0 || x->st != y->st ||
		    x->attempts != y->attempts || x->first != y->first ||
		    x->next != y->next || x->done != y->done ||
		    strcmp(x->last, y->last) != 0)
			return 0;
	}
	return 1;
}

static void
use(struct report_state *s)
{
	struct report_dest	*d;
	time_t			 next;
	size_t			 i;

	(void)report_state_final(s);
	(void)report_state_delivered_any(s);
	for (i = 0; i < s->ndest; i++) {
		d = &s->dest[i];
		(void)report_dest_st_str(d->st);
		next = report_retry_next(d->attempts, d->first, NOW);
		if (next != 0 && (next <= NOW ||
		    (d->first > 0 && next > d->first + REPORT_RETRY_WINDOW)))
			abort();
		if (i % 2 == 0) {
			if (report_state_failed(d, NOW, "x", 0) ?
			    d->st != DEST_GAVEUP : d->next <= NOW)
				abort();
		} else {
			report_state_delivered(d, NOW);
			if (d->st != DEST_DELIVERED)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_state	 s, t;
	struct buf		 why = BUF_INIT, a = BUF_INIT, b = BUF_INIT;

	if (report_state_parse((const char *)data, size, &s, &why) != ST_OK) {
		if (why.b_len == 0 || s.ndest != 0 || s.lk_last != NULL)
			abort();
		buf_free(&why);
		return 0;
	}
	check(&s);
	report_state_format(&s, &a);
	if (report_state_parse(a.b_data, a.b_len, &t, &why) != ST_OK)
		abort();
	check(&t);
	if (!same(&s, &t))
		abort();
	report_state_format(&t, &b);
	if (a.b_len != b.b_len || memcmp(a.b_data, b.b_data, a.b_len) != 0)
		abort();
	use(&s);
	report_state_clear(&s);
	report_state_clear(&t);
	buf_free(&why);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
