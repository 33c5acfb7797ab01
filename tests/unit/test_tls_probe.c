/*
 * test_tls_probe.c - tls_probe() (the real one, with smtp_io and
 * tls_verify) against a tiny SMTP server in a thread (tests/fakes/fake_mx.c)
 *
 * Certificates are made at run time with the openssl command in a
 * mkdtemp() directory: a root (the only trust anchor the probe gets),
 * an intermediate the server sends, and good and bad leaves.  Each
 * case starts one server on loopback with an ephemeral port; the
 * server serves one connection and stops.  Without an openssl command
 * the certificate cases are skipped.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "buf.h"
#include "status.h"
#include "tls_probe.h"
#include "tls_verify.h"
#include "tlsrpt_types.h"

#include "../harness.h"
#include "fake_mx.h"

static int	have_certs;

/* probe - start a server in mode, probe it, stop it */
static enum status
probe(struct fake_mx *s, int family, const char *mx_host,
    const struct tls_probe_opts *o, struct tls_probe_result *r)
{
	struct tls_probe_opts	opts = *o;
	struct buf		why = BUF_INIT;
	enum status		st;

	if (fake_mx_start(s, family) == -1) {
		fprintf(stderr, "cannot start the test server\n");
		memset(r, 0, sizeof(*r));
		return ST_INTERNAL;
	}
	opts.port = s->port;
	st = tls_probe(mx_host, family == AF_INET6 ? "::1" : "127.0.0.1",
	    &opts, r, &why);
	fake_mx_stop(s);
	if (st != ST_OK && strcmp(buf_str(&why), r->reason) != 0)
		fprintf(stderr, "why \"%s\" != reason \"%s\"\n",
		    buf_str(&why), r->reason);
	buf_free(&why);
	return st;
}

static struct tls_probe_opts
test_opts(void)
{
	static char		ca[128];
	struct tls_probe_opts	o;

	snprintf(ca, sizeof(ca), "%s/root.pem", fake_mx_dir());
	memset(&o, 0, sizeof(o));
	o.helo_name = "probe.test";
	o.ca_file = ca;
	o.timeout_ms = 3000;
	o.total_timeout_ms = 5000;
	return o;
}

#define SKIP_WITHOUT_CERTS() do {					\
	if (!have_certs) {						\
		SKIP("no certificates");				\
		return;							\
	}								\
} while (0)

/* ---- certificate cases, one row each ------------------------------- */

