/*
 * dane.h - DANE for SMTP (RFC 7672): which MX hosts of a domain have
 * usable TLSA records, from DNSSEC-validated answers (see dane.c)
 */
#ifndef DANE_H
#define DANE_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"
#include "status.h"

#define DANE_MAX_HOSTS	16	/* MX hosts looked at (the rest: no DANE) */

/* What DANE says about a domain, worst first for the callers' switch. */
enum dane_state {
	DANE_NONE = 0,	/* DANE does not apply: MTA-STS decides */
	DANE_ALL,	/* every MX host has usable TLSA */
	DANE_SOME,	/* some MX hosts have usable TLSA, others none */
	DANE_BOGUS,	/* a bogus MX, address or TLSA answer: defer */
	DANE_TEMPFAIL,	/* a lookup failed where DANE may apply: defer */
};

/* One MX host. */
enum dane_host_state {
	DANE_H_NONE = 0,	/* no usable TLSA (none, insecure, unusable) */
	DANE_H_USABLE,		/* usable TLSA: DANE-TA(2) or DANE-EE(3) */
	DANE_H_BOGUS,
	DANE_H_TEMPFAIL,
};

struct dane_host {
	char			*name;		/* MX host, lower case */
	char			*cname;		/* its secure CNAME expansion
						 * (RFC 7672 2.2.2), or NULL */
	int			 tlsa_at_cname;	/* the TLSA records are the
						 * expanded name's */
	enum dane_host_state	 state;
	enum dns_sec		 addr_sec;	/* its A/AAAA answer */
	enum dns_sec		 tlsa_sec;	/* its TLSA answer */
	size_t			 ntlsa;		/* usable records only */
	char			**tlsa;		/* "3 1 1 <hex>" */
};

struct dane_result {
	enum dane_state		 state;
	enum dns_sec		 mx_sec;	/* the MX RRset */
	size_t			 nhost;
	struct dane_host	 host[DANE_MAX_HOSTS];
	unsigned		 ttl;		/* smallest TTL used */
};

enum status	 dane_lookup(struct dns *, const char *domain,
		    struct dane_result *out, struct buf *why);
void		 dane_result_clear(struct dane_result *);
/* dane_host - one host's address security and usable TLSA */
enum dane_host_state dane_host(struct dns *, const char *host,
		    struct dane_host *out, struct buf *why);
void		 dane_host_clear(struct dane_host *);
/* pure parts */
int		 dane_tlsa_usable(const char *rr);
enum dane_state	 dane_state_of(const struct dane_result *);
const char	*dane_state_str(enum dane_state);
const char	*dane_host_state_str(enum dane_host_state);
const char	*dane_sec_str(enum dns_sec);
const struct dane_host *dane_host_find(const struct dane_result *,
		    const char *host);
/* dane_policy_string - RFC 8460 policy-string of n TLSA records (a
 * host's usable ones): one a line, hex in upper case (as the large
 * reporters) */
void		 dane_policy_string(const char *const *tlsa, size_t n,
		    struct buf *);
/* dane_host_bogus - which answer of a DANE_H_BOGUS host was bogus:
 * "address-bogus" or "tlsa-bogus"; NULL for a host that is not bogus */
const char	*dane_host_bogus(const struct dane_host *);
/* dane_bogus_where - which answer of a DANE_BOGUS result was bogus:
 * "mx-bogus", or dane_host_bogus() of the first bogus host (*host: its
 * name; NULL for the MX RRset); NULL when none was */
const char	*dane_bogus_where(const struct dane_result *,
		    const char **host);

#endif
