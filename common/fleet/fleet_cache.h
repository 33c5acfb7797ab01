/*
 * fleet_cache.h - the pure half of the fleet's shared cache: Redis key
 * names, cache entries and probe verdicts as Redis values, their
 * lifetimes, and the decisions of the fetch-lock protocol
 *
 * Keys (P = fleet_prefix, /work/FLEET.md):
 *	P pol:<domain>		a policy cache entry: the sts_store text of
 *				a policy (sts_store.h), or a "no policy"
 *				entry (below); PEXPIREAT its own expiry
 *	P lock:pol:<domain>	"<node>:<pid>" of the node whose check of
 *				domain runs; SET NX PX fleet_lock_ms
 *	P mx:<host>|<ip>|<port>[|dane]	a probe verdict; PX its TTL
 *
 * A "no policy" entry (RFC 8461 5: none published, or STS-HTTP-8: the
 * fetch failed and nothing is cached):
 *	sts-milter-none 1\n
 *	until <unix time>\n		remembered until (negative_ttl or
 *	checked <unix time>\n		the fetch back-off, STS-HTTP-5)
 *	[failed <id> <unix time> <RFC 8460 result type number>\n]
 *	reason <one line>\n
 * A verdict (only real TLS sessions' outcomes are shared):
 *	sts-milter-verdict 1\n
 *	result <RFC 8460 result type number>\n
 *	dane <0|1>\n
 *	reason <failure-reason-code>\n
 * Every value has a "checked" (policy) line the store compares so that
 * an older state never replaces a newer one (fleet_l2.c).  Unknown
 * lines are ignored; anything else that does not parse is "nothing
 * shared" (the fleet's Redis is not trusted to be well-formed).
 */
#ifndef FLEET_CACHE_H
#define FLEET_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "sts_cache.h"
#include "sts_state.h"
#include "tls_probe.h"

#define FLEET_KEY_POL	"pol:"
#define FLEET_KEY_LOCK	"lock:pol:"
#define FLEET_KEY_MX	"mx:"

/* fleet_cache_key - P kind name into out (replacing its contents) */
void	fleet_cache_key(struct buf *out, const char *prefix, const char *kind,
	    const char *name);

/*
 * fleet_pol_expiry - until when a state may be shared: a policy until
 * fetched + max_age (STS-CACHE-1), "no policy" (not a DNS failure: that
 * may be this node's own trouble) until its st_neg_until; 0 when it is
 * not to be shared (nothing known, expired, a DNS failure)
 */
time_t	fleet_pol_expiry(const struct sts_state *, time_t now);
/* fleet_pol_format - the value of a state and its expiry; -1 (and out
 * unchanged) when fleet_pol_expiry() says not to share it */
int	fleet_pol_format(const struct sts_state *, time_t now, struct buf *out,
	    time_t *expires);
/* fleet_pol_parse - 0 and st filled (caller sts_state_clear()s), or -1 */
int	fleet_pol_parse(const char *data, size_t len, struct sts_state *st);
/* fleet_pol_stamp - the "checked" time of a value (-1: none); what the
 * store's "newer" test reads (fleet_l2.c's Lua does the same) */
long long fleet_pol_stamp(const char *data, size_t len);

/*
 * fleet_pol_use - what a node does with a shared state, given its own
 * policy's fetch time (0: none cached):
 *  STS_L2_FRESH  a check ran less than txt_check_interval ago and no
 *                refresh is due (STS-CACHE-2, -3): use it, no check;
 *                "no policy" until its time (only when the node has no
 *                policy: STS-TXT-5, a vanished record never drops one)
 *  STS_L2_BASE   a valid policy fetched after the node's (or the node
 *                has none): take it, then check (its id is known, so
 *                an unchanged id is not fetched again)
 *  STS_L2_NONE   nothing better than the node's own state
 */
struct fleet_pol_opts {
	int	txt_check_interval;
	int	refresh_interval;
};
enum sts_l2_use fleet_pol_use(const struct sts_state *shared,
	    time_t local_fetched, time_t now, const struct fleet_pol_opts *);

/*
 * The fetch lock.  A node whose shared state is not FRESH runs a poll
 * (one Redis round trip: read the entry, take the lock if free) until
 * fleet_lock_next() says otherwise:
 *  FLEET_LOCK_ADOPT  the holder's check arrived (FRESH): use it (a
 *                    lock the poll took after the holder let go is
 *                    released again)
 *  FLEET_LOCK_OWN    this node took the lock: check, put, release
 *  FLEET_LOCK_WAIT   another node checks: sleep fleet_lock_delay_ms()
 *  FLEET_LOCK_ALONE  waited max_wait_ms (a holder died or is slow):
 *                    check without the lock
 */
enum fleet_lock_act {
	FLEET_LOCK_ADOPT,
	FLEET_LOCK_OWN,
	FLEET_LOCK_WAIT,
	FLEET_LOCK_ALONE
};
enum fleet_lock_act fleet_lock_next(enum sts_l2_use use, int took_lock,
	    int64_t waited_ms, int64_t max_wait_ms);
/* fleet_lock_delay_ms - the pause before poll number attempt (0, 1,
 * ...): short first (a fetch often takes tens of ms), then 50 ms */
int	fleet_lock_delay_ms(int attempt);

/* fleet_verdict_format - the value of a probe's outcome */
void	fleet_verdict_format(const struct tls_probe_result *, struct buf *out);
/* fleet_verdict_parse - 0 and r filled (only result, dane, reason), -1 */
int	fleet_verdict_parse(const char *data, size_t len,
	    struct tls_probe_result *r);

#endif
