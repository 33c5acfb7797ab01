/*
 * test_tlsrpt_dgram.c - libtlsrpt datagrams (Postfix 3.10+ TLS-RPT
 * events), reporting-anchors.md 3.3 and 10
 *
 * The first four rows are the datagrams captured from libtlsrpt 0.5.1
 * in the reference, byte for byte ("<raw C3 A9>" there is the two raw
 * bytes; here one bad byte is added to show the cleaning).  A row's
 * "got" is a summary: domain|ptype|pdomain|failed|nlines|mode then per
 * failure ";result,sip,mx,helo,rip,reason".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "status.h"
#include "tlsrpt_dgram.h"

#include "../harness.h"

#define S(x)	x, sizeof(x) - 1

static const struct {
	const char	*tag;
	const char	*in;
	size_t		 len;
	enum status	 want;
	const char	*got;		/* ST_OK: summary; else reason part */
} cases[] = {
	{ "captured: no-policy-found success",
	    S("{\"dpv\": \"1\",\"d\": \"example.com\",\"pr\": \"v=TLSRPTv1; "
	    "rua=mailto:tlsrpt@example.com\",\"policies\":[{\"policy-type\":9,"
	    "\"t\":0,\"f\":0}]}"),
	    ST_OK, "example.com|no-policy-found|example.com|0|0|" },
	{ "captured: sts failure, EHLO reply, escapes, raw UTF-8",
	    S("{\"dpv\": \"1\",\"d\": \"example.com\",\"pr\": \"v=TLSRPTv1;"
	    "rua=mailto:a@example.com,https://r.example.com/x\",\"policies\":"
	    "[{\"policy-type\":2,\"policy-domain\": \"example.com\","
	    "\"policy-string\":[\"version: STSv1\",\"mode: enforce\","
	    "\"mx: *.example.com\",\"max_age: 604800\"],\"mx-host\":"
	    "[\"*.example.com\"],\"failure-details\":[{\"c\":204,\"s\": "
	    "\"192.0.2.1\",\"n\": \"mx1.example.com\",\"h\": "
	    "\"250-mx1.example.com\\r\\n250 STARTTLS\",\"r\": \"198.51.100.7\","
	    "\"f\": \"q\\\"\\\\\\u0001\\u007f\xc3\xa9\xff\"}],\"t\":1,\"f\":1}]}"),
	    ST_OK, "example.com|sts|example.com|1|4|enforce;"
	    "certificate-expired,192.0.2.1,mx1.example.com,mx1.example.com,"
	    "198.51.100.7,q\"\\  \xc3\xa9?" },
	{ "captured: DANE success",
	    S("{\"dpv\": \"1\",\"d\": \"example.org\",\"pr\": \"v=TLSRPTv1; "
	    "rua=mailto:r@example.org\",\"policies\":[{\"policy-type\":1,"
	    "\"policy-domain\": \"mx.example.org\",\"policy-string\":"
	    "[\"3 1 1 ABCDEF\"],\"t\":0,\"f\":0}]}"),
	    ST_OK, "example.org|tlsa|mx.example.org|0|1|" },
	{ "captured: STARTTLS not offered",
	    S("{\"dpv\": \"1\",\"d\": \"example.net\",\"pr\": \"v=TLSRPTv1; "
	    "rua=mailto:r@example.net\",\"policies\":[{\"policy-type\":9,"
	    "\"failure-details\":[{\"c\":201,\"s\": \"192.0.2.1\",\"n\": "
	    "\"mx.example.net\",\"r\": \"203.0.113.5\"}],\"t\":1,\"f\":1}]}"),
	    ST_OK, "example.net|no-policy-found|example.net|1|0|;"
	    "starttls-not-supported,192.0.2.1,mx.example.net,,203.0.113.5," },
	{ "dpv absent (libtlsrpt < 0.5), d upper case",
	    S("{\"d\":\"Example.COM.\",\"policies\":[{\"policy-type\":9,"
	    "\"t\":0,\"f\":0}]}"),
	    ST_OK, "example.com|no-policy-found|example.com|0|0|" },
	{ "every STS code maps",
	    S("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":2,"
	    "\"failure-details\":[{\"c\":301},{\"c\":302},{\"c\":303}],"
	    "\"t\":3,\"f\":1}]}"),
	    ST_OK, "a.test|sts|a.test|1|0|;sts-policy-fetch-error,,,,,;"
	    "sts-policy-invalid,,,,,;sts-webpki-invalid,,,,," },
	/* strict: the whole datagram is refused */
	{ "empty", S(""), ST_INVALID, "empty datagram" },
	{ "not JSON", S("hello"), ST_INVALID, "not one JSON object" },
	{ "trailing bytes", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":9,\"f\":0}]}x"), ST_INVALID, "not one JSON object" },
	{ "two objects", S("{}{}"), ST_INVALID, "not one JSON object" },
	{ "array", S("[1]"), ST_INVALID, "not a JSON object" },
	{ "NUL byte", S("{\"d\":\"a.test\"}\0"), ST_INVALID, "NUL" },
	{ "escaped NUL in a string", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":9,\"f\":1,\"failure-details\":[{\"c\":201,"
	    "\"n\":\"mx\\u0000.a.test\"}]}]}"), ST_INVALID, "NUL" },
	{ "no d", S("{\"policies\":[{\"policy-type\":9,\"f\":0}]}"),
	    ST_INVALID, "\"d\"" },
	{ "d not a domain", S("{\"d\":\"[192.0.2.1]\",\"policies\":[{"
	    "\"policy-type\":9,\"f\":0}]}"), ST_INVALID, "not a domain" },
	{ "d a number", S("{\"d\":5,\"policies\":[{\"policy-type\":9,"
	    "\"f\":0}]}"), ST_INVALID, "not a string" },
	{ "dpv a number", S("{\"dpv\":1,\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":9,\"f\":0}]}"), ST_INVALID, "dpv" },
	{ "no policies", S("{\"d\":\"a.test\"}"), ST_INVALID, "policies" },
	{ "empty policies", S("{\"d\":\"a.test\",\"policies\":[]}"),
	    ST_INVALID, "policies" },
	{ "policy without f", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":9}]}"), ST_INVALID, "\"f\" is missing" },
	{ "f is 2", S("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,"
	    "\"f\":2}]}"), ST_INVALID, "not 0 or 1" },
	{ "f a string", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":9,\"f\":\"1\"}]}"), ST_INVALID, "not an integer" },
	{ "unknown policy-type", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":3,\"f\":0}]}"), ST_INVALID, "policy-type 3" },
	{ "unknown result code 901", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":9,\"f\":1,\"failure-details\":[{\"c\":901}]}]}"),
	    ST_INVALID, "unknown result code 901" },
	{ "failure without c", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":9,\"f\":1,\"failure-details\":[{\"n\":\"m\"}]}]}"),
	    ST_INVALID, "\"c\" is missing" },
	{ "policy-string not an array", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":2,\"f\":0,\"policy-string\":\"mode: enforce\"}]}"),
	    ST_INVALID, "policy-string" },
	{ "policy-domain garbage", S("{\"d\":\"a.test\",\"policies\":[{"
	    "\"policy-type\":2,\"f\":0,\"policy-domain\":\"a b\"}]}"),
	    ST_INVALID, "policy-domain" },
	{ "too deep", S("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,"
	    "\"f\":0,\"x\":[[[[[[1]]]]]]}]}"), ST_INVALID, "JSON" },
};

