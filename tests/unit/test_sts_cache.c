/*
 * test_sts_cache.c - policy cache timing through the DNS, HTTP and clock
 * fakes (rfc-checklist 1.6 and vectors C-1..C-9)
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakes.h"
#include "harness.h"
#include "sts_cache.h"
#include "xmalloc.h"

#define URL(d)	"https://mta-sts." d "/.well-known/mta-sts.txt"

static const char *POL_A =
    "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";
static const char *POL_B =
    "version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 604800\n";

static char	tmpdir[64];
static int	g_backoff = 300;

static struct sts_cache *
new_cache(const char *dir)
{
	struct sts_cache_opts o;

	fake_cache_opts(&o, dir);
	o.fetch_backoff = g_backoff;
	return sts_cache_new(&o);
}

static void
setup(const char *txt, const char *body)
{
	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(1700000000);
	if (txt)
		fake_dns_set("TXT", "_mta-sts.example.com", ST_OK, txt, NULL);
	fake_dns_set("A", "mta-sts.example.com", ST_OK, "192.0.2.1", NULL);
	if (body)
		fake_http_set(URL("example.com"), 200, "text/plain", body,
		    HTTP_FAIL_NONE);
}

/* C-1: cached id A, TXT id A -> cache used, no fetch */
static void
test_cache_hit_no_io(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK(l.policy && l.policy->p_mode == STS_MODE_ENFORCE);
	CHECK_STR(l.id, "A1");
	CHECK_INT(l.from_cache, 0);
	CHECK_INT(l.expires, 1700000000 + 86400);
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 1);
	fake_clock_advance(10);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_INT(l.from_cache, 1);
	sts_lookup_clear(&l);
	CHECK_INT(fake_dns_calls(), 2);	/* TXT + A of the first lookup only */
	CHECK_INT(fake_http_calls(), 1);
	/* After the grace the TXT id is checked again, but same id: no fetch */
	fake_clock_advance(301);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_INT(l.from_cache, 0);
	sts_lookup_clear(&l);
	CHECK_INT(fake_dns_calls(), 3);
	CHECK_INT(fake_http_calls(), 1);
	sts_cache_free(c);
}

/* C-2: TXT id changes, fetch succeeds -> new policy, new fetch time */
static void
test_cache_id_change_refetch(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_clock_advance(400);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_OK, "v=STSv1; id=B2", NULL);
	fake_http_set(URL("example.com"), 200, "text/plain", POL_B, HTTP_FAIL_NONE);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_STR(l.id, "B2");
	CHECK(l.policy && l.policy->p_mode == STS_MODE_TESTING);
	CHECK_INT(l.fetched, 1700000400);
	CHECK_INT(l.expires, 1700000400 + 604800);
	CHECK_INT(fake_http_calls(), 2);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* C-3, STS-CACHE-7, STS-HTTP-5: new id, fetch fails -> keep A, back off */
static void
test_cache_id_change_fetch_fails(void)
{
	struct sts_cache	*c;
	struct sts_lookup	 l;

	g_backoff = 600;
	c = new_cache(NULL);
	g_backoff = 300;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_clock_advance(400);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_OK, "v=STSv1; id=B2", NULL);
	fake_http_set(URL("example.com"), 404, "text/html", "gone", HTTP_FAIL_NONE);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_STR(l.id, "A1");
	CHECK_STR(l.txt_id, "B2");
	CHECK(l.policy && l.policy->p_mode == STS_MODE_ENFORCE);
	CHECK_INT(l.fetch_failed, 1);
	CHECK_INT(l.fetch_result, TLSRPT_STS_POLICY_FETCH_ERROR);
	CHECK(strstr(l.reason, "404") != NULL);
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 2);
	/* Within the back-off the same id is not fetched again. */
	fake_clock_advance(301);	/* TXT check due again */
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 2);
	/* After the back-off it is. */
	fake_clock_advance(301);
	fake_http_set(URL("example.com"), 200, "text/plain", POL_B, HTTP_FAIL_NONE);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_STR(l.id, "B2");
	CHECK_INT(l.fetch_failed, 0);
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 3);
	sts_cache_free(c);
}

/* C-4, STS-TXT-5, STS-CACHE-6: TXT gone or SERVFAIL -> keep applying */
static void
test_cache_txt_gone_keeps_policy(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_clock_advance(1000);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_NOTFOUND, NULL);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK(l.policy != NULL);
	sts_lookup_clear(&l);
	fake_clock_advance(1000);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_TEMPFAIL, NULL);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK(l.policy != NULL);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* C-5, STS-HTTP-8: no cache, TXT valid, fetch fails -> no policy, report */
