/*
 * test_report_metrics.c - tlsrpt-reporter's node-exporter textfile:
 * what counts as a successful run, the text, the carried-over time of
 * the last success, and the atomic write
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "harness.h"
#include "report_metrics.h"

static const struct {
	int		rc;
	unsigned	ok, failed;
	int		want;
} succ_cases[] = {
	{ EX_OK,	0, 0, 1 },	/* nothing to deliver */
	{ EX_OK,	3, 0, 1 },
	{ EX_TEMPFAIL,	2, 1, 1 },	/* one receiver down, retry pending */
	{ EX_TEMPFAIL,	0, 4, 0 },	/* every delivery failed */
	{ EX_TEMPFAIL,	0, 0, 0 },	/* retries pending, none due */
	{ EX_OK,	0, 2, 1 },	/* failed, given up: nothing left */
	{ EX_IOERR,	5, 0, 0 },	/* state not written */
	{ EX_SOFTWARE,	0, 0, 0 },
};

static void
test_report_metrics_succeeded(void)
{
	struct report_run_stats	st;
	size_t			i;

	for (i = 0; i < sizeof(succ_cases) / sizeof(succ_cases[0]); i++) {
		memset(&st, 0, sizeof(st));
		st.sends_ok = succ_cases[i].ok;
		st.sends_failed = succ_cases[i].failed;
		CHECKF(report_metrics_succeeded(&st, succ_cases[i].rc) ==
		    succ_cases[i].want, "row %zu", i);
	}
}

static void
test_report_metrics_render(void)
{
	struct report_run_stats	st;
	struct buf		b = BUF_INIT;
	static const char *const want[] = {
		"sts_milter_reporter_last_run_timestamp_seconds 1700000000\n",
		"sts_milter_reporter_last_success_timestamp_seconds 1600000000\n",
		"sts_milter_reporter_last_run_exit_code 75\n",
		"sts_milter_reporter_periods_processed 2\n",
		"sts_milter_reporter_sessions 1234\n",
		"sts_milter_reporter_reports_built 5\n",
		"sts_milter_reporter_reports_delivered{transport=\"smtp\"} 0\n",
		"sts_milter_reporter_reports_delivered{transport=\"https\"} 0\n",
		"sts_milter_reporter_reports_failed{transport=\"smtp\"} 3\n",
		"sts_milter_reporter_reports_failed{transport=\"https\"} 1\n",
		"sts_milter_reporter_reports_given_up 1\n",
		"sts_milter_reporter_retries_pending 4\n",
		"sts_milter_reporter_domains_without_rua 2\n",
		"# TYPE sts_milter_reporter_retries_pending gauge\n",
	};
	size_t			i;

	memset(&st, 0, sizeof(st));
	st.days = 2;
	st.sessions = 1234;
	st.built = 5;
	st.failed[0] = 3;
	st.failed[1] = 1;
	st.sends_failed = 4;
	st.gaveup = 1;
	st.pending = 4;
	st.norua = 2;
	/* every delivery failed: the last success is carried over */
	report_metrics_render(&st, 1700000000, EX_TEMPFAIL, 1600000000, &b);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECKF(strstr(buf_str(&b), want[i]) != NULL, "row %zu: %s", i,
		    want[i]);
	CHECK_INT(report_metrics_last_success(buf_str(&b)), 1600000000);
	/* one delivered: this run is the last success */
	st.sent[1] = 1;
	st.sends_ok = 1;
	buf_reset(&b);
	report_metrics_render(&st, 1700000000, EX_TEMPFAIL, 1600000000, &b);
	CHECK(strstr(buf_str(&b), "sts_milter_reporter_reports_delivered"
	    "{transport=\"https\"} 1\n") != NULL);
	CHECK_INT(report_metrics_last_success(buf_str(&b)), 1700000000);
	buf_free(&b);
}

static void
test_report_metrics_last_success(void)
{
	CHECK_INT(report_metrics_last_success(""), 0);
	CHECK_INT(report_metrics_last_success("garbage\n"), 0);
	CHECK_INT(report_metrics_last_success(
	    "# HELP sts_milter_reporter_last_success_timestamp_seconds x\n"
	    "sts_milter_reporter_last_success_timestamp_seconds 42\n"), 42);
	CHECK_INT(report_metrics_last_success(
	    "xsts_milter_reporter_last_success_timestamp_seconds 42\n"), 0);
	CHECK_INT(report_metrics_last_success(
	    "sts_milter_reporter_last_success_timestamp_seconds -5\n"), 0);
}

static void
test_report_metrics_write(void)
{
	struct report_run_stats	st;
	struct buf		why = BUF_INIT;
	char			dir[] = "/tmp/test_report_metrics.XXXXXX";
	char			path[300], text[8192];
	struct stat		sb;
	FILE			*f;
	size_t			n;

	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/tlsrpt-reporter.prom", dir);
	memset(&st, 0, sizeof(st));
	CHECK_INT(report_metrics_write(path, &st, 1000, EX_OK, &why), 0);
	st.sends_failed = 2;		/* a failing run a day later */
	CHECK_INT(report_metrics_write(path, &st, 1000 + 86400, EX_TEMPFAIL,
	    &why), 0);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
		CHECK_INT(report_metrics_last_success(text), 1000);
		CHECK(strstr(text, "sts_milter_reporter_last_run_timestamp_"
		    "seconds 87400\n") != NULL);
	} else
		CHECK(0);
	/* a directory that does not exist: an error, with the path */
	snprintf(path, sizeof(path), "%s/no/such.prom", dir);
	CHECK_INT(report_metrics_write(path, &st, 1, EX_OK, &why), -1);
	CHECK(strstr(buf_str(&why), "no/such.prom") != NULL);
	snprintf(path, sizeof(path), "%s/tlsrpt-reporter.prom", dir);
	unlink(path);
	rmdir(dir);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_report_metrics_succeeded);
	RUN(test_report_metrics_render);
	RUN(test_report_metrics_last_success);
	RUN(test_report_metrics_write);
	return harness_done("test_report_metrics");
}