static void
summary(const struct tlsrpt_dgram *g, struct buf *b)
{
	const struct dgram_policy	*p = &g->pol[0];
	const struct dgram_fail		*f;
	size_t				 i;

	buf_printf(b, "%s|%s|%s|%d|%zu|%s", g->domain,
	    dgram_ptype_str(p->ptype), p->pdomain, p->failed, p->nlines,
	    p->mode);
	for (i = 0; i < p->nfails; i++) {
		f = &p->fails[i];
		buf_printf(b, ";%s,%s,%s,%s,%s,%s",
		    tlsrpt_result_str(f->result), f->sip, f->mx, f->helo,
		    f->rip, f->reason);
	}
}

static void
test_table(void)
{
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf		 why = BUF_INIT, got = BUF_INIT;
		struct tlsrpt_dgram	*g = (struct tlsrpt_dgram *)&why;
		enum status		 st;

		st = tlsrpt_dgram_parse(cases[i].in, cases[i].len, &g, &why);
		CHECKF(st == cases[i].want, "%s: status %d, want %d (%s)",
		    cases[i].tag, st, cases[i].want, buf_str(&why));
		if (st == ST_OK && cases[i].want == ST_OK) {
			summary(g, &got);
			CHECKF(strcmp(buf_str(&got), cases[i].got) == 0,
			    "%s:\n  got  %s\n  want %s", cases[i].tag,
			    buf_str(&got), cases[i].got);
		}
		if (st != ST_OK) {
			CHECKF(g == NULL, "%s: out set on failure",
			    cases[i].tag);
			CHECKF(strstr(buf_str(&why), cases[i].got) != NULL &&
			    strchr(buf_str(&why), '\n') == NULL,
			    "%s: reason \"%s\" lacks \"%s\"", cases[i].tag,
			    buf_str(&why), cases[i].got);
		}
		tlsrpt_dgram_free(st == ST_OK ? g : NULL);
		buf_free(&why);
		buf_free(&got);
	}
}

