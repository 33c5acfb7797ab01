/*
 * test_report_run.c - runs of the reporter with a fake sender, fake DNS
 * and a chosen clock: delivery to every rua, retry with back-off for
 * 24 hours, no rua, DNS failures, the lock, crash and rerun, catch-up
 * of several days, retention, dry run
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "dns.h"
#include "fakes.h"
#include "harness.h"
#include "journal.h"
#include "log.h"
#include "report_run.h"
#include "report_state.h"
#include "timefmt.h"
#include "xmalloc.h"

#define T_DAY	1793491200	/* 2026-11-01T00:00:00Z */
#define T_RUN	(T_DAY + 86400 + 3 * 3600)

struct sent {
	int	 n_smtp, n_https;
	char	*last_msg;
	char	*last_to;
	char	*last_body;
	size_t	 last_body_len;
	char	*uri[64];
	int	 nuri;
};

static struct sent	sent;
static enum status	smtp_answer = ST_OK, https_answer = ST_OK;

static enum status
fake_smtp(struct report_send *s, const char *to, const char *msg,
    size_t len, struct buf *why)
{
	sent.n_smtp++;
	free(sent.last_msg);
	free(sent.last_to);
	sent.last_msg = xstrndup(msg, len);
	sent.last_to = xstrdup(to);
	if (sent.nuri < 64)
		sent.uri[sent.nuri++] = xasprintf("mailto:%s", to);
	if (smtp_answer != ST_OK)
		buf_printf(why, "451 4.3.0 try again");
	return smtp_answer;
}

static enum status
fake_https(struct report_send *s, const char *url, const void *body,
    size_t len, struct buf *why)
{
	sent.n_https++;
	free(sent.last_body);
	sent.last_body = xmalloc(len + 1);
	memcpy(sent.last_body, body, len);
	sent.last_body_len = len;
	if (sent.nuri < 64)
		sent.uri[sent.nuri++] = xstrdup(url);
	if (https_answer != ST_OK)
		buf_printf(why, "HTTP status 503");
	return https_answer;
}

static void
sent_reset(void)
{
	int	i;

	free(sent.last_msg);
	free(sent.last_to);
	free(sent.last_body);
	for (i = 0; i < sent.nuri; i++)
		free(sent.uri[i]);
	memset(&sent, 0, sizeof(sent));
}

static char	state[64];

static void
rec(time_t t, const char *domain, const char *result, const char *src)
{
	struct journal		*j;
	struct journal_rec	 r;
	struct buf		 why = BUF_INIT;

	memset(&r, 0, sizeof(r));
	r.type = JREC_SESSION;
	r.time = t;
	JREC_SET(&r, src, src);
	JREC_SET(&r, ptype, "no-policy-found");
	JREC_SET(&r, domain, domain);
	JREC_SET(&r, mx, "mx.example");
	JREC_SET(&r, sip, "192.0.2.1");
	JREC_SET(&r, rip, "198.51.100.1");
	(void)tlsrpt_result_parse(result, &r.result);
	j = journal_open(state, &why);
	CHECK(j != NULL && journal_append(j, &r) == 0);
	journal_close(j);
	buf_free(&why);
}

static void
setup(void)
{
	snprintf(state, sizeof(state), "/tmp/rptrunXXXXXX");
	CHECK(mkdtemp(state) != NULL);
	sent_reset();
	smtp_answer = https_answer = ST_OK;
	fake_dns_reset();
}

static void
teardown(void)
{
	char	*cmd = xasprintf("rm -rf '%s'", state);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", state);
	free(cmd);
	sent_reset();
}

/* run - one reporter run at now; returns the exit status */
static int
run(time_t now, const char *day, struct report_run_stats *st, int dry,
    FILE *out)
{
	struct conf		*c = conf_defaults();
	struct report_make_ctx	*x;
	struct report_send	 s;
	struct report_run_opts	 o;
	struct buf		 why = BUF_INIT;
	char			*text;
	int			 rc;

	text = xasprintf("state_dir = %s\nreport_org_name = Test Org\n"
	    "report_contact = tlsrpt@sender.example\njournal_retention = 3\n",
	    state);
	CHECK(conf_parse(c, text, strlen(text), "t", &why) == ST_OK);
	free(text);
	x = report_make_ctx_new(c, &why);
	CHECK(x != NULL);
	memset(&s, 0, sizeof(s));
	s.smtp = fake_smtp;
	s.https = fake_https;
	s.conf = c;
	s.dns = dns_new(NULL, 1000, &why);
	memset(&o, 0, sizeof(o));
	o.day = day;
	o.now = now;
	o.dry_run = dry;
	o.out = out;
	rc = report_run(&o, x, &s, st);
	dns_free(s.dns);
	report_make_ctx_free(x);
	conf_free(c);
	buf_free(&why);
	return rc;
}

