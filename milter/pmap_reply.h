/*
 * pmap_reply.h - what the policy map answers: the socketmap (Postfix,
 * Sendmail) and readsocket (Exim) replies, without I/O
 *
 * A request is read once (pmap_reply_read): its map name selects the
 * flavour, its key gives the Policy Domain and, for Exim's MX check, the
 * MX host.  pmap_reply_make() turns the request and what the daemon
 * observed about the domain (the cache's answer, the override, whether
 * the policy fetch was still in flight at the deadline) into the reply
 * of that flavour.  pmap_reply_fresh() says whether a cache answer may
 * be given as it is or needs the fetch step first.  No I/O, no locks,
 * no logging, no clock of its own: the caller passes "now".
 *
 * Replies, per flavour (README.md, "The MTA policy maps", has the tables):
 *   postfix, sendmail ("sts" too): enforce -> "OK secure match=P:P
 *	servername=hostname", "*.d" written ".d" (Postfix and Sendmail
 *	parent-domain syntax); everything else "NOTFOUND ".
 *   postfix-tlsrpt: the same plus policy_type=sts policy_domain=
 *	mx_host_pattern= ("*." kept) and { policy_string = line } per
 *	policy line; testing -> "OK may" with the same attributes, so
 *	Postfix 3.10+ reports testing-mode sessions (STS-APP-2) without
 *	enforcing anything.  Kept under PMAP_MAX_REPLY by dropping
 *	policy_string, then the TLS-RPT attributes.
 *   exim: "enforce domain=D mx=P:P id=I", "testing ...", "none"; a key
 *	"D host" is Exim's tcp:connect question: "" (connect) or a reason
 *	(veto: host matches no pattern of the enforce policy, STS-VAL-2).
 *   exim-tlsrpt: always "" (the words are a TLS outcome, exim_event.h).
 * No policy, mode none (STS-APP-3), override "skip", keys starting with
 * "." (STS-PD-3), address literals (STS-PD-4), single labels: the
 * flavour's "no policy" ("NOTFOUND ", exim "none" or "").  A domain
 * under DANE (obs.dane all, some, bogus, tempfail) gets pmap_dane.c's
 * answer (STS-DANE-1: never "secure" when its MX hosts have usable
 * TLSA), whatever its MTA-STS policy.  Patterns that
 * are not DNS names are left out of match=; an enforce policy with no
 * usable pattern gets "no policy", never an empty match=.  TEMP only
 * with policymap_tempfail and only when DNS failed with nothing cached;
 * otherwise "no policy" (fail open, RFC 8461 5).  A fetch still in
 * flight at the deadline: the cached policy if there is one
 * (STS-HTTP-9), else "no policy" (STS-HTTP-8: deliver as though the
 * domain had no policy).  Unknown map name: "PERM unknown map name".
 */
#ifndef PMAP_REPLY_H
#define PMAP_REPLY_H

#include <time.h>

#include "buf.h"
#include "dane.h"
#include "domain.h"
#include "override.h"
#include "status.h"
#include "sts_cache.h"

/* Postfix 3.12 socketmap_max_query_size; Postfix 3.10+ rejects replies
 * over socketmap_max_reply_size (100000); Sendmail allows 1000000. */
#define PMAP_MAX_QUERY	10000
#define PMAP_MAX_REPLY	100000
#define PMAP_LINE_MAX	1024	/* line (Exim) requests */

enum pmap_flavour {
	PMAP_UNKNOWN = 0,
	PMAP_POSTFIX,		/* "postfix" */
	PMAP_POSTFIX_TLSRPT,	/* "postfix-tlsrpt" (3.10+ attributes) */
	PMAP_SENDMAIL,		/* "sendmail" or "sts" (FEATURE(sts)) */
	PMAP_EXIM,		/* "exim", or a line without a map name */
	PMAP_EXIM_TLSRPT	/* "exim-tlsrpt": a TLS outcome */
};

