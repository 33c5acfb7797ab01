/*
 * http.c - bounded HTTPS requests over libcurl
 *
 * SYNOPSIS
 *	#include "http.h"
 *
 *	int http_init(void);
 *	enum status http_do(const struct http_req *req,
 *	    struct http_reply *r, struct buf *why);
 *	void http_reply_clear(struct http_reply *r);
 *	const char *http_fail_str(enum http_fail f);
 *
 * DESCRIPTION
 *	http_do() uses a new easy handle for each request: https only,
 *	also for redirects, which are never followed (STS-HTTP-2); no
 *	proxy, whatever the environment says; TLS 1.2 or later
 *	(STS-HTTP-7); no cache or conditional request headers, and no
 *	Accept-Encoding.  User-Agent is "sts-milter/<version>".
 *
 *	With verify set, the chain must lead to ca_file (or the system
 *	store when ca_file is NULL; the store is built once and shared by
 *	every request, trust.c) and the host name must be a SAN
 *	dNSName of the leaf: the subject CN is never used and a wildcard
 *	must be a whole left-most label (STS-PKI-1..3).  OpenSSL checks the
 *	name during the handshake (X509_VERIFY_PARAM), in addition to
 *	curl's own check.  SNI is the host name of the URL (STS-HTTP-6).
 *
 *	When naddrs > 0, host and port must be those of the URL and the
 *	connection goes to the pinned addresses only (CURLOPT_RESOLVE), so
 *	the name is never resolved through libc.
 *
 *	The body is kept in r->body and capped while it streams: more than
 *	max_body bytes (0 = the struct buf default, 16 MiB), or a
 *	Content-Length above it, fail with HTTP_FAIL_TOOBIG (STS-HTTP-4).
 *	A body of exactly max_body bytes is accepted.
 *
 *	Failures map to enum http_fail as follows: refused, unreachable,
 *	unresolvable, reset while sending or receiving: CONNECT; curl's
 *	timeout (connect or whole request): TIMEOUT; an untrusted,
 *	expired or wrongly named certificate, or a CA file that cannot be
 *	read: CERT, with OpenSSL's verify error in why; any other TLS
 *	failure: TLS; a bad request, bad URL, unsupported scheme, empty or
 *	malformed reply: PROTO.
 *
 * OWNERSHIP
 *	req and everything it points to are borrowed for the call.  r is
 *	overwritten on entry (not freed); the caller releases it with
 *	http_reply_clear(), whatever the status.
 *
 * THREAD SAFETY
 *	http_do() may run in many threads at once once http_init() has
 *	returned (curl_global_init is not thread-safe).
 *
 * DIAGNOSTICS
 *	ST_OK when a response arrived (any HTTP status), else ST_TEMPFAIL
 *	with r->fail set and one line appended to why, "<url>: <reason>"
 *	(curl's error text, or ours).  r->status may hold the status of a
 *	reply that failed later (e.g. too big).  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.3 and 1.4, tests/tools/http_get.c
 */

#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "http.h"
#include "http_body.h"
#include "http_impl.h"
#include "status.h"
#include "trust.h"
#include "thr.h"
#include "xmalloc.h"

#ifndef PKG_VERSION
#define PKG_VERSION		"unknown"	/* built outside the Makefile */
#endif
#define HTTP_USER_AGENT		"sts-milter/" PKG_VERSION

/* Per-request state shared with the curl callbacks. */
struct http_ctx {
	struct http_reply	*hc_reply;
	size_t			 hc_max;
	int			 hc_toobig;
	int			 hc_verify;
	char			*hc_host;	/* URL host, for the name check */
	X509_STORE		*hc_store;	/* shared trust store (trust.c) */
};

/* One transfer: the easy handle and what its callbacks and the
 * failure path need. */
struct http_xfer {
	CURL			*x_curl;
	struct curl_slist	*x_resolve, *x_hdrs;
	struct http_ctx		 x_hc;
	struct buf		 x_err;
	char			 x_errbuf[CURL_ERROR_SIZE];
	char			*x_url;		/* for the why line */
};

static int	http_initialized;