static struct report_state *
load_state(const char *day, const char *domain)
{
	static struct report_state	s;
	struct buf			why = BUF_INIT;
	char				*p;

	report_state_clear(&s);
	p = xasprintf("%s/reporter/%s/%s.state", state, day, domain);
	CHECK(report_state_load(p, &s, &why) == ST_OK);
	free(p);
	buf_free(&why);
	return &s;
}

static int
exists(const char *rel)
{
	struct stat	st;
	char		*p = xasprintf("%s/%s", state, rel);
	int		 r = stat(p, &st) == 0;

	free(p);
	return r;
}

static void
test_run_delivers_every_rua(void)
{
	struct report_run_stats	st;

	setup();
	rec(T_DAY + 10, "a.example", "success", "probe");
	rec(T_DAY + 20, "a.example", "starttls-not-supported", "probe");
	fake_dns_set("TXT", "_smtp._tls.a.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@a.example, https://r.a.example/x,"
	    "ftp://r.a.example/", NULL);
	CHECK_INT(run(T_RUN, "2026-11-01", &st, 0, NULL), EX_OK);
	CHECK_INT(sent.n_smtp, 1);
	CHECK_INT(sent.n_https, 1);
	CHECK_STR(sent.last_to, "r@a.example");
	CHECK_INT(st.built, 1);
	CHECK_INT(st.delivered, 1);
	CHECK_INT(st.pending, 0);
	/* RPT-HTTP-1: the body is the gzip */
	CHECK(sent.last_body_len > 2 &&
	    (unsigned char)sent.last_body[0] == 0x1f);
	CHECK(strstr(sent.last_msg, "TLS-Report-Domain: a.example\r\n") != NULL);
	{
		struct report_state *s = load_state("2026-11-01", "a.example");

		CHECK_INT(s->ndest, 3);
		CHECK_INT(s->dest[0].st, DEST_DELIVERED);
		CHECK_INT(s->dest[1].st, DEST_DELIVERED);
		CHECK_INT(s->dest[2].st, DEST_UNSUPPORTED);	/* RPT-TXT-3 */
		CHECK_INT(s->nsuccess, 1);
		CHECK_INT(s->nfailure, 1);
	}
	CHECK(exists("reporter/2026-11-01/.done"));
	/* a rerun sends nothing (never twice) */
	CHECK_INT(run(T_RUN + 60, "2026-11-01", &st, 0, NULL), EX_OK);
	CHECK_INT(sent.n_smtp + sent.n_https, 2);
	teardown();
}

/*
 * A delivery that cannot be recorded is not made (issue 14 item 3): with
 * no room for the new state (here <state>.next is a directory; on a full
 * disk the write fails with ENOSPC) the report is not sent, else the
 * next run would send it again; once the state can be written it is
 * sent, once.
 */
static void
test_run_no_send_unrecorded(void)
{
	struct report_run_stats	st;
	char			*next;

	setup();
	rec(T_DAY + 10, "a.example", "success", "probe");
	fake_dns_set("TXT", "_smtp._tls.a.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@a.example", NULL);
	smtp_answer = ST_TEMPFAIL;
	CHECK_INT(run(T_RUN, "2026-11-01", &st, 0, NULL), EX_TEMPFAIL);
	CHECK_INT(sent.n_smtp, 1);
	smtp_answer = ST_OK;
	next = xasprintf("%s/reporter/2026-11-01/a.example.state.next", state);
	CHECK(mkdir(next, 0700) == 0);
	CHECK(run(T_RUN + 3600, "2026-11-01", &st, 0, NULL) != EX_OK);
	CHECK_INT(sent.n_smtp, 1);			/* not sent */
	CHECK_INT(load_state("2026-11-01", "a.example")->dest[0].st,
	    DEST_PENDING);
	CHECK(rmdir(next) == 0);
	CHECK_INT(run(T_RUN + 7200, "2026-11-01", &st, 0, NULL), EX_OK);
	CHECK_INT(sent.n_smtp, 2);
	CHECK_INT(load_state("2026-11-01", "a.example")->dest[0].st,
	    DEST_DELIVERED);
	CHECK(!exists("reporter/2026-11-01/a.example.state.next"));
	CHECK_INT(run(T_RUN + 10800, "2026-11-01", &st, 0, NULL), EX_OK);
	CHECK_INT(sent.n_smtp, 2);			/* never twice */
	free(next);
	teardown();
}

