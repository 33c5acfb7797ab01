/*
 * report_build.h - the RFC 8460 report: JSON, report-id, file name, gzip
 *
 * SYNOPSIS
 *	report_build_id(submitter, domain, day, id);
 *	report_build_json(&meta, dom, &json, why);
 *	report_build_filename(&meta, domain, name, sizeof(name));
 *	report_build_gzip(json, len, &gz);
 *
 * DESCRIPTION
 *	report_build_json() turns one aggregated policy domain into the
 *	section 4.4 JSON (json-c), members in the RFC's order:
 *	organization-name, date-range, contact-info, report-id, policies.
 *	policies is always an array (RPT-JSON-2); each has policy
 *	(policy-type, policy-string as an array of strings, policy-domain
 *	always, also for no-policy-found, and mx-host as an array of
 *	strings for sts, section 2.10 of the checklist), summary and
 *	failure-details (always an array, possibly empty).  Optional
 *	strings that are empty are left out; nothing is ever null.
 *	Output is pretty-printed with two-space indentation and unescaped
 *	slashes, and is byte-identical for identical input.
 *
 *	Decision (RPT-TIME-1, RPT-TIME-3): the date-range is the whole UTC
 *	day, start-datetime YYYY-MM-DDT00:00:00Z and end-datetime the
 *	next day's T00:00:00Z ("00:00-24:00", end exclusive).  The file
 *	name carries the same two instants as epoch seconds.
 *
 *	Decision (RPT-MAIL-5, RPT-FILE-1): report_build_id() is
 *	YYYYMMDD + 24 hex digits of SHA-256(submitter, domain, day): only
 *	letters and digits, so the same string is the JSON report-id, the
 *	Subject's <id@submitter> left part, the Message-ID left part and
 *	the file name's unique-id.  It depends only on its inputs, so a
 *	rerun after a crash sends the same id.
 *
 *	Size (reporting-anchors.md 11.3: receivers cap reports, often at
 *	10 MB): a policy with more than max_fails failure-details groups
 *	lists only the max_fails with the most failed sessions (ties in
 *	the usual order); the summary still counts every session.
 *
 *	The policy text of each group comes from p_user, a struct
 *	report_ptext the caller attaches (NULL: text unknown, empty
 *	arrays).
 *
 * OWNERSHIP
 *	*json and gz are the caller's.  Pure: no I/O, no logging.
 */
#ifndef REPORT_BUILD_H
#define REPORT_BUILD_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "report_agg.h"
#include "status.h"

#define REPORT_ID_LEN	33	/* 8 + 24 + NUL */
#define REPORT_MEDIA_GZ	"application/tlsrpt+gzip"

struct report_meta {
	const char	*org;		/* organization-name */
	const char	*contact;	/* contact-info mailbox */
	const char	*submitter;	/* domain of contact */
	const char	*report_id;
	time_t		 start;		/* 00:00:00Z of the day */
	time_t		 end;		/* start + 86400 */
	size_t		 max_fails;	/* failure-details per policy; 0: all */
};

struct report_ptext {
	char	**lines;	/* policy-string */
	size_t	  nlines;
	char	**mx;		/* mx-host patterns */
	size_t	  nmx;
};

void		report_build_id(const char *submitter, const char *domain,
		    const char *day, char id[REPORT_ID_LEN]);
enum status	report_build_json(const struct report_meta *,
		    const struct report_domain *, char **json,
		    struct buf *why);
/* sender!policy-domain!begin!end!unique-id.json.gz (RPT-FILE-1) */
void		report_build_filename(const struct report_meta *, const char *domain,
		    char *name, size_t size);
/* report_build_gzip - RFC 1952 member, no name, mtime 0 (deterministic) */
enum status	report_build_gzip(const char *data, size_t len, struct buf *out,
		    struct buf *why);
/* report_build_contact_domain - the domain of an addr-spec, or NULL if it is
 * not local@domain with a plausible domain */
const char	*report_build_contact_domain(const char *contact);

#endif