static void
test_cache_fetch_fails_no_cache(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", NULL);
	fake_http_set(URL("example.com"), 0, NULL, NULL, HTTP_FAIL_CERT);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_NOTFOUND);
	CHECK(l.policy == NULL);
	CHECK_INT(l.fetch_failed, 1);
	CHECK_INT(l.fetch_result, TLSRPT_STS_WEBPKI_INVALID);
	sts_lookup_clear(&l);
	/* Remembered: no new TXT or HTTPS query inside the back-off. */
	fake_clock_advance(100);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_NOTFOUND);
	CHECK_INT(l.fetch_failed, 1);
	CHECK_INT(l.from_cache, 1);
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 1);
	sts_cache_free(c);
}

/* C-6: cached policy expired and no TXT -> no policy */
static void
test_cache_expired_no_txt(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_NOTFOUND, NULL);
	fake_http_set(URL("example.com"), 0, NULL, NULL, HTTP_FAIL_TIMEOUT);
	fake_clock_advance(86400);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_NOTFOUND);
	CHECK(l.policy == NULL);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* STS-CACHE-3/4: refresh before expiry even with an unchanged id */
static void
test_cache_proactive_refresh(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);	/* max_age 86400: refresh at 43200 */
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_clock_advance(43200);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_INT(l.fetched, 1700000000 + 43200);
	CHECK_INT(l.expires, 1700000000 + 43200 + 86400);
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 2);
	/* A failing refresh keeps the policy and reports the failure. */
	fake_clock_advance(43200);
	fake_http_set(URL("example.com"), 500, "text/plain", "", HTTP_FAIL_NONE);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_INT(l.fetch_failed, 1);
	CHECK_INT(l.fetched, 1700000000 + 43200);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* STS-CACHE-4, RFC 8461 10.2: a hidden TXT record does not stop the
 * refresh, so an attacker cannot simply wait for max_age */
static void
test_cache_refresh_without_txt(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_TEMPFAIL, NULL);
	fake_clock_advance(43200);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_INT(l.fetched, 1700000000 + 43200);
	CHECK_STR(l.id, "A1");
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 2);
	/* and again half a day later: still alive past the first max_age */
	fake_clock_advance(43200);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_clock_advance(43200);
	fake_http_set(URL("example.com"), 0, NULL, NULL, HTTP_FAIL_TIMEOUT);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_INT(l.fetch_failed, 1);
	CHECK_INT(l.fetch_result, TLSRPT_STS_POLICY_FETCH_ERROR);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* negative answers are cached for negative_ttl; DNS trouble briefly */
