/*
 * test_gate.c - the RCPT gate through the DNS, HTTP and clock fakes:
 * decisions, reply text, journal records, and no network I/O once the
 * caches are warm.  MX probes go to a closed loopback port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fakes.h"
#include "gate.h"
#include "harness.h"
#include "journal.h"
#include "timefmt.h"

#define URL(d)	"https://mta-sts." d "/.well-known/mta-sts.txt"

static char		 dir[64];
static struct conf	*conf;
static struct sts_cache	*cache;
static struct journal	*jnl;
static struct gate	*gate;

static int
count_cb(void *arg, const struct journal_rec *r)
{
	int	*n = arg;

	n[r->type == JREC_DEFERRAL]++;
	return 0;
}

/* records - sessions in n[0], deferrals in n[1] for today */
static void
records(int *n)
{
	struct journal_stats	st;
	char			day[11];

	n[0] = n[1] = 0;
	timefmt_day(clock_now(), day);
	(void)journal_read_day(dir, day, count_cb, n, &st);
}

static void
setup(void)
{
	struct sts_cache_opts	o;
	struct buf		why = BUF_INIT;

	snprintf(dir, sizeof(dir), "/tmp/test_gate.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(1700000000);
	conf = conf_defaults();
	free(conf->state_dir);
	conf->state_dir = strdup(dir);
	conf->smtp_probe_port = 1;		/* nothing listens */
	conf->probe_timeout = 1;
	conf->gate_deadline = 3;
	fake_cache_opts(&o, NULL);
	o.wait_ms = 2000;
	cache = sts_cache_new(&o);
	jnl = journal_open(dir, &why);
	gate = gate_new(conf, cache, NULL, jnl);
	buf_free(&why);
}

static void
teardown(void)
{
	gate_free(gate);
	journal_close(jnl);
	sts_cache_free(cache);
	conf_free(conf);
	fake_rm_rf(dir);
}

static void
policy(const char *domain, const char *mode, const char *mx)
{
	char	name[300], url[300], body[512];

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	fake_dns_set("TXT", name, ST_OK, "v=STSv1; id=p1", NULL);
	snprintf(name, sizeof(name), "mta-sts.%s", domain);
	fake_dns_set("A", name, ST_OK, "192.0.2.1", NULL);
	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt",
	    domain);
	snprintf(body, sizeof(body), "version: STSv1\nmode: %s\nmx: %s\n"
	    "max_age: 86400\n", mode, mx);
	fake_http_set(url, 200, "text/plain", body, HTTP_FAIL_NONE);
}

