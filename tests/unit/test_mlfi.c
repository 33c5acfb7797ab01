/*
 * test_mlfi.c - the libmilter callbacks (milter/mlfi.c) through the fake
 * milter API, with the gate behind the DNS, HTTP, clock and probe fakes:
 * each exemption, the per-recipient 451 4.7.5 reply and its text, the
 * accept path.  No libmilter, no root, no lab.
 *
 * A session row says how the MTA connects (client address and port, or
 * none), who sends, and the recipients with their macros; each recipient
 * says what the filter must answer, whether it reached the gate, and
 * the reply it set.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fake_milter.h"
#include "fakes.h"
#include "fixture_gate.h"
#include "gate.h"
#include "harness.h"
#include "journal.h"
#include "mlfi.h"
#include "timefmt.h"

#define REPORT_FROM	"tlsrpt@sender.example"

/* the reply text of a deferral for deny.example */
#define DENY_TEXT	"451 4.7.5 MTA-STS policy of deny.example (id p1, " \
			"mode enforce) cannot be met: mx.deny.example " \
			"[192.0.2.50]: certificate-host-mismatch " \
			"(X509_V_ERR_HOSTNAME_MISMATCH); will retry"

static struct fixture_gate	fx;

static void
setup(void)
{
	fixture_gate_init(&fx, "test_mlfi");
	free(fx.conf->report_from);
	fx.conf->report_from = strdup(REPORT_FROM);
	free(fx.conf->local_mailers);
	fx.conf->local_mailers = strdup("local lmtp");
	fixture_gate_start(&fx);
	mlfi_init(fx.gate, fx.conf);

	fake_sts_one_mx("deny.example", "enforce", "mx.deny.example",
	    "192.0.2.50", TLSRPT_CERTIFICATE_HOST_MISMATCH,
	    "X509_V_ERR_HOSTNAME_MISMATCH");
	fake_sts_one_mx("good.example", "enforce", "mx.good.example",
	    "192.0.2.60", TLSRPT_SUCCESS, "");
	fake_sts_one_mx("pct.example", "enforce", "mx.pct.example",
	    "192.0.2.70", TLSRPT_VALIDATION_FAILURE,
	    "100% broken\r\nsecond line");
}

static void
teardown(void)
{
	fixture_gate_free(&fx);
}

/* --- sessions ------------------------------------------------------------ */

enum client {
	SMTP_CLIENT,		/* a remote SMTP client, 192.0.2.1:41000 */
	LOCAL_SMTP_CLIENT,	/* 127.0.0.1:41000: still SMTP */
	POSTFIX_NONSMTP,	/* 127.0.0.1 port 0: sendmail(1)/pickup */
	NO_ADDRESS		/* no client address at all */
};

struct rcpt_row {
	const char	*rcpt;
	const char	*mailer;	/* {rcpt_mailer}, or NULL */
	const char	*host;		/* {rcpt_host}, or NULL */
	sfsistat	 want;
	int		 gated;		/* reached gate_rcpt() */
	const char	*reply;		/* the reply set, or NULL */
};

struct session_row {
	const char	*name;
	enum client	 client;
	const char	*from;
	struct rcpt_row	 rcpt[3];
};