static void
test_cache_negative(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup(NULL, NULL);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_NOTFOUND);
	CHECK_INT(l.fetch_failed, 0);
	sts_lookup_clear(&l);
	CHECK_INT(fake_dns_calls(), 1);
	fake_clock_advance(3599);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_NOTFOUND);
	sts_lookup_clear(&l);
	CHECK_INT(fake_dns_calls(), 1);
	fake_clock_advance(2);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_NOTFOUND);
	sts_lookup_clear(&l);
	CHECK_INT(fake_dns_calls(), 2);

	fake_dns_set("TXT", "_mta-sts.other.example", ST_TEMPFAIL, NULL);
	CHECK_INT(sts_cache_lookup(c, "other.example", 0, &l), ST_TEMPFAIL);
	sts_lookup_clear(&l);
	fake_clock_advance(61);
	fake_dns_set("TXT", "_mta-sts.other.example", ST_OK, "v=STSv1; id=1", NULL);
	fake_dns_set("A", "mta-sts.other.example", ST_OK, "192.0.2.2", NULL);
	fake_http_set(URL("other.example"), 200, "text/plain", POL_B,
	    HTTP_FAIL_NONE);
	CHECK_INT(sts_cache_lookup(c, "other.example", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* STS-TXT-4: two v=STSv1 records, or an invalid one, mean no policy */
static void
test_cache_txt_rules(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;

	setup(NULL, POL_A);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_OK, "v=STSv1; id=1",
	    "v=STSv1; id=2", NULL);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_NOTFOUND);
	CHECK_INT(fake_http_calls(), 0);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* STS-CACHE-10: a restart finds the policy on disk; torn files ignored */
static void
test_cache_survives_restart(void)
{
	struct sts_cache	*c = new_cache(tmpdir);
	struct sts_lookup	 l;
	char			 path[128];
	FILE			*f;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	sts_cache_free(c);

	/* Policy host and DNS gone: the new process still applies it. */
	fake_dns_reset();
	fake_http_reset();
	fake_clock_advance(3600);
	c = new_cache(tmpdir);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	CHECK_STR(l.id, "A1");
	CHECK_INT(l.fetched, 1700000000);
	CHECK(l.policy && l.policy->p_nmx == 1);
	sts_lookup_clear(&l);
	sts_cache_free(c);

	/* A torn file is not used. */
	snprintf(path, sizeof(path), "%s/cache/torn.example", tmpdir);
	f = fopen(path, "w");
	fprintf(f, "sts-milter-cache 1\nid X\nfetched 1700000000\nchecked "
	    "1700000000\nlength 70\n\nversion: STSv1\nmode: enf");
	fclose(f);
	c = new_cache(tmpdir);
	CHECK_INT(sts_cache_lookup(c, "torn.example", 0, &l), ST_NOTFOUND);
	sts_lookup_clear(&l);
	CHECK_INT(sts_cache_flush(c, NULL) >= 1, 1);
	sts_cache_free(c);
	c = new_cache(tmpdir);
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_CACHED, &l),
	    ST_TEMPFAIL);
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* issue 15: a CACHED lookup (the reactor's) never reads the disk */
static void
test_cache_cached_no_disk(void)
{
	struct sts_cache	*c = new_cache(tmpdir);
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	sts_cache_free(c);

	fake_dns_reset();
	fake_http_reset();
	c = new_cache(tmpdir);
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_CACHED, &l),
	    ST_TEMPFAIL);
	CHECK_STR(l.reason, "not cached");
	sts_lookup_clear(&l);
	/* stsctl may read it */
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_CACHED |
	    STS_LOOKUP_LOAD, &l), ST_OK);
	CHECK_STR(l.id, "A1");
	sts_lookup_clear(&l);
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_CACHED, &l),
	    ST_OK);
	sts_lookup_clear(&l);
	/* a worker's lookup reads it as well */
	CHECK_INT(sts_cache_lookup(c, "other.example", STS_LOOKUP_CACHED, &l),
	    ST_TEMPFAIL);
	sts_lookup_clear(&l);
	CHECK_INT(sts_cache_flush(c, NULL) >= 1, 1);
	sts_cache_free(c);
}

struct thr {
	struct sts_cache	*c;
	enum status		 st;
};

static void *
lookup_thread(void *arg)
{
	struct thr		*t = arg;
	struct sts_lookup	 l;

	t->st = sts_cache_lookup(t->c, "example.com", 0, &l);
	sts_lookup_clear(&l);
	return NULL;
}

/* concurrent lookups of one domain share one fetch */
static void
test_cache_coalesces(void)
{
	struct sts_cache	*c = new_cache(NULL);
	pthread_t		 th[16];
	struct thr		 t[16];
	int			 i;

	setup("v=STSv1; id=A1", POL_A);
	fake_http_delay_ms(200);
	for (i = 0; i < 16; i++) {
		t[i].c = c;
		pthread_create(&th[i], NULL, lookup_thread, &t[i]);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(t[i].st, ST_OK);
	}
	CHECK_INT(fake_http_calls(), 1);
	sts_cache_free(c);
}

/* ASYNC: a due check never blocks the caller; the refresher does it */
static void
test_cache_async_refresh(void)
{
	struct sts_cache	*c = new_cache(NULL);
	struct sts_lookup	 l;
	int			 i;

	setup("v=STSv1; id=A1", POL_A);
	sts_cache_start_refresher(c, 1);
	CHECK_INT(sts_cache_lookup(c, "example.com", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	fake_clock_advance(400);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_OK, "v=STSv1; id=B2", NULL);
	fake_http_set(URL("example.com"), 200, "text/plain", POL_B, HTTP_FAIL_NONE);
	fake_http_delay_ms(100);
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_ASYNC, &l), ST_OK);
	CHECK_STR(l.id, "A1");		/* answered at once from the cache */
	CHECK_INT(l.from_cache, 1);
	sts_lookup_clear(&l);
	for (i = 0; i < 50 && fake_http_calls() < 2; i++)
		usleep(20000);
	usleep(200000);
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_CACHED, &l), ST_OK);
	CHECK_STR(l.id, "B2");
	sts_lookup_clear(&l);
	sts_cache_free(c);
}