static void
test_gate_no_policy_accepts(void)
{
	struct gate_verdict	v;

	setup();
	gate_rcpt(gate, "Q1", "a@nopolicy.example", "nopolicy.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "no-policy");
	teardown();
}

/* STS-VAL-2: MX matches no pattern -> defer, explained, journaled */
static void
test_gate_mx_mismatch_defers(void)
{
	struct gate_verdict	v;
	int			n[2], calls;

	setup();
	policy("mismatch.example", "enforce", "mx.elsewhere.example");
	fake_dns_set("MX", "mismatch.example", ST_OK, "10 mx.mismatch.example",
	    NULL);
	gate_rcpt(gate, "Q2", "a@mismatch.example", "mismatch.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	CHECK(strstr(v.text, "MTA-STS policy of mismatch.example (id p1") != NULL);
	CHECK(strstr(v.text, "no MX matches the policy") != NULL);
	CHECK(strstr(v.text, "mx.mismatch.example") != NULL);
	CHECK_INT(v.result, TLSRPT_VALIDATION_FAILURE);
	records(n);
	CHECK_INT(n[0], 1);		/* the mismatch, as a session */
	CHECK_INT(n[1], 1);		/* the deferral */
	/* Warm caches: no DNS, no HTTPS, no new session record. */
	calls = fake_dns_calls() + fake_http_calls();
	gate_rcpt(gate, "Q3", "b@mismatch.example", "mismatch.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	CHECK_INT(fake_dns_calls() + fake_http_calls(), calls);
	records(n);
	CHECK_INT(n[0], 1);
	CHECK_INT(n[1], 2);
	teardown();
}

/* A candidate that cannot be reached defers; the text names it. */
static void
test_gate_unreachable_defers(void)
{
	struct gate_verdict	v;
	int			n[2], calls;

	setup();
	policy("down.example", "enforce", "*.down.example");
	fake_dns_set("MX", "down.example", ST_OK, "10 mx1.down.example", NULL);
	fake_dns_set("A", "mx1.down.example", ST_OK, "127.0.0.1", NULL);
	gate_rcpt(gate, "Q4", "a@down.example", "down.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	CHECK(strstr(v.text, "mx1.down.example [127.0.0.1]") != NULL);
	CHECK(strstr(v.text, "connection-refused") != NULL);
	records(n);
	CHECK_INT(n[0], 0);		/* transient: not a reported session */
	CHECK_INT(n[1], 1);
	calls = fake_dns_calls();
	gate_rcpt(gate, "Q5", "a@down.example", "down.example", &v);
	CHECK_INT(fake_dns_calls(), calls);
	teardown();
}

/* testing and none are accepted at once; overrides apply */
static void
test_gate_modes_and_overrides(void)
{
	struct gate_verdict	 v;
	struct override		*ov;
	struct buf		 why = BUF_INIT;
	const char		*t = "skipped.example skip\nforced.example enforce\n";

	setup();
	policy("testing.example", "testing", "mx.testing.example");
	fake_dns_set("MX", "testing.example", ST_OK, "10 mx.testing.example",
	    NULL);
	fake_dns_set("A", "mx.testing.example", ST_OK, "127.0.0.1", NULL);
	gate_rcpt(gate, "", "a@testing.example", "testing.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "mode-testing");
	policy("none.example", "none", "x.example");
	gate_rcpt(gate, "", "a@none.example", "none.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "mode-none");

	CHECK_INT(override_parse(t, strlen(t), "ov", &ov, &why), ST_OK);
	gate_set_overrides(gate, ov);
	policy("skipped.example", "enforce", "mx.elsewhere.example");
	gate_rcpt(gate, "", "a@skipped.example", "skipped.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "override-skip");
	policy("forced.example", "testing", "mx.elsewhere.example");
	fake_dns_set("MX", "forced.example", ST_OK, "10 mx.forced.example", NULL);
	gate_rcpt(gate, "", "a@forced.example", "forced.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	gate_wait_idle(gate, 5000);
	teardown();
	override_free(ov);
	buf_free(&why);
}

/* RFC 8461 6: a fetch failure with a valid TXT record is journaled */
static void
test_gate_fetch_failure_journaled(void)
{
	struct gate_verdict	v;
	int			n[2];

	setup();
	fake_dns_set("TXT", "_mta-sts.broken.example", ST_OK, "v=STSv1; id=b1",
	    NULL);
	fake_dns_set("A", "mta-sts.broken.example", ST_OK, "192.0.2.1", NULL);
	fake_http_set(URL("broken.example"), 404, "text/plain", "", HTTP_FAIL_NONE);
	gate_rcpt(gate, "", "a@broken.example", "broken.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);	/* STS-HTTP-8 */
	records(n);
	CHECK_INT(n[0], 1);
	gate_rcpt(gate, "", "b@broken.example", "broken.example", &v);
	records(n);
	CHECK_INT(n[0], 1);			/* once per fetch attempt */
	teardown();
}

int
main(void)
{
	RUN(test_gate_no_policy_accepts);
	RUN(test_gate_mx_mismatch_defers);
	RUN(test_gate_unreachable_defers);
	RUN(test_gate_modes_and_overrides);
	RUN(test_gate_fetch_failure_journaled);
	return harness_done("test_gate");
}
