/*
 * fleet_batch.h - cut the next batch of journal lines to ship
 *
 * SYNOPSIS
 *	struct fleet_batch b;
 *	n = pread(fd, buf, FLEET_READ_MAX, offset);
 *	fleet_batch_cut(&b, buf, n, n == FLEET_READ_MAX);
 *	ship b.line[0..b.n) and move the position to offset + b.used
 *
 * DESCRIPTION
 *	The journal shipper (milter/ship.c) reads a day file from the
 *	position Redis has for it and ships whole records only:
 *	fleet_batch_cut() takes complete lines (up to a newline) from buf,
 *	at most FLEET_BATCH_MAX good ones, and stops before a record whose
 *	policy hash would make more than FLEET_BATCH_HASHES distinct ones.
 *	A line that journal_decode() rejects (torn by a crash, corrupt,
 *	overlong) is consumed and counted in bad, never shipped: readers
 *	would skip it anyway.  An unterminated tail is left for the next
 *	read (a writer may be in the middle of it) unless full says the
 *	buffer was filled: then a buffer without any newline is consumed
 *	whole as one bad line, so a corrupt file cannot stop the shipper.
 *
 *	b.line[i] points into buf (without the newline); b.used is the
 *	number of bytes consumed, which is where the position moves.
 *	b.hash lists the distinct non-empty phash values of the batch (the
 *	policy texts to ship with it); b.last_time is the time of its last
 *	good record.  Pure; unit-tested in tests/unit/test_fleet_batch.c.
 */
#ifndef FLEET_BATCH_H
#define FLEET_BATCH_H

#include <stddef.h>
#include <time.h>

#define FLEET_BATCH_MAX		1000
#define FLEET_BATCH_HASHES	256
#define FLEET_READ_MAX		(1024 * 1024)

struct fleet_batch {
	size_t		 n;			/* good lines */
	const char	*line[FLEET_BATCH_MAX];
	size_t		 len[FLEET_BATCH_MAX];
	size_t		 used;			/* bytes consumed */
	unsigned long	 bad;			/* lines skipped */
	size_t		 nhash;
	char		 hash[FLEET_BATCH_HASHES][65];
	unsigned long long hkey[FLEET_BATCH_HASHES];	/* first 8 bytes */
	time_t		 last_time;
};

void	fleet_batch_cut(struct fleet_batch *b, const char *buf, size_t len,
	    int full);

#endif
