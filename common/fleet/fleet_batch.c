/*
 * fleet_batch.c - cut the next batch of journal lines to ship
 */
#include <string.h>

#include "fleet_batch.h"
#include "journal_fmt.h"

/* has_hash - index of h (key: its first 8 bytes) in b->hash, or -1 */
static int
has_hash(const struct fleet_batch *b, const char *h, unsigned long long key)
{
	size_t	i;

	for (i = 0; i < b->nhash; i++)
		if (b->hkey[i] == key && strcmp(b->hash[i], h) == 0)
			return (int)i;
	return -1;
}

void
fleet_batch_cut(struct fleet_batch *b, const char *buf, size_t len, int full)
{
	struct journal_rec	 r;
	struct buf		 why = BUF_INIT;
	const char		*p = buf, *end = buf + len, *nl;

	b->n = b->used = b->nhash = 0;
	b->bad = 0;
	b->last_time = 0;
	while (b->n < FLEET_BATCH_MAX &&
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t	ll = (size_t)(nl - p);

		if (ll == 0)
			;			/* empty: a torn line's end */
		else if (ll > JOURNAL_LINE_MAX ||
		    journal_decode(p, ll, &r, &why) != ST_OK) {
			b->bad++;
			buf_reset(&why);
		} else {
			unsigned long long key = 0;

			memcpy(&key, r.phash, sizeof(key));
			if (r.phash[0] != '\0' && has_hash(b, r.phash, key) < 0) {
				if (b->nhash == FLEET_BATCH_HASHES)
					break;	/* next batch */
				b->hkey[b->nhash] = key;
				memcpy(b->hash[b->nhash++], r.phash,
				    sizeof(r.phash));
			}
			b->line[b->n] = p;
			b->len[b->n++] = ll;
			b->last_time = r.time;
		}
		p = nl + 1;
	}
	b->used = (size_t)(p - buf);
	if (b->used == 0 && full && len > 0) {	/* no newline at all */
		b->bad++;
		b->used = len;
	}
	buf_free(&why);
}
