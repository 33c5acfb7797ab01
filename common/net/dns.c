/*
 * dns.c - DNS lookups over getdns (stub resolution)
 *
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	struct dns *dns_new(const char *resolvers, int timeout_ms,
 *	    struct buf *why);
 *	enum status dns_txt(struct dns *, const char *name,
 *	    struct dns_rrset *out, struct buf *why);
 *	enum status dns_mx(...);
 *	enum status dns_addr(...);
 *	int dns_set_trust_anchors(struct dns *, const char *file,
 *	    struct buf *why);
 *	enum status dns_mx_sec(...), dns_addr_sec(...), dns_tlsa(...);
 *
 * DESCRIPTION
 *	Every query goes, in getdns stub mode, to the configured resolvers
 *	or to those of /etc/resolv.conf, over UDP with a fallback to TCP
 *	when the answer is truncated.  Names are absolute: no search list,
 *	no suffix is ever appended, and /etc/hosts is not consulted.  The
 *	plain lookups ask for no DNSSEC validation.  timeout_ms bounds each query
 *	(a CNAME target that must be asked for separately is one more
 *	query, and dns_addr() makes two; 0 or less means 5000 ms).  With
 *	several resolvers (from either source) that time is split between
 *	up to DNS_MAX_TRIES of them: getdns sends a query to one resolver
 *	only and, after a timeout, marks it and moves on to the next, so
 *	a dead first resolver costs a share of one query, not every query.
 *
 *	The answer is judged by its rcode: NXDOMAIN, or NOERROR without a
 *	record of the asked type at the end of the CNAME chain, is
 *	ST_NOTFOUND; SERVFAIL, REFUSED, any other rcode, a timeout or no
 *	reply at all is ST_TEMPFAIL.  Only IN-class records of the asked
 *	type whose owner is the last name of the CNAME chain that starts
 *	at the queried name are taken (STS-TXT-7); anything else in the
 *	answer section is ignored.  When the chain ends in a name with no
 *	data in the answer, that name is queried in turn.  A chain of more
 *	than DNS_MAX_HOPS CNAMEs (a loop included) is ST_INVALID, as are
 *	more than DNS_MAX_RR records, a TXT record longer than 64 KiB,
 *	rdata that does not decode, and an answer section with fewer
 *	records than its header announces (getdns drops what it cannot
 *	parse; what it salvages is used).
 *
 *	TXT: the character-strings of one record are joined without
 *	spaces (STS-TXT-6), byte for byte; len[i] is the length and rr[i]
 *	is NUL-terminated but may hold NUL bytes itself.
 *	MX: rr[i] is the exchange in lower case without the trailing dot;
 *	bytes other than letters, digits, '-' and '_' are written as \DDD
 *	so that a hostile name can never look like a different one.  A
 *	null MX (RFC 7505, exchange ".") is a record with rr[i] = "".
 *	Records are sorted by preference, stably (answer order otherwise).
 *	A/AAAA: text from inet_ntop(); IPv4 first.  dns_addr() is ST_OK
 *	when either query gave records (the other's failure is then not
 *	reported); otherwise ST_TEMPFAIL if either failed temporarily,
 *	else ST_INVALID if either answer was unusable, else ST_NOTFOUND.
 *	ttl is the smallest TTL among the records used, CNAMEs included.
 *
 * DNSSEC
 *	dns_mx_sec(), dns_addr_sec() and dns_tlsa() validate: getdns itself
 *	checks the signatures (it asks with the DO and CD bits, so a
 *	validating resolver hands over even bogus data) up to the trust
 *	anchors of dns_set_trust_anchors() (a zone file of DS or DNSKEY
 *	records; before it, getdns' own default).  out->sec is the answer's
 *	status, set on every status (a validated NXDOMAIN is ST_NOTFOUND
 *	with DNS_SEC_SECURE): the weakest over the queries of a CNAME chain
 *	(bogus < indeterminate < insecure < secure); DNS_SEC_UNKNOWN when no
 *	reply came.  A bogus answer is returned as such, with its records:
 *	the caller must never use it as if it were insecure.
 *	TLSA: rr[i] is "usage selector matching-type hex" (RFC 6698 2.2),
 *	the data in lower-case hex; records with over DNS_TLSA_MAX bytes of
 *	data are ST_INVALID.
 *
 * THREAD SAFETY
 *	A getdns context is not thread-safe, so a handle keeps a pool of
 *	up to 8 contexts (dns_set_max_queries() raises it: the daemon
 *	sets fetch_concurrency), created on demand.  A query takes an
 *	idle context (waiting when all are busy), runs synchronously and
 *	gives the context back.  dns_free() must not race with a query.
 *
 * OWNERSHIP
 *	name is borrowed.  out is overwritten (not freed) on entry and on
 *	ST_OK holds new records the caller releases with dns_rrset_clear();
 *	on failure it is empty.
 *
 * DIAGNOSTICS
 *	A status and, when it is not ST_OK, one line appended to why:
 *	"<name> <TYPE>: <reason>", plus " (CNAME target <name>)" when a
 *	chain was followed; dns_addr() joins both lines with "; ".  Bytes
 *	of the name outside printable ASCII are shown as '?'.  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.2, RFC 7505, tests/tools/dns_query.c
 */

