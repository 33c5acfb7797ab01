/*
 * pmap_memo.h - a reactor's memo of the policy-map replies it made
 *
 * A reply is a pure function of the request, the cache entry of its
 * domain, the override table and the clock second (every time rule of
 * the cache and of pmap_reply_fresh() counts whole seconds).  The memo
 * keeps framed replies, each with what it was made from: the cache's
 * stamp for the entry (sts_cache_stamp_valid), the override generation
 * and the second.  While all three are unchanged the same reply is sent
 * again without reading or looking anything up; any change makes the
 * next request take the full path.  Direct-mapped (a collision forgets
 * the older reply); one memo per reactor thread: no locks.
 */
#ifndef PMAP_MEMO_H
#define PMAP_MEMO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sts_cache.h"

#define PMAP_MEMO_KEY_MAX	256	/* longer requests are not memoized */
#define PMAP_MEMO_REPLY_MAX	1024	/* nor longer (framed) replies */

struct pmap_memo;

/* what a reply was made from, when it may be memoized */
struct pmap_memo_note {
	int		 ok;		/* 0: do not memoize (side effects) */
	int		 hasstamp;	/* 0: the reply needs no cache entry */
	uint64_t	 stamp;
	time_t		 second;
	unsigned	 ovgen;
	unsigned	 tag;		/* the caller's, given back by get */
};

struct pmap_memo *pmap_memo_new(void);
void		  pmap_memo_free(struct pmap_memo *);
uint64_t	  pmap_memo_hash(const char *req, size_t n);
/*
 * pmap_memo_get - the framed reply made for req (hash h) that is still
 * valid at second now with override generation ovgen and the cache as
 * it is; NULL if none.  *rlen: its length; *body: where the unframed
 * reply starts in it; *tag: the note's tag it was put with.
 */
const char	 *pmap_memo_get(struct pmap_memo *, uint64_t h, const char *req,
		      size_t n, time_t now, unsigned ovgen, struct sts_cache *,
		      size_t *rlen, size_t *body, unsigned *tag);
/* pmap_memo_put - remember framed reply (body: its header length) */
void		  pmap_memo_put(struct pmap_memo *, uint64_t h, const char *req,
		      size_t n, const char *reply, size_t rlen, size_t body,
		      const struct pmap_memo_note *);

#endif
