/*
 * tls_probe.c - STARTTLS probe of one MX address (RFC 8461 section 4.2)
 *
 * SYNOPSIS
 *	#include "tls_probe.h"
 *
 *	enum status tls_probe(const char *mx_host, const char *ip,
 *	    const struct tls_probe_opts *opts,
 *	    struct tls_probe_result *out, struct buf *why);
 *	void tls_probe_json(const struct tls_probe_result *r, struct buf *b);
 *
 * DESCRIPTION
 *	tls_probe() speaks just enough SMTP to reach TLS: greeting, EHLO,
 *	STARTTLS, handshake, QUIT.  The byte and line layer, with its
 *	limits and deadlines, is smtp_io.c; the trust rules (TLS version,
 *	SNI, host check, verify result to result type) are tls_verify.c.
 *	Bytes the server sends after its 220 to STARTTLS are thrown away,
 *	never fed to TLS.
 *
 *	The handshake runs with SSL_VERIFY_NONE: OpenSSL still verifies
 *	the chain and the host name and records the first error in
 *	SSL_get_verify_result(), and a completed handshake lets us tell an
 *	expired certificate from an untrusted one instead of seeing one
 *	"certificate verify failed" alert.  Nothing is sent over the
 *	connection except QUIT, so not aborting on a bad certificate
 *	costs nothing.
 *
 *	Outcome to RFC 8460 result type (rfc-checklist.md section 3):
 *	  no STARTTLS in the EHLO reply, EHLO answered 500/502, or
 *	    STARTTLS answered with anything but 220 (421 excepted)
 *					starttls-not-supported
 *	  handshake failed (alert, protocol version, no shared cipher,
 *	    not TLS at all)		validation-failure, reason from
 *					the first queued OpenSSL error
 *	  verify result			tls_verify_type(), the one switch
 *	  anything before STARTTLS failing (connect, timeouts, 4xx/5xx
 *	    greeting or EHLO, malformed or oversized replies), and a
 *	    handshake timeout		ST_TEMPFAIL, transient
 *
 *	This file is a seam: unit tests other than test_tls_probe link
 *	tests/fakes/fake_tls_probe.c instead, which answers from a table.
 *
 * OWNERSHIP
 *	All inputs are borrowed; out is the caller's.
 *
 * DIAGNOSTICS
 *	See tls_probe.h.  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.7 (STS-VAL-3, -4, -5), 2.4, 3
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "clock.h"
#include "smtp_io.h"
#include "status.h"
#include "tls_probe.h"
#include "tls_verify.h"
#include "tlsrpt_types.h"

#define QUIT_MAX_MS	1000	/* QUIT is a courtesy; do not wait long */

/* reason - set out->reason; a long text is cut */
static void __attribute__((__format__(__printf__, 2, 3)))
reason(struct tls_probe_result *out, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* io_reason - the reason for a failed step */
static void
io_reason(const struct smtp_io *io, enum smtp_io_status e, const char *step,
    struct tls_probe_result *out)
{
	smtp_io_reason(io, e, step, out->reason, sizeof(out->reason));
}

/* set_result - a policy outcome */
static void
set_result(struct tls_probe_result *out, enum tlsrpt_result res,
    const char *text)
{
	out->result = res;
	reason(out, "%s", text);
}

/* name_ok - n bytes of a name we may put in SNI, or in EHLO when
 * literal allows an address literal's "[:]" too */
static int
name_ok(const char *s, size_t n, int literal)
{
	size_t	i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.' || s[i] == '_' ||
		    (literal && strchr("[:]", s[i]) != NULL)))
			return 0;
	return 1;
}

/* addr_text - numeric text of a socket address (RFC 5952 for IPv6) */
static void
addr_text(const struct sockaddr *sa, char *dst, size_t size)
{
	const void *a;

	if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	if (inet_ntop(sa->sa_family, a, dst, (socklen_t)size) == NULL)
		dst[0] = '\0';
}