/* Flags: an unknown dpv and a "t" that disagrees are kept, but noted. */
static void
test_flags(void)
{
	struct tlsrpt_dgram	*g = NULL;
	const char		*in = "{\"dpv\":\"2\",\"d\":\"a.test\","
	    "\"policies\":[{\"policy-type\":2,\"policy-string\":[\"version: "
	    "STSv1\",\"mode: testing\",\"mx: mx.a.test\",\"max_age: 86400\"],"
	    "\"failure-details\":[{\"c\":202}],\"t\":2,\"f\":1}]}";

	CHECK_INT(tlsrpt_dgram_parse(in, strlen(in), &g, NULL), ST_OK);
	CHECK(g != NULL && g->dpv_unknown == 1);
	CHECK(g != NULL && g->pol[0].t_mismatch == 1);
	CHECK_STR(g ? g->pol[0].mode : NULL, "testing");
	CHECK_STR(g ? g->pol[0].text : NULL, "version: STSv1\nmode: testing\n"
	    "mx: mx.a.test\nmax_age: 86400\n");
	tlsrpt_dgram_free(g);
}

/* Limits: a datagram over DGRAM_MAX, too many policies and failures. */
static void
test_limits(void)
{
	struct buf		 b = BUF_INIT, why = BUF_INIT;
	struct tlsrpt_dgram	*g = NULL;
	int			 i;

	buf_init(&b, DGRAM_MAX * 2);
	buf_puts(&b, "{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,"
	    "\"f\":0,\"x\":\"");
	while (b.b_len < DGRAM_MAX)
		buf_puts(&b, "xxxxxxxxxxxxxxxx");
	buf_puts(&b, "\"}]}");
	CHECK_INT(tlsrpt_dgram_parse(buf_str(&b), b.b_len, &g, &why),
	    ST_INVALID);
	CHECK(strstr(buf_str(&why), "longer than") != NULL);

	buf_reset(&b);
	buf_reset(&why);
	buf_puts(&b, "{\"d\":\"a.test\",\"policies\":[");
	for (i = 0; i <= DGRAM_POLICIES_MAX; i++)
		buf_printf(&b, "%s{\"policy-type\":9,\"f\":0}", i ? "," : "");
	buf_puts(&b, "]}");
	CHECK_INT(tlsrpt_dgram_parse(buf_str(&b), b.b_len, &g, &why),
	    ST_INVALID);
	CHECK(strstr(buf_str(&why), "policies") != NULL);

	buf_reset(&b);
	buf_reset(&why);
	buf_puts(&b, "{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,"
	    "\"f\":1,\"failure-details\":[");
	for (i = 0; i <= DGRAM_FAILS_MAX; i++)
		buf_printf(&b, "%s{\"c\":201}", i ? "," : "");
	buf_puts(&b, "]}]}");
	CHECK_INT(tlsrpt_dgram_parse(buf_str(&b), b.b_len, &g, &why),
	    ST_INVALID);
	CHECK(strstr(buf_str(&why), "failure-details") != NULL);
	buf_free(&b);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_table);
	RUN(test_flags);
	RUN(test_limits);
	return harness_done("test_tlsrpt_dgram");
}
