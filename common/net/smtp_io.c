/*
 * smtp_io.c - the client side of an SMTP connection, plain or TLS, with
 * deadlines
 *
 * SYNOPSIS
 *	#include "clock.h"
#include "smtp_io.h"
 *
 * DESCRIPTION
 *	The byte and line layer of tls_probe(): non-blocking reads and
 *	writes on the socket or, once TLS is up, on the SSL, each waiting
 *	with poll() until an absolute deadline; SMTP reply parsing with
 *	hard limits on line length and line count; the TLS handshake.
 *	See smtp_io.h.
 *
 * OWNERSHIP
 *	The caller owns io->fd and io->ssl.
 *
 * DIAGNOSTICS
 *	enum smtp_io_status; smtp_io_reason() turns it into the text of a
 *	failure-reason-code.  Never logs.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "smtp_io.h"

int64_t
smtp_io_step(const struct smtp_io *io)
{
	int64_t	d = clock_mono_ms() + io->step_ms;

	return d < io->total ? d : io->total;
}

void
smtp_io_printable(char *dst, size_t size, const char *s, size_t n)
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

enum smtp_io_status
smtp_io_wait(struct smtp_io *io, short ev, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		r;

	for (;;) {
		if ((left = deadline - clock_mono_ms()) <= 0)
			return SMTP_IO_TIMEOUT;
		pfd.fd = io->fd;
		pfd.events = ev;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return SMTP_IO_OK;	/* errors show in the next call */
		if (r == 0)
			return SMTP_IO_TIMEOUT;
		if (errno != EINTR) {
			io->err = errno;
			return SMTP_IO_ERRNO;
		}
	}
}

/* ssl_want - turn an SSL_get_error() code into a poll event or a status */
static enum smtp_io_status
ssl_want(struct smtp_io *io, int sslerr, short *ev)
{
	switch (sslerr) {
	case SSL_ERROR_WANT_READ:
		*ev = POLLIN;
		return SMTP_IO_OK;
	case SSL_ERROR_WANT_WRITE:
		*ev = POLLOUT;
		return SMTP_IO_OK;
	case SSL_ERROR_ZERO_RETURN:
		return SMTP_IO_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0)
			return SMTP_IO_TLS;
		if ((io->err = errno) == 0)
			return SMTP_IO_EOF;
		return SMTP_IO_ERRNO;
	default:
		return SMTP_IO_TLS;
	}
}

/* sock_want - after a failed recv() or send(): retry, wait, or fail */
static enum smtp_io_status
sock_want(struct smtp_io *io, short want, short *ev)
{
	if (errno == EINTR) {
		*ev = 0;
		return SMTP_IO_OK;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK) {
		io->err = errno;
		return SMTP_IO_ERRNO;
	}
	*ev = want;
	return SMTP_IO_OK;
}

/* again - after a call that did not finish: its failure, or go on at
 * once (ev 0), or when the socket is ready for ev */
static enum smtp_io_status
again(struct smtp_io *io, enum smtp_io_status e, short ev, int64_t deadline)
{
	if (e != SMTP_IO_OK || ev == 0)
		return e;
	return smtp_io_wait(io, ev, deadline);
}

/* io_read - read what is there (at least one byte) before deadline */
static enum smtp_io_status
io_read(struct smtp_io *io, void *p, size_t n, size_t *got, int64_t deadline)
{
	enum smtp_io_status	e;
	ssize_t			r;
	short			ev;

	for (;;) {
		if (io->ssl == NULL) {
			if ((r = recv(io->fd, p, n, 0)) > 0) {
				*got = (size_t)r;
				return SMTP_IO_OK;
			}
			if (r == 0)
				return SMTP_IO_EOF;
			e = sock_want(io, POLLIN, &ev);
		} else {
			ERR_clear_error();
			errno = 0;
			if (SSL_read_ex(io->ssl, p, n, got) == 1)
				return SMTP_IO_OK;
			e = ssl_want(io, SSL_get_error(io->ssl, 0), &ev);
		}
		if ((e = again(io, e, ev, deadline)) != SMTP_IO_OK)
			return e;
	}
}

