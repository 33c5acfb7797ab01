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

enum status
sts_fetch_policy(struct dns *dns, const struct sts_fetch_opts *o,
    const char *domain, struct sts_policy **out, enum tlsrpt_result *rt,
    struct buf *why)
{
	struct dns_rrset	addrs;
	struct http_req		req;
	struct http_reply	r;
	struct buf		sub = BUF_INIT;
	char			host[300], url[400];
	enum status		st;

	*out = NULL;
	*rt = TLSRPT_STS_POLICY_FETCH_ERROR;
	memset(&r, 0, sizeof(r));
	snprintf(host, sizeof(host), "mta-sts.%s", domain);	/* STS-HTTP-1 */
	snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);

	if ((st = dns_addr(dns, host, &addrs, &sub)) != ST_OK) {
		buf_printf(why, "policy host %s: %s", host,
		    st == ST_NOTFOUND ? "no address" : buf_str(&sub));
		buf_free(&sub);
		return ST_TEMPFAIL;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.host = host;
	req.port = 443;
	req.addrs = addrs.rr;
	req.naddrs = addrs.n;
	req.ca_file = (o->ca_file && o->ca_file[0]) ? o->ca_file : NULL;
	req.verify = 1;						/* STS-PKI-1 */
	req.max_body = o->max_body ? o->max_body : STS_BODY_MAX;
	req.connect_timeout_ms = o->connect_timeout_ms;
	req.timeout_ms = o->timeout_ms;

	st = http_do(&req, &r, &sub);
	dns_rrset_clear(&addrs);
	if (st != ST_OK) {
		if (r.fail == HTTP_FAIL_CERT)
			*rt = TLSRPT_STS_WEBPKI_INVALID;	/* STS-PKI-1 */
		buf_printf(why, "%s", buf_str(&sub));
		st = ST_TEMPFAIL;
		goto out;
	}
	if (r.status != 200) {			/* STS-HTTP-2: no redirects */
		buf_printf(why, "%s: HTTP status %ld", url, r.status);
		st = ST_TEMPFAIL;
		goto out;
	}
	if (!sts_content_type_ok(r.content_type)) {		/* STS-HTTP-3 */
		*rt = TLSRPT_STS_POLICY_INVALID;
		buf_printf(why, "%s: media type \"%.64s\", not text/plain", url,
		    r.content_type ? r.content_type : "(none)");
		st = ST_INVALID;
		goto out;
	}
	if ((st = sts_policy_parse(buf_str(&r.body), r.body.b_len, out,
	    &sub)) != ST_OK) {					/* STS-HTTP-10 */
		*rt = TLSRPT_STS_POLICY_INVALID;
		buf_printf(why, "%s: invalid policy: %s", url, buf_str(&sub));
		st = ST_INVALID;
		goto out;
	}
	*rt = TLSRPT_SUCCESS;
out:
	http_reply_clear(&r);
	buf_free(&sub);
	return st;
}
