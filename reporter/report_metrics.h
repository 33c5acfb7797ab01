/*
 * report_metrics.h - a run's figures for Prometheus, in the text format
 * that node-exporter's textfile collector reads (report_metrics_file)
 *
 * Every series is a gauge describing the last run (they are replaced
 * as a whole each run, so none is a counter); README.md "Monitoring"
 * lists them.  last_success_timestamp_seconds is the end of the last
 * run that succeeded: it left nothing to do (exit EX_OK), or it left
 * retries pending (EX_TEMPFAIL) but delivered at least one report.  A
 * run that did not succeed (errors, or only failed or postponed
 * deliveries while some are pending) carries the time over
 * from the file it replaces, so the alert "reports not delivered for a
 * day" can fire while runs keep failing.
 */
#ifndef REPORT_METRICS_H
#define REPORT_METRICS_H

#include <time.h>

#include "buf.h"
#include "report_run.h"

/* report_metrics_succeeded - 1 if the run counts as a success */
int	report_metrics_succeeded(const struct report_run_stats *, int rc);
/* report_metrics_last_success - the time in an earlier file's text, 0 */
time_t	report_metrics_last_success(const char *text);
/* report_metrics_render - the file's text (pure) */
void	report_metrics_render(const struct report_run_stats *, time_t now,
	    int rc, time_t last_success, struct buf *out);
/* report_metrics_write - render and replace path atomically (mode
 * 0644: node-exporter reads it); 0, or -1 with a reason in why */
int	report_metrics_write(const char *path, const struct report_run_stats *,
	    time_t now, int rc, struct buf *why);

#endif
