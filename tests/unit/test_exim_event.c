/*
 * test_exim_event.c - TLS outcomes from Exim's event_action lines
 * (exim_event.h): the lines the lab's Exim 4.96 sends for each lab MX,
 * their RFC 8460 classification, and the lines that are refused.
 * A row's "got" is "result,reason,mx,ip,sip" (result "-" for
 * ST_NOTFOUND) or, for ST_INVALID, part of the reason.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "exim_event.h"
#include "status.h"

#include "../harness.h"

#define NOW	1800000000	/* 2027-01-15 */
#define LATER	"1900000000"
#define PAST	"1700000000"

static const struct {
	const char	*tag;
	const char	*line;
	int		 no_policy;
	enum status	 want;
	const char	*got;
} cases[] = {
	/* what the lab's Exim sends at tcp:close (conf/exim fragment) */
	{ "verified", "domain=enforce.test mx=mx1.enforce.test ip=127.0.1.1 "
	    "sip=127.0.5.1 tls=TLS1.3:ECDHE_X25519:256 verified=1 notafter="
	    LATER " san=DNS=mx1.enforce.test", 0, ST_OK,
	    "success,,mx1.enforce.test,127.0.1.1,127.0.5.1" },
	{ "expired (enforce: handshake refused)", "domain=expired.test "
	    "mx=mx.expired.test ip=127.0.1.22 sip=127.0.5.1 tls=TLS1.3:X:256 "
	    "verified=0 notafter=" PAST " san=DNS=mx.expired.test", 0, ST_OK,
	    "certificate-expired,expired,mx.expired.test,127.0.1.22,127.0.5.1" },
	{ "name mismatch", "domain=wrongname.test mx=mx.wrongname.test "
	    "ip=127.0.1.23 tls=TLS1.3:X:256 verified=0 notafter=" LATER
	    " san=DNS=mx.other.test", 0, ST_OK, "certificate-host-mismatch,"
	    "no-matching-dns-name,mx.wrongname.test,127.0.1.23," },
	{ "untrusted", "domain=untrustedmx.test mx=mx.untrustedmx.test "
	    "ip=127.0.1.24 tls=TLS1.3:X:256 verified=0 notafter=" LATER
	    " san=DNS=mx.untrustedmx.test", 0, ST_OK,
	    "certificate-not-trusted,chain-not-verified,mx.untrustedmx.test,"
	    "127.0.1.24," },
	{ "CN only: handshake aborted by the tls:cert check (no cipher)",
	    "domain=cnonly.test mx=mx.cnonly.test ip=127.0.1.26 tls= "
	    "verified=0 notafter=" LATER " san=", 0, ST_OK,
	    "certificate-host-mismatch,no-dns-subjectaltname,mx.cnonly.test,"
	    "127.0.1.26," },
	{ "no STARTTLS (smtp:ehlo)", "domain=nostarttls.test "
	    "mx=mx.nostarttls.test ip=127.0.1.25 starttls=no", 0, ST_OK,
	    "starttls-not-supported,,mx.nostarttls.test,127.0.1.25," },
	{ "no STARTTLS, no policy", "domain=plain.test mx=mx.plain.test "
	    "starttls=no", 1, ST_OK, "starttls-not-supported,,mx.plain.test,," },
	{ "MX veto (from the daemon)", "domain=mismatch.test "
	    "mx=mx.mismatch.test veto=1", 0, ST_OK,
	    "validation-failure,mx-host-not-in-policy,mx.mismatch.test,," },
	{ "wildcard SAN covers one label", "domain=w.test mx=a.w.test "
	    "tls=T verified=1 san=DNS=x.test,DNS=*.w.test", 0, ST_OK,
	    "success,,a.w.test,," },
	{ "wildcard SAN, two labels: mismatch", "domain=w.test mx=a.b.w.test "
	    "tls=T verified=1 san=DNS=*.w.test", 0, ST_OK,
	    "certificate-host-mismatch,no-matching-dns-name,a.b.w.test,," },
	{ "names compared without case", "domain=w.test mx=MX.W.test tls=T "
	    "verified=1 san=DNS=mx.w.TEST", 0, ST_OK, "success,,MX.W.test,," },
	{ "testing transport: verified but the names do not cover mx",
	    "domain=t.test mx=mx.t.test tls=T verified=1 san=DNS=other.test",
	    0, ST_OK, "certificate-host-mismatch,no-matching-dns-name,"
	    "mx.t.test,," },
	{ "no policy: TLS is success, certificates do not matter",
	    "domain=p.test mx=mx.p.test tls=T verified=0 notafter=" PAST
	    " san=DNS=x", 1, ST_OK, "success,,mx.p.test,," },
	{ "no policy: no TLS, nothing", "domain=p.test mx=mx.p.test tls=",
	    1, ST_NOTFOUND, "-" },
	{ "no policy: veto ignored", "domain=p.test mx=m.p.test veto=1", 1,
	    ST_NOTFOUND, "-" },
	{ "connection failed before TLS", "domain=enforce.test "
	    "mx=mx1.enforce.test ip=127.0.1.1 tls= verified=0 notafter= san=",
	    0, ST_NOTFOUND, "-" },
	{ "unknown keys ignored", "domain=a.test future=1 tls=T verified=1",
	    0, ST_OK, "success,,,," },
	/* the fragment's fields since review: filtered san, dns, dane */
	{ "no matching name, but DNS names (dns=yes)", "domain=w.test "
	    "mx=mx.w.test tls=T verified=0 notafter=" LATER " dns=yes san=",
	    0, ST_OK, "certificate-host-mismatch,no-matching-dns-name,"
	    "mx.w.test,," },
	{ "no certificate at all (dns=no, nothing else)", "domain=w.test "
	    "mx=mx.w.test tls= verified=0 notafter= dns=no san= dane=no",
	    0, ST_NOTFOUND, "-" },
	{ "DANE-verified: not an MTA-STS session", "domain=w.test mx=mx.w.test "
	    "tls=T verified=1 dane=yes notafter=" PAST " dns=yes san=", 0,
	    ST_NOTFOUND, "-" },
	{ "conn kept", "domain=a.test mx=m.a.test tls=T verified=1 "
	    "conn=127.0.5.1.4242-127.0.1.1.25", 0, ST_OK, "success,,m.a.test,," },
	/* a certificate cannot smuggle keys: a repeated key is refused */
	{ "repeated domain", "domain=a.test mx=m.a.test tls=T verified=0 "
	    "san=DNS=x verified=1 domain=b.test", 0, ST_INVALID, "twice" },
	/* refused */
	{ "no domain", "mx=mx.a.test tls=T", 0, ST_INVALID, "domain" },
	{ "bad domain", "domain=[127.0.0.1] tls=T", 0, ST_INVALID, "domain" },
	{ "word without =", "domain=a.test garbage", 0, ST_INVALID,
	    "KEY=VALUE" },
	{ "bad mx", "domain=a.test mx=a..b tls=T", 0, ST_INVALID, "mx=" },
	{ "bad notafter", "domain=a.test notafter=12x", 0, ST_INVALID,
	    "notafter" },
	{ "control character", "domain=a.test mx=a\x01" "b", 0, ST_INVALID,
	    "control" },
	{ "empty line", "", 0, ST_INVALID, "domain" },
};

