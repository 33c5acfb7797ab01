/*
 * test_dane.c - RFC 7672 lookups of dane.c through the fake DNS seam:
 * each DNSSEC status of the MX, address and TLSA answers (STS-DANE-1:
 * a bogus answer is never taken for an insecure one)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dane.h"
#include "dane_cache.h"
#include "dns.h"
#include "fakes.h"
#include "status.h"

#include "../harness.h"

#define EE	FAKE_DANE_EE
#define TA	"2 0 1 fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define PKIX	"1 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
	const char	*rr;
	int		 usable;
} usable_cases[] = {
	{ EE, 1 },
	{ TA, 1 },
	{ "3 0 0 3082", 1 },				/* full certificate */
	{ "3 1 2 " "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1 },
	{ PKIX, 0 },					/* RFC 7672 3.1.3 */
	{ "0 0 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0 },
	{ "3 2 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0 },
	{ "3 1 3 00", 0 },
	{ "3 1 1 0123", 0 },				/* SHA-256 of 2 bytes */
	{ "3 1 1 zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0 },
	{ "3 1 0 abc", 0 },				/* odd hex */
	{ "3 1 1", 0 },
	{ "", 0 },
	{ NULL, 0 },
};

static void
test_dane_tlsa_usable(void)
{
	size_t	i;

	for (i = 0; i < sizeof(usable_cases) / sizeof(usable_cases[0]); i++)
		CHECKF(dane_tlsa_usable(usable_cases[i].rr) ==
		    usable_cases[i].usable, "row %zu: %s", i,
		    usable_cases[i].rr ? usable_cases[i].rr : "(null)");
}

/* One MX host of a scenario: address and TLSA answers and their status. */
struct host_row {
	const char	*name;
	enum status	 addr_st;
	enum dns_sec	 addr_sec;
	enum status	 tlsa_st;
	enum dns_sec	 tlsa_sec;
	const char	*tlsa1, *tlsa2;
	enum dane_host_state want;
	size_t		 want_ntlsa;
};

static const struct {
	const char	*what;
	enum status	 mx_st;
	enum dns_sec	 mx_sec;
	struct host_row	 h[2];
	enum dane_state	 want;
	const char	*where, *where_host;	/* dane_bogus_where */
} lookup_cases[] = {
	{ "secure MX, DANE-EE", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_USABLE, 1 } }, DANE_ALL, NULL, NULL },
	{ "secure MX, DANE-TA + PKIX-EE: only the usable one kept", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, TA, PKIX,
	      DANE_H_USABLE, 1 } }, DANE_ALL, NULL, NULL },
	{ "only PKIX-EE: no DANE", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, PKIX, NULL,
	      DANE_H_NONE, 0 } }, DANE_NONE, NULL, NULL },
	{ "one of two MX hosts with TLSA", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_USABLE, 1 },
	    { "mx2.d.test", ST_OK, DNS_SEC_SECURE, ST_NOTFOUND, DNS_SEC_SECURE, NULL, NULL,
	      DANE_H_NONE, 0 } }, DANE_SOME, NULL, NULL },
	{ "insecure MX: TLSA ignored (RFC 7672 2.2.1)", ST_OK, DNS_SEC_INSECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_NONE, 0 } }, DANE_NONE, NULL, NULL },
	{ "indeterminate MX: MTA-STS decides", ST_OK, DNS_SEC_INDETERMINATE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_NONE, 0 } }, DANE_NONE, NULL, NULL },
	{ "bogus MX: never a downgrade", ST_OK, DNS_SEC_BOGUS,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_NONE, 0 } }, DANE_BOGUS, "mx-bogus", NULL },
	{ "bogus NXDOMAIN for the MX", ST_NOTFOUND, DNS_SEC_BOGUS,
	  { { NULL } }, DANE_BOGUS, "mx-bogus", NULL },
	{ "MX lookup failed", ST_TEMPFAIL, DNS_SEC_UNKNOWN,
	  { { NULL } }, DANE_TEMPFAIL, NULL, NULL },
	{ "secure NXDOMAIN: no MX, no DANE", ST_NOTFOUND, DNS_SEC_SECURE,
	  { { NULL } }, DANE_NONE, NULL, NULL },
	{ "insecure address: no TLSA lookup (2.2.2)", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_INSECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_NONE, 0 } }, DANE_NONE, NULL, NULL },
	{ "bogus address", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_BOGUS, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_BOGUS, 0 } }, DANE_BOGUS, "address-bogus", "mx1.d.test" },
	{ "bogus TLSA on the second host", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_USABLE, 1 },
	    { "mx2.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_BOGUS, EE, NULL,
	      DANE_H_BOGUS, 0 } }, DANE_BOGUS, "tlsa-bogus", "mx2.d.test" },
	{ "insecure TLSA (unsigned zone of the host)", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_INSECURE, EE, NULL,
	      DANE_H_NONE, 0 } }, DANE_NONE, NULL, NULL },
	{ "TLSA lookup failed, no other host", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_TEMPFAIL, DNS_SEC_UNKNOWN, NULL, NULL,
	      DANE_H_TEMPFAIL, 0 } }, DANE_TEMPFAIL, NULL, NULL },
	{ "TLSA lookup failed on one host of two", ST_OK, DNS_SEC_SECURE,
	  { { "mx1.d.test", ST_OK, DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, EE, NULL,
	      DANE_H_USABLE, 1 },
	    { "mx2.d.test", ST_OK, DNS_SEC_SECURE, ST_TEMPFAIL, DNS_SEC_UNKNOWN, NULL, NULL,
	      DANE_H_TEMPFAIL, 0 } }, DANE_SOME, NULL, NULL },
};

