/*
 * sts_fetch.c - MTA-STS discovery and policy fetch (RFC 8461 3.1-3.3)
 *
 * The policy host is always "mta-sts." + the policy domain, also when
 * the TXT record is a CNAME to a provider (STS-HTTP-1, STS-PKI-5).  Its
 * address comes from our resolver and is pinned into the HTTPS client,
 * so libc never resolves it and the configured resolver is the only one.
 *
 * Decisions:
 *   - A wrong media type is sts-policy-invalid (rfc-checklist 3, ours).
 *   - A redirect, any status other than 200, an oversize body or an
 *     unresolvable policy host is sts-policy-fetch-error.
 *   - A charset other than utf-8/us-ascii is ignored, as the RFC says
 *     for all other parameters; the grammar check rejects non-UTF-8.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "sts_fetch.h"
#include "xmalloc.h"

enum status
sts_fetch_txt(struct dns *dns, const char *domain, struct sts_txt *out,
    struct buf *why)
{
	struct dns_rrset rr;
	struct buf	 dwhy = BUF_INIT;
	char		 name[300];
	enum status	 st;

	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	if ((st = dns_txt(dns, name, &rr, &dwhy)) != ST_OK) {	/* STS-TXT-10 */
		buf_printf(why, "%s", buf_str(&dwhy));
		buf_free(&dwhy);
		return st;
	}
	st = sts_txt_select(rr.rr, rr.len, rr.n, out, why);	/* STS-TXT-4 */
	dns_rrset_clear(&rr);
	buf_free(&dwhy);
	return st;
}

/* the TXT lookup of an asynchronous discovery */
struct txt_async {
	sts_txt_done_fn	*ta_done;
	void		*ta_arg;
};

static void
txt_async_done(void *arg, enum status st, struct dns_rrset *rr,
    const char *dwhy)
{
	struct txt_async	*ta = arg;
	struct sts_txt		 txt;
	struct buf		 why = BUF_INIT;

	memset(&txt, 0, sizeof(txt));
	if (st != ST_OK)				/* STS-TXT-10 */
		buf_puts(&why, dwhy);
	else
		st = sts_txt_select(rr->rr, rr->len, rr->n, &txt, &why);
	ta->ta_done(ta->ta_arg, st, &txt, buf_str(&why));
	buf_free(&why);
	free(ta);
}

void
sts_fetch_txt_start(struct dns *dns, const char *domain, sts_txt_done_fn *done,
    void *arg)
{
	struct txt_async	*ta = xcalloc(1, sizeof(*ta));
	char			 name[300];

	ta->ta_done = done;
	ta->ta_arg = arg;
	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	dns_txt_start(dns, name, txt_async_done, ta);
}

