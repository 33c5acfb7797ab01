/*
 * pflog.h - TLS sessions from Postfix's smtp(8) log lines, for Postfix
 * versions without TLS-RPT (before 3.10; Debian 12 has 3.7)
 *
 * Postfix 3.7 logs, with smtp_tls_loglevel >= 1, per SMTP connection:
 *	[server ]certificate verification failed for H[IP]:P: REASON
 *	(Verified|Trusted|Untrusted|Anonymous) TLS connection established
 *	    to H[IP]:P: ...
 * and per recipient:
 *	QID: to=<R@D>, relay=H[IP]:P, ..., status=S (TEXT)
 * all from the same smtp process (program "postfix/smtp", or
 * "postfix-INSTANCE/smtp", with its pid).  The TLS lines come first;
 * the first delivery line of the same process and the same H[IP] names
 * the recipient domain, so it closes the session; any other delivery
 * line of that process (relay=none, an address literal) ends what was
 * pending unreported.  A connection that is
 * reused for another message logs no TLS line and is not a new session
 * (as in Postfix's own TLS-RPT).  "TLS is required, but was not offered
 * by host H[IP]" in a delivery line is a session without STARTTLS.
 *
 * Log line formats (pflog_line sets fmt from the line's header):
 *   PFF_BSD	  "Dec  6 05:05:33 HOST TAG[PID]: MSG" (RFC 3164, as syslog
 *		  and Postfix's maillog_file write it; a fraction of a
 *		  second after the seconds is allowed);
 *   PFF_RFC3339  "2026-12-06T05:05:33.123456+00:00 HOST TAG[PID]: MSG"
 *		  (rsyslog's RSYSLOG_FileFormat, the default on current
 *		  Ubuntu; also "Z" or "+0000" as the offset);
 *   PFF_RFC5424  "<22>1 2026-12-06T05:05:33.123456+00:00 HOST TAG PID
 *		  MSGID SD MSG" (RFC 5424 section 6: TAG is the APP-NAME,
 *		  PID the PROCID, structured data "-" or [elements], an
 *		  optional BOM before MSG);
 *   PFF_OTHER	  any other header (journalctl's short format, ...): the
 *		  "TAG[PID]: " of BSD and RFC 3339 lines is looked for as
 *		  in those.
 *
 * Pure: no I/O, no clock.  pflog_line() parses one line;
 * pflog_feed() folds it into a struct pflog (a bounded table of smtp
 * processes) and says when a session is complete.
 *
 * Classification (pflog_classify), given what the daemon knows of the
 * recipient domain:
 *   an MTA-STS policy: Verified -> success; a verification failure
 *	logged -> its type (expired, hostname mismatch, untrusted issuer
 *	or self-signed -> not-trusted, else validation-failure with the
 *	reason); Untrusted without a reason -> certificate-not-trusted;
 *	no STARTTLS -> starttls-not-supported; Trusted and Anonymous
 *	(the host name was not checked: Postfix's "may" level, where a
 *	testing policy leaves it) -> nothing (the gate's probes report
 *	those domains);
 *   no policy: any TLS session -> success; no STARTTLS -> starttls-
 *	not-supported.
 */
#ifndef PFLOG_H
#define PFLOG_H

#include <stddef.h>

#include "tlsrpt_types.h"

#define PFLOG_PROCS	1024	/* smtp processes followed at once */

enum pflog_kind {
	PFL_NONE = 0,		/* not a line we use */
	PFL_CERT_FAIL,		/* certificate verification failed */
	PFL_TLS,		/* TLS connection established */
	PFL_DELIVERY,		/* to=<...>, relay=H[IP]:P */
	PFL_DELIVERY_END	/* another to=<...> line: relay=none, an
				 * address literal: ends the delivery */
};

enum pflog_tls {
	PFT_NONE = 0,
	PFT_VERIFIED,
	PFT_TRUSTED,
	PFT_UNTRUSTED,
	PFT_ANONYMOUS
};

enum pflog_fmt {
	PFF_OTHER = 0,
	PFF_BSD,
	PFF_RFC3339,
	PFF_RFC5424,
	PFF_MAX
};

/* pflog_fmt_str - "other", "bsd", "rfc3339", "rfc5424" */
const char	*pflog_fmt_str(enum pflog_fmt);

struct pflog_line {
	enum pflog_kind	 kind;
	enum pflog_fmt	 fmt;		/* of every line, also PFL_NONE */
	long		 pid;
	char		 host[256];
	char		 ip[64];
	enum pflog_tls	 tls;		/* PFL_TLS */
	char		 reason[128];	/* PFL_CERT_FAIL */
	char		 domain[256];	/* PFL_DELIVERY: the recipient's */
	int		 no_starttls;	/* PFL_DELIVERY: TLS required, not
					 * offered */
	long long	 off;		/* set by the caller after
					 * pflog_line(): where the line starts
					 * in its file (-1: not known) */
};

/* pflog_line - parse one log line (without its newline); kind PFL_NONE
 * for every line that is not one of the three; fmt for every line */
void	pflog_line(const char *line, size_t len, struct pflog_line *);

#define PFLOG_EARLIER	4	/* failed MX connections kept per delivery */

struct pflog_conn {
	char		 host[256], ip[64];
	enum pflog_tls	 tls;
	char		 reason[128];	/* first verification failure */
};

struct pflog_proc {
	long		 pid;		/* 0: free */
	unsigned long	 used;		/* LRU clock */
	struct pflog_conn cur;		/* the connection now */
	int		 open;		/* cur waits for its domain */
	/* earlier connections of the same delivery (the MX hosts tried
	 * before: Postfix names only the last one in its delivery line) */
	struct pflog_conn earlier[PFLOG_EARLIER];
	int		 nearlier;
	long long	 first;		/* off of the first line pending
					 * (-1: not known) */
};

struct pflog {
	struct pflog_proc	procs[PFLOG_PROCS];
	unsigned long		clock;
};

/* a complete session */
struct pflog_session {
	char		 domain[256];
	char		 host[256], ip[64];
	enum pflog_tls	 tls;
	char		 reason[128];
	int		 no_starttls;
	long long	 off;		/* of the line that completed it */
	int		 n;		/* its index among that line's */
};

/* pflog_feed - the number of sessions l completes (0 to
 * PFLOG_EARLIER + 1), filled into s[] (room for PFLOG_EARLIER + 1): a
 * delivery line completes its connection and the connections the same
 * process made before it for the same delivery, in order */
int	pflog_feed(struct pflog *, const struct pflog_line *,
	    struct pflog_session *s);

/*
 * pflog_pending - the lowest off >= floor of a line whose session is not
 * complete yet (a follower that restarts must read again from there to
 * see it whole), or -1; pending lines before floor are forgotten (stale:
 * a process that never logged its delivery).  pflog_unpin - forget all
 * offsets (the file they were in is gone).
 */
long long	pflog_pending(struct pflog *, long long floor);
void		pflog_unpin(struct pflog *);

/*
 * pflog_classify - the result for a session; 0 nothing to report.
 * has_policy: the domain has an MTA-STS policy (any mode but none).
 */
int	pflog_classify(const struct pflog_session *, int has_policy,
	    enum tlsrpt_result *, char *reason, size_t reasonsize);

#endif
