/*
 * logtail.h - follow Postfix's mail log and journal the TLS sessions of
 * its smtp(8) client (pflog.h), for Postfix before 3.10
 *
 * One thread reads the file named by postfix_log as it grows, like
 * "tail -F": a renamed (rotated) file is still read for a few seconds
 * while the new one is read from its start, a truncated one (also one
 * truncated and written again: copytruncate) is read again from its
 * start, a missing one is waited for, one that is not a regular file
 * is refused.  Its position (device, inode, offset of the last whole
 * line, a signature of the file's first bytes) is kept in
 * <state_dir>/postfix-log.pos after every chunk read, so a restart goes
 * on where it stopped and a crash re-reads one chunk (64 KB) at most;
 * the first start begins at the end (history is not imported: its
 * sessions would be dated now).  Lines longer than 8 KB are skipped.
 * For a domain with a policy, a session with a host outside the
 * policy's MX patterns (a relayhost, a transport_maps next hop) is not
 * journaled; behind a relayhost, no-policy domains would be credited
 * with the relay's TLS: use postfix_log only where Postfix delivers
 * directly.  The log is trusted like Postfix itself: whoever can write
 * to it (syslog) can invent sessions.
 *
 * Lines may have BSD (RFC 3164), RFC 3339 or RFC 5424 headers (pflog.h),
 * also mixed; the lines of each format are counted (stsctl status
 * shows them, and names the format of most lines).
 *
 * Each session is journaled (src "postfix") with the policy the daemon
 * has cached for the recipient domain (in memory, or in the state
 * directory: after a restart a policy not looked up yet is read from
 * there); a domain it does not know is skipped.  Lines read while the daemon was down are dated when they
 * are read.  Do not combine with tlsrpt_socket for the same Postfix:
 * each session would be counted twice.
 */
#ifndef LOGTAIL_H
#define LOGTAIL_H

#include "buf.h"
#include "journal.h"
#include "pflog.h"
#include "sts_cache.h"

struct logtail;

struct logtail_stats {
	unsigned long	lines;		/* read */
	unsigned long	recognised;	/* of them from Postfix's smtp(8) */
	unsigned long	sessions;	/* complete, classified */
	unsigned long	journaled;
	unsigned long	formats[PFF_MAX];	/* lines per header format */
};

struct logtail	*logtail_new(const char *path, const char *state_dir,
		    struct sts_cache *);
int		 logtail_start(struct logtail *, struct journal *);
/* logtail_drain - stop following (what is in the file is read first);
 * the counts stay readable until logtail_stop() frees it */
void		 logtail_drain(struct logtail *);
void		 logtail_stop(struct logtail *);
void		 logtail_stats(struct logtail *, struct logtail_stats *);
/* logtail_line - one line as the thread handles it (unit tests) */
void		 logtail_line(struct logtail *, const char *line, size_t len,
		    time_t now);

#endif
