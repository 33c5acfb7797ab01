/*
 * fuzz_fleet_cache.c - the values of the fleet's Redis (fleet_cache.h)
 * on arbitrary bytes: any node, or whoever can write to that Redis, may
 * have stored them.  No crash; a state or verdict that parses formats
 * back to bytes that parse to the same thing; the stamp reader agrees
 * with what was parsed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_cache.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
state_roundtrip(const char *data, size_t size)
{
	struct sts_state	st, back;
	struct buf		b = BUF_INIT;
	time_t			exp;

	if (fleet_pol_parse(data, size, &st) != 0)
		return;
	(void)fleet_pol_stamp(data, size);
	if (fleet_pol_format(&st, 0, &b, &exp) == 0 && !b.b_trunc) {
		if (fleet_pol_parse(b.b_data, b.b_len, &back) != 0 ||
		    (back.st_policy == NULL) != (st.st_policy == NULL) ||
		    strcmp(back.st_id, st.st_id) != 0 ||
		    back.st_checked != st.st_checked ||
		    back.st_failed != st.st_failed ||
		    back.st_neg_until != st.st_neg_until ||
		    fleet_pol_stamp(b.b_data, b.b_len) != (long long)st.st_checked)
			abort();
		sts_state_clear(&back);
	}
	buf_free(&b);
	sts_state_clear(&st);
}

static void
verdict_roundtrip(const char *data, size_t size)
{
	struct tls_probe_result	r, back;
	struct buf		b = BUF_INIT;

	if (fleet_verdict_parse(data, size, &r) != 0)
		return;
	fleet_verdict_format(&r, &b);
	if (fleet_verdict_parse(b.b_data, b.b_len, &back) != 0 ||
	    back.result != r.result || back.dane != r.dane)
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	state_roundtrip((const char *)data, size);
	verdict_roundtrip((const char *)data, size);
	return 0;
}