#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>

#include "buf.h"
#include "dns.h"
#include "dns_impl.h"
#include "dns_rr.h"
#include "dns_upstream.h"
#include "status.h"
#include "xmalloc.h"

/* dns_ctx_new - a stub-mode context set up as described at the top */
getdns_context *
dns_ctx_new(struct dns *d, struct buf *why)
{
	getdns_context		*ctx = NULL;
	getdns_list		*ups = NULL, *suffix = NULL;
	getdns_dict		*u = NULL;
	getdns_namespace_t	 ns[] = { GETDNS_NAMESPACE_DNS };
	getdns_transport_list_t	 tr[] = { GETDNS_TRANSPORT_UDP,
				    GETDNS_TRANSPORT_TCP };
	getdns_bindata		 addr;
	getdns_return_t		 r;
	const char		*what;
	size_t			 i;

	what = "getdns_context_create";
	if ((r = getdns_context_create(&ctx, d->d_nup == 0)) != 0)
		goto fail;
	what = "resolution type";
	if ((r = getdns_context_set_resolution_type(ctx,
	    GETDNS_RESOLUTION_STUB)) != 0)
		goto fail;
	what = "namespaces";
	if ((r = getdns_context_set_namespaces(ctx, 1, ns)) != 0)
		goto fail;
	what = "transport list";
	if ((r = getdns_context_set_dns_transport_list(ctx, 2, tr)) != 0)
		goto fail;
	what = "append_name";
	if ((r = getdns_context_set_append_name(ctx,
	    GETDNS_APPEND_NAME_NEVER)) != 0)
		goto fail;
	what = "suffix";
	if ((suffix = getdns_list_create()) == NULL) {
		r = GETDNS_RETURN_MEMORY_ERROR;
		goto fail;
	}
	if ((r = getdns_context_set_suffix(ctx, suffix)) != 0)
		goto fail;
	what = "timeout";
	if ((r = getdns_context_set_timeout(ctx,
	    (uint64_t)(d->d_timeout / d->d_tries))) != 0)
		goto fail;
	what = "trust anchors";
	if (d->d_ta != NULL && (r = getdns_context_set_dnssec_trust_anchors(ctx,
	    d->d_ta)) != 0)
		goto fail;
	if (d->d_nup > 0) {
		what = "upstream list";
		if ((ups = getdns_list_create()) == NULL) {
			r = GETDNS_RETURN_MEMORY_ERROR;
			goto fail;
		}
		for (i = 0; i < d->d_nup; i++) {
			if ((u = getdns_dict_create()) == NULL) {
				r = GETDNS_RETURN_MEMORY_ERROR;
				goto fail;
			}
			addr.data = d->d_up[i].du_addr;
			addr.size = d->d_up[i].du_family == AF_INET ? 4 : 16;
			if ((r = getdns_dict_util_set_string(u, "address_type",
			    d->d_up[i].du_family == AF_INET ? "IPv4" :
			    "IPv6")) != 0 ||
			    (r = getdns_dict_set_bindata(u, "address_data",
			    &addr)) != 0 ||
			    (r = getdns_dict_set_int(u, "port",
			    d->d_up[i].du_port)) != 0 ||
			    (r = getdns_list_set_dict(ups, i, u)) != 0)
				goto fail;
			getdns_dict_destroy(u);
			u = NULL;
		}
		if ((r = getdns_context_set_upstream_recursive_servers(ctx,
		    ups)) != 0)
			goto fail;
	}
	getdns_list_destroy(ups);
	getdns_list_destroy(suffix);
	return ctx;
fail:
	buf_printf(why, "getdns: %s: %s", what, getdns_get_errorstr_by_id(r));
	getdns_dict_destroy(u);
	getdns_list_destroy(ups);
	getdns_list_destroy(suffix);
	if (ctx != NULL)
		getdns_context_destroy(ctx);
	return NULL;
}

