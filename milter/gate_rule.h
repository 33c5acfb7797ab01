/*
 * gate_rule.h - the RCPT-time MTA-STS decision as a pure function
 *
 * gate_rule_decide() applies RFC 8461 (rfc-checklist STS-APP-*, STS-VAL-*)
 * to what gate.c has observed so far: the override, the policy lookup,
 * the MX set, each candidate's addresses and each (host, address)'s
 * probe verdict.  It either names the one observation it needs next
 * (struct gate_need) or returns the decision: accept or defer, why,
 * which attempt explains it, and the 451 4.7.5 text.  No I/O, no
 * logging, no clock of its own: the deadline is an observation
 * (gate_obs.expired), so a table of observations decides the same way
 * every time.
 *
 * The caller's loop:
 *
 *	gate_obs_init(&o, domain, ov);
 *	while (gate_rule_decide(&o, &d) != GATE_NEED_NONE)
 *		observe d.need (policy, MX set, addresses, probe) into o;
 *
 * Observations are asked for lazily, in delivery order (STS-APP-5), so
 * a pass at the first MX probes nothing else.  A new kind of
 * observation per MX host (e.g. DANE TLSA records) is one more need and
 * one more member of struct gate_host.
 *
 * Strings in struct gate_obs and struct gate_decision are borrowed from
 * the caller's observations (or are static); they live as long as those.
 */
#ifndef GATE_RULE_H
#define GATE_RULE_H

#include "dane.h"
#include "override.h"
#include "status.h"
#include "sts_policy.h"
#include "tlsrpt_types.h"

#define GATE_MAX_MX	16	/* MX hosts considered per domain */
#define GATE_MAX_ADDR	8	/* addresses probed per MX host */
#define GATE_MAX_TRIES	16	/* attempts kept for the reply text */
#define GATE_TEXT_MAX	900	/* reply text after "451 4.7.5" */

enum gate_action {
	GATE_ACCEPT = 0,
	GATE_DEFER
};

/* what gate_rcpt() tells its caller (mlfi.c) */
struct gate_verdict {
	enum gate_action	action;
	enum tlsrpt_result	result;		/* first failure (defer) */
	char			text[GATE_TEXT_MAX]; /* after "451 4.7.5" */
	char			why[64];	/* short accept reason for logs */
};

/* one tls_probe() outcome of a (host, address), as observed */
struct gate_probe_obs {
	enum status		 st;		/* ST_OK: the probe completed */
	enum tlsrpt_result	 result;
	int			 transient;	/* not a policy failure */
	const char		*reason;	/* failure-reason-code, or "" */
};

/* one MX host of the domain, as observed */
struct gate_host {
	const char		*name;
	int			 matched;	/* STS-VAL-2, by gate_obs_mx() */
	int			 have_addr;	/* addresses looked up */
	enum status		 addr_st;
	int			 naddr;
	const char		*addr[GATE_MAX_ADDR];
	int			 nprobe;	/* probes observed, addr order */
	struct gate_probe_obs	 probe[GATE_MAX_ADDR];
	/* DANE: the host's usable TLSA records, when the domain's DANE
	 * verdict is all or some (by gate_obs_mx() from gate_obs_dane()) */
	const char *const	*tlsa;
	size_t			 ntlsa;
	const char		*dane_cname;	/* RFC 7672 2.2.2, or NULL */
};

struct gate_obs {
	const char		*domain;	/* policy domain, normalised */
	enum override_action	 ov;
	int			 have_policy;	/* the cache was asked */
	enum status		 policy_st;
	const struct sts_policy	*policy;	/* when policy_st is ST_OK */
	const char		*policy_id;
	int			 have_mx;	/* the MX set was looked up */
	enum status		 mx_st;		/* ST_OK: nmx hosts below */
	int			 nmx;
	struct gate_host	 host[GATE_MAX_MX];
	int			 expired;	/* the deadline has passed */
	/* DANE (RFC 7672, STS-DANE-1): set dane_on after gate_obs_init()
	 * to gate a domain with usable TLSA by DANE */
	int			 dane_on;
	int			 have_dane;	/* gate_obs_dane() was called */
	const struct dane_result *dane;
};

