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
 *	STARTTLS, handshake, QUIT.  Replies are read a line at a time, a
 *	line at most 1000 bytes with its CRLF (RFC 5321 4.5.3.1.5) and a
 *	reply at most 100 lines, so a flooding server costs us one
 *	kilobyte of buffer and a deadline.  Bytes the server sends after
 *	its 220 to STARTTLS are thrown away, never fed to TLS.
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
 *	  verify result			verify_result_type(), the one switch
 *	  anything before STARTTLS failing (connect, timeouts, 4xx/5xx
 *	    greeting or EHLO, malformed or oversized replies), and a
 *	    handshake timeout		ST_TEMPFAIL, transient
 *
 *	Precedence: OpenSSL 3.0 stops at the first verification error,
 *	in this order: chain building (certificate-not-trusted), CA and
 *	purpose extensions, the host name (certificate-host-mismatch),
 *	then signatures and validity dates (certificate-expired), then
 *	name constraints.  So a certificate that is both expired and for
 *	the wrong name is reported as certificate-host-mismatch, and an
 *	expired certificate from an unknown CA as certificate-not-trusted.
 *	test_tls_probe pins this order.
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
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "status.h"
#include "tls_probe.h"
#include "tlsrpt_types.h"

#define LINE_MAX_LEN	1000	/* one reply line with CRLF, RFC 5321 */
#define REPLY_MAX_LINES	100
#define QUIT_MAX_MS	1000	/* QUIT is a courtesy; do not wait long */

/* Outcomes of one read, write or wait. */
enum io {
	IO_OK = 0,
	IO_TIMEOUT,
	IO_EOF,
	IO_TOOLONG,		/* line over LINE_MAX_LEN */
	IO_TOOMANY,		/* reply over REPLY_MAX_LINES */
	IO_MALFORMED,		/* not an SMTP reply */
	IO_ERRNO,		/* c->err says */
	IO_TLS			/* the OpenSSL error queue says */
};

struct conn {
	int		 fd;
	SSL		*ssl;		/* NULL while plain text */
	int64_t		 total;		/* deadline of the whole probe */
	int		 step_ms;
	int		 err;		/* errno for IO_ERRNO */
	size_t		 rlen;
	char		 rbuf[LINE_MAX_LEN + 24];
};

struct reply {
	int	code;
	int	starttls;		/* an EHLO keyword line is STARTTLS */
	char	first[256];		/* first line, printable */
};

/* now_ms - monotonic milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* step_deadline - a new step gets step_ms, but never beyond the total */
static int64_t
step_deadline(const struct conn *c)
{
	int64_t	d = now_ms() + c->step_ms;

	return d < c->total ? d : c->total;
}

/* printable - copy n bytes of s to dst, non-printable bytes as '?' */
static void
printable(char *dst, size_t size, const char *s, size_t n)
{
	size_t	i;

	if (size == 0)
		return;
	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[n] = '\0';
}

/* wait_fd - poll for ev until deadline */
static enum io
wait_fd(struct conn *c, short ev, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		r;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return IO_TIMEOUT;
		pfd.fd = c->fd;
		pfd.events = ev;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return IO_OK;	/* errors show in the next call */
		if (r == 0)
			return IO_TIMEOUT;
		if (errno != EINTR) {
			c->err = errno;
			return IO_ERRNO;
		}
	}
}

/* ssl_want - turn an SSL_get_error() code into a poll event or an io */
static enum io
ssl_want(struct conn *c, int sslerr, short *ev)
{
	switch (sslerr) {
	case SSL_ERROR_WANT_READ:
		*ev = POLLIN;
		return IO_OK;
	case SSL_ERROR_WANT_WRITE:
		*ev = POLLOUT;
		return IO_OK;
	case SSL_ERROR_ZERO_RETURN:
		return IO_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0)
			return IO_TLS;
		if ((c->err = errno) == 0)
			return IO_EOF;
		return IO_ERRNO;
	default:
		return IO_TLS;
	}
}

