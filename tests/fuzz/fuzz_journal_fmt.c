/*
 * fuzz_journal_fmt.c - journal_decode on arbitrary lines; a decoded
 * record must survive encode -> decode unchanged
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "journal_fmt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check(const char *, size_t);

/*
 * The input is tried twice: as a whole line, and as the JSON part of a
 * line whose checksum we compute, so the fuzzer reaches the JSON reader
 * behind the CRC gate.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	line = BUF_INIT;

	check((const char *)data, size);
	buf_printf(&line, "J1 %08lx ", crc32(0L, data, (uInt)size) &
	    0xffffffffUL);
	buf_append(&line, data, size);
	check(buf_str(&line), line.b_len);
	buf_free(&line);
	return 0;
}

static void
check(const char *data, size_t size)
{
	struct journal_rec	a, b;
	struct buf		why = BUF_INIT, line = BUF_INIT;

	if (journal_decode(data, size, &a, &why) == ST_OK) {
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
}
