/*
 * fuzz_dns_rr - libFuzzer target for DNS answers as the daemon reads
 * them: the input is a DNS message in wire form (what a resolver or a
 * hostile server sends), turned into a getdns reply dict by getdns
 * itself (getdns_wire2msg_dict, as getdns does for an answer off the
 * wire), then walked by dns_rr_answer() for each record type the daemon
 * asks (TXT, MX, A, AAAA, TLSA, DNSKEY) from the question's name along
 * the CNAME chain, as dns.c's dns_query() does, MX sorted by preference.
 *
 * Invariants (abort() on violation):
 *   - ST_OK has 1..DNS_MAX_RR records, ST_NOTFOUND none, ST_INVALID a
 *     reason; no other status;
 *   - CNAME hops never pass DNS_MAX_HOPS (+1: the one refused);
 *   - a TXT record is at most DNS_TXT_MAX bytes; every other record is
 *     text of its stated length: an MX host is a presentation name of at
 *     most 4 * 255 bytes in [a-z0-9-_.\], with a preference <= 65535,
 *     sorted ascending; A/AAAA text parses back (inet_pton); TLSA is
 *     "u s m hex" with at most DNS_TLSA_MAX bytes of data;
 *
 * getdns' own wire parser (1.6/1.7) reads past the end of some
 * malformed messages (a truncated RR, RDLENGTH past the end:
 * getdnsapi/getdns#549).  In the daemon getdns reads an answer into a
 * buffer larger than the answer, so those reads stay inside it; here
 * the message is copied into a zeroed static buffer likewise, so the
 * campaign finds our bugs, not that one again.  README "Reliability".
 */
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>

#include "buf.h"
#include "dns.h"
#include "dns_rr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint16_t types[] = { RR_TXT, RR_MX, RR_A, RR_AAAA, RR_TLSA,
    RR_DNSKEY };

static void
check_rec(uint16_t type, const struct dns_rrset *rs, size_t i)
{
	const char	*s = rs->rr[i], *c;
	unsigned char	 ip[16];
	unsigned	 u, sel, mt;
	int		 n = 0;

	if (s == NULL)
		abort();
	if (type == RR_TXT) {
		if (rs->len[i] > DNS_TXT_MAX)
			abort();
		return;
	}
	if (strlen(s) != rs->len[i])
		abort();
	switch (type) {
	case RR_MX:
		if (rs->len[i] > 4 * DNS_WIRE_MAX || rs->pref[i] > 65535 ||
		    (i > 0 && rs->pref[i - 1] > rs->pref[i]))
			abort();
		for (c = s; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' &&
			    *c <= '9') || *c == '-' || *c == '_' || *c == '.' ||
			    *c == '\\'))
				abort();
		break;
	case RR_A:
		if (inet_pton(AF_INET, s, ip) != 1)
			abort();
		break;
	case RR_AAAA:
		if (inet_pton(AF_INET6, s, ip) != 1)
			abort();
		break;
	case RR_TLSA:
		if (sscanf(s, "%u %u %u %n", &u, &sel, &mt, &n) != 3 || n == 0 ||
		    u > 255 || sel > 255 || mt > 255 ||
		    strlen(s + n) % 2 != 0 || strlen(s + n) == 0 ||
		    strlen(s + n) > 2 * DNS_TLSA_MAX ||
		    strspn(s + n, "0123456789abcdef") != strlen(s + n))
			abort();
		break;
	}
}

static void
walk(getdns_list *ans, const struct dns_name *q, uint16_t type)
{
	struct dns_rrset	 rs;
	struct dns_name		 cur = *q, asked;
	struct buf		 why = BUF_INIT, text = BUF_INIT;
	enum status		 st;
	int			 hops = 0, asks = 0;
	size_t			 i;

	memset(&rs, 0, sizeof(rs));
	rs.ttl = UINT32_MAX;
	do {			/* the chain's end asked again, as dns_query() */
		asked = cur;
		buf_reset(&why);
		st = dns_rr_answer(ans, type, &cur, &hops, &rs, &why);
		dns_rr_name_text(&cur, &text);
	} while (st == ST_NOTFOUND && !dns_rr_name_eq(&cur, &asked) &&
	    ++asks < 3);
	if (hops > DNS_MAX_HOPS + 1)
		abort();
	switch (st) {
	case ST_OK:
		if (rs.n == 0 || rs.n > DNS_MAX_RR)
			abort();
		if (type == RR_MX) {
			dns_rr_sort_mx(&rs);
			if (rs.pref == NULL)
				abort();
		}
		for (i = 0; i < rs.n; i++)
			check_rec(type, &rs, i);
		break;
	case ST_NOTFOUND:
		if (rs.n != 0)
			abort();
		break;
	case ST_INVALID:
		if (why.b_len == 0)
			abort();
		break;
	default:
		abort();
	}
	dns_rrset_clear(&rs);
	buf_free(&why);
	buf_free(&text);
}

/* an answer as big as TCP allows, and the slack getdns over-reads */
static uint8_t	wire[65535 + 65536];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	getdns_dict	*msg = NULL, *q;
	getdns_list	*ans;
	getdns_bindata	*qname;
	struct dns_name	 name;
	size_t		 i;

	if (size > 65535)
		return 0;
	memcpy(wire, data, size);
	if (getdns_wire2msg_dict(wire, size, &msg) != GETDNS_RETURN_GOOD) {
		memset(wire, 0, size);
		return 0;
	}
	if (getdns_dict_get_list(msg, "answer", &ans) != 0)
		goto out;
	/* the name asked: the question's, or one the corpus uses */
	if (getdns_dict_get_dict(msg, "question", &q) != 0 ||
	    getdns_dict_get_bindata(q, "qname", &qname) != 0 ||
	    dns_rr_name_from_bindata(qname, &name) == -1)
		(void)dns_rr_name_from_text("example.com", &name);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		walk(ans, &name, types[i]);
out:
	getdns_dict_destroy(msg);
	memset(wire, 0, size);
	return 0;
}
