/*
 * test_pflog.c - TLS sessions from Postfix 3.7 smtp(8) log lines: the
 * lines the lab's Postfix logged (smtp_tls_loglevel = 1), one per
 * kind, then whole logs folded into sessions and classified.
 */
#include <stdio.h>
#include <string.h>

#include "pflog.h"

#include "../harness.h"

#define P	"Nov 30 14:48:01 pmtest postfix/smtp[18892]: "
#define Q	"Nov 30 14:48:01 pmtest postfix/smtp[18897]: "

static const struct {
	const char	*tag;
	const char	*line;
	const char	*got;	/* kind|pid|host|ip|tls|reason|domain|nostarttls */
} lines[] = {
	{ "verified", P "Verified TLS connection established to "
	    "mx1.enforce.test[127.0.1.1]:25: TLSv1.3 with cipher "
	    "TLS_AES_256_GCM_SHA384 (256/256 bits)",
	    "2|18892|mx1.enforce.test|127.0.1.1|1||-|0" },
	{ "untrusted", P "Untrusted TLS connection established to "
	    "mx.expired.test[127.0.1.22]:25: TLSv1.3 with cipher X",
	    "2|18892|mx.expired.test|127.0.1.22|3||-|0" },
	{ "trusted", P "Trusted TLS connection established to "
	    "mx.nopolicy.test[127.0.1.6]:25: TLSv1.3", 
	    "2|18892|mx.nopolicy.test|127.0.1.6|2||-|0" },
	{ "anonymous", P "Anonymous TLS connection established to "
	    "mx.a.test[192.0.2.1]:25: TLSv1.3",
	    "2|18892|mx.a.test|192.0.2.1|4||-|0" },
	{ "server certificate verification failed", P "server certificate "
	    "verification failed for mx.expired.test[127.0.1.22]:25: "
	    "certificate has expired",
	    "1|18892|mx.expired.test|127.0.1.22|0|certificate has expired|-|0" },
	{ "hostname mismatch", Q "server certificate verification failed for "
	    "mx.wrongname.test[127.0.1.23]:25: num=62:hostname mismatch",
	    "1|18897|mx.wrongname.test|127.0.1.23|0|num=62:hostname mismatch|-|0" },
	{ "untrusted issuer", P "certificate verification failed for "
	    "mx.untrustedmx.test[127.0.1.24]:25: untrusted issuer /O=lab/CN=x",
	    "1|18892|mx.untrustedmx.test|127.0.1.24|0|untrusted issuer /O=lab/CN=x|-|0" },
	{ "delivery", P "6EBC4A861EF: to=<pm18361@Expired.Test>, "
	    "relay=mx.expired.test[127.0.1.22]:25, delay=0.07, dsn=4.7.5, "
	    "status=deferred (Server certificate not verified)",
	    "3|18892|mx.expired.test|127.0.1.22|0||expired.test|0" },
	{ "delivery with orig_to", P "ABC: to=<a@b.test>, orig_to=<x@y.test>, "
	    "relay=mx.b.test[192.0.2.2]:25, status=sent (250 ok)",
	    "3|18892|mx.b.test|192.0.2.2|0||b.test|0" },
	{ "no STARTTLS", P "ABC: to=<a@nostarttls.test>, relay=mx.nostarttls."
	    "test[127.0.1.25]:25, delay=1, status=deferred (TLS is required, "
	    "but was not offered by host mx.nostarttls.test[127.0.1.25])",
	    "3|18892|mx.nostarttls.test|127.0.1.25|0||nostarttls.test|1" },
	{ "RFC 3339 time stamp, instance name", "2026-11-30T14:48:01.123456+00:00 "
	    "mx postfix-out/smtp[7]: Verified TLS connection established to "
	    "a.b.test[192.0.2.3]:25: TLSv1.3", "2|7|a.b.test|192.0.2.3|1||-|0" },
	{ "RFC 5424", "<22>1 2026-12-06T05:05:33.123456+00:00 mx postfix/smtp "
	    "123 - - Verified TLS connection established to a.b.test"
	    "[192.0.2.3]:25: TLSv1.3", "2|123|a.b.test|192.0.2.3|1||-|0" },
	{ "RFC 5424 delivery, structured data, rsyslog's space, BOM",
	    "<22>1 2026-12-06T05:05:33Z mx postfix-out/relay/smtp 9 ID "
	    "[a@1 x=\"\\]\\\"\"][b@1]  \xef\xbb\xbf" "Q: to=<a@B.test>, "
	    "relay=mx.b.test[192.0.2.2]:25, status=sent (250 ok)",
	    "3|9|mx.b.test|192.0.2.2|0||b.test|0" },
	/* not ours */
	{ "RFC 5424 report transport", "<22>1 - mx postfix/smtp-tlsrpt/smtp "
	    "9 - - Verified TLS connection established to mx.r.test"
	    "[192.0.2.4]:25: x", "0|0||||||" },
	{ "RFC 5424 smtpd", "<22>1 2026-12-06T05:05:33Z mx postfix/smtpd 9 - - "
	    "Anonymous TLS connection established from a[192.0.2.5]: x",
	    "0|0||||||" },
	{ "RFC 5424 without a pid", "<22>1 2026-12-06T05:05:33Z mx postfix/smtp "
	    "- - - Verified TLS connection established to a.b.test"
	    "[192.0.2.3]:25: x", "0|0||||||" },
	{ "RFC 5424 unterminated structured data", "<22>1 2026-12-06T05:05:33Z "
	    "mx postfix/smtp 9 - [a x=\"1\" Verified TLS connection "
	    "established to a.b.test[192.0.2.3]:25: x", "0|0||||||" },
	{ "RFC 5424 message in the structured data is not parsed as BSD",
	    "<22>1 2026-12-06T05:05:33Z mx other 9 - - h postfix/smtp[5]: "
	    "Verified TLS connection established to a.b.test[192.0.2.3]:25: x",
	    "0|0||||||" },
	{ "report transport (syslog_name postfix/smtp-tlsrpt)",
	    "Nov 30 14:48:01 h postfix/smtp-tlsrpt/smtp[9]: Verified TLS "
	    "connection established to mx.r.test[192.0.2.4]:25: x",
	    "0|0||||||" },
	{ "smtpd", "Nov 30 14:48:01 h postfix/smtpd[9]: Anonymous TLS "
	    "connection established from a[192.0.2.5]: x", "0|0||||||" },
	{ "relay=none: ends the delivery", P "ABC: to=<a@b.test>, relay=none, "
	    "delay=0, status=deferred (connect refused)", "4|18892|||0||-|0" },
	{ "address literal: ends the delivery", P "ABC: to=<a@[192.0.2.1]>, "
	    "relay=192.0.2.1[192.0.2.1]:25, status=sent",
	    "4|18892|192.0.2.1|192.0.2.1|0||-|0" },
	{ "Debian's relay transport", "Nov 30 14:48:01 h postfix/relay/smtp[11]: "
	    "Verified TLS connection established to mx.r.test[192.0.2.4]:25: x",
	    "2|11|mx.r.test|192.0.2.4|1||-|0" },
	{ "IPv6 relay", P "ABC: to=<a@b.test>, relay=mx.b.test[2001:db8::1]:25,"
	    " status=sent (ok)", "3|18892|mx.b.test|2001:db8::1|0||b.test|0" },
	{ "other program", "Nov 30 h exim[1]: Verified TLS connection "
	    "established to a[1.2.3.4]:25", "0|0||||||" },
	{ "garbage", "postfix/smtp[", "0|0||||||" },
	{ "empty", "", "0|0||||||" },
};

