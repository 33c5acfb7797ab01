/*
 * fuzz_mlfi - libFuzzer target for what an MTA (and, through it, an
 * SMTP client) hands the milter callbacks: the connect address, the
 * negotiated flags, MAIL FROM and RCPT TO arguments (with ESMTP
 * parameters, odd brackets, UTF-8, literals) and the macros i,
 * {rcpt_mailer}, {rcpt_host}.  Driven through the milter API seam
 * (mlfi_desc, tests/fakes/fake_milter.c) with the gate behind the DNS,
 * HTTP, clock and probe fakes, as test_mlfi does.
 *
 * Input: lines.  Line 1: the connect form (first byte: '0' no address,
 * '1' 192.0.2.1:41000, '2' 127.0.0.1:0, '3' [2001:db8::1]:25, else
 * 127.0.0.1:25) and negotiate flags (the next bytes);
 * line 2: MAIL FROM's argument; line 3: macro i; then per recipient
 * three lines: RCPT TO's argument, {rcpt_mailer}, {rcpt_host}.  A
 * macro line "!" is an unset macro; a RCPT line "!" is argv[0] NULL.
 *
 * Invariants (abort() on violation):
 *   - every callback returns SMFIS_CONTINUE, RCPT also SMFIS_TEMPFAIL;
 *   - TEMPFAIL only with a reply "451 4.7.5 ..." set for that recipient,
 *     with no CR, LF or other control byte and '%' only doubled, and
 *     only when the gate was asked; CONTINUE sets no reply;
 *   - the gate is asked at most once per recipient, and only for a
 *     recipient whose domain mlfi_rcpt_domain() accepts: a non-empty
 *     lower-case A-label name without a trailing dot;
 *   - negotiate never asks for more than it was offered;
 *   - close frees the private data.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "domain.h"
#include "fake_milter.h"
#include "fakes.h"
#include "gate.h"
#include "mlfi.h"
#include "sts_cache.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct gate	*gate;
static struct conf	*conf;		/* held for the process */
static struct sts_cache	*cache;

static void
setup(void)
{
	struct sts_cache_opts	 o;

	fake_clock_set(1700000000);
	conf = conf_defaults();
	free(conf->report_from);
	conf->report_from = strdup("tlsrpt@sender.example");
	free(conf->local_mailers);
	conf->local_mailers = strdup("local lmtp");
	conf->gate_deadline = 3;
	fake_cache_opts(&o, NULL);
	o.wait_ms = 2000;
	cache = sts_cache_new(&o);
	gate = gate_new(conf, cache, NULL, NULL);
	mlfi_init(gate, conf);
	fake_sts_one_mx("deny.example", "enforce", "mx.deny.example",
	    "192.0.2.50", TLSRPT_CERTIFICATE_HOST_MISMATCH,
	    "X509_V_ERR_HOSTNAME_MISMATCH");
	fake_sts_one_mx("good.example", "enforce", "mx.good.example",
	    "192.0.2.60", TLSRPT_SUCCESS, "");
	fake_sts_one_mx("pct.example", "enforce", "mx.pct.example",
	    "192.0.2.70", TLSRPT_VALIDATION_FAILURE,
	    "100% broken\r\nsecond line");
	fake_sts_one_mx("xn--bcher-kva.example", "enforce",
	    "mx.xn--bcher-kva.example", "192.0.2.80",
	    TLSRPT_CERTIFICATE_EXPIRED, "%s%n%%");
}

/* next_line - the next line of the input as a string, or NULL at the end */
static char *
next_line(const char **p, const char *end)
{
	const char	*nl;
	char		*s;
	size_t		 n;

	if (*p >= end)
		return NULL;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	s = malloc(n + 1);
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nl != NULL);
	return s;
}

static unsigned long
gated(void)
{
	struct gate_stats	s;

	gate_stats(gate, &s);
	return s.rcpts;
}

static void
macro(SMFICTX *ctx, const char *name, const char *v)
{
	fake_milter_macro(ctx, name, v && strcmp(v, "!") == 0 ? NULL : v);
}