static void
test_dane_lookup_table(void)
{
	struct dane_result	 r;
	struct buf		 why = BUF_INIT;
	const char		*where, *host;
	size_t			 i, j;

	for (i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]); i++) {
		fake_dns_reset();
		if (lookup_cases[i].h[1].name != NULL)
			fake_dns_set("MX", "d.test", lookup_cases[i].mx_st,
			    "10 mx1.d.test", "20 mx2.d.test", NULL);
		else
			fake_dns_set("MX", "d.test", lookup_cases[i].mx_st,
			    "10 mx1.d.test", NULL);
		fake_dns_set_sec("MX", "d.test", lookup_cases[i].mx_sec);
		for (j = 0; j < 2 && lookup_cases[i].h[j].name; j++) {
			const struct host_row *h = &lookup_cases[i].h[j];

			fake_dane_addr(h->name, h->addr_st, h->addr_sec);
			fake_dane_tlsa(h->name, h->tlsa_st, h->tlsa_sec,
			    h->tlsa1, h->tlsa2);
		}
		CHECK_INT(dane_lookup(NULL, "d.test", &r, &why), ST_OK);
		CHECKF(r.state == lookup_cases[i].want, "%s: state %s",
		    lookup_cases[i].what, dane_state_str(r.state));
		CHECKF(r.mx_sec == lookup_cases[i].mx_sec, "%s: mx_sec %s",
		    lookup_cases[i].what, dane_sec_str(r.mx_sec));
		for (j = 0; j < 2 && lookup_cases[i].h[j].name &&
		    r.mx_sec == DNS_SEC_SECURE &&
		    lookup_cases[i].mx_st == ST_OK; j++) {
			const struct host_row *h = &lookup_cases[i].h[j];
			const struct dane_host *got = dane_host_find(&r,
			    h->name);

			CHECKF(got != NULL, "%s: host %s", lookup_cases[i].what,
			    h->name);
			if (got == NULL)
				continue;
			CHECKF(got->state == h->want && got->ntlsa ==
			    h->want_ntlsa, "%s: host %s state %s ntlsa %zu",
			    lookup_cases[i].what, h->name,
			    dane_host_state_str(got->state), got->ntlsa);
		}
		where = dane_bogus_where(&r, &host);
		CHECKF((where == NULL && lookup_cases[i].where == NULL) ||
		    (where != NULL && lookup_cases[i].where != NULL &&
		    strcmp(where, lookup_cases[i].where) == 0),
		    "%s: where %s", lookup_cases[i].what, where ? where : "-");
		CHECKF((host == NULL && lookup_cases[i].where_host == NULL) ||
		    (host != NULL && lookup_cases[i].where_host != NULL &&
		    strcmp(host, lookup_cases[i].where_host) == 0),
		    "%s: where host %s", lookup_cases[i].what,
		    host ? host : "-");
		if (r.state != DANE_NONE && r.mx_sec == DNS_SEC_SECURE &&
		    lookup_cases[i].mx_st == ST_OK)
			CHECKF(r.ttl == 300, "%s: ttl %u", lookup_cases[i].what,
			    r.ttl);
		dane_result_clear(&r);
	}
	buf_free(&why);
}