static const struct session_row sessions[] = {
	{ "STS-APP-1, STS-APP-4: an enforce failure is a 451 4.7.5 for that "
	  "recipient", SMTP_CLIENT, "<a@sender.example>", {
	    { "<x@deny.example>", "smtp", "mx.deny.example", SMFIS_TEMPFAIL, 1,
	      DENY_TEXT } } },
	{ "STS-VAL-3: accept after a good probe", SMTP_CLIENT,
	  "<a@sender.example>", {
	    { "<x@good.example>", "smtp", "mx.good.example", SMFIS_CONTINUE, 1,
	      NULL } } },
	{ "per recipient: one deferred, the others accepted", SMTP_CLIENT,
	  "<a@sender.example>", {
	    { "<x@good.example>", "smtp", NULL, SMFIS_CONTINUE, 1, NULL },
	    { "<y@deny.example>", "smtp", NULL, SMFIS_TEMPFAIL, 1, DENY_TEXT },
	    { "<z@nopolicy.example>", "smtp", NULL, SMFIS_CONTINUE, 1, NULL } } },
	{ "STS-HTTP-8: no policy is accepted", SMTP_CLIENT, "<a@sender.example>", {
	    { "z@nopolicy.example", NULL, NULL, SMFIS_CONTINUE, 1, NULL } } },
	{ "RPT-MAIL-9, STS-APP-7: mail from the report sender is not gated",
	  SMTP_CLIENT, "<" REPORT_FROM ">", {
	    { "<x@deny.example>", "smtp", NULL, SMFIS_CONTINUE, 0, NULL } } },
	{ "the report sender is matched without regard to case", SMTP_CLIENT,
	  "<TLSRPT@Sender.Example>", {
	    { "<x@deny.example>", "smtp", NULL, SMFIS_CONTINUE, 0, NULL } } },
	{ "local mailers are not gated", SMTP_CLIENT, "<a@sender.example>", {
	    { "<x@deny.example>", "local", NULL, SMFIS_CONTINUE, 0, NULL },
	    { "<x@deny.example>", "lmtp", NULL, SMFIS_CONTINUE, 0, NULL },
	    { "<x@deny.example>", "localx", NULL, SMFIS_TEMPFAIL, 1,
	      DENY_TEXT } } },
	{ "a bracketed [relay] next hop is not gated", SMTP_CLIENT,
	  "<a@sender.example>", {
	    { "<x@deny.example>", "smtp", "[relay.example]", SMFIS_CONTINUE, 0,
	      NULL },
	    { "<x@deny.example>", "smtp", "relay.example", SMFIS_TEMPFAIL, 1,
	      DENY_TEXT } } },
	{ "STS-PD-4: address literals are not gated", SMTP_CLIENT,
	  "<a@sender.example>", {
	    { "<x@[192.0.2.50]>", "smtp", NULL, SMFIS_CONTINUE, 0, NULL },
	    { "<postmaster>", "smtp", NULL, SMFIS_CONTINUE, 0, NULL } } },
	{ "Postfix non-SMTP path (127.0.0.1 port 0): gated, never deferred",
	  POSTFIX_NONSMTP, "<a@sender.example>", {
	    { "<x@deny.example>", "smtp", NULL, SMFIS_CONTINUE, 1, NULL } } },
	{ "no client address: the non-SMTP path too", NO_ADDRESS,
	  "<a@sender.example>", {
	    { "<x@deny.example>", "smtp", NULL, SMFIS_CONTINUE, 1, NULL } } },
	{ "a local SMTP client (127.0.0.1, a real port) is deferred",
	  LOCAL_SMTP_CLIENT, "<a@sender.example>", {
	    { "<x@deny.example>", "smtp", NULL, SMFIS_TEMPFAIL, 1,
	      DENY_TEXT } } },
	{ "the reply text: '%' doubled, no CR or LF", SMTP_CLIENT,
	  "<a@sender.example>", {
	    { "<x@pct.example>", "smtp", NULL, SMFIS_TEMPFAIL, 1,
	      "451 4.7.5 MTA-STS policy of pct.example (id p1, mode enforce) "
	      "cannot be met: mx.pct.example [192.0.2.70]: validation-failure "
	      "(100%% broken  second line); will retry" } } },
};

static sfsistat
connect_as(SMFICTX *ctx, enum client client)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(41000);
	switch (client) {
	case SMTP_CLIENT:
		inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
		break;
	case POSTFIX_NONSMTP:
		sin.sin_port = 0;
		/* FALLTHROUGH */
	case LOCAL_SMTP_CLIENT:
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		break;
	case NO_ADDRESS:
		return mlfi_desc.xxfi_connect(ctx, "localhost", NULL);
	}
	return mlfi_desc.xxfi_connect(ctx, "client.example",
	    (struct sockaddr *)&sin);
}

static unsigned long
gated(void)
{
	struct gate_stats	s;

	gate_stats(fx.gate, &s);
	return s.rcpts;
}

