/*
 * statusfile.h - <state_dir>/status.json: the running daemon's counters,
 * written by sts-milter, read by "stsctl status"
 *
 * SYNOPSIS
 *	statusfile_write(state_dir, &head, groups, ngroups);
 *	statusfile_read(state_dir, now, &info, &json);
 *	statusfile_judge(&info, now, pid_alive);
 *
 * DESCRIPTION
 *	The daemon writes the file at start, every status_interval and at
 *	stop (fs_write_atomic, FS_SYNC_NONE: a reader never sees half of
 *	it; a crash may lose it, and the next interval writes it again).
 *	One JSON object:
 *	  {"pid","started","written","interval","stopped"(at stop only),
 *	   <the top-level counters>, <one object per named group>}
 *	Today's daemon (milter/main.c) writes the counters
 *	  "cache_entries","journal_errors",
 *	  "gate":{"rcpts","deferred"},
 *	  "policymap":{"requests","memo_hits","connections"} (when on),
 *	  "tlsrpt":{"datagrams","records","invalid","dropped","lost",
 *	            "unarchived","exim","exim_invalid"},
 *	  "postfix_log":{"lines","smtp_lines","sessions","journaled",
 *	  "lines_bsd","lines_rfc3339","lines_rfc5424","lines_other"}
 *	  (when followed; lines per header format, pflog.h).
 *	This module knows none of them: the writer passes its counters as
 *	groups of (key, value), in the order they are to appear.  Times are
 *	seconds since the epoch; counters start at 0 with each start.
 *
 *	statusfile_read() parses the file and judges it: "running" is the
 *	pid alive (kill(pid, 0)), the file not older than three intervals
 *	and not written at stop; "age" is seconds since it was written.
 *	json gets the object with those two fields added.
 *	statusfile_judge() is that judgement, without the kill(2).
 *
 *	Never logs.
 */
#ifndef STATUSFILE_H
#define STATUSFILE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "status.h"

struct statusfile_head {
	long		 pid;
	time_t		 started, written;
	int		 interval;
	int		 stopped;	/* written at stop */
};

struct statusfile_counter {
	const char	*key;
	unsigned long	 value;
};

/* a group: "name":{counters}, or the counters at the top (name NULL) */
struct statusfile_group {
	const char			*name;
	const struct statusfile_counter	*c;
	size_t				 n;
};

struct statusfile_info {
	long		 pid;
	time_t		 written;
	int		 interval;
	time_t		 stopped;	/* -1: not written at stop */
	long long	 age;
	int		 running;
};

/* statusfile_write - 0, or -1 with errno (the caller logs) */
int		statusfile_write(const char *state_dir,
		    const struct statusfile_head *,
		    const struct statusfile_group *, size_t ngroups);
/*
 * statusfile_read - ST_OK; ST_NOTFOUND no file; ST_INVALID not a status
 * object; ST_INTERNAL cannot read it (errno set)
 */
enum status	statusfile_read(const char *state_dir, time_t now,
		    struct statusfile_info *, struct buf *json);
void		statusfile_judge(struct statusfile_info *, time_t now,
		    int pid_alive);

#endif
