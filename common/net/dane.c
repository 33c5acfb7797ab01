/*
 * dane.c - DANE for SMTP (RFC 7672): the usable TLSA records of a
 * domain's MX hosts
 *
 * SYNOPSIS
 *	#include "dane.h"
 *
 *	enum status dane_lookup(struct dns *, const char *domain,
 *	    struct dane_result *out, struct buf *why);
 *	void dane_result_clear(struct dane_result *);
 *	enum dane_host_state dane_host(struct dns *, const char *host,
 *	    struct dane_host *out, struct buf *why);
 *
 * DESCRIPTION
 *	dane_lookup() asks, through the DNS seam with DNSSEC validation,
 *	for the MX RRset of domain and, only when it is secure (RFC 7672
 *	2.2.1), for the address records of each MX host (the first
 *	DANE_MAX_HOSTS, in preference order) and, only when those are
 *	secure too (2.2.2), for the TLSA RRset at _25._tcp.<host> (2.2.3).
 *	When the secure address answer came through a CNAME chain, the
 *	TLSA base domain is first the fully expanded name (kept in cname)
 *	and, when that has no secure TLSA RRset, the MX host name (2.2.2);
 *	a bogus or failed answer at the expanded name is the host's
 *	verdict.  The expanded name is a reference identifier for DANE-TA
 *	beside the MX name (3.2.2; tls_probe's dane_cname).
 *	A host's TLSA records are kept when the answer is secure and the
 *	record usable for SMTP: DANE-TA(2) or DANE-EE(3), selector 0 or 1,
 *	matching type 0, 1 or 2 (3.1.3: PKIX-TA(0)/PKIX-EE(1) are not).
 *
 *	The state (dane_state_of):
 *	  DANE_BOGUS	a bogus answer anywhere (MX, address, TLSA): never
 *			used as if it were insecure; the callers defer.
 *	  DANE_ALL	every MX host has usable TLSA.
 *	  DANE_SOME	some do, the others have none.
 *	  DANE_TEMPFAIL	no host is known to have usable TLSA but a lookup
 *			that would tell failed (timeout, SERVFAIL): not
 *			known whether DANE applies; the callers defer.
 *	  DANE_NONE	DANE does not apply: the MX RRset is insecure,
 *			indeterminate or absent, or no host has usable
 *			TLSA.  MTA-STS decides (STS-DANE-1).
 *	An MX lookup that fails with no DNSSEC verdict is DANE_TEMPFAIL.
 *	When validation does not work at all (dns_dnssec_usable(): the
 *	trust anchor's own DNSKEY does not validate, e.g. resolvers that
 *	strip DNSSEC records), the verdict is DANE_NONE with an
 *	indeterminate MX: DNSSEC is unavailable, which the daemon logs;
 *	otherwise every domain would be bogus and all mail deferred.
 *	The cost: whoever can break validation of the anchor itself (an
 *	attacker between us and the resolvers) turns DANE off; use a
 *	resolver on the same host.
 *	ttl is the smallest TTL of the answers used.
 *
 *	dane_host() is the per-host part alone (address security, then
 *	TLSA) for a host named without its domain (stsctl probe HOST).
 *
 *	The MX hosts' lookups run in parallel (dane_hosts_lookup).
 *
 * RETURN VALUES
 *	ST_OK whenever out holds a verdict (every state above); why gets
 *	a line for a bogus or failed lookup.  out is cleared on entry and
 *	released with dane_result_clear().
 *
 * SEE ALSO
 *	RFC 7672, RFC 7671; rfc-checklist.md STS-DANE-1
 */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dane.h"
#include "dns.h"
#include "xmalloc.h"