/* The header format of every line (what stsctl status shows), and the
 * message found behind it (kind|pid). */
static const struct {
	const char	*line;
	enum pflog_fmt	 fmt;
	const char	*got;
} formats[] = {
	{ "Dec  6 05:05:33 h postfix/smtp[12]: Verified TLS connection "
	    "established to m.a.test[192.0.2.1]:25: x", PFF_BSD, "2|12" },
	{ "Dec 16 05:05:33.123456 h postfix/smtp[12]: Verified TLS connection "
	    "established to m.a.test[192.0.2.1]:25: x", PFF_BSD, "2|12" },
	{ "Dec 16 05:05:33 h kernel: x", PFF_BSD, "0|0" },
	{ "2026-12-06T05:05:33.123456+00:00 h postfix/smtp[12]: Verified TLS "
	    "connection established to m.a.test[192.0.2.1]:25: x",
	    PFF_RFC3339, "2|12" },
	{ "2026-12-06T05:05:33Z h postfix/smtp[12]: Q: to=<a@a.test>, "
	    "relay=m.a.test[192.0.2.1]:25, status=sent", PFF_RFC3339, "3|12" },
	{ "2026-12-06T05:05:33-0500 h postfix/smtp[12]: Q: to=<a@a.test>, "
	    "relay=m.a.test[192.0.2.1]:25, status=sent", PFF_RFC3339, "3|12" },
	{ "2026-12-06t05:05:33.1+05:30 h cron[1]: x", PFF_RFC3339, "0|0" },
	{ "<22>1 2026-12-06T05:05:33.123456+00:00 h postfix/smtp 12 - - "
	    "Verified TLS connection established to m.a.test[192.0.2.1]:25: x",
	    PFF_RFC5424, "2|12" },
	{ "<191>1 - - postfix/smtp 12 - -  Q: to=<a@a.test>, "
	    "relay=m.a.test[192.0.2.1]:25, status=sent", PFF_RFC5424, "3|12" },
	{ "<22>1 2026-12-06T05:05:33Z h sshd 12 - - x", PFF_RFC5424, "0|0" },
	/* not RFC 5424: other */
	{ "<192>1 - h postfix/smtp 12 - - x", PFF_OTHER, "0|0" },
	{ "<22>2 - h postfix/smtp 12 - - x", PFF_OTHER, "0|0" },
	{ "<22>1 2026-12-06 h postfix/smtp 12 - - x", PFF_OTHER, "0|0" },
	/* a BSD line with a priority, as some relays forward it */
	{ "<22>Dec  6 05:05:33 h postfix/smtp[12]: Verified TLS connection "
	    "established to m.a.test[192.0.2.1]:25: x", PFF_OTHER, "2|12" },
	/* journalctl's default output: a BSD time stamp */
	{ "Dec 06 05:05:33 h postfix/smtp[12]: Q: to=<a@a.test>, "
	    "relay=m.a.test[192.0.2.1]:25, status=sent", PFF_BSD, "3|12" },
	{ "Foo  6 05:05:33 h x", PFF_OTHER, "0|0" },
	{ "Dec  6 05:05 h x", PFF_OTHER, "0|0" },
	{ "2026-12-06T05:05:33.1234567890Z h x", PFF_OTHER, "0|0" },
	{ "2026-12-06T05:05:33+5 h x", PFF_OTHER, "0|0" },
	{ "", PFF_OTHER, "0|0" },
	{ "<", PFF_OTHER, "0|0" },
};

