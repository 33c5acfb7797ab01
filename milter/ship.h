/*
 * ship.h - ship every journal record of this node to the fleet's Redis
 *
 * SYNOPSIS
 *	struct ship *s = ship_new(&fc, state_dir);	(fleet mode only)
 *	ship_start(s);
 *	ship_stats(s, &st);
 *	ship_stop(s);
 *
 * DESCRIPTION
 *	One thread follows <state_dir>/journal/ (every day file within
 *	journal_retention, oldest first, whoever wrote it: the gate, the
 *	collectors, the log follower) and ships each good record, once, to
 *	<fleet_prefix>j:<day>:<node> with the rules and the script of
 *	fleet_ship.h: the position is Redis's, moved by the same script
 *	that appends, so kill -9 of the daemon, a restart of Redis with or
 *	without its data and an outage of any length (within retention)
 *	neither lose nor duplicate a record.  The mail path never waits
 *	for it: it only reads the files the journal writers append to.
 *
 *	It also declares closed days (<P>closed:<node>, fleet_ship_closed)
 *	and every 5 s writes <P>node:<node> {seen, started, version, pid,
 *	lag_bytes, lag_s} and adds the node to <P>nodes.
 *
 *	Redis down: the thread logs once (fleet_redis.h), counts, and
 *	tries again with back-off; its own trouble (a script error, Redis
 *	out of memory) is logged once until a batch ships again.  At stop
 *	it ships what is left for at most 2 s.
 */
#ifndef SHIP_H
#define SHIP_H

#include "fleet_conf.h"

struct ship;

struct ship_stats {
	unsigned long	records;	/* shipped */
	unsigned long	batches;	/* script calls that appended */
	unsigned long	bad;		/* journal lines not shipped: torn */
	unsigned long	refused;	/* Redis had another position */
	unsigned long	redis_errors;	/* failed calls (fleet_redis) */
	unsigned long	script_errors;	/* error answers */
	long long	lag_bytes;	/* journal bytes not shipped yet */
	long		lag_seconds;	/* since shipping last caught up */
	int		up;		/* Redis connected */
};

struct ship	*ship_new(const struct fleet_conf *, const char *state_dir);
int		 ship_start(struct ship *);
void		 ship_stats(struct ship *, struct ship_stats *);
/* ship_stop - stop the thread (after a last pass of at most 2 s), free */
void		 ship_stop(struct ship *);

#endif