const char *
dane_sec_str(enum dns_sec s)
{
	switch (s) {
	case DNS_SEC_SECURE:
		return "secure";
	case DNS_SEC_INSECURE:
		return "insecure";
	case DNS_SEC_BOGUS:
		return "bogus";
	case DNS_SEC_INDETERMINATE:
		return "indeterminate";
	case DNS_SEC_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *
dane_state_str(enum dane_state s)
{
	switch (s) {
	case DANE_NONE:
		return "none";
	case DANE_ALL:
		return "all";
	case DANE_SOME:
		return "some";
	case DANE_BOGUS:
		return "bogus";
	case DANE_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

const char *
dane_host_state_str(enum dane_host_state s)
{
	switch (s) {
	case DANE_H_NONE:
		return "no-tlsa";
	case DANE_H_USABLE:
		return "tlsa";
	case DANE_H_BOGUS:
		return "bogus";
	case DANE_H_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

/*
 * dane_tlsa_usable - "usage selector mtype hex" usable for SMTP
 * (RFC 7672 3.1): usage 2 or 3, selector 0 or 1, matching type 0-2,
 * hex data of the matching type's length (any length for type 0).
 */
int
dane_tlsa_usable(const char *rr)
{
	unsigned	u, sel, mt;
	size_t		hex;
	int		n = 0;

	if (rr == NULL || sscanf(rr, "%u %u %u %n", &u, &sel, &mt, &n) != 3 ||
	    n == 0)
		return 0;
	if ((u != 2 && u != 3) || sel > 1 || mt > 2)
		return 0;
	hex = strspn(rr + n, "0123456789abcdefABCDEF");
	if (hex == 0 || rr[n + hex] != '\0' || hex % 2 != 0)
		return 0;
	return mt == 0 || hex == (mt == 1 ? 64u : 128u);
}

enum dane_state
dane_state_of(const struct dane_result *r)
{
	size_t	i, usable = 0, tempfail = 0;

	if (r->mx_sec == DNS_SEC_BOGUS)
		return DANE_BOGUS;
	for (i = 0; i < r->nhost; i++)
		switch (r->host[i].state) {
		case DANE_H_BOGUS:
			return DANE_BOGUS;
		case DANE_H_USABLE:
			usable++;
			break;
		case DANE_H_TEMPFAIL:
			tempfail++;
			break;
		case DANE_H_NONE:
			break;
		}
	if (usable > 0)
		return usable == r->nhost ? DANE_ALL : DANE_SOME;
	return tempfail > 0 ? DANE_TEMPFAIL : DANE_NONE;
}

const struct dane_host *
dane_host_find(const struct dane_result *r, const char *host)
{
	size_t	i;

	for (i = 0; i < r->nhost; i++)
		if (strcasecmp(r->host[i].name, host) == 0)
			return &r->host[i];
	return NULL;
}

void
dane_policy_string(const char *const *tlsa, size_t n, struct buf *out)
{
	const char	*p;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(out, '\n');
		for (p = tlsa[i]; *p != '\0'; p++)
			buf_putc(out, *p >= 'a' && *p <= 'f' ?
			    (char)(*p - ('a' - 'A')) : *p);
	}
}

const char *
dane_host_bogus(const struct dane_host *h)
{
	if (h->state != DANE_H_BOGUS)
		return NULL;
	return h->addr_sec == DNS_SEC_BOGUS ? "address-bogus" : "tlsa-bogus";
}

const char *
dane_bogus_where(const struct dane_result *r, const char **host)
{
	size_t	i;

	*host = NULL;
	if (r->mx_sec == DNS_SEC_BOGUS)
		return "mx-bogus";
	for (i = 0; i < r->nhost; i++)
		if (r->host[i].state == DANE_H_BOGUS) {
			*host = r->host[i].name;
			return dane_host_bogus(&r->host[i]);
		}
	return NULL;
}

void
dane_result_clear(struct dane_result *r)
{
	size_t	i;

	for (i = 0; i < r->nhost; i++)
		dane_host_clear(&r->host[i]);
	memset(r, 0, sizeof(*r));
}

static void
dane_ttl(unsigned *min, unsigned ttl)
{
	if (ttl < *min)
		*min = ttl;
}

/* dane_host_lookup - address security, then TLSA, of one MX host; *ttl
 * gets the smallest TTL of the answers used */
static void
dane_host_lookup(struct dns *d, struct dane_host *h, unsigned *ttl,
    struct buf *why);

enum dane_host_state
dane_host(struct dns *d, const char *host, struct dane_host *h,
    struct buf *why)
{
	unsigned	ttl = UINT32_MAX;

	memset(h, 0, sizeof(*h));
	h->name = xstrdup(host);
	dane_host_lookup(d, h, &ttl, why);
	return h->state;
}

void
dane_host_clear(struct dane_host *h)
{
	size_t	j;

	free(h->name);
	free(h->cname);
	for (j = 0; j < h->ntlsa; j++)
		free(h->tlsa[j]);
	free(h->tlsa);
	memset(h, 0, sizeof(*h));
}

/*
 * dane_tlsa_at - the TLSA RRset at _25._tcp.<base> (RFC 7672 2.2.3):
 * 1 when it is a secure answer (h's usable records kept, possibly
 * none), 0 when it is no secure RRset (none, insecure), -1 with
 * h->state set when it is bogus or failed
 */
static int
dane_tlsa_at(struct dns *d, struct dane_host *h, const char *base,
    unsigned *ttl, struct buf *why)
{
	struct dns_rrset	 rs;
	struct buf		 qname = BUF_INIT;
	enum status		 st;
	size_t			 i;
	int			 rc = 0;

	buf_printf(&qname, "_25._tcp.%s", base);
	st = dns_tlsa(d, buf_str(&qname), &rs, why);
	buf_free(&qname);
	h->tlsa_sec = rs.sec;
	if (rs.sec == DNS_SEC_BOGUS) {
		h->state = DANE_H_BOGUS;
		rc = -1;
	} else if (st == ST_TEMPFAIL || st == ST_INVALID) {
		h->state = DANE_H_TEMPFAIL;
		rc = -1;
	} else if (st == ST_OK && rs.sec == DNS_SEC_SECURE) {
		dane_ttl(ttl, rs.ttl);
		for (i = 0; i < rs.n; i++) {
			if (!dane_tlsa_usable(rs.rr[i]))
				continue;
			h->tlsa = xreallocarray(h->tlsa, h->ntlsa + 1,
			    sizeof(*h->tlsa));
			h->tlsa[h->ntlsa++] = xstrdup(rs.rr[i]);
		}
		if (h->ntlsa > 0)
			h->state = DANE_H_USABLE;
		rc = 1;
	}
	dns_rrset_clear(&rs);
	return rc;
}

/*
 * dane_host_lookup - address security, then TLSA, of one MX host.
 * RFC 7672 2.2.2: TLSA only for a secure address answer; when that
 * answer came through a (secure) CNAME chain, the TLSA base domain is
 * first the fully expanded name and, when that has no secure TLSA
 * RRset, the MX host name.  A bogus or failed TLSA answer at the
 * expanded name is the host's verdict (no fallback around it).
 */
static void
dane_host_lookup(struct dns *d, struct dane_host *h, unsigned *ttl,
    struct buf *why)
{
	struct dns_rrset	 rs;
	enum status		 st;
	int			 got = 0;

	st = dns_addr_sec(d, h->name, &rs, why);
	h->addr_sec = rs.sec;
	if (st == ST_OK)
		dane_ttl(ttl, rs.ttl);
	if (st == ST_OK && rs.sec == DNS_SEC_SECURE && rs.cname != NULL &&
	    strcasecmp(rs.cname, h->name) != 0) {
		h->cname = rs.cname;
		rs.cname = NULL;
	}
	dns_rrset_clear(&rs);
	if (h->addr_sec == DNS_SEC_BOGUS) {
		h->state = DANE_H_BOGUS;
		return;
	}
	if (st == ST_TEMPFAIL || st == ST_INVALID) {
		h->state = DANE_H_TEMPFAIL;
		return;
	}
	/* RFC 7672 2.2.2: no TLSA lookup for an insecure (or no) address */
	if (st != ST_OK || h->addr_sec != DNS_SEC_SECURE)
		return;
	if (h->cname != NULL &&
	    (got = dane_tlsa_at(d, h, h->cname, ttl, why)) != 0) {
		h->tlsa_at_cname = got > 0;
		return;
	}
	(void)dane_tlsa_at(d, h, h->name, ttl, why);
}

/* One MX host's lookups, on a thread of its own. */
struct dane_job {
	struct dns		*d;
	struct dane_host	*h;
	unsigned		 ttl;
	struct buf		 why;
	pthread_t		 t;
	int			 started;
};

static void *
dane_job_run(void *arg)
{
	struct dane_job	*j = arg;

	dane_host_lookup(j->d, j->h, &j->ttl, &j->why);
	return NULL;
}

/*
 * dane_hosts_lookup - the lookups of r's MX hosts, in parallel: a cold
 * domain costs the slowest host's lookups, not their sum (a thread per
 * host but the first, which runs here; a host whose thread cannot be
 * made runs here too).  r->ttl and why take the hosts' results in MX
 * order, as one after the other would give them.
 */
static void
dane_hosts_lookup(struct dns *d, struct dane_result *r, struct buf *why)
{
	struct dane_job	job[DANE_MAX_HOSTS];
	size_t		i;

	for (i = 0; i < r->nhost; i++) {
		job[i].d = d;
		job[i].h = &r->host[i];
		job[i].ttl = UINT32_MAX;
		buf_init(&job[i].why, 0);
		job[i].started = i > 0 && pthread_create(&job[i].t, NULL,
		    dane_job_run, &job[i]) == 0;
	}
	for (i = 0; i < r->nhost; i++) {
		if (job[i].started)
			pthread_join(job[i].t, NULL);
		else
			dane_job_run(&job[i]);
		dane_ttl(&r->ttl, job[i].ttl);
		if (job[i].why.b_len > 0 && why->b_len == 0)
			buf_puts(why, buf_str(&job[i].why));
		buf_free(&job[i].why);
	}
}

enum status
dane_lookup(struct dns *d, const char *domain, struct dane_result *out,
    struct buf *why)
{
	struct dns_rrset	 mx;
	enum status		 st;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	out->ttl = UINT32_MAX;
	/* validation that cannot work at all is no verdict on the domain */
	if (!dns_dnssec_usable(d, why)) {
		out->mx_sec = DNS_SEC_INDETERMINATE;
		out->ttl = 60;
		return ST_OK;
	}
	st = dns_mx_sec(d, domain, &mx, why);
	out->mx_sec = mx.sec;
	if (st == ST_OK)
		dane_ttl(&out->ttl, mx.ttl);
	if (mx.sec == DNS_SEC_BOGUS)
		out->state = DANE_BOGUS;
	else if (st == ST_TEMPFAIL || st == ST_INVALID)
		out->state = DANE_TEMPFAIL;
	else if (st == ST_OK && mx.sec == DNS_SEC_SECURE) {
		for (i = 0; i < mx.n && out->nhost < DANE_MAX_HOSTS; i++)
			if (mx.rr[i][0] != '\0')	/* not a null MX */
				out->host[out->nhost++].name =
				    xstrdup(mx.rr[i]);
		dane_hosts_lookup(d, out, why);
		out->state = dane_state_of(out);
	}
	dns_rrset_clear(&mx);
	if (out->ttl == UINT32_MAX)
		out->ttl = 0;
	return ST_OK;
}