static void
test_run_own_reports_only_no_report(void)
{
	struct report_run_stats	st;

	setup();
	/* RPT-MAIL-8: sessions of our own report mail never make a report */
	rec(T_DAY + 10, "loop.example", "certificate-expired", "report");
	fake_dns_set("TXT", "_smtp._tls.loop.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@loop.example", NULL);
	CHECK_INT(run(T_RUN, "2026-11-01", &st, 0, NULL), EX_OK);
	CHECK_INT(st.built, 0);
	CHECK_INT(st.own_reports, 1);
	CHECK_INT(sent.n_smtp, 0);
	teardown();
}

static void
test_run_retry_backoff_24h(void)
{
	struct report_run_stats	 st;
	struct report_state	*s;
	time_t			 t = T_RUN;
	int			 rc, n, tries = 0;

	setup();
	rec(T_DAY + 10, "b.example", "success", "probe");
	fake_dns_set("TXT", "_smtp._tls.b.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@b.example,https://r.b.example/x", NULL);
	https_answer = ST_TEMPFAIL;
	rc = run(t, "2026-11-01", &st, 0, NULL);
	CHECK_INT(rc, EX_TEMPFAIL);		/* retry pending */
	CHECK_INT(st.delivered, 1);		/* RPT-TXT-10: one accepted */
	CHECK_INT(st.pending, 1);
	s = load_state("2026-11-01", "b.example");
	CHECK_INT(s->dest[0].st, DEST_DELIVERED);
	CHECK_INT(s->dest[1].st, DEST_PENDING);
	CHECK_INT(s->dest[1].next, t + 300);	/* first back-off: 5 min */
	CHECK_STR(s->dest[1].last, "HTTP status 503");
	/* not due yet: nothing sent */
	n = sent.n_https;
	CHECK_INT(run(t + 299, "2026-11-01", &st, 0, NULL), EX_TEMPFAIL);
	CHECK_INT(sent.n_https, n);
	/* RPT-RETRY-1: back-off doubles until 24 h after the first try */
	while (tries++ < 40) {
		s = load_state("2026-11-01", "b.example");
		if (s->dest[1].st != DEST_PENDING)
			break;
		CHECK(s->dest[1].next <= T_RUN + 86400);
		rc = run(s->dest[1].next, "2026-11-01", &st, 0, NULL);
	}
	s = load_state("2026-11-01", "b.example");
	CHECK_INT(s->dest[1].st, DEST_GAVEUP);
	CHECK_INT(s->dest[1].done, T_RUN + 86400);
	CHECK_INT(rc, EX_OK);
	CHECK(s->dest[1].attempts >= 8 && s->dest[1].attempts <= 16);
	CHECK_INT(sent.n_smtp, 1);		/* the mailto only once */
	teardown();
}

static void
test_run_refuse_then_accept(void)
{
	struct report_run_stats	 st;
	struct report_state	*s;

	setup();
	rec(T_DAY + 10, "c.example", "success", "probe");
	fake_dns_set("TXT", "_smtp._tls.c.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@c.example", NULL);
	smtp_answer = ST_TEMPFAIL;
	CHECK_INT(run(T_RUN, NULL, &st, 0, NULL), EX_TEMPFAIL);
	CHECK_INT(st.delivered, 0);
	smtp_answer = ST_OK;
	CHECK_INT(run(T_RUN + 300, NULL, &st, 0, NULL), EX_OK);
	CHECK_INT(st.delivered, 1);
	CHECK_INT(sent.n_smtp, 2);
	s = load_state("2026-11-01", "c.example");
	CHECK_INT(s->dest[0].st, DEST_DELIVERED);
	CHECK_INT(s->dest[0].attempts, 2);
	teardown();
}