/* a bounded cache evicts, and evicted policies come back from disk */
static void
test_cache_bounded(void)
{
	struct sts_cache_opts	 o;
	struct sts_cache	*c;
	struct sts_lookup	 l;
	char			 d[64];
	int			 i;

	setup(NULL, NULL);
	memset(&o, 0, sizeof(o));
	o.max_entries = 100;
	o.negative_ttl = 3600;
	o.wait_ms = 1000;
	c = sts_cache_new(&o);
	for (i = 0; i < 5000; i++) {
		snprintf(d, sizeof(d), "d%d.example", i);
		(void)sts_cache_lookup(c, d, 0, &l);
		sts_lookup_clear(&l);
	}
	CHECK(sts_cache_size(c) <= 100 + 64);
	sts_cache_free(c);
}

static int		g_ready;
static pthread_mutex_t	g_ready_mu = PTHREAD_MUTEX_INITIALIZER;

static void
on_ready(void *arg, const char *domain)
{
	(void)arg;
	(void)domain;
	pthread_mutex_lock(&g_ready_mu);
	g_ready++;
	pthread_mutex_unlock(&g_ready_mu);
}

static int
ready_count(void)
{
	int	n;

	pthread_mutex_lock(&g_ready_mu);
	n = g_ready;
	pthread_mutex_unlock(&g_ready_mu);
	return n;
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * issue 15: the pool of fetches.  START never waits and on_ready tells
 * when the work is done; BACKGROUND waits for the pool; at most
 * max_fetches discoveries run at once; a full queue is a clear answer.
 */
static void
test_cache_pool(void)
{
	static const struct {
		int	max_fetches;
		int	ndomains;
		int	min_ms;		/* ndomains / max_fetches * delay */
		int	full;		/* some answers "too many waiting" */
	} rows[] = {
		{ 4, 20, 450, 0 },	/* 5 waves of 100 ms */
		{ 20, 20, 90, 0 },	/* one wave */
		{ 1, 100, 0, 1 },	/* 1 running + 64 queued: the rest refused */
	};
	struct sts_cache_opts	 o;
	struct sts_cache	*c;
	struct sts_lookup	 l;
	char			 d[64];
	size_t			 r;
	int			 i, nfull, nstarted;
	int64_t			 t0;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		setup(NULL, NULL);
		for (i = 0; i < rows[r].ndomains; i++) {
			snprintf(d, sizeof(d), "p%d.example", i);
			fake_sts_domain(d, "P1", POL_A);
		}
		fake_http_delay_ms(100);
		fake_cache_opts(&o, NULL);
		o.max_fetches = rows[r].max_fetches;
		c = sts_cache_new(&o);
		g_ready = 0;
		sts_cache_on_ready(c, on_ready, NULL);
		CHECK_INT(sts_cache_start_refresher(c, 1), 0);
		t0 = now_ms();
		nfull = nstarted = 0;
		for (i = 0; i < rows[r].ndomains; i++) {
			snprintf(d, sizeof(d), "p%d.example", i);
			CHECK_INT(sts_cache_lookup(c, d, STS_LOOKUP_START, &l),
			    ST_TEMPFAIL);
			nfull += strcmp(l.reason, "too many policy discoveries "
			    "waiting") == 0;
			nstarted += strcmp(l.reason, "policy discovery "
			    "started") == 0;
			sts_lookup_clear(&l);
		}
		/* a second START of a domain in flight waits for it too */
		snprintf(d, sizeof(d), "p%d.example", 0);
		CHECK_INT(sts_cache_lookup(c, d, STS_LOOKUP_START, &l),
		    ST_TEMPFAIL);
		CHECK_STR(l.reason, "policy discovery started");
		CHECK_INT(l.pending, 1);
		sts_lookup_clear(&l);
		CHECKF(nfull + nstarted == rows[r].ndomains, "row %zu", r);
		CHECKF((nfull > 0) == rows[r].full, "row %zu: %d full", r,
		    nfull);
		while (ready_count() < nstarted && now_ms() - t0 < 20000)
			usleep(10000);
		CHECKF(ready_count() == nstarted, "row %zu: %d of %d ready", r,
		    ready_count(), nstarted);
		CHECKF(now_ms() - t0 >= rows[r].min_ms, "row %zu: %lld ms", r,
		    (long long)(now_ms() - t0));
		/* done: the reactor's CACHED lookup has it now */
		snprintf(d, sizeof(d), "p%d.example", 0);
		CHECK_INT(sts_cache_lookup(c, d, STS_LOOKUP_CACHED, &l), ST_OK);
		sts_lookup_clear(&l);
		sts_cache_free(c);
	}
	fake_http_delay_ms(0);
}

