/*
 * test_report_state.c - the reporter's delivery state (written by
 * tlsrpt-reporter, read by it and by "stsctl reports"): what is saved is
 * what is loaded, escapes survive, a file of today's format reads, and
 * the reader's table of good and bad lines
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "harness.h"
#include "report_state.h"
#include "xmalloc.h"

static char	dir[64];

static void
test_report_state_roundtrip(void)
{
	struct report_state	a, b;
	struct buf		why = BUF_INIT;
	char			*path = xasprintf("%s/x.state", dir);

	memset(&a, 0, sizeof(a));
	snprintf(a.report_id, sizeof(a.report_id), "2026-12-01T00:00:00Z_x");
	a.built = 1796000000;
	a.nsuccess = 120;
	a.nfailure = 3;
	a.rua = RUA_ST_FOUND;
	a.lk_tries = 2;
	a.lk_first = 1;
	a.lk_next = 2;
	a.lk_last = xstrdup("SERVFAIL from 192.0.2.1");
	a.ndest = 2;
	a.dest[0].uri = xstrdup("mailto:tls reports@example.com");
	a.dest[0].st = DEST_PENDING;
	a.dest[0].attempts = 3;
	a.dest[0].first = 10;
	a.dest[0].next = 20;
	a.dest[0].last = xstrdup("451 4.7.1 100% \"busy\"\n-");
	a.dest[1].uri = xstrdup("https://example.com/r");
	a.dest[1].st = DEST_DELIVERED;
	a.dest[1].done = 30;
	a.dest[1].last = xstrdup("-");		/* not the "empty" mark */
	CHECK_INT(report_state_save(path, &a, &why), ST_OK);
	CHECK_INT(report_state_load(path, &b, &why), ST_OK);
	CHECK_STR(b.report_id, a.report_id);
	CHECK_INT(b.built, a.built);
	CHECK_INT(b.nsuccess, 120);
	CHECK_INT(b.nfailure, 3);
	CHECK_INT(b.rua, RUA_ST_FOUND);
	CHECK_INT(b.lk_tries, 2);
	CHECK_STR(b.lk_last, a.lk_last);
	CHECK_INT(b.ndest, 2);
	CHECK_STR(b.dest[0].uri, a.dest[0].uri);
	CHECK_STR(b.dest[0].last, a.dest[0].last);
	CHECK_INT(b.dest[0].attempts, 3);
	CHECK_INT(b.dest[0].next, 20);
	CHECK_INT(b.dest[1].st, DEST_DELIVERED);
	CHECK_INT(b.dest[1].done, 30);
	CHECK_STR(b.dest[1].last, "-");
	report_state_clear(&a);
	report_state_clear(&b);
	(void)unlink(path);
	free(path);
	buf_free(&why);
}

static void
test_report_state_parse_table(void)
{
	static const struct {
		const char	*text;
		enum status	 st;
		size_t		 ndest;
		const char	*uri0, *last0;
		int		 rua;
	} t[] = {
		/* a file as tlsrpt-reporter has written it all along */
		{ "report-id abc\nbuilt 1\nsessions 1 0\nrua found 0 0 0 -\n"
		  "dest pending 1 5 305 0 mailto:a@b.example 451%204.3.0\n",
		  ST_OK, 1, "mailto:a@b.example", "451 4.3.0", RUA_ST_FOUND },
		/* no final newline; CR-free; unknown keys ignored */
		{ "report-id abc\nfuture-key 1 2 3\nrua none 1 2 3 -",
		  ST_OK, 0, NULL, NULL, RUA_ST_NONE },
		/* a wrong field count is not a destination */
		{ "report-id abc\ndest pending 1 2 3 mailto:a@b\n",
		  ST_OK, 0, NULL, NULL, RUA_ST_UNKNOWN },
		/* an unknown state reads as pending */
		{ "report-id abc\ndest bogus 0 0 0 0 https://x.example/ -\n",
		  ST_OK, 1, "https://x.example/", "", RUA_ST_UNKNOWN },
		/* a bad escape is kept as it is */
		{ "report-id abc\ndest pending 0 0 0 0 https://x/%zz %4\n",
		  ST_OK, 1, "https://x/%zz", "%4", RUA_ST_UNKNOWN },
		{ "", ST_INVALID, 0, NULL, NULL, 0 },
		{ "built 1\nsessions 1 2\n", ST_INVALID, 0, NULL, NULL, 0 },
		{ "report-id\n", ST_INVALID, 0, NULL, NULL, 0 },
	};
	struct report_state	s;
	struct buf		why = BUF_INIT;
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&why);
		CHECKF(report_state_parse(t[i].text, strlen(t[i].text), &s,
		    &why) == t[i].st, "row %zu", i);
		if (t[i].st != ST_OK) {
			CHECKF(why.b_len > 0, "row %zu", i);
			continue;
		}
		CHECKF(s.ndest == t[i].ndest, "row %zu: %zu", i, s.ndest);
		CHECKF((int)s.rua == t[i].rua, "row %zu", i);
		if (t[i].uri0 != NULL && s.ndest > 0) {
			CHECKF(!strcmp(s.dest[0].uri, t[i].uri0), "row %zu: %s",
			    i, s.dest[0].uri);
			CHECKF(!strcmp(s.dest[0].last, t[i].last0),
			    "row %zu: %s", i, s.dest[0].last);
		}
		CHECKF(s.lk_last != NULL, "row %zu", i);
		report_state_clear(&s);
	}
	buf_free(&why);
}