static void
test_formats(void)
{
	size_t	i;
	char	got[64];

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct pflog_line l;

		pflog_line(formats[i].line, strlen(formats[i].line), &l);
		snprintf(got, sizeof(got), "%d|%ld", l.kind, l.pid);
		CHECKF(l.fmt == formats[i].fmt && strcmp(got,
		    formats[i].got) == 0, "%s:\n  got  %s %s\n  want %s %s",
		    formats[i].line, pflog_fmt_str(l.fmt), got,
		    pflog_fmt_str(formats[i].fmt), formats[i].got);
	}
	CHECK_STR(pflog_fmt_str(PFF_RFC5424), "rfc5424");
	CHECK_STR(pflog_fmt_str(PFF_MAX), "other");
}

static void
test_lines(void)
{
	size_t	i;
	char	got[1024];

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct pflog_line l;

		pflog_line(lines[i].line, strlen(lines[i].line), &l);
		if (l.kind == PFL_NONE)
			snprintf(got, sizeof(got), "0|%ld||||||", l.pid);
		else
			snprintf(got, sizeof(got), "%d|%ld|%s|%s|%d|%s|%s|%d",
			    l.kind, l.pid, l.host, l.ip, l.tls, l.reason,
			    l.kind == PFL_DELIVERY ? l.domain : "-",
			    l.no_starttls);
		CHECKF(strcmp(got, lines[i].got) == 0, "%s:\n  got  %s\n  want %s",
		    lines[i].tag, got, lines[i].got);
	}
}

