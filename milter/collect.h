/*
 * collect.h - the TLS-RPT datagram collector: Postfix 3.10+ (and any
 * other libtlsrpt user) reports the outcome of every TLS handshake of
 * its own SMTP client to this socket; each becomes a journal record
 *
 * collect_new() binds the AF_UNIX datagram socket (call it before
 * dropping privileges; a stale socket file is replaced, the socket is
 * mode 0666: put it in a directory only the MTA can reach to restrict
 * who may report).  collect_start() starts one receiving thread;
 * collect_stop() stops it, closes and unlinks the socket.
 *
 * Each datagram (tlsrpt_dgram.h) gives one journal session per policy,
 * src "postfix", stamped with the receive time (the datagram has none).
 * An STS policy whose lines are those of the cached policy of its domain
 * is journaled with that policy's archive hash and id, so the report
 * lists it once with the gate's own sessions.  Invalid datagrams are
 * counted, logged (at most one line per second) and kept, up to 1 MB,
 * in <state_dir>/tlsrpt-quarantine for inspection; a journal failure is
 * counted and logged, never retried (reporting never delays mail).
 * collect_stop() receives what is still in the socket, journals what is
 * queued, then logs the counts.
 */
#ifndef COLLECT_H
#define COLLECT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "exim_event.h"
#include "journal.h"
#include "sts_cache.h"
#include "tlsrpt_dgram.h"
#include "truth.h"

struct collect;

struct collect_stats {
	unsigned long	datagrams;	/* received */
	unsigned long	records;	/* journaled */
	unsigned long	invalid;	/* refused by the parser */
	unsigned long	dropped;	/* queue full: never parsed */
	unsigned long	lost;		/* journal write failed */
	unsigned long	unarchived;	/* journaled without policy text */
	unsigned long	exim;		/* Exim events journaled */
	unsigned long	exim_invalid;	/* Exim event lines refused */
	unsigned long	unverified;	/* testing-mode successes not
					   journaled (truth.h: undecided) */
};

/*
 * collect_truth_fn - the MX hosts of domain with the daemon's verdicts
 * under policy p, probing until deadline (clock_mono_ms()) what it has
 * none for: gate_truth_hosts().  Without one, testing-mode successes
 * are never journaled (truth.h).
 */
typedef size_t	(*collect_truth_fn)(void *arg, const char *domain,
		    const struct sts_policy *p, const char *pid,
		    int64_t deadline, struct truth_host *h, size_t max);

struct collect	*collect_new(const char *path, const char *state_dir,
		    struct sts_cache *, struct buf *why);
/* collect_start - the receiving thread, journaling to j (NULL: every
 * record is counted as lost) */
int		 collect_start(struct collect *, struct journal *j);
/* (with no socket collect_start() only sets the journal and returns 0) */
/* collect_drain - stop receiving, journal what is queued, log the
 * counts; they stay readable until collect_stop() frees it */
void		 collect_drain(struct collect *);
/* collect_set_dane - Exim's connections to MX hosts with usable TLSA in
 * dc's verdicts are journaled as tlsa sessions; before collect_start() */
struct dane_cache;
void		 collect_set_dane(struct collect *, struct dane_cache *);
/* collect_set_truth - before collect_start() */
void		 collect_set_truth(struct collect *, collect_truth_fn,
		    void *arg);
void		 collect_stop(struct collect *);
void		 collect_stats(struct collect *, struct collect_stats *);
/*
 * collect_exim_event - journal one TLS outcome Exim reported through the
 * policy map (exim_event.h: "exim-tlsrpt KEY=VALUE ..." read by
 * exim_event_read, or a veto from exim_event_veto); the policy is the
 * one cached for the domain (an unknown domain is not journaled).
 * Thread-safe.  Returns 1 journaled, 0 nothing to journal.
 * collect_exim_line - read a line, then the same; -1 if it is invalid
 * (counted, logged at most once a second).
 * collect_exim and collect_exim_invalid fit the policy map's Exim hook
 * (pmap_server.h; arg is the struct collect).
 */
int		 collect_exim_event(struct collect *,
		    const struct exim_event *, time_t now);
int		 collect_exim_line(struct collect *, const char *line,
		    time_t now);
void		 collect_exim(void *collect, const struct exim_event *);
void		 collect_exim_invalid(void *collect, const char *why);
/*
 * collect_datagram - journal one datagram as if it had arrived (the
 * receiving thread's work; exposed for the unit tests).  Returns the
 * records written, -1 if the datagram is invalid (reason in why).
 */
int		 collect_datagram(struct collect *, const char *buf, size_t len,
		    time_t now, struct buf *why);

#endif
