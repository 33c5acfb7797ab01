/*
 * test_statusfile.c - status.json: what the daemon writes is what stsctl
 * reads (counters in the writer's order, "running" and "age" added), a
 * file of the former printf writer still reads, the running judgement,
 * and every way a file is not a status object
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "harness.h"
#include "statedir.h"
#include "statusfile.h"
#include "xmalloc.h"

static char	dir[64];

static void
put(const char *text)
{
	char	*p = statedir_status(dir);

	CHECK_INT(fs_write_atomic(p, text, strlen(text), 0644, FS_SYNC_NONE),
	    0);
	free(p);
}

static void
test_statusfile_roundtrip(void)
{
	static const struct statusfile_counter top[] = {
		{ "cache_entries", 3 }, { "journal_errors", 0 },
	}, gate[] = {
		{ "rcpts", 10 }, { "deferred", 2 },
	};
	const struct statusfile_group g[] = {
		{ NULL, top, 2 }, { "gate", gate, 2 },
	};
	struct statusfile_head	h = { (long)getpid(), 1000, 2000, 60, 0 };
	struct statusfile_info	in;
	struct buf		json = BUF_INIT;

	CHECK_INT(statusfile_write(dir, &h, g, 2), 0);
	CHECK_INT(statusfile_read(dir, 2010, &in, &json), ST_OK);
	CHECK_INT(in.pid, getpid());
	CHECK_INT(in.written, 2000);
	CHECK_INT(in.interval, 60);
	CHECK_INT(in.stopped, -1);
	CHECK_INT(in.age, 10);
	CHECK_INT(in.running, 1);		/* our own pid is alive */
	CHECK(strstr(buf_str(&json), "\"started\":1000,\"written\":2000,"
	    "\"interval\":60,\"cache_entries\":3,\"journal_errors\":0,"
	    "\"gate\":{\"rcpts\":10,\"deferred\":2},\"running\":true,"
	    "\"age\":10}") != NULL);
	/* written at stop */
	buf_reset(&json);
	h.stopped = 1;
	CHECK_INT(statusfile_write(dir, &h, g, 2), 0);
	CHECK_INT(statusfile_read(dir, 2010, &in, &json), ST_OK);
	CHECK_INT(in.stopped, 2000);
	CHECK_INT(in.running, 0);
	CHECK(strstr(buf_str(&json), "\"interval\":60,\"stopped\":2000,") !=
	    NULL);
	buf_free(&json);
}

/* a file written by the former hand-formatted writer */
static void
test_statusfile_old_format(void)
{
	struct statusfile_info	in;
	struct buf		json = BUF_INIT;

	put("{\"pid\":999999999,\"started\":1,\"written\":100,\"interval\":30,"
	    "\"cache_entries\":0,\"journal_errors\":0,\"gate\":{\"rcpts\":0,"
	    "\"deferred\":0},\"tlsrpt\":{\"datagrams\":0,\"records\":0,"
	    "\"invalid\":0,\"dropped\":0,\"lost\":0,\"unarchived\":0,"
	    "\"exim\":0,\"exim_invalid\":0}}\n");
	CHECK_INT(statusfile_read(dir, 110, &in, &json), ST_OK);
	CHECK_INT(in.pid, 999999999);
	CHECK_INT(in.running, 0);		/* no such process */
	CHECK(strstr(buf_str(&json), "\"exim_invalid\":0},\"running\":false,"
	    "\"age\":10}") != NULL);
	buf_free(&json);
}

static void
test_statusfile_judge_table(void)
{
	static const struct {
		time_t	stopped;
		time_t	now;
		int	alive, running;
	} t[] = {
		{ -1, 1000, 1, 1 },		/* just written */
		{ -1, 1180, 1, 1 },		/* three intervals old */
		{ -1, 1181, 1, 0 },		/* older: hung or gone */
		{ -1, 1000, 0, 0 },		/* the pid is dead */
		{ 1000, 1000, 1, 0 },		/* written at stop */
		{ -1, 900, 1, 1 },		/* clock stepped back */
	};
	struct statusfile_info	in;
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.written = 1000;
		in.interval = 60;
		in.stopped = t[i].stopped;
		statusfile_judge(&in, t[i].now, t[i].alive);
		CHECKF(in.running == t[i].running, "row %zu", i);
		CHECKF(in.age == (long long)(t[i].now - 1000), "row %zu", i);
	}
}

static void
test_statusfile_invalid_table(void)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[1,2,3]",
		"{}",
		"{\"pid\":0,\"written\":1,\"interval\":1}",
		"{\"pid\":-5,\"written\":1,\"interval\":1}",
		"{\"pid\":\"12\",\"written\":1,\"interval\":1}",
		"{\"pid\":12,\"interval\":1}",
		"{\"pid\":12,\"written\":1,\"interval\":0}",
		"{\"pid\":12,\"written\":1}",
		"{\"pid\":12,\"written\":1,\"interval\":1",	/* cut short */
	};
	struct statusfile_info	in;
	struct buf		json = BUF_INIT;
	size_t			i;
	char			*big;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i]);
		CHECKF(statusfile_read(dir, 1, &in, &json) == ST_INVALID,
		    "row %zu: %s", i, bad[i]);
		CHECKF(json.b_len == 0, "row %zu", i);
	}
	big = xmalloc(100000);
	memset(big, ' ', 99999);
	big[99999] = '\0';
	put(big);
	CHECK_INT(statusfile_read(dir, 1, &in, &json), ST_INVALID);
	free(big);
	/* no file */
	big = statedir_status(dir);
	CHECK_INT(unlink(big), 0);
	free(big);
	CHECK_INT(statusfile_read(dir, 1, &in, &json), ST_NOTFOUND);
	/* a directory we cannot read as a file */
	CHECK_INT(statusfile_read("/nonexistent-dir", 1, &in, &json),
	    ST_NOTFOUND);
	buf_free(&json);
}

int
main(void)
{
	char	*p;

	snprintf(dir, sizeof(dir), "/tmp/test_statusfile.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_statusfile_roundtrip);
	RUN(test_statusfile_old_format);
	RUN(test_statusfile_judge_table);
	RUN(test_statusfile_invalid_table);
	p = statedir_status(dir);
	(void)unlink(p);
	free(p);
	(void)rmdir(dir);
	return harness_done("test_statusfile");
}
