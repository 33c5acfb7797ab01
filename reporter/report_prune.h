/*
 * report_prune.h - the policy archive shrinks with the journal
 *
 * SYNOPSIS
 *	n = report_prune_policies(state_dir, now, min_age, &kept);
 *	d = report_prune_journal(state_dir, now, retention_days);
 *
 * DESCRIPTION
 *	The daemon stores every policy text it journals once, in
 *	<state_dir>/policies/<sha256>.txt (policy_archive.h), and records
 *	refer to it by hash; the reporter reads it back to build a report's
 *	policy-string.  Nothing else needs it.  So once the reporter has
 *	removed the journal days past journal_retention (report_run.h),
 *	a text no remaining journal file refers to is removed too, unless
 *	it was written less than min_age seconds before now (the daemon
 *	writes the text just before the first record that refers to it;
 *	the reporter passes journal_retention + 1 days).  Without this the
 *	archive grew by one file for every policy text ever seen (found by
 *	the soak test, tests/integration/t_soak.sh).
 *
 *	References are found by scanning each journal file for
 *	"phash":"<64 hex>" without parsing the records: a torn record can
 *	only keep a text longer, never remove one in use.  Files in
 *	policies/ not named <64 hex>.txt are left alone.
 *
 *	Left open: a text older than min_age that no kept journal names,
 *	which the daemon finds present just before it is removed and then
 *	names in a new record; that record is reported without its
 *	policy-string (as for any archive write failure).  It needs a
 *	policy unused for longer than journal_retention that comes back in
 *	the same instant the reporter prunes.
 *
 *	report_prune_journal() is the journal half for a fleet node
 *	(report_fleet.c), whose days are not reported from its own journal
 *	but from Redis: it removes the day files <YYYY-MM-DD>.jnl whose day
 *	ended journal_retention days before now or earlier (the same
 *	cutoff as single-host mode's, after which the shipper no longer
 *	ships a day either).  Anything else in the directory stays.
 *
 *	Never logs (the caller does).
 *
 * RETURNS
 *	report_prune_policies: the number of texts removed; *kept (if not
 *	NULL) the number left; -1 if the journal directory could not be
 *	read (nothing removed).  report_prune_journal: the number of day
 *	files removed; -1 if the directory could not be read.
 */
#ifndef REPORT_PRUNE_H
#define REPORT_PRUNE_H

#include <time.h>

int	report_prune_policies(const char *state_dir, time_t now,
	    time_t min_age, unsigned *kept);
int	report_prune_journal(const char *state_dir, time_t now,
	    int retention_days);

#endif
