/*
 * dns_impl.h - the insides of the DNS seam, shared by dns.c (lookups
 * that block their thread) and dns_async.c (lookups that wait in one
 * loop thread); included by nothing else.
 */
#ifndef DNS_IMPL_H
#define DNS_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>

#include "buf.h"
#include "dns.h"
#include "dns_rr.h"
#include "dns_upstream.h"
#include "status.h"

#define DNS_POOL_DEFAULT 8		/* getdns contexts per handle */
#define DNS_MAX_UPSTREAM 16		/* configured resolvers */
#define DNS_MAX_TRIES	3		/* resolvers tried per query */

#define RR_DS		43

#define RCODE_NOERROR	0
#define RCODE_FORMERR	1
#define RCODE_SERVFAIL	2
#define RCODE_NXDOMAIN	3
#define RCODE_NOTIMP	4
#define RCODE_REFUSED	5

struct dns {
	pthread_mutex_t		 d_lock;
	pthread_cond_t		 d_cond;
	getdns_context		**d_idle;	/* d_max slots */
	size_t			 d_nidle;
	size_t			 d_ncreated;
	size_t			 d_max;		/* contexts, queries at once */
	struct dns_upstream	 d_up[DNS_MAX_UPSTREAM];
	size_t			 d_nup;		/* 0 = /etc/resolv.conf */
	int			 d_timeout;	/* ms, for one query */
	int			 d_tries;	/* attempts per query */
	unsigned long		 d_queries[DNS_Q_MAX];	/* __atomic */
	unsigned long		 d_failures[DNS_Q_MAX];
	getdns_list		*d_ta;		/* trust anchors; NULL: getdns' */
	char			 d_ta_name[DNS_WIRE_MAX * 4 + 2]; /* first owner */
	int			 d_ta_ok;	/* dns_dnssec_usable() verdict */
	getdns_context		**d_primed;	/* contexts that asked for the
						 * anchor's DNSKEY (dns_prime) */
	size_t			 d_nprimed;
	int64_t			 d_ta_next;	/* ms (CLOCK_MONOTONIC): recheck */
	struct dns_loop		*d_loop;	/* dns_async.c; NULL: none */
};




/* a stub-mode context for d (dns.c's settings) */
getdns_context	*dns_ctx_new(struct dns *, struct buf *why);
/* a getdns response as a status: its first reply, its DNSSEC status
 * folded into *sec when validate, why in err */
enum status	 dns_judge(getdns_dict *resp, int validate,
		    getdns_dict **reply, enum dns_sec *sec, struct buf *err);
/* count one query for dns_stats() */
void		 dns_count(struct dns *, uint16_t type, enum status);
/* A and AAAA answers as dns_addr()'s one (v6 is emptied) */
enum status	 dns_addr_merge(enum status st4, struct dns_rrset *out,
		    const char *why4, enum status st6, struct dns_rrset *v6,
		    const char *why6, struct buf *why);

/*
 * One lookup's way along a CNAME chain (STS-TXT-7): dns_q_init(), then
 * ask dns_q_next()'s name and hand the judged reply to dns_q_step()
 * until it returns 0; dns_q_end() gives the status and why.
 */
struct dns_q {
	uint16_t		 type;
	int			 validate;
	const char		*name;		/* borrowed until dns_q_end */
	struct dns_name		 cur, asked;
	struct buf		 qname, err;
	int			 hops;
	enum dns_sec		 sec;
	struct dns_rrset	*out;
};
int		 dns_q_init(struct dns_q *, const char *name, uint16_t type,
		    int validate, struct dns_rrset *out);
const char	*dns_q_next(struct dns_q *);
int		 dns_q_step(struct dns_q *, enum status *st,
		    getdns_dict *reply);
enum status	 dns_q_end(struct dns_q *, enum status, struct buf *why);

#endif
