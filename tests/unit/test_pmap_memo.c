/*
 * test_pmap_memo.c - the policy map's reply memo (pmap_memo.h): a reply
 * comes back only for the same request, in the same clock second, with
 * the same override generation and while the cache entry it was made
 * from is unchanged; side effects, long requests and long replies are
 * never kept.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"
#include "harness.h"
#include "hash.h"
#include "pmap_memo.h"
#include "sts_cache.h"

#define REQ	"postfix enforce.test"
#define REPLY	"9:NOTFOUND ,"

static const char *
get(struct pmap_memo *m, const char *req, time_t now, unsigned gen,
    struct sts_cache *c)
{
	size_t		rlen = 0, body = 0;
	unsigned	tag = 0;

	return pmap_memo_get(m, pmap_memo_hash(req, strlen(req)), req,
	    strlen(req), now, gen, c, &rlen, &body, &tag);
}

static void
put(struct pmap_memo *m, const char *req, const char *reply,
    const struct pmap_memo_note *n)
{
	pmap_memo_put(m, pmap_memo_hash(req, strlen(req)), req, strlen(req),
	    reply, strlen(reply), 2, n);
}

static void
test_keys(void)
{
	struct pmap_memo	*m = pmap_memo_new();
	struct pmap_memo_note	 n = { 1, 0, 0, 1000, 7, 42 };
	const char		*r;
	size_t			 rlen = 0, body = 0;
	unsigned		 tag = 0;

	CHECK(get(m, REQ, 1000, 7, NULL) == NULL);		/* empty */
	put(m, REQ, REPLY, &n);
	r = pmap_memo_get(m, pmap_memo_hash(REQ, strlen(REQ)), REQ,
	    strlen(REQ), 1000, 7, NULL, &rlen, &body, &tag);
	CHECK(r != NULL && rlen == strlen(REPLY) &&
	    memcmp(r, REPLY, rlen) == 0);
	CHECK_INT(body, 2);
	CHECK_INT(tag, 42);				/* the caller's, back */
	CHECK(get(m, REQ, 1001, 7, NULL) == NULL);	/* the next second */
	CHECK(get(m, REQ, 1000, 8, NULL) == NULL);	/* new overrides */
	CHECK(get(m, "postfix enforce.tesT", 1000, 7, NULL) == NULL);
	CHECK(get(m, "sendmail enforce.test", 1000, 7, NULL) == NULL);
	pmap_memo_free(m);
}

static void
test_not_kept(void)
{
	struct pmap_memo	*m = pmap_memo_new();
	struct pmap_memo_note	 side = { 0, 0, 0, 1000, 7, 0 };
	struct pmap_memo_note	 n = { 1, 0, 0, 1000, 7, 0 };
	char			 longreq[PMAP_MEMO_KEY_MAX + 2];
	char			*longreply = malloc(PMAP_MEMO_REPLY_MAX + 2);

	put(m, REQ, REPLY, &side);			/* an event */
	CHECK(get(m, REQ, 1000, 7, NULL) == NULL);
	memset(longreq, 'a', sizeof(longreq) - 1);
	longreq[sizeof(longreq) - 1] = '\0';
	put(m, longreq, REPLY, &n);
	CHECK(get(m, longreq, 1000, 7, NULL) == NULL);
	memset(longreply, 'r', PMAP_MEMO_REPLY_MAX + 1);
	longreply[PMAP_MEMO_REPLY_MAX + 1] = '\0';
	put(m, REQ, longreply, &n);
	CHECK(get(m, REQ, 1000, 7, NULL) == NULL);
	free(longreply);
	pmap_memo_free(m);
}

/* memo_enforce - a cache that has enforce.test, and m holding a reply
 * made from its entry */
static struct sts_cache *
memo_enforce(struct pmap_memo *m)
{
	struct sts_cache_opts	 o;
	struct sts_cache	*c;
	struct sts_lookup	 l;
	struct pmap_memo_note	 n = { 1, 1, 0, 1000, 7, 0 };

	fake_dns_reset();
	fake_http_reset();
	fake_sts_domain("enforce.test", "e1", "version: STSv1\nmode: enforce\n"
	    "mx: mx1.enforce.test\nmax_age: 86400\n");
	fake_cache_opts(&o, NULL);
	c = sts_cache_new(&o);
	CHECK_INT(sts_cache_lookup(c, "enforce.test", 0, &l), ST_OK);
	n.stamp = l.stamp;
	sts_lookup_clear(&l);
	put(m, REQ, REPLY, &n);
	return c;
}

/* A reply made from a cache entry is gone once the entry changed. */
static void
test_stamp(void)
{
	struct pmap_memo	*m = pmap_memo_new();
	struct sts_cache	*c;

	c = memo_enforce(m);
	CHECK(get(m, REQ, 1000, 7, c) != NULL);
	CHECK_INT(sts_cache_flush(c, "enforce.test"), 0);
	CHECK(get(m, REQ, 1000, 7, c) == NULL);
	pmap_memo_free(m);
	sts_cache_free(c);
}

/* ... and stays while other domains come and change: a cold storm in
 * the same lock shard does not outdate it (only the 1 in
 * STS_CACHE_GEN_SLOTS domains that share its generation slot would) */
static void
test_stamp_others(void)
{
	struct pmap_memo	*m = pmap_memo_new();
	struct sts_cache	*c;
	struct sts_lookup	 l;
	uint32_t		 h = hash_fnv32("enforce.test");
	char			 d[64];
	int			 i, others = 0;

	c = memo_enforce(m);
	/* 20 domains of enforce.test's lock shard (64 of them: the old
	 * per-shard stamp failed this), not of its generation slot */
	for (i = 0; others < 20 && i < 100000; i++) {
		snprintf(d, sizeof(d), "d%d.cold.test", i);
		if (hash_fnv32(d) % 64 != h % 64 ||
		    hash_fnv32(d) % STS_CACHE_GEN_SLOTS ==
		    h % STS_CACHE_GEN_SLOTS)
			continue;
		fake_sts_domain(d, "c1", "version: STSv1\nmode: testing\n"
		    "mx: mx1.cold.test\nmax_age: 86400\n");
		CHECK_INT(sts_cache_lookup(c, d, 0, &l), ST_OK);
		sts_lookup_clear(&l);
		CHECK_INT(sts_cache_flush(c, d), 0);
		others++;
	}
	CHECK_INT(others, 20);
	CHECK(get(m, REQ, 1000, 7, c) != NULL);
	CHECK_INT(sts_cache_flush(c, "enforce.test"), 0);
	CHECK(get(m, REQ, 1000, 7, c) == NULL);
	pmap_memo_free(m);
	sts_cache_free(c);
}

int
main(void)
{
	RUN(test_keys);
	RUN(test_not_kept);
	RUN(test_stamp);
	RUN(test_stamp_others);
	return harness_done("test_pmap_memo");
}
