/*
 * pmap_memo.c - the policy map's reply memo (see pmap_memo.h)
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pmap_memo.h"
#include "sts_cache.h"
#include "xmalloc.h"

#define MEMO_SLOTS	2048

struct slot {
	uint64_t	 s_hash;
	uint64_t	 s_stamp;
	time_t		 s_second;
	unsigned	 s_ovgen;
	unsigned	 s_tag;
	int		 s_hasstamp;
	size_t		 s_klen, s_rlen, s_body, s_cap;
	char		*s_data;	/* request, then the framed reply */
};

struct pmap_memo {
	struct slot	 m_slot[MEMO_SLOTS];
};

struct pmap_memo *
pmap_memo_new(void)
{
	return xcalloc(1, sizeof(struct pmap_memo));
}

void
pmap_memo_free(struct pmap_memo *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < MEMO_SLOTS; i++)
		free(m->m_slot[i].s_data);
	free(m);
}

uint64_t
pmap_memo_hash(const char *s, size_t n)
{
	return hash_fnv64(HASH_FNV64_INIT, s, n);
}

const char *
pmap_memo_get(struct pmap_memo *m, uint64_t h, const char *req, size_t n,
    time_t now, unsigned ovgen, struct sts_cache *cache, size_t *rlen,
    size_t *body, unsigned *tag)
{
	struct slot	*s = &m->m_slot[h % MEMO_SLOTS];

	if (s->s_data == NULL || s->s_hash != h || s->s_klen != n ||
	    memcmp(s->s_data, req, n) != 0 || s->s_second != now ||
	    s->s_ovgen != ovgen ||
	    (s->s_hasstamp && !sts_cache_stamp_valid(cache, s->s_stamp)))
		return NULL;
	*rlen = s->s_rlen;
	*body = s->s_body;
	*tag = s->s_tag;
	return s->s_data + n;
}

void
pmap_memo_put(struct pmap_memo *m, uint64_t h, const char *req, size_t n,
    const char *reply, size_t rlen, size_t body,
    const struct pmap_memo_note *mn)
{
	struct slot	*s = &m->m_slot[h % MEMO_SLOTS];

	if (!mn->ok || n > PMAP_MEMO_KEY_MAX || rlen > PMAP_MEMO_REPLY_MAX)
		return;
	if (s->s_cap < n + rlen) {
		s->s_cap = n + rlen + 64;
		s->s_data = xrealloc(s->s_data, s->s_cap);
	}
	memcpy(s->s_data, req, n);
	memcpy(s->s_data + n, reply, rlen);
	s->s_hash = h;
	s->s_klen = n;
	s->s_rlen = rlen;
	s->s_body = body;
	s->s_stamp = mn->stamp;
	s->s_hasstamp = mn->hasstamp;
	s->s_second = mn->second;
	s->s_ovgen = mn->ovgen;
	s->s_tag = mn->tag;
}
