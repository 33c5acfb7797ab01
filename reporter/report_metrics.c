/*
 * report_metrics.c - tlsrpt-reporter's node-exporter textfile (see
 * report_metrics.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fsutil.h"
#include "report_metrics.h"

#define P	"sts_milter_reporter_"
#define LAST	P "last_success_timestamp_seconds"

int
report_metrics_succeeded(const struct report_run_stats *st, int rc)
{
	/* nothing left to do; or retries pending, but this run delivered
	 * (a run between retries that are not due yet delivers nothing) */
	return rc == EX_OK || (rc == EX_TEMPFAIL && st->sends_ok > 0);
}

time_t
report_metrics_last_success(const char *text)
{
	const char	*p = text;
	long long	 v;

	while ((p = strstr(p, LAST " ")) != NULL) {
		if (p == text || p[-1] == '\n') {
			if (sscanf(p + sizeof(LAST), "%lld", &v) == 1 && v > 0)
				return (time_t)v;
			return 0;
		}
		p += sizeof(LAST);
	}
	return 0;
}

/* gauge - HELP, TYPE and one unlabelled sample */
static void
gauge(struct buf *b, const char *name, const char *help, long long v)
{
	buf_printf(b, "# HELP " P "%s %s\n# TYPE " P "%s gauge\n" P "%s %lld\n",
	    name, help, name, name, v);
}

/* by_transport - HELP, TYPE and one sample per transport */
static void
by_transport(struct buf *b, const char *name, const char *help,
    const unsigned v[2])
{
	buf_printf(b, "# HELP " P "%s %s\n# TYPE " P "%s gauge\n"
	    P "%s{transport=\"smtp\"} %u\n" P "%s{transport=\"https\"} %u\n",
	    name, help, name, name, v[0], name, v[1]);
}

void
report_metrics_render(const struct report_run_stats *st, time_t now, int rc,
    time_t last_success, struct buf *b)
{
	if (report_metrics_succeeded(st, rc))
		last_success = now;
	gauge(b, "last_run_timestamp_seconds", "End of the last "
	    "tlsrpt-reporter run, seconds since the epoch.", (long long)now);
	gauge(b, "last_success_timestamp_seconds", "End of the last run "
	    "that left nothing to do or delivered a report (0: none "
	    "yet).", (long long)last_success);
	gauge(b, "last_run_exit_code", "Exit status of the last run "
	    "(sysexits.h: 0 done, 75 retries pending).", rc);
	gauge(b, "periods_processed", "Report periods (UTC days) processed "
	    "by the last run.", st->days);
	gauge(b, "sessions", "TLS sessions aggregated by the last run.",
	    (long long)st->sessions);
	gauge(b, "reports_built", "Reports built by the last run.",
	    st->built);
	by_transport(b, "reports_delivered", "Report deliveries accepted in "
	    "the last run, by transport (a report to two rua counts twice).",
	    st->sent);
	by_transport(b, "reports_failed", "Report deliveries that failed in "
	    "the last run, by transport.", st->failed);
	gauge(b, "reports_given_up", "Reports given up by the last run "
	    "(no destination accepted them within 24 hours).", st->gaveup);
	gauge(b, "retries_pending", "Reports waiting for a retry after the "
	    "last run.", st->pending);
	gauge(b, "domains_without_rua", "Domains of the last run without a "
	    "usable TLSRPT record.", st->norua);
}

int
report_metrics_write(const char *path, const struct report_run_stats *st,
    time_t now, int rc, struct buf *why)
{
	struct buf	 b = BUF_INIT;
	char		*old;
	size_t		 n;
	int		 ret = 0;

	/* the file this run replaces: its time of the last success */
	old = fs_read_regular(path, 65536, &n, NULL);
	report_metrics_render(st, now, rc, old != NULL ?
	    report_metrics_last_success(old) : 0, &b);
	free(old);
	/* a file someone else reads: FS_SYNC_DATA, never torn */
	if (fs_write_atomic(path, buf_str(&b), b.b_len, 0644,
	    FS_SYNC_DATA) != 0) {
		buf_printf(why, "%s: %s", path, strerror(errno));
		ret = -1;
	}
	buf_free(&b);
	return ret;
}
