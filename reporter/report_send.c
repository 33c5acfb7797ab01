/*
 * report_send.c - deliver one report to one rua destination
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "report_build.h"
#include "report_send.h"
#include "xmalloc.h"

#define SMTP_TIMEOUT_MS		120000
#define SMTP_CONNECT_MS		30000
#define HTTPS_TIMEOUT_MS	60000
#define HTTPS_CONNECT_MS	15000

struct upload {
	const char	*p;
	size_t		 left;
};

static size_t
upload_read(char *dst, size_t size, size_t n, void *arg)
{
	struct upload	*u = arg;
	size_t		 k = size * n;

	if (k > u->left)
		k = u->left;
	memcpy(dst, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

static enum status
send_smtp(struct report_send *s, const char *to, const char *msg,
    size_t len, struct buf *why)
{
	CURL			*c;
	CURLcode		 rc;
	struct curl_slist	*rcpt = NULL;
	struct upload		 u = { msg, len };
	char			 err[CURL_ERROR_SIZE] = "", *url, *from, *rto;
	long			 code = 0;
	enum status		 st;

	if ((c = curl_easy_init()) == NULL) {
		buf_printf(why, "curl_easy_init failed");
		return ST_TEMPFAIL;
	}
	/* the path of an smtp:// URL is the EHLO name */
	url = xasprintf("smtp://%s/%s", s->conf->report_smtp, s->helo);
	from = xasprintf("<%s>", s->from);
	rto = xasprintf("<%s>", to);
	rcpt = curl_slist_append(rcpt, rto);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (strcmp(s->conf->report_smtp_tls, "starttls") == 0) {
		/* required; the relay's certificate and name verified */
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		if (s->conf->ca_file != NULL && s->conf->ca_file[0] != '\0')
			curl_easy_setopt(c, CURLOPT_CAINFO, s->conf->ca_file);
	} else
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)SMTP_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)SMTP_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK)
		st = ST_OK;
	else {
		buf_printf(why, "smtp %s: %s", s->conf->report_smtp,
		    err[0] ? err : curl_easy_strerror(rc));
		if (code)
			buf_printf(why, " (reply %ld)", code);
		/* Permanent: the relay refused this recipient or this
		 * message.  A 5xx at STARTTLS, AUTH or MAIL is the relay's
		 * configuration (or ours): retried like any temporary
		 * failure while the operator fixes it. */
		st = code >= 500 && code < 600 && (strstr(err, "RCPT failed") !=
		    NULL || strstr(err, "DATA failed") != NULL) ?
		    ST_INVALID : ST_TEMPFAIL;
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	free(url);
	free(from);
	free(rto);
	return st;
}

int
report_send_https_split(const char *url, char *host, size_t hsize, int *port)
{
	const char	*p, *h, *e;
	size_t		 n;

	if (strncasecmp(url, "https://", 8) != 0)
		return -1;
	h = url + 8;
	n = strcspn(h, "/?#");
	e = h + n;
	*port = 443;
	if (*h == '[')
		return -1;		/* IP literals: not for rua */
	if ((p = memchr(h, ':', n)) != NULL) {
		*port = atoi(p + 1);
		if (*port <= 0 || *port > 65535)
			return -1;
		e = p;
	}
	if (e == h || (size_t)(e - h) >= hsize || memchr(h, '@', n))
		return -1;
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = '\0';
	return 0;
}

static enum status
send_https(struct report_send *s, const char *url, const void *body,
    size_t len, struct buf *why)
{
	struct http_req		req;
	struct http_reply	rep;
	struct dns_rrset	addrs;
	char			host[256];
	int			port;
	enum status		st;

	memset(&req, 0, sizeof(req));
	memset(&rep, 0, sizeof(rep));
	memset(&addrs, 0, sizeof(addrs));
	if (report_send_https_split(url, host, sizeof(host), &port) != 0) {
		buf_printf(why, "unusable https URL");
		return ST_INVALID;
	}
	if ((st = dns_addr(s->dns, host, &addrs, why)) != ST_OK) {
		buf_printf(why, " (resolving %s)", host);
		return ST_TEMPFAIL;
	}
	req.method = "POST";
	req.url = url;
	req.host = host;
	req.port = port;
	req.addrs = addrs.rr;
	req.naddrs = addrs.n;
	req.ca_file = s->conf->ca_file && *s->conf->ca_file ?
	    s->conf->ca_file : NULL;
	req.verify = 1;
	req.max_body = 64 * 1024;
	req.connect_timeout_ms = HTTPS_CONNECT_MS;
	req.timeout_ms = HTTPS_TIMEOUT_MS;
	req.body = body;
	req.body_len = len;
	req.content_type = REPORT_MEDIA_GZ;
	st = http_do(&req, &rep, why);
	if (st == ST_OK && (rep.status < 200 || rep.status > 299)) {
		buf_printf(why, "HTTP status %ld", rep.status);	/* RPT-HTTP-2 */
		st = ST_TEMPFAIL;
	} else if (st != ST_OK)
		st = ST_TEMPFAIL;
	http_reply_clear(&rep);
	dns_rrset_clear(&addrs);
	return st;
}

struct report_send *
report_send_new(const struct conf *c, struct dns *dns, const char *from,
    const char *helo)
{
	struct report_send	*s = xcalloc(1, sizeof(*s));

	s->smtp = send_smtp;
	s->https = send_https;
	s->conf = c;
	s->dns = dns;
	s->from = from;
	s->helo = helo;
	return s;
}

void
report_send_free(struct report_send *s)
{
	free(s);
}