int
sts_content_type_ok(const char *ctype)
{
	size_t	n = strlen("text/plain");

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	if (strncasecmp(ctype, "text/plain", n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

/* the request of one policy fetch, and what it borrows */
struct fetch_prep {
	struct dns_rrset	addrs;
	struct http_req		req;
	char			host[300], url[400];
};

static void	fetch_fill(const struct sts_fetch_opts *, struct fetch_prep *);

/* fetch_names - the policy host and URL of domain (STS-HTTP-1) */
static void
fetch_names(const char *domain, struct fetch_prep *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->host, sizeof(p->host), "mta-sts.%s", domain);
	snprintf(p->url, sizeof(p->url), "https://%s/.well-known/mta-sts.txt",
	    p->host);
}

/* fetch_no_addr - why the policy host has no address */
static void
fetch_no_addr(const struct fetch_prep *p, enum status st, const char *dwhy,
    struct buf *why)
{
	buf_printf(why, "policy host %s: %s", p->host,
	    st == ST_NOTFOUND ? "no address" : dwhy);
}

/* fetch_prep - resolve the policy host and fill the request; on
 * failure ST_TEMPFAIL (sts-policy-fetch-error) with why */
static enum status
fetch_prep(struct dns *dns, const struct sts_fetch_opts *o,
    const char *domain, struct fetch_prep *p, struct buf *why)
{
	struct buf	sub = BUF_INIT;
	enum status	st;

	fetch_names(domain, p);
	if ((st = dns_addr(dns, p->host, &p->addrs, &sub)) != ST_OK) {
		fetch_no_addr(p, st, buf_str(&sub), why);
		buf_free(&sub);
		return ST_TEMPFAIL;
	}
	buf_free(&sub);
	fetch_fill(o, p);
	return ST_OK;
}

/* fetch_fill - the request, once p's names and addresses are known */
static void
fetch_fill(const struct sts_fetch_opts *o, struct fetch_prep *p)
{
	p->req.method = "GET";
	p->req.url = p->url;
	p->req.host = p->host;
	p->req.port = 443;
	p->req.addrs = p->addrs.rr;
	p->req.naddrs = p->addrs.n;
	p->req.ca_file = (o->ca_file && o->ca_file[0]) ? o->ca_file : NULL;
	p->req.verify = 1;					/* STS-PKI-1 */
	p->req.max_body = o->max_body ? o->max_body : STS_BODY_MAX;
	p->req.connect_timeout_ms = o->connect_timeout_ms;
	p->req.timeout_ms = o->timeout_ms;
}

/* fetch_reply - the policy in the HTTPS reply (st, r: the client's), or
 * why not */
static enum status
fetch_reply(enum status st, const struct http_reply *r, const char *url,
    const char *http_why, struct sts_policy **out, enum tlsrpt_result *rt,
    struct buf *why)
{
	struct buf	sub = BUF_INIT;

	*out = NULL;
	*rt = TLSRPT_STS_POLICY_FETCH_ERROR;
	if (st != ST_OK) {
		if (r->fail == HTTP_FAIL_CERT)
			*rt = TLSRPT_STS_WEBPKI_INVALID;	/* STS-PKI-1 */
		buf_puts(why, http_why);
		return ST_TEMPFAIL;
	}
	if (r->status != 200) {			/* STS-HTTP-2: no redirects */
		buf_printf(why, "%s: HTTP status %ld", url, r->status);
		return ST_TEMPFAIL;
	}
	if (!sts_content_type_ok(r->content_type)) {		/* STS-HTTP-3 */
		*rt = TLSRPT_STS_POLICY_INVALID;
		buf_printf(why, "%s: media type \"%.64s\", not text/plain", url,
		    r->content_type ? r->content_type : "(none)");
		return ST_INVALID;
	}
	if ((st = sts_policy_parse(buf_str(&r->body), r->body.b_len, out,
	    &sub)) != ST_OK) {					/* STS-HTTP-10 */
		*rt = TLSRPT_STS_POLICY_INVALID;
		buf_printf(why, "%s: invalid policy: %s", url, buf_str(&sub));
		buf_free(&sub);
		return ST_INVALID;
	}
	buf_free(&sub);
	*rt = TLSRPT_SUCCESS;
	return ST_OK;
}

enum status
sts_fetch_policy(struct dns *dns, const struct sts_fetch_opts *o,
    const char *domain, struct sts_policy **out, enum tlsrpt_result *rt,
    struct buf *why)
{
	struct fetch_prep	p;
	struct http_reply	r;
	struct buf		hwhy = BUF_INIT;
	enum status		st;

	*out = NULL;
	*rt = TLSRPT_STS_POLICY_FETCH_ERROR;
	if (fetch_prep(dns, o, domain, &p, why) != ST_OK)
		return ST_TEMPFAIL;
	st = http_get(&p.req, &r, &hwhy);	/* the daemon's client */
	dns_rrset_clear(&p.addrs);
	st = fetch_reply(st, &r, p.url, buf_str(&hwhy), out, rt, why);
	http_reply_clear(&r);
	buf_free(&hwhy);
	return st;
}

/* an asynchronous fetch between its start and the loop's answer */
struct fetch_async {
	sts_fetch_done_fn		*fa_done;
	void				*fa_arg;
	const struct sts_fetch_opts	*fa_o;
	struct http_loop		*fa_loop;
	struct fetch_prep		 fa_p;
};

static void
fetch_async_done(void *arg, enum status st, struct http_reply *r,
    const char *http_why)
{
	struct fetch_async	*fa = arg;
	struct sts_policy	*pol;
	enum tlsrpt_result	 rt;
	struct buf		 why = BUF_INIT;

	st = fetch_reply(st, r, fa->fa_p.url, http_why, &pol, &rt, &why);
	fa->fa_done(fa->fa_arg, st, pol, rt, buf_str(&why));
	buf_free(&why);
	free(fa);
}

/* fetch_async_addr - the policy host's addresses: now the request */
static void
fetch_async_addr(void *arg, enum status st, struct dns_rrset *addrs,
    const char *dwhy)
{
	struct fetch_async	*fa = arg;
	struct buf		 why = BUF_INIT;

	if (st != ST_OK) {
		fetch_no_addr(&fa->fa_p, st, dwhy, &why);
		fa->fa_done(fa->fa_arg, ST_TEMPFAIL, NULL,
		    TLSRPT_STS_POLICY_FETCH_ERROR, buf_str(&why));
		buf_free(&why);
		free(fa);
		return;
	}
	fa->fa_p.addrs = *addrs;	/* borrowed for the submission */
	fetch_fill(fa->fa_o, &fa->fa_p);
	(void)http_loop_submit(fa->fa_loop, &fa->fa_p.req, fetch_async_done,
	    fa);			/* the loop took copies: fa may go */
}

void
sts_fetch_policy_start(struct dns *dns, const struct sts_fetch_opts *o,
    const char *domain, struct http_loop *loop, sts_fetch_done_fn *done,
    void *arg)
{
	struct fetch_async	*fa = xcalloc(1, sizeof(*fa));

	fa->fa_done = done;
	fa->fa_arg = arg;
	fa->fa_o = o;
	fa->fa_loop = loop;
	fetch_names(domain, &fa->fa_p);
	dns_addr_start(dns, fa->fa_p.host, fetch_async_addr, fa);
}
