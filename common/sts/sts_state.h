/*
 * sts_state.h - one domain's MTA-STS cache state and the discovery
 * that moves it (RFC 8461 3.1, 3.3, 5.1, 10.2)
 *
 * A check of a domain is three steps, so that the cache can run the
 * middle one without any lock:
 *	sts_state_snapshot()  what the check must do, from the state
 *	                      (under the cache's lock; pure);
 *	sts_state_discover()  TXT, then the policy if needed (DNS and
 *	                      HTTPS through the seams; no lock);
 *	sts_state_apply()     fold the outcome into the state (under the
 *	                      lock; pure); returns 1 when the new state
 *	                      must be persisted (sts_state_to_rec()).
 *
 * Rules, with their checklist IDs, as sts_cache.h lists them:
 * STS-CACHE-1..4, 6, 7, STS-HTTP-5, STS-HTTP-8, STS-TXT-5.
 */
#ifndef STS_STATE_H
#define STS_STATE_H

#include <time.h>

#include "buf.h"
#include "dns.h"
#include "domain.h"
#include "status.h"
#include "sts_fetch.h"
#include "sts_policy.h"
#include "sts_store.h"
#include "tlsrpt_types.h"

struct sts_state {
	struct sts_policy	*st_policy;	/* NULL: none cached */
	char			 st_id[STS_ID_MAX + 1];
	char			 st_txt_id[STS_ID_MAX + 1];
	time_t			 st_fetched;
	time_t			 st_checked;
	time_t			 st_neg_until;	/* "no policy" remembered */
	enum status		 st_neg_status;
	char			*st_reason;	/* why negative / last failure */
	char			 st_fail_id[STS_ID_MAX + 1];
	time_t			 st_fail_time;
	enum tlsrpt_result	 st_fail_rt;
	int			 st_failed;	/* last fetch attempt failed */
};

struct sts_state_opts {
	struct dns			*dns;
	const struct sts_fetch_opts	*fetch;
	int				 refresh_interval;
	int				 fetch_backoff;
	int				 negative_ttl;
	int				 tempfail_ttl;
};

/* what a check must do, taken under the lock */
struct sts_state_snap {
	char	sn_domain[DOMAIN_MAX + 1];
	int	sn_have;		/* a policy is cached */
	char	sn_old_id[STS_ID_MAX + 1];
	int	sn_fetch_due;		/* refetch even if the id is unchanged */
	int	sn_backoff;		/* fail_id is in its back-off */
	char	sn_fail_id[STS_ID_MAX + 1];
};

/* what a check learned */
struct sts_state_outcome {
	enum status		 o_txt_st;
	char			 o_txt_id[STS_ID_MAX + 1];
	int			 o_fetched;	/* a fetch was attempted */
	struct sts_policy	*o_policy;	/* fetched policy, or NULL */
	enum tlsrpt_result	 o_rt;
	struct buf		 o_why;
};

time_t	sts_state_expires(const struct sts_state *);
/* sts_state_refresh_due - STS-CACHE-3: daily, or at half a short max_age */
int	sts_state_refresh_due(const struct sts_state *, int refresh_interval,
	    time_t now);
void	sts_state_set_reason(struct sts_state *, const char *);
/* sts_state_expire - STS-CACHE-1: drop a policy past max_age; 1 if so */
int	sts_state_expire(struct sts_state *, time_t now);
void	sts_state_clear(struct sts_state *);
/* sts_state_copy - dst (cleared or fresh) becomes a copy of src */
void	sts_state_copy(struct sts_state *dst, const struct sts_state *src);

void	sts_state_snapshot(const struct sts_state *,
	    const struct sts_state_opts *, const char *domain, int force,
	    time_t now, struct sts_state_snap *);
void	sts_state_discover(const struct sts_state_opts *,
	    const struct sts_state_snap *, struct sts_state_outcome *);
/* the discovery in two halves (the fetch between them may run on an
 * http_loop): sts_state_discover_txt() is the TXT step, 1 when a policy
 * fetch must follow (o_fetched); sts_state_fetched() folds the fetch's
 * result (policy is taken) into o */
int	sts_state_discover_txt(const struct sts_state_opts *,
	    const struct sts_state_snap *, struct sts_state_outcome *);
/* the TXT step's two halves, for a TXT lookup that runs elsewhere:
 * sts_state_outcome_init(o), then, with o_txt_st and o_why filled from
 * the lookup, sts_state_txt_decide() (1: a policy fetch must follow) */
void	sts_state_outcome_init(struct sts_state_outcome *);
int	sts_state_txt_decide(const struct sts_state_opts *,
	    const struct sts_state_snap *, struct sts_state_outcome *,
	    const struct sts_txt *);
void	sts_state_fetched(struct sts_state_outcome *, struct sts_policy *,
	    enum tlsrpt_result, const char *why);
int	sts_state_apply(struct sts_state *, const struct sts_state_opts *,
	    struct sts_state_outcome *, time_t now);
void	sts_state_outcome_clear(struct sts_state_outcome *);

/* to and from the on-disk record (sts_store.h); the policy is shared */
void	sts_state_to_rec(const struct sts_state *, struct sts_store_rec *);
void	sts_state_from_rec(struct sts_state *, struct sts_store_rec *);

#endif
