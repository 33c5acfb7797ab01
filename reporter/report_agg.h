/*
 * report_agg.h - aggregate one UTC day of journal sessions per policy
 * domain (RFC 8460 section 4)
 *
 * SYNOPSIS
 *	struct report_agg *a = report_agg_new(only_domain);
 *	journal_read_day(..., report_agg_cb, a, &st);
 *	n = report_agg_domains(a, &doms);	(sorted; owned by a)
 *	report_agg_free(a);
 *
 * DESCRIPTION
 *	report_agg_add() counts one journal record.  Only session records
 *	count; sessions whose src is "report" are our own report
 *	deliveries and are skipped (RPT-MAIL-8: the loop guard).  Within a
 *	policy domain, one policy group per distinct (policy-type, policy
 *	hash); the hash names the exact archived policy text, so the text
 *	and its mx-host list are a function of it.  Failures are grouped by
 *	the RFC tuple (result-type, sending-mta-ip, receiving-mx-hostname,
 *	receiving-mx-helo, receiving-ip, additional-information,
 *	failure-reason-code) with a count.  IP addresses are normalised
 *	(RPT-JSON-5: RFC 5952 text for IPv6) before grouping.
 *
 *	Memory grows with the number of distinct groups, never with the
 *	number of records: strings are copied into an arena only when a
 *	group is created, and lookups use open-addressing hash tables.
 *
 *	report_agg_domains() sorts everything (domains by name, policies
 *	by type and hash, failures by their tuple), so the output of a
 *	given journal is deterministic whatever the record order.
 *
 * OWNERSHIP
 *	All returned structures belong to the aggregate and live until
 *	report_agg_free().  Pure: no I/O, no logging.
 */
#ifndef REPORT_AGG_H
#define REPORT_AGG_H

#include <stddef.h>

#include "journal_fmt.h"
#include "tlsrpt_types.h"

struct report_fail {
	struct report_fail	*f_next;	/* in the policy, then sorted */
	struct report_fail	*f_hnext;	/* hash chain */
	unsigned long		 f_hash;
	const void		*f_policy;
	enum tlsrpt_result	 f_result;
	const char		*f_sip, *f_mx, *f_helo, *f_rip, *f_info,
				*f_reason;	/* "" when absent */
	unsigned long		 f_count;
};

struct report_policy {
	struct report_policy	*p_next;
	char			 p_ptype[16];	/* "sts", "no-policy-found", "tlsa" */
	char			 p_phash[65];	/* "" when no policy text */
	unsigned long		 p_success;
	unsigned long		 p_failure;
	struct report_fail	*p_fails;	/* sorted after report_agg_domains */
	size_t			 p_nfails;
	void			*p_user;	/* for the caller (policy text) */
};

struct report_domain {
	const char		*d_name;
	unsigned long		 d_hash;
	struct report_domain	*d_hnext;
	struct report_policy	*p_list;	/* sorted after report_agg_domains */
	size_t			 d_npolicies;
	unsigned long		 d_sessions;
};

struct report_agg_stats {
	unsigned long	records;	/* all records seen */
	unsigned long	sessions;	/* counted sessions */
	unsigned long	own_reports;	/* skipped: src=report (RPT-MAIL-8) */
	unsigned long	ignored;	/* deferrals, other domains */
	unsigned long	bad;		/* sessions without domain or type */
};

struct report_agg;

/* only_domain: NULL or a domain to keep (--domain); copied */
struct report_agg	*report_agg_new(const char *only_domain);
/* report_agg_omit_sending_ip - leave sending-mta-ip out (privacy):
 * failures that differ only in it are one failure-details entry */
void			 report_agg_omit_sending_ip(struct report_agg *);
void			 report_agg_free(struct report_agg *);
/* report_agg_add - count one record; 1 counted, 0 skipped */
int			 report_agg_add(struct report_agg *,
			    const struct journal_rec *);
/* report_agg_cb - journal_read_day() callback around report_agg_add */
int			 report_agg_cb(void *agg, const struct journal_rec *);
/* report_agg_domains - sorted domain array (owned by the aggregate) */
size_t			 report_agg_domains(struct report_agg *,
			    struct report_domain ***out);
const struct report_agg_stats *report_agg_stats(const struct report_agg *);
/* bytes held by the arena and tables (for the benchmark) */
size_t			 report_agg_memory(const struct report_agg *);

#endif
