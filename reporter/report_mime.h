/*
 * report_mime.h - the report mail (RFC 8460 section 5.3)
 *
 * SYNOPSIS
 *	report_mime(&mail, &out, why);
 *
 * DESCRIPTION
 *	report_mime() builds one complete message with CRLF line ends:
 *	From, To, Subject in the tlsrpt-subject form (RPT-MAIL-5), Date,
 *	Message-ID, TLS-Report-Domain and TLS-Report-Submitter
 *	(RPT-MAIL-3), TLS-Required: No (RFC 8689; the report must go out
 *	despite TLS trouble, RPT-MAIL-9), Auto-Submitted: auto-generated,
 *	MIME-Version, and a multipart/report; report-type="tlsrpt" body
 *	(RPT-MAIL-2) of a short text/plain part and the gzipped report as
 *	application/tlsrpt+gzip, base64, with Content-Disposition:
 *	attachment and the section 5.1 file name (RPT-MAIL-6).
 *
 *	The Report-ID of the Subject and the Message-ID are both
 *	<report-id@submitter>, the JSON report-id being report-id
 *	(RPT-META-1).  The boundary is derived from the report-id, so the
 *	output is a function of the input (tests compare bytes).
 *
 * OWNERSHIP
 *	All inputs are borrowed; the message is appended to out.
 *	Pure: no I/O, no logging.
 */
#ifndef REPORT_MIME_H
#define REPORT_MIME_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "status.h"

struct report_mail {
	const char	*from;		/* addr-spec */
	const char	*to;		/* addr-spec */
	const char	*domain;	/* policy domain */
	const char	*submitter;
	const char	*report_id;
	const char	*org;
	time_t		 date;		/* Date: */
	time_t		 start, end;	/* the report's range, for the text */
	unsigned long	 nsuccess, nfailure;
	const char	*filename;
	const void	*gz;
	size_t		 gzlen;
};

enum status	report_mime(const struct report_mail *, struct buf *out,
		    struct buf *why);
/* report_mime_date - RFC 5322 date-time in UTC ("Sun, 02 Aug 2026 ...") */
void		report_mime_date(time_t, char *buf, size_t size);

#endif