/* dns_take - an idle context, a new one, or wait for one */
static getdns_context *
dns_take(struct dns *d, struct buf *why)
{
	getdns_context	*ctx = NULL;

	pthread_mutex_lock(&d->d_lock);
	while (d->d_nidle == 0 && d->d_ncreated >= d->d_max)
		pthread_cond_wait(&d->d_cond, &d->d_lock);
	if (d->d_nidle > 0)
		ctx = d->d_idle[--d->d_nidle];
	else {
		/* Under the lock: getdns setup is not known to be reentrant. */
		if ((ctx = dns_ctx_new(d, why)) != NULL)
			d->d_ncreated++;
	}
	pthread_mutex_unlock(&d->d_lock);
	return ctx;
}

static void
dns_give(struct dns *d, getdns_context *ctx)
{
	pthread_mutex_lock(&d->d_lock);
	d->d_idle[d->d_nidle++] = ctx;
	pthread_cond_signal(&d->d_cond);
	pthread_mutex_unlock(&d->d_lock);
}

struct dns *
dns_new(const char *resolvers, int timeout_ms, struct buf *why)
{
	struct dns	*d;
	getdns_context	*ctx;
	getdns_list	*ups;
	const char	*p, *e;
	size_t		 n;

	d = xcalloc(1, sizeof(*d));
	d->d_max = DNS_POOL_DEFAULT;
	d->d_idle = xcalloc(d->d_max, sizeof(*d->d_idle));
	d->d_timeout = timeout_ms > 0 ? timeout_ms : 5000;
	d->d_tries = 1;
	for (p = resolvers; p != NULL && *p != '\0'; p = e) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		if (d->d_nup == DNS_MAX_UPSTREAM) {
			buf_printf(why, "more than %d resolvers",
			    DNS_MAX_UPSTREAM);
			goto fail;
		}
		if (dns_upstream_parse(p, (size_t)(e - p),
		    &d->d_up[d->d_nup], why) == -1)
			goto fail;
		d->d_nup++;
	}
	pthread_mutex_init(&d->d_lock, NULL);
	pthread_cond_init(&d->d_cond, NULL);
	/* One context now, so that a setup error shows at start-up. */
	if ((ctx = dns_take(d, why)) == NULL) {
		pthread_cond_destroy(&d->d_cond);
		pthread_mutex_destroy(&d->d_lock);
		goto fail;
	}
	/*
	 * getdns sends one query to one upstream and, when it times out,
	 * moves on to the next for the following query.  So the time of
	 * a query is shared among up to DNS_MAX_TRIES attempts, one per
	 * resolver, and a dead resolver costs only its share.
	 */
	n = d->d_nup;
	if (n == 0 && getdns_context_get_upstream_recursive_servers(ctx,
	    &ups) == GETDNS_RETURN_GOOD) {
		if (getdns_list_get_length(ups, &n) != GETDNS_RETURN_GOOD)
			n = 1;
		getdns_list_destroy(ups);
	}
	d->d_tries = n < 1 ? 1 : n > DNS_MAX_TRIES ? DNS_MAX_TRIES : (int)n;
	if (d->d_timeout / d->d_tries < 1)
		d->d_tries = 1;
	(void)getdns_context_set_timeout(ctx,
	    (uint64_t)(d->d_timeout / d->d_tries));
	dns_give(d, ctx);
	return d;
fail:
	free(d->d_idle);
	free(d);
	return NULL;
}