int
http_init(void)
{
	if (http_initialized)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errno = ENOMEM;
		return -1;
	}
	http_initialized = 1;
	return 0;
}

const char *
http_fail_str(enum http_fail f)
{
	switch (f) {
	case HTTP_FAIL_NONE:
		return "none";
	case HTTP_FAIL_CONNECT:
		return "connect";
	case HTTP_FAIL_TIMEOUT:
		return "timeout";
	case HTTP_FAIL_CERT:
		return "certificate";
	case HTTP_FAIL_TLS:
		return "tls";
	case HTTP_FAIL_TOOBIG:
		return "too-big";
	case HTTP_FAIL_PROTO:
		return "protocol";
	}
	return "unknown";
}

void
http_reply_clear(struct http_reply *r)
{
	if (r == NULL)
		return;
	free(r->content_type);
	r->content_type = NULL;
	buf_free(&r->body);
	r->status = 0;
	r->fail = HTTP_FAIL_NONE;
}

/* http_write - keep the body, refusing what would pass the cap */
static size_t
http_write(char *p, size_t size, size_t n, void *arg)
{
	struct http_ctx	*hc = arg;

	/* 0 when too big: curl aborts with CURLE_WRITE_ERROR (http_body.c) */
	return http_body_add(&hc->hc_reply->body, hc->hc_max, p, size, n,
	    &hc->hc_toobig);
}

/*
 * http_verify_host - the host-name check in OpenSSL itself: SAN dNSName
 * only, whole-label wildcards only (STS-PKI-2, STS-PKI-3); an IP
 * literal host is checked as an address.  A mismatch fails the
 * handshake with X509_V_ERR_HOSTNAME_MISMATCH.  -1 on failure.
 */
int
http_verify_host(X509_VERIFY_PARAM *vp, const char *host)
{
	unsigned char	ip[16];

	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, host) == 1 ? 0 : -1;
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(vp, host, 0) == 1 ? 0 : -1;
}

/* http_sslctx - the shared trust store and the host-name check */
static CURLcode
http_sslctx(CURL *curl, void *sslctx, void *arg)
{
	struct http_ctx		*hc = arg;

	(void)curl;
	if (!hc->hc_verify)
		return CURLE_OK;
	/* The trust store built once for ca_file, not one per handshake. */
	if (hc->hc_store != NULL) {
		if (X509_STORE_up_ref(hc->hc_store) != 1)
			return CURLE_OUT_OF_MEMORY;
		SSL_CTX_set_cert_store(sslctx, hc->hc_store);
	}
	if (hc->hc_host == NULL)
		return CURLE_OK;
	if (http_verify_host(SSL_CTX_get0_param(sslctx), hc->hc_host) == -1)
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

const char *
http_user_agent(void)
{
	return HTTP_USER_AGENT;
}

/*
 * http_reply_end - r as the caller gets it: r->fail NONE (a response
 * arrived) gives ST_OK and a body that is "" rather than none; else the
 * body goes and one line "<url>: <err>" is appended to why
 */
enum status
http_reply_end(struct http_reply *r, const char *url, const char *err,
    struct buf *why)
{
	if (r->fail == HTTP_FAIL_NONE) {
		if (r->body.b_data == NULL)
			buf_append(&r->body, "", 0);	/* empty body: "" */
		return ST_OK;
	}
	buf_free(&r->body);
	buf_printf(why, "%s: %s", url != NULL ? url : "(bad URL)", err);
	return ST_TEMPFAIL;
}

/* http_safe - no control characters (header and CURLOPT_RESOLVE text) */
int
http_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/*
 * http_url_split - host (without []), port and request target (path
 * and query; NULL target: not wanted) of the URL; -1 if the URL does
 * not parse.
 */
int
http_url_split(const char *url, char **host, long *port, char **target,
    struct buf *why)
{
	CURLU		*u;
	CURLUcode	 uc;
	char		*h = NULL, *p = NULL, *path = NULL, *q = NULL;
	size_t		 len;
	int		 rc = -1;

	*host = NULL;
	if (target != NULL)
		*target = NULL;
	if ((u = curl_url()) == NULL) {
		buf_puts(why, "out of memory");
		return -1;
	}
	if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_HOST, &h, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_PORT, &p,
	    CURLU_DEFAULT_PORT)) != CURLUE_OK ||
	    (target != NULL && (uc = curl_url_get(u, CURLUPART_PATH, &path,
	    0)) != CURLUE_OK)) {
		buf_printf(why, "bad URL: %s", curl_url_strerror(uc));
		goto out;
	}
	if (target != NULL && curl_url_get(u, CURLUPART_QUERY, &q, 0) !=
	    CURLUE_OK)
		q = NULL;
	len = strlen(h);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']')
		*host = xstrndup(h + 1, len - 2);
	else
		*host = xstrdup(h);
	*port = strtol(p, NULL, 10);
	if (target != NULL)
		*target = q != NULL ? xasprintf("%s?%s", path, q) :
		    xstrdup(path);
	rc = 0;
