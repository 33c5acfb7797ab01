/*
 * fuzz_http_policy - libFuzzer target for what a policy host answers
 * (STS-HTTP-1..10): the HTTP status, the Content-Type header and the
 * body bytes of GET /.well-known/mta-sts.txt, as the HTTPS client hands
 * them over (tests/fakes/fake_http.c stands in for libcurl and
 * common/net/http.c), through sts_fetch_policy() into a policy.
 *
 * Input: byte 0 picks the status (mostly 200), byte 1 a transport
 * failure (mostly none), then the Content-Type up to LF, then the body.
 *
 * Invariants (abort() on violation):
 *   - ST_OK only for status 200, no transport failure, a text/plain
 *     media type (STS-HTTP-3) and a body within max_body; it has a
 *     policy with a valid mode, 0 <= max_age <= 31557600 (STS-POL-6)
 *     and, in enforce or testing mode, at least one mx pattern, each
 *     lower case without a trailing dot; the result type is success;
 *   - otherwise no policy, a reason, and the RFC 8460 result type is
 *     sts-webpki-invalid for a certificate failure, sts-policy-invalid
 *     for a media type or grammar failure, sts-policy-fetch-error else;
 *   - the JSON of a policy is never empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fakes.h"
#include "sts_fetch.h"
#include "sts_policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define URL	"https://mta-sts.example.com/.well-known/mta-sts.txt"

static const long statuses[] = { 301, 302, 304, 404, 500, 503, 0, 199, 201,
    204, 100, 999, -1 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	struct sts_fetch_opts	 o;
	struct sts_policy	*p = NULL;
	enum tlsrpt_result	 rt;
	enum http_fail		 fail;
	struct buf		 why = BUF_INIT, js = BUF_INIT;
	const char		*ct, *nl, *end = (const char *)data + size;
	char			*ctype;
	long			 status;
	size_t			 i, nst = sizeof(statuses) / sizeof(statuses[0]);
	enum status		 st;

	if (size < 2)
		return 0;
	if (!ready) {
		fake_sts_domain("example.com", "1", "");
		ready = 1;
	}
	status = data[0] < 256 - nst ? 200 : statuses[data[0] - (256 - nst)];
	fail = data[1] < 249 ? HTTP_FAIL_NONE :
	    (enum http_fail)(data[1] - 249);
	ct = (const char *)data + 2;
	nl = memchr(ct, '\n', (size_t)(end - ct));
	if (nl == NULL)
		nl = end;
	ctype = strndup(ct, (size_t)(nl - ct));
	if (nl < end)
		nl++;
	fake_http_set_n(URL, status, data[1] == 248 ? NULL : ctype, nl,
	    (size_t)(end - nl), fail);
	memset(&o, 0, sizeof(o));
	o.max_body = 65536;
	st = sts_fetch_policy(NULL, &o, "example.com", &p, &rt, &why);
	if (st == ST_OK) {
		if (status != 200 || fail != HTTP_FAIL_NONE || p == NULL ||
		    !sts_content_type_ok(ctype) || data[1] == 248 ||
		    rt != TLSRPT_SUCCESS || p->p_max_age < 0 ||
		    p->p_max_age > 31557600 || p->p_mode > STS_MODE_ENFORCE ||
		    (p->p_mode != STS_MODE_NONE && p->p_nmx == 0))
			abort();
		for (i = 0; i < p->p_nmx; i++) {
			size_t	n = strlen(p->p_mx[i]);

			if (n == 0 || p->p_mx[i][n - 1] == '.' ||
			    strpbrk(p->p_mx[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
				abort();
		}
		sts_policy_json(p, &js);
		if (js.b_len == 0)
			abort();
	} else {
		if (p != NULL || why.b_len == 0)
			abort();
		if (fail == HTTP_FAIL_CERT ? rt != TLSRPT_STS_WEBPKI_INVALID :
		    rt != TLSRPT_STS_POLICY_INVALID &&
		    rt != TLSRPT_STS_POLICY_FETCH_ERROR)
			abort();
		if (rt == TLSRPT_STS_POLICY_INVALID && (status != 200 ||
		    fail != HTTP_FAIL_NONE))
			abort();
	}
	sts_policy_free(p);
	free(ctype);
	buf_free(&why);
	buf_free(&js);
	return 0;
}