void
dns_set_max_queries(struct dns *d, int n)
{
	pthread_mutex_lock(&d->d_lock);
	if (n > 0 && (size_t)n > d->d_max) {
		d->d_idle = xreallocarray(d->d_idle, (size_t)n,
		    sizeof(*d->d_idle));
		d->d_max = (size_t)n;
		pthread_cond_broadcast(&d->d_cond);
	}
	pthread_mutex_unlock(&d->d_lock);
}

void
dns_free(struct dns *d)
{
	size_t	i;

	if (d == NULL)
		return;
	dns_async_stop(d);
	/* Every context is idle: callers do not free a handle in use. */
	for (i = 0; i < d->d_nidle; i++)
		getdns_context_destroy(d->d_idle[i]);
	getdns_list_destroy(d->d_ta);
	free(d->d_primed);
	pthread_cond_destroy(&d->d_cond);
	pthread_mutex_destroy(&d->d_lock);
	free(d->d_idle);
	free(d);
}

void
dns_rrset_clear(struct dns_rrset *rs)
{
	size_t	i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		free(rs->rr[i]);
	free(rs->rr);
	free(rs->len);
	free(rs->pref);
	free(rs->cname);
	memset(rs, 0, sizeof(*rs));
}

/* dns_sec_of - a reply's DNSSEC status */
static enum dns_sec
dns_sec_of(const getdns_dict *reply)
{
	uint32_t	v;

	if (getdns_dict_get_int(reply, "dnssec_status", &v) != 0)
		return DNS_SEC_INDETERMINATE;
	switch (v) {
	case GETDNS_DNSSEC_SECURE:
		return DNS_SEC_SECURE;
	case GETDNS_DNSSEC_INSECURE:
		return DNS_SEC_INSECURE;
	case GETDNS_DNSSEC_BOGUS:
		return DNS_SEC_BOGUS;
	}
	return DNS_SEC_INDETERMINATE;
}

/* dns_sec_worst - the weaker of two statuses (unknown counts as none) */
static enum dns_sec
dns_sec_worst(enum dns_sec a, enum dns_sec b)
{
	static const int rank[] = {
		[DNS_SEC_UNKNOWN] = 0, [DNS_SEC_SECURE] = 1,
		[DNS_SEC_INSECURE] = 2, [DNS_SEC_INDETERMINATE] = 3,
		[DNS_SEC_BOGUS] = 4,
	};

	return rank[a] >= rank[b] ? a : b;
}

/*
 * dns_ask - one query for qname to the resolvers, retried on the next
 * one after a timeout.  On ST_OK *reply is the first reply (rcode
 * NOERROR) inside *resp, which the caller destroys in any case.
 */
static enum status
dns_ask(struct dns *d, getdns_context *ctx, const char *qname, uint16_t type,
    getdns_dict *ext, getdns_dict **resp, getdns_dict **reply,
    enum dns_sec *sec, struct buf *err)
{
	getdns_return_t	 r = GETDNS_RETURN_GOOD;
	uint32_t	 rstatus;
	int		 try;

	for (try = 0; try < d->d_tries; try++) {
		getdns_dict_destroy(*resp);
		*resp = NULL;
		r = getdns_general_sync(ctx, qname, type, ext, resp);
		if (r != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(*resp, "status", &rstatus) != 0 ||
		    rstatus != GETDNS_RESPSTATUS_ALL_TIMEOUT)
			break;
	}
	if (r == GETDNS_RETURN_BAD_DOMAIN_NAME) {
		buf_puts(err, "bad domain name");
		return ST_INVALID;
	}
	if (r != GETDNS_RETURN_GOOD) {
		buf_printf(err, "getdns: %s", getdns_get_errorstr_by_id(r));
		return ST_TEMPFAIL;
	}
	return dns_judge(*resp, ext != NULL, reply, sec, err);
}

enum status
dns_judge(getdns_dict *resp, int validate, getdns_dict **reply,
    enum dns_sec *sec, struct buf *err)
{
	getdns_list	*replies, *ans;
	getdns_dict	*hdr;
	uint32_t	 rstatus, rcode, ancount;
	size_t		 nrep, nans;

