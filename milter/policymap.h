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
 */
#ifndef POLICYMAP_H
#define POLICYMAP_H

#include "buf.h"
#include "conf.h"
#include "override.h"
#include "sts_cache.h"

struct policymap;

struct policymap	*policymap_new(const char *spec, struct sts_cache *,
			    const struct conf *, struct buf *why);
int			 policymap_start(struct policymap *);
void			 policymap_set_overrides(struct policymap *,
			    const struct override *);
void			 policymap_stop(struct policymap *);

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

#endif