/* io_read - read what is there (at least one byte) before deadline */
static enum io
io_read(struct conn *c, void *p, size_t n, size_t *got, int64_t deadline)
{
	ssize_t	r;
	short	ev;
	enum io	e;

	for (;;) {
		if (c->ssl == NULL) {
			if ((r = recv(c->fd, p, n, 0)) > 0) {
				*got = (size_t)r;
				return IO_OK;
			}
			if (r == 0)
				return IO_EOF;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				c->err = errno;
				return IO_ERRNO;
			}
			ev = POLLIN;
		} else {
			ERR_clear_error();
			errno = 0;
			if (SSL_read_ex(c->ssl, p, n, got) == 1)
				return IO_OK;
			e = ssl_want(c, SSL_get_error(c->ssl, 0), &ev);
			if (e != IO_OK)
				return e;
		}
		if ((e = wait_fd(c, ev, deadline)) != IO_OK)
			return e;
	}
}

/* io_write - write all of p before deadline; never raises SIGPIPE in
 * plain text */
static enum io
io_write(struct conn *c, const char *p, size_t n, int64_t deadline)
{
	ssize_t	r;
	size_t	done;
	short	ev;
	enum io	e;

	while (n > 0) {
		if (c->ssl == NULL) {
			if ((r = send(c->fd, p, n, MSG_NOSIGNAL)) >= 0) {
				p += r;
				n -= (size_t)r;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				c->err = errno;
				return IO_ERRNO;
			}
			ev = POLLOUT;
		} else {
			ERR_clear_error();
			errno = 0;
			if (SSL_write_ex(c->ssl, p, n, &done) == 1) {
				p += done;
				n -= done;
				continue;
			}
			e = ssl_want(c, SSL_get_error(c->ssl, 0), &ev);
			if (e != IO_OK)
				return e;
		}
		if ((e = wait_fd(c, ev, deadline)) != IO_OK)
			return e;
	}
	return IO_OK;
}

/* read_line - one line without its (CR)LF into line[LINE_MAX_LEN] */
static enum io
read_line(struct conn *c, char *line, size_t *len, int64_t deadline)
{
	char	*nl;
	size_t	 n, got;
	enum io	 e;

	for (;;) {
		if ((nl = memchr(c->rbuf, '\n', c->rlen)) != NULL) {
			n = (size_t)(nl - c->rbuf) + 1;
			if (n > LINE_MAX_LEN)
				return IO_TOOLONG;
			*len = n - 1;
			if (*len > 0 && c->rbuf[*len - 1] == '\r')
				(*len)--;
			memcpy(line, c->rbuf, *len);
			c->rlen -= n;
			memmove(c->rbuf, c->rbuf + n, c->rlen);
			return IO_OK;
		}
		if (c->rlen >= LINE_MAX_LEN)
			return IO_TOOLONG;
		e = io_read(c, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen,
		    &got, deadline);
		if (e != IO_OK)
			return e;
		c->rlen += got;
	}
}

/* is_keyword - the EHLO line text s[n] starts with keyword kw */
static int
is_keyword(const char *s, size_t n, const char *kw)
{
	size_t	k = strlen(kw);

	return n >= k && strncasecmp(s, kw, k) == 0 && (n == k || s[k] == ' ');
}

/* read_reply - one (multi-line) SMTP reply, RFC 5321 4.2 */
static enum io
read_reply(struct conn *c, struct reply *r, int64_t deadline)
{
	char	line[LINE_MAX_LEN];
	size_t	len;
	int	nlines, code;
	enum io	e;

	memset(r, 0, sizeof(*r));
	for (nlines = 0; nlines < REPLY_MAX_LINES; nlines++) {
		if ((e = read_line(c, line, &len, deadline)) != IO_OK)
			return e;
		if (len < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' ||
		    (len > 3 && line[3] != ' ' && line[3] != '-'))
			return IO_MALFORMED;
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (nlines == 0) {
			r->code = code;
			printable(r->first, sizeof(r->first), line, len);
		} else if (code != r->code)
			return IO_MALFORMED;
		else if (len > 4 && is_keyword(line + 4, len - 4, "STARTTLS"))
			r->starttls = 1;
		if (len == 3 || line[3] == ' ')
			return IO_OK;
	}
	return IO_TOOMANY;
}

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
io_reason(const struct conn *c, enum io e, const char *step,
    struct tls_probe_result *out)
{
	const char	*s;