/* A null MX (RFC 7505) is no host; a domain of only that has no DANE. */
static void
test_dane_null_mx(void)
{
	struct dane_result	r;
	struct buf		why = BUF_INIT;

	fake_dns_reset();
	fake_dns_set("MX", "d.test", ST_OK, "0 ", NULL);
	fake_dns_set_sec("MX", "d.test", DNS_SEC_SECURE);
	CHECK_INT(dane_lookup(NULL, "d.test", &r, &why), ST_OK);
	CHECK_INT(r.state, DANE_NONE);
	CHECK_INT(r.nhost, 0);
	dane_result_clear(&r);
	buf_free(&why);
}

/* The TLSA lookup is not even made for an insecure address (2.2.2). */
static void
test_dane_no_tlsa_query_when_insecure(void)
{
	struct dane_result	r;
	struct buf		why = BUF_INIT;

	fake_dns_reset();
	fake_dns_set("MX", "d.test", ST_OK, "10 mx1.d.test", NULL);
	fake_dns_set_sec("MX", "d.test", DNS_SEC_SECURE);
	fake_dane_addr("mx1.d.test", ST_OK, DNS_SEC_INSECURE);
	CHECK_INT(dane_lookup(NULL, "d.test", &r, &why), ST_OK);
	CHECK_INT(fake_dns_calls(), 2);		/* MX, A: no TLSA */
	CHECK_INT(r.host[0].state, DANE_H_NONE);
	dane_result_clear(&r);
	buf_free(&why);
}

/* dane_cache: kept for the TTL (fake answers: 300 s), failures 30 s */
static void
test_dane_cache_ttl(void)
{
	struct dane_cache	*dc;
	struct dane_result	 r;
	enum dane_state		 st;
	int			 calls;

	fake_dns_reset();
	fake_clock_set(1000000);
	fake_dane_domain("a.test", "mx.a.test", DNS_SEC_SECURE);
	fake_dane_domain("b.test", "mx.b.test", DNS_SEC_BOGUS);
	dc = dane_cache_new(NULL, 100);
	CHECK(!dane_cache_peek(dc, "a.test", &st));
	CHECK_INT(dane_cache_get(dc, "a.test", &r), DANE_ALL);
	CHECK_INT(r.nhost, 1);
	CHECK_INT(r.host[0].ntlsa, 1);
	CHECK_STR(r.host[0].tlsa[0], EE);
	dane_result_clear(&r);
	calls = fake_dns_calls();
	CHECK_INT(dane_cache_get(dc, "A.Test", NULL), DANE_ALL);
	CHECK(dane_cache_peek(dc, "a.test", &st) && st == DANE_ALL);
	CHECK_INT(fake_dns_calls(), calls);		/* no I/O */
	CHECK_INT(dane_cache_get(dc, "b.test", NULL), DANE_BOGUS);
	fake_clock_advance(DANE_CACHE_FAIL_TTL);
	CHECK(!dane_cache_peek(dc, "b.test", &st));	/* failures: 30 s */
	CHECK(dane_cache_peek(dc, "a.test", &st));
	fake_clock_advance(300 - DANE_CACHE_FAIL_TTL);
	CHECK(!dane_cache_peek(dc, "a.test", &st));	/* the TTL */
	calls = fake_dns_calls();
	CHECK_INT(dane_cache_get(dc, "a.test", NULL), DANE_ALL);
	CHECK(fake_dns_calls() > calls);
	CHECK_INT(dane_cache_count(dc), 2);
	dane_cache_free(dc);
}

/*
 * RFC 7672 2.2.2: an MX host whose secure address answer came through a
 * CNAME chain has its TLSA looked up at the expanded name first, then at
 * the MX name; an insecure expansion gets no TLSA lookup at all.
 */