/* BACKGROUND: the pool does the discovery, the caller waits for it */
static void
test_cache_background(void)
{
	struct sts_cache_opts	 o;
	struct sts_cache	*c;
	struct sts_lookup	 l;

	setup("v=STSv1; id=A1", POL_A);
	fake_cache_opts(&o, tmpdir);
	o.max_fetches = 2;
	c = sts_cache_new(&o);
	CHECK_INT(sts_cache_start_refresher(c, 1), 0);
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_BACKGROUND,
	    &l), ST_OK);
	CHECK_STR(l.id, "A1");
	CHECK_INT(l.from_cache, 0);
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 1);
	sts_cache_free(c);
	/* after a restart the first read of the file is the pool's too */
	c = sts_cache_new(&o);
	CHECK_INT(sts_cache_start_refresher(c, 1), 0);
	CHECK_INT(sts_cache_lookup(c, "example.com", STS_LOOKUP_BACKGROUND,
	    &l), ST_OK);
	CHECK_STR(l.id, "A1");
	sts_lookup_clear(&l);
	CHECK_INT(fake_http_calls(), 1);
	CHECK_INT(sts_cache_flush(c, NULL) >= 1, 1);
	sts_cache_free(c);
}

/*
 * A failed fetch is reported once (STS-CACHE, RFC 8461 6): by the pool's
 * job that ran it, not again by the BACKGROUND caller that queued it,
 * and not lost when that caller stops waiting.
 */
static int	g_failures;

static void
count_failure(void *arg, const char *domain, const struct sts_lookup *l)
{
	(void)arg;
	(void)domain;
	(void)l;
	__atomic_add_fetch(&g_failures, 1, __ATOMIC_SEQ_CST);
}

static void
test_cache_failure_reported_once(void)
{
	struct sts_cache_opts	 o;
	struct sts_cache	*c;
	struct sts_lookup	 l;
	int			 i;

	for (i = 0; i < 2; i++) {	/* the caller waits / gives up */
		setup("v=STSv1; id=A1", NULL);
		fake_http_set(URL("example.com"), 404, "text/html", "gone",
		    HTTP_FAIL_NONE);
		fake_http_delay_ms(i == 0 ? 0 : 300);
		fake_cache_opts(&o, NULL);
		o.max_fetches = 2;
		if (i == 1)
			o.wait_ms = 50;
		c = sts_cache_new(&o);
		g_failures = 0;
		sts_cache_on_fetch_failure(c, count_failure, NULL);
		CHECK_INT(sts_cache_start_refresher(c, 1), 0);
		(void)sts_cache_lookup(c, "example.com", STS_LOOKUP_BACKGROUND,
		    &l);
		sts_lookup_clear(&l);
		usleep(600 * 1000);		/* the job is done by now */
		CHECKF(__atomic_load_n(&g_failures, __ATOMIC_SEQ_CST) == 1,
		    "row %d: %d reports", i, g_failures);
		sts_cache_free(c);
	}
	fake_http_delay_ms(0);
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sts_cache.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_cache_hit_no_io);
	RUN(test_cache_id_change_refetch);
	RUN(test_cache_id_change_fetch_fails);
	RUN(test_cache_txt_gone_keeps_policy);
	RUN(test_cache_fetch_fails_no_cache);
	RUN(test_cache_expired_no_txt);
	RUN(test_cache_proactive_refresh);
	RUN(test_cache_refresh_without_txt);
	RUN(test_cache_negative);
	RUN(test_cache_txt_rules);
	RUN(test_cache_survives_restart);
	RUN(test_cache_cached_no_disk);
	RUN(test_cache_coalesces);
	RUN(test_cache_async_refresh);
	RUN(test_cache_bounded);
	RUN(test_cache_pool);
	RUN(test_cache_background);
	RUN(test_cache_failure_reported_once);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		(void)system(cmd);
	}
	return harness_done("test_sts_cache");
}
