/*
 * report_run.h - one run of tlsrpt-reporter: days, reports, deliveries
 *
 * SYNOPSIS
 *	rc = report_run(&opts, ctx, sender, &stats);
 *
 * DESCRIPTION
 *	Without opts.day, every finished UTC day (before today, by the
 *	clock or report_clock) that has a journal file and is not done yet
 *	is reported, oldest first, so an outage of several days is caught
 *	up; with opts.day, that day only.  For each day:
 *
 *	1. Build.  Unless the day was built before, the journal is
 *	   aggregated (report_agg) and each domain's report is built and
 *	   stored gzipped as <state_dir>/reporter/<day>/<domain>.json.gz
 *	   together with its state file, before anything is sent.  A
 *	   report stored by an earlier (maybe crashed) run is never rebuilt,
 *	   so a resend carries the same bytes and report-id.
 *	2. rua.  At the first attempt, _smtp._tls.<domain> is looked up
 *	   (RPT-TXT-1, RPT-TXT-6 through tlsrpt_txt_select); no valid
 *	   record: no report (counted); DNS failure: retried later.
 *	3. Deliver to every supported rua (RPT-TXT-10): mailto as a
 *	   DKIM-signed mail over SMTP, https as a POST.  Each outcome is
 *	   written to the state file at once.  Failures are retried by
 *	   later runs with exponential back-off for 24 hours
 *	   (RPT-RETRY-1), then given up and logged.
 *	4. A day whose reports are all final is marked done; journal files
 *	   and reporter state of done days older than journal_retention
 *	   days are removed.  Days not done are never removed.  Then the
 *	   policy texts no remaining journal names are removed from the
 *	   archive (report_prune.h).
 *
 *	A lock file (flock) makes a second concurrent run exit at once
 *	with EX_TEMPFAIL.  --dry-run takes no lock, writes nothing and
 *	prints each report's JSON and complete MIME message to opts.out.
 *
 *	This is the module that logs: one line per delivery outcome and
 *	one summary line per run.
 *
 * RETURNS
 *	A sysexits.h code: EX_OK when nothing is left to do; EX_TEMPFAIL
 *	when deliveries are pending a retry (or the lock is held);
 *	EX_DATAERR for a bad --day; EX_CANTCREAT or EX_IOERR when the
 *	state cannot be written; EX_SOFTWARE for internal errors.
 */
#ifndef REPORT_RUN_H
#define REPORT_RUN_H

#include <stdio.h>
#include <time.h>

#include "report_make.h"
#include "report_send.h"
#include "report_state.h"

struct report_run_opts {
	const char	*day;		/* NULL: catch up */
	const char	*only_domain;	/* NULL: all */
	int		 dry_run;
	const char	*dry_to;	/* dry-run: To instead of the rua */
	FILE		*out;		/* dry-run output */
	int		 progress;	/* for a person: progress and a
					 * table of the days on out */
	time_t		 now;
};

struct report_run_stats {
	unsigned	days;
	unsigned	built;		/* reports built this run */
	unsigned	delivered;	/* reports delivered (this run) */
	unsigned	pending;	/* reports waiting for a retry */
	unsigned	gaveup;		/* reports given up this run */
	unsigned	norua;		/* domains without a TLSRPT record */
	unsigned	sends_ok, sends_failed;
	/* the same by transport: [0] mailto (SMTP), [1] https */
	unsigned	sent[2], failed[2];
	unsigned long	records, sessions, own_reports, bad;
	unsigned	removed_days;
	unsigned	waiting;	/* fleet: days waiting for nodes */
	unsigned long	late;		/* fleet: records after the build */
	unsigned	pruned_policies; /* archived texts removed with them */
	int		ran;		/* the run took the lock and went on */
};

int	report_run(const struct report_run_opts *, struct report_make_ctx *,
	    struct report_send *, struct report_run_stats *);
/*
 * report_run_table - with opts.progress, the run prints one row per day
 * as it finishes the day, under a header, and the caller ends the table
 * with this total row (st: the whole run's figures)
 */
void	report_run_table(FILE *, const char *label,
	    const struct report_run_stats *st);
/*
 * The steps the fleet reporter (report_fleet.h) shares with this one:
 * report_run_rua() looks up the domain's rua into s (RPT-TXT-1,
 * RPT-TXT-6): its destinations, a retry time, or none (*norua counts
 * it); it logs.  report_run_send() makes one delivery of m to d (mailto
 * as a DKIM-signed mail, https as a POST, RPT-TXT-10) and changes no
 * state.  report_run_log_dest() logs one delivery outcome.
 * report_run_dry_print() prints a report as --dry-run shows it.
 * report_run_outcome() counts (and logs a give-up of) a report after its
 * deliveries; 1 if it is final.
 */
void	report_run_rua(struct report_send *, time_t now, const char *day,
	    const char *domain, struct report_state *, unsigned *norua);
enum status report_run_send(const struct report_make_ctx *,
	    struct report_send *, const struct report_made *,
	    const struct report_dest *, time_t now, struct buf *why);
void	report_run_dry_print(const struct report_run_opts *,
	    const struct report_make_ctx *, struct report_send *,
	    const struct report_made *);
int	report_run_outcome(struct report_run_stats *, const char *day,
	    const char *domain, int was_delivered,
	    const struct report_state *);
void	report_run_log_dest(const char *day, const char *domain,
	    const struct report_state *, const struct report_dest *,
	    const char *result);
/* report_run_rc - the exit status of a run that had have and meets rc:
 * errors outrank EX_TEMPFAIL ("retry later"), which outranks EX_OK */
int	report_run_rc(int have, int rc);
/* report_run_lock - one run per host: rdir/name created and flock()ed
 * (rdir made first); the fd to keep open for the run, or -1 with *rc
 * raised (EX_CANTCREAT; EX_TEMPFAIL when another run holds it) and the
 * reason logged */
int	report_run_lock(const char *rdir, const char *name, int *rc);
/* report_run_count - a day's aggregate into the run's figures (bad:
 * records the caller could not decode) */
void	report_run_count(struct report_run_stats *, const struct report_agg *,
	    unsigned long bad);
/* report_run_domains - a day's aggregate counted into st (bad: records
 * the caller could not decode), its domains (*doms, sorted, owned by
 * agg) with their policy texts attached to x; texts that could not be
 * found are logged, "<who>day=<day>: N policy texts missing <where>" */
size_t	report_run_domains(struct report_run_stats *, struct report_make_ctx *,
	    struct report_agg *, unsigned long bad, const char *who,
	    const char *day, const char *where, struct report_domain ***doms);
/* report_run_state_new - the state of a report just built (m), before
 * any delivery */
void	report_run_state_new(struct report_state *, const struct report_made *,
	    time_t now);
/* report_run_rmdir - dir's files, then dir (a day's state) */
void	report_run_rmdir(const char *dir);
/* report_run_prune_archive - after journal days were removed: the
 * archived policy texts no kept day names (report_prune.h), logged and
 * counted in st->pruned_policies */
void	report_run_prune_archive(const struct conf *, time_t now,
	    struct report_run_stats *st);
/* report_run_now - report_clock if set (YYYY-MM-DDTHH:MM:SSZ), else clock */
int	report_run_now(const struct conf *, time_t *);

#endif