/* what kind of reply pmap_reply_make() wrote */
enum pmap_kind {
	PMAP_SECURE,		/* "OK secure ...": enforce */
	PMAP_MAY,		/* "OK may ...": testing, TLS-RPT only */
	PMAP_POLICY,		/* exim "enforce ..." / "testing ..." */
	PMAP_NONE,		/* "NOTFOUND ", exim "none" */
	PMAP_TEMP,		/* "TEMP ...", exim "temp ..." */
	PMAP_CONNECT,		/* exim MX check: "" */
	PMAP_VETO,		/* exim MX check: the reason not to connect */
	PMAP_EMPTY,		/* exim-tlsrpt: "" */
	PMAP_PERM,		/* "PERM unknown map name" */
	PMAP_DANE		/* "OK dane-only", "OK dane", exim "dane-only", "dane"
				 * (pmap_dane.c, STS-DANE-1) */
};
#define PMAP_NFLAVOURS	(PMAP_EXIM_TLSRPT + 1)
#define PMAP_NKINDS	(PMAP_DANE + 1)	/* the last kind + 1 */

/* one request, read (folded to lower case: Postfix folds keys,
 * Sendmail and Exim may not) */
struct pmap_req {
	enum pmap_flavour	 fl;
	const char		*key;	/* the key (in text) */
	/* kst ST_OK: domain is the Policy Domain; ST_NOTFOUND: a key that
	 * never has a policy; ST_INVALID: not a domain */
	enum status		 kst;
	char			 domain[DOMAIN_MAX + 1];
	const char		*host;	/* exim "D host": host (in text) */
	const char		*ip;	/* exim "D host ip": its address
					 * (numeric), else NULL */
	int			 host_ok;	/* host is a host name */
	char			 text[PMAP_MAX_QUERY + 1];
};

/* what the daemon knows about the request's domain */
struct pmap_obs {
	enum status		 st;	/* sts_cache_lookup()'s answer */
	const struct sts_lookup	*lookup;	/* its result (or NULL) */
	enum override_action	 ov;
	int			 pending;	/* the fetch is still running */
	int			 tempfail;	/* policymap_tempfail = yes */
	enum dane_state		 dane;	/* the domain's DANE verdict */
};

/* pmap_reply_read - read request req (len bytes, no NUL needed); line:
 * it came as a line (Exim), where a request without a known map name is
 * an Exim key */
void		 pmap_reply_read(const char *req, size_t len, int line,
		    struct pmap_req *);
/* pmap_reply_lookup - 1 if the reply depends on the domain's policy */
int		 pmap_reply_lookup(const struct pmap_req *);
/* pmap_reply_make - append the reply text (no framing) to out */
enum pmap_kind	 pmap_reply_make(const struct pmap_req *,
		    const struct pmap_obs *, struct buf *out);
/*
 * pmap_reply_fresh - 1 if a lookup made without network I/O
 * (STS_LOOKUP_CACHED) may be answered as it is; 0 when the fetch step
 * must run first: nothing known, DNS trouble, or a cached policy whose
 * TXT check (STS-CACHE-2) or refresh (STS-CACHE-3, at most half its
 * max_age) is due at now.
 */
int		 pmap_reply_fresh(enum status, const struct sts_lookup *,
		    time_t now, int txt_check_interval, int refresh_interval);

/* pmap_reply_flavour - the flavour a map name selects */
enum pmap_flavour pmap_reply_flavour(const char *name);
const char	*pmap_reply_flavour_name(enum pmap_flavour);
const char	*pmap_reply_kind_name(enum pmap_kind);
/*
 * pmap_reply_key_domain - the Policy Domain of a map key (the next hop).
 * ST_OK: domain (DOMAIN_MAX + 1 bytes) is set.  "[relay.example]" and
 * "[relay.example]:587" and "relay.example:587" give "relay.example"
 * (smart host, STS-PD-2).  ST_NOTFOUND: keys that never have a policy:
 * a leading "." (Postfix parent-domain probes, STS-PD-3), address
 * literals (STS-PD-4), single labels.  ST_INVALID: not a domain.
 */
enum status	 pmap_reply_key_domain(const char *key, char *domain,
		    struct buf *why);

#endif
