/*
 * smtp_io.h - the client side of an SMTP connection, plain or TLS, with
 * deadlines (for tls_probe.c)
 *
 * A struct smtp_io wraps a non-blocking socket and, after STARTTLS, an
 * OpenSSL SSL on it.  Every call takes an absolute deadline on the
 * monotonic clock (clock_mono_ms()) and waits with poll(); nothing
 * blocks beyond it.
 * Replies are read a line at a time, a line at most SMTP_IO_LINE_MAX
 * bytes with its CRLF (RFC 5321 4.5.3.1.5) and a reply at most
 * SMTP_IO_REPLY_LINES lines, so a flooding server costs one kilobyte of
 * buffer and a deadline.
 *
 * Never logs.  Writes never raise SIGPIPE in plain text; TLS writes go
 * through OpenSSL's socket BIO (the caller ignores SIGPIPE).
 */
#ifndef SMTP_IO_H
#define SMTP_IO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define SMTP_IO_LINE_MAX	1000	/* one reply line with CRLF */
#define SMTP_IO_REPLY_LINES	100

/* Outcomes of one read, write or wait. */
enum smtp_io_status {
	SMTP_IO_OK = 0,
	SMTP_IO_TIMEOUT,
	SMTP_IO_EOF,
	SMTP_IO_TOOLONG,	/* line over SMTP_IO_LINE_MAX */
	SMTP_IO_TOOMANY,	/* reply over SMTP_IO_REPLY_LINES */
	SMTP_IO_MALFORMED,	/* not an SMTP reply */
	SMTP_IO_ERRNO,		/* io->err says */
	SMTP_IO_TLS		/* the OpenSSL error queue says */
};

struct smtp_io {
	int		 fd;
	SSL		*ssl;		/* NULL while plain text */
	int64_t		 total;		/* deadline of the whole exchange */
	int		 step_ms;	/* each step's share */
	int		 err;		/* errno for SMTP_IO_ERRNO */
	size_t		 rlen;		/* bytes read ahead in rbuf */
	char		 rbuf[SMTP_IO_LINE_MAX + 24];
};

struct smtp_reply {
	int	code;
	int	starttls;		/* an EHLO keyword line is STARTTLS */
	char	first[256];		/* first line, printable */
};

/* smtp_io_step - a new step's deadline: step_ms, never past total */
int64_t		smtp_io_step(const struct smtp_io *);
/* smtp_io_wait - poll for events ev until deadline */
enum smtp_io_status smtp_io_wait(struct smtp_io *, short ev, int64_t deadline);
enum smtp_io_status smtp_io_write(struct smtp_io *, const char *, size_t,
		    int64_t deadline);
/* smtp_io_reply - one (multi-line) SMTP reply, RFC 5321 4.2 */
enum smtp_io_status smtp_io_reply(struct smtp_io *, struct smtp_reply *,
		    int64_t deadline);
/* smtp_io_handshake - SSL_connect on io->ssl with a deadline */
enum smtp_io_status smtp_io_handshake(struct smtp_io *, int64_t deadline);
/* smtp_io_reason - "step-timeout", "step: connection closed", ... */
void		smtp_io_reason(const struct smtp_io *, enum smtp_io_status,
		    const char *step, char *dst, size_t size);
/* smtp_io_printable - n bytes of s into dst, non-printables as '?' */
void		smtp_io_printable(char *dst, size_t size, const char *s,
		    size_t n);

#endif
