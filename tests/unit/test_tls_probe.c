/*
 * test_tls_probe.c - tls_probe() against a tiny SMTP server in a thread
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
#include <openssl/ssl.h>

#include "buf.h"
#include "status.h"
#include "tls_probe.h"
#include "tlsrpt_types.h"

#include "../harness.h"

static char	dir[64];		/* certificates live here */
static int	have_certs;
static int	h_skip;

/* ---- certificates -------------------------------------------------- */

static const char ext_cnf[] =
    "[ca]\n"
    "default_ca = ca_int\n"
    "[ca_int]\n"
    "database = index.txt\n"
    "new_certs_dir = newcerts\n"
    "serial = ca.serial\n"
    "default_md = sha256\n"
    "policy = pol_any\n"
    "unique_subject = no\n"
    "copy_extensions = none\n"
    "[pol_any]\n"
    "commonName = supplied\n"
    "[ca_ext]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid\n"
    "[leaf_good]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:mx.good.test\n"
    "[leaf_other]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:other.test\n"
    "[leaf_cnonly]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "[leaf_wild]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:*.wild.test\n"
    "[leaf_partial]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:mx*.good.test\n";

/* sh - run a shell command in dir, quietly; 0 on success */
static int __attribute__((__format__(__printf__, 1, 2)))
sh(const char *fmt, ...)
{
	char	cmd[2048];
	int	n;
	va_list	ap;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && (", dir);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof(cmd) - n, ") >>log 2>&1");
	if (system(cmd) != 0) {
		fprintf(stderr, "command failed: %s (see %s/log)\n", cmd, dir);
		return -1;
	}
	return 0;
}

/* leaf - sign leaf.csr with ext section ext into name.pem (30 days) */
static int
leaf(const char *name, const char *ca, const char *ext)
{
	return sh("openssl x509 -req -in leaf.csr -CA %s.pem -CAkey %s.key"
	    " -CAcreateserial -days 30 -sha256 -extfile ext.cnf"
	    " -extensions %s -out %s.pem", ca, ca, ext, name);
}

/* leaf_dated - sign leaf.csr by the intermediate with fixed dates */
static int
leaf_dated(const char *name, const char *ext, const char *from,
    const char *to)
{
	return sh("openssl ca -batch -config ext.cnf -cert int.pem"
	    " -keyfile int.key -in leaf.csr -startdate %s -enddate %s"
	    " -extensions %s -notext -out %s.pem", from, to, ext, name);
}