static void
run_session(const struct session_row *row)
{
	const struct rcpt_row	*r;
	SMFICTX			*ctx = fake_milter_new();
	char			*argv[2] = { NULL, NULL };
	const char		*reply;
	unsigned long		 before;
	sfsistat		 got;
	int			 i;

	CHECKF(connect_as(ctx, row->client) == SMFIS_CONTINUE, "%s", row->name);
	fake_milter_macro(ctx, "i", "4BxY2z1Q");
	argv[0] = (char *)row->from;
	CHECKF(mlfi_desc.xxfi_envfrom(ctx, argv) == SMFIS_CONTINUE, "%s",
	    row->name);
	for (i = 0; i < 3 && row->rcpt[i].rcpt != NULL; i++) {
		r = &row->rcpt[i];
		fake_milter_clear(ctx);
		fake_milter_macro(ctx, "{rcpt_mailer}", r->mailer);
		fake_milter_macro(ctx, "{rcpt_host}", r->host);
		argv[0] = (char *)r->rcpt;
		before = gated();
		got = mlfi_desc.xxfi_envrcpt(ctx, argv);
		CHECKF(got == r->want, "%s: rcpt %d: %d", row->name, i, got);
		CHECKF((gated() - before == 1) == r->gated,
		    "%s: rcpt %d: gated %lu", row->name, i, gated() - before);
		reply = fake_milter_reply(ctx);
		CHECKF(r->reply == NULL ? reply == NULL :
		    reply != NULL && strcmp(reply, r->reply) == 0,
		    "%s: rcpt %d: reply %s", row->name, i,
		    reply ? reply : "(none)");
	}
	CHECK(mlfi_desc.xxfi_eom(ctx) == SMFIS_CONTINUE);
	CHECK(mlfi_desc.xxfi_close(ctx) == SMFIS_CONTINUE);
	CHECK(smfi_getpriv(ctx) == NULL);
	fake_milter_free(ctx);
}

static void
test_mlfi_sessions(void)
{
	size_t	i;

	setup();
	for (i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++)
		run_session(&sessions[i]);
	teardown();
}

static int
deferral_cb(void *arg, const struct journal_rec *r)
{
	if (r->type == JREC_DEFERRAL)
		*(struct journal_rec *)arg = *r;
	return 0;
}

/* the deferral is journaled with the queue id and recipient the MTA gave */
static void
test_mlfi_deferral_journaled(void)
{
	static const struct session_row row = { "journal", SMTP_CLIENT,
	    "<a@sender.example>", {
	    { "<x@deny.example>", "smtp", NULL, SMFIS_TEMPFAIL, 1,
	      DENY_TEXT } } };
	struct journal_rec	r;
	struct journal_stats	st;
	char			day[11];

	setup();
	run_session(&row);
	memset(&r, 0, sizeof(r));
	timefmt_day(clock_now(), day);
	(void)journal_read_day(fx.dir, day, deferral_cb, &r, &st);
	CHECK_STR(r.qid, "4BxY2z1Q");
	CHECK_STR(r.rcpt, "x@deny.example");
	CHECK_STR(r.domain, "deny.example");
	CHECK_INT(r.result, TLSRPT_CERTIFICATE_HOST_MISMATCH);
	CHECK_STR(r.text, DENY_TEXT + 10);
	teardown();
}

/* the end of a message from the report sender ends its exemption */
static void
test_mlfi_exemption_per_message(void)
{
	SMFICTX	*ctx = fake_milter_new();
	char	*argv[2] = { NULL, NULL };

	setup();
	(void)connect_as(ctx, SMTP_CLIENT);
	argv[0] = "<" REPORT_FROM ">";
	(void)mlfi_desc.xxfi_envfrom(ctx, argv);
	argv[0] = "<x@deny.example>";
	CHECK(mlfi_desc.xxfi_envrcpt(ctx, argv) == SMFIS_CONTINUE);
	CHECK(mlfi_desc.xxfi_abort(ctx) == SMFIS_CONTINUE);
	argv[0] = "<a@sender.example>";
	(void)mlfi_desc.xxfi_envfrom(ctx, argv);
	argv[0] = "<x@deny.example>";
	CHECK(mlfi_desc.xxfi_envrcpt(ctx, argv) == SMFIS_TEMPFAIL);
	CHECK(fake_milter_reply(ctx) != NULL);
	(void)mlfi_desc.xxfi_close(ctx);
	fake_milter_free(ctx);
	teardown();
}