static void
test_run_permanent_refusal_gives_up(void)
{
	struct report_run_stats	 st;

	setup();
	rec(T_DAY + 10, "d.example", "success", "probe");
	fake_dns_set("TXT", "_smtp._tls.d.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@d.example", NULL);
	smtp_answer = ST_INVALID;		/* 5xx */
	CHECK_INT(run(T_RUN, NULL, &st, 0, NULL), EX_OK);
	CHECK_INT(st.gaveup, 1);
	CHECK_INT(load_state("2026-11-01", "d.example")->dest[0].st,
	    DEST_GAVEUP);
	teardown();
}

static void
test_run_no_rua(void)
{
	struct report_run_stats	st;

	setup();
	rec(T_DAY + 10, "e.example", "success", "probe");
	rec(T_DAY + 10, "f.example", "success", "probe");
	/* RPT-TXT-6: two records means no TLSRPT */
	fake_dns_set("TXT", "_smtp._tls.f.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:a@f.example",
	    "v=TLSRPTv1; rua=mailto:b@f.example", NULL);
	CHECK_INT(run(T_RUN, NULL, &st, 0, NULL), EX_OK);
	CHECK_INT(st.norua, 2);
	CHECK_INT(sent.n_smtp, 0);
	CHECK(exists("reporter/2026-11-01/.done"));
	teardown();
}

static void
test_run_dns_tempfail_retried(void)
{
	struct report_run_stats	st;

	setup();
	rec(T_DAY + 10, "g.example", "success", "probe");
	fake_dns_set("TXT", "_smtp._tls.g.example", ST_TEMPFAIL, NULL);
	CHECK_INT(run(T_RUN, NULL, &st, 0, NULL), EX_TEMPFAIL);
	CHECK_INT(load_state("2026-11-01", "g.example")->rua, RUA_ST_UNKNOWN);
	fake_dns_set("TXT", "_smtp._tls.g.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@g.example", NULL);
	CHECK_INT(run(T_RUN + 10, NULL, &st, 0, NULL), EX_TEMPFAIL);
	CHECK_INT(sent.n_smtp, 0);		/* lookup not due yet */
	CHECK_INT(run(T_RUN + 300, NULL, &st, 0, NULL), EX_OK);
	CHECK_INT(sent.n_smtp, 1);
	teardown();
}

static void
test_run_lock_excludes_second_run(void)
{
	struct report_run_stats	 st;
	char			*p;
	int			 fd;

	setup();
	rec(T_DAY + 10, "h.example", "success", "probe");
	p = xasprintf("%s/reporter", state);
	mkdir(p, 0750);
	free(p);
	p = xasprintf("%s/reporter/lock", state);
	fd = open(p, O_RDWR | O_CREAT, 0640);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	CHECK_INT(run(T_RUN, NULL, &st, 0, NULL), EX_TEMPFAIL);
	CHECK_INT(st.built, 0);
	close(fd);
	free(p);
	teardown();
}

static void
test_run_crash_resend_same_report(void)
{
	struct report_run_stats	 st;
	char			*sp, *saved, *first;
	FILE			*f;
	char			 buf[4096];
	size_t			 n;

	setup();
	rec(T_DAY + 10, "i.example", "success", "probe");
	fake_dns_set("TXT", "_smtp._tls.i.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@i.example", NULL);
	/* first run: built, rua looked up, mail fails */
	smtp_answer = ST_TEMPFAIL;
	CHECK_INT(run(T_RUN, NULL, &st, 0, NULL), EX_TEMPFAIL);
	sp = xasprintf("%s/reporter/2026-11-01/i.example.state", state);
	f = fopen(sp, "r");
	n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	saved = xstrndup(buf, n);
	/* late journal record for the day: the stored report is not rebuilt */
	rec(T_DAY + 20, "i.example", "certificate-expired", "probe");
	smtp_answer = ST_OK;
	CHECK_INT(run(T_RUN + 300, NULL, &st, 0, NULL), EX_OK);
	first = xstrdup(strstr(sent.last_msg, "Subject:"));
	/* crash between sending and recording: the old state is back,
	 * and the day was not marked done */
	f = fopen(sp, "w");
	fwrite(saved, 1, strlen(saved), f);
	fclose(f);
	{
		char *d = xasprintf("%s/reporter/2026-11-01/.done", state);

		CHECK(unlink(d) == 0);
		free(d);
	}
	CHECK_INT(run(T_RUN + 600, NULL, &st, 0, NULL), EX_OK);
	CHECK_INT(sent.n_smtp, 3);
	/* the resend is the same report: same id, same attachment */
	{
		const char *a = strstr(first, "Message-ID:");
		const char *b = strstr(sent.last_msg, "Message-ID:");
		const char *ga = strstr(first, "base64\r\n\r\n");
		const char *gb = strstr(sent.last_msg, "base64\r\n\r\n");

		CHECK(a && b && strncmp(a, b, 60) == 0);
		CHECK(strncmp(first, strstr(sent.last_msg, "Subject:"), 120) == 0);
		CHECK(ga && gb && strcmp(ga, gb) == 0);
	}
	CHECK_INT(load_state("2026-11-01", "i.example")->nfailure, 0);
	free(sp);
	free(saved);
	free(first);
	teardown();
}