static int
make_certs(void)
{
	FILE	*f;
	char	 path[128];

	snprintf(path, sizeof(path), "%s/ext.cnf", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(ext_cnf, f);
	fclose(f);
	if (sh("mkdir newcerts && : >index.txt && echo 01 >ca.serial") ||
	    sh("for k in root root2 int leaf; do openssl genpkey"
	    " -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $k.key"
	    " || exit 1; done") ||
	    sh("openssl req -x509 -new -key root.key -sha256 -days 30"
	    " -subj '/CN=Test Root' -addext"
	    " 'basicConstraints=critical,CA:TRUE' -addext"
	    " 'keyUsage=critical,keyCertSign,cRLSign' -out root.pem") ||
	    sh("openssl req -x509 -new -key root2.key -sha256 -days 30"
	    " -subj '/CN=Other Root' -addext"
	    " 'basicConstraints=critical,CA:TRUE' -addext"
	    " 'keyUsage=critical,keyCertSign,cRLSign' -out root2.pem") ||
	    sh("openssl req -new -key int.key -subj '/CN=Test Intermediate'"
	    " -out int.csr") ||
	    sh("openssl x509 -req -in int.csr -CA root.pem -CAkey root.key"
	    " -CAcreateserial -days 30 -sha256 -extfile ext.cnf"
	    " -extensions ca_ext -out int.pem") ||
	    sh("openssl req -new -key leaf.key -subj '/CN=mx.good.test'"
	    " -out leaf.csr") ||
	    leaf("good", "int", "leaf_good") ||
	    leaf("other", "int", "leaf_other") ||
	    leaf("cnonly", "int", "leaf_cnonly") ||
	    leaf("wild", "int", "leaf_wild") ||
	    leaf("partial", "int", "leaf_partial") ||
	    leaf("untrusted", "root2", "leaf_good") ||
	    leaf("untrusted_other", "root2", "leaf_other") ||
	    leaf_dated("expired", "leaf_good", "20200101000000Z",
	    "20200201000000Z") ||
	    leaf_dated("future", "leaf_good", "20900101000000Z",
	    "20910101000000Z") ||
	    leaf_dated("expired_other", "leaf_other", "20200101000000Z",
	    "20200201000000Z") ||
	    sh("openssl req -x509 -new -key leaf.key -sha256 -days 30"
	    " -subj '/CN=mx.good.test' -addext"
	    " 'subjectAltName=DNS:mx.good.test' -out self.pem") ||
	    sh("for c in good other cnonly wild partial expired future"
	    " expired_other; do cat $c.pem int.pem >$c.chain; done") ||
	    sh("for c in untrusted untrusted_other; do"
	    " cat $c.pem root2.pem >$c.chain; done"))
		return -1;
	return 0;
}

/* ---- the SMTP server ----------------------------------------------- */

enum srv_mode {
	SRV_NORMAL,		/* 220, EHLO, STARTTLS, TLS, QUIT */
	SRV_SILENT,		/* accept, never speak */
	SRV_GARBAGE,		/* a greeting that is not SMTP */
	SRV_421,		/* 421 greeting */
	SRV_FLOOD_LINE,		/* 10 MB greeting without a newline */
	SRV_FLOOD_LINES,	/* 10 MB of "220-" lines */
	SRV_DRIP,		/* greeting one byte per 100 ms */
	SRV_EHLO_502,		/* EHLO not implemented */
	SRV_STARTTLS_454,	/* STARTTLS refused */
	SRV_NOT_TLS,		/* 220 to STARTTLS, then plain text */
	SRV_JUNK_AFTER_220,	/* 220 to STARTTLS and more, then TLS */
	SRV_CLOSE_AT_TLS,	/* 220 to STARTTLS, then close */
	SRV_TLS11		/* TLS 1.1 at most */
};

struct srv {
	enum srv_mode	 mode;
	const char	*chain;		/* certificate chain file */
	int		 starttls;	/* 0: not offered; 2: lower case */
	int		 lfd;
	int		 port;
	pthread_t	 th;
	char		 ehlo[1024];	/* the client's EHLO line */
	char		 sni[256];	/* the client's SNI */
	int		 got_quit;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
say(int fd, const char *s)
{
	(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* plain_line - read a line a byte at a time (never past it) */
static int
plain_line(int fd, char *line, size_t size)
{
	size_t	n = 0;
	char	ch;

	while (recv(fd, &ch, 1, 0) == 1) {
		if (ch == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n + 1 < size)
			line[n++] = ch;
	}
	return -1;
}

static int
tls_line(SSL *ssl, char *line, size_t size)
{
	size_t	n = 0;
	char	ch;

	while (SSL_read(ssl, &ch, 1) == 1) {
		if (ch == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n + 1 < size)
			line[n++] = ch;
	}
	return -1;
}

static void
serve_tls(struct srv *s, int fd)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	const char	*sni;
	char		 path[128], line[1024];

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, s->chain);
	SSL_CTX_use_certificate_chain_file(ctx, path);
	snprintf(path, sizeof(path), "%s/leaf.key", dir);
	SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM);
	if (s->mode == SRV_TLS11) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
	}
	if ((ssl = SSL_new(ctx)) != NULL) {
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			if ((sni = SSL_get_servername(ssl,
			    TLSEXT_NAMETYPE_host_name)) != NULL)
				snprintf(s->sni, sizeof(s->sni), "%s", sni);
			while (tls_line(ssl, line, sizeof(line)) == 0)
				if (strcasecmp(line, "QUIT") == 0) {
					s->got_quit = 1;
					SSL_write(ssl, "221 bye\r\n", 9);
					break;
				} else
					SSL_write(ssl, "502 no\r\n", 8);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
}

static void
serve(struct srv *s, int fd)
{
	static char	chunk[65536];
	char		line[1024];
	size_t		sent, i;

	switch (s->mode) {
	case SRV_SILENT:
		(void)plain_line(fd, line, sizeof(line));	/* until EOF */
		return;
	case SRV_GARBAGE:
		say(fd, "hello, I am not an SMTP server\r\n");
		(void)plain_line(fd, line, sizeof(line));
		return;
	case SRV_421:
		say(fd, "421 4.3.2 busy, go away\r\n");
		return;
	case SRV_FLOOD_LINE:
	case SRV_FLOOD_LINES:
		if (s->mode == SRV_FLOOD_LINE)
			memset(chunk, 'A', sizeof(chunk));
		else
			for (i = 0; i + 8 <= sizeof(chunk); i += 8)
				memcpy(chunk + i, "220-xx\r\n", 8);
		say(fd, "220-");
		for (sent = 0; sent < 10 * 1024 * 1024; sent += sizeof(chunk))
			if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) !=
			    (ssize_t)sizeof(chunk))
				break;
		return;
	case SRV_DRIP:
		for (i = 0; i < 50; i++) {
			if (send(fd, "2", 1, MSG_NOSIGNAL) != 1)
				break;
			usleep(100 * 1000);
		}
		return;
	default:
		break;
	}

	say(fd, "220-mx.server.test ESMTP\r\n220 ready\r\n");
	if (plain_line(fd, line, sizeof(line)) == -1)
		return;
	snprintf(s->ehlo, sizeof(s->ehlo), "%s", line);
	if (s->mode == SRV_EHLO_502)
		say(fd, "502 5.5.2 command not recognized\r\n");
	else
		say(fd, s->starttls == 0 ?
		    "250-mx.server.test greets you\r\n250-PIPELINING\r\n"
		    "250 8BITMIME\r\n" : s->starttls == 1 ?
		    "250-mx.server.test greets you\r\n250-PIPELINING\r\n"
		    "250-STARTTLS\r\n250 8BITMIME\r\n" :
		    "250-mx.server.test greets you\r\n250-starttls\r\n"
		    "250 8BITMIME\r\n");
	while (plain_line(fd, line, sizeof(line)) == 0) {
		if (strcasecmp(line, "QUIT") == 0) {
			s->got_quit = 1;
			say(fd, "221 bye\r\n");
			return;
		}
		if (strcasecmp(line, "STARTTLS") != 0) {
			say(fd, "502 no\r\n");
			continue;
		}
		switch (s->mode) {
		case SRV_STARTTLS_454:
			say(fd, "454 4.7.0 TLS not available\r\n");
			continue;
		case SRV_NOT_TLS:
			say(fd, "220 go ahead\r\n");
			(void)recv(fd, line, sizeof(line), 0);	/* hello */
			say(fd, "this is not TLS at all, just text\r\n");
			(void)plain_line(fd, line, sizeof(line));
			return;
		case SRV_JUNK_AFTER_220:
			/* One send: the probe reads it all, must drop it. */
			say(fd, "220 go ahead\r\n250 injected\r\n");
			serve_tls(s, fd);
			return;
		case SRV_CLOSE_AT_TLS:
			say(fd, "220 go ahead\r\n");
			return;
		default:
			say(fd, "220 go ahead\r\n");
			serve_tls(s, fd);
			return;
		}
	}
}

