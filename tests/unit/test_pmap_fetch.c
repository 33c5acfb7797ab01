/*
 * test_pmap_fetch.c - the policy map's fetch step through the cache's
 * pool (pmap_fetch.c, issue 15): a known domain is answered at once, a
 * new one when the pool is done, each job exactly once, however many
 * wait at the same time; jobs still waiting when it stops are freed
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakes.h"
#include "harness.h"
#include "pmap_fetch.h"

static const char *POL =
    "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";

static pthread_mutex_t	mu = PTHREAD_MUTEX_INITIALIZER;
static int		ndone, nok, twice;

static void
done(void *arg, struct pmap_job *j)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	ndone++;
	nok += j->j_st == ST_OK && j->j_l.policy != NULL;
	twice += j->j_owner != 0;	/* set on the first done() */
	j->j_owner = 1;
	pthread_mutex_unlock(&mu);
	pmap_job_free(j);
}

static int
count(void)
{
	int	n;

	pthread_mutex_lock(&mu);
	n = ndone;
	pthread_mutex_unlock(&mu);
	return n;
}

static struct sts_cache *
pooled(int max)
{
	struct sts_cache_opts	 o;
	struct sts_cache	*c;

	fake_cache_opts(&o, NULL);
	o.max_fetches = max;
	c = sts_cache_new(&o);
	CHECK_INT(sts_cache_start_refresher(c, 1), 0);
	return c;
}

/* rows: domains asked, policy host delay, pool size; every job answered
 * once, with the policy */
static void
test_pmap_fetch_table(void)
{
	static const struct {
		int	ndomains;
		int	per_domain;	/* jobs per domain (other reactors) */
		int	delay_ms;
		int	max_fetches;
	} rows[] = {
		{ 1, 1, 0, 1 },
		{ 50, 1, 20, 8 },
		{ 20, 3, 50, 64 },	/* three jobs wait for each domain */
	};
	struct sts_cache	*c;
	struct pmap_fetch	*f;
	char			 d[64];
	size_t			 r;
	int			 i, k, want, t;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		fake_dns_reset();
		fake_http_reset();
		fake_clock_set(1700000000);
		for (i = 0; i < rows[r].ndomains; i++) {
			snprintf(d, sizeof(d), "f%d.example", i);
			fake_sts_domain(d, "F1", POL);
		}
		fake_http_delay_ms(rows[r].delay_ms);
		c = pooled(rows[r].max_fetches);
		f = pmap_fetch_new(c, done, NULL);
		ndone = nok = twice = 0;
		for (i = 0; i < rows[r].ndomains; i++)
			for (k = 0; k < rows[r].per_domain; k++) {
				snprintf(d, sizeof(d), "f%d.example", i);
				pmap_fetch_start(f, pmap_job_lookup(d));
			}
		want = rows[r].ndomains * rows[r].per_domain;
		for (t = 0; t < 1000 && count() < want; t++)
			usleep(10000);
		CHECKF(ndone == want, "row %zu: %d of %d done", r, ndone, want);
		CHECKF(nok == want, "row %zu: %d with the policy", r, nok);
		CHECKF(twice == 0, "row %zu: %d answered twice", r, twice);
		CHECKF(fake_http_calls() == rows[r].ndomains, "row %zu: %d "
		    "fetches", r, fake_http_calls());
		/* now known: answered before pmap_fetch_start returns */
		ndone = 0;
		pmap_fetch_start(f, pmap_job_lookup("f0.example"));
		CHECKF(ndone == 1, "row %zu: cached not at once", r);
		pmap_fetch_free(f);
		sts_cache_free(c);
	}
	fake_http_delay_ms(0);
}

/* stop while jobs wait: they are freed (ASan: no leak), no done() after */
static void
test_pmap_fetch_stop(void)
{
	struct sts_cache	*c;
	struct pmap_fetch	*f;
	int			 before;

	fake_dns_reset();
	fake_http_reset();
	fake_sts_domain("slow.example", "S1", POL);
	fake_http_delay_ms(200);
	c = pooled(2);
	f = pmap_fetch_new(c, done, NULL);
	ndone = 0;
	pmap_fetch_start(f, pmap_job_lookup("slow.example"));
	pmap_fetch_start(f, pmap_job_lookup("slow.example"));
	CHECK_INT(count(), 0);
	pmap_fetch_free(f);
	before = count();
	usleep(400000);			/* the fetch ends after the stop */
	CHECK_INT(count(), before);
	sts_cache_free(c);
	fake_http_delay_ms(0);
}

int
main(void)
{
	RUN(test_pmap_fetch_table);
	RUN(test_pmap_fetch_stop);
	return harness_done("test_pmap_fetch");
}
