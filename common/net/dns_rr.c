/*
 * dns_rr.c - from getdns replies to our records (see dns_rr.h)
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>

#include "buf.h"
#include "dns.h"
#include "dns_rr.h"
#include "status.h"
#include "xmalloc.h"

/* dns_rr_type_str - a record type's mnemonic */
const char *
dns_rr_type_str(uint16_t type)
{
	switch (type) {
	case RR_A:
		return "A";
	case RR_AAAA:
		return "AAAA";
	case RR_MX:
		return "MX";
	case RR_TXT:
		return "TXT";
	case RR_TLSA:
		return "TLSA";
	case RR_DNSKEY:
		return "DNSKEY";
	}
	return "?";
}

/* dns_rr_name_from_text - name as text (no escapes) to wire form */
int
dns_rr_name_from_text(const char *s, struct dns_name *n)
{
	const char	*p = s, *e, *end;
	size_t		 len = strlen(s), l, o = 0;

	if (strcmp(s, ".") == 0) {		/* the root (trust anchors) */
		n->dn_wire[0] = 0;
		n->dn_len = 1;
		return 0;
	}
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return -1;
	end = s + len;
	for (;;) {
		if ((e = memchr(p, '.', (size_t)(end - p))) == NULL)
			e = end;
		l = (size_t)(e - p);
		if (l == 0 || l > 63)
			return -1;
		n->dn_wire[o++] = (uint8_t)l;
		memcpy(n->dn_wire + o, p, l);
		o += l;
		if (e == end)
			break;
		p = e + 1;
	}
	n->dn_wire[o++] = 0;
	n->dn_len = o;
	return 0;
}

/* dns_rr_name_from_bindata - check and copy a wire name from getdns */
int
dns_rr_name_from_bindata(const getdns_bindata *b, struct dns_name *n)
{
	size_t	o = 0;

	if (b == NULL || b->data == NULL || b->size == 0 ||
	    b->size > DNS_WIRE_MAX)
		return -1;
	while (o < b->size && b->data[o] != 0) {
		if (b->data[o] > 63)
			return -1;	/* compression or extended label */
		o += (size_t)b->data[o] + 1;
	}
	if (o + 1 != b->size)
		return -1;
	memcpy(n->dn_wire, b->data, b->size);
	n->dn_len = b->size;
	return 0;
}

