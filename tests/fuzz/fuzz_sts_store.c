/*
 * fuzz_sts_store.c - sts_store_parse on arbitrary bytes (a cache file
 * holds a policy body as a policy host sent it): no crash; what parses
 * formats back to bytes that parse to the same record
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sts_store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_store_rec	r, back;
	struct buf		b = BUF_INIT;

	if (sts_store_parse((const char *)data, size, &r) != 0)
		return 0;
	sts_store_format(&r, &b);
	if (sts_store_parse(b.b_data, b.b_len, &back) != 0 ||
	    strcmp(back.id, r.id) != 0 || back.fetched != r.fetched ||
	    back.checked != r.checked || back.failed != r.failed ||
	    back.policy->p_text_len != r.policy->p_text_len)
		abort();
	sts_store_rec_clear(&back);
	sts_store_rec_clear(&r);
	buf_free(&b);
	return 0;
}
