/*
 * fleet_rpt.h - the fleet's report state in Redis: its keys, the
 * reporter lease with its fencing token, fenced writes, and reading it
 *
 * SYNOPSIS
 *	fleet_rpt_init(&fr, redis, budget_ms, prefix, node, lease_ms);
 *	fleet_rpt_lease_take(&fr, takeover, why);	1 held, 0 busy, -1
 *	fleet_rpt_fenced(&fr, why, "HSET", key, argc, argv, lens);
 *	fleet_rpt_lease_drop(&fr);
 *	r = fleet_rpt_do(&fr, why, "GET", key, NULL);	(a hiredis reply)
 *
 * DESCRIPTION
 *	Keys (P = fleet_prefix; the shipper's are in FLEET.md/README):
 *	  P lease		"<node> <token>", SET NX PX lease_ms: the one
 *				reporter that may send (renewed while it works)
 *	  P fence		INCR'd by every new lease: the fencing token
 *	  P rpt:days		set of days that have report state
 *	  P rpt:<day>		hash: built, final, missing (nodes that had
 *				not closed the day when the grace ran out),
 *				upto:<node> (records of the node's list
 *				taken into the reports), gone:<node>
 *				(records removed from the list once the
 *				day was built), late:<node> (records after
 *				upto, logged)
 *	  P rpt:<day>:domains	set of the day's report domains
 *	  P rpt:<day>:<domain>	hash: id, gz (the gzipped report, sent byte
 *				for byte), built, state (report_state text)
 *	  P rpt:<day>:done	every report of the day is built: records
 *				shipped later are late (counted, not reported)
 *
 *	Every write of report state is fleet_rpt_fenced(): one Lua script
 *	that runs the command only if the caller's token is still the
 *	current GET P fence, so a reporter that lost its lease (stopped,
 *	paused past lease_ms) can never overwrite what its successor wrote
 *	(FR_FENCED).  fleet_rpt_lease_take() with takeover set also takes a
 *	lease held under this node's own name: the caller holds the node's
 *	local lock, so that holder is dead (killed mid-run).
 *
 *	Not thread-safe: one struct fleet_rpt per thread.  Never logs.
 */
#ifndef FLEET_RPT_H
#define FLEET_RPT_H

#include <stddef.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "fleet_redis.h"

#define FLEET_KEY_MAX	600

enum fleet_rpt_rc {
	FR_OK = 0,
	FR_FENCED,		/* our token is stale: another reporter leads */
	FR_ERR			/* Redis error or unreachable */
};

struct fleet_rpt {
	struct fleet_redis *r;
	int		 budget_ms;	/* per command; 0: fleet_timeout */
	char		 prefix[72];
	char		 node[256];
	long		 lease_ms;
	long long	 token;		/* 0: no lease */
	char		 lease_val[300];
};

void		 fleet_rpt_init(struct fleet_rpt *, struct fleet_redis *,
		    int budget_ms, const char *prefix, const char *node,
		    long lease_ms);
/* fleet_rpt_key - prefix + printf(fmt) into k (FLEET_KEY_MAX) */
char		*fleet_rpt_key(const struct fleet_rpt *, char *k,
		    const char *fmt, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
/* fleet_rpt_do - one command of string arguments (a NULL ends them);
 * NULL with why on a connection error or an error reply.  Free the
 * reply with fleet_reply_free(). */
redisReply	*fleet_rpt_do(struct fleet_rpt *, struct buf *why,
		    const char *cmd, ...) __attribute__((__sentinel__));
redisReply	*fleet_rpt_argv(struct fleet_rpt *, struct buf *why,
		    int argc, const char **argv, const size_t *lens);

/* lease: 1 taken (fr->token set), 0 held by another (why: by whom), -1 */
int		 fleet_rpt_lease_take(struct fleet_rpt *, int takeover,
		    struct buf *why);
/* fleet_rpt_lease_renew - FR_OK, FR_FENCED (lost), FR_ERR */
enum fleet_rpt_rc fleet_rpt_lease_renew(struct fleet_rpt *, struct buf *why);
void		 fleet_rpt_lease_drop(struct fleet_rpt *);

/* fleet_rpt_fenced - cmd key args... if our token is current */
enum fleet_rpt_rc fleet_rpt_fenced(struct fleet_rpt *, struct buf *why,
		    const char *cmd, const char *key, int argc,
		    const char **argv, const size_t *lens);
/*
 * fleet_rpt_store - store a built report (id, gz, built, state) and name
 * it in P rpt:<day>:domains and the day in P rpt:days, unless the report
 * is stored already (a report is never rebuilt: a resend is byte for
 * byte the same).  1 stored, 0 was there, FR_FENCED/FR_ERR as -1/-2.
 */
int		 fleet_rpt_store(struct fleet_rpt *, struct buf *why,
		    const char *day, const char *domain, const char *id,
		    const void *gz, size_t gzlen, time_t built,
		    const char *state);

/*
 * fleet_rpt_drop_list - once a day's reports are built its records are
 * not needed in Redis (every node keeps its journal): P j:<day>:<node>
 * is removed and its length added to gone:<node> in one fenced script.
 * Returns gone:<node> (all records of the node's day removed so far),
 * -1 (fenced) or -2 (Redis error).
 */
long long	 fleet_rpt_drop_list(struct fleet_rpt *, struct buf *why,
		    const char *day, const char *node);
/* fleet_rpt_shipped - records node shipped for day: gone + LLEN */
long long	 fleet_rpt_shipped(struct fleet_rpt *, const char *day,
		    const char *node);

/* reading (stsctl and the reporter) */
/* fleet_rpt_strings - an array reply's strings (SMEMBERS...), sorted */
size_t		 fleet_rpt_strings(redisReply *, char ***out);
void		 fleet_rpt_strings_free(char **, size_t);
/* fleet_rpt_dedup - sort malloc'd strings, free duplicates; new count */
size_t		 fleet_rpt_dedup(char **, size_t);
/* fleet_rpt_hget_ll - an integer field of a hash; def if absent */
long long	 fleet_rpt_hget_ll(struct fleet_rpt *, const char *key,
		    const char *field, long long def);

#endif
