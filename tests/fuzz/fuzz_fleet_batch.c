/*
 * fuzz_fleet_batch.c - fleet_batch_cut on arbitrary journal bytes (a
 * crash or a full disk leaves torn lines; the shipper must never ship a
 * part of a line or stop on garbage): no crash; every line shipped lies
 * in the buffer, has no newline, decodes, and ends right before one;
 * the position moves over whole lines only, and the batches of a buffer
 * consume all of it up to its last newline
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_batch.h"
#include "journal_fmt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fleet_batch	b;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data, *last;
	struct journal_rec	 r;
	struct buf		 why = BUF_INIT;
	size_t			 off = 0, i, end;

	last = size ? memrchr(buf, '\n', size) : NULL;
	end = last ? (size_t)(last - buf) + 1 : 0;
	while (off < size) {
		fleet_batch_cut(&b, buf + off, size - off, 0);
		if (b.used > size - off || b.n > FLEET_BATCH_MAX ||
		    b.nhash > FLEET_BATCH_HASHES)
			abort();
		if (b.used > 0 && buf[off + b.used - 1] != '\n')
			abort();		/* never into a line */
		for (i = 0; i < b.n; i++) {
			if (b.line[i] < buf + off ||
			    b.line[i] + b.len[i] >= buf + off + b.used ||
			    b.line[i][b.len[i]] != '\n' ||
			    memchr(b.line[i], '\n', b.len[i]) != NULL ||
			    journal_decode(b.line[i], b.len[i], &r, &why) != ST_OK)
				abort();
			buf_reset(&why);
		}
		if (b.used == 0)
			break;
		off += b.used;
	}
	if (off != end)
		abort();			/* all whole lines consumed */
	/* a full buffer without a newline is consumed whole */
	fleet_batch_cut(&b, buf, size, 1);
	if (end == 0 && size > 0 && (b.used != size || b.n != 0))
		abort();
	buf_free(&why);
	return 0;
}