static void
test_table(void)
{
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf		why = BUF_INIT, got = BUF_INIT;
		struct exim_event	ev;
		enum status		st;

		st = exim_event_parse(cases[i].line, NOW, cases[i].no_policy,
		    &ev, &why);
		CHECKF(st == cases[i].want, "%s: status %d, want %d (%s)",
		    cases[i].tag, st, cases[i].want, buf_str(&why));
		if (st == ST_OK)
			buf_printf(&got, "%s,%s,%s,%s,%s",
			    tlsrpt_result_str(ev.result), ev.reason, ev.mx,
			    ev.ip, ev.sip);
		else if (st == ST_NOTFOUND)
			buf_puts(&got, "-");
		if (st != ST_INVALID && cases[i].want != ST_INVALID)
			CHECKF(strcmp(buf_str(&got), cases[i].got) == 0,
			    "%s:\n  got  %s\n  want %s", cases[i].tag,
			    buf_str(&got), cases[i].got);
		if (st == ST_INVALID && cases[i].want == ST_INVALID)
			CHECKF(strstr(buf_str(&why), cases[i].got) != NULL,
			    "%s: reason \"%s\" lacks \"%s\"", cases[i].tag,
			    buf_str(&why), cases[i].got);
		buf_free(&why);
		buf_free(&got);
	}
}

/* A line over the limit and an over-long value are refused. */
static void
test_limits(void)
{
	char			line[EXIM_EVENT_MAX + 64];
	struct exim_event	ev;
	struct buf		why = BUF_INIT;

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "domain=a.test san=", 18);
	CHECK_INT(exim_event_parse(line, NOW, 0, &ev, &why), ST_INVALID);
	snprintf(line, sizeof(line), "domain=a.test tls=%0200d", 1);
	buf_reset(&why);
	CHECK_INT(exim_event_parse(line, NOW, 0, &ev, &why), ST_INVALID);
	CHECK(strstr(buf_str(&why), "too long") != NULL);
	buf_free(&why);
}

