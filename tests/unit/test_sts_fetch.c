/*
 * test_sts_fetch.c - discovery and fetch outcomes mapped to RFC 8460
 * result types (rfc-checklist 3, vectors H-1..H-5)
 */
#include <string.h>

#include "fakes.h"
#include "harness.h"
#include "sts_fetch.h"

#define URL	"https://mta-sts.example.com/.well-known/mta-sts.txt"

static const char *GOOD =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 86400\r\n";

static const struct {
	const char	*name;
	long		 status;
	const char	*ctype;
	const char	*body;
	enum http_fail	 fail;
	int		 have_addr;
	enum status	 want_st;
	enum tlsrpt_result want_rt;
} cases[] = {
	/* H-1 */
	{ "ok", 200, "text/plain; charset=utf-8", NULL, HTTP_FAIL_NONE, 1,
	  ST_OK, TLSRPT_SUCCESS },
	{ "ok-upper-ctype", 200, "TEXT/PLAIN", NULL, HTTP_FAIL_NONE, 1,
	  ST_OK, TLSRPT_SUCCESS },
	{ "ok-other-charset-ignored", 200, "text/plain; charset=iso-8859-1",
	  NULL, HTTP_FAIL_NONE, 1, ST_OK, TLSRPT_SUCCESS },
	/* H-2: STS-HTTP-3 */
	{ "html", 200, "text/html", NULL, HTTP_FAIL_NONE, 1,
	  ST_INVALID, TLSRPT_STS_POLICY_INVALID },
	{ "text-plainx", 200, "text/plainx", NULL, HTTP_FAIL_NONE, 1,
	  ST_INVALID, TLSRPT_STS_POLICY_INVALID },
	{ "no-ctype", 200, NULL, NULL, HTTP_FAIL_NONE, 1,
	  ST_INVALID, TLSRPT_STS_POLICY_INVALID },
	/* H-3, H-4: STS-HTTP-2 */
	{ "redirect", 301, "text/plain", "", HTTP_FAIL_NONE, 1,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
	{ "not-modified", 304, "text/plain", "", HTTP_FAIL_NONE, 1,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
	{ "not-found", 404, "text/plain", "", HTTP_FAIL_NONE, 1,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
	{ "server-error", 500, "text/plain", "", HTTP_FAIL_NONE, 1,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
	/* H-5: STS-HTTP-4 */
	{ "too-big", 0, NULL, NULL, HTTP_FAIL_TOOBIG, 1,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
	{ "timeout", 0, NULL, NULL, HTTP_FAIL_TIMEOUT, 1,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
	/* STS-PKI-1, H-6, H-8 */
	{ "bad-cert", 0, NULL, NULL, HTTP_FAIL_CERT, 1,
	  ST_TEMPFAIL, TLSRPT_STS_WEBPKI_INVALID },
	{ "tls-version", 0, NULL, NULL, HTTP_FAIL_TLS, 1,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
	/* STS-HTTP-10 */
	{ "bad-grammar", 200, "text/plain", "version: STSv1\nmode: enforced\n",
	  HTTP_FAIL_NONE, 1, ST_INVALID, TLSRPT_STS_POLICY_INVALID },
	{ "no-policy-host", 200, "text/plain", NULL, HTTP_FAIL_NONE, 0,
	  ST_TEMPFAIL, TLSRPT_STS_POLICY_FETCH_ERROR },
};

static void
test_fetch_outcomes(void)
{
	struct sts_fetch_opts	 o = { NULL, 1000, 2000, 65536 };
	struct sts_policy	*p;
	enum tlsrpt_result	 rt;
	struct buf		 why = BUF_INIT;
	size_t			 i;
	enum status		 st;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_dns_reset();
		fake_http_reset();
		if (cases[i].have_addr)
			fake_dns_set("A", "mta-sts.example.com", ST_OK,
			    "192.0.2.1", NULL);
		fake_http_set(URL, cases[i].status, cases[i].ctype,
		    cases[i].body ? cases[i].body : GOOD, cases[i].fail);
		buf_reset(&why);
		st = sts_fetch_policy(NULL, &o, "example.com", &p, &rt, &why);
		CHECKF(st == cases[i].want_st, "%s: status %s", cases[i].name,
		    status_str(st));
		CHECKF(rt == cases[i].want_rt, "%s: result %s", cases[i].name,
		    tlsrpt_result_str(rt));
		CHECKF((st == ST_OK) == (p != NULL), "%s", cases[i].name);
		CHECKF(st == ST_OK || buf_str(&why)[0] != '\0', "%s: no reason",
		    cases[i].name);
		sts_policy_free(p);
	}
	buf_free(&why);
}

/* STS-TXT-4/6/10 through the DNS seam */
static void
test_fetch_txt(void)
{
	struct sts_txt	t;
	struct buf	why = BUF_INIT;

	fake_dns_reset();
	CHECK_INT(sts_fetch_txt(NULL, "example.com", &t, &why), ST_NOTFOUND);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_TEMPFAIL, NULL);
	CHECK_INT(sts_fetch_txt(NULL, "example.com", &t, &why), ST_TEMPFAIL);
	fake_dns_set("TXT", "_mta-sts.example.com", ST_OK,
	    "v=STSv1; id=20160831085700Z;", "v=spf1 -all", NULL);
	CHECK_INT(sts_fetch_txt(NULL, "example.com", &t, &why), ST_OK);
	CHECK_STR(t.id, "20160831085700Z");
	fake_dns_set("TXT", "_mta-sts.example.com", ST_OK, "v=STSv1; id=1",
	    "v=STSv1; id=2", NULL);
	CHECK_INT(sts_fetch_txt(NULL, "example.com", &t, &why), ST_NOTFOUND);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_fetch_outcomes);
	RUN(test_fetch_txt);
	return harness_done("test_sts_fetch");
}