out:
	curl_free(h);
	curl_free(p);
	curl_free(path);
	curl_free(q);
	curl_url_cleanup(u);
	return rc;
}

/*
 * http_pin_check - the pinned host and port are the URL's, the host
 * fits a CURLOPT_RESOLVE line, and every address parses; -1 with why.
 */
int
http_pin_check(const struct http_req *req, const char *urlhost,
    long urlport, struct buf *why)
{
	unsigned char	a[16];
	long		port = req->port ? req->port : 443;
	size_t		i;

	if (req->host == NULL || strcasecmp(req->host, urlhost) != 0 ||
	    port != urlport) {
		buf_printf(why, "pinned host %.255s:%ld is not the URL's "
		    "%s:%ld", req->host == NULL ? "(null)" :
		    http_safe(req->host) ? req->host : "?", port, urlhost,
		    urlport);
		return -1;
	}
	if (!http_safe(urlhost) || strchr(urlhost, ':') != NULL) {
		buf_puts(why, "host name unfit for pinning");
		return -1;
	}
	for (i = 0; i < req->naddrs; i++) {
		if (req->addrs[i] == NULL) {
			buf_puts(why, "missing pinned address");
			return -1;
		}
		if (inet_pton(AF_INET, req->addrs[i], a) != 1 &&
		    inet_pton(AF_INET6, req->addrs[i], a) != 1) {
			buf_printf(why, "bad pinned address \"%.64s\"",
			    http_safe(req->addrs[i]) ? req->addrs[i] : "?");
			return -1;
		}
	}
	return 0;
}

/*
 * http_pin - "host:port:addr1,addr2" for CURLOPT_RESOLVE, the URL host
 * pinned to the given addresses (IPv6 in brackets).
 */
static struct curl_slist *
http_pin(const struct http_req *req, const char *urlhost, long urlport,
    struct buf *why)
{
	struct curl_slist	*sl;
	struct buf		 line = BUF_INIT;
	unsigned char		 a[16];
	size_t			 i;

	if (http_pin_check(req, urlhost, urlport, why) == -1)
		return NULL;
	buf_printf(&line, "%s:%ld:", urlhost, urlport);
	for (i = 0; i < req->naddrs; i++) {
		if (i > 0)
			buf_putc(&line, ',');
		if (inet_pton(AF_INET, req->addrs[i], a) == 1)
			buf_puts(&line, req->addrs[i]);
		else
			buf_printf(&line, "[%s]", req->addrs[i]);
	}
	if ((sl = curl_slist_append(NULL, buf_str(&line))) == NULL)
		buf_puts(why, "out of memory");
	buf_free(&line);
	return sl;
}