static const struct {
	const char	*what;
	enum dns_sec	 addr_sec;
	enum status	 exp_st;	/* TLSA at _25._tcp.target.d.test */
	enum dns_sec	 exp_sec;
	enum status	 init_st;	/* TLSA at _25._tcp.mx.d.test */
	enum dns_sec	 init_sec;
	enum dane_host_state want;
	const char	*want_rr;	/* the record kept */
	int		 want_at_cname;
	int		 want_calls;	/* MX, A, TLSA... */
} cname_cases[] = {
	{ "TLSA at the expanded name", DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE,
	  ST_OK, DNS_SEC_SECURE, DANE_H_USABLE, TA, 1, 3 },
	{ "none there (secure denial): the MX name", DNS_SEC_SECURE, ST_NOTFOUND,
	  DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, DANE_H_USABLE, EE, 0, 4 },
	{ "insecure there: the MX name", DNS_SEC_SECURE, ST_OK, DNS_SEC_INSECURE,
	  ST_OK, DNS_SEC_SECURE, DANE_H_USABLE, EE, 0, 4 },
	{ "none at either", DNS_SEC_SECURE, ST_NOTFOUND, DNS_SEC_SECURE,
	  ST_NOTFOUND, DNS_SEC_SECURE, DANE_H_NONE, NULL, 0, 4 },
	{ "bogus at the expanded name: no fallback", DNS_SEC_SECURE, ST_OK,
	  DNS_SEC_BOGUS, ST_OK, DNS_SEC_SECURE, DANE_H_BOGUS, NULL, 0, 3 },
	{ "failed at the expanded name: no fallback", DNS_SEC_SECURE, ST_TEMPFAIL,
	  DNS_SEC_UNKNOWN, ST_OK, DNS_SEC_SECURE, DANE_H_TEMPFAIL, NULL, 0, 3 },
	{ "insecure CNAME chain: no TLSA lookup", DNS_SEC_INSECURE, ST_OK,
	  DNS_SEC_SECURE, ST_OK, DNS_SEC_SECURE, DANE_H_NONE, NULL, 0, 2 },
};

static void
test_dane_cname(void)
{
	struct dane_result	 r;
	struct buf		 why = BUF_INIT;
	size_t			 i;

	for (i = 0; i < sizeof(cname_cases) / sizeof(cname_cases[0]); i++) {
		fake_dns_reset();
		fake_dns_set("MX", "d.test", ST_OK, "10 mx.d.test", NULL);
		fake_dns_set_sec("MX", "d.test", DNS_SEC_SECURE);
		fake_dane_addr("mx.d.test", ST_OK, cname_cases[i].addr_sec);
		fake_dns_set_cname("A", "mx.d.test", "target.d.test");
		fake_dane_tlsa("target.d.test", cname_cases[i].exp_st,
		    cname_cases[i].exp_sec, TA, NULL);
		fake_dane_tlsa("mx.d.test", cname_cases[i].init_st,
		    cname_cases[i].init_sec, EE, NULL);
		CHECK_INT(dane_lookup(NULL, "d.test", &r, &why), ST_OK);
		CHECKF(r.nhost == 1 && r.host[0].state == cname_cases[i].want,
		    "%s: state %s", cname_cases[i].what,
		    dane_host_state_str(r.host[0].state));
		CHECKF(cname_cases[i].want_rr == NULL ? r.host[0].ntlsa == 0 :
		    r.host[0].ntlsa == 1 && strcmp(r.host[0].tlsa[0],
		    cname_cases[i].want_rr) == 0, "%s: records",
		    cname_cases[i].what);
		CHECKF(r.host[0].tlsa_at_cname == cname_cases[i].want_at_cname,
		    "%s: tlsa_at_cname", cname_cases[i].what);
		CHECKF(cname_cases[i].addr_sec == DNS_SEC_SECURE ?
		    r.host[0].cname != NULL &&
		    strcmp(r.host[0].cname, "target.d.test") == 0 :
		    r.host[0].cname == NULL, "%s: cname", cname_cases[i].what);
		CHECKF(fake_dns_calls() == cname_cases[i].want_calls,
		    "%s: %d lookups", cname_cases[i].what, fake_dns_calls());
		dane_result_clear(&r);
	}
	buf_free(&why);
}

