/*
 * report_mime.c - the report mail (RFC 8460 section 5.3)
 *
 * Every header value we write is ASCII we control or have checked
 * (domains, addr-specs, the report-id), so no RFC 2047 encoding is
 * needed; report_mime() refuses CR, LF and non-ASCII in them anyway.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "report_mime.h"
#include "timefmt.h"
#include "xmalloc.h"

void
report_mime_date(time_t t, char *buf, size_t size)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    day[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
header_safe(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* put_base64 - 76-column base64 lines, CRLF */
static void
put_base64(struct buf *out, const unsigned char *p, size_t n)
{
	unsigned char	line[77];
	size_t		chunk;
	int		k;

	while (n > 0) {
		chunk = n > 57 ? 57 : n;	/* 57 bytes -> 76 characters */
		k = EVP_EncodeBlock(line, p, (int)chunk);
		buf_append(out, line, (size_t)k);
		buf_append(out, "\r\n", 2);
		p += chunk;
		n -= chunk;
	}
}

enum status
report_mime(const struct report_mail *m, struct buf *out, struct buf *why)
{
	char	date[64], t0[TIMEFMT_LEN], t1[TIMEFMT_LEN];
	char	bnd[80];

	if (!header_safe(m->from) || !header_safe(m->to) ||
	    !header_safe(m->domain) || !header_safe(m->submitter) ||
	    !header_safe(m->report_id) || !header_safe(m->filename) ||
	    !header_safe(m->org) || strchr(m->filename, '"') != NULL) {
		buf_printf(why, "unsafe or empty header value");
		return ST_INVALID;
	}
	report_mime_date(m->date, date, sizeof(date));
	snprintf(bnd, sizeof(bnd), "=_tlsrpt_%s", m->report_id);
	buf_printf(out,
	    "From: %s\r\n"
	    "To: %s\r\n"
	    "Subject: Report Domain: %s Submitter: %s Report-ID: <%s@%s>\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s@%s>\r\n"
	    "TLS-Report-Domain: %s\r\n"
	    "TLS-Report-Submitter: %s\r\n"
	    "TLS-Required: No\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a multi-part message in MIME format.\r\n"
	    "\r\n",
	    m->from, m->to, m->domain, m->submitter, m->report_id,
	    m->submitter, date, m->report_id, m->submitter, m->domain,
	    m->submitter, bnd);
	buf_printf(out,
	    "--%s\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "This is an aggregate TLS report (RFC 8460, SMTP TLS Reporting)\r\n"
	    "from %s for the policy domain %s.\r\n"
	    "\r\n"
	    "Period:   %s to %s\r\n"
	    "Sessions: %lu successful, %lu failed\r\n"
	    "Report:   %s\r\n"
	    "\r\n"
	    "The report is attached as application/tlsrpt+gzip.\r\n"
	    "\r\n",
	    bnd, m->org, m->domain, timefmt_rfc3339(m->start, t0),
	    timefmt_rfc3339(m->end, t1), m->nsuccess, m->nfailure,
	    m->report_id);
	buf_printf(out,
	    "--%s\r\n"
	    "Content-Type: application/tlsrpt+gzip;\r\n"
	    "\tname=\"%s\"\r\n"
	    "Content-Disposition: attachment;\r\n"
	    "\tfilename=\"%s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n",
	    bnd, m->filename, m->filename);
	put_base64(out, m->gz, m->gzlen);
	buf_printf(out, "--%s--\r\n", bnd);
	if (out->b_trunc) {
		buf_printf(why, "report mail too large");
		return ST_INTERNAL;
	}
	return ST_OK;
}
