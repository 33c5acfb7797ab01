/*
 * dns.h - DNS lookups over getdns (stub resolution); a test seam
 *
 * dns_new() makes a resolver handle: resolvers is NULL or "" for the
 * system's (/etc/resolv.conf), else a space-separated list of "IP" or
 * "IP:port" ("[v6]:port" for IPv6 with a port).  timeout_ms bounds each
 * query.  One handle may be used by many threads at once.
 *
 * Every lookup returns ST_OK with at least one record, ST_NOTFOUND for
 * NXDOMAIN or NODATA (an authoritative absence), ST_TEMPFAIL for
 * SERVFAIL, timeouts and network errors, ST_INVALID for an answer we
 * refuse (oversize, malformed).  CNAMEs are followed (STS-TXT-7).
 * TXT records with several character-strings are joined without spaces
 * (STS-TXT-6, RPT-TXT-7); each record is NUL-terminated and its length
 * is given (a record may contain NUL bytes from a hostile server).
 *
 * Tests link tests/fakes/fake_dns.c instead of dns.c.
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#define DNS_MAX_RR	64	/* more records than this: ST_INVALID */

struct dns;

/* DNSSEC status of an answer (dns_*_sec, dns_tlsa; see dns.c) */
enum dns_sec {
	DNS_SEC_UNKNOWN = 0,	/* not validated, or no reply */
	DNS_SEC_SECURE,
	DNS_SEC_INSECURE,
	DNS_SEC_BOGUS,
	DNS_SEC_INDETERMINATE,
};

struct dns_rrset {
	size_t	  n;
	char	**rr;		/* TXT text, MX host (no trailing dot), or IP text */
	size_t	 *len;
	unsigned *pref;		/* MX only: preference; sorted ascending */
	unsigned  ttl;		/* smallest TTL in the answer */
	enum dns_sec sec;	/* validated lookups: set on every status */
	char	 *cname;	/* ST_OK after a CNAME: the chain's last name
				 * (fully expanded, no trailing dot); else NULL */
};

struct dns	*dns_new(const char *resolvers, int timeout_ms, struct buf *why);
void		 dns_free(struct dns *);
/* dns_set_max_queries - allow up to n queries at once (default 8) */
void		 dns_set_max_queries(struct dns *, int n);
enum status	 dns_txt(struct dns *, const char *name, struct dns_rrset *out,
		    struct buf *why);
enum status	 dns_mx(struct dns *, const char *name, struct dns_rrset *out,
		    struct buf *why);
/* A and AAAA (IPv4 first); ST_OK if either has records */
enum status	 dns_addr(struct dns *, const char *name, struct dns_rrset *out,
		    struct buf *why);
void		 dns_rrset_clear(struct dns_rrset *);

/* dns_stats - queries asked through the handle since dns_new(), and of
 * them failures (ST_TEMPFAIL, ST_INVALID: not NXDOMAIN/NODATA), by
 * record type; lock-free */
enum dns_qtype { DNS_Q_TXT = 0, DNS_Q_MX, DNS_Q_A, DNS_Q_AAAA, DNS_Q_MAX };
struct dns_stats {
	unsigned long	queries[DNS_Q_MAX], failures[DNS_Q_MAX];
};
void		 dns_stats(struct dns *, struct dns_stats *);

/*
 * Lookups that wait in one loop thread instead of the caller's
 * (dns_async.c): dns_async_start() starts it; done(arg, st, out, why)
 * is called once with what dns_txt()/dns_addr() would return, on the
 * loop thread (out and why are the loop's during the call: move out's
 * arrays and zero it to keep them); without the loop, on the caller's
 * before the call returns.  dns_free() stops the loop, as does
 * dns_async_stop(): lookups in flight end ST_TEMPFAIL "shutting down".
 */
typedef void	 dns_done_fn(void *arg, enum status, struct dns_rrset *out,
		    const char *why);
int		 dns_async_start(struct dns *, struct buf *why);
void		 dns_async_stop(struct dns *);
void		 dns_txt_start(struct dns *, const char *name, dns_done_fn *,
		    void *arg);
void		 dns_addr_start(struct dns *, const char *name, dns_done_fn *,
		    void *arg);

/* DNSSEC-validated lookups: out->sec says secure, insecure, bogus, ... */
int		 dns_set_trust_anchors(struct dns *, const char *file,
		    struct buf *why);
enum status	 dns_mx_sec(struct dns *, const char *name,
		    struct dns_rrset *out, struct buf *why);
enum status	 dns_addr_sec(struct dns *, const char *name,
		    struct dns_rrset *out, struct buf *why);
/* TLSA at name (e.g. "_25._tcp.mx.example"): rr[i] "3 1 1 <hex>" */
enum status	 dns_tlsa(struct dns *, const char *name,
		    struct dns_rrset *out, struct buf *why);
/* 1 when the trust anchor's DNSKEY validates through these resolvers */
int		 dns_dnssec_usable(struct dns *, struct buf *why);
/* dns_dnssec_known - 1 and *usable when dns_dnssec_usable()'s verdict
 * is fresh (no I/O: a reactor may ask) */
int		 dns_dnssec_known(struct dns *, int *usable);


#endif