/* feed - a log through a fresh pflog; the classified sessions joined
 * with ';' as "domain host result reason" (has_policy for all but
 * domains starting with "no") */
static void
feed(const char *const *log, char *out, size_t size)
{
	static struct pflog	f;
	struct pflog_line	l;
	struct pflog_session	s[PFLOG_EARLIER + 1];
	enum tlsrpt_result	rt;
	char			reason[128];
	size_t			i;
	int			k, n;

	memset(&f, 0, sizeof(f));
	out[0] = '\0';
	for (i = 0; log[i] != NULL; i++) {
		pflog_line(log[i], strlen(log[i]), &l);
		n = pflog_feed(&f, &l, s);
		for (k = 0; k < n; k++) {
			if (!pflog_classify(&s[k], strncmp(s[k].domain, "no",
			    2) != 0, &rt, reason, sizeof(reason)))
				continue;
			snprintf(out + strlen(out), size - strlen(out),
			    "%s%s %s %s %s", out[0] ? ";" : "", s[k].domain,
			    s[k].host, tlsrpt_result_str(rt),
			    reason[0] ? reason : "-");
		}
	}
}

static void
test_sessions(void)
{
	/* interleaved processes, as in the lab's log */
	static const char *const log1[] = {
	    P "server certificate verification failed for mx.expired.test"
	    "[127.0.1.22]:25: certificate has expired",
	    P "Untrusted TLS connection established to mx.expired.test"
	    "[127.0.1.22]:25: TLSv1.3",
	    Q "Verified TLS connection established to mx1.enforce.test"
	    "[127.0.1.1]:25: TLSv1.3",
	    P "A1: to=<r@expired.test>, relay=mx.expired.test[127.0.1.22]:25, "
	    "status=deferred (Server certificate not verified)",
	    Q "A2: to=<r@enforce.test>, relay=mx1.enforce.test[127.0.1.1]:25, "
	    "status=sent (250 ok)",
	    /* the same connection, a second recipient: one session */
	    Q "A2: to=<s@enforce.test>, relay=mx1.enforce.test[127.0.1.1]:25, "
	    "status=sent (250 ok)",
	    /* a reused connection: no TLS line, no session */
	    Q "A3: to=<t@enforce.test>, relay=mx1.enforce.test[127.0.1.1]:25, "
	    "status=sent (250 ok)",
	    P "Trusted TLS connection established to mx.nopolicy.test"
	    "[127.0.1.6]:25: TLSv1.3",
	    P "A4: to=<r@nopolicy.test>, relay=mx.nopolicy.test[127.0.1.6]:25, "
	    "status=sent (250 ok)",
	    P "A5: to=<r@nostarttls.test>, relay=mx.nostarttls.test[127.0.1.25]"
	    ":25, status=deferred (TLS is required, but was not offered by "
	    "host mx.nostarttls.test[127.0.1.25])",
	    /* testing policy at "may": Trusted = name unchecked: nothing */
	    Q "Trusted TLS connection established to mx.testing.test"
	    "[127.0.1.3]:25: TLSv1.3",
	    Q "A6: to=<r@testing.test>, relay=mx.testing.test[127.0.1.3]:25, "
	    "status=sent (250 ok)",
	    /* Untrusted at "may" without a logged reason */
	    Q "Untrusted TLS connection established to mx.testing.test"
	    "[127.0.1.3]:25: TLSv1.3",
	    Q "A7: to=<r@testing.test>, relay=mx.testing.test[127.0.1.3]:25, "
	    "status=sent (250 ok)",
	    NULL };
	/* the first MX fails, the second is good: two sessions */
	static const char *const log2[] = {
	    P "server certificate verification failed for mx1.onebad.test"
	    "[127.0.1.28]:25: certificate has expired",
	    P "Untrusted TLS connection established to mx1.onebad.test"
	    "[127.0.1.28]:25: TLSv1.3",
	    P "Verified TLS connection established to mx2.onebad.test"
	    "[127.0.1.29]:25: TLSv1.3",
	    P "B1: to=<r@onebad.test>, relay=mx2.onebad.test[127.0.1.29]:25, "
	    "status=sent (250 ok)",
	    NULL };
	static const char *const log3[] = {
	    P "Untrusted TLS connection established to mx.a.test[192.0.2.1]:25:"
	    " TLSv1.3",
	    P "C1: to=<r@a.test>, relay=none, delay=30, status=deferred "
	    "(connect to mx2.a.test[192.0.2.2]:25: Connection refused)",
	    P "Verified TLS connection established to mx.b.test[192.0.2.3]:25: x",
	    P "C2: to=<r@b.test>, relay=mx.b.test[192.0.2.3]:25, status=sent",
	    NULL };
	char	out[2048];

	feed(log1, out, sizeof(out));
	CHECK_STR(out, "expired.test mx.expired.test certificate-expired "
	    "certificate has expired;"
	    "enforce.test mx1.enforce.test success -;"
	    "nopolicy.test mx.nopolicy.test success -;"
	    "nostarttls.test mx.nostarttls.test starttls-not-supported -;"
	    "testing.test mx.testing.test certificate-not-trusted -");
	/* Postfix names only the last MX in its delivery line: the failed
	 * first connection belongs to the same delivery */
	feed(log2, out, sizeof(out));
	CHECK_STR(out, "onebad.test mx1.onebad.test certificate-expired "
	    "certificate has expired;onebad.test mx2.onebad.test success -");
	/* a delivery that ends with relay=none (the last MX refused the
	 * connection) takes its pending TLS session with it: it is never
	 * counted for the next domain of the same process */
	feed(log3, out, sizeof(out));
	CHECK_STR(out, "b.test mx.b.test success -");
}