	if (resp == NULL) {
		buf_puts(err, "no answer");
		return ST_TEMPFAIL;
	}
	if (getdns_dict_get_int(resp, "status", &rstatus) == 0 &&
	    rstatus == GETDNS_RESPSTATUS_ALL_TIMEOUT) {
		buf_puts(err, "timed out");
		return ST_TEMPFAIL;
	}
	if (getdns_dict_get_list(resp, "replies_tree", &replies) != 0 ||
	    getdns_list_get_length(replies, &nrep) != 0 || nrep == 0 ||
	    getdns_list_get_dict(replies, 0, reply) != 0 ||
	    getdns_dict_get_dict(*reply, "header", &hdr) != 0 ||
	    getdns_dict_get_int(hdr, "rcode", &rcode) != 0) {
		buf_puts(err, "no answer");
		return ST_TEMPFAIL;
	}
	if (validate)
		*sec = dns_sec_worst(*sec, dns_sec_of(*reply));
	switch (rcode) {
	case RCODE_NOERROR:
		break;
	case RCODE_NXDOMAIN:
		buf_puts(err, "NXDOMAIN");
		return ST_NOTFOUND;
	case RCODE_SERVFAIL:
		buf_puts(err, "SERVFAIL");
		return ST_TEMPFAIL;
	case RCODE_REFUSED:
		buf_puts(err, "REFUSED");
		return ST_TEMPFAIL;
	case RCODE_FORMERR:
		buf_puts(err, "FORMERR");
		return ST_TEMPFAIL;
	case RCODE_NOTIMP:
		buf_puts(err, "NOTIMP");
		return ST_TEMPFAIL;
	default:
		buf_printf(err, "rcode %u", rcode);
		return ST_TEMPFAIL;
	}
	/* getdns skips what it cannot parse: count what it kept. */
	if (getdns_dict_get_list(*reply, "answer", &ans) != 0 ||
	    getdns_list_get_length(ans, &nans) != 0)
		nans = 0;
	if (getdns_dict_get_int(hdr, "ancount", &ancount) == 0 &&
	    ancount != nans) {
		buf_printf(err, "malformed answer (%u records announced, "
		    "%zu readable)", ancount, nans);
		return ST_INVALID;
	}
	return ST_OK;
}

/* dns_why - "name TYPE: reason", the name made printable (one line) */
static void
dns_why(struct buf *why, const char *name, uint16_t type, const char *reason)
{
	const unsigned char	*p;
	size_t			 i;

	if (name == NULL)
		buf_puts(why, "(null)");
	p = (const unsigned char *)name;
	for (i = 0; p != NULL && i < 256 && p[i] != '\0'; i++)
		buf_putc(why, p[i] < 0x20 || p[i] > 0x7e ? '?' : p[i]);
	buf_printf(why, " %s: %s", dns_rr_type_str(type), reason);
}

/*
 * dns_prime - before its first validated query a context asks for the
 * DNSKEY RRset of the trust anchor's zone (validated against the
 * anchor): getdns then builds chains below the anchor in that context;
 * without it, answers under an anchor that is not the root came out
 * bogus in the lab.  Once per context and set of anchors.
 */
static void
dns_prime(struct dns *d, getdns_context *ctx)
{
	getdns_dict	*ext, *resp = NULL;
	char		 name[sizeof(d->d_ta_name)];
	size_t		 i;

	pthread_mutex_lock(&d->d_lock);
	for (i = 0; i < d->d_nprimed; i++)
		if (d->d_primed[i] == ctx)
			break;
	snprintf(name, sizeof(name), "%s", d->d_ta_name);
	pthread_mutex_unlock(&d->d_lock);
	if (i < d->d_nprimed || d->d_ta == NULL || name[0] == '\0')
		return;
	if ((ext = getdns_dict_create()) != NULL &&
	    getdns_dict_set_int(ext, "dnssec_return_all_statuses",
	    GETDNS_EXTENSION_TRUE) == 0)
		(void)getdns_general_sync(ctx, name, RR_DNSKEY, ext, &resp);
	getdns_dict_destroy(resp);
	getdns_dict_destroy(ext);
	pthread_mutex_lock(&d->d_lock);
	d->d_primed = xreallocarray(d->d_primed, d->d_nprimed + 1,
	    sizeof(*d->d_primed));
	d->d_primed[d->d_nprimed++] = ctx;
	pthread_mutex_unlock(&d->d_lock);
}