static void *
srv_main(void *arg)
{
	struct srv	*s = arg;
	struct pollfd	 pfd = { s->lfd, POLLIN, 0 };
	struct timeval	 tv = { 5, 0 };
	int		 fd;

	if (poll(&pfd, 1, 5000) != 1 || (fd = accept(s->lfd, NULL, NULL)) < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	serve(s, fd);
	close(fd);
	return NULL;
}

/* srv_listen - a loopback socket on an ephemeral port */
static int
srv_listen(int family, int backlog, int *port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (backlog >= 0 && listen(fd, backlog) == -1) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET6 ? sin6->sin6_port : sin->sin_port);
	return fd;
}

static int
srv_start(struct srv *s, int family)
{
	if ((s->lfd = srv_listen(family, 4, &s->port)) == -1)
		return -1;
	if (pthread_create(&s->th, NULL, srv_main, s) != 0) {
		close(s->lfd);
		return -1;
	}
	return 0;
}

static void
srv_stop(struct srv *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* probe - start a server in mode, probe it, stop it */
static enum status
probe(struct srv *s, int family, const char *mx_host,
    const struct tls_probe_opts *o, struct tls_probe_result *r)
{
	struct tls_probe_opts	opts = *o;
	struct buf		why = BUF_INIT;
	enum status		st;

	if (srv_start(s, family) == -1) {
		fprintf(stderr, "cannot start the test server\n");
		memset(r, 0, sizeof(*r));
		return ST_INTERNAL;
	}
	opts.port = s->port;
	st = tls_probe(mx_host, family == AF_INET6 ? "::1" : "127.0.0.1",
	    &opts, r, &why);
	srv_stop(s);
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

	snprintf(ca, sizeof(ca), "%s/root.pem", dir);
	memset(&o, 0, sizeof(o));
	o.helo_name = "probe.test";
	o.ca_file = ca;
	o.timeout_ms = 3000;
	o.total_timeout_ms = 5000;
	return o;
}

/* skip - count a skipped case; RUN() counts it as passed, so undo that */
#define SKIP(why) do {							\
	printf("skip %s: %s\n", __func__, why);				\
	h_skip++;							\
	h_pass--;							\
} while (0)

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

static void
test_tls_probe_cert_rows(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct srv		s;
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

static void
test_tls_probe_ipv6(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct srv		s;
	int			fd, port;

	SKIP_WITHOUT_CERTS();
	if ((fd = srv_listen(AF_INET6, 1, &port)) == -1) {
		SKIP("no IPv6 loopback");
		return;
	}
	close(fd);
	memset(&s, 0, sizeof(s));
	s.chain = "good.chain";
	s.starttls = 1;
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
	struct srv		s;

	SKIP_WITHOUT_CERTS();
	memset(&s, 0, sizeof(s));
	s.chain = "good.chain";
	s.starttls = 1;
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
	struct srv		s;

	SKIP_WITHOUT_CERTS();
	memset(&s, 0, sizeof(s));
	s.chain = "good.chain";
	s.starttls = 1;
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
	struct srv		s;

	SKIP_WITHOUT_CERTS();
	memset(&s, 0, sizeof(s));
	s.chain = "good.chain";
	s.starttls = 1;
	o.ca_file = NULL;		/* our test root is not in it */
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_OK);
	CHECK_STR(tlsrpt_result_str(r.result), "certificate-not-trusted");
}