/* The table of processes is bounded: the oldest is reused. */
static void
test_bounded(void)
{
	static struct pflog	f;
	struct pflog_line	l;
	struct pflog_session	s[PFLOG_EARLIER + 1];
	char			line[256];
	int			i;

	memset(&f, 0, sizeof(f));
	for (i = 1; i <= PFLOG_PROCS + 10; i++) {
		snprintf(line, sizeof(line), "h postfix/smtp[%d]: Verified TLS "
		    "connection established to m.a.test[192.0.2.1]:25: x", i);
		pflog_line(line, strlen(line), &l);
		CHECK_INT(pflog_feed(&f, &l, s), 0);
	}
	snprintf(line, sizeof(line), "h postfix/smtp[1]: Q: to=<a@a.test>, "
	    "relay=m.a.test[192.0.2.1]:25, status=sent");
	pflog_line(line, strlen(line), &l);
	CHECK_INT(pflog_feed(&f, &l, s), 0);		/* pid 1 was reused */
	snprintf(line, sizeof(line), "h postfix/smtp[%d]: Q: to=<a@a.test>, "
	    "relay=m.a.test[192.0.2.1]:25, status=sent", PFLOG_PROCS + 10);
	pflog_line(line, strlen(line), &l);
	CHECK_INT(pflog_feed(&f, &l, s), 1);
}

int
main(void)
{
	RUN(test_lines);
	RUN(test_formats);
	RUN(test_sessions);
	RUN(test_bounded);
	return harness_done("test_pflog");
}
