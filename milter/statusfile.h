/*
 * statusfile.h - <state_dir>/status.json: the running daemon's counters,
 * for "stsctl status"
 *
 * The daemon writes the file at start, every status_interval and at
 * stop (write to a temporary file, rename: a reader never sees half of
 * it).  One JSON object:
 *   {"pid","started","written","interval","stopped"(at stop only),
 *    "cache_entries","journal_errors",
 *    "gate":{"rcpts","deferred"},
 *    "policymap":{"requests","memo_hits","connections"},
 *    "tlsrpt":{"datagrams","records","invalid","dropped","lost",
 *              "unarchived","exim","exim_invalid"},
 *    "postfix_log":{"lines","smtp_lines","sessions","journaled"} (when
 *    followed)}
 * Times are seconds since the epoch.  Counters start at 0 with each
 * start of the daemon.
 */
#ifndef STATUSFILE_H
#define STATUSFILE_H

#include <time.h>

#include "collect.h"
#include "gate.h"
#include "logtail.h"
#include "policymap.h"

struct status_snap {
	long			 pid;
	time_t			 started, written;
	int			 interval;
	int			 stopped;
	unsigned long		 cache_entries, journal_errors;
	struct gate_stats	 gate;
	int			 have_pm;
	struct policymap_stats	 pm;
	struct collect_stats	 col;
	int			 have_lt;
	struct logtail_stats	 lt;
};

/* status_write - 0, or -1 with errno (the caller logs) */
int	status_write(const char *state_dir, const struct status_snap *);

#endif