static void
test_tls_probe_bad_ca_file(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct srv		s;

	SKIP_WITHOUT_CERTS();
	memset(&s, 0, sizeof(s));
	s.chain = "good.chain";
	s.starttls = 1;
	o.ca_file = "/nonexistent/ca.pem";
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_INTERNAL);
	CHECK_INT(r.transient, 0);
	CHECK(strstr(r.reason, "/nonexistent/ca.pem") != NULL);
}

struct par {
	struct srv		s;
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
		if (srv_start(&p[i].s, AF_INET) == -1) {
			CHECK(0);
			return;
		}
	}
	for (i = 0; i < 8; i++)
		pthread_create(&p[i].th, NULL, par_main, &p[i]);
	for (i = 0; i < 8; i++) {
		pthread_join(p[i].th, NULL);
		srv_stop(&p[i].s);
		CHECK_INT(p[i].st, ST_OK);
		CHECK_INT(p[i].r.result, i % 2 ? TLSRPT_SUCCESS :
		    TLSRPT_CERTIFICATE_EXPIRED);
	}
}

/* ---- SMTP and TLS trouble ------------------------------------------ */

static const struct mode_row {
	enum srv_mode		 mode;
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
	struct srv		s;
	enum status		st;
	size_t			i;

	SKIP_WITHOUT_CERTS();
	for (i = 0; i < sizeof(mode_rows) / sizeof(mode_rows[0]); i++) {
		const struct mode_row *w = &mode_rows[i];

		memset(&s, 0, sizeof(s));
		s.mode = w->mode;
		s.chain = "good.chain";
		s.starttls = 1;
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
	struct srv		s;
	int64_t			t0;

	memset(&s, 0, sizeof(s));
	s.mode = SRV_SILENT;
	o.timeout_ms = 300;
	t0 = now_ms();
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_TEMPFAIL);
	CHECK(now_ms() - t0 < 2000);
	CHECK_STR(r.reason, "greeting-timeout");
	CHECK_INT(r.transient, 1);
	CHECK_INT(r.result, TLSRPT_VALIDATION_FAILURE);
}

static void
test_tls_probe_total_deadline(void)
{
	struct tls_probe_opts	o = test_opts();
	struct tls_probe_result	r;
	struct srv		s;
	int64_t			t0, dt;

	/* A byte every 100 ms beats no per-read timer, only the total. */
	memset(&s, 0, sizeof(s));
	s.mode = SRV_DRIP;
	o.timeout_ms = 5000;
	o.total_timeout_ms = 400;
	t0 = now_ms();
	CHECK_INT(probe(&s, AF_INET, "mx.good.test", &o, &r), ST_TEMPFAIL);
	dt = now_ms() - t0;
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
	if ((fd = srv_listen(AF_INET, -1, &o.port)) == -1) {
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
	if ((lfd = srv_listen(AF_INET, 0, &o.port)) == -1) {
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
	t0 = now_ms();
	CHECK_INT(tls_probe("mx.good.test", "127.0.0.1", &o, &r, NULL),
	    ST_TEMPFAIL);
	CHECK(now_ms() - t0 < 2000);
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
	    "\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"transient\":false}");
	buf_reset(&b);
	r.result = TLSRPT_SUCCESS;
	r.transient = 1;
	tls_probe_json(&r, &b);
	CHECK(strncmp(buf_str(&b), "{\"result\":\"success\"", 19) == 0);
	CHECK(strstr(buf_str(&b), "\"transient\":true}") != NULL);
	buf_free(&b);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/test_tls_probe.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (system("openssl version >/dev/null 2>&1") != 0)
		printf("no openssl command: certificate cases skipped\n");
	else if (make_certs() == 0)
		have_certs = 1;
	else
		h_fail++;		/* the log in dir says why */

	RUN(test_tls_probe_cert_rows);
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
	RUN(test_tls_probe_connect_timeout);
	RUN(test_tls_probe_invalid_arguments);
	RUN(test_tls_probe_json);

	if (have_certs) {		/* else keep the log */
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	if (h_skip == 0)
		return harness_done("test_tls_probe");
	printf("test_tls_probe: %d passed, %d failed, %d skipped\n",
	    h_pass, h_fail, h_skip);
	return h_fail != 0;
}
