/*
 * statedir.h - every path under state_dir, and the layout in one place
 *
 * <state_dir>/                 (state_dir in sts-milter.conf; owned by
 *                               the daemon's user, mode 0750)
 *   cache/<domain>             the policy cache (sts_cache.c): one file
 *                              per domain, "sts-milter-cache 1" header,
 *                              id, fetched, checked[, failed], length,
 *                              blank line, the policy text.  Replaced
 *                              atomically (FS_SYNC_DATA).
 *   journal/YYYY-MM-DD.jnl     the journal (journal.h, journal_fmt.h):
 *                              one record per line, appended with one
 *                              write(2) each; one file per UTC day.
 *   policies/<sha256>.txt      the policy archive (policy_archive.h):
 *                              every policy text journaled, written
 *                              once (FS_SYNC_DATA), named by its hash.
 *   reporter/                  the reporter's (report_run.c):
 *     lock                       one reporter run at a time (flock)
 *     YYYY-MM-DD/                one directory per reported day:
 *       <domain>.json.gz           the report, stored before any send
 *       <domain>.state             its delivery state (report_state.h,
 *                                  FS_SYNC_FULL)
 *       .built, .done              every report built / all final
 *   status.json                the daemon's counters (statusfile.h),
 *                              every status_interval (FS_SYNC_NONE)
 *   postfix-log.pos            where the Postfix log follower stopped
 *                              (logtail.c; FS_SYNC_NONE)
 *   tlsrpt-quarantine          libtlsrpt datagrams that did not parse,
 *                              JSON lines, capped (collect.c)
 *   requests/                  requests to the running daemon
 *                              (ctlreq.h): <id>.req, answered by <id>.rep
 *
 * Not under state_dir: the pid file (pid_file, e.g. /run), the sockets.
 *
 * Each function returns a malloc'd path; the caller frees it.  Nothing
 * here touches the file system.
 */
#ifndef STATEDIR_H
#define STATEDIR_H

/* the directories the daemon creates and owns, NULL-terminated; "" is
 * state_dir itself */
extern const char *const statedir_dirs[];

char	*statedir_cache(const char *state_dir);
char	*statedir_journal(const char *state_dir);
char	*statedir_journal_day(const char *state_dir, const char *day);
char	*statedir_policies(const char *state_dir);
char	*statedir_policy(const char *state_dir, const char *hash);
char	*statedir_reporter(const char *state_dir);
char	*statedir_status(const char *state_dir);
char	*statedir_logpos(const char *state_dir);
char	*statedir_quarantine(const char *state_dir);
char	*statedir_requests(const char *state_dir);

#endif
