/*
 * test_sts_store.c - the policy cache's on-disk format (sts_store.c):
 * format/parse round trips and the files parse refuses (STS-CACHE-10,
 * STS-HTTP-5: a fetch back-off survives restarts)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sts_store.h"

#define POL "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n"

/* one file per row: parse must say ok (0) or refuse (-1) */
static const struct {
	const char	*name;
	const char	*text;
	int		 rc;
	const char	*id;
	int		 failed;
} rows[] = {
	{ "plain", "sts-milter-cache 1\nid A1\nfetched 100\nchecked 200\n"
	    "length 63\n\n" POL, 0, "A1", 0 },
	{ "with back-off", "sts-milter-cache 1\nid A1\nfetched 100\nchecked 200\n"
	    "failed B2 300 4\nlength 63\n\n" POL, 0, "A1", 1 },
	{ "unknown line ignored", "sts-milter-cache 1\nid A1\nnew 7\nfetched 1\n"
	    "checked 2\nlength 63\n\n" POL, 0, "A1", 0 },
	{ "bad result type", "sts-milter-cache 1\nid A1\nfetched 1\nchecked 2\n"
	    "failed B2 300 99\nlength 63\n\n" POL, 0, "A1", 0 },
	{ "torn body", "sts-milter-cache 1\nid A1\nfetched 1\nchecked 2\n"
	    "length 70\n\nversion: STSv1\nmode: enf", -1, "", 0 },
	{ "body too long", "sts-milter-cache 1\nid A1\nfetched 1\nchecked 2\n"
	    "length 3\n\n" POL, -1, "", 0 },
	{ "no id", "sts-milter-cache 1\nfetched 1\nchecked 2\nlength 63\n\n"
	    POL, -1, "", 0 },
	{ "no length", "sts-milter-cache 1\nid A1\nfetched 1\n\n" POL, -1, "",
	    0 },
	{ "other magic", "sts-milter-cache 2\nid A1\nlength 63\n\n" POL, -1,
	    "", 0 },
	{ "header never ends", "sts-milter-cache 1\nid A1\nlength 63", -1, "",
	    0 },
	{ "not a policy", "sts-milter-cache 1\nid A1\nfetched 1\nchecked 2\n"
	    "length 6\n\nhello\n", -1, "", 0 },
	{ "empty", "", -1, "", 0 },
};

static void
test_sts_store_parse_table(void)
{
	struct sts_store_rec	r;
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rc = sts_store_parse(rows[i].text, strlen(rows[i].text), &r);
		CHECKF(rc == rows[i].rc, "row %zu (%s): rc %d", i,
		    rows[i].name, rc);
		CHECKF(strcmp(r.id, rows[i].id) == 0, "row %zu: id %s", i,
		    r.id);
		CHECKF(r.failed == rows[i].failed, "row %zu: failed %d", i,
		    r.failed);
		CHECKF((rc == 0) == (r.policy != NULL), "row %zu: policy", i);
		sts_store_rec_clear(&r);
	}
}

/* what format writes, parse reads back, field by field */
static void
test_sts_store_round_trip(void)
{
	struct sts_store_rec	r, back;
	struct buf		b = BUF_INIT, why = BUF_INIT;
	int			failed;

	for (failed = 0; failed <= 1; failed++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "20260101T1");
		r.fetched = 1700000000;
		r.checked = 1700000100;
		r.failed = failed;
		snprintf(r.fail_id, sizeof(r.fail_id), "NEW2");
		r.fail_time = 1700000200;
		r.fail_rt = TLSRPT_STS_WEBPKI_INVALID;
		CHECK(sts_policy_parse(POL, strlen(POL), &r.policy, &why) ==
		    ST_OK);
		buf_reset(&b);
		sts_store_format(&r, &b);
		CHECK_INT(sts_store_parse(b.b_data, b.b_len, &back), 0);
		CHECK_STR(back.id, r.id);
		CHECK_INT(back.fetched, r.fetched);
		CHECK_INT(back.checked, r.checked);
		CHECK_INT(back.failed, failed);
		if (failed) {
			CHECK_STR(back.fail_id, "NEW2");
			CHECK_INT(back.fail_time, r.fail_time);
			CHECK_INT(back.fail_rt, TLSRPT_STS_WEBPKI_INVALID);
		}
		CHECK(back.policy != NULL &&
		    back.policy->p_text_len == strlen(POL));
		sts_store_rec_clear(&back);
		sts_store_rec_clear(&r);
	}
	buf_free(&b);
	buf_free(&why);
}

static void
count_one(void *arg, const char *domain, const struct sts_store_rec *r)
{
	CHECK(strcmp(domain, "a.example") == 0 ||
	    strcmp(domain, "b.example") == 0);
	CHECK_STR(r->id, "A1");
	(*(int *)arg)++;
}

/* the file system part: write, read, list, remove, clear */
static void
test_sts_store_files(void)
{
	char			 dir[] = "/tmp/test_sts_store.XXXXXX";
	struct sts_store_rec	 r;
	struct buf		 b = BUF_INIT, why = BUF_INIT;
	int			 n = 0;

	CHECK(mkdtemp(dir) != NULL);
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "A1");
	CHECK(sts_policy_parse(POL, strlen(POL), &r.policy, &why) == ST_OK);
	sts_store_format(&r, &b);
	sts_store_rec_clear(&r);
	CHECK_INT(sts_store_write(dir, "a.example", &b), 0);
	CHECK_INT(sts_store_write(dir, "b.example", &b), 0);
	CHECK_INT(sts_store_read(dir, "a.example", &r), 0);
	CHECK_STR(r.id, "A1");
	sts_store_rec_clear(&r);
	CHECK_INT(sts_store_read(dir, "none.example", &r), -1);
	CHECK(r.policy == NULL);
	CHECK_INT(sts_store_foreach(dir, count_one, &n), 2);
	CHECK_INT(n, 2);
	CHECK_INT(sts_store_remove(dir, "a.example"), 0);
	CHECK_INT(sts_store_remove(dir, "a.example"), -1);
	CHECK_INT(sts_store_clear(dir), 1);
	CHECK_INT(sts_store_read(dir, "b.example", &r), -1);
	CHECK_INT(rmdir(dir), 0);
	buf_free(&b);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_sts_store_parse_table);
	RUN(test_sts_store_round_trip);
	RUN(test_sts_store_files);
	return harness_done("test_sts_store");
}
