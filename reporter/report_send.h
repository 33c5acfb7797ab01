/*
 * report_send.h - deliver one report to one rua destination
 *
 * SYNOPSIS
 *	struct report_send *s = report_send_new(conf, dns, from, helo);
 *	st = s->smtp(s, to, msg, len, why);
 *	st = s->https(s, url, gz, gzlen, why);
 *
 * DESCRIPTION
 *	smtp submits a complete message over SMTP (libcurl smtp://) to
 *	report_smtp (host:port, default localhost:25) with MAIL FROM the
 *	configured report sender, which the milter exempts (RPT-MAIL-8).
 *	With report_smtp_tls = starttls the relay must offer STARTTLS
 *	and present a certificate valid for its name; otherwise no TLS
 *	is asked for, so reports go out despite TLS trouble (RPT-TXT-12,
 *	RPT-MAIL-9) through a relay that is normally local.
 *	ST_OK: the relay accepted the message; ST_INVALID: a permanent
 *	5xx refusal; ST_TEMPFAIL: anything else.
 *
 *	https POSTs the gzipped report with Content-Type
 *	application/tlsrpt+gzip (RPT-HTTP-1) through common/net/http.c.  The
 *	host is resolved with getdns (the configured resolvers) and
 *	pinned, never through libc.  Only a 2xx counts as delivered
 *	(RPT-HTTP-2); the certificate is validated against ca_file.
 *	ST_OK, or ST_TEMPFAIL with the reason.
 *
 *	The two entry points are function pointers so tests can replace
 *	them.  Neither logs; the caller does.
 */
#ifndef REPORT_SEND_H
#define REPORT_SEND_H

#include <stddef.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "status.h"

struct report_send {
	enum status	(*smtp)(struct report_send *, const char *to,
			    const char *msg, size_t len, struct buf *why);
	enum status	(*https)(struct report_send *, const char *url,
			    const void *body, size_t len, struct buf *why);
	const struct conf *conf;
	struct dns	*dns;
	const char	*from;		/* envelope sender */
	const char	*helo;
	void		*arg;		/* for test senders */
};

struct report_send	*report_send_new(const struct conf *, struct dns *,
			    const char *from, const char *helo);
void			 report_send_free(struct report_send *);
/* report_send_https_split - host, port and validity of an https URL */
int			 report_send_https_split(const char *url, char *host,
			    size_t hsize, int *port);

#endif
