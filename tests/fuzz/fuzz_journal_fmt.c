/*
 * fuzz_journal_fmt.c - journal_decode on arbitrary lines; a decoded
 * record must survive encode -> decode unchanged
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal_fmt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_rec	a, b;
	struct buf		why = BUF_INIT, line = BUF_INIT;

	if (journal_decode((const char *)data, size, &a, &why) == ST_OK) {
		journal_encode(&a, &line);
		if (journal_decode(buf_str(&line), line.b_len, &b, &why) != ST_OK)
			abort();
		if (a.time != b.time || a.type != b.type ||
		    strcmp(a.domain, b.domain) || strcmp(a.helo, b.helo) ||
		    strcmp(a.text, b.text))
			abort();
	}
	buf_free(&why);
	buf_free(&line);
	return 0;
}