int
dns_q_init(struct dns_q *q, const char *name, uint16_t type, int validate,
    struct dns_rrset *out)
{
	memset(q, 0, sizeof(*q));
	memset(out, 0, sizeof(*out));
	q->type = type;
	q->validate = validate;
	q->out = out;
	q->name = name;
	if (name == NULL || dns_rr_name_from_text(name, &q->cur) == -1)
		return -1;
	out->ttl = UINT32_MAX;
	return 0;
}

const char *
dns_q_next(struct dns_q *q)
{
	q->asked = q->cur;
	dns_rr_name_text(&q->cur, &q->qname);
	return buf_str(&q->qname)[0] ? buf_str(&q->qname) : ".";
}

int
dns_q_step(struct dns_q *q, enum status *st, getdns_dict *reply)
{
	getdns_list	*ans;

	if (*st != ST_OK)
		return 0;
	if (getdns_dict_get_list(reply, "answer", &ans) != 0)
		ans = NULL;
	*st = ans ? dns_rr_answer(ans, q->type, &q->cur, &q->hops, q->out,
	    &q->err) : ST_NOTFOUND;
	if (*st != ST_NOTFOUND)
		return 0;
	if (dns_rr_name_eq(&q->cur, &q->asked)) {
		buf_puts(&q->err, "no records");
		return 0;
	}
	return 1;	/* the chain ended in a name without its data */
}

enum status
dns_q_end(struct dns_q *q, enum status st, struct buf *why)
{
	struct dns_rrset	*out = q->out;

	if (st != ST_OK) {
		dns_why(why, q->name, q->type, buf_str(&q->err));
		if (q->hops > 0) {	/* the last name asked */
			dns_rr_name_text(&q->asked, &q->qname);
			buf_printf(why, " (CNAME target %s)",
			    buf_str(&q->qname));
		}
		dns_rrset_clear(out);
	} else {
		if (out->ttl == UINT32_MAX)
			out->ttl = 0;
		if (q->hops > 0) {	/* the expanded name, RFC 7672 2.2.2 */
			dns_rr_name_text(&q->cur, &q->qname);
			out->cname = xstrdup(buf_str(&q->qname));
		}
	}
	out->sec = q->sec;
	buf_free(&q->qname);
	buf_free(&q->err);
	return st;
}

/* dns_query - one lookup of type, following CNAMEs (STS-TXT-7) */
static enum status
dns_query(struct dns *d, const char *name, uint16_t type, int validate,
    struct dns_rrset *out, struct buf *why)
{
	getdns_context	*ctx;
	getdns_dict	*resp = NULL, *reply = NULL, *ext = NULL;
	struct dns_q	 q;
	enum status	 st;

	if (dns_q_init(&q, name, type, validate, out) == -1) {
		dns_why(why, name, type, "bad domain name");
		return ST_INVALID;
	}
	if ((ctx = dns_take(d, &q.err)) == NULL)
		return dns_q_end(&q, ST_TEMPFAIL, why);
	if (validate)
		dns_prime(d, ctx);
	if (validate && ((ext = getdns_dict_create()) == NULL ||
	    getdns_dict_set_int(ext, "dnssec_return_all_statuses",
	    GETDNS_EXTENSION_TRUE) != 0)) {
		getdns_dict_destroy(ext);
		dns_give(d, ctx);
		buf_puts(&q.err, "getdns: out of memory");
		return dns_q_end(&q, ST_TEMPFAIL, why);
	}
	do
		st = dns_ask(d, ctx, dns_q_next(&q), type, ext, &resp, &reply,
		    &q.sec, &q.err);
	while (dns_q_step(&q, &st, reply));
	getdns_dict_destroy(resp);
	getdns_dict_destroy(ext);
	dns_give(d, ctx);
	return dns_q_end(&q, st, why);
}

/* dns_counted - dns_query() counted for dns_stats() */
static enum status
dns_counted(struct dns *d, const char *name, uint16_t type, int validate,
    struct dns_rrset *out, struct buf *why)
{
	enum status	st = dns_query(d, name, type, validate, out, why);