static const struct row {
	const char		*chain;		/* served chain */
	int			 starttls;	/* 0 off, 1 on, 2 lower case */
	const char		*mx_host;
	enum tlsrpt_result	 want;
	const char		*reason;
} rows[] = {
	{ "good.chain", 1, "mx.good.test", TLSRPT_SUCCESS, "" },
	{ "good.chain", 2, "mx.good.test", TLSRPT_SUCCESS, "" },
	{ "good.chain", 1, "MX.Good.Test.", TLSRPT_SUCCESS, "" },
	{ "good.chain", 0, "mx.good.test", TLSRPT_STARTTLS_NOT_SUPPORTED,
	    "STARTTLS not offered" },
	{ "other.chain", 1, "mx.good.test", TLSRPT_CERTIFICATE_HOST_MISMATCH,
	    "X509_V_ERR_HOSTNAME_MISMATCH" },
	{ "good.chain", 1, "mx2.good.test", TLSRPT_CERTIFICATE_HOST_MISMATCH,
	    "X509_V_ERR_HOSTNAME_MISMATCH" },
	{ "expired.chain", 1, "mx.good.test", TLSRPT_CERTIFICATE_EXPIRED,
	    "X509_V_ERR_CERT_HAS_EXPIRED" },
	{ "future.chain", 1, "mx.good.test", TLSRPT_CERTIFICATE_EXPIRED,
	    "X509_V_ERR_CERT_NOT_YET_VALID" },
	{ "untrusted.chain", 1, "mx.good.test",
	    TLSRPT_CERTIFICATE_NOT_TRUSTED,
	    "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN" },
	{ "untrusted.pem", 1, "mx.good.test", TLSRPT_CERTIFICATE_NOT_TRUSTED,
	    "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY" },
	{ "self.pem", 1, "mx.good.test", TLSRPT_CERTIFICATE_NOT_TRUSTED,
	    "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT" },
	{ "good.pem", 1, "mx.good.test", TLSRPT_CERTIFICATE_NOT_TRUSTED,
	    "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY" },
	/* STS-VAL-3: no CN fallback, whole-label wildcards only. */
	{ "cnonly.chain", 1, "mx.good.test", TLSRPT_CERTIFICATE_HOST_MISMATCH,
	    "X509_V_ERR_HOSTNAME_MISMATCH" },
	{ "wild.chain", 1, "a.wild.test", TLSRPT_SUCCESS, "" },
	{ "wild.chain", 1, "a.b.wild.test", TLSRPT_CERTIFICATE_HOST_MISMATCH,
	    "X509_V_ERR_HOSTNAME_MISMATCH" },
	{ "wild.chain", 1, "wild.test", TLSRPT_CERTIFICATE_HOST_MISMATCH,
	    "X509_V_ERR_HOSTNAME_MISMATCH" },
	{ "partial.chain", 1, "mx1.good.test",
	    TLSRPT_CERTIFICATE_HOST_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH" },
	/* Precedence (tls_probe.c): trust, then name, then dates. */
	{ "expired_other.chain", 1, "mx.good.test",
	    TLSRPT_CERTIFICATE_HOST_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH" },
	{ "untrusted_other.chain", 1, "mx.good.test",
	    TLSRPT_CERTIFICATE_NOT_TRUSTED,
	    "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN" },
};

/* good_mx - a server (SRV_NORMAL) with the good chain, offering STARTTLS */
static void
good_mx(struct fake_mx *s)
{
	memset(s, 0, sizeof(*s));
	s->chain = "good.chain";
	s->starttls = 1;
}

static void
test_tls_probe_cert_rows(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;
	enum status		st;
	size_t			i, n;
	char			want_sni[256];

	SKIP_WITHOUT_CERTS();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];

		memset(&s, 0, sizeof(s));
		s.mode = SRV_NORMAL;
		s.chain = w->chain;
		s.starttls = w->starttls;
		st = probe(&s, AF_INET, w->mx_host, &o, &r);
		CHECKF(st == ST_OK, "row %zu (%s, %s): status %s, reason %s",
		    i, w->chain, w->mx_host, status_str(st), r.reason);
		CHECKF(r.result == w->want && strcmp(r.reason, w->reason) == 0,
		    "row %zu (%s, %s): got %s \"%s\", want %s \"%s\"", i,
		    w->chain, w->mx_host, tlsrpt_result_str(r.result),
		    r.reason, tlsrpt_result_str(w->want), w->reason);
		CHECKF(r.transient == 0, "row %zu", i);
		printf("     row %2zu: %-21s %-13s -> %s %s\n", i, w->chain,
		    w->mx_host, tlsrpt_result_str(r.result), r.reason);
		CHECKF(s.got_quit, "row %zu: server saw no QUIT", i);
		CHECKF(strcmp(s.ehlo, "EHLO probe.test") == 0,
		    "row %zu: ehlo \"%s\"", i, s.ehlo);
		CHECK_STR(r.receiving_ip, "127.0.0.1");
		CHECK_STR(r.sending_ip, "127.0.0.1");
		CHECK_STR(r.helo, "mx.server.test");
		CHECK_STR(r.banner, "220-mx.server.test ESMTP");
		n = strlen(w->mx_host);
		if (w->mx_host[n - 1] == '.')
			n--;
		snprintf(want_sni, sizeof(want_sni), "%.*s", (int)n,
		    w->mx_host);
		CHECK_STR(r.mx_host, want_sni);
		if (w->starttls) {
			/* STS-VAL-4: SNI is the MX host name. */
			CHECKF(strcmp(s.sni, want_sni) == 0,
			    "row %zu: sni \"%s\"", i, s.sni);
			CHECKF(strncmp(r.tls_version, "TLSv1.", 6) == 0 &&
			    r.cipher[0] != '\0', "row %zu: %s %s", i,
			    r.tls_version, r.cipher);
		} else
			CHECK_STR(r.tls_version, "");
	}
}