/* http_map - curl's failure as an http_fail, with a reason in why */
static enum http_fail
http_map(CURL *curl, CURLcode cc, const struct http_ctx *hc,
    const char *errbuf, struct buf *why)
{
	const char	*msg = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
	long		 vr = 0;
	enum http_fail	 f;

	switch (cc) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (cc == CURLE_FILESIZE_EXCEEDED || hc->hc_toobig) {
			buf_printf(why, "body larger than %zu bytes",
			    hc->hc_max);
			return HTTP_FAIL_TOOBIG;
		}
		f = HTTP_FAIL_PROTO;
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_INTERFACE_FAILED:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		f = HTTP_FAIL_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		f = HTTP_FAIL_TIMEOUT;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		f = HTTP_FAIL_CERT;
		break;
	case CURLE_SSL_CONNECT_ERROR:
		/*
		 * A handshake that failed over the certificate.  OpenSSL
		 * starts with X509_V_ERR_UNSPECIFIED, so that value means
		 * the chain was never checked (e.g. no common version).
		 */
		f = HTTP_FAIL_TLS;
		if (curl_easy_getinfo(curl, CURLINFO_SSL_VERIFYRESULT,
		    &vr) == CURLE_OK && vr != X509_V_OK &&
		    vr != X509_V_ERR_UNSPECIFIED)
			f = HTTP_FAIL_CERT;
		break;
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
		f = HTTP_FAIL_TLS;
		break;
	default:
		f = HTTP_FAIL_PROTO;
		break;
	}
	buf_puts(why, msg);
	if (f == HTTP_FAIL_CERT && vr == 0)
		(void)curl_easy_getinfo(curl, CURLINFO_SSL_VERIFYRESULT, &vr);
	if (f == HTTP_FAIL_CERT && vr != X509_V_OK &&
	    vr != X509_V_ERR_UNSPECIFIED)
		buf_printf(why, " (X.509 error %ld: %s)", vr,
		    X509_verify_cert_error_string(vr));
	return f;
}

/* SETOPT - set one option; the first failure ends the setup */
#define SETOPT(opt, val) do {						\
	if ((cc = curl_easy_setopt(curl, (opt), (val))) != CURLE_OK) {	\
		buf_printf(&x->x_err, "curl option %s: %s", #opt,	\
		    curl_easy_strerror(cc));				\
		return -1;						\
	}								\
} while (0)

/* xfer_opts - the handle's option list, in the order the options depend
 * on each other; -1 with x_err set on the first failure */
static int
xfer_opts(struct http_xfer *x, const struct http_req *req, int post)
{
	CURL			*curl = x->x_curl;
	CURLcode		 cc;
	struct curl_slist	*sl;
	char			*hdr;

	SETOPT(CURLOPT_ERRORBUFFER, x->x_errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);		/* STS-HTTP-2 */
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_NOPROXY, "*");
	SETOPT(CURLOPT_USERAGENT, HTTP_USER_AGENT);
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SETOPT(CURLOPT_SSL_VERIFYPEER, req->verify ? 1L : 0L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, req->verify ? 2L : 0L);
	if (req->verify) {
		/* curl loads nothing: http_sslctx() installs the shared store */
		if ((x->x_hc.hc_store = trust_get(req->ca_file,
		    &x->x_err)) == NULL) {
			x->x_hc.hc_reply->fail = HTTP_FAIL_CERT;
			return -1;
		}
		SETOPT(CURLOPT_CAINFO, (char *)NULL);
		SETOPT(CURLOPT_CAPATH, (char *)NULL);
	}
	SETOPT(CURLOPT_SSL_CTX_FUNCTION, http_sslctx);
	SETOPT(CURLOPT_SSL_CTX_DATA, &x->x_hc);
	if (x->x_resolve != NULL)
		SETOPT(CURLOPT_RESOLVE, x->x_resolve);
	if (req->connect_timeout_ms > 0)
		SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
		    (long)req->connect_timeout_ms);
	if (req->timeout_ms > 0)
		SETOPT(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->x_hc.hc_max);
	SETOPT(CURLOPT_WRITEFUNCTION, http_write);
	SETOPT(CURLOPT_WRITEDATA, &x->x_hc);
	if (!post) {
		SETOPT(CURLOPT_HTTPGET, 1L);
		return 0;
	}
	if (req->content_type != NULL) {
		if (!http_safe(req->content_type)) {
			buf_puts(&x->x_err, "bad content type");
			return -1;
		}
		hdr = xasprintf("Content-Type: %s", req->content_type);
		sl = curl_slist_append(x->x_hdrs, hdr);
		free(hdr);
		if (sl == NULL)
			goto nomem;
		x->x_hdrs = sl;
	}
	/* No "Expect: 100-continue" round trip for large reports. */
	if ((sl = curl_slist_append(x->x_hdrs, "Expect:")) == NULL)
		goto nomem;
	x->x_hdrs = sl;
	SETOPT(CURLOPT_HTTPHEADER, x->x_hdrs);
	SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	/* copied: a loop's transfer outlives the caller's request */
	SETOPT(CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
	return 0;
nomem:
	buf_puts(&x->x_err, "out of memory");
	return -1;
}

