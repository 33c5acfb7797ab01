/*
 * policymap.h - the MTA policy-map listener (Postfix/Sendmail socketmap,
 * Exim readsocket), served from the daemon's policy cache
 *
 * policymap_new() opens the listening socket (call it before dropping
 * privileges); policymap_start() starts its threads; policymap_stop()
 * closes everything.  The reply flavour is chosen by the map name in
 * each request ("postfix", "postfix-tlsrpt", "sendmail", "exim").
 * The override table and the configuration may be swapped at run time
 * (SIGHUP) with policymap_set_overrides().
 *
 * Socket specs: "unix:/path" (also "local:/path"), "inet:port@host",
 * "inet:host:port", "inet6:port@host", "inet:port" (all addresses).
 * Several specs may be given, separated by spaces or commas.  An empty
 * spec opens no socket (connections can then be handed in with
 * policymap_add_fd(), which the unit tests do over socketpairs).
 *
 * Wire forms on every socket:
 *   netstring  "<len>:<name> <key>,"  -> "<len>:<reply>,"; any number of
 *              lock-step requests per connection (Postfix, Sendmail).
 *   line       "<name> <key>" or "<key>" (name "exim"), ended by LF or
 *              by the client's half-close -> one reply without a line
 *              terminator, then close (Exim ${readsocket}).
 * A request longer than POLICYMAP_MAX_QUERY, or one that is not well
 * formed, gets "PERM <reason>" and the connection is closed.
 *
 * Thread safety: policymap_set_overrides() may be called from any
 * thread while the listener runs; when it returns no lookup uses the
 * previous table any more, so the caller may free it.
 */
#ifndef POLICYMAP_H
#define POLICYMAP_H

#include "buf.h"
#include "conf.h"
#include "override.h"
#include "sts_cache.h"

/* Postfix 3.12 socketmap_max_query_size; Postfix 3.10+ rejects replies
 * over socketmap_max_reply_size (100000); Sendmail allows 1000000. */
#define POLICYMAP_MAX_QUERY	10000
#define POLICYMAP_MAX_REPLY	100000
#define POLICYMAP_LINE_MAX	1024	/* line (Exim) requests */

enum policymap_flavour {
	PM_FLAVOUR_UNKNOWN = 0,
	PM_FLAVOUR_POSTFIX,		/* "postfix" */
	PM_FLAVOUR_POSTFIX_TLSRPT,	/* "postfix-tlsrpt" (3.10+ attributes) */
	PM_FLAVOUR_SENDMAIL,		/* "sendmail" or "sts" (FEATURE(sts)) */
	PM_FLAVOUR_EXIM,		/* "exim" */
	PM_FLAVOUR_REPORT		/* "exim-tlsrpt": a TLS outcome */
};

struct policymap;

struct policymap	*policymap_new(const char *spec, struct sts_cache *,
			    const struct conf *, struct buf *why);
int			 policymap_start(struct policymap *);
void			 policymap_set_overrides(struct policymap *,
			    const struct override *);
void			 policymap_stop(struct policymap *);
/*
 * policymap_on_report - fn(arg, line) is called from a worker thread
 * (never a reactor: it writes the journal) with the KEY=VALUE words of each
 * "exim-tlsrpt" request, and with "domain=D mx=H veto=1" when an Exim
 * MX question is answered with a veto (exim_event.h).  The request is
 * answered with an empty reply.  Set it before policymap_start().
 */
void			 policymap_on_report(struct policymap *,
			    void (*fn)(void *, const char *line), void *arg);
struct policymap_stats {
	unsigned long	requests;	/* answered */
	unsigned long	memo_hits;	/* of them from a reactor's memo */
	unsigned long	connections;	/* open now */
};
void			 policymap_stats(struct policymap *,
			    struct policymap_stats *);
/* policymap_add_fd - serve an already connected stream socket (tests) */
int			 policymap_add_fd(struct policymap *, int fd);

/*
 * policymap_reply - the pure part: the reply text (without netstring
 * framing) for one request "name key", given the lookup result.  Used
 * by the listener and by unit tests.
 */
struct sts_lookup;
void			 policymap_reply(const char *name, const char *key,
			    enum status st, const struct sts_lookup *,
			    enum override_action, int tempfail_on_dns,
			    struct buf *out);

/* policymap_flavour - the flavour a map name selects */
enum policymap_flavour	 policymap_flavour(const char *name);
/*
 * policymap_key_domain - the Policy Domain of a map key (the next hop).
 * ST_OK: domain (DOMAIN_MAX + 1 bytes) is set.  "[relay.example]" and
 * "[relay.example]:587" and "relay.example:587" give "relay.example"
 * (smart host, STS-PD-2).  ST_NOTFOUND: keys that never have a policy:
 * a leading "." (Postfix parent-domain probes, STS-PD-3), address
 * literals (STS-PD-4), single labels.  ST_INVALID: not a domain.
 */
enum status		 policymap_key_domain(const char *key, char *domain,
			    struct buf *why);

#endif
