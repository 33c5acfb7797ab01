/*
 * test_gate.c - the RCPT gate through the DNS, HTTP, clock and TLS probe
 * fakes: decisions, reply text, journal records, and no network I/O
 * once the caches are warm.  An MX probe nobody scripted is refused, as
 * if nothing listened.  The rules themselves are test_gate_rule's; this
 * tests what the gate does around them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fakes.h"
#include "fixture_gate.h"
#include "gate.h"
#include "harness.h"
#include "journal.h"
#include "log.h"
#include "tcache.h"
#include "timefmt.h"

#define URL(d)	"https://mta-sts." d "/.well-known/mta-sts.txt"

static struct fixture_gate	fx;

static struct journal_rec	last_session;	/* by records() */

static int
count_cb(void *arg, const struct journal_rec *r)
{
	int	*n = arg;

	n[r->type == JREC_DEFERRAL]++;
	if (r->type == JREC_SESSION)
		last_session = *r;
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
	(void)journal_read_day(fx.dir, day, count_cb, n, &st);
}

static void
setup(void)
{
	fixture_gate_init(&fx, "test_gate");
	fx.conf->probe_timeout = 1;
	fixture_gate_start(&fx);
	sts_cache_on_fetch_failure(fx.cache, gate_fetch_failed, fx.gate);
}

static void
teardown(void)
{
	fixture_gate_free(&fx);
}