/* numeric_addr - parse a numeric address; no DNS */
static int
numeric_addr(const char *s, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo	 hints, *ai;
	char		 serv[16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(s, serv, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* target - check the arguments: host (for SNI, without a trailing dot)
 * and the address to connect to; ST_INVALID with out->reason */
static enum status
target(const char *mx_host, const char *ip, int port, const char *helo,
    char host[256], struct sockaddr_storage *ss, socklen_t *sslen,
    struct tls_probe_result *out)
{
	size_t	hlen = mx_host != NULL ? strlen(mx_host) : 0;

	if (hlen > 0 && mx_host[hlen - 1] == '.')
		hlen--;
	if (mx_host == NULL || !name_ok(mx_host, hlen, 0))
		reason(out, "invalid mx_host");
	else if (!name_ok(helo, strlen(helo), 1))
		reason(out, "invalid helo_name");
	else if (ip == NULL || numeric_addr(ip, port > 0 ? port :
	    TLS_PROBE_PORT, ss, sslen) == -1)
		reason(out, "invalid ip: not a numeric address");
	if (out->reason[0] != '\0')
		return ST_INVALID;
	memcpy(host, mx_host, hlen);
	host[hlen] = '\0';
	smtp_io_printable(out->mx_host, sizeof(out->mx_host), host, hlen);
	addr_text((struct sockaddr *)ss, out->receiving_ip,
	    sizeof(out->receiving_ip));
	return ST_OK;
}

/* tcp_connect - non-blocking connect with a deadline; ST_TEMPFAIL with
 * out->reason on network trouble */
static enum status
tcp_connect(struct smtp_io *io, const struct sockaddr_storage *ss,
    socklen_t sslen, const char *local_addr, struct tls_probe_result *out)
{
	struct sockaddr_storage	 ls;
	socklen_t		 lslen;
	socklen_t		 errlen = sizeof(io->err);
	enum smtp_io_status	 e;

	if ((io->fd = socket(ss->ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		reason(out, "socket: %s", strerror(errno));
		return ST_INTERNAL;
	}
	if (local_addr != NULL && *local_addr != '\0') {
		if (numeric_addr(local_addr, 0, &ls, &lslen) == -1 ||
		    ls.ss_family != ss->ss_family) {
			reason(out, "local address %s: not numeric or "
			    "wrong family", local_addr);
			return ST_INTERNAL;
		}
		if (bind(io->fd, (struct sockaddr *)&ls, lslen) == -1) {
			reason(out, "bind %s: %s", local_addr, strerror(errno));
			return ST_INTERNAL;
		}
	}
	io->err = 0;
	if (connect(io->fd, (const struct sockaddr *)ss, sslen) == -1) {
		if (errno != EINPROGRESS)
			io->err = errno;
		else if ((e = smtp_io_wait(io, POLLOUT, smtp_io_step(io))) ==
		    SMTP_IO_TIMEOUT)
			io->err = ETIMEDOUT;
		else if (e == SMTP_IO_OK && getsockopt(io->fd, SOL_SOCKET,
		    SO_ERROR, &io->err, &errlen) == -1)
			io->err = errno;
	}
	if (io->err == ETIMEDOUT)
		reason(out, "connect-timeout");
	else if (io->err == ECONNREFUSED)
		reason(out, "connection-refused");
	else if (io->err == ENETUNREACH)	/* no route: nothing was sent */
		reason(out, "network-unreachable");
	else if (io->err == EHOSTUNREACH)
		reason(out, "host-unreachable");
	else if (io->err != 0)
		reason(out, "connect: %s", strerror(io->err));
	if (io->err != 0)
		return ST_TEMPFAIL;
	lslen = sizeof(ls);
	if (getsockname(io->fd, (struct sockaddr *)&ls, &lslen) == 0)
		addr_text((struct sockaddr *)&ls, out->sending_ip,
		    sizeof(out->sending_ip));
	return ST_OK;
}

/* say_quit - best-effort QUIT and its reply, with a short deadline */
static void
say_quit(struct smtp_io *io)
{
	struct smtp_reply	r;
	int64_t			d = smtp_io_step(io);

	if (d > clock_mono_ms() + QUIT_MAX_MS)
		d = clock_mono_ms() + QUIT_MAX_MS;
	if (smtp_io_write(io, "QUIT\r\n", 6, d) == SMTP_IO_OK)
		(void)smtp_io_reply(io, &r, d);
	if (io->ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(io->ssl);	/* send close_notify, once */
	}
}

/* command - send cmd, read the reply; ST_TEMPFAIL with the reason */
static enum status
command(struct smtp_io *io, const char *cmd, const char *step,
    struct smtp_reply *r, struct tls_probe_result *out)
{
	enum smtp_io_status	e;

	if ((e = smtp_io_write(io, cmd, strlen(cmd), smtp_io_step(io))) !=
	    SMTP_IO_OK ||
	    (e = smtp_io_reply(io, r, smtp_io_step(io))) != SMTP_IO_OK) {
		io_reason(io, e, step, out);
		return ST_TEMPFAIL;
	}
	return ST_OK;
}

/*
 * starttls - greeting, EHLO, STARTTLS.  ST_OK with *done clear: TLS may
 * start; ST_OK with *done set: the server has no STARTTLS (out says so);
 * anything else ends the probe.
 */
static enum status
starttls(struct smtp_io *io, const char *helo, struct tls_probe_result *out,
    int *done)
{
	struct smtp_reply	r;
	enum smtp_io_status	e;
	const char		*sp;
	char			cmd[300];

	/* Greeting: anything but 220 is someone else's trouble. */
	if ((e = smtp_io_reply(io, &r, smtp_io_step(io))) != SMTP_IO_OK) {
		io_reason(io, e, "greeting", out);
		return ST_TEMPFAIL;
	}
	smtp_io_printable(out->banner, sizeof(out->banner), r.first,
	    strlen(r.first));
	if (r.code != 220) {
		reason(out, "greeting %d", r.code);
		return ST_TEMPFAIL;
	}

	/* EHLO; its first line names the server (receiving-mx-helo). */
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", helo);
	if (command(io, cmd, "ehlo", &r, out) != ST_OK)
		return ST_TEMPFAIL;
	if (r.code == 500 || r.code == 502) {
		/* No EHLO at all, so no extensions and no STARTTLS. */
		set_result(out, TLSRPT_STARTTLS_NOT_SUPPORTED, r.first);
		goto no_tls;
	}
	if (r.code != 250) {
		reason(out, "ehlo %d", r.code);
		return ST_TEMPFAIL;
	}
	if (strlen(r.first) > 4) {
		sp = r.first + 4;
		smtp_io_printable(out->helo, sizeof(out->helo), sp,
		    strcspn(sp, " "));
	}
	if (!r.starttls) {
		set_result(out, TLSRPT_STARTTLS_NOT_SUPPORTED,
		    "STARTTLS not offered");
		goto no_tls;
	}

	if (command(io, "STARTTLS\r\n", "starttls", &r, out) != ST_OK)
		return ST_TEMPFAIL;
	if (r.code == 421) {		/* closing down: try again later */
		reason(out, "starttls %d", r.code);
		return ST_TEMPFAIL;
	}
	if (r.code != 220) {
		set_result(out, TLSRPT_STARTTLS_NOT_SUPPORTED, r.first);
		goto no_tls;
	}
	io->rlen = 0;			/* no plain text may reach TLS */
	return ST_OK;

no_tls:
	say_quit(io);
	*done = 1;
	return ST_OK;
}

/* tls - the handshake with SNI and the verdict on the certificate */
static enum status
tls(struct smtp_io *io, const char *host, const struct tls_probe_opts *opts,
    struct tls_probe_result *out)
{
	const char		*ca_file = opts->ca_file;
	SSL_CTX			*ctx;
	enum smtp_io_status	 e;
	const char		*sp;
	long			 verr;

	if ((ctx = tls_verify_ctx(ca_file, out->reason,
	    sizeof(out->reason))) == NULL)
		return ST_INTERNAL;
	if (opts->ntlsa > 0 && SSL_CTX_dane_enable(ctx) <= 0) {
		SSL_CTX_free(ctx);
		reason(out, "SSL_CTX_dane_enable failed");
		return ST_INTERNAL;
	}
	io->ssl = tls_verify_ssl(ctx, io->fd, host);
	SSL_CTX_free(ctx);		/* the SSL keeps its reference */
	if (io->ssl == NULL) {
		reason(out, "SSL_new failed");
		return ST_INTERNAL;
	}
	out->dane = opts->ntlsa > 0;
	if (opts->ntlsa > 0 && tls_verify_dane(io->ssl, host, opts->tlsa,
	    opts->ntlsa, out->reason, sizeof(out->reason)) <= 0) {
		out->result = TLSRPT_TLSA_INVALID;	/* none usable */
		SSL_free(io->ssl);	/* no QUIT without TLS */
		io->ssl = NULL;
		return ST_OK;
	}
	if (opts->ntlsa > 0 && opts->dane_cname != NULL &&
	    opts->dane_cname[0] != '\0' &&
	    SSL_add1_host(io->ssl, opts->dane_cname) != 1) {
		SSL_free(io->ssl);
		io->ssl = NULL;
		reason(out, "SSL_add1_host failed");
		return ST_INTERNAL;
	}
	if ((e = smtp_io_handshake(io, smtp_io_step(io))) != SMTP_IO_OK) {
		if (e == SMTP_IO_TLS &&
		    (sp = ERR_reason_error_string(ERR_peek_error())) != NULL)
			set_result(out, TLSRPT_VALIDATION_FAILURE, sp);
		else
			io_reason(io, e, "tls-handshake", out);
		SSL_free(io->ssl);	/* no QUIT without TLS */
		io->ssl = NULL;
		return e == SMTP_IO_TIMEOUT ? ST_TEMPFAIL : ST_OK;
	}
	sp = SSL_get_version(io->ssl);
	smtp_io_printable(out->tls_version, sizeof(out->tls_version), sp,
	    strlen(sp));
	sp = SSL_get_cipher_name(io->ssl);
	smtp_io_printable(out->cipher, sizeof(out->cipher), sp, strlen(sp));

	if (SSL_get0_peer_certificate(io->ssl) == NULL)
		set_result(out, TLSRPT_VALIDATION_FAILURE,
		    "no peer certificate");
	else if ((verr = SSL_get_verify_result(io->ssl)) == X509_V_OK)
		set_result(out, TLSRPT_SUCCESS, "");
	else
		set_result(out, tls_verify_type(verr), tls_verify_name(verr));
	say_quit(io);
	return ST_OK;
}

enum status
tls_probe(const char *mx_host, const char *ip,
    const struct tls_probe_opts *opts, struct tls_probe_result *out,
    struct buf *why)
{
	static const struct tls_probe_opts defaults;
	struct smtp_io		 io;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*helo;
	char			 host[256];
	enum status		 st;
	int			 done = 0;

	memset(out, 0, sizeof(*out));
	memset(&io, 0, sizeof(io));
	io.fd = -1;
	out->result = TLSRPT_VALIDATION_FAILURE;
	if (opts == NULL)
		opts = &defaults;
	io.step_ms = opts->timeout_ms > 0 ? opts->timeout_ms :
	    TLS_PROBE_TIMEOUT_MS;
	io.total = clock_mono_ms() + (opts->total_timeout_ms > 0 ?
	    opts->total_timeout_ms : TLS_PROBE_TOTAL_MS);
	helo = opts->helo_name != NULL ? opts->helo_name : "localhost";

	if ((st = target(mx_host, ip, opts->port, helo, host, &ss, &sslen,
	    out)) == ST_OK &&
	    (st = tcp_connect(&io, &ss, sslen, opts->local_addr, out)) ==
	    ST_OK &&
	    (st = starttls(&io, helo, out, &done)) == ST_OK && !done)
		st = tls(&io, host, opts, out);

	if (st == ST_TEMPFAIL)
		out->transient = 1;
	if (st != ST_OK) {
		out->result = TLSRPT_VALIDATION_FAILURE;
		if (why != NULL)
			buf_printf(why, "%s", out->reason);
	}
	if (io.ssl != NULL)
		SSL_free(io.ssl);
	if (io.fd != -1)
		close(io.fd);
	ERR_clear_error();
	return st;
}

/* tls_probe_json - append r as one JSON object */
void
tls_probe_json(const struct tls_probe_result *r, struct buf *b)
{
	buf_puts(b, "{\"result\":");
	buf_json_str(b, tlsrpt_result_str(r->result));
	buf_puts(b, ",\"mx_host\":");
	buf_json_str(b, r->mx_host);
	buf_puts(b, ",\"receiving_ip\":");
	buf_json_str(b, r->receiving_ip);
	buf_puts(b, ",\"sending_ip\":");
	buf_json_str(b, r->sending_ip);
	buf_puts(b, ",\"helo\":");
	buf_json_str(b, r->helo);
	buf_puts(b, ",\"reason\":");
	buf_json_str(b, r->reason);
	buf_puts(b, ",\"tls_version\":");
	buf_json_str(b, r->tls_version);
	buf_puts(b, ",\"cipher\":");
	buf_json_str(b, r->cipher);
	buf_printf(b, ",\"transient\":%s,\"verified_by\":\"%s\"}",
	    r->transient ? "true" : "false", r->dane ? "dane" : "webpki");
}
