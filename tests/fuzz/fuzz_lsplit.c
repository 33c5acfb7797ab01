/*
 * fuzz_lsplit - libFuzzer target for the Postfix log collector's
 * chunking (milter/lsplit.c, used by logtail.c): the mail log is read
 * in chunks and a line may end chunks after it starts.  The input's
 * first two bytes seed the chunk sizes (1 byte .. 64 KB, as read(2)
 * may return any count); the rest is the log text.
 *
 * Invariant (abort() on violation): the lines delivered are exactly
 * those of splitting the whole text at LF at once: each LF-ended line
 * of at most LSPLIT_MAX bytes, in order, with its offset in the text;
 * longer lines and the unterminated tail are never delivered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lsplit.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct want {
	const char	*text;
	size_t		 size, pos;	/* the next line is searched from pos */
	long long	 chunk_start;
};

/* next_expected - the next line splitting the whole text would give */
static int
next_expected(struct want *w, size_t *off, size_t *len)
{
	const char	*nl;

	while (w->pos < w->size && (nl = memchr(w->text + w->pos, '\n',
	    w->size - w->pos)) != NULL) {
		*off = w->pos;
		*len = (size_t)(nl - (w->text + w->pos));
		w->pos += *len + 1;
		if (*len <= LSPLIT_MAX)
			return 1;
	}
	return 0;
}

static void
got_line(void *arg, const char *line, size_t len, long long off)
{
	struct want	*w = arg;
	size_t		 eoff, elen;

	if (!next_expected(w, &eoff, &elen) || elen != len ||
	    w->chunk_start + off != (long long)eoff ||
	    memcmp(w->text + eoff, line, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lsplit	 ls;
	struct want		 w;
	unsigned		 seed;
	char			*chunk;
	size_t			 at = 0, n, eoff, elen;

	if (size < 2)
		return 0;
	seed = (unsigned)data[0] << 8 | data[1];
	memset(&ls, 0, sizeof(ls));
	memset(&w, 0, sizeof(w));
	w.text = (const char *)data + 2;
	w.size = size - 2;
	while (at < w.size) {
		/* small chunks mostly, a big one now and then */
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 8 == 0 ? 1 + (seed >> 8) % 65536 :
		    1 + (seed >> 16) % 64;
		if (n > w.size - at)
			n = w.size - at;
		/* a chunk of its own, so ASan sees reads past it */
		chunk = malloc(n);
		memcpy(chunk, w.text + at, n);
		w.chunk_start = (long long)at;
		lsplit_feed(&ls, chunk, n, got_line, &w);
		free(chunk);
		at += n;
	}
	if (next_expected(&w, &eoff, &elen))
		abort();			/* a line never delivered */
	return 0;
}