	dns_count(d, type, st);
	return st;
}

void
dns_count(struct dns *d, uint16_t type, enum status st)
{
	enum dns_qtype	q = type == RR_TXT ? DNS_Q_TXT : type == RR_MX ?
			    DNS_Q_MX : type == RR_A ? DNS_Q_A : DNS_Q_AAAA;

	__atomic_add_fetch(&d->d_queries[q], 1, __ATOMIC_RELAXED);
	if (st == ST_TEMPFAIL || st == ST_INVALID)
		__atomic_add_fetch(&d->d_failures[q], 1, __ATOMIC_RELAXED);
}

void
dns_stats(struct dns *d, struct dns_stats *s)
{
	int	i;

	for (i = 0; i < DNS_Q_MAX; i++) {
		s->queries[i] = __atomic_load_n(&d->d_queries[i],
		    __ATOMIC_RELAXED);
		s->failures[i] = __atomic_load_n(&d->d_failures[i],
		    __ATOMIC_RELAXED);
	}
}

enum status
dns_txt(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return dns_counted(d, name, RR_TXT, 0, out, why);
}

static enum status
dns_mx_v(struct dns *d, const char *name, int validate, struct dns_rrset *out,
    struct buf *why)
{
	enum status	st;

	if ((st = dns_counted(d, name, RR_MX, validate, out, why)) == ST_OK)
		dns_rr_sort_mx(out);
	return st;
}

enum status
dns_mx(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return dns_mx_v(d, name, 0, out, why);
}

enum status
dns_mx_sec(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return dns_mx_v(d, name, 1, out, why);
}

enum status
dns_tlsa(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return dns_query(d, name, RR_TLSA, 1, out, why);
}

enum status
dns_addr_merge(enum status st4, struct dns_rrset *out, const char *why4,
    enum status st6, struct dns_rrset *v6, const char *why6, struct buf *why)
{
	enum dns_sec	sec = dns_sec_worst(out->sec, v6->sec);
	enum status	st;
	size_t		i;

	if (st4 == ST_OK || st6 == ST_OK) {
		if (st4 != ST_OK) {
			dns_rrset_clear(out);
			out->ttl = UINT32_MAX;
		}
		for (i = 0; st6 == ST_OK && i < v6->n; i++) {
			dns_rr_add(out, v6->rr[i], v6->len[i], 0, 0);
			v6->rr[i] = NULL;
		}
		if (out->cname == NULL) {
			out->cname = v6->cname;
			v6->cname = NULL;
		}
		if (st6 == ST_OK && v6->ttl < out->ttl)
			out->ttl = v6->ttl;
		st = ST_OK;
	} else {
		if (st4 == ST_TEMPFAIL || st6 == ST_TEMPFAIL)
			st = ST_TEMPFAIL;
		else if (st4 == ST_INVALID || st6 == ST_INVALID)
			st = ST_INVALID;
		else
			st = st4;	/* both ST_NOTFOUND */
		buf_printf(why, "%s; %s", why4, why6);
	}
	dns_rrset_clear(v6);
	out->sec = sec;
	return st;
}

static enum status
dns_addr_v(struct dns *d, const char *name, int validate,
    struct dns_rrset *out, struct buf *why)
{
	struct dns_rrset	 v6;
	struct buf		 why4 = BUF_INIT, why6 = BUF_INIT;
	enum status		 st4, st6, st;

	st4 = dns_counted(d, name, RR_A, validate, out, &why4);
	st6 = dns_counted(d, name, RR_AAAA, validate, &v6, &why6);
	st = dns_addr_merge(st4, out, buf_str(&why4), st6, &v6,
	    buf_str(&why6), why);
	buf_free(&why4);
	buf_free(&why6);
	return st;
}

enum status
dns_addr(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return dns_addr_v(d, name, 0, out, why);
}

enum status
dns_addr_sec(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return dns_addr_v(d, name, 1, out, why);
}