int
dns_rr_name_eq(const struct dns_name *a, const struct dns_name *b)
{
	size_t	i;
	uint8_t	x, y;

	if (a->dn_len != b->dn_len)
		return 0;
	for (i = 0; i < a->dn_len; i++) {
		x = a->dn_wire[i];
		y = b->dn_wire[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

/*
 * dns_rr_name_text - lower-case presentation form without the trailing dot;
 * the root is "".  Label length bytes are valid (dns_name_from_*).
 */
void
dns_rr_name_text(const struct dns_name *n, struct buf *out)
{
	size_t	o = 0, i, l;
	uint8_t	c;

	buf_reset(out);
	buf_append(out, "", 0);
	while ((l = n->dn_wire[o]) != 0) {
		if (o > 0)
			buf_putc(out, '.');
		for (i = o + 1; i <= o + l; i++) {
			c = n->dn_wire[i];
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_')
				buf_putc(out, c);
			else
				buf_printf(out, "\\%03u", c);
		}
		o += l + 1;
	}
}

/* dns_rr_owner - owner name of an RR, or -1 */
int
dns_rr_owner(const getdns_dict *rr, struct dns_name *n)
{
	getdns_bindata	*b;

	if (getdns_dict_get_bindata(rr, "name", &b) != 0)
		return -1;
	return dns_rr_name_from_bindata(b, n);
}

/* dns_rr_add - append one record to out */
void
dns_rr_add(struct dns_rrset *out, char *s, size_t len, unsigned pref,
    int want_pref)
{
	out->rr = xreallocarray(out->rr, out->n + 1, sizeof(*out->rr));
	out->len = xreallocarray(out->len, out->n + 1, sizeof(*out->len));
	if (want_pref) {
		out->pref = xreallocarray(out->pref, out->n + 1,
		    sizeof(*out->pref));
		out->pref[out->n] = pref;
	}
	out->rr[out->n] = s;
	out->len[out->n] = len;
	out->n++;
}

/* dns_rr_decode - rdata of one record of the asked type into out */
enum status
dns_rr_decode(const getdns_dict *rr, uint16_t type, struct dns_rrset *out,
    struct buf *why)
{
	getdns_dict	*rdata;
	getdns_list	*strs;
	getdns_bindata	*b;
	struct buf	 text = BUF_INIT;
	struct dns_name	 n;
	char		 ip[INET6_ADDRSTRLEN];
	size_t		 ns, i;
	uint32_t	 pref;

	if (getdns_dict_get_dict(rr, "rdata", &rdata) != 0)
		goto bad;
	switch (type) {
	case RR_TXT:
		if (getdns_dict_get_list(rdata, "txt_strings", &strs) != 0 ||
		    getdns_list_get_length(strs, &ns) != 0)
			goto bad;
		buf_init(&text, DNS_TXT_MAX);
		buf_append(&text, "", 0);
		for (i = 0; i < ns; i++) {
			if (getdns_list_get_bindata(strs, i, &b) != 0)
				goto bad;
			if (b->size > 0 && buf_append(&text, b->data,
			    b->size) == -1) {
				buf_free(&text);
				buf_printf(why, "TXT record longer than %d "
				    "bytes", DNS_TXT_MAX);
				return ST_INVALID;
			}
		}
		i = text.b_len;
		dns_rr_add(out, buf_release(&text), i, 0, 0);
		return ST_OK;
	case RR_MX:
		if (getdns_dict_get_int(rdata, "preference", &pref) != 0 ||
		    pref > 65535 ||
		    getdns_dict_get_bindata(rdata, "exchange", &b) != 0 ||
		    dns_rr_name_from_bindata(b, &n) == -1)
			goto bad;
		dns_rr_name_text(&n, &text);
		i = text.b_len;
		dns_rr_add(out, buf_release(&text), i, pref, 1);
		return ST_OK;
	case RR_A:
	case RR_AAAA:
		if (getdns_dict_get_bindata(rdata, type == RR_A ?
		    "ipv4_address" : "ipv6_address", &b) != 0 ||
		    b->size != (type == RR_A ? 4u : 16u) ||
		    inet_ntop(type == RR_A ? AF_INET : AF_INET6, b->data, ip,
		    sizeof(ip)) == NULL)
			goto bad;
		dns_rr_add(out, xstrdup(ip), strlen(ip), 0, 0);
		return ST_OK;
	case RR_DNSKEY:				/* dns_dnssec_usable() */
		dns_rr_add(out, xstrdup("DNSKEY"), 6, 0, 0);
		return ST_OK;
	case RR_TLSA: {
		uint32_t	u, sel, mt;

		if (getdns_dict_get_int(rdata, "certificate_usage", &u) != 0 ||
		    getdns_dict_get_int(rdata, "selector", &sel) != 0 ||
		    getdns_dict_get_int(rdata, "matching_type", &mt) != 0 ||
		    u > 255 || sel > 255 || mt > 255 ||
		    getdns_dict_get_bindata(rdata,
		    "certificate_association_data", &b) != 0 ||
		    b->size == 0)
			goto bad;
		if (b->size > DNS_TLSA_MAX) {
			buf_printf(why, "TLSA data longer than %d bytes",
			    DNS_TLSA_MAX);
			return ST_INVALID;
		}
		buf_printf(&text, "%u %u %u ", u, sel, mt);
		for (i = 0; i < b->size; i++)
			buf_printf(&text, "%02x", b->data[i]);
		i = text.b_len;
		dns_rr_add(out, buf_release(&text), i, 0, 0);
		return ST_OK;
	}
	}
bad:
	buf_free(&text);
	buf_printf(why, "malformed %s record", dns_rr_type_str(type));
	return ST_INVALID;
}

/*
 * dns_rr_answer - follow the CNAME chain from *cur through the answer
 * section and take the records of type at its end.  *cur becomes the
 * last name of the chain; *hops counts CNAMEs followed so far.  Returns
 * ST_OK with records, ST_NOTFOUND with none (the caller decides whether
 * to ask again for *cur), or ST_INVALID.
 */
enum status
dns_rr_answer(const getdns_list *ans, uint16_t type, struct dns_name *cur,
    int *hops, struct dns_rrset *out, struct buf *why)
{
	getdns_dict	*rr, *rdata;
	getdns_bindata	*b;
	struct dns_name	 owner;
	size_t		 nans, i;
	uint32_t	 t, cls, ttl;
	int		 moved;
	enum status	 st;

	if (getdns_list_get_length(ans, &nans) != 0)
		nans = 0;
	/* Each pass moves one CNAME along the chain. */
	do {
		moved = 0;
		for (i = 0; i < nans; i++) {
			if (getdns_list_get_dict(ans, i, &rr) != 0 ||
			    getdns_dict_get_int(rr, "type", &t) != 0 ||
			    t != RR_CNAME ||
			    getdns_dict_get_int(rr, "class", &cls) != 0 ||
			    cls != CLASS_IN ||
			    dns_rr_owner(rr, &owner) == -1 ||
			    !dns_rr_name_eq(&owner, cur))
				continue;
			if (++*hops > DNS_MAX_HOPS) {
				buf_printf(why, "CNAME chain longer than %d",
				    DNS_MAX_HOPS);
				return ST_INVALID;
			}
			if (getdns_dict_get_dict(rr, "rdata", &rdata) != 0 ||
			    getdns_dict_get_bindata(rdata, "cname", &b) != 0 ||
			    dns_rr_name_from_bindata(b, cur) == -1) {
				buf_puts(why, "malformed CNAME record");
				return ST_INVALID;
			}
			if (getdns_dict_get_int(rr, "ttl", &ttl) == 0 &&
			    ttl < out->ttl)
				out->ttl = ttl;
			moved = 1;
			break;
		}
	} while (moved);

	for (i = 0; i < nans; i++) {
		if (getdns_list_get_dict(ans, i, &rr) != 0 ||
		    getdns_dict_get_int(rr, "type", &t) != 0 || t != type ||
		    getdns_dict_get_int(rr, "class", &cls) != 0 ||
		    cls != CLASS_IN ||
		    dns_rr_owner(rr, &owner) == -1 || !dns_rr_name_eq(&owner, cur))
			continue;
		if (out->n == DNS_MAX_RR) {
			buf_printf(why, "more than %d %s records", DNS_MAX_RR,
			    dns_rr_type_str(type));
			return ST_INVALID;
		}
		if ((st = dns_rr_decode(rr, type, out, why)) != ST_OK)
			return st;
		if (getdns_dict_get_int(rr, "ttl", &ttl) == 0 &&
		    ttl < out->ttl)
			out->ttl = ttl;
	}
	return out->n > 0 ? ST_OK : ST_NOTFOUND;
}

/* dns_rr_sort_mx - stable insertion sort by preference (n <= DNS_MAX_RR) */
void
dns_rr_sort_mx(struct dns_rrset *rs)
{
	size_t		 i, j, len;
	unsigned	 pref;
	char		*s;

	for (i = 1; i < rs->n; i++) {
		s = rs->rr[i];
		len = rs->len[i];
		pref = rs->pref[i];
		for (j = i; j > 0 && rs->pref[j - 1] > pref; j--) {
			rs->rr[j] = rs->rr[j - 1];
			rs->len[j] = rs->len[j - 1];
			rs->pref[j] = rs->pref[j - 1];
		}
		rs->rr[j] = s;
		rs->len[j] = len;
		rs->pref[j] = pref;
	}
}

