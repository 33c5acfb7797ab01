/*
 * journal.h - the append-only journal of TLS outcomes and deferrals
 *
 * <dir>/YYYY-MM-DD.jnl, one file per UTC day of the record's time, one
 * record per line (journal_fmt.h).  journal_append() writes a record
 * with a single write(2) on an O_APPEND descriptor, so threads and
 * processes can append at once without interleaving.  It never blocks
 * mail: on failure it returns -1 (errno set), counts the failure and
 * logs it (the first, then at most once a minute with the count, and
 * when writes succeed again); nothing is retried in the mail path.
 *
 * Records name a policy by the hash of its text; the texts are kept by
 * policy_archive.h.
 *
 * Thread safety: a struct journal may be shared by all threads.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stddef.h>

#include "buf.h"
#include "journal_fmt.h"

struct journal;

struct journal_stats {
	unsigned long	records;	/* good records passed to the callback */
	unsigned long	bad;		/* torn, corrupt or unparsable lines */
};

struct journal	*journal_open(const char *state_dir, struct buf *why);
void		 journal_close(struct journal *);
int		 journal_append(struct journal *, const struct journal_rec *);
unsigned long	 journal_errors(const struct journal *);
const char	*journal_dir(const struct journal *);

/*
 * journal_read_day - call fn for every good record of one UTC day
 * ("YYYY-MM-DD") in <state_dir>/journal; a non-zero return from fn
 * stops.  Returns -1 if the file cannot be read (ENOENT: no records).
 */
int		 journal_read_day(const char *state_dir, const char *day,
		    int (*fn)(void *, const struct journal_rec *), void *arg,
		    struct journal_stats *);

#endif
