/*
 * gate.h - the RCPT-time MTA-STS gate, independent of libmilter
 *
 * gate_rcpt() decides for one recipient domain: accept, or defer with
 * an explanation.  The decision itself is gate_rule.c (pure); the gate
 * observes for it through the shared policy cache, an MX/address cache
 * and a probe-verdict cache (per MX host and IP), journals every real
 * probe as a TLS session and every deferral, and logs one line per
 * decision.  With warm caches it does no network I/O.  testing-mode
 * domains are accepted at once and probed in the background.
 *
 * Thread-safe: one struct gate serves every milter thread.
 */
#ifndef GATE_H
#define GATE_H

#include "conf.h"
#include "dns.h"
#include "gate_rule.h"
#include "journal.h"
#include "override.h"
#include "sts_cache.h"
#include "tlsrpt_types.h"
#include "truth.h"

struct gate;

struct dane_cache;
/* gate_set_dane - gate domains with usable TLSA by DANE (gate_dane);
 * before the first gate_rcpt(); dc outlives the gate */
void		 gate_set_dane(struct gate *, struct dane_cache *);
struct tcache_l2;
/* gate_share_verdicts - probe verdicts (real TLS sessions' outcomes)
 * also go to and come from store's get/put (the fleet's, fleet_l2.h);
 * before the first gate_rcpt(); store outlives the gate */
void		 gate_share_verdicts(struct gate *, const struct tcache_l2 *);
struct gate	*gate_new(const struct conf *, struct sts_cache *, struct dns *,
		    struct journal *);
void		 gate_free(struct gate *);
/* gate_set_overrides - swap the override table (SIGHUP); not owned */
void		 gate_set_overrides(struct gate *, const struct override *);
/* gate_rcpt - decide for rcpt (an address) whose domain is domain
 * (normalised); qid may be "" */
void		 gate_rcpt(struct gate *, const char *qid, const char *rcpt,
		    const char *domain, struct gate_verdict *);
/* gate_fetch_failed - journal a failed policy fetch, for
 * sts_cache_on_fetch_failure(cache, gate_fetch_failed, gate) */
void		 gate_fetch_failed(void *gate, const char *domain,
		    const struct sts_lookup *);
/* gate_dane_bogus - journal a dnssec-invalid session (a DANE lookup
 * with a bogus answer), for dane_cache_on_bogus(dc, gate_dane_bogus,
 * gate) */
void		 gate_dane_bogus(void *gate, const char *domain,
		    const struct dane_result *);
/*
 * gate_truth_hosts - domain's MX hosts in preference order with the
 * daemon's verdicts under p (truth.h), probing until deadline (on
 * clock_mono_ms()) those it has none for; returns how many of max
 */
size_t		 gate_truth_hosts(struct gate *, const char *domain,
		    const struct sts_policy *p, const char *pid,
		    int64_t deadline, struct truth_host *h, size_t max);
/* gate_wait_idle - wait for background probes (tests, shutdown) */
void		 gate_wait_idle(struct gate *, int timeout_ms);

/* the policy mode a recipient was decided under (a metrics label) */
enum gate_stat_mode {
	GATE_STAT_NO_POLICY = 0,	/* none found, or discovery failed */
	GATE_STAT_NONE,
	GATE_STAT_TESTING,
	GATE_STAT_ENFORCE,
	GATE_STAT_EXEMPT,		/* override_file "skip" */
	GATE_STAT_MAX
};

struct gate_stats {
	unsigned long	rcpts;		/* recipients decided */
	unsigned long	deferred;	/* of them deferred (451 4.7.5) */
	unsigned long	decisions[2][GATE_STAT_MAX];	/* [action][mode] */
	unsigned long	deferrals[TLSRPT_RESULT_MAX];	/* by result type */
	/* MX probes run (not verdicts reused), by the result of the TLS
	 * session; [TLSRPT_RESULT_MAX]: no session (connect, timeout) */
	unsigned long	probes[TLSRPT_RESULT_MAX + 1];
};
void		 gate_stats(struct gate *, struct gate_stats *);

#endif