	switch (e) {
	case IO_TIMEOUT:
		reason(out, "%s-timeout", step);
		break;
	case IO_EOF:
		reason(out, "%s: connection closed", step);
		break;
	case IO_TOOLONG:
		reason(out, "%s: reply line too long", step);
		break;
	case IO_TOOMANY:
		reason(out, "%s: too many reply lines", step);
		break;
	case IO_MALFORMED:
		reason(out, "%s: malformed reply", step);
		break;
	case IO_ERRNO:
		reason(out, "%s: %s", step, strerror(c->err));
		break;
	case IO_TLS:
	default:
		s = ERR_reason_error_string(ERR_peek_error());
		reason(out, "%s: %s", step, s != NULL ? s : "TLS error");
		break;
	}
}

#define XE(e)	{ e, #e }
static const struct {
	long		 code;
	const char	*name;
} x509_names[] = {
	XE(X509_V_OK),
	XE(X509_V_ERR_UNSPECIFIED),
	XE(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT),
	XE(X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE),
	XE(X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY),
	XE(X509_V_ERR_CERT_SIGNATURE_FAILURE),
	XE(X509_V_ERR_CERT_NOT_YET_VALID),
	XE(X509_V_ERR_CERT_HAS_EXPIRED),
	XE(X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD),
	XE(X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD),
	XE(X509_V_ERR_OUT_OF_MEM),
	XE(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
	XE(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN),
	XE(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
	XE(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE),
	XE(X509_V_ERR_CERT_CHAIN_TOO_LONG),
	XE(X509_V_ERR_CERT_REVOKED),
	XE(X509_V_ERR_NO_ISSUER_PUBLIC_KEY),
	XE(X509_V_ERR_PATH_LENGTH_EXCEEDED),
	XE(X509_V_ERR_INVALID_PURPOSE),
	XE(X509_V_ERR_CERT_UNTRUSTED),
	XE(X509_V_ERR_CERT_REJECTED),
	XE(X509_V_ERR_KEYUSAGE_NO_CERTSIGN),
	XE(X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION),
	XE(X509_V_ERR_INVALID_NON_CA),
	XE(X509_V_ERR_INVALID_EXTENSION),
	XE(X509_V_ERR_PERMITTED_VIOLATION),
	XE(X509_V_ERR_EXCLUDED_VIOLATION),
	XE(X509_V_ERR_SUBTREE_MINMAX),
	XE(X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE),
	XE(X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX),
	XE(X509_V_ERR_UNSUPPORTED_NAME_SYNTAX),
	XE(X509_V_ERR_PATH_LOOP),
	XE(X509_V_ERR_HOSTNAME_MISMATCH),
	XE(X509_V_ERR_EE_KEY_TOO_SMALL),
	XE(X509_V_ERR_CA_KEY_TOO_SMALL),
	XE(X509_V_ERR_CA_MD_TOO_WEAK),
	XE(X509_V_ERR_INVALID_CA),
	XE(X509_V_ERR_EMPTY_SUBJECT_ALT_NAME),
	XE(X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM),
};
#undef XE

/* x509_err_name - "X509_V_ERR_..." for the common codes, else OpenSSL's
 * text */
static const char *
x509_err_name(long err)
{
	size_t	i;

	for (i = 0; i < sizeof(x509_names) / sizeof(x509_names[0]); i++)
		if (x509_names[i].code == err)
			return x509_names[i].name;
	return X509_verify_cert_error_string(err);
}

/*
 * verify_result_type - the one place an OpenSSL verification result
 * becomes an RFC 8460 result type (rfc-checklist.md 2.4, 3)
 */
static enum tlsrpt_result
verify_result_type(long err)
{
	switch (err) {
	case X509_V_OK:
		return TLSRPT_SUCCESS;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:	/* outside its validity */
		return TLSRPT_CERTIFICATE_EXPIRED;
	case X509_V_ERR_HOSTNAME_MISMATCH:	/* STS-VAL-3: SAN dNSName */
		return TLSRPT_CERTIFICATE_HOST_MISMATCH;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
	case X509_V_ERR_PATH_LOOP:
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_INVALID_NON_CA:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
	case X509_V_ERR_NO_ISSUER_PUBLIC_KEY:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
	case X509_V_ERR_CERT_REVOKED:
	case X509_V_ERR_PERMITTED_VIOLATION:	/* name constraints */
	case X509_V_ERR_EXCLUDED_VIOLATION:
	case X509_V_ERR_SUBTREE_MINMAX:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
	case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
		return TLSRPT_CERTIFICATE_NOT_TRUSTED;
	default:
		return TLSRPT_VALIDATION_FAILURE;
	}
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

/* tcp_connect - non-blocking connect with a deadline; ST_TEMPFAIL with
 * out->reason on network trouble */
static enum status
tcp_connect(struct conn *c, const struct sockaddr_storage *ss,
    socklen_t sslen, const char *local_addr, struct tls_probe_result *out)
{
	struct sockaddr_storage	 ls;
	socklen_t		 lslen;
	socklen_t		 errlen = sizeof(c->err);
	enum io			 e;

	if ((c->fd = socket(ss->ss_family,
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
		if (bind(c->fd, (struct sockaddr *)&ls, lslen) == -1) {
			reason(out, "bind %s: %s", local_addr, strerror(errno));
			return ST_INTERNAL;
		}
	}
	c->err = 0;
	if (connect(c->fd, (const struct sockaddr *)ss, sslen) == -1) {
		if (errno != EINPROGRESS)
			c->err = errno;
		else if ((e = wait_fd(c, POLLOUT, step_deadline(c))) ==
		    IO_TIMEOUT)
			c->err = ETIMEDOUT;
		else if (e == IO_OK && getsockopt(c->fd, SOL_SOCKET, SO_ERROR,
		    &c->err, &errlen) == -1)
			c->err = errno;
	}
	if (c->err == ETIMEDOUT)
		reason(out, "connect-timeout");
	else if (c->err == ECONNREFUSED)
		reason(out, "connection-refused");
	else if (c->err != 0)
		reason(out, "connect: %s", strerror(c->err));
	if (c->err != 0)
		return ST_TEMPFAIL;
	lslen = sizeof(ls);
	if (getsockname(c->fd, (struct sockaddr *)&ls, &lslen) == 0)
		addr_text((struct sockaddr *)&ls, out->sending_ip,
		    sizeof(out->sending_ip));
	return ST_OK;
}

/* new_ctx - a client context: TLS 1.2 or later, our trust anchors */
static SSL_CTX *
new_ctx(const char *ca_file, struct tls_probe_result *out)
{
	SSL_CTX	*ctx;
	int	 ok;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		reason(out, "SSL_CTX_new failed");
		return NULL;
	}
	if (ca_file != NULL && *ca_file != '\0')
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1 ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		reason(out, "cannot load trust anchors%s%s",
		    ca_file != NULL && *ca_file != '\0' ? " from " : "",
		    ca_file != NULL ? ca_file : "");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Trust anchors are roots only: no partial chains. */
	X509_VERIFY_PARAM_clear_flags(SSL_CTX_get0_param(ctx),
	    X509_V_FLAG_PARTIAL_CHAIN);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	return ctx;
}

/* new_ssl - an SSL on the connection with SNI and the host check */
static SSL *
new_ssl(SSL_CTX *ctx, int fd, const char *host)
{
	X509_VERIFY_PARAM	*param;
	SSL			*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	param = SSL_get0_param(ssl);
	/* STS-VAL-3: SAN dNSName only, a wildcard is a whole label. */
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1 ||	/* STS-VAL-4 */
	    SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* handshake - SSL_connect with a deadline */
static enum io
handshake(struct conn *c, int64_t deadline)
{
	short	ev;
	int	r;
	enum io	e;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(c->ssl)) == 1)
			return IO_OK;
		if ((e = ssl_want(c, SSL_get_error(c->ssl, r), &ev)) != IO_OK)
			return e;
		if ((e = wait_fd(c, ev, deadline)) != IO_OK)
			return e;
	}
}

/* say_quit - best-effort QUIT and its reply, with a short deadline */
static void
say_quit(struct conn *c)
{
	struct reply	r;
	int64_t		d = step_deadline(c);

	if (d > now_ms() + QUIT_MAX_MS)
		d = now_ms() + QUIT_MAX_MS;
	if (io_write(c, "QUIT\r\n", 6, d) == IO_OK)
		(void)read_reply(c, &r, d);
	if (c->ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);	/* send close_notify, once */
	}
}

/* set_result - a policy outcome */
static void
set_result(struct tls_probe_result *out, enum tlsrpt_result res,
    const char *text)
{
	out->result = res;
	reason(out, "%s", text);
}

/* tls_probe - probe mx_host at ip */
enum status
tls_probe(const char *mx_host, const char *ip,
    const struct tls_probe_opts *opts, struct tls_probe_result *out,
    struct buf *why)
{
	static const struct tls_probe_opts defaults;
	struct conn		 c;
	struct reply		 r;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	SSL_CTX			*ctx = NULL;
	const char		*helo, *sp;
	char			 host[256], cmd[300];
	size_t			 hlen;
	long			 verr;
	enum status		 st = ST_OK;
	enum io			 e;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	out->result = TLSRPT_VALIDATION_FAILURE;
	if (opts == NULL)
		opts = &defaults;
	c.step_ms = opts->timeout_ms > 0 ? opts->timeout_ms :
	    TLS_PROBE_TIMEOUT_MS;
	c.total = now_ms() + (opts->total_timeout_ms > 0 ?
	    opts->total_timeout_ms : TLS_PROBE_TOTAL_MS);
	helo = opts->helo_name != NULL ? opts->helo_name : "localhost";

	/* The name for SNI and the host check, without a trailing dot. */
	hlen = mx_host != NULL ? strlen(mx_host) : 0;
	if (hlen > 0 && mx_host[hlen - 1] == '.')
		hlen--;
	if (mx_host == NULL || !name_ok(mx_host, hlen, 0))
		reason(out, "invalid mx_host");
	else if (!name_ok(helo, strlen(helo), 1))
		reason(out, "invalid helo_name");
	else if (ip == NULL || numeric_addr(ip, opts->port > 0 ? opts->port :
	    TLS_PROBE_PORT, &ss, &sslen) == -1)
		reason(out, "invalid ip: not a numeric address");
	if (out->reason[0] != '\0') {
		st = ST_INVALID;
		goto out;
	}
	memcpy(host, mx_host, hlen);
	host[hlen] = '\0';
	printable(out->mx_host, sizeof(out->mx_host), host, hlen);
	addr_text((struct sockaddr *)&ss, out->receiving_ip,
	    sizeof(out->receiving_ip));

	if ((st = tcp_connect(&c, &ss, sslen, opts->local_addr, out)) != ST_OK)
		goto out;

	/* Greeting: anything but 220 is someone else's trouble. */
	if ((e = read_reply(&c, &r, step_deadline(&c))) != IO_OK) {
		io_reason(&c, e, "greeting", out);
		st = ST_TEMPFAIL;
		goto out;
	}
	printable(out->banner, sizeof(out->banner), r.first, strlen(r.first));
	if (r.code != 220) {
		reason(out, "greeting %d", r.code);
		st = ST_TEMPFAIL;
		goto out;
	}

	/* EHLO; its first line names the server (receiving-mx-helo). */
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", helo);
	if ((e = io_write(&c, cmd, strlen(cmd), step_deadline(&c))) != IO_OK ||
	    (e = read_reply(&c, &r, step_deadline(&c))) != IO_OK) {
		io_reason(&c, e, "ehlo", out);
		st = ST_TEMPFAIL;
		goto out;
	}
	if (r.code == 250) {
		if (strlen(r.first) > 4) {
			sp = r.first + 4;
			printable(out->helo, sizeof(out->helo), sp,
			    strcspn(sp, " "));
		}
	} else if (r.code == 500 || r.code == 502) {
		/* No EHLO at all, so no extensions and no STARTTLS. */
		set_result(out, TLSRPT_STARTTLS_NOT_SUPPORTED, r.first);
		say_quit(&c);
		goto out;
	} else {
		reason(out, "ehlo %d", r.code);
		st = ST_TEMPFAIL;
		goto out;
	}
	if (!r.starttls) {
		set_result(out, TLSRPT_STARTTLS_NOT_SUPPORTED,
		    "STARTTLS not offered");
		say_quit(&c);
		goto out;
	}

	if ((e = io_write(&c, "STARTTLS\r\n", 10, step_deadline(&c))) !=
	    IO_OK || (e = read_reply(&c, &r, step_deadline(&c))) != IO_OK) {
		io_reason(&c, e, "starttls", out);
		st = ST_TEMPFAIL;
		goto out;
	}
	if (r.code == 421) {		/* closing down: try again later */
		reason(out, "starttls %d", r.code);
		st = ST_TEMPFAIL;
		goto out;
	}
	if (r.code != 220) {
		set_result(out, TLSRPT_STARTTLS_NOT_SUPPORTED, r.first);
		say_quit(&c);
		goto out;
	}
	c.rlen = 0;			/* no plain text may reach TLS */

	if ((ctx = new_ctx(opts->ca_file, out)) == NULL) {
		st = ST_INTERNAL;
		goto out;
	}
	if ((c.ssl = new_ssl(ctx, c.fd, host)) == NULL) {
		reason(out, "SSL_new failed");
		st = ST_INTERNAL;
		goto out;
	}
	if ((e = handshake(&c, step_deadline(&c))) != IO_OK) {
		if (e == IO_TIMEOUT) {
			io_reason(&c, e, "tls-handshake", out);
			st = ST_TEMPFAIL;
		} else if (e == IO_TLS &&
		    ERR_reason_error_string(ERR_peek_error()) != NULL)
			set_result(out, TLSRPT_VALIDATION_FAILURE,
			    ERR_reason_error_string(ERR_peek_error()));
		else
			io_reason(&c, e, "tls-handshake", out);
		SSL_free(c.ssl);	/* no QUIT without TLS */
		c.ssl = NULL;
		goto out;
	}
	sp = SSL_get_version(c.ssl);
	printable(out->tls_version, sizeof(out->tls_version), sp, strlen(sp));
	sp = SSL_get_cipher_name(c.ssl);
	printable(out->cipher, sizeof(out->cipher), sp, strlen(sp));

	if (SSL_get0_peer_certificate(c.ssl) == NULL)
		set_result(out, TLSRPT_VALIDATION_FAILURE,
		    "no peer certificate");
	else if ((verr = SSL_get_verify_result(c.ssl)) == X509_V_OK)
		set_result(out, TLSRPT_SUCCESS, "");
	else
		set_result(out, verify_result_type(verr), x509_err_name(verr));
	say_quit(&c);

out:
	if (st == ST_TEMPFAIL)
		out->transient = 1;
	if (st != ST_OK) {
		out->result = TLSRPT_VALIDATION_FAILURE;
		if (why != NULL)
			buf_printf(why, "%s", out->reason);
	}
	if (c.ssl != NULL)
		SSL_free(c.ssl);
	SSL_CTX_free(ctx);
	if (c.fd != -1)
		close(c.fd);
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
	buf_printf(b, ",\"transient\":%s}", r->transient ? "true" : "false");
}