/* ---- DANE (RFC 7672) rows: every leaf here has the key leaf.key ---- */

/* tlsa_of - "usage selector 1 <sha256>" of file's certificate (sel 0)
 * or public key (sel 1) */
static void
tlsa_of(const char *file, int usage, int sel, char *out, size_t size)
{
	unsigned char	 md[32], *der = NULL;
	char		 path[128];
	FILE		*f;
	X509		*x = NULL;
	int		 len = -1, i, o;

	snprintf(path, sizeof(path), "%s/%s", fake_mx_dir(), file);
	if ((f = fopen(path, "r")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (x != NULL)
		len = sel == 0 ? i2d_X509(x, &der) :
		    i2d_PUBKEY(X509_get0_pubkey(x), &der);
	o = snprintf(out, size, "%d %d 1 ", usage, sel);
	if (len > 0 && SHA256(der, (size_t)len, md) != NULL)
		for (i = 0; i < 32; i++)
			o += snprintf(out + o, size - (size_t)o, "%02x", md[i]);
	OPENSSL_free(der);
	X509_free(x);
}

static const struct dane_row {
	const char		*chain;
	const char		*mx_host;
	const char		*tlsa_file;	/* its hash is the record */
	int			 usage, sel;
	enum tlsrpt_result	 want;
	const char		*reason;
	const char		*cname;		/* opts.dane_cname */
} dane_rows[] = {
	/* DANE-EE(3): the key matches, names and dates are not checked */
	{ "good.chain", "mx.good.test", "good.pem", 3, 1, TLSRPT_SUCCESS, "", NULL },
	{ "other.chain", "mx.good.test", "good.pem", 3, 1, TLSRPT_SUCCESS, "", NULL },
	{ "expired.chain", "mx.good.test", "good.pem", 3, 1, TLSRPT_SUCCESS, "", NULL },
	{ "self.pem", "mx.good.test", "good.pem", 3, 1, TLSRPT_SUCCESS, "", NULL },
	/* a PKIX-valid certificate that the TLSA does not match: no
	 * fallback to WebPKI (STS-DANE-1) */
	{ "good.chain", "mx.good.test", "int.pem", 3, 1, TLSRPT_TLSA_INVALID,
	    "X509_V_ERR_DANE_NO_MATCH", NULL },
	/* DANE-TA(2): the chain to the TA, and the MX name */
	{ "good.chain", "mx.good.test", "int.pem", 2, 0, TLSRPT_SUCCESS, "", NULL },
	{ "good.chain", "mx2.good.test", "int.pem", 2, 0,
	    TLSRPT_CERTIFICATE_HOST_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH", NULL },
	{ "expired.chain", "mx.good.test", "int.pem", 2, 0,
	    TLSRPT_CERTIFICATE_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED", NULL },
	{ "untrusted.chain", "mx.good.test", "int.pem", 2, 0,
	    TLSRPT_TLSA_INVALID, "X509_V_ERR_DANE_NO_MATCH", NULL },
	/* RFC 7672 3.2.2: the CNAME-expanded MX name is a reference
	 * identifier too (DANE-TA), beside the MX name */
	{ "good.chain", "mx2.good.test", "int.pem", 2, 0, TLSRPT_SUCCESS, "",
	    "mx.good.test" },
	{ "good.chain", "mx.good.test", "int.pem", 2, 0, TLSRPT_SUCCESS, "",
	    "mx2.good.test" },
	{ "good.chain", "mx2.good.test", "int.pem", 2, 0,
	    TLSRPT_CERTIFICATE_HOST_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH",
	    "mx3.good.test" },
};

static void
test_tls_probe_dane_rows(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;
	char			rec[128];
	const char		*recs[1] = { rec };
	enum status		st;
	size_t			i;

	SKIP_WITHOUT_CERTS();
	o.ca_file = NULL;	/* WebPKI store: DANE must not need it */
	for (i = 0; i < sizeof(dane_rows) / sizeof(dane_rows[0]); i++) {
		const struct dane_row *w = &dane_rows[i];

		tlsa_of(w->tlsa_file, w->usage, w->sel, rec, sizeof(rec));
		o.tlsa = recs;
		o.ntlsa = 1;
		o.dane_cname = w->cname;
		memset(&s, 0, sizeof(s));
		s.mode = SRV_NORMAL;
		s.chain = w->chain;
		s.starttls = 1;
		st = probe(&s, AF_INET, w->mx_host, &o, &r);
		CHECKF(st == ST_OK && r.result == w->want &&
		    strcmp(r.reason, w->reason) == 0,
		    "dane row %zu (%s, %s, %s): %s %s \"%s\", want %s \"%s\"",
		    i, w->chain, w->mx_host, rec, status_str(st),
		    tlsrpt_result_str(r.result), r.reason,
		    tlsrpt_result_str(w->want), w->reason);
		printf("     dane row %zu: %-15s %-13s %d %d -> %s %s\n", i,
		    w->chain, w->mx_host, w->usage, w->sel,
		    tlsrpt_result_str(r.result), r.reason);
	}
	/* no usable record (PKIX-EE only): tlsa-invalid, no handshake */
	o.dane_cname = NULL;
	tlsa_of("good.pem", 1, 1, rec, sizeof(rec));
	good_mx(&s);
	st = probe(&s, AF_INET, "mx.good.test", &o, &r);
	CHECKF(st == ST_OK && r.result == TLSRPT_TLSA_INVALID &&
	    strcmp(r.reason, "no usable TLSA record") == 0, "%s \"%s\"",
	    tlsrpt_result_str(r.result), r.reason);
}

static void
test_tls_probe_ipv6(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;
	int			fd, port;

	SKIP_WITHOUT_CERTS();
	if ((fd = fake_mx_listen(AF_INET6, 1, &port)) == -1) {
		SKIP("no IPv6 loopback");
		return;
	}
	close(fd);
	good_mx(&s);
	CHECK_INT(probe(&s, AF_INET6, "mx.good.test", &o, &r), ST_OK);
	CHECK_STR(tlsrpt_result_str(r.result), "success");
	CHECK_STR(r.receiving_ip, "::1");
	CHECK_STR(r.sending_ip, "::1");
}

static void
test_tls_probe_local_addr(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;

	SKIP_WITHOUT_CERTS();
	good_mx(&s);
	o.local_addr = "127.0.0.2";
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_OK);
	CHECK_INT(r.result, TLSRPT_SUCCESS);
	CHECK_STR(r.sending_ip, "127.0.0.2");

	/* A source address of the other family is our mistake. */
	o.local_addr = "::1";
	o.port = 9;
	CHECK_INT(tls_probe("mx.good.test", "127.0.0.1", &o, &r, NULL),
	    ST_INTERNAL);
	CHECK_INT(r.transient, 0);
}

static void
test_tls_probe_helo_address_literal(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;

	SKIP_WITHOUT_CERTS();
	good_mx(&s);
	o.helo_name = "[IPv6:::1]";
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_OK);
	CHECK_INT(r.result, TLSRPT_SUCCESS);
	CHECK_STR(s.ehlo, "EHLO [IPv6:::1]");
}

static void
test_tls_probe_system_store(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;

	SKIP_WITHOUT_CERTS();
	good_mx(&s);
	o.ca_file = NULL;		/* our test root is not in it */
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_OK);
	CHECK_STR(tlsrpt_result_str(r.result), "certificate-not-trusted");
}

static void
test_tls_probe_bad_ca_file(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;

	SKIP_WITHOUT_CERTS();
	good_mx(&s);
	o.ca_file = "/nonexistent/ca.pem";
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_INTERNAL);
	CHECK_INT(r.transient, 0);
	CHECK(strstr(r.reason, "/nonexistent/ca.pem") != NULL);
}