static void
check_reply(const char *reply)
{
	const char	*c;

	if (reply == NULL || strncmp(reply, "451 4.7.5 ", 10) != 0)
		abort();
	for (c = reply; *c; c++) {
		if ((unsigned char)*c < 0x20)
			abort();
		if (*c == '%') {
			if (c[1] != '%')
				abort();
			c++;
		}
	}
}

static sfsistat
connect_as(SMFICTX *ctx, int form)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	switch (form) {
	case '0':
		return mlfi_desc.xxfi_connect(ctx, "localhost", NULL);
	case '1':
		inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
		sin.sin_port = htons(41000);
		break;
	case '2':
		sin.sin_port = 0;
		break;
	case '3':
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(25);
		inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
		return mlfi_desc.xxfi_connect(ctx, "client.example",
		    (struct sockaddr *)&sin6);
	}
	return mlfi_desc.xxfi_connect(ctx, "client.example",
	    (struct sockaddr *)&sin);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *reply;
	char		*l1, *from, *qid, *rcpt, *mailer, *host;
	char		*argv[3] = { NULL, "SIZE=100", NULL }, dom[DOMAIN_MAX + 1];
	char		 addr[320];
	unsigned long	 f[4], pf[4], before;
	SMFICTX		*ctx;
	sfsistat	 got;
	size_t		 i, n;
	int		 nrcpt = 0, dok;

	if (gate == NULL)
		setup();
	if ((l1 = next_line(&p, end)) == NULL)
		return 0;
	ctx = fake_milter_new();
	if (connect_as(ctx, l1[0]) != SMFIS_CONTINUE)
		abort();
	memset(f, 0, sizeof(f));
	for (i = 1, n = strlen(l1); i < n && i < 1 + 4 * 4; i++)
		f[(i - 1) / 4] = f[(i - 1) / 4] << 8 | (unsigned char)l1[i];
	if (mlfi_desc.xxfi_negotiate(ctx, f[0], f[1], f[2], f[3], &pf[0],
	    &pf[1], &pf[2], &pf[3]) != SMFIS_CONTINUE ||
	    (pf[0] & ~f[0]) != 0 || (pf[1] & ~f[1]) != 0)
		abort();
	free(l1);
	from = next_line(&p, end);
	qid = next_line(&p, end);
	macro(ctx, "i", qid);
	argv[0] = from ? from : "<>";
	if (mlfi_desc.xxfi_envfrom(ctx, argv) != SMFIS_CONTINUE)
		abort();
	while ((rcpt = next_line(&p, end)) != NULL && nrcpt++ < 16) {
		mailer = next_line(&p, end);
		host = next_line(&p, end);
		fake_milter_clear(ctx);
		macro(ctx, "{rcpt_mailer}", mailer);
		macro(ctx, "{rcpt_host}", host);
		argv[0] = strcmp(rcpt, "!") == 0 ? NULL : rcpt;
		before = gated();
		got = mlfi_desc.xxfi_envrcpt(ctx, argv);
		reply = fake_milter_reply(ctx);
		if (argv[0] != NULL)
			mlfi_rcpt_addr(argv[0], addr, sizeof(addr));
		dok = argv[0] != NULL && mlfi_rcpt_domain(addr, dom,
		    sizeof(dom)) == 0;
		if (gated() - before > 1 || (gated() != before && !dok))
			abort();
		if (got == SMFIS_TEMPFAIL) {
			check_reply(reply);
			if (gated() == before || fake_milter_nreplies(ctx) != 1)
				abort();
		} else if (got != SMFIS_CONTINUE || reply != NULL)
			abort();
		if (dok && (dom[0] == '\0' || dom[strlen(dom) - 1] == '.' ||
		    strspn(dom, "abcdefghijklmnopqrstuvwxyz0123456789-._") !=
		    strlen(dom)))
			abort();
		free(mailer);
		free(host);
		free(rcpt);
	}
	free(rcpt);
	if (mlfi_desc.xxfi_eom(ctx) != SMFIS_CONTINUE ||
	    mlfi_desc.xxfi_close(ctx) != SMFIS_CONTINUE ||
	    smfi_getpriv(ctx) != NULL)
		abort();
	fake_milter_free(ctx);
	free(from);
	free(qid);
	return 0;
}
