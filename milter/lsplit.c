/*
 * lsplit.c - whole lines out of chunks (see lsplit.h)
 */
#include <string.h>

#include "lsplit.h"

void
lsplit_feed(struct lsplit *ls, const char *chunk, size_t n, lsplit_cb *cb,
    void *arg)
{
	const char	*p = chunk, *end = chunk + n, *nl;
	long long	 off;
	size_t		 k;

	while (p < end) {
		off = (long long)(p - chunk) - (long long)ls->blen;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {		/* keep the partial line */
			k = (size_t)(end - p);
			if (ls->skipping || ls->blen + k > LSPLIT_MAX) {
				ls->skipping = 1;
				ls->blen = 0;
			} else {
				memcpy(ls->buf + ls->blen, p, k);
				ls->blen += k;
			}
			break;
		}
		k = (size_t)(nl - p);
		if (ls->skipping)
			ls->skipping = 0;	/* the long line ends */
		else if (ls->blen > 0) {
			if (ls->blen + k <= LSPLIT_MAX) {
				memcpy(ls->buf + ls->blen, p, k);
				cb(arg, ls->buf, ls->blen + k, off);
			}
			ls->blen = 0;
		} else if (k <= LSPLIT_MAX)
			cb(arg, p, k, off);
		p = nl + 1;
	}
}