struct par {
	struct fake_mx		s;
	struct tls_probe_result	r;
	enum status		st;
	pthread_t		th;
};

static void *
par_main(void *arg)
{
	struct par		*p = arg;
	struct tls_probe_opts	 o = test_opts();

	o.port = p->s.port;
	p->st = tls_probe("mx.good.test", "127.0.0.1", &o, &p->r, NULL);
	return NULL;
}

static void
test_tls_probe_concurrent(void)
{
	struct par	p[8];
	size_t		i;

	SKIP_WITHOUT_CERTS();
	memset(p, 0, sizeof(p));
	for (i = 0; i < 8; i++) {
		p[i].s.chain = i % 2 ? "good.chain" : "expired.chain";
		p[i].s.starttls = 1;
		if (fake_mx_start(&p[i].s, AF_INET) == -1) {
			CHECK(0);
			return;
		}
	}
	for (i = 0; i < 8; i++)
		pthread_create(&p[i].th, NULL, par_main, &p[i]);
	for (i = 0; i < 8; i++) {
		pthread_join(p[i].th, NULL);
		fake_mx_stop(&p[i].s);
		CHECK_INT(p[i].st, ST_OK);
		CHECK_INT(p[i].r.result, i % 2 ? TLSRPT_SUCCESS :
		    TLSRPT_CERTIFICATE_EXPIRED);
	}
}