static int	bogus_calls;
static char	bogus_domain[64];

static void
on_bogus(void *arg, const char *domain, const struct dane_result *r)
{
	const char	*host;

	bogus_calls += *(int *)arg;
	snprintf(bogus_domain, sizeof(bogus_domain), "%s", domain);
	CHECK_STR(dane_bogus_where(r, &host), "tlsa-bogus");
}

/* dane_cache_on_bogus: once per lookup with a bogus verdict, not for
 * cached verdicts nor other states */
static void
test_dane_cache_on_bogus(void)
{
	struct dane_cache	*dc;
	int			 one = 1;

	fake_dns_reset();
	fake_clock_set(3000000);
	fake_dane_domain("a.test", "mx.a.test", DNS_SEC_SECURE);
	fake_dane_domain("b.test", "mx.b.test", DNS_SEC_BOGUS);
	bogus_calls = 0;
	dc = dane_cache_new(NULL, 100);
	dane_cache_on_bogus(dc, on_bogus, &one);
	CHECK_INT(dane_cache_get(dc, "a.test", NULL), DANE_ALL);
	CHECK_INT(bogus_calls, 0);
	CHECK_INT(dane_cache_get(dc, "b.test", NULL), DANE_BOGUS);
	CHECK_INT(bogus_calls, 1);
	CHECK_STR(bogus_domain, "b.test");
	CHECK_INT(dane_cache_get(dc, "b.test", NULL), DANE_BOGUS);
	CHECK_INT(bogus_calls, 1);			/* cached */
	fake_clock_advance(DANE_CACHE_FAIL_TTL);
	CHECK_INT(dane_cache_get(dc, "b.test", NULL), DANE_BOGUS);
	CHECK_INT(bogus_calls, 2);			/* looked up again */
	dane_cache_free(dc);
}

static struct dane_cache *sf_cache;

static void *
sf_get(void *arg)
{
	struct dane_result	r;

	*(enum dane_state *)arg = dane_cache_get(sf_cache, "a.test", &r);
	if (r.nhost != 1 || r.host[0].ntlsa != 1)
		*(enum dane_state *)arg = DANE_NONE;
	dane_result_clear(&r);
	return NULL;
}

/* single-flight: eight threads miss the same domain while its lookup
 * runs (every answer takes 100 ms): one lookup (MX, A, TLSA), eight
 * verdicts with their hosts */
static void
test_dane_cache_single_flight(void)
{
	pthread_t	t[8];
	enum dane_state	st[8];
	unsigned long	lookups, joined;
	int		i;

	fake_dns_reset();
	fake_clock_set(4000000);
	fake_dane_domain("a.test", "mx.a.test", DNS_SEC_SECURE);
	fake_dns_delay_ms(100);
	sf_cache = dane_cache_new(NULL, 100);
	for (i = 0; i < 8; i++)
		CHECK(pthread_create(&t[i], NULL, sf_get, &st[i]) == 0);
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECKF(st[i] == DANE_ALL, "thread %d: %s", i,
		    dane_state_str(st[i]));
	}
	CHECK_INT(fake_dns_calls(), 3);
	dane_cache_counts(sf_cache, &lookups, &joined);
	CHECK_INT(lookups, 1);
	CHECK(joined <= 7);		/* the others found the verdict cached */
	dane_cache_free(sf_cache);
	fake_dns_delay_ms(0);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* the MX hosts of a cold domain are looked up in parallel: 4 hosts with
 * every answer 150 ms away cost MX + A + TLSA (450 ms), not MX + 4 *
 * (A + TLSA) (1350 ms); same verdict, hosts in MX order */
