/*
 * test_report_prune.c - the policy archive shrinks with the journal
 * (report_prune.h): a text no journal file names and older than min_age
 * goes, every other stays; references cut by the scanner's chunk
 * boundary and torn records are still found.  A fleet node's journal
 * days (report_prune_journal): those older than journal_retention go,
 * with the texts only they named.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "harness.h"
#include "report_prune.h"

static char	dir[64];
static const time_t NOW = 1800000000, AGE = 3 * 86400;

/* hash i: 64 hex digits */
static const char *
hash(int i)
{
	static char	h[8][65];
	int		k;

	for (k = 0; k < 64; k++)
		h[i][k] = "0123456789abcdef"[(i * 7 + k) % 16];
	h[i][64] = '\0';
	return h[i];
}

static void
put(const char *name, time_t mtime)
{
	char		p[256];
	FILE		*f;
	struct utimbuf	u = { mtime, mtime };

	snprintf(p, sizeof(p), "%s/policies/%s", dir, name);
	f = fopen(p, "w");
	fputs("version: STSv1\n", f);
	fclose(f);
	utime(p, &u);
}

static int
there(const char *name)
{
	char	p[256];

	snprintf(p, sizeof(p), "%s/policies/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void
journal(const char *day, const char *text)
{
	char	p[256];
	FILE	*f;

	snprintf(p, sizeof(p), "%s/journal/%s.jnl", dir, day);
	f = fopen(p, "a");
	fputs(text, f);
	fclose(f);
}

static void
test_prune_table(void)
{
	static const struct {
		int	 h;
		time_t	 mtime;
		int	 named;		/* by a journal record */
		int	 kept;
	} rows[] = {
		{ 0, NOW - 10 * 86400, 1, 1 },	/* named: stays */
		{ 1, NOW - 10 * 86400, 0, 0 },	/* old, unnamed: goes */
		{ 2, NOW - 60, 0, 1 },		/* new, unnamed: stays */
		{ 3, NOW - AGE, 0, 0 },		/* exactly min_age: goes */
		{ 4, NOW - 10 * 86400, 2, 1 },	/* named by a torn record */
		{ 5, NOW - 10 * 86400, 3, 1 },	/* named across 256 KiB */
	};
	char		name[128], rec[512], *big;
	unsigned	kept = 99;
	size_t		i, n = sizeof(rows) / sizeof(rows[0]), pad;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.txt", hash(rows[i].h));
		put(name, rows[i].mtime);
		snprintf(rec, sizeof(rec), "J1 00000000 {\"type\":\"session\","
		    "\"phash\":\"%s\",\"result\":\"success\"}\n",
		    hash(rows[i].h));
		if (rows[i].named == 1)
			journal("2027-01-01", rec);
		else if (rows[i].named == 2)
			journal("2027-01-02", strstr(rec, "\"phash\""));
		else if (rows[i].named == 3) {
			/* the key ends 10 bytes before the 256 KiB chunk
			 * end of a fresh file, the hash runs over it */
			pad = 256 * 1024 - 10 - strlen("\"phash\":\"");
			big = malloc(pad + 1);
			memset(big, 'x', pad);
			big[pad] = '\0';
			journal("2027-01-03", big);
			journal("2027-01-03", strstr(rec, "\"phash\""));
			free(big);
		}
	}
	put("README", NOW - 10 * 86400);		/* not ours: stays */
	put("abc.txt", NOW - 10 * 86400);
	CHECK_INT(report_prune_policies(dir, NOW, AGE, &kept), 2);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.txt", hash(rows[i].h));
		CHECKF(there(name) == rows[i].kept, "row %zu", i);
	}
	CHECK(there("README") && there("abc.txt"));
	CHECK_INT(kept, 4);
	/* again: nothing more to remove */
	CHECK_INT(report_prune_policies(dir, NOW, AGE, NULL), 0);
}

static void
test_prune_no_journal(void)
{
	char	p[128];

	snprintf(p, sizeof(p), "%s/journal", dir);
	CHECK(rename(p, "/tmp/test_report_prune.moved") == 0);
	snprintf(p, sizeof(p), "%s.txt", hash(6));
	put(p, NOW - 10 * 86400);
	/* no journal directory: nothing removed, never "none referenced" */
	CHECK_INT(report_prune_policies(dir, NOW, AGE, NULL), -1);
	CHECK(there(p));
	snprintf(p, sizeof(p), "%s/journal", dir);
	CHECK(rename("/tmp/test_report_prune.moved", p) == 0);
}

/* a fleet node: journal_retention 14, now 2027-02-01T12:00:00Z */
static void
test_prune_journal_table(void)
{
	static const struct {
		const char	*name;
		int		 kept;
	} rows[] = {
		{ "2027-01-16.jnl", 0 },	/* began 16 days + 12 h ago */
		{ "2027-01-17.jnl", 0 },	/* began 15 days + 12 h ago:
						 * retention + 1 days over */
		{ "2027-01-18.jnl", 1 },	/* the oldest day the shipper
						 * still ships (now - 14 d) */
		{ "2027-02-01.jnl", 1 },	/* today */
		{ "2026-01-01.jnl", 0 },	/* long gone */
		{ "2027-01-1.jnl", 1 },		/* not a day file */
		{ "notes.jnl", 1 },
		{ "2027-13-01.jnl", 1 },	/* not a day */
	};
	const time_t	now = 1801483200;	/* 2027-02-01T12:00:00Z */
	char		p[512], name[128], rec[512];
	size_t		i, n = sizeof(rows) / sizeof(rows[0]);
	int		want = 0;

	snprintf(p, sizeof(p), "rm -f %s/journal/* %s/policies/*", dir, dir);
	CHECK(system(p) == 0);
	for (i = 0; i < n; i++) {
		/* each day names a text of its own */
		snprintf(rec, sizeof(rec), "J1 00000000 {\"phash\":\"%.64s\"}\n",
		    hash((int)i));
		snprintf(p, sizeof(p), "%s/journal/%s", dir, rows[i].name);
		FILE *f = fopen(p, "w");
		fputs(rec, f);
		fclose(f);
		snprintf(name, sizeof(name), "%.64s.txt", hash((int)i));
		put(name, now - 30 * 86400);
		want += !rows[i].kept;
	}
	CHECK_INT(report_prune_journal(dir, now, 14), want);
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/journal/%s", dir, rows[i].name);
		CHECKF((access(p, F_OK) == 0) == rows[i].kept, "row %zu: %s",
		    i, rows[i].name);
	}
	/* then the archive as in single-host mode: the removed days'
	 * texts go, the kept days' stay */
	CHECK_INT(report_prune_policies(dir, now, 15 * 86400, NULL), want);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%.64s.txt", hash((int)i));
		CHECKF(there(name) == rows[i].kept, "row %zu: its text", i);
	}
	CHECK_INT(report_prune_journal(dir, now, 14), 0);	/* again */
	CHECK_INT(report_prune_journal("/nonexistent/state", now, 14), -1);
}

int
main(void)
{
	char	p[128];
	int	rc;

	snprintf(dir, sizeof(dir), "/tmp/test_report_prune.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(p, sizeof(p), "%s/policies", dir);
	mkdir(p, 0750);
	snprintf(p, sizeof(p), "%s/journal", dir);
	mkdir(p, 0750);
	RUN(test_prune_table);
	RUN(test_prune_no_journal);
	RUN(test_prune_journal_table);
	rc = harness_done("test_report_prune");
	snprintf(p, sizeof(p), "rm -rf '%s' /tmp/test_report_prune.moved", dir);
	if (system(p) != 0)
		return 1;
	return rc;
}