/* http_xfer_setup - x ready to perform req into r; -1 with x_err set */
static int
http_xfer_setup(struct http_xfer *x, const struct http_req *req,
    struct http_reply *r)
{
	long	urlport = 0;
	int	post;

	memset(r, 0, sizeof(*r));
	x->x_hc.hc_reply = r;
	x->x_hc.hc_max = req->max_body ? req->max_body : HTTP_BODY_DEFAULT;
	x->x_hc.hc_verify = req->verify;
	buf_init(&x->x_err, 256);
	x->x_url = req->url != NULL && http_safe(req->url) &&
	    strlen(req->url) < 512 ? xstrdup(req->url) : NULL;
	buf_init(&r->body, x->x_hc.hc_max);
	r->fail = HTTP_FAIL_PROTO;	/* until a reply arrives */

	if (x->x_url == NULL) {
		buf_puts(&x->x_err, "bad URL");
		return -1;
	}
	post = req->method != NULL && strcmp(req->method, "POST") == 0;
	if (req->method != NULL && !post && strcmp(req->method, "GET") != 0) {
		buf_puts(&x->x_err, "unsupported method");
		return -1;
	}
	if (http_url_split(req->url, &x->x_hc.hc_host, &urlport, NULL,
	    &x->x_err) == -1)
		return -1;
	if (req->naddrs > 0 && (x->x_resolve = http_pin(req,
	    x->x_hc.hc_host, urlport, &x->x_err)) == NULL)
		return -1;
	if ((x->x_curl = curl_easy_init()) == NULL) {
		buf_puts(&x->x_err, "curl_easy_init failed");
		return -1;
	}
	return xfer_opts(x, req, post);
}

/*
 * http_xfer_finish - what the transfer got (cc: curl's result, or -1 when
 * the setup failed): r (x_hc.hc_reply) filled, the handle released;
 * ST_OK when a response arrived, else ST_TEMPFAIL with one line in why
 */
static enum status
http_xfer_finish(struct http_xfer *x, int cc, struct buf *why)
{
	struct http_reply	*r = x->x_hc.hc_reply;
	CURL			*curl = x->x_curl;
	char			*ctype = NULL;
	enum status		 st = ST_TEMPFAIL;

	if (cc > 0)
		r->fail = http_map(curl, (CURLcode)cc, &x->x_hc, x->x_errbuf,
		    &x->x_err);
	if (curl != NULL) {
		/* A status may have arrived (e.g. before a too-big body). */
		(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE,
		    &r->status);
		if (cc == CURLE_OK && curl_easy_getinfo(curl,
		    CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL)
			r->content_type = xstrdup(ctype);
		curl_easy_cleanup(curl);
	}
	if (cc == CURLE_OK)
		r->fail = HTTP_FAIL_NONE;
	st = http_reply_end(r, x->x_url, buf_str(&x->x_err), why);
	curl_slist_free_all(x->x_resolve);
	curl_slist_free_all(x->x_hdrs);
	free(x->x_hc.hc_host);
	X509_STORE_free(x->x_hc.hc_store);
	buf_free(&x->x_err);
	free(x->x_url);
	x->x_curl = NULL;
	x->x_resolve = x->x_hdrs = NULL;
	x->x_hc.hc_host = NULL;
	x->x_hc.hc_store = NULL;
	x->x_url = NULL;
	return st;
}

enum status
http_do(const struct http_req *req, struct http_reply *r, struct buf *why)
{
	struct http_xfer	x;

	memset(&x, 0, sizeof(x));
	if (http_xfer_setup(&x, req, r) == -1)
		return http_xfer_finish(&x, -1, why);
	return http_xfer_finish(&x, (int)curl_easy_perform(x.x_curl), why);
}