/* ---- SMTP and TLS trouble ------------------------------------------ */

static const struct mode_row {
	enum fake_mx_mode		 mode;
	enum status		 st;
	enum tlsrpt_result	 want;
	const char		*reason;	/* prefix */
} mode_rows[] = {
	{ SRV_GARBAGE, ST_TEMPFAIL, TLSRPT_VALIDATION_FAILURE,
	    "greeting: malformed reply" },
	{ SRV_421, ST_TEMPFAIL, TLSRPT_VALIDATION_FAILURE, "greeting 421" },
	{ SRV_FLOOD_LINE, ST_TEMPFAIL, TLSRPT_VALIDATION_FAILURE,
	    "greeting: reply line too long" },
	{ SRV_FLOOD_LINES, ST_TEMPFAIL, TLSRPT_VALIDATION_FAILURE,
	    "greeting: too many reply lines" },
	{ SRV_EHLO_502, ST_OK, TLSRPT_STARTTLS_NOT_SUPPORTED,
	    "502 5.5.2 command not recognized" },
	{ SRV_STARTTLS_454, ST_OK, TLSRPT_STARTTLS_NOT_SUPPORTED,
	    "454 4.7.0 TLS not available" },
	{ SRV_NOT_TLS, ST_OK, TLSRPT_VALIDATION_FAILURE, "" },
	{ SRV_JUNK_AFTER_220, ST_OK, TLSRPT_SUCCESS, "" },
	{ SRV_CLOSE_AT_TLS, ST_OK, TLSRPT_VALIDATION_FAILURE, "" },
	{ SRV_TLS11, ST_OK, TLSRPT_VALIDATION_FAILURE, "" },
};