/* no context (connect never seen) and no recipient: nothing to do */
static void
test_mlfi_no_context(void)
{
	SMFICTX	*ctx = fake_milter_new();
	char	*argv[2] = { "<x@deny.example>", NULL };
	char	*none[1] = { NULL };

	setup();
	CHECK(mlfi_desc.xxfi_envfrom(ctx, argv) == SMFIS_CONTINUE);
	CHECK(mlfi_desc.xxfi_envrcpt(ctx, argv) == SMFIS_CONTINUE);
	CHECK_INT(gated(), 0);
	(void)connect_as(ctx, SMTP_CLIENT);
	CHECK(mlfi_desc.xxfi_envrcpt(ctx, none) == SMFIS_CONTINUE);
	CHECK_INT(gated(), 0);
	(void)mlfi_desc.xxfi_close(ctx);
	fake_milter_free(ctx);
	teardown();
}

/* negotiation: no body, headers or replies; the macros the gate needs */
static void
test_mlfi_negotiate(void)
{
	SMFICTX		*ctx = fake_milter_new();
	unsigned long	 f0, f1, f2, f3;

	CHECK(mlfi_desc.xxfi_negotiate(ctx, SMFIF_SETSYMLIST, ~0UL, 0, 0,
	    &f0, &f1, &f2, &f3) == SMFIS_CONTINUE);
	CHECK(f0 == SMFIF_SETSYMLIST);
	CHECK((f1 & SMFIP_NOBODY) && (f1 & SMFIP_NOHDRS));
	CHECK_STR(fake_milter_symlist(ctx, SMFIM_ENVRCPT),
	    "i {rcpt_mailer} {rcpt_host} {rcpt_addr}");
	CHECK_STR(fake_milter_symlist(ctx, SMFIM_ENVFROM), "i");
	fake_milter_free(ctx);

	ctx = fake_milter_new();		/* an MTA without symlists */
	CHECK(mlfi_desc.xxfi_negotiate(ctx, 0, ~0UL, 0, 0, &f0, &f1, &f2,
	    &f3) == SMFIS_CONTINUE);
	CHECK(f0 == 0);
	CHECK(fake_milter_symlist(ctx, SMFIM_ENVRCPT) == NULL);
	fake_milter_free(ctx);
}

/* STS-PD-1, STS-PD-4, STS-PD-5: the policy domain of a recipient */
static void
test_mlfi_rcpt_domain(void)
{
	static const struct {
		const char	*rcpt;
		const char	*want;		/* NULL: not gated */
	} rows[] = {
		{ "a@Example.COM",		"example.com" },
		{ "a@example.com.",		"example.com" },
		{ "\"a@b\"@example.net",	"example.net" },
		{ "a@bücher.example",		"xn--bcher-kva.example" },
		{ "a@[192.0.2.1]",		NULL },
		{ "a@[IPv6:2001:db8::1]",	NULL },
		{ "postmaster",			NULL },
		{ "a@",				NULL },
		{ "a@-bad-.example",		NULL },
	};
	char	d[256];
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rc = mlfi_rcpt_domain(rows[i].rcpt, d, sizeof(d));
		CHECKF(rows[i].want == NULL ? rc == -1 :
		    rc == 0 && strcmp(d, rows[i].want) == 0, "%s: %d %s",
		    rows[i].rcpt, rc, rc == 0 ? d : "");
	}
}

int
main(void)
{
	RUN(test_mlfi_sessions);
	RUN(test_mlfi_deferral_journaled);
	RUN(test_mlfi_exemption_per_message);
	RUN(test_mlfi_no_context);
	RUN(test_mlfi_negotiate);
	RUN(test_mlfi_rcpt_domain);
	return harness_done("test_mlfi");
}