enum gate_need {
	GATE_NEED_NONE = 0,	/* decided */
	GATE_NEED_POLICY,	/* the policy lookup: gate_obs_policy() */
	GATE_NEED_MX,		/* the MX set: gate_obs_mx() */
	GATE_NEED_ADDR,		/* addresses of host[need_host] */
	GATE_NEED_PROBE,	/* probe host[need_host] at addr[need_addr]
				 * (by DANE when the host has tlsa) */
	GATE_NEED_DANE		/* the DANE verdict: gate_obs_dane() */
};

/* why a recipient is accepted (gate_why_str(): gate_verdict.why) */
enum gate_why {
	GATE_DEFERRED = 0,	/* not accepted: "" */
	GATE_OVERRIDE_SKIP,	/* "override-skip" */
	GATE_NO_POLICY,		/* "no-policy" */
	GATE_DISCOVERY_TEMPFAIL, /* "discovery-tempfail" */
	GATE_MODE_NONE,		/* "mode-none" */
	GATE_MODE_TESTING,	/* "mode-testing" */
	GATE_MX_LOOKUP_FAILED,	/* "mx-lookup-failed" (fail open) */
	GATE_VALIDATED,		/* "validated" */
	GATE_DANE_VALIDATED,	/* "dane-validated" */
	GATE_DANE_PARTIAL	/* "dane-partial": an MX without TLSA gets
				 * opportunistic TLS (Postfix "dane") */
};

/* one (host, address) tried, for the log line and the reply text */
struct gate_attempt {
	const char		*mx;
	const char		*ip;		/* "" when none */
	enum tlsrpt_result	 result;
	const char		*reason;	/* "" when none */
	int			 transient;
	int			 not_in_policy;	/* STS-VAL-2 failed, no probe */
};

struct gate_decision {
	enum gate_need		 need;
	int			 need_host, need_addr;
	/* the decision, once need is GATE_NEED_NONE */
	enum gate_action	 action;
	enum gate_why		 why;
	enum sts_mode		 mode;		/* effective (with override) */
	int			 background;	/* testing: probe off the path */
	int			 pass;		/* an MX validated */
	int			 nomatch;	/* MX hosts, none in the policy */
	int			 nmx;
	int			 ntries;
	struct gate_attempt	 tries[GATE_MAX_TRIES];
	int			 dane;		/* decided by DANE */
	/* defer: the failure reported; accept after a pass: the pass */
	const struct gate_attempt *shown;
	enum tlsrpt_result	 result;
};

const char	*gate_why_str(enum gate_why);

/* gate_obs_init - nothing observed yet but the override */
void		gate_obs_init(struct gate_obs *, const char *domain,
		    enum override_action);
/* gate_obs_policy - the policy lookup: st from sts_cache_lookup() */
void		gate_obs_policy(struct gate_obs *, enum status st,
		    const struct sts_policy *, const char *policy_id);
/* gate_obs_mx - the MX lookup: names in preference order; ST_NOTFOUND
 * makes the domain its own MX (RFC 5321 5.1); also sets matched */
void		gate_obs_mx(struct gate_obs *, enum status st,
		    const char *const *names, int n);
/* gate_obs_dane - the domain's DANE verdict (borrowed); before the MX */
void		gate_obs_dane(struct gate_obs *, const struct dane_result *);
/* gate_obs_addr - the address lookup of host[i] */
void		gate_obs_addr(struct gate_obs *, int i, enum status st,
		    const char *const *addrs, int n);
/* gate_obs_probe - the next probe of host[i] (at addr[nprobe]) */
void		gate_obs_probe(struct gate_obs *, int i,
		    const struct gate_probe_obs *);

/* gate_rule_decide - the next need, or GATE_NEED_NONE and the decision */
enum gate_need	gate_rule_decide(const struct gate_obs *,
		    struct gate_decision *);
/* gate_rule_walk - only the MX walk of an enforce or testing policy
 * (a testing policy's background probe) */
enum gate_need	gate_rule_walk(const struct gate_obs *, struct gate_decision *);
/* gate_rule_text - the 451 4.7.5 text of a deferral */
void		gate_rule_text(const struct gate_obs *,
		    const struct gate_decision *, char *text, size_t size);

#endif
