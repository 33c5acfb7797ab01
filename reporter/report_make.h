/*
 * report_make.h - from an aggregated domain to the bytes that are sent
 *
 * SYNOPSIS
 *	struct report_make_ctx *x = report_make_ctx_new(conf, why);
 *	report_make_ctx_attach(x, doms, n);		(policy texts, once)
 *	report_make(x, day, dom, &r, why);	(JSON + gzip; thread-safe)
 *	report_make_mail(x, &r, to, date, &msg, &len, why);
 *							(MIME + DKIM)
 *	report_make_clear(&r);
 *	report_make_ctx_free(x);
 *
 * DESCRIPTION
 *	report_make_ctx_new() settles the reporter's identity from the
 *	configuration and checks it: organization-name (report_org_name,
 *	else the host name), contact-info (report_contact, an addr-spec),
 *	the submitter (the domain of contact-info, RPT-MAIL-3), the
 *	envelope sender and From (report_from), and the DKIM key when
 *	dkim_domain is set (dkim_selector and dkim_key_file are then
 *	required).  ST_INVALID with the reason if any is unusable.
 *
 *	report_make_ctx_attach() loads the archived policy text of every
 *	policy group (policy-string and mx-host; one load per distinct
 *	text) and hangs it on p_user.  After it, report_make() and
 *	report_make_mail() only read the context, so several threads may
 *	call them at once.
 *
 * OWNERSHIP
 *	struct report_made and *msg are the caller's
 *	(report_make_clear(), free()).  Does not log.
 */
#ifndef REPORT_MAKE_H
#define REPORT_MAKE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "dkim.h"
#include "report_agg.h"
#include "report_build.h"
#include "status.h"

struct report_make_ctx {
	const struct conf	*conf;
	char			*org;
	char			*contact;
	char			*submitter;
	char			*from;
	char			*helo;
	struct dkim_key		*dkim;		/* NULL: unsigned */
	unsigned long		 ptext_missing;	/* archive misses */
	void			*ptexts;	/* cache by policy hash */
	/* where policy texts come from: NULL, the local archive
	 * (policy_archive_text); the fleet reads them from Redis */
	char			*(*ptext_load)(void *arg, const char *hash,
				    size_t *len);
	void			*ptext_arg;
};

struct report_made {
	char		 domain[256];
	char		 day[11];
	char		 report_id[REPORT_ID_LEN];
	char		 filename[400];
	time_t		 start, end;
	unsigned long	 nsuccess, nfailure;
	char		*json;
	struct buf	 gz;
};

struct report_make_ctx	*report_make_ctx_new(const struct conf *, struct buf *why);
void			 report_make_ctx_free(struct report_make_ctx *);
void			 report_make_ctx_attach(struct report_make_ctx *,
			    struct report_domain **, size_t);
enum status		 report_make(const struct report_make_ctx *, const char *day,
			    const struct report_domain *, struct report_made *,
			    struct buf *why);
/* report_make_meta - fill identity fields without JSON (stored reports) */
void			 report_make_meta(const struct report_make_ctx *,
			    const char *day, const char *domain,
			    struct report_made *);
enum status		 report_make_mail(const struct report_make_ctx *,
			    const struct report_made *, const char *to,
			    time_t date, char **msg, size_t *len,
			    struct buf *why);
void			 report_make_clear(struct report_made *);

#endif