static void
test_gate_no_policy_accepts(void)
{
	struct gate_verdict	v;

	setup();
	gate_rcpt(fx.gate, "Q1", "a@nopolicy.example", "nopolicy.example", &v);
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
	fake_sts_policy("mismatch.example", "enforce", "mx.elsewhere.example");
	fake_dns_set("MX", "mismatch.example", ST_OK, "10 mx.mismatch.example",
	    NULL);
	gate_rcpt(fx.gate, "Q2", "a@mismatch.example", "mismatch.example", &v);
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
	gate_rcpt(fx.gate, "Q3", "b@mismatch.example", "mismatch.example", &v);
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
	fake_sts_policy("down.example", "enforce", "*.down.example");
	fake_dns_set("MX", "down.example", ST_OK, "10 mx1.down.example", NULL);
	fake_dns_set("A", "mx1.down.example", ST_OK, "127.0.0.1", NULL);
	gate_rcpt(fx.gate, "Q4", "a@down.example", "down.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	CHECK(strstr(v.text, "mx1.down.example [127.0.0.1]") != NULL);
	CHECK(strstr(v.text, "connection-refused") != NULL);
	records(n);
	CHECK_INT(n[0], 0);		/* transient: not a reported session */
	CHECK_INT(n[1], 1);
	calls = fake_dns_calls();
	gate_rcpt(fx.gate, "Q5", "a@down.example", "down.example", &v);
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
	fake_sts_policy("testing.example", "testing", "mx.testing.example");
	fake_dns_set("MX", "testing.example", ST_OK, "10 mx.testing.example",
	    NULL);
	fake_dns_set("A", "mx.testing.example", ST_OK, "127.0.0.1", NULL);
	gate_rcpt(fx.gate, "", "a@testing.example", "testing.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "mode-testing");
	fake_sts_policy("none.example", "none", "x.example");
	gate_rcpt(fx.gate, "", "a@none.example", "none.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "mode-none");

	CHECK_INT(override_parse(t, strlen(t), "ov", &ov, &why), ST_OK);
	gate_set_overrides(fx.gate, ov);
	fake_sts_policy("skipped.example", "enforce", "mx.elsewhere.example");
	gate_rcpt(fx.gate, "", "a@skipped.example", "skipped.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "override-skip");
	fake_sts_policy("forced.example", "testing", "mx.elsewhere.example");
	fake_dns_set("MX", "forced.example", ST_OK, "10 mx.forced.example", NULL);
	gate_rcpt(fx.gate, "", "a@forced.example", "forced.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	gate_wait_idle(fx.gate, 30000);	/* returns when idle */
	teardown();
	override_free(ov);
	buf_free(&why);
}

/* RFC 8461 6: a fetch failure with a valid TXT record is journaled */
static void
test_gate_fetch_failure_journaled(void)
{
	struct gate_verdict	v;
	struct sts_lookup	l;
	int			n[2];

	setup();
	fake_dns_set("TXT", "_mta-sts.broken.example", ST_OK, "v=STSv1; id=b1",
	    NULL);
	fake_dns_set("A", "mta-sts.broken.example", ST_OK, "192.0.2.1", NULL);
	fake_http_set(URL("broken.example"), 404, "text/plain", "", HTTP_FAIL_NONE);
	gate_rcpt(fx.gate, "", "a@broken.example", "broken.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);	/* STS-HTTP-8 */
	records(n);
	CHECK_INT(n[0], 1);
	gate_rcpt(fx.gate, "", "b@broken.example", "broken.example", &v);
	records(n);
	CHECK_INT(n[0], 1);			/* once per fetch attempt */
	/* a policy map's lookup (Exim, Postfix without the milter) goes
	 * through the same cache: its failure is journaled too (issue 11) */
	fake_dns_set("TXT", "_mta-sts.broken2.example", ST_OK,
	    "v=STSv1; id=b2", NULL);
	fake_dns_set("A", "mta-sts.broken2.example", ST_OK, "192.0.2.1", NULL);
	fake_http_set(URL("broken2.example"), 404, "text/plain", "",
	    HTTP_FAIL_NONE);
	CHECK_INT(sts_cache_lookup(fx.cache, "broken2.example", 0, &l),
	    ST_NOTFOUND);
	CHECK(l.fetch_failed);
	sts_lookup_clear(&l);
	records(n);
	CHECK_INT(n[0], 2);
	teardown();
}

/* STS-VAL-3: a good probe accepts, is journaled as a successful
 * session, and is cached: the next recipient costs no probe */
static void
test_gate_good_probe_accepts(void)
{
	struct gate_verdict	v;
	int			n[2];

	setup();
	fake_sts_mx("good.example", "enforce", "*.good.example",
	    "mx1.good.example", "192.0.2.10", TLSRPT_SUCCESS, "");
	gate_rcpt(fx.gate, "Q6", "a@good.example", "good.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "validated");
	CHECK_STR(v.text, "");
	CHECK_INT(fake_tls_probe_calls(), 1);
	records(n);
	CHECK_INT(n[0], 1);
	CHECK_INT(n[1], 0);
	CHECK_INT(last_session.result, TLSRPT_SUCCESS);
	CHECK_STR(last_session.mx, "mx1.good.example");
	CHECK_STR(last_session.rip, "192.0.2.10");
	CHECK_STR(last_session.pid, "p1");
	gate_rcpt(fx.gate, "Q7", "b@good.example", "good.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_INT(fake_tls_probe_calls(), 1);	/* the cached verdict */
	records(n);
	CHECK_INT(n[0], 1);
	teardown();
}

/* STS-APP-5 through the gate: the backup MX validates after the
 * primary's certificate fails; both sessions are journaled */
static void
test_gate_backup_mx_accepts(void)
{
	struct gate_verdict	v;
	int			n[2];

	setup();
	fake_sts_policy("backup.example", "enforce", "*.backup.example");
	fake_dns_set("MX", "backup.example", ST_OK, "10 mx1.backup.example",
	    "20 mx2.backup.example", NULL);
	fake_dns_set("A", "mx1.backup.example", ST_OK, "192.0.2.11", NULL);
	fake_dns_set("A", "mx2.backup.example", ST_OK, "192.0.2.12", NULL);
	fake_tls_probe_set("mx1.backup.example", "192.0.2.11", ST_OK,
	    TLSRPT_CERTIFICATE_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED");
	fake_tls_probe_set("mx2.backup.example", "192.0.2.12", ST_OK,
	    TLSRPT_SUCCESS, "");
	gate_rcpt(fx.gate, "Q8", "a@backup.example", "backup.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "validated");
	CHECK_INT(fake_tls_probe_calls(), 2);
	records(n);
	CHECK_INT(n[0], 2);
	CHECK_INT(n[1], 0);
	teardown();
}

/* STS-VAL-3, STS-APP-4: each certificate failure defers with its type
 * and reason in the text and the journal */
static void
test_gate_certificate_failures_defer(void)
{
	static const struct {
		enum tlsrpt_result	 result;
		const char		*reason;
		const char		*text;
	} rows[] = {
		{ TLSRPT_CERTIFICATE_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED",
		  "mx.cert.example [192.0.2.20]: certificate-expired "
		  "(X509_V_ERR_CERT_HAS_EXPIRED)" },
		{ TLSRPT_CERTIFICATE_HOST_MISMATCH,
		  "X509_V_ERR_HOSTNAME_MISMATCH",
		  "mx.cert.example [192.0.2.20]: certificate-host-mismatch "
		  "(X509_V_ERR_HOSTNAME_MISMATCH)" },
		{ TLSRPT_CERTIFICATE_NOT_TRUSTED,
		  "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT",
		  "mx.cert.example [192.0.2.20]: certificate-not-trusted "
		  "(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)" },
		{ TLSRPT_STARTTLS_NOT_SUPPORTED, "STARTTLS not offered",
		  "mx.cert.example [192.0.2.20]: starttls-not-supported "
		  "(STARTTLS not offered)" },
		{ TLSRPT_VALIDATION_FAILURE, "no peer certificate",
		  "mx.cert.example [192.0.2.20]: validation-failure "
		  "(no peer certificate)" },
	};
	struct gate_verdict	v;
	char			want[900];
	size_t			i;
	int			n[2];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		setup();
		fake_sts_one_mx("cert.example", "enforce", "mx.cert.example",
		    "192.0.2.20", rows[i].result, rows[i].reason);
		gate_rcpt(fx.gate, "Q9", "a@cert.example", "cert.example", &v);
		CHECKF(v.action == GATE_DEFER, "row %zu", i);
		CHECKF(v.result == rows[i].result, "row %zu: %s", i,
		    tlsrpt_result_str(v.result));
		snprintf(want, sizeof(want), "MTA-STS policy of cert.example "
		    "(id p1, mode enforce) cannot be met: %s; will retry",
		    rows[i].text);
		CHECKF(strcmp(v.text, want) == 0, "row %zu: %s", i, v.text);
		records(n);
		CHECKF(n[0] == 1 && n[1] == 1, "row %zu: %d sessions, %d "
		    "deferrals", i, n[0], n[1]);
		CHECKF(last_session.result == rows[i].result &&
		    strcmp(last_session.reason, rows[i].reason) == 0,
		    "row %zu: journaled %s", i, last_session.reason);
		teardown();
	}
}

/* A probe slower than gate_deadline: the probe is told the time left,
 * times out, and the recipient is deferred (not journaled: transient) */
static void
test_gate_probe_timeout_defers(void)
{
	struct gate_verdict	v;
	int			n[2];

	setup();
	fake_sts_one_mx("slow.example", "enforce", "mx.slow.example",
	    "192.0.2.30", TLSRPT_SUCCESS, "");
	fake_tls_probe_delay_ms(10000);		/* gate_deadline is 3 s */
	gate_rcpt(fx.gate, "Q10", "a@slow.example", "slow.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	CHECK(strstr(v.text, "mx.slow.example [192.0.2.30]: validation-failure "
	    "(connect-timeout)") != NULL);
	records(n);
	CHECK_INT(n[0], 0);
	CHECK_INT(n[1], 1);
	teardown();
}

/* STS-APP-2: testing accepts at once; the background walk probes and
 * journals the failure for the report */
static void
test_gate_testing_probes_in_background(void)
{
	struct gate_verdict	v;
	int			n[2];

	setup();
	fake_sts_one_mx("bg.example", "testing", "mx.bg.example",
	    "192.0.2.40", TLSRPT_CERTIFICATE_HOST_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH");
	gate_rcpt(fx.gate, "Q11", "a@bg.example", "bg.example", &v);
	CHECK_INT(v.action, GATE_ACCEPT);
	CHECK_STR(v.why, "mode-testing");
	gate_wait_idle(fx.gate, 30000);	/* returns when idle */
	CHECK_INT(fake_tls_probe_calls(), 1);
	records(n);
	CHECK_INT(n[0], 1);
	CHECK_INT(n[1], 0);
	CHECK_INT(last_session.result, TLSRPT_CERTIFICATE_HOST_MISMATCH);
	gate_rcpt(fx.gate, "Q12", "b@bg.example", "bg.example", &v);
	gate_wait_idle(fx.gate, 30000);	/* returns when idle */
	CHECK_INT(fake_tls_probe_calls(), 1);	/* probed recently */
	teardown();
}

/* --- the log lines (DESIGN.md "Syslog" is a contract) ------------------ */

static int	saved_stderr = -1;
static char	logpath[80];

static void
capture_start(void)
{
	int	fd;

	snprintf(logpath, sizeof(logpath), "%s/stderr", fx.dir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved_stderr = dup(STDERR_FILENO);
	if (fd == -1 || saved_stderr == -1 || dup2(fd, STDERR_FILENO) == -1)
		abort();
	close(fd);
}

/* capture_end - the captured lines, each ending in '\n', into out */
static void
capture_end(char *out, size_t size)
{
	FILE	*f;
	size_t	 n = 0;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	if ((f = fopen(logpath, "r")) != NULL) {
		n = fread(out, 1, size - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	fputs(out, stderr);			/* still shown */
}

/* has_line - text holds line as a whole line */
static int
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

static void
test_gate_log_lines(void)
{
	static const char *const want[] = {
	    "Q20: defer rcpt=<a@cert.example> policy_domain=cert.example "
	    "mode=enforce policy_id=p1 result=certificate-expired "
	    "mx=mx.cert.example ip=192.0.2.20 "
	    "reason=\"X509_V_ERR_CERT_HAS_EXPIRED\" candidates=1",
	    "Q21: defer rcpt=<a@mismatch.example> policy_domain=mismatch.example "
	    "mode=enforce policy_id=p1 result=validation-failure "
	    "mx=mx.mismatch.example ip=- reason=\"mx-host-not-in-policy\" "
	    "candidates=1",
	    "Q22: accept rcpt=<a@good.example> policy_domain=good.example "
	    "mode=enforce policy_id=p1 result=success mx=mx1.good.example "
	    "ip=192.0.2.10",
	    "NOQUEUE: accept rcpt=<a@nopolicy.example> "
	    "policy_domain=nopolicy.example result=no-policy",
	    "Q23: accept rcpt=<a@testing.example> policy_domain=testing.example "
	    "mode=testing policy_id=p1",
	    "Q24: accept rcpt=<a@mxfail.example> policy_domain=mxfail.example "
	    "mode=enforce policy_id=p1 result=mx-lookup-failed (delivery will "
	    "be enforced by the MTA)",
	    "Q25: exempt rcpt=<a@skipped.example> policy_domain=skipped.example "
	    "reason=override",
	};
	struct gate_verdict	 v;
	struct override		*ov;
	struct buf		 why = BUF_INIT;
	const char		*t = "skipped.example skip\n";
	char			 text[16384];
	size_t			 i;

	setup();
	CHECK_INT(override_parse(t, strlen(t), "ov", &ov, &why), ST_OK);
	gate_set_overrides(fx.gate, ov);
	fake_sts_one_mx("cert.example", "enforce", "mx.cert.example",
	    "192.0.2.20", TLSRPT_CERTIFICATE_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED");
	fake_sts_policy("mismatch.example", "enforce", "mx.elsewhere.example");
	fake_dns_set("MX", "mismatch.example", ST_OK, "10 mx.mismatch.example",
	    NULL);
	fake_sts_mx("good.example", "enforce", "*.good.example",
	    "mx1.good.example", "192.0.2.10", TLSRPT_SUCCESS, "");
	fake_sts_policy("testing.example", "testing", "mx.testing.example");
	fake_dns_set("MX", "testing.example", ST_OK, "10 mx.testing.example",
	    NULL);
	fake_sts_policy("mxfail.example", "enforce", "mx.mxfail.example");
	fake_dns_set("MX", "mxfail.example", ST_TEMPFAIL, NULL);
	fake_sts_policy("skipped.example", "enforce", "mx.elsewhere.example");

	log_setverbose(1);
	capture_start();
	gate_rcpt(fx.gate, "Q20", "a@cert.example", "cert.example", &v);
	gate_rcpt(fx.gate, "Q21", "a@mismatch.example", "mismatch.example", &v);
	gate_rcpt(fx.gate, "Q22", "a@good.example", "good.example", &v);
	gate_rcpt(fx.gate, "", "a@nopolicy.example", "nopolicy.example", &v);
	gate_rcpt(fx.gate, "Q23", "a@testing.example", "testing.example", &v);
	gate_rcpt(fx.gate, "Q24", "a@mxfail.example", "mxfail.example", &v);
	gate_rcpt(fx.gate, "Q25", "a@skipped.example", "skipped.example", &v);
	gate_wait_idle(fx.gate, 30000);	/* returns when idle */
	capture_end(text, sizeof(text));
	log_setverbose(0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECKF(has_line(text, want[i]), "missing: %s", want[i]);
	teardown();
	override_free(ov);
	buf_free(&why);
}

/* --- issue 12: probe verdicts shared by the fleet -------------------- */

/* a verdict store as the fleet's Redis keeps it: key -> text, ttl */
static struct {
	char	key[8][300];
	char	text[8][512];
	time_t	ttl[8];
	int	n, gets, puts;
} vstore;

static int
vstore_get(void *arg, const char *key, struct buf *text, time_t *ttl)
{
	int	i;

	vstore.gets++;
	for (i = 0; i < vstore.n; i++)
		if (strcmp(vstore.key[i], key) == 0) {
			buf_puts(text, vstore.text[i]);
			*ttl = vstore.ttl[i];
			return 0;
		}
	return -1;
}

static void
vstore_put(void *arg, const char *key, const struct buf *text, time_t ttl)
{
	vstore.puts++;
	if (vstore.n < 8) {
		snprintf(vstore.key[vstore.n], sizeof(vstore.key[0]), "%s", key);
		snprintf(vstore.text[vstore.n], sizeof(vstore.text[0]), "%s",
		    buf_str(text));
		vstore.ttl[vstore.n++] = ttl;
	}
}

/* A node takes another's verdict (per host, IP and port, with its TTL)
 * instead of probing; a connection that failed is not shared */
static void
test_gate_shares_verdicts(void)
{
	struct tcache_l2	 store = { vstore_get, vstore_put, NULL, NULL,
				    NULL };
	struct gate		*other;
	struct sts_cache	*other_cache;
	struct sts_cache_opts	 o;
	struct gate_verdict	 v;
	int			 n[2];

	memset(&vstore, 0, sizeof(vstore));
	setup();
	fake_cache_opts(&o, NULL);
	other_cache = sts_cache_new(&o);
	other = gate_new(fx.conf, other_cache, NULL, fx.jnl);
	gate_share_verdicts(fx.gate, &store);
	gate_share_verdicts(other, &store);
	fake_sts_one_mx("cert.example", "enforce", "mx.cert.example",
	    "192.0.2.20", TLSRPT_CERTIFICATE_EXPIRED, "expired");
	gate_rcpt(fx.gate, "Q1", "a@cert.example", "cert.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	CHECK_INT(fake_tls_probe_calls(), 1);
	CHECK_INT(vstore.puts, 1);
	CHECK_STR(vstore.key[0], "mx.cert.example|192.0.2.20|25");
	CHECK_INT(vstore.ttl[0], 300);		/* a failure's TTL */
	gate_rcpt(other, "Q2", "a@cert.example", "cert.example", &v);
	CHECK_INT(v.action, GATE_DEFER);
	CHECK_INT(v.result, TLSRPT_CERTIFICATE_EXPIRED);
	CHECK(strstr(v.text, "certificate-expired (expired)") != NULL);
	CHECK_INT(fake_tls_probe_calls(), 1);	/* no second probe */
	CHECK_INT(vstore.puts, 1);		/* and nothing to put back */
	records(n);
	CHECK_INT(n[0], 1);			/* one TLS session journaled */
	/* refused (nothing listens): this node's trouble, not shared */
	fake_sts_one_mx("down.example", "enforce", "mx.down.example",
	    "192.0.2.30", TLSRPT_SUCCESS, "");
	fake_tls_probe_set("mx.down.example", "192.0.2.30", ST_TEMPFAIL,
	    TLSRPT_VALIDATION_FAILURE, "connection refused");
	gate_rcpt(fx.gate, "Q3", "a@down.example", "down.example", &v);
	CHECK_INT(vstore.puts, 1);
	gate_free(other);
	sts_cache_free(other_cache);
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
	RUN(test_gate_good_probe_accepts);
	RUN(test_gate_backup_mx_accepts);
	RUN(test_gate_certificate_failures_defer);
	RUN(test_gate_probe_timeout_defers);
	RUN(test_gate_testing_probes_in_background);
	RUN(test_gate_log_lines);
	RUN(test_gate_shares_verdicts);
	return harness_done("test_gate");
}
