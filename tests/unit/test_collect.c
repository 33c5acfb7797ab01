/*
 * test_collect.c - the TLS-RPT datagram collector: datagrams as
 * libtlsrpt sends them (a fresh AF_UNIX datagram socket per event,
 * MSG_DONTWAIT) become journal records; STS policies that are the
 * cached policy share its archive hash; invalid datagrams are counted
 * and quarantined; nothing is lost on the way.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "collect.h"
#include "fakes.h"
#include "harness.h"
#include "journal.h"
#include "policy_archive.h"
#include "sts_cache.h"
#include "timefmt.h"

#define URL(d)	"https://mta-sts." d "/.well-known/mta-sts.txt"
#define MAXREC	64

static char		 dir[64];
static struct sts_cache	*cache;
static struct journal	*jnl;
static struct journal_rec recs[MAXREC];
static int		 nrec;

static int
keep_cb(void *arg, const struct journal_rec *r)
{
	(void)arg;
	if (nrec < MAXREC)
		recs[nrec++] = *r;
	return 0;
}

/* load - today's journal into recs */
static void
load(void)
{
	struct journal_stats	st;
	char			day[11];

	nrec = 0;
	timefmt_day(clock_now(), day);
	(void)journal_read_day(dir, day, keep_cb, NULL, &st);
}