static void
test_dane_parallel_hosts(void)
{
	struct dane_result	r;
	struct buf		why = BUF_INIT;
	struct timespec		t0;
	static const char *const mx[4] = { "mx1.p.test", "mx2.p.test",
	    "mx3.p.test", "mx4.p.test" };
	long			ms;
	size_t			i;

	fake_dns_reset();
	fake_dns_set("MX", "p.test", ST_OK, "10 mx1.p.test", "20 mx2.p.test",
	    "30 mx3.p.test", "40 mx4.p.test", NULL);
	fake_dns_set_sec("MX", "p.test", DNS_SEC_SECURE);
	for (i = 0; i < 4; i++) {
		fake_dane_addr(mx[i], ST_OK, DNS_SEC_SECURE);
		if (i == 2)			/* one without TLSA */
			continue;
		fake_dane_tlsa(mx[i], ST_OK, DNS_SEC_SECURE, EE, NULL);
	}
	fake_dns_delay_ms(150);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(dane_lookup(NULL, "p.test", &r, &why), ST_OK);
	ms = ms_since(&t0);
	fake_dns_delay_ms(0);
	CHECKF(ms < 1000, "4 hosts took %ld ms (one after the other: 1350)",
	    ms);
	CHECK_INT(r.state, DANE_SOME);
	CHECK_INT(r.nhost, 4);
	for (i = 0; i < 4 && i < r.nhost; i++) {
		CHECK_STR(r.host[i].name, mx[i]);
		CHECKF(r.host[i].state == (i == 2 ? DANE_H_NONE : DANE_H_USABLE),
		    "host %zu: %s", i, dane_host_state_str(r.host[i].state));
	}
	CHECK_INT(r.ttl, 300);
	CHECK_INT(fake_dns_calls(), 9);
	dane_result_clear(&r);
	buf_free(&why);
}

/* a full cache drops what has expired, else keeps nothing new */
static void
test_dane_cache_full(void)
{
	struct dane_cache	*dc;
	enum dane_state		 st;

	fake_dns_reset();
	fake_clock_set(2000000);
	fake_dane_domain("a.test", "mx.a.test", DNS_SEC_SECURE);
	fake_dane_domain("b.test", "mx.b.test", DNS_SEC_SECURE);
	fake_dane_domain("c.test", "mx.c.test", DNS_SEC_SECURE);
	dc = dane_cache_new(NULL, 2);
	CHECK_INT(dane_cache_get(dc, "a.test", NULL), DANE_ALL);
	CHECK_INT(dane_cache_get(dc, "b.test", NULL), DANE_ALL);
	CHECK_INT(dane_cache_get(dc, "c.test", NULL), DANE_ALL);
	CHECK_INT(dane_cache_count(dc), 2);
	CHECK(!dane_cache_peek(dc, "c.test", &st));
	fake_clock_advance(301);
	CHECK_INT(dane_cache_get(dc, "c.test", NULL), DANE_ALL);
	CHECK_INT(dane_cache_count(dc), 1);
	CHECK(dane_cache_peek(dc, "c.test", &st));
	dane_cache_free(dc);
}

/* validation that cannot work at all: no verdict on the domain (none),
 * not bogus for everything; no MX query made */
static void
test_dane_dnssec_unusable(void)
{
	struct dane_result	r;
	struct buf		why = BUF_INIT;

	fake_dns_reset();
	fake_dane_domain("a.test", "mx.a.test", DNS_SEC_SECURE);
	fake_dns_dnssec_unusable(1);
	CHECK_INT(dane_lookup(NULL, "a.test", &r, &why), ST_OK);
	CHECK_INT(r.state, DANE_NONE);
	CHECK_INT(r.mx_sec, DNS_SEC_INDETERMINATE);
	CHECK_INT(fake_dns_calls(), 0);
	CHECK(strstr(buf_str(&why), "DNSKEY") != NULL);
	dane_result_clear(&r);
	fake_dns_dnssec_unusable(0);
	CHECK_INT(dane_lookup(NULL, "a.test", &r, &why), ST_OK);
	CHECK_INT(r.state, DANE_ALL);
	dane_result_clear(&r);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_dane_tlsa_usable);
	RUN(test_dane_lookup_table);
	RUN(test_dane_null_mx);
	RUN(test_dane_no_tlsa_query_when_insecure);
	RUN(test_dane_cache_ttl);
	RUN(test_dane_cache_full);
	RUN(test_dane_cache_on_bogus);
	RUN(test_dane_cname);
	RUN(test_dane_cache_single_flight);
	RUN(test_dane_parallel_hosts);
	RUN(test_dane_dnssec_unusable);
	return harness_done("test_dane");
}
