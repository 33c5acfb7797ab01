/*
 * gate_impl.h - the insides of the RCPT gate (gate.h), shared by its
 * files and included by nothing else:
 *	gate.c		observe (caches, DNS, probes), decide, log, count;
 *	gate_journal.c	the journal records it writes: TLS sessions
 *			(probes, MX hosts outside the policy, failed
 *			fetches, bogus DANE answers) and deferrals.
 */
#ifndef GATE_IMPL_H
#define GATE_IMPL_H

#include <pthread.h>

#include "gate.h"
#include "srcaddr.h"
#include "tcache.h"
#include "tls_probe.h"

struct gate {
	/* settings copied from the configuration at start */
	char			*g_state_dir;
	char			*g_ca_file;
	char			*g_helo;
	int			 g_port;
	int			 g_probe_timeout_ms;
	struct srcaddr_bind	 g_bind;	/* probe_bind_address */
	int			 g_probe_ttl;
	int			 g_deadline_ms;

	struct sts_cache	*g_cache;
	struct dns		*g_dns;
	struct dane_cache	*g_dane;	/* gate_dane: NULL = off */
	struct journal		*g_journal;

	pthread_rwlock_t	 g_ovlock;
	const struct override	*g_ov;

	struct tcache		*g_mx;		/* "domain" -> struct addrset */
	struct tcache		*g_addr;	/* "host" -> struct addrset */
	struct tcache		*g_probe;	/* "host|ip|port" -> struct verdict */
	struct tcache_l2	 g_probe_l2;	/* gate_share_verdicts() */
	struct tcache		*g_tested;	/* "domain" recently probed */

	pthread_mutex_t		 g_bgmu;
	pthread_cond_t		 g_bgcv;
	int			 g_bg;
	/* counters, __atomic (see struct gate_stats) */
	unsigned long		 g_rcpts, g_deferred;
	unsigned long		 g_decisions[2][GATE_STAT_MAX];
	unsigned long		 g_deferrals[TLSRPT_RESULT_MAX];
	unsigned long		 g_probes[TLSRPT_RESULT_MAX + 1];
};

/* gate_journal.c */

/* gate_journal_put - append r; a failure never delays mail */
void	gate_journal_put(struct gate *, const struct journal_rec *r);
/* gate_journal_session - start r as a probe's session under MTA-STS
 * policy p (pid; p may be NULL) for domain */
void	gate_journal_session(struct gate *, struct journal_rec *r,
	    const char *domain, const struct sts_policy *p, const char *pid);
/* gate_journal_probe - journal a real TLS session (a probe that
 * completed) with host h of o's domain; under DANE when h has TLSA */
void	gate_journal_probe(struct gate *, const struct gate_obs *o,
	    const struct gate_host *h, const struct tls_probe_result *);
/* gate_journal_deferral - the deferral record of decision d on o */
void	gate_journal_deferral(struct gate *, const char *qid,
	    const char *rcpt, const struct gate_obs *o,
	    const struct gate_decision *d, const struct gate_verdict *out);

#endif