static void
test_tls_probe_smtp_trouble(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;
	enum status		st;
	size_t			i;

	SKIP_WITHOUT_CERTS();
	for (i = 0; i < sizeof(mode_rows) / sizeof(mode_rows[0]); i++) {
		const struct mode_row *w = &mode_rows[i];

		good_mx(&s);
		s.mode = w->mode;
		st = probe(&s, AF_INET, "mx.good.test", &o, &r);
		CHECKF(st == w->st && r.result == w->want &&
		    strncmp(r.reason, w->reason, strlen(w->reason)) == 0 &&
		    (r.reason[0] != '\0') == (w->want != TLSRPT_SUCCESS) &&
		    r.transient == (st == ST_TEMPFAIL),
		    "mode row %zu: got %s %s \"%s\" transient %d, want %s %s"
		    " \"%s\"", i, status_str(st), tlsrpt_result_str(r.result),
		    r.reason, r.transient, status_str(w->st),
		    tlsrpt_result_str(w->want), w->reason);
		printf("     mode row %zu: %s \"%s\"\n", i,
		    tlsrpt_result_str(r.result), r.reason);
	}
}

static void
test_tls_probe_silent_server_times_out(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;
	int64_t			t0;

	memset(&s, 0, sizeof(s));
	s.mode = SRV_SILENT;
	o.timeout_ms = 300;
	t0 = fake_mx_now_ms();
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_TEMPFAIL);
	CHECK(fake_mx_now_ms() - t0 < 2000);
	CHECK_STR(r.reason, "greeting-timeout");
	CHECK_INT(r.transient, 1);
	CHECK_INT(r.result, TLSRPT_VALIDATION_FAILURE);
}

static void
test_tls_probe_total_deadline(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct fake_mx		s;
	int64_t			t0, dt;

	/* A byte every 100 ms beats no per-read timer, only the total. */
	memset(&s, 0, sizeof(s));
	s.mode = SRV_DRIP;
	o.timeout_ms = 5000;
	o.total_timeout_ms = 400;
	t0 = fake_mx_now_ms();
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_TEMPFAIL);
	dt = fake_mx_now_ms() - t0;
	CHECKF(dt >= 350 && dt < 1500, "took %lld ms", (long long)dt);
	CHECK_STR(r.reason, "greeting-timeout");
	CHECK_INT(r.transient, 1);
}

static void
test_tls_probe_connection_refused(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct buf		why = BUF_INIT;
	int			fd;

	/* Bound but not listening: the port stays ours and refuses. */
	if ((fd = fake_mx_listen(AF_INET, -1, &o.port)) == -1) {
		CHECK(0);
		return;
	}
	CHECK_INT(tls_probe("mx.good.test", "127.0.0.1", &o, &r, &why),
	    ST_TEMPFAIL);
	close(fd);
	CHECK_STR(r.reason, "connection-refused");
	CHECK_STR(buf_str(&why), "connection-refused");
	CHECK_INT(r.transient, 1);
	CHECK_STR(r.receiving_ip, "127.0.0.1");
	CHECK_STR(r.mx_host, "mx.good.test");
	buf_free(&why);
}

/* A connection that cannot start: a multicast address (the kernel refuses
 * a TCP connection to one at once, ENETUNREACH, and sends nothing, whatever
 * the host's routes); transient, with the reason the deferral text shows */
static void
test_tls_probe_network_unreachable(void)
{
	static const char *const ips[] = { "ff0e::5757", "224.0.0.57" };
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct buf		why = BUF_INIT;
	size_t			i;

	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		buf_reset(&why);
		CHECKF(tls_probe("mx.good.test", ips[i], &o, &r, &why) ==
		    ST_TEMPFAIL, "%s", ips[i]);
		CHECKF(strcmp(r.reason, "network-unreachable") == 0,
		    "%s: reason \"%s\"", ips[i], r.reason);
		CHECK_INT(r.transient, 1);
		CHECK_STR(r.receiving_ip, ips[i]);
		CHECK_STR(r.sending_ip, "");	/* no connection, no end */
	}
	buf_free(&why);
}

