/*
 * logtail.h - follow Postfix's mail log and journal the TLS sessions of
 * its smtp(8) client (pflog.h), for Postfix before 3.10
 *
 * One thread reads the file named by postfix_log as it grows, like
 * "tail -F": a renamed (rotated) file is read to its end before the new
 * one is opened from its start, a truncated one is read again from its
 * start, a missing one is waited for.  Its position (inode and offset)
 * is kept in <state_dir>/postfix-log.pos, so a restart goes on where it
 * stopped; the first start begins at the end (history is not imported:
 * its sessions would be dated now).  Lines longer than 8 KB are skipped.
 *
 * Each session is journaled (src "postfix") with the policy the daemon
 * has cached for the recipient domain; a domain it does not know is
 * skipped.  Lines read while the daemon was down are dated when they
 * are read.  Do not combine with tlsrpt_socket for the same Postfix:
 * each session would be counted twice.
 */
#ifndef LOGTAIL_H
#define LOGTAIL_H

#include "buf.h"
#include "journal.h"
#include "sts_cache.h"

struct logtail;

struct logtail_stats {
	unsigned long	lines;		/* read */
	unsigned long	sessions;	/* complete, classified */
	unsigned long	journaled;
};

struct logtail	*logtail_new(const char *path, const char *state_dir,
		    struct sts_cache *);
int		 logtail_start(struct logtail *, struct journal *);
void		 logtail_stop(struct logtail *);
void		 logtail_stats(struct logtail *, struct logtail_stats *);
/* logtail_line - one line as the thread handles it (unit tests) */
void		 logtail_line(struct logtail *, const char *line, size_t len,
		    time_t now);

#endif