int
dns_set_trust_anchors(struct dns *d, const char *file, struct buf *why)
{
	getdns_list	*ta = NULL;
	getdns_dict	*rr;
	getdns_return_t	 r;
	struct dns_name	 owner;
	struct buf	 otext = BUF_INIT;
	FILE		*fp;
	size_t		 n = 0, i;
	uint32_t	 t;

	if ((fp = fopen(file, "r")) == NULL) {
		buf_printf(why, "%s: %s", file, strerror(errno));
		return -1;
	}
	r = getdns_fp2rr_list(fp, &ta, NULL, 3600);
	fclose(fp);
	if (r != GETDNS_RETURN_GOOD || getdns_list_get_length(ta, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++)
		if (getdns_list_get_dict(ta, i, &rr) != 0 ||
		    getdns_dict_get_int(rr, "type", &t) != 0 ||
		    (t != RR_DS && t != RR_DNSKEY))
			break;
	if (n == 0 || i < n) {
		buf_printf(why, "%s: %s", file, n == 0 ?
		    "no DS or DNSKEY record" :
		    "a record other than DS or DNSKEY");
		getdns_list_destroy(ta);
		return -1;
	}
	pthread_mutex_lock(&d->d_lock);
	getdns_list_destroy(d->d_ta);
	d->d_ta = ta;
	d->d_ta_next = 0;			/* check again */
	d->d_nprimed = 0;			/* and prime again */
	snprintf(d->d_ta_name, sizeof(d->d_ta_name), ".");
	if (getdns_list_get_dict(ta, 0, &rr) == 0 &&
	    dns_rr_owner(rr, &owner) == 0) {
		dns_rr_name_text(&owner, &otext);
		snprintf(d->d_ta_name, sizeof(d->d_ta_name), "%s",
		    buf_str(&otext)[0] ? buf_str(&otext) : ".");
	}
	buf_free(&otext);
	for (i = 0; i < d->d_nidle; i++)
		if ((r = getdns_context_set_dnssec_trust_anchors(d->d_idle[i],
		    ta)) != 0)
			break;
	pthread_mutex_unlock(&d->d_lock);
	if (i < d->d_nidle) {
		buf_printf(why, "getdns: trust anchors: %s",
		    getdns_get_errorstr_by_id(r));
		return -1;
	}
	return 0;
}

/*
 * dns_dnssec_usable - whether validation works at all: the DNSKEY RRset
 * of the (first) trust anchor's zone validates as secure through these
 * resolvers.  When it does not (a resolver that strips DNSSEC records
 * or refuses the anchor's zone), every validated answer would be bogus:
 * the callers treat DNSSEC as unavailable instead.  Kept 5 minutes
 * when usable, 1 minute when not.
 */
int
dns_dnssec_usable(struct dns *d, struct buf *why)
{
	struct dns_rrset	 rs;
	struct timespec		 ts;
	enum status		 st;
	int64_t			 now;
	char			 name[sizeof(d->d_ta_name)];
	int			 ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	pthread_mutex_lock(&d->d_lock);
	if (d->d_ta_next > now) {
		ok = d->d_ta_ok;
		pthread_mutex_unlock(&d->d_lock);
		return ok;
	}
	snprintf(name, sizeof(name), "%s", d->d_ta_name[0] ? d->d_ta_name :
	    ".");
	pthread_mutex_unlock(&d->d_lock);
	st = dns_query(d, name, RR_DNSKEY, 1, &rs, why);
	ok = st == ST_OK && rs.sec == DNS_SEC_SECURE;
	if (st == ST_OK && !ok)
		buf_printf(why, "%s DNSKEY: %s", name, rs.sec ==
		    DNS_SEC_BOGUS ? "bogus" : "not secure");
	dns_rrset_clear(&rs);
	pthread_mutex_lock(&d->d_lock);
	d->d_ta_ok = ok;
	d->d_ta_next = now + (ok ? 300000 : 60000);
	pthread_mutex_unlock(&d->d_lock);
	return ok;
}

int
dns_dnssec_known(struct dns *d, int *usable)
{
	struct timespec	ts;
	int64_t		now;
	int		known;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	pthread_mutex_lock(&d->d_lock);
	if ((known = d->d_ta_next > now))
		*usable = d->d_ta_ok;
	pthread_mutex_unlock(&d->d_lock);
	return known;
}
