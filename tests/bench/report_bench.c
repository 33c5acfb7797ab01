/*
 * report_bench.c - benchmark of tlsrpt-reporter's aggregation and
 * report building (issue 4, item 8)
 *
 * SYNOPSIS
 *	report_bench gen DIR RECORDS DOMAINS
 *	report_bench run DIR [THREADS [ALGORITHM]]
 *
 * DESCRIPTION
 *	gen writes a synthetic journal for 2026-11-01 into DIR/journal
 *	(real journal lines, journal_encode) and archives one policy text
 *	per STS domain: RECORDS sessions over DOMAINS policy domains with a
 *	Zipf (s = 1) skew, as mail traffic has, about 5 % failures of
 *	mixed RFC 8460 types with several sending and receiving IPs, some
 *	no-policy-found domains, and a few of our own report deliveries.
 *
 *	run aggregates that day (journal_read_day + report_agg, the code
 *	tlsrpt-reporter runs) on one core and reports records/s, then
 *	builds every report: JSON (json-c), gzip, MIME and a DKIM signature
 *	(a fresh RSA-2048 or Ed25519 key), on THREADS threads (default
 *	the number of CPUs).  DNS lookups and sending are excluded.  Peak
 *	memory is the process's maximum resident set size.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bench/bench_time.h"
#include "conf.h"
#include "dkim.h"
#include "journal.h"
#include "policy_archive.h"
#include "report_agg.h"
#include "report_make.h"
#include "xmalloc.h"

#define DAY		"2026-11-01"
#define DAY_START	1793491200

static unsigned long long	rng = 0x9e3779b97f4a7c15ULL;

static unsigned long long
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
gen(const char *dir, long nrec, int ndom)
{
	static const char *const ftypes[] = { "starttls-not-supported",
	    "certificate-expired", "certificate-host-mismatch",
	    "certificate-not-trusted", "validation-failure",
	    "sts-policy-fetch-error" };
	static const char *const reasons[] = { "", "X509_V_ERR_CERT_HAS_EXPIRED",
	    "", "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
	    "X509_V_ERR_HOSTNAME_MISMATCH", "HTTP status 404" };
	double		*cdf, h = 0;
	char		(*hash)[65], *path;
	struct buf	 out, txt = BUF_INIT;
	int		 d, fd, i;
	long		 k;

	path = xasprintf("%s/journal", dir);
	mkdir(dir, 0750);
	mkdir(path, 0750);
	free(path);
	cdf = xcalloc((size_t)ndom, sizeof(*cdf));
	hash = xcalloc((size_t)ndom, sizeof(*hash));
	for (d = 0; d < ndom; d++)
		cdf[d] = (h += 1.0 / (d + 1));
	for (d = 0; d < ndom; d++) {
		cdf[d] /= h;
		if (d % 10 == 9)
			continue;		/* no-policy-found domain */
		buf_reset(&txt);
		buf_printf(&txt, "version: STSv1\nmode: %s\nmx: mx1.d%d.example\n"
		    "mx: *.mx.d%d.example\nmax_age: 604800\n",
		    d % 3 ? "enforce" : "testing", d, d);
		if (policy_archive_put(dir, buf_str(&txt), txt.b_len,
		    hash[d]) != 0) {
			fprintf(stderr, "cannot archive a policy: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	path = xasprintf("%s/journal/%s.jnl", dir, DAY);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	buf_init(&out, 8 * 1024 * 1024);
	for (k = 0; k < nrec; k++) {
		struct journal_rec	r;
		double			u = (double)(rnd() >> 11) / 9007199254740992.0;
		int			lo = 0, hi = ndom - 1, f;

		while (lo < hi) {		/* Zipf rank by the CDF */
			int mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		d = lo;
		memset(&r, 0, sizeof(r));
		r.type = JREC_SESSION;
		r.time = DAY_START + (time_t)(k * 86400 / nrec);
		JREC_SET(&r, src, rnd() % 1000 == 0 ? "report" :
		    (rnd() & 1) ? "probe" : "postfix");
		snprintf(r.domain, sizeof(r.domain), "d%d.example", d);
		if (hash[d][0]) {
			JREC_SET(&r, ptype, "sts");
			memcpy(r.phash, hash[d], 65);
		} else
			JREC_SET(&r, ptype, "no-policy-found");
		i = (int)(rnd() % 4);
		snprintf(r.sip, sizeof(r.sip), "192.0.2.%d", 10 + i);
		i = (int)(rnd() % 2);
		snprintf(r.mx, sizeof(r.mx), "mx%d.d%d.example", i + 1, d);
		snprintf(r.rip, sizeof(r.rip), "198.51.%d.%d", d % 200, i + 1);
		if (rnd() % 20 == 0) {		/* ~5 % failures */
			f = (int)(rnd() % 6);
			(void)tlsrpt_result_parse(ftypes[f], &r.result);
			JREC_SET(&r, reason, reasons[f]);
			if (f == 0)
				snprintf(r.helo, sizeof(r.helo), "mx%d.d%d.example",
				    i + 1, d);
		} else
			r.result = TLSRPT_SUCCESS;
		journal_encode(&r, &out);
		if (out.b_len > 7 * 1024 * 1024) {
			if (write(fd, out.b_data, out.b_len) != (ssize_t)out.b_len)
				return 1;
			buf_reset(&out);
		}
	}
	if (write(fd, out.b_data, out.b_len) != (ssize_t)out.b_len)
		return 1;
	close(fd);
	printf("generated %ld records over %d domains in %s\n", nrec, ndom,
	    path);
	free(path);
	buf_free(&out);
	buf_free(&txt);
	free(cdf);
	free(hash);
	return 0;
}

struct work {
	struct report_make_ctx	 *x;
	struct report_domain	**d;
	size_t			  n;
	size_t			  next;		/* atomic */
	unsigned long		  bytes_json, bytes_gz, bytes_mail;
	int			  errors;
	pthread_mutex_t		  mu;
};

static void *
builder(void *arg)
{
	struct work		*w = arg;
	struct report_made	 m;
	struct report_make_ctx	 x = *w->x;	/* own DKIM key per thread */
	struct buf		 why = BUF_INIT;
	unsigned long		 bj = 0, bg = 0, bm = 0;
	char			*msg;
	size_t			 i, len;
	int			 err = 0;

	x.dkim = dkim_key_dup(w->x->dkim);
	while ((i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) < w->n) {
		if (report_make(&x, DAY, w->d[i], &m, &why) != ST_OK ||
		    report_make_mail(&x, &m, "tlsrpt@rcpt.example",
		    DAY_START + 90000, &msg, &len, &why) != ST_OK) {
			err++;
			buf_reset(&why);
			report_make_clear(&m);
			continue;
		}
		bj += strlen(m.json);
		bg += m.gz.b_len;
		bm += len;
		free(msg);
		report_make_clear(&m);
	}
	pthread_mutex_lock(&w->mu);
	w->bytes_json += bj;
	w->bytes_gz += bg;
	w->bytes_mail += bm;
	w->errors += err;
	pthread_mutex_unlock(&w->mu);
	dkim_key_free(x.dkim);
	buf_free(&why);
	return NULL;
}

static int
run(const char *dir, int nthreads, const char *alg)
{
	struct report_agg	 *a;
	struct report_domain	**d;
	struct journal_stats	  js;
	struct conf		 *c = conf_defaults();
	struct buf		  why = BUF_INIT;
	struct rusage		  ru;
	struct work		  w;
	pthread_t		  th[64];
	EVP_PKEY		 *pk;
	FILE			 *f;
	char			 *text, *keyp;
	double			  t0, c0, tagg, cagg, tb;
	size_t			  n;
	int			  i;

	t0 = bench_time_s();
	c0 = bench_time_cpu_s();
	a = report_agg_new(NULL);
	if (journal_read_day(dir, DAY, report_agg_cb, a, &js) != 0) {
		fprintf(stderr, "no journal in %s (run gen first)\n", dir);
		return 1;
	}
	n = report_agg_domains(a, &d);
	tagg = bench_time_s() - t0;
	cagg = bench_time_cpu_s() - c0;
	printf("aggregate: %lu records (%lu bad), %lu sessions counted, "
	    "%lu own reports skipped, %zu domains\n", js.records, js.bad,
	    report_agg_stats(a)->sessions, report_agg_stats(a)->own_reports, n);
	printf("aggregate: %.2f s wall, %.2f s CPU, %.2f M records/s "
	    "(one core; %.2f M/s by CPU time), aggregate memory %.1f MB\n",
	    tagg, cagg, js.records / tagg / 1e6, js.records / cagg / 1e6,
	    report_agg_memory(a) / 1e6);

	/* a fresh DKIM key */
	keyp = xasprintf("%s/bench-dkim.key", dir);
	pk = EVP_PKEY_Q_keygen(NULL, NULL, strcmp(alg, "rsa-sha256") ?
	    "ED25519" : "RSA", (size_t)2048);
	f = fopen(keyp, "w");
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(pk);
	text = xasprintf("state_dir = %s\nreport_org_name = Bench Org\n"
	    "report_contact = tlsrpt@sender.example\n"
	    "dkim_domain = sender.example\ndkim_selector = tlsrpt\n"
	    "dkim_key_file = %s\ndkim_algorithm = %s\n", dir, keyp, alg);
	if (conf_parse(c, text, strlen(text), "bench", &why) != ST_OK) {
		fprintf(stderr, "%s\n", buf_str(&why));
		return 1;
	}
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	if ((w.x = report_make_ctx_new(c, &why)) == NULL) {
		fprintf(stderr, "%s\n", buf_str(&why));
		return 1;
	}
	t0 = bench_time_s();
	report_make_ctx_attach(w.x, d, n);
	w.d = d;
	w.n = n;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 64)
		nthreads = 64;
	for (i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, builder, &w);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	tb = bench_time_s() - t0;
	printf("build: %zu reports (JSON, gzip, MIME, DKIM %s) in %.2f s on "
	    "%d threads, %.0f reports/s; %d errors\n", n, alg, tb, nthreads,
	    n / tb, w.errors);
	printf("build: %.1f MB JSON, %.1f MB gzip, %.1f MB mail; %lu policy "
	    "texts missing\n", w.bytes_json / 1e6, w.bytes_gz / 1e6,
	    w.bytes_mail / 1e6, w.x->ptext_missing);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak memory (max RSS): %.1f MB\n", ru.ru_maxrss / 1024.0);
	printf("RESULT records=%lu agg_s=%.3f rate_mps=%.3f cpu_rate_mps=%.3f "
	    "domains=%zu "
	    "build_s=%.3f threads=%d alg=%s maxrss_mb=%.1f errors=%d\n",
	    js.records, tagg, js.records / tagg / 1e6, js.records / cagg / 1e6,
	    n, tb, nthreads, alg,
	    ru.ru_maxrss / 1024.0, w.errors);
	report_make_ctx_free(w.x);
	report_agg_free(a);
	conf_free(c);
	free(text);
	unlink(keyp);
	free(keyp);
	buf_free(&why);
	return w.errors != 0;
}

static int
noop(void *arg, const struct journal_rec *r)
{
	(void)arg;
	(void)r;
	return 0;
}

/* readonly - journal_read_day alone: the share of decoding */
static int
readonly(const char *dir)
{
	struct journal_stats	js;
	double			t0 = bench_time_s(), c0 = bench_time_cpu_s(), t, c;

	if (journal_read_day(dir, DAY, noop, NULL, &js) != 0)
		return 1;
	t = bench_time_s() - t0;
	c = bench_time_cpu_s() - c0;
	printf("read+decode only: %lu records in %.2f s wall, %.2f s CPU, "
	    "%.2f M records/s\n", js.records, t, c, js.records / t / 1e6);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "read") == 0)
		return readonly(argv[2]);
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atol(argv[3]), atoi(argv[4]));
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argc > 3 ? atoi(argv[3]) :
		    (int)sysconf(_SC_NPROCESSORS_ONLN),
		    argc > 4 ? argv[4] : "rsa-sha256");
	fprintf(stderr, "usage: report_bench gen DIR RECORDS DOMAINS\n"
	    "       report_bench run DIR [THREADS [rsa-sha256|ed25519-sha256]]\n");
	return 2;
}