enum smtp_io_status
smtp_io_write(struct smtp_io *io, const char *p, size_t n, int64_t deadline)
{
	enum smtp_io_status	e;
	ssize_t			r;
	size_t			done;
	short			ev;

	while (n > 0) {
		if (io->ssl == NULL) {
			if ((r = send(io->fd, p, n, MSG_NOSIGNAL)) >= 0) {
				p += r;
				n -= (size_t)r;
				continue;
			}
			e = sock_want(io, POLLOUT, &ev);
		} else {
			ERR_clear_error();
			errno = 0;
			if (SSL_write_ex(io->ssl, p, n, &done) == 1) {
				p += done;
				n -= done;
				continue;
			}
			e = ssl_want(io, SSL_get_error(io->ssl, 0), &ev);
		}
		if ((e = again(io, e, ev, deadline)) != SMTP_IO_OK)
			return e;
	}
	return SMTP_IO_OK;
}

/* read_line - one line without its (CR)LF into line[SMTP_IO_LINE_MAX] */
static enum smtp_io_status
read_line(struct smtp_io *io, char *line, size_t *len, int64_t deadline)
{
	enum smtp_io_status	 e;
	char			*nl;
	size_t			 n, got;

	for (;;) {
		if ((nl = memchr(io->rbuf, '\n', io->rlen)) != NULL) {
			n = (size_t)(nl - io->rbuf) + 1;
			if (n > SMTP_IO_LINE_MAX)
				return SMTP_IO_TOOLONG;
			*len = n - 1;
			if (*len > 0 && io->rbuf[*len - 1] == '\r')
				(*len)--;
			memcpy(line, io->rbuf, *len);
			io->rlen -= n;
			memmove(io->rbuf, io->rbuf + n, io->rlen);
			return SMTP_IO_OK;
		}
		if (io->rlen >= SMTP_IO_LINE_MAX)
			return SMTP_IO_TOOLONG;
		e = io_read(io, io->rbuf + io->rlen,
		    sizeof(io->rbuf) - io->rlen, &got, deadline);
		if (e != SMTP_IO_OK)
			return e;
		io->rlen += got;
	}
}

/* is_keyword - the EHLO line text s[n] starts with keyword kw */
static int
is_keyword(const char *s, size_t n, const char *kw)
{
	size_t	k = strlen(kw);

	return n >= k && strncasecmp(s, kw, k) == 0 && (n == k || s[k] == ' ');
}

enum smtp_io_status
smtp_io_reply(struct smtp_io *io, struct smtp_reply *r, int64_t deadline)
{
	enum smtp_io_status	e;
	char			line[SMTP_IO_LINE_MAX];
	size_t			len;
	int			nlines, code;

	memset(r, 0, sizeof(*r));
	for (nlines = 0; nlines < SMTP_IO_REPLY_LINES; nlines++) {
		if ((e = read_line(io, line, &len, deadline)) != SMTP_IO_OK)
			return e;
		if (len < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' ||
		    (len > 3 && line[3] != ' ' && line[3] != '-'))
			return SMTP_IO_MALFORMED;
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (nlines == 0) {
			r->code = code;
			smtp_io_printable(r->first, sizeof(r->first), line,
			    len);
		} else if (code != r->code)
			return SMTP_IO_MALFORMED;
		else if (len > 4 && is_keyword(line + 4, len - 4, "STARTTLS"))
			r->starttls = 1;
		if (len == 3 || line[3] == ' ')
			return SMTP_IO_OK;
	}
	return SMTP_IO_TOOMANY;
}

enum smtp_io_status
smtp_io_handshake(struct smtp_io *io, int64_t deadline)
{
	enum smtp_io_status	e;
	short			ev;
	int			r;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(io->ssl)) == 1)
			return SMTP_IO_OK;
		e = ssl_want(io, SSL_get_error(io->ssl, r), &ev);
		if ((e = again(io, e, ev, deadline)) != SMTP_IO_OK)
			return e;
	}
}

void
smtp_io_reason(const struct smtp_io *io, enum smtp_io_status e,
    const char *step, char *dst, size_t size)
{
	static const char *const what[] = {
		[SMTP_IO_TIMEOUT] = "-timeout",
		[SMTP_IO_EOF] = ": connection closed",
		[SMTP_IO_TOOLONG] = ": reply line too long",
		[SMTP_IO_TOOMANY] = ": too many reply lines",
		[SMTP_IO_MALFORMED] = ": malformed reply",
	};
	const char	*s;

	if ((size_t)e < sizeof(what) / sizeof(what[0]) && what[e] != NULL)
		snprintf(dst, size, "%s%s", step, what[e]);
	else if (e == SMTP_IO_ERRNO)
		snprintf(dst, size, "%s: %s", step, strerror(io->err));
	else {				/* SMTP_IO_TLS */
		s = ERR_reason_error_string(ERR_peek_error());
		snprintf(dst, size, "%s: %s", step, s != NULL ? s : "TLS error");
	}
}
