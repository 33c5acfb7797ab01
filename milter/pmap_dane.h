/*
 * pmap_dane.h - the policy map's answer for a domain under DANE
 * (STS-DANE-1): pure, see pmap_dane.c
 */
#ifndef PMAP_DANE_H
#define PMAP_DANE_H

#include "buf.h"
#include "dane.h"
#include "pmap_reply.h"

/*
 * pmap_dane_reply - for flavour fl, domain, its DANE state and whether
 * it has an MTA-STS policy in enforce mode: 1 with the reply in out and
 * its kind in *kind when DANE decides, 0 when the MTA-STS reply stands.
 * exim_host: the request was Exim's "domain host" MX check.
 */
int	pmap_dane_reply(enum pmap_flavour fl, const char *domain,
	    enum dane_state st, int sts_enforce, int exim_host,
	    struct buf *out, enum pmap_kind *kind);

#endif