/* The daemon's own veto events: the same event a "veto=1" line reads
 * as, classified validation-failure / mx-host-not-in-policy; names that
 * a line could not carry are refused the same way. */
static void
test_veto(void)
{
	struct exim_event	ev, line;
	struct buf		why = BUF_INIT;

	CHECK_INT(exim_event_veto(&ev, "Enforce.Test.", "mx.evil.test", NULL,
	    &why), ST_OK);
	CHECK_INT(exim_event_read("domain=enforce.test mx=mx.evil.test veto=1",
	    &line, &why), ST_OK);
	CHECK(memcmp(&ev, &line, sizeof(ev)) == 0);
	/* the address Exim would have connected to: receiving-ip */
	CHECK_INT(exim_event_veto(&ev, "enforce.test", "mx.evil.test",
	    "2001:db8::25", &why), ST_OK);
	CHECK_INT(exim_event_read("domain=enforce.test mx=mx.evil.test "
	    "ip=2001:db8::25 veto=1", &line, &why), ST_OK);
	CHECK(memcmp(&ev, &line, sizeof(ev)) == 0);
	CHECK_STR(ev.ip, "2001:db8::25");
	CHECK_INT(exim_event_classify(&ev, NOW, 0), ST_OK);
	CHECK_INT(ev.result, TLSRPT_VALIDATION_FAILURE);
	CHECK_STR(ev.reason, "mx-host-not-in-policy");
	CHECK_INT(exim_event_veto(&ev, "bad domain", "mx.evil.test", "", &why),
	    ST_INVALID);
	CHECK_INT(exim_event_veto(&ev, "enforce.test", "mx bad", NULL, &why),
	    ST_INVALID);
	buf_free(&why);
}

/* A connection to an MX host with usable TLSA (STS-DANE-1): DANE's
 * verdict, whatever the WebPKI would say. */
static const struct {
	const char		*line;
	enum status		 st;
	enum tlsrpt_result	 result;
	const char		*reason;
} dane_rows[] = {
	{ "domain=d.test mx=mx.d.test tls=TLS1.3:X:256 verified=1 dane=yes",
	  ST_OK, TLSRPT_SUCCESS, "" },
	/* DANE-EE: an expired self-signed certificate is no failure */
	{ "domain=d.test mx=mx.d.test tls=TLS1.3:X:256 verified=0 dane=yes notafter=1",
	  ST_OK, TLSRPT_SUCCESS, "" },
	/* the TLSA record does not match: the handshake failed */
	{ "domain=d.test mx=mx.d.test tls= verified=0 dane=no notafter=4000000000 dns=yes",
	  ST_OK, TLSRPT_TLSA_INVALID, "not-dane-verified" },
	/* a PKIX-valid certificate is no pass under DANE */
	{ "domain=d.test mx=mx.d.test tls=TLS1.3:X:256 verified=1 dane=no san=DNS=mx.d.test",
	  ST_OK, TLSRPT_TLSA_INVALID, "not-dane-verified" },
	{ "domain=d.test mx=mx.d.test starttls=no", ST_OK,
	  TLSRPT_STARTTLS_NOT_SUPPORTED, "" },
	/* no TLS and no certificate: not a TLS session */
	{ "domain=d.test mx=mx.d.test tls= verified=0 dane=no dns=no", ST_NOTFOUND,
	  TLSRPT_SUCCESS, "" },
	{ "domain=d.test mx=mx.d.test veto=1", ST_NOTFOUND, TLSRPT_SUCCESS, "" },
};

static void
test_dane(void)
{
	struct exim_event	ev;
	struct buf		why = BUF_INIT;
	size_t			i;

	for (i = 0; i < sizeof(dane_rows) / sizeof(dane_rows[0]); i++) {
		CHECKF(exim_event_read(dane_rows[i].line, &ev, &why) == ST_OK,
		    "row %zu: %s", i, buf_str(&why));
		CHECKF(exim_event_classify_dane(&ev) == dane_rows[i].st,
		    "row %zu: status", i);
		if (dane_rows[i].st != ST_OK)
			continue;
		CHECKF(ev.result == dane_rows[i].result, "row %zu: %s", i,
		    tlsrpt_result_str(ev.result));
		CHECKF(strcmp(ev.reason, dane_rows[i].reason) == 0,
		    "row %zu: reason %s", i, ev.reason);
	}
	buf_free(&why);
}

int
main(void)
{
	RUN(test_table);
	RUN(test_limits);
	RUN(test_veto);
	RUN(test_dane);
	return harness_done("test_exim_event");
}
