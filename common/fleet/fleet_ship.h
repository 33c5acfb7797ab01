/*
 * fleet_ship.h - the journal shipper's rules and its Redis script
 *
 * The pure half of the shipper (milter/ship.c runs the thread): the Lua
 * script that appends a batch and moves the position in one step, the
 * keys' expiry, and which UTC day a node may declare closed.
 *
 * Exactly once.  <P>pos:<node> is a hash: UTC day -> byte offset in the
 * node's <state_dir>/journal/<day>.jnl up to which every good record is
 * in the list <P>j:<day>:<node> (journal_fmt lines without the newline,
 * in journal order).  FLEET_SHIP_SCRIPT appends a batch only if the
 * caller's expected offset equals the stored one (a missing field is 0)
 * and then stores the new offset, atomically: a shipper that died after
 * Redis ran the script but before it read the answer, or a Redis that
 * restarted from older data (or none), answers the offset it really
 * has, and the shipper reads its file again from there.  So no record
 * is lost (the local journal is the truth, re-read from Redis's
 * position) and none is appended twice (the offset check).
 *
 * Policy texts ride in the same script: a batch passes the
 * <P>ptext:<hash> keys and texts (SET NX, with the day's expiry) of the
 * policies its records name that the shipper has not sent with this
 * expiry or a later one since it last (re)connected to Redis, and the
 * script moves each one's expiry to the day's if that is later
 * (EXPIREAT GT).  So a text is in Redis before, or with, the first
 * record that names it, and lives as long as the last day naming it.
 * What the shipper remembers is forgotten at every new connection and
 * every refused batch (Redis is not what it thought: restarted, rolled
 * back, flushed).  Redis must not evict keys (maxmemory-policy
 * noeviction, Redis's default): an evicted text, list or position would
 * go unnoticed.
 *
 * Per day also: <P>day:<day>:nodes (the nodes that shipped records of
 * the day), and when <P>rpt:<day>:done exists (the fleet reporter has
 * reported the day) each record is counted in the hash <P>late:<day>
 * by domain.  Every key of a day expires at fleet_ship_expire_at();
 * policy texts at least as late as any day that names them.
 * <P>node:<node> gets shipped (count), last_day, last_off, last_time
 * (time of the last shipped record), seen.
 */
#ifndef FLEET_SHIP_H
#define FLEET_SHIP_H

#include <stddef.h>
#include <time.h>

/* the script's keys and arguments, in order */
enum {
	FSK_POS = 1, FSK_LIST, FSK_NODE, FSK_DAYNODES, FSK_LATE, FSK_DONE,
	FSK_NFIXED = FSK_DONE		/* then ntext <P>ptext:<hash> keys */
};
enum {
	FSA_DAY = 1, FSA_EXPECT, FSA_NEWOFF, FSA_NODE, FSA_EXPIREAT, FSA_NOW,
	FSA_LASTTIME, FSA_NTEXT,
	FSA_NFIXED = FSA_NTEXT		/* then ntext texts ("": not in the
					 * archive), then the records */
};

/* the script's answer: { code, offset } */
#define FLEET_SHIP_REFUSED	0	/* offset: what Redis has */
#define FLEET_SHIP_DONE		1	/* offset: the new one */

extern const char FLEET_SHIP_SCRIPT[];
/* KEYS[1] <P>closed:<node>, ARGV[1] day: moves the watermark forward only */
extern const char FLEET_CLOSE_SCRIPT[];

/* one local day file, as the shipper sees it */
struct fleet_ship_day {
	char		day[11];	/* YYYY-MM-DD */
	long long	off;		/* shipped up to (Redis's) */
	long long	size;		/* of the file */
	int		torn;		/* the rest has no newline (yet) */
};

/* fleet_ship_expire_at - when the keys of day expire: its end plus
 * retention_days + 2 (the shipper ships only days within retention) */
time_t	fleet_ship_expire_at(const char *day, int retention_days);

/*
 * fleet_ship_closed - the latest UTC day the node may declare closed:
 * over for close_delay seconds and, like every earlier day in days[]
 * (sorted), shipped to its end (or to a torn tail).  Writes it to out
 * and returns 1, or 0 if there is none.
 */
int	fleet_ship_closed(time_t now, int close_delay,
	    const struct fleet_ship_day *days, size_t n, char out[11]);

/* fleet_ship_day_name - 1 if name is "YYYY-MM-DD.jnl"; day set */
int	fleet_ship_day_name(const char *name, char day[11]);

#endif