static void
test_run_catch_up_and_retention(void)
{
	struct report_run_stats	st;

	setup();
	fake_dns_set("TXT", "_smtp._tls.j.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@j.example", NULL);
	rec(T_DAY - 3 * 86400 + 5, "j.example", "success", "probe");
	rec(T_DAY - 86400 + 5, "j.example", "success", "probe");
	rec(T_DAY + 5, "j.example", "success", "probe");
	rec(T_DAY + 86400 + 5, "j.example", "success", "probe"); /* today */
	/* an outage of several days: every finished day is caught up */
	CHECK_INT(run(T_RUN, NULL, &st, 0, NULL), EX_OK);
	CHECK_INT(st.days, 3);
	CHECK_INT(sent.n_smtp, 3);
	CHECK(!exists("reporter/2026-11-02/.done"));
	/* retention 3 days: a done day goes 3 days after it ended */
	CHECK_INT(st.removed_days, 1);
	CHECK(!exists("journal/2026-10-29.jnl"));
	CHECK(!exists("reporter/2026-10-29"));
	CHECK(exists("journal/2026-10-31.jnl"));
	CHECK_INT(run(T_RUN + 2 * 86400, NULL, &st, 0, NULL), EX_OK);
	CHECK_INT(st.removed_days, 1);
	CHECK(!exists("journal/2026-10-31.jnl"));
	CHECK(exists("journal/2026-11-01.jnl"));
	CHECK_INT(sent.n_smtp, 4);		/* 2026-11-02 now */
	teardown();
}

static void
test_run_day_not_over_refused(void)
{
	struct report_run_stats	st;

	setup();
	CHECK_INT(run(T_DAY + 3600, "2026-11-01", &st, 0, NULL), EX_DATAERR);
	CHECK_INT(run(T_RUN, "2026-13-01", &st, 0, NULL), EX_DATAERR);
	teardown();
}

static void
test_run_dry_run_writes_nothing(void)
{
	struct report_run_stats	 st;
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*f = open_memstream(&out, &len);

	setup();
	rec(T_DAY + 10, "k.example", "success", "probe");
	fake_dns_set("TXT", "_smtp._tls.k.example", ST_OK,
	    "v=TLSRPTv1; rua=mailto:r@k.example", NULL);
	CHECK_INT(run(T_RUN, "2026-11-01", &st, 1, f), EX_OK);
	fclose(f);
	CHECK(strstr(out, "----- BEGIN JSON -----\n{") != NULL);
	CHECK(strstr(out, "To: r@k.example\r\n") != NULL);
	CHECK(strstr(out, "Content-Type: application/tlsrpt+gzip;") != NULL);
	CHECK(!exists("reporter"));
	CHECK_INT(sent.n_smtp, 0);
	free(out);
	teardown();
}

int
main(void)
{
	log_init("test_report_run", 0, 1);
	log_setverbose(0);
	RUN(test_run_delivers_every_rua);
	RUN(test_run_no_send_unrecorded);
	RUN(test_run_own_reports_only_no_report);
	RUN(test_run_retry_backoff_24h);
	RUN(test_run_refuse_then_accept);
	RUN(test_run_permanent_refusal_gives_up);
	RUN(test_run_no_rua);
	RUN(test_run_dns_tempfail_retried);
	RUN(test_run_lock_excludes_second_run);
	RUN(test_run_crash_resend_same_report);
	RUN(test_run_catch_up_and_retention);
	RUN(test_run_day_not_over_refused);
	RUN(test_run_dry_run_writes_nothing);
	return harness_done("test_report_run");
}
