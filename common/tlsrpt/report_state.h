/*
 * report_state.h - delivery state of one report, on disk
 *
 * SYNOPSIS
 *	report_state_load(path, &s, why);
 *	report_state_parse(text, len, &s, why);
 *	report_state_save(path, &s, why);
 *	report_state_format(&s, &text);
 *	report_state_failed(&d, now, reason);
 *
 * DESCRIPTION
 *	One state file per report (<state_dir>/reporter/<day>/<domain>.state)
 *	holds the report's identity and one line per destination (the
 *	state of each (report, destination) pair).  The gzipped report
 *	itself is stored next to it (<domain>.json.gz) before anything is
 *	sent, so every attempt, also after a crash, sends the same bytes
 *	and the same report-id.
 *
 *	report_state_save() replaces the file with fs_write_atomic() and
 *	FS_SYNC_FULL (tmp, fsync, rename, fsync of the directory): a crash
 *	leaves the old or the new state, never a mix, and a saved state
 *	survives one.
 *
 *	Retry (RPT-RETRY-1): after a failed attempt the next one is due
 *	after 5 minutes, doubling with each attempt (capped at 6 hours);
 *	the last attempt is made 24 hours after the first, and a
 *	destination that fails then is given up.
 *
 * OWNERSHIP
 *	Strings in a struct report_state are malloc'd and freed by
 *	report_state_clear().  Never logs.
 */
#ifndef REPORT_STATE_H
#define REPORT_STATE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "status.h"

#define REPORT_RETRY_FIRST	300
#define REPORT_RETRY_MAX	(6 * 3600)
#define REPORT_RETRY_WINDOW	86400		/* RPT-RETRY-1 */
#define REPORT_DEST_MAX		16

enum report_dest_st {
	DEST_PENDING = 0,
	DEST_DELIVERED,
	DEST_GAVEUP,		/* 24 h of failures, or a permanent error */
	DEST_UNSUPPORTED	/* neither mailto: nor https: (RPT-TXT-3) */
};

enum report_rua_st {
	RUA_ST_UNKNOWN = 0,	/* not looked up yet, or a lookup failed */
	RUA_ST_FOUND,
	RUA_ST_NONE,		/* no valid _smtp._tls record: no report */
	RUA_ST_GAVEUP		/* 24 h of DNS failures */
};

struct report_dest {
	char			*uri;
	enum report_dest_st	 st;
	int			 attempts;
	time_t			 first;		/* first attempt, 0 = none */
	time_t			 next;		/* next attempt due */
	time_t			 done;		/* delivered or given up */
	char			*last;		/* last error, "" if none */
};

struct report_state {
	char			 report_id[40];
	time_t			 built;
	unsigned long		 nsuccess, nfailure;
	enum report_rua_st	 rua;
	int			 lk_tries;
	time_t			 lk_first, lk_next;
	char			*lk_last;
	size_t			 ndest;
	struct report_dest	 dest[REPORT_DEST_MAX];
};

/* report_state_load - ST_OK, ST_NOTFOUND, ST_TEMPFAIL (cannot read),
 * ST_INVALID (no report-id) */
enum status	report_state_load(const char *path, struct report_state *,
		    struct buf *why);
/* report_state_parse - the same, from the file's text (no I/O) */
enum status	report_state_parse(const char *text, size_t len,
		    struct report_state *, struct buf *why);
/* report_state_format - the file's text (what report_state_parse reads) */
void		report_state_format(const struct report_state *, struct buf *);
enum status	report_state_save(const char *path,
		    const struct report_state *, struct buf *why);
void		report_state_clear(struct report_state *);
/* report_state_failed - record a failed attempt at now; 1 if given up */
int		report_state_failed(struct report_dest *, time_t now,
		    const char *reason, int permanent);
void		report_state_delivered(struct report_dest *, time_t now);
/* report_retry_next - when the next attempt is due, or 0: give up */
time_t		report_retry_next(int attempts, time_t first, time_t now);
/* report_state_final - every destination done (or no rua): 1 */
int		report_state_final(const struct report_state *);
/* report_state_delivered_any - some destination accepted it (RPT-TXT-10) */
int		report_state_delivered_any(const struct report_state *);
const char	*report_dest_st_str(enum report_dest_st);

#endif
