/*
 * dns_rr.h - from getdns replies to our records (pure: no I/O, no locks)
 *
 * SYNOPSIS
 *	dns_rr_name_from_text("mx.example.com", &n);
 *	st = dns_rr_answer(answer_list, type, &cur, out, why);
 *	sec = dns_rr_sec_worst(dns_rr_sec_of(reply), sec);
 *
 * DESCRIPTION
 *	What dns.c does with a reply once getdns has it: domain names in
 *	wire form, the answer section walked along a CNAME chain (cur is
 *	the name being answered, updated as the chain is followed), each
 *	record decoded (TXT joined, MX with its preference, A/AAAA as text,
 *	TLSA as "usage selector type hex", bounded in size), MX sorted by
 *	preference, and a reply's DNSSEC status.  Remote bytes are bounded
 *	and checked here; a record that does not decode is ST_INVALID with
 *	the reason.  dns.c is the seam that asks; this module only reads.
 */
#ifndef DNS_RR_H
#define DNS_RR_H

#include <stddef.h>
#include <stdint.h>

#include <getdns/getdns.h>

#include "buf.h"
#include "dns.h"
#include "status.h"

#define DNS_MAX_HOPS	8		/* CNAMEs followed, all queries together */
#define DNS_TXT_MAX	65536		/* bytes in one joined TXT record */
#define DNS_WIRE_MAX	255		/* RFC 1035 3.1 */
#define RR_A		1
#define RR_CNAME	5
#define RR_MX		15
#define RR_TXT		16
#define RR_AAAA		28
#define RR_DNSKEY	48
#define RR_TLSA		52
#define DNS_TLSA_MAX	1024		/* bytes of certificate association data */
#define CLASS_IN	1

/* A domain name in uncompressed wire form. */
struct dns_name {
	uint8_t		 dn_wire[DNS_WIRE_MAX];
	size_t		 dn_len;
};

const char	*dns_rr_type_str(uint16_t type);
int	dns_rr_name_from_text(const char *s, struct dns_name *n);
int	dns_rr_name_from_bindata(const getdns_bindata *b, struct dns_name *n);
int	dns_rr_name_eq(const struct dns_name *a, const struct dns_name *b);
void	dns_rr_name_text(const struct dns_name *n, struct buf *out);
int	dns_rr_owner(const getdns_dict *rr, struct dns_name *n);
void	dns_rr_add(struct dns_rrset *out, char *s, size_t len, unsigned pref,
	    int want_pref);
enum status	dns_rr_decode(const getdns_dict *rr, uint16_t type,
		    struct dns_rrset *out, struct buf *why);
enum status	dns_rr_answer(const getdns_list *ans, uint16_t type,
		    struct dns_name *cur, int *hops, struct dns_rrset *out,
		    struct buf *why);
void	dns_rr_sort_mx(struct dns_rrset *rs);

#endif