/* more destinations than REPORT_DEST_MAX: the rest are ignored */
static void
test_report_state_dest_cap(void)
{
	struct buf		b = BUF_INIT, why = BUF_INIT;
	struct report_state	s;
	int			i;

	buf_puts(&b, "report-id abc\n");
	for (i = 0; i < REPORT_DEST_MAX + 5; i++)
		buf_printf(&b, "dest pending 0 0 0 0 mailto:%d@x.example -\n", i);
	CHECK_INT(report_state_parse(b.b_data, b.b_len, &s, &why), ST_OK);
	CHECK_INT(s.ndest, REPORT_DEST_MAX);
	report_state_clear(&s);
	buf_free(&b);
	buf_free(&why);
}

/* numbers a corrupt file holds are kept to ranges the retry arithmetic
 * cannot overflow with (fuzz_report_state: a first attempt at
 * 9223372036854775807 overflowed report_retry_next()) */
static void
test_report_state_number_ranges(void)
{
	static const char	*text = "report-id abc\nbuilt -7\n"
	    "rua found 99999999999 -1 9223372036854775807 -\n"
	    "dest pending 99999999999 9223372036854775807 -5 0 mailto:a@b -\n";
	struct report_state	 s;
	struct buf		 why = BUF_INIT;

	CHECK_INT(report_state_parse(text, strlen(text), &s, &why), ST_OK);
	CHECK_INT(s.built, 0);
	CHECK_INT(s.lk_tries, 1000000);
	CHECK_INT(s.lk_first, 0);
	CHECK(s.lk_next == 253402300799LL);
	CHECK_INT(s.dest[0].attempts, 1000000);
	CHECK(s.dest[0].first == 253402300799LL);
	CHECK_INT(s.dest[0].next, 0);
	/* RPT-RETRY-1: due within 24 h of that first attempt, after now */
	CHECK(report_retry_next(s.dest[0].attempts, s.dest[0].first,
	    1700000000) == 1700000000 + REPORT_RETRY_MAX);
	CHECK_INT(report_state_failed(&s.dest[0], 1700000000, "x", 0), 0);
	report_state_clear(&s);
	buf_free(&why);
}

static void
test_report_state_load_errors(void)
{
	struct report_state	s;
	struct buf		why = BUF_INIT;
	char			*p = xasprintf("%s/none.state", dir);

	CHECK_INT(report_state_load(p, &s, &why), ST_NOTFOUND);
	CHECK_INT(report_state_load(dir, &s, &why), ST_TEMPFAIL); /* a dir */
	CHECK(strstr(buf_str(&why), dir) != NULL);
	buf_reset(&why);
	CHECK_INT(fs_write_atomic(p, "junk\n", 5, 0640, FS_SYNC_NONE), 0);
	CHECK_INT(report_state_load(p, &s, &why), ST_INVALID);
	CHECK(strstr(buf_str(&why), "none.state: no report-id") != NULL);
	(void)unlink(p);
	free(p);
	buf_free(&why);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_report_state.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_report_state_roundtrip);
	RUN(test_report_state_parse_table);
	RUN(test_report_state_dest_cap);
	RUN(test_report_state_number_ranges);
	RUN(test_report_state_load_errors);
	(void)rmdir(dir);
	return harness_done("test_report_state");
}
