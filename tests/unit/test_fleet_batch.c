/*
 * test_fleet_batch.c - fleet_batch_cut(): whole, good records only; the
 * position moves over what was consumed, never into a line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fleet_batch.h"
#include "journal_fmt.h"

#include "../harness.h"

/* add - one encoded record for domain d, policy hash h, time t */
static void
add(struct buf *b, const char *d, const char *h, time_t t)
{
	struct journal_rec	r;

	memset(&r, 0, sizeof(r));
	r.type = JREC_SESSION;
	r.time = t;
	JREC_SET(&r, src, "probe");
	JREC_SET(&r, ptype, "sts");
	JREC_SET(&r, domain, d);
	JREC_SET(&r, phash, h);
	r.result = TLSRPT_SUCCESS;
	journal_encode(&r, b);
}

static char *
hash_of(int i)
{
	static char	h[65];

	snprintf(h, sizeof(h), "%064x", i);
	return h;
}

static void
test_batch_empty(void)
{
	static struct fleet_batch	b;

	fleet_batch_cut(&b, "", 0, 0);
	CHECK_INT(b.n, 0);
	CHECK_INT(b.used, 0);
	CHECK_INT(b.bad, 0);
	fleet_batch_cut(&b, "", 0, 1);
	CHECK_INT(b.used, 0);
}

/* good lines, a corrupt one, an empty one; an unterminated tail stays */
static void
test_batch_lines(void)
{
	static struct fleet_batch	b;
	struct buf			in = BUF_INIT;
	size_t				first, good;

	add(&in, "a.example", hash_of(1), 100);
	first = in.b_len;
	buf_puts(&in, "J1 00000000 {\"type\":\"session\"}\n");	/* bad CRC */
	buf_puts(&in, "\n");
	add(&in, "b.example", hash_of(1), 101);
	add(&in, "c.example", "", 102);
	good = in.b_len;
	add(&in, "d.example", hash_of(2), 103);
	in.b_len -= 5;			/* torn: a writer is in the middle */
	fleet_batch_cut(&b, in.b_data, in.b_len, 0);
	CHECK_INT(b.n, 3);
	CHECK_INT(b.bad, 1);
	CHECK_INT(b.used, good);
	CHECK_INT(b.len[0], first - 1);
	CHECK(memcmp(b.line[0], in.b_data, first - 1) == 0);
	CHECK(strstr(b.line[1], "b.example") != NULL);
	CHECK_INT(b.nhash, 1);
	CHECK_STR(b.hash[0], hash_of(1));
	CHECK_INT(b.last_time, 102);
	/* from the position, the rest: nothing whole yet */
	fleet_batch_cut(&b, in.b_data + good, in.b_len - good, 0);
	CHECK_INT(b.n, 0);
	CHECK_INT(b.used, 0);
	buf_free(&in);
}

/* at most FLEET_BATCH_MAX records, the rest in the next batch */
static void
test_batch_max(void)
{
	static struct fleet_batch	b;
	struct buf			in = BUF_INIT;
	size_t				off = 0, total = 0;
	int				i, batches = 0;

	for (i = 0; i < FLEET_BATCH_MAX * 2 + 7; i++)
		add(&in, "a.example", "", i);
	while (off < in.b_len) {
		fleet_batch_cut(&b, in.b_data + off, in.b_len - off, 0);
		CHECK(b.n <= FLEET_BATCH_MAX);
		CHECK(b.used > 0);
		if (b.used == 0)
			break;
		total += b.n;
		off += b.used;
		batches++;
	}
	CHECK_INT(total, FLEET_BATCH_MAX * 2 + 7);
	CHECK_INT(batches, 3);
	CHECK_INT(off, in.b_len);
	buf_free(&in);
}

/* a batch stops before a record whose hash would be one too many */
static void
test_batch_hashes(void)
{
	static struct fleet_batch	b;
	struct buf			in = BUF_INIT;
	int				i;

	for (i = 0; i < FLEET_BATCH_HASHES + 3; i++) {
		add(&in, "a.example", hash_of(i), i);
		add(&in, "a.example", hash_of(0), i);	/* seen already */
	}
	fleet_batch_cut(&b, in.b_data, in.b_len, 0);
	CHECK_INT(b.nhash, FLEET_BATCH_HASHES);
	CHECK_INT(b.n, FLEET_BATCH_HASHES * 2);
	CHECK(strstr(b.line[b.n - 1], hash_of(0)) != NULL);
	fleet_batch_cut(&b, in.b_data + b.used, in.b_len - b.used, 0);
	CHECK_INT(b.nhash, 4);		/* 32, 33, 34 and 0 again */
	CHECK_INT(b.n, 6);
	buf_free(&in);
}

/* a full buffer without a newline is consumed as one bad line; an
 * overlong line is bad */
static void
test_batch_garbage(void)
{
	static struct fleet_batch	b;
	char				*junk = malloc(20000);

	memset(junk, 'x', 20000);
	fleet_batch_cut(&b, junk, 20000, 0);
	CHECK_INT(b.used, 0);
	fleet_batch_cut(&b, junk, 20000, 1);
	CHECK_INT(b.used, 20000);
	CHECK_INT(b.bad, 1);
	junk[19999] = '\n';
	fleet_batch_cut(&b, junk, 20000, 0);
	CHECK_INT(b.used, 20000);
	CHECK_INT(b.bad, 1);
	CHECK_INT(b.n, 0);
	free(junk);
}

int
main(void)
{
	RUN(test_batch_empty);
	RUN(test_batch_lines);
	RUN(test_batch_max);
	RUN(test_batch_hashes);
	RUN(test_batch_garbage);
	return harness_done("test_fleet_batch");
}