static void
test_tls_probe_connect_timeout(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct sockaddr_in	sin;
	int			lfd, fill[4], i;
	int64_t			t0;

	/*
	 * A listener whose accept queue is full drops SYNs, so connect()
	 * hangs: the closest loopback gets to an unreachable host.
	 */
	if ((lfd = fake_mx_listen(AF_INET, 0, &o.port)) == -1) {
		CHECK(0);
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(o.port);
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50 * 1000);
	o.timeout_ms = 300;
	t0 = fake_mx_now_ms();
	CHECK_INT(tls_probe("mx.good.test", "127.0.0.1", &o, &r, NULL),
	    ST_TEMPFAIL);
	CHECK(fake_mx_now_ms() - t0 < 2000);
	CHECK_INT(r.transient, 1);
	/* Some kernels complete the handshake anyway; then no greeting. */
	CHECKF(strcmp(r.reason, "connect-timeout") == 0 ||
	    strcmp(r.reason, "greeting-timeout") == 0, "reason %s", r.reason);
	printf("     full accept queue: %s\n", r.reason);
	for (i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
}

static void
test_tls_probe_invalid_arguments(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct buf		why = BUF_INIT;

	o.port = 9;
	CHECK_INT(tls_probe("mx.good.test", "mx.good.test", &o, &r, &why),
	    ST_INVALID);
	CHECK_STR(buf_str(&why), "invalid ip: not a numeric address");
	CHECK_INT(tls_probe("mx.good.test", NULL, &o, &r, NULL), ST_INVALID);
	CHECK_INT(tls_probe(NULL, "127.0.0.1", &o, &r, NULL), ST_INVALID);
	CHECK_INT(tls_probe("", "127.0.0.1", &o, &r, NULL), ST_INVALID);
	CHECK_INT(tls_probe("mx.good.test\r\nQUIT", "127.0.0.1", &o, &r,
	    NULL), ST_INVALID);
	CHECK_STR(r.reason, "invalid mx_host");
	o.helo_name = "probe.test\r\nMAIL FROM:<>";
	CHECK_INT(tls_probe("mx.good.test", "127.0.0.1", &o, &r, NULL),
	    ST_INVALID);
	CHECK_STR(r.reason, "invalid helo_name");
	CHECK_INT(r.transient, 0);
	buf_free(&why);
}

static void
test_tls_probe_json(void)
{
	struct tls_probe_result	r;
	struct buf		b = BUF_INIT;

	memset(&r, 0, sizeof(r));
	r.result = TLSRPT_CERTIFICATE_EXPIRED;
	snprintf(r.reason, sizeof(r.reason), "X509_V_ERR_CERT_HAS_EXPIRED");
	snprintf(r.mx_host, sizeof(r.mx_host), "mx.example.com");
	snprintf(r.receiving_ip, sizeof(r.receiving_ip), "2001:db8::1");
	snprintf(r.sending_ip, sizeof(r.sending_ip), "2001:db8::2");
	snprintf(r.helo, sizeof(r.helo), "mx\"1\\");
	snprintf(r.tls_version, sizeof(r.tls_version), "TLSv1.3");
	snprintf(r.cipher, sizeof(r.cipher), "TLS_AES_256_GCM_SHA384");
	tls_probe_json(&r, &b);
	CHECK_STR(buf_str(&b), "{\"result\":\"certificate-expired\","
	    "\"mx_host\":\"mx.example.com\",\"receiving_ip\":\"2001:db8::1\","
	    "\"sending_ip\":\"2001:db8::2\",\"helo\":\"mx\\\"1\\\\\","
	    "\"reason\":\"X509_V_ERR_CERT_HAS_EXPIRED\","
	    "\"tls_version\":\"TLSv1.3\","
	    "\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"transient\":false,"
	    "\"verified_by\":\"webpki\"}");
	buf_reset(&b);
	r.result = TLSRPT_SUCCESS;
	r.transient = 1;
	r.dane = 1;
	tls_probe_json(&r, &b);
	CHECK(strncmp(buf_str(&b), "{\"result\":\"success\"", 19) == 0);
	CHECK(strstr(buf_str(&b), "\"transient\":true,\"verified_by\":\"dane\"}") != NULL);
	buf_free(&b);
}

/* tls_verify_type: the one switch from a verify result to an RFC 8460
 * result type (rfc-checklist 2.4, 3; STS-VAL-3) */
static void
test_tls_verify_type(void)
{
	static const struct {
		long			 err;
		enum tlsrpt_result	 want;
		const char		*name;
	} vrows[] = {
		{ X509_V_OK, TLSRPT_SUCCESS, "X509_V_OK" },
		{ X509_V_ERR_CERT_HAS_EXPIRED, TLSRPT_CERTIFICATE_EXPIRED,
		  "X509_V_ERR_CERT_HAS_EXPIRED" },
		{ X509_V_ERR_CERT_NOT_YET_VALID, TLSRPT_CERTIFICATE_EXPIRED,
		  "X509_V_ERR_CERT_NOT_YET_VALID" },
		{ X509_V_ERR_HOSTNAME_MISMATCH,
		  TLSRPT_CERTIFICATE_HOST_MISMATCH,
		  "X509_V_ERR_HOSTNAME_MISMATCH" },
		{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
		  TLSRPT_CERTIFICATE_NOT_TRUSTED,
		  "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT" },
		{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
		  TLSRPT_CERTIFICATE_NOT_TRUSTED,
		  "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY" },
		{ X509_V_ERR_CERT_REVOKED, TLSRPT_CERTIFICATE_NOT_TRUSTED,
		  "X509_V_ERR_CERT_REVOKED" },
		{ X509_V_ERR_PERMITTED_VIOLATION, TLSRPT_CERTIFICATE_NOT_TRUSTED,
		  "X509_V_ERR_PERMITTED_VIOLATION" },
		{ X509_V_ERR_OUT_OF_MEM, TLSRPT_VALIDATION_FAILURE,
		  "X509_V_ERR_OUT_OF_MEM" },
		{ X509_V_ERR_UNSPECIFIED, TLSRPT_VALIDATION_FAILURE,
		  "X509_V_ERR_UNSPECIFIED" },
	};
	size_t	i;

	for (i = 0; i < sizeof(vrows) / sizeof(vrows[0]); i++) {
		CHECKF(tls_verify_type(vrows[i].err) == vrows[i].want,
		    "%s: %s", vrows[i].name,
		    tlsrpt_result_str(tls_verify_type(vrows[i].err)));
		CHECK_STR(tls_verify_name(vrows[i].err), vrows[i].name);
	}
	/* a code without a name gets OpenSSL's text */
	CHECK_STR(tls_verify_name(X509_V_ERR_NO_EXPLICIT_POLICY),
	    X509_verify_cert_error_string(X509_V_ERR_NO_EXPLICIT_POLICY));
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	switch (fake_mx_certs()) {
	case 1:
		have_certs = 1;
		break;
	case 0:
		printf("no openssl command: certificate cases skipped\n");
		break;
	default:
		h_fail++;		/* the log in the directory says why */
		break;
	}

	RUN(test_tls_probe_cert_rows);
	RUN(test_tls_probe_dane_rows);
	RUN(test_tls_probe_ipv6);
	RUN(test_tls_probe_local_addr);
	RUN(test_tls_probe_helo_address_literal);
	RUN(test_tls_probe_system_store);
	RUN(test_tls_probe_bad_ca_file);
	RUN(test_tls_probe_concurrent);
	RUN(test_tls_probe_smtp_trouble);
	RUN(test_tls_probe_silent_server_times_out);
	RUN(test_tls_probe_total_deadline);
	RUN(test_tls_probe_connection_refused);
	RUN(test_tls_probe_network_unreachable);
	RUN(test_tls_probe_connect_timeout);
	RUN(test_tls_probe_invalid_arguments);
	RUN(test_tls_probe_json);
	RUN(test_tls_verify_type);

	if (have_certs)			/* else keep the log */
		fake_mx_cleanup();
	return harness_done("test_tls_probe");
}