static void
setup(void)
{
	struct sts_cache_opts	o;
	struct buf		why = BUF_INIT;

	snprintf(dir, sizeof(dir), "/tmp/test_collect.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(1700000000);
	fake_sts_domain("enforce.test", "e1", "version: STSv1\r\nmode: enforce"
	    "\r\nmx: mx1.enforce.test\r\nmx: *.enforce.test\r\n"
	    "max_age: 86400\r\n");
	fake_cache_opts(&o, dir);
	cache = sts_cache_new(&o);
	jnl = journal_open(dir, &why);
	buf_free(&why);
}

static void
teardown(void)
{
	journal_close(jnl);
	sts_cache_free(cache);
	fake_rm_rf(dir);
}

static const char *dg_sts_fail =
    "{\"dpv\": \"1\",\"d\": \"enforce.test\",\"pr\": \"v=TLSRPTv1; "
    "rua=mailto:r@enforce.test\",\"policies\":[{\"policy-type\":2,"
    "\"policy-domain\": \"enforce.test\",\"policy-string\":[\"version: "
    "STSv1\",\"mode: enforce\",\"mx: mx1.enforce.test\",\"mx: "
    "*.enforce.test\",\"max_age: 86400\"],\"mx-host\":[\"mx1.enforce.test\","
    "\"*.enforce.test\"],\"failure-details\":[{\"c\":203,\"s\": "
    "\"192.0.2.9\",\"n\": \"mx1.enforce.test\",\"h\": \"250-mx1.enforce.test"
    "\\r\\n250 STARTTLS\",\"r\": \"127.0.1.1\",\"f\": "
    "\"self-signed_certificate\"}],\"t\":1,\"f\":1}]}";
static const char *dg_sts_other =
    "{\"dpv\": \"1\",\"d\": \"enforce.test\",\"policies\":[{"
    "\"policy-type\":2,\"policy-domain\": \"enforce.test\","
    "\"policy-string\":[\"version: STSv1\",\"mode: testing\",\"mx: "
    "mx9.enforce.test\",\"max_age: 600\"],\"t\":0,\"f\":0}]}";
static const char *dg_nopol =
    "{\"dpv\": \"1\",\"d\": \"plain.test\",\"pr\": \"v=TLSRPTv1; "
    "rua=mailto:r@plain.test\",\"policies\":[{\"policy-type\":9,\"t\":0,"
    "\"f\":0}]}";
static const char *dg_dane =
    "{\"dpv\": \"1\",\"d\": \"dane.test\",\"policies\":[{\"policy-type\":1,"
    "\"policy-domain\": \"mx.dane.test\",\"policy-string\":[\"3 1 1 "
    "ABCDEF\"],\"t\":0,\"f\":0}]}";

/* The records a user would see in "stsctl journal" and in the report. */
static void
test_records(void)
{
	struct collect		*c;
	struct collect_stats	 s;
	struct sts_lookup	 l;
	struct buf		 why = BUF_INIT;
	char			 hash[65];

	setup();
	/* the gate cached the policy, so Postfix asked our policy map */
	CHECK_INT(sts_cache_lookup(cache, "enforce.test", 0, &l), ST_OK);
	CHECK_INT(policy_archive_put(dir, l.policy->p_text,
	    l.policy->p_text_len, hash), 0);
	sts_lookup_clear(&l);
	c = collect_new(NULL, dir, cache, &why);
	CHECK(c != NULL);
	CHECK_INT(collect_start(c, jnl), 0);	/* no socket: no thread */
	CHECK_INT(collect_datagram(c, dg_sts_fail, strlen(dg_sts_fail),
	    clock_now(), &why), 1);
	/* a testing-mode success the daemon cannot check: not claimed */
	CHECK_INT(collect_datagram(c, dg_sts_other, strlen(dg_sts_other),
	    clock_now(), &why), 0);
	CHECK_INT(collect_datagram(c, dg_nopol, strlen(dg_nopol), clock_now(),
	    &why), 1);
	CHECK_INT(collect_datagram(c, dg_dane, strlen(dg_dane), clock_now(),
	    &why), 1);
	load();
	CHECK_INT(nrec, 3);
	if (nrec == 3) {
		/* 1: the cached policy: the gate's archive entry and id */
		CHECK_STR(recs[0].src, "postfix");
		CHECK_STR(recs[0].ptype, "sts");
		CHECK_STR(recs[0].domain, "enforce.test");
		CHECK_STR(recs[0].phash, hash);
		CHECK_STR(recs[0].pid, "e1");
		CHECK_STR(recs[0].mode, "enforce");
		CHECK_STR(tlsrpt_result_str(recs[0].result),
		    "certificate-not-trusted");
		CHECK_STR(recs[0].mx, "mx1.enforce.test");
		CHECK_STR(recs[0].helo, "mx1.enforce.test");
		CHECK_STR(recs[0].sip, "192.0.2.9");
		CHECK_STR(recs[0].rip, "127.0.1.1");
		CHECK_STR(recs[0].reason, "self-signed_certificate");
		CHECK(recs[0].time == clock_now());
		/* 2: no policy: the domain from "d", no hash */
		CHECK_STR(recs[1].ptype, "no-policy-found");
		CHECK_STR(recs[1].domain, "plain.test");
		CHECK_STR(recs[1].phash, "");
		/* 3: DANE: reported to the next-hop domain */
		CHECK_STR(recs[2].ptype, "tlsa");
		CHECK_STR(recs[2].domain, "dane.test");
		CHECK(recs[2].phash[0] != '\0');
	}
	collect_stats(c, &s);
	CHECK(s.datagrams == 4 && s.records == 3 && s.invalid == 0 &&
	    s.lost == 0 && s.unverified == 1);
	collect_stop(c);
	teardown();
	buf_free(&why);
}

/* Garbage: counted, quarantined with its reason, nothing journaled. */
static void
test_invalid(void)
{
	struct collect		*c;
	struct collect_stats	 s;
	struct buf		 why = BUF_INIT;
	char			 path[128], line[512];
	FILE			*f;

	setup();
	c = collect_new(NULL, dir, cache, &why);
	CHECK_INT(collect_datagram(c, "{\"d\":\"x.test\"}", 14, clock_now(),
	    &why), -1);
	CHECK(strstr(buf_str(&why), "policies") != NULL);
	buf_reset(&why);
	CHECK_INT(collect_datagram(c, "\x01\xff\"", 3, clock_now(), &why), -1);
	load();
	CHECK_INT(nrec, 0);
	collect_stats(c, &s);
	CHECK(s.datagrams == 2 && s.invalid == 2 && s.records == 0);
	snprintf(path, sizeof(path), "%s/tlsrpt-quarantine", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(fgets(line, sizeof(line), f) != NULL &&
		    strstr(line, "\"reason\":\"\\\"policies\\\"") != NULL &&
		    strstr(line, "\"datagram\":\"{\\\"d\\\":\\\"x.test\\\"}\"") !=
		    NULL);
		CHECK(fgets(line, sizeof(line), f) != NULL &&
		    strstr(line, "\"datagram\":\"\\u0001\\u00ff\\\"\"") !=
		    NULL);
		fclose(f);
	}
	/* no journal: every record is counted as lost, none crashes */
	collect_stop(c);
	c = collect_new(NULL, dir, cache, &why);
	CHECK_INT(collect_datagram(c, dg_nopol, strlen(dg_nopol), clock_now(),
	    &why), 0);
	collect_stats(c, &s);
	CHECK(s.lost == 1 && s.records == 0);
	collect_stop(c);
	teardown();
	buf_free(&why);
}

/*
 * Exim's reports (exim-tlsrpt lines through the policy map): journaled
 * with the domain's cached policy; a domain cached as having none is a
 * no-policy-found session; a domain the daemon does not know, a line
 * with no TLS outcome and a bad line journal nothing.
 */
static void
test_exim(void)
{
	struct collect		*c;
	struct collect_stats	 s;
	struct sts_lookup	 l;
	struct buf		 why = BUF_INIT;
	char			 hash[65];

	setup();
	fake_dns_set("TXT", "_mta-sts.plain.test", ST_NOTFOUND, NULL);
	CHECK_INT(sts_cache_lookup(cache, "enforce.test", 0, &l), ST_OK);
	CHECK_INT(policy_archive_put(dir, l.policy->p_text,
	    l.policy->p_text_len, hash), 0);
	sts_lookup_clear(&l);
	CHECK_INT(sts_cache_lookup(cache, "plain.test", 0, &l), ST_NOTFOUND);
	sts_lookup_clear(&l);
	c = collect_new(NULL, dir, cache, &why);
	CHECK_INT(collect_start(c, jnl), 0);
	CHECK_INT(collect_exim_line(c, "domain=enforce.test mx=mx1.enforce.test "
	    "ip=127.0.1.1 sip=127.0.5.1 tls=TLS1.3:X:256 verified=1 "
	    "notafter=1900000000 san=DNS=mx1.enforce.test", clock_now()), 1);
	CHECK_INT(collect_exim_line(c, "domain=enforce.test mx=mx9.enforce.test "
	    "veto=1", clock_now()), 1);
	CHECK_INT(collect_exim_line(c, "domain=plain.test mx=mx.plain.test "
	    "tls=TLS1.3:X:256 verified=0", clock_now()), 1);
	CHECK_INT(collect_exim_line(c, "domain=unknown.test mx=mx.unknown.test "
	    "tls=T verified=1", clock_now()), 0);
	CHECK_INT(collect_exim_line(c, "domain=enforce.test mx=mx1.enforce.test "
	    "tls= verified=0", clock_now()), 0);
	CHECK_INT(collect_exim_line(c, "mx=x tls=T", clock_now()), -1);
	/* one connection reported after STARTTLS and again at close: one
	 * session; the domain is normalised before the policy lookup */
	CHECK_INT(collect_exim_line(c, "domain=Enforce.Test. mx=mx1.enforce.test "
	    "tls=T verified=1 conn=127.0.5.1.4000-127.0.1.1.25", clock_now()), 1);
	CHECK_INT(collect_exim_line(c, "domain=enforce.test mx=mx1.enforce.test "
	    "tls=T verified=1 conn=127.0.5.1.4000-127.0.1.1.25", clock_now()), 0);
	load();
	CHECK_INT(nrec, 4);
	if (nrec == 4) {
		CHECK_STR(recs[0].src, "exim");
		CHECK_STR(recs[0].ptype, "sts");
		CHECK_STR(recs[0].phash, hash);
		CHECK_STR(recs[0].pid, "e1");
		CHECK_STR(recs[0].mode, "enforce");
		CHECK(recs[0].result == TLSRPT_SUCCESS);
		CHECK_STR(recs[0].rip, "127.0.1.1");
		CHECK_STR(recs[0].sip, "127.0.5.1");
		CHECK(recs[1].result == TLSRPT_VALIDATION_FAILURE);
		CHECK_STR(recs[1].mx, "mx9.enforce.test");
		CHECK_STR(recs[1].reason, "mx-host-not-in-policy");
		CHECK_STR(recs[2].ptype, "no-policy-found");
		CHECK_STR(recs[2].domain, "plain.test");
		CHECK(recs[2].result == TLSRPT_SUCCESS);
	}
	collect_stats(c, &s);
	CHECK(s.exim == 4 && s.exim_invalid == 1);
	collect_stop(c);
	teardown();
	buf_free(&why);
}

/*
 * What a hostile local sender can cost: new policy texts are archived
 * at most 60 a minute (the sessions are journaled all the same), and a
 * domain the daemon does not know never enters its cache.
 */
static void
test_bounds(void)
{
	struct collect		*c;
	struct collect_stats	 s;
	struct buf		 why = BUF_INIT, d = BUF_INIT;
	size_t			 before;
	int			 i, with = 0;

	setup();
	c = collect_new(NULL, dir, cache, &why);
	CHECK_INT(collect_start(c, jnl), 0);	/* journal, no thread */
	before = sts_cache_size(cache);
	for (i = 0; i < 70; i++) {
		buf_reset(&d);
		buf_printf(&d, "{\"d\":\"h%d.test\",\"policies\":[{"
		    "\"policy-type\":2,\"policy-string\":[\"version: STSv1\","
		    "\"mode: enforce\",\"mx: mx%d.test\",\"max_age: 60\"],"
		    "\"t\":0,\"f\":0}]}", i, i);
		CHECK_INT(collect_datagram(c, buf_str(&d), d.b_len,
		    clock_now(), &why), 1);
	}
	CHECK_INT((int)sts_cache_size(cache), (int)before);
	load();
	CHECK_INT(nrec, 64);			/* (MAXREC kept here) */
	for (i = 0; i < nrec; i++)
		with += recs[i].phash[0] != '\0';
	CHECK_INT(with, 60);
	collect_stats(c, &s);
	CHECK(s.records == 70 && s.unarchived == 10);
	/* a minute later the budget is back */
	fake_clock_advance(60);
	CHECK_INT(collect_datagram(c, buf_str(&d), d.b_len, clock_now(),
	    &why), 1);
	collect_stats(c, &s);
	CHECK(s.unarchived == 10);
	collect_stop(c);
	teardown();
	buf_free(&why);
	buf_free(&d);
}

/*
 * send_dgram - as libtlsrpt: a fresh socket per event, MSG_DONTWAIT.
 * libtlsrpt drops an event when the kernel queue is full (EAGAIN); here
 * the caller may retry to tell our losses from the kernel's.
 */
static int
send_dgram(const char *path, const char *d, size_t len)
{
	struct sockaddr_un	sun;
	int			fd = socket(AF_UNIX, SOCK_DGRAM, 0), e;
	ssize_t			n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	n = sendto(fd, d, len, MSG_DONTWAIT, (struct sockaddr *)&sun,
	    sizeof(sun));
	e = errno;
	close(fd);
	if (n == (ssize_t)len)
		return 0;
	return e == EAGAIN ? 1 : -1;
}

/* Over the real socket: a burst of 500 events, an oversize one, and a
 * stale socket file left by a crash is replaced. */
static void
test_socket(void)
{
	struct collect		*c;
	struct collect_stats	 s;
	struct buf		 why = BUF_INIT, big = BUF_INIT;
	char			 path[96];
	int			 i, sent = 0, tries;

	setup();
	snprintf(path, sizeof(path), "%s/tlsrpt.sock", dir);
	c = collect_new(path, dir, cache, &why);
	CHECK(c != NULL);
	collect_stop(c);			/* leaves nothing behind */
	CHECK(access(path, F_OK) != 0);
	{
		/* a crash leaves the socket file: replaced, not refused */
		struct sockaddr_un	sun;
		int			fd = socket(AF_UNIX, SOCK_DGRAM, 0);

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
		close(fd);
		CHECK(access(path, F_OK) == 0);
	}
	c = collect_new(path, dir, cache, &why);
	CHECKF(c != NULL, "stale socket: %s", buf_str(&why));
	CHECK_INT(collect_start(c, jnl), 0);
	/* A burst the size of the kernel's shortest queue always fits. */
	for (i = 0; i < 10; i++)
		sent += send_dgram(path, dg_nopol, strlen(dg_nopol)) == 0;
	CHECK_INT(sent, 10);
	/* 490 more as fast as a loop can: none is lost once sent. */
	for (i = 0; i < 490; i++) {
		for (tries = 0; tries < 1000; tries++) {
			int k = send_dgram(path, dg_nopol, strlen(dg_nopol));

			if (k <= 0) {
				sent += k == 0;
				break;
			}
			usleep(1000);		/* EAGAIN: kernel queue full */
		}
	}
	CHECK_INT(sent, 500);
	buf_init(&big, DGRAM_MAX * 2);
	buf_puts(&big, "{\"d\":\"a.test\",\"x\":\"");
	while (big.b_len < DGRAM_MAX + 100)
		buf_puts(&big, "yyyyyyyyyyyyyyyy");
	buf_puts(&big, "\"}");
	for (tries = 0; tries < 1000; tries++) {
		int k = send_dgram(path, buf_str(&big), big.b_len);

		if (k <= 0) {
			CHECK_INT(k, 0);
			break;
		}
		usleep(1000);
	}
	for (tries = 0; tries < 500; tries++) {
		collect_stats(c, &s);
		if (s.datagrams == 501)
			break;
		usleep(10000);
	}
	collect_stats(c, &s);
	CHECK(s.datagrams == 501 && s.records == 500 && s.invalid == 1 &&
	    s.lost == 0);
	load();
	CHECK_INT(nrec, MAXREC);		/* (only MAXREC kept here) */
	collect_stop(c);
	CHECK(access(path, F_OK) != 0);
	/* a path that is not a socket is never unlinked */
	{
		FILE *f = fopen(path, "w");

		if (f)
			fclose(f);
		buf_reset(&why);
		CHECK(collect_new(path, dir, cache, &why) == NULL);
		CHECK(strstr(buf_str(&why), "not a socket") != NULL);
		CHECK(access(path, F_OK) == 0);
		buf_reset(&why);
		CHECK(collect_new("relative.sock", dir, cache, &why) == NULL);
	}
	teardown();
	buf_free(&why);
	buf_free(&big);
}

/* fake MX verdicts for testing.test (what the gate would know) */
static const char	*truth_rows;	/* "P", "F", "U", "FP" ... */
static int		 truth_calls;

static size_t
fake_truth(void *arg, const char *domain, const struct sts_policy *p,
    const char *pid, int64_t deadline, struct truth_host *h, size_t max)
{
	size_t	n;

	(void)arg; (void)p; (void)deadline;
	truth_calls++;
	CHECK_STR(domain, "testing.test");
	CHECK_STR(pid, "t1");
	for (n = 0; truth_rows[n] && n < max; n++) {
		memset(&h[n], 0, sizeof(h[n]));
		snprintf(h[n].mx, sizeof(h[n].mx), "mx%zu.testing.test", n + 1);
		snprintf(h[n].ip, sizeof(h[n].ip), "127.0.1.%zu", n + 1);
		h[n].pref = 10 * (unsigned)(n + 1);
		h[n].state = truth_rows[n] == 'P' ? TRUTH_PASS :
		    truth_rows[n] == 'F' ? TRUTH_FAIL : TRUTH_UNKNOWN;
		if (h[n].state == TRUTH_FAIL) {
			h[n].result = TLSRPT_CERTIFICATE_HOST_MISMATCH;
			snprintf(h[n].reason, sizeof(h[n].reason),
			    "X509_V_ERR_HOSTNAME_MISMATCH");
		}
	}
	return n;
}

/*
 * STS-APP-2, issue 11: Postfix 3.10 reports a testing-mode session at
 * level "may" as a success whatever the certificate; the journal says
 * what the policy's validation would have said, or nothing.
 */
static void
test_testing_truth(void)
{
	static const char *dg =
	    "{\"dpv\": \"1\",\"d\": \"testing.test\",\"policies\":[{"
	    "\"policy-type\":2,\"policy-domain\": \"testing.test\","
	    "\"policy-string\":[\"version: STSv1\",\"mode: testing\","
	    "\"mx: *.testing.test\",\"max_age: 86400\"],\"mx-host\":"
	    "[\"*.testing.test\"],\"t\":0,\"f\":0}]}";
	struct collect		*c;
	struct collect_stats	 s;
	struct sts_lookup	 l;
	struct buf		 why = BUF_INIT;

	setup();
	fake_sts_domain("testing.test", "t1", "version: STSv1\r\nmode: "
	    "testing\r\nmx: *.testing.test\r\nmax_age: 86400\r\n");
	CHECK_INT(sts_cache_lookup(cache, "testing.test", 0, &l), ST_OK);
	sts_lookup_clear(&l);
	c = collect_new(NULL, dir, cache, &why);
	CHECK_INT(collect_start(c, jnl), 0);
	/* no verdicts at all (no gate): nothing claimed */
	CHECK_INT(collect_datagram(c, dg, strlen(dg), clock_now(), &why), 0);
	collect_set_truth(c, fake_truth, NULL);
	truth_rows = "F";	/* the wrong-name MX */
	CHECK_INT(collect_datagram(c, dg, strlen(dg), clock_now(), &why), 1);
	truth_rows = "P";
	CHECK_INT(collect_datagram(c, dg, strlen(dg), clock_now(), &why), 1);
	truth_rows = "U";	/* probe could not tell */
	CHECK_INT(collect_datagram(c, dg, strlen(dg), clock_now(), &why), 0);
	truth_rows = "FP";	/* Postfix used the first */
	CHECK_INT(collect_datagram(c, dg, strlen(dg), clock_now(), &why), 1);
	CHECK_INT(truth_calls, 4);
	load();
	CHECK_INT(nrec, 3);
	if (nrec == 3) {
		CHECK_STR(tlsrpt_result_str(recs[0].result),
		    "certificate-host-mismatch");
		CHECK_STR(recs[0].mx, "mx1.testing.test");
		CHECK_STR(recs[0].rip, "127.0.1.1");
		CHECK_STR(recs[0].reason, "X509_V_ERR_HOSTNAME_MISMATCH");
		CHECK_STR(recs[0].mode, "testing");
		CHECK_STR(recs[0].pid, "t1");
		CHECK(recs[1].result == TLSRPT_SUCCESS && recs[1].mx[0] == 0);
		CHECK_STR(tlsrpt_result_str(recs[2].result),
		    "certificate-host-mismatch");
	}
	collect_stats(c, &s);
	CHECK(s.datagrams == 5 && s.records == 3 && s.unverified == 2);
	collect_stop(c);
	teardown();
	buf_free(&why);
}

int
main(void)
{
	RUN(test_records);
	RUN(test_testing_truth);
	RUN(test_invalid);
	RUN(test_bounds);
	RUN(test_exim);
	RUN(test_socket);
	return harness_done("test_collect");
}
