/*
 * report_fleet.h - one run of tlsrpt-reporter in fleet mode: one report
 * per policy domain per day for all nodes, from Redis
 *
 * SYNOPSIS
 *	rc = report_fleet_run(&opts, &fc, redis, ctx, sender, &stats);
 *	(redis: a fleet_redis.h connection)
 *
 * DESCRIPTION
 *	The nodes ship their journal records to Redis (P j:<day>:<node>,
 *	journal_fmt lines; FLEET.md, README "Running a fleet"); this run
 *	turns them into the reports, with the same report_agg, report_make
 *	and delivery steps as report_run.h.  For every finished UTC day
 *	that some node shipped (P day:<day>:nodes) or that has report state
 *	(fleet_rpt.h):
 *
 *	1. Wait.  Every node that shipped that day must declare it closed
 *	   (P closed:<node> >= day).  Until then the day waits, for
 *	   fleet_report_grace after its end; after that it is reported
 *	   anyway and the missing nodes are logged (and kept in P rpt:<day>
 *	   field missing).
 *	2. Build.  How many records of each node's list go into the
 *	   reports is fixed first (P rpt:<day> upto:<node>, written once),
 *	   so a rerun after a crash aggregates exactly the same records.
 *	   All nodes' records are aggregated together: counts summed over
 *	   nodes, failure details keep each node's sending-mta-ip.  Each
 *	   domain's report is stored (id, gzip bytes, state) before
 *	   anything is sent and never rebuilt; then P rpt:<day>:done.
 *	3. Deliver as report_run.h does; every state change is a fenced
 *	   write, and a local mirror (<state_dir>/reporter/fleet/<day>/)
 *	   keeps each report that reached a destination, so a Redis that
 *	   lost its data does not cause a resend (the mirror's bytes and
 *	   state are put back instead of a new build).
 *	4. Late records: a node's records beyond upto:<node> (shipped after
 *	   the day was built) are counted and logged once per new batch
 *	   (P rpt:<day> late:<node>); they are never added to a report that
 *	   was built, so nothing is sent twice.
 *
 *	Only the holder of the lease sends (fleet_rpt.h): a second reporter
 *	started at once exits with EX_TEMPFAIL and does nothing; a run whose
 *	lease was lost stops at its next fenced write.
 *
 * RETURNS
 *	A sysexits.h code as report_run(): EX_TEMPFAIL also while a day
 *	waits for its nodes, when Redis is unreachable or the lease is held.
 */
#ifndef REPORT_FLEET_H
#define REPORT_FLEET_H

#include <time.h>

#include "report_agg.h"
#include "report_run.h"

struct fleet_redis;
struct fleet_rpt;

/* the lease: longer than one delivery (SMTP and HTTPS time out well
 * before), renewed before each */
#define REPORT_FLEET_LEASE_MS	(5 * 60 * 1000)

struct report_fleet_conf {
	const char	*prefix;	/* fleet_prefix */
	const char	*node;		/* fleet_node */
	long		 grace;		/* fleet_report_grace, seconds */
	long		 lease_ms;	/* the reporter lease */
	int		 budget_ms;	/* per Redis command */
};

enum report_fleet_ready {
	FLEET_DAY_READY = 0,	/* every node closed the day */
	FLEET_DAY_WAIT,		/* some have not; within the grace time */
	FLEET_DAY_OVERDUE	/* some have not, grace is over: report */
};

/*
 * report_fleet_ready - pure: may day (YYYY-MM-DD, over at now) be
 * reported?  closed[i]: the day node i last declared closed ("" none);
 * missing gets the names of the nodes that have not closed day.
 */
enum report_fleet_ready report_fleet_ready(const char *day, time_t now,
	    long grace, size_t n, char *const *nodes,
	    char *const *closed, struct buf *missing);

/*
 * report_fleet_aggregate - every record of the nodes' lists of day, the
 * first upto[i] of node i, into agg (LRANGE in pipelined chunks, so
 * memory stays bounded whatever the day's size).  0, or -1 with why.
 * bad counts lines that fail journal_decode (skipped).
 */
int	report_fleet_aggregate(struct fleet_rpt *, const char *day, size_t n,
	    char *const *nodes, const long long *upto, struct report_agg *,
	    unsigned long *bad, struct buf *why);

int	report_fleet_run(const struct report_run_opts *,
	    const struct report_fleet_conf *, struct fleet_redis *,
	    struct report_make_ctx *, struct report_send *,
	    struct report_run_stats *);

#endif
