/*
 * test_http_resp.c - the streaming HTTP/1.x response parser
 * (http_resp.c): every row is fed whole, byte by byte and in two
 * halves, and must give the same answer each way: complete or not, the
 * status, the body, the Content-Type, the failure kind and its reason
 * (STS-HTTP-4 for the cap)
 */
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "http.h"
#include "http_resp.h"

#define CRLF	"\r\n"
#define OK200	"HTTP/1.1 200 OK" CRLF

struct row {
	const char	*name;
	const char	*in;
	size_t		 max;
	int		 feed;		/* http_resp_feed's last answer */
	int		 eof;		/* then http_resp_eof's (2: not called) */
	long		 status;
	const char	*body;		/* NULL: none expected (failed) */
	const char	*ctype;		/* NULL: none */
	enum http_fail	 fail;
	const char	*why;		/* a substring of the reason */
};

static const struct row rows[] = {
	{ "content-length", OK200 "Content-Type: text/plain" CRLF
	    "Content-Length: 5" CRLF CRLF "hello", 100, 1, 2, 200, "hello",
	    "text/plain", HTTP_FAIL_NONE, "" },
	{ "bytes after the body ignored", OK200 "Content-Length: 2" CRLF CRLF
	    "hiTHERE", 100, 1, 2, 200, "hi", NULL, HTTP_FAIL_NONE, "" },
	{ "bare LF line ends", "HTTP/1.0 404 Not Found\nContent-Length: 1\n"
	    "\nx", 100, 1, 2, 404, "x", NULL, HTTP_FAIL_NONE, "" },
	{ "no reason phrase", "HTTP/1.1 200" CRLF "Content-Length: 0" CRLF
	    CRLF, 100, 1, 2, 200, "", NULL, HTTP_FAIL_NONE, "" },
	{ "body to the close", OK200 "Content-Type:  text/plain; charset=utf-8 "
	    CRLF CRLF "mode: enforce", 100, 0, 1, 200, "mode: enforce",
	    "text/plain; charset=utf-8", HTTP_FAIL_NONE, "" },
	{ "chunked", OK200 "Transfer-Encoding: chunked" CRLF CRLF
	    "5;ext=1" CRLF "hello" CRLF "1" CRLF "!" CRLF "0" CRLF
	    "X-Trailer: t" CRLF CRLF, 100, 1, 2, 200, "hello!", NULL,
	    HTTP_FAIL_NONE, "" },
	{ "chunked, any case", OK200 "Transfer-Encoding: Chunked" CRLF CRLF
	    "A" CRLF "0123456789" CRLF "0" CRLF CRLF, 100, 1, 2, 200,
	    "0123456789", NULL, HTTP_FAIL_NONE, "" },
	{ "both framings refused (RFC 9112 6.3)", OK200 "Content-Length: 99"
	    CRLF "Transfer-Encoding: chunked" CRLF CRLF "A" CRLF, 100, -1, 2,
	    200, NULL, NULL, HTTP_FAIL_PROTO, "both Transfer-Encoding" },
	{ "Transfer-Encoding in HTTP/1.0", "HTTP/1.0 200 OK" CRLF
	    "Transfer-Encoding: chunked" CRLF CRLF, 100, -1, 2, 200, NULL,
	    NULL, HTTP_FAIL_PROTO, "HTTP/1.0" },
	{ "interim 100 and 103 skipped", "HTTP/1.1 100 Continue" CRLF CRLF
	    "HTTP/1.1 103 Early Hints" CRLF "Content-Type: x/y" CRLF CRLF
	    OK200 "Content-Length: 1" CRLF CRLF "z", 100, 1, 2, 200, "z",
	    NULL, HTTP_FAIL_NONE, "" },
	{ "204 has no body", "HTTP/1.1 204 No Content" CRLF CRLF "junk", 100,
	    1, 2, 204, "", NULL, HTTP_FAIL_NONE, "" },
	{ "304 has no body", "HTTP/1.1 304 Not Modified" CRLF
	    "Content-Length: 10" CRLF CRLF, 100, 1, 2, 304, "", NULL,
	    HTTP_FAIL_NONE, "" },
	{ "301 passed through, Location not followed", "HTTP/1.1 301 Moved"
	    CRLF "Location: https://elsewhere/" CRLF "Content-Length: 0" CRLF
	    CRLF, 100, 1, 2, 301, "", NULL, HTTP_FAIL_NONE, "" },
	{ "equal duplicate Content-Length", OK200 "Content-Length: 1" CRLF
	    "content-length: 1" CRLF CRLF "a", 100, 1, 2, 200, "a", NULL,
	    HTTP_FAIL_NONE, "" },
	/* the cap (STS-HTTP-4) */
	{ "exactly the cap", OK200 "Content-Length: 4" CRLF CRLF "abcd", 4, 1,
	    2, 200, "abcd", NULL, HTTP_FAIL_NONE, "" },
	{ "Content-Length past the cap", OK200 "Content-Length: 5" CRLF CRLF,
	    4, -1, 2, 200, NULL, NULL, HTTP_FAIL_TOOBIG, "larger than 4" },
	{ "huge Content-Length saturates", OK200 "Content-Length: "
	    "99999999999999999999999999" CRLF CRLF, 4, -1, 2, 200, NULL, NULL,
	    HTTP_FAIL_TOOBIG, "larger than 4" },
	{ "close-delimited body past the cap", OK200 CRLF "abcde", 4, -1, 2,
	    200, NULL, NULL, HTTP_FAIL_TOOBIG, "larger than 4" },
	{ "chunks past the cap", OK200 "Transfer-Encoding: chunked" CRLF CRLF
	    "3" CRLF "abc" CRLF "2" CRLF "de" CRLF, 4, -1, 2, 200, NULL, NULL,
	    HTTP_FAIL_TOOBIG, "larger than 4" },
	/* malformed */
	{ "empty reply", "", 100, 0, -1, 0, NULL, NULL, HTTP_FAIL_PROTO,
	    "empty reply" },
	{ "not HTTP", "SSH-2.0-OpenSSH" CRLF, 100, -1, 2, 0, NULL, NULL,
	    HTTP_FAIL_PROTO, "status line" },
	{ "HTTP/2 text", "HTTP/2 200" CRLF, 100, -1, 2, 0, NULL, NULL,
	    HTTP_FAIL_PROTO, "status line" },
	{ "status 099", "HTTP/1.1 099 x" CRLF, 100, -1, 2, 99, NULL, NULL,
	    HTTP_FAIL_PROTO, "bad status" },
	{ "status 2000", "HTTP/1.1 2000 x" CRLF, 100, -1, 2, 0, NULL, NULL,
	    HTTP_FAIL_PROTO, "bad status" },
	{ "status with letters", "HTTP/1.1 2x0 x" CRLF, 100, -1, 2, 0, NULL,
	    NULL, HTTP_FAIL_PROTO, "bad status" },
	{ "101 refused", "HTTP/1.1 101 Switching" CRLF CRLF, 100, -1, 2, 101,
	    NULL, NULL, HTTP_FAIL_PROTO, "101" },
	{ "closed in the headers", OK200 "Content-Le", 100, 0, -1, 200, NULL,
	    NULL, HTTP_FAIL_PROTO, "closed in the headers" },
	{ "closed in the status line", "HTTP/1.1 2", 100, 0, -1, 0, NULL,
	    NULL, HTTP_FAIL_PROTO, "closed in the headers" },
	{ "truncated Content-Length body", OK200 "Content-Length: 10" CRLF
	    CRLF "abc", 100, 0, -1, 200, NULL, NULL, HTTP_FAIL_PROTO,
	    "7 bytes remaining" },
	{ "truncated chunked body", OK200 "Transfer-Encoding: chunked" CRLF
	    CRLF "5" CRLF "ab", 100, 0, -1, 200, NULL, NULL, HTTP_FAIL_PROTO,
	    "chunked body" },
	{ "no trailer end", OK200 "Transfer-Encoding: chunked" CRLF CRLF
	    "0" CRLF, 100, 0, -1, 200, NULL, NULL, HTTP_FAIL_PROTO,
	    "chunked body" },
	{ "gzip coding", OK200 "Transfer-Encoding: gzip, chunked" CRLF CRLF,
	    100, -1, 2, 200, NULL, NULL, HTTP_FAIL_PROTO, "transfer coding" },
	{ "conflicting Content-Length", OK200 "Content-Length: 1" CRLF
	    "Content-Length: 2" CRLF CRLF, 100, -1, 2, 200, NULL, NULL,
	    HTTP_FAIL_PROTO, "conflicting" },
	{ "Content-Length list", OK200 "Content-Length: 1, 1" CRLF CRLF, 100,
	    -1, 2, 200, NULL, NULL, HTTP_FAIL_PROTO, "bad Content-Length" },
	{ "negative Content-Length", OK200 "Content-Length: -1" CRLF CRLF,
	    100, -1, 2, 200, NULL, NULL, HTTP_FAIL_PROTO,
	    "bad Content-Length" },
	{ "empty Content-Length", OK200 "Content-Length:" CRLF CRLF, 100, -1,
	    2, 200, NULL, NULL, HTTP_FAIL_PROTO, "bad Content-Length" },
	{ "obs-fold", OK200 "X-A: a" CRLF " b" CRLF CRLF, 100, -1, 2, 200,
	    NULL, NULL, HTTP_FAIL_PROTO, "folding" },
	{ "space before the colon", OK200 "Content-Length : 1" CRLF CRLF,
	    100, -1, 2, 200, NULL, NULL, HTTP_FAIL_PROTO, "bad header name" },
	{ "no colon", OK200 "garbage" CRLF CRLF, 100, -1, 2, 200, NULL, NULL,
	    HTTP_FAIL_PROTO, "malformed header" },
	{ "NUL in a value", OK200 "X-A: a\0b" CRLF CRLF, 100, -1, 2, 200,
	    NULL, NULL, HTTP_FAIL_PROTO, "control character" },
	{ "bad chunk size", OK200 "Transfer-Encoding: chunked" CRLF CRLF
	    "zz" CRLF, 100, -1, 2, 200, NULL, NULL, HTTP_FAIL_PROTO,
	    "bad chunk size" },
	{ "leading zeros in a chunk size", OK200 "Transfer-Encoding: chunked"
	    CRLF CRLF "00000000000000000001" CRLF "a" CRLF "0" CRLF CRLF, 100,
	    1, 2, 200, "a", NULL, HTTP_FAIL_NONE, "" },
	{ "chunk size past 64 bits", OK200 "Transfer-Encoding: chunked" CRLF
	    CRLF "10000000000000000" CRLF, 100, -1, 2, 200, NULL, NULL,
	    HTTP_FAIL_PROTO, "chunk size too long" },
	{ "chunk longer than its size", OK200 "Transfer-Encoding: chunked"
	    CRLF CRLF "1" CRLF "ab" CRLF, 100, -1, 2, 200, NULL, NULL,
	    HTTP_FAIL_PROTO, "longer than its size" },
	{ "nine interim responses", "HTTP/1.1 100 a" CRLF CRLF
	    "HTTP/1.1 100 a" CRLF CRLF "HTTP/1.1 100 a" CRLF CRLF
	    "HTTP/1.1 100 a" CRLF CRLF "HTTP/1.1 100 a" CRLF CRLF
	    "HTTP/1.1 100 a" CRLF CRLF "HTTP/1.1 100 a" CRLF CRLF
	    "HTTP/1.1 100 a" CRLF CRLF "HTTP/1.1 100 a" CRLF CRLF, 100, -1, 2,
	    100, NULL, NULL, HTTP_FAIL_PROTO, "interim" },
};

/* the same, but the close comes without TLS close_notify (a FIN anyone
 * on the path can forge): a body delimited by it may be cut short */
static const struct row dirty_rows[] = {
	{ "body to a close without close_notify", OK200 CRLF "max_age: 6",
	    100, 0, -1, 200, NULL, NULL, HTTP_FAIL_PROTO, "close_notify" },
	{ "sized body, then a close without close_notify", OK200
	    "Content-Length: 2" CRLF CRLF "ok", 100, 1, 2, 200, "ok", NULL,
	    HTTP_FAIL_NONE, "" },
	{ "truncated sized body, close without close_notify", OK200
	    "Content-Length: 5" CRLF CRLF "ok", 100, 0, -1, 200, NULL, NULL,
	    HTTP_FAIL_PROTO, "3 bytes remaining" },
	{ "chunked body, then a close without close_notify", OK200
	    "Transfer-Encoding: chunked" CRLF CRLF "2" CRLF "ok" CRLF "0" CRLF
	    CRLF, 100, 1, 2, 200, "ok", NULL, HTTP_FAIL_NONE, "" },
};

/* input: the row's bytes (with embedded NULs: sizeof - 1 is not known
 * here, so rows with a NUL carry it in the name's test below) */
static size_t
row_len(const struct row *r)
{
	if (strcmp(r->name, "NUL in a value") == 0)
		return strlen(OK200 "X-A: a") + 1 + strlen("b" CRLF CRLF);
	return strlen(r->in);
}

/* run - feed r->in in pieces of at most step bytes (0: whole) */
static void
run(const struct row *r, size_t step, const char *how, int dirty)
{
	struct http_resp	p;
	struct buf		body, why = BUF_INIT;
	size_t			len = row_len(r), at = 0, n;
	int			rc = 0;

	buf_init(&body, r->max);
	http_resp_init(&p, &body, r->max);
	do {
		n = step == 0 || step > len - at ? len - at : step;
		rc = http_resp_feed(&p, r->in + at, n, &why);
		at += n;
	} while (rc == 0 && at < len);
	CHECKF(rc == r->feed, "%s (%s): feed %d", r->name, how, rc);
	if (r->eof != 2) {
		rc = http_resp_eof(&p, !dirty, &why);
		CHECKF(rc == r->eof, "%s (%s): eof %d", r->name, how, rc);
	}
	CHECKF(p.r_status == r->status, "%s (%s): status %ld", r->name, how,
	    p.r_status);
	CHECKF(p.r_fail == r->fail, "%s (%s): fail %s", r->name, how,
	    http_fail_str(p.r_fail));
	CHECKF(strstr(buf_str(&why), r->why) != NULL && (r->why[0] != '\0' ||
	    why.b_len == 0), "%s (%s): why \"%s\"", r->name, how,
	    buf_str(&why));
	if (r->body != NULL)
		CHECKF(strcmp(buf_str(&body), r->body) == 0 &&
		    body.b_len == strlen(r->body), "%s (%s): body \"%s\"",
		    r->name, how, buf_str(&body));
	CHECKF(body.b_len <= r->max, "%s (%s): body past the cap", r->name,
	    how);
	CHECKF((r->ctype == NULL && p.r_ctype == NULL) || (r->ctype != NULL &&
	    p.r_ctype != NULL && strcmp(r->ctype, p.r_ctype) == 0),
	    "%s (%s): ctype %s", r->name, how, p.r_ctype ? p.r_ctype : "-");
	http_resp_clear(&p);
	buf_free(&body);
	buf_free(&why);
}

static void
test_http_resp_table(void)
{
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run(&rows[i], 0, "whole", 0);
		run(&rows[i], 1, "byte by byte", 0);
		run(&rows[i], row_len(&rows[i]) / 2 + 1, "two halves", 0);
	}
	for (i = 0; i < sizeof(dirty_rows) / sizeof(dirty_rows[0]); i++) {
		run(&dirty_rows[i], 0, "whole", 1);
		run(&dirty_rows[i], 1, "byte by byte", 1);
	}
}

/* lines and headers at their limits and one byte past them */
static void
test_http_resp_limits(void)
{
	struct http_resp	p;
	struct buf		body, why, in;
	size_t			i;
	int			rc;

	/* a header line of HTTP_RESP_LINE bytes with its CRLF: accepted */
	buf_init(&in, 0);
	buf_puts(&in, OK200 "X-A: ");
	for (i = strlen("X-A: ") + 2; i < HTTP_RESP_LINE; i++)
		buf_putc(&in, 'a');
	buf_puts(&in, CRLF "Content-Length: 0" CRLF CRLF);
	buf_init(&body, 10);
	buf_init(&why, 0);
	http_resp_init(&p, &body, 10);
	rc = http_resp_feed(&p, in.b_data, in.b_len, &why);
	CHECKF(rc == 1, "line at the limit: %d %s", rc, buf_str(&why));
	http_resp_clear(&p);

	/* one byte longer: refused, whether whole or split */
	buf_reset(&in);
	buf_puts(&in, OK200 "X-A: ");
	for (i = strlen("X-A: ") + 2; i < HTTP_RESP_LINE + 1; i++)
		buf_putc(&in, 'a');
	buf_puts(&in, CRLF CRLF);
	buf_reset(&why);
	http_resp_init(&p, &body, 10);
	rc = http_resp_feed(&p, in.b_data, 100, &why);
	rc = rc == 0 ? http_resp_feed(&p, in.b_data + 100, in.b_len - 100,
	    &why) : rc;
	CHECKF(rc == -1 && p.r_fail == HTTP_FAIL_PROTO &&
	    strstr(buf_str(&why), "line too long") != NULL, "line past: %d %s",
	    rc, buf_str(&why));
	http_resp_clear(&p);

	/* many short headers past HTTP_RESP_HEAD in all */
	buf_reset(&in);
	buf_puts(&in, OK200);
	for (i = 0; i < HTTP_RESP_HEAD / 16 + 1; i++)
		buf_puts(&in, "X-B: 0123456789" CRLF);	/* 17 bytes */
	buf_reset(&why);
	http_resp_init(&p, &body, 10);
	rc = http_resp_feed(&p, in.b_data, in.b_len, &why);
	CHECKF(rc == -1 && strstr(buf_str(&why), "headers too long") != NULL,
	    "headers past: %d %s", rc, buf_str(&why));
	/* a failed parser stays failed, whatever comes */
	CHECK(http_resp_feed(&p, CRLF, 2, &why) == -1);
	CHECK(http_resp_eof(&p, 1, &why) == -1);
	http_resp_clear(&p);

	/* chunk extensions cannot carry more than the cap plus
	 * HTTP_RESP_HEAD bytes of framing for a body within the cap */
	buf_reset(&in);
	buf_puts(&in, OK200 "Transfer-Encoding: chunked" CRLF CRLF);
	for (i = 0; i < (HTTP_RESP_HEAD + 10) / 1000 + 1; i++) {
		buf_puts(&in, "1;x=");
		for (rc = 0; rc < 990; rc++)
			buf_putc(&in, 'e');
		buf_puts(&in, CRLF "a" CRLF);
	}
	buf_reset(&why);
	buf_free(&body);
	buf_init(&body, 100);
	http_resp_init(&p, &body, 100);
	rc = http_resp_feed(&p, in.b_data, in.b_len, &why);
	CHECKF(rc == -1 && p.r_fail == HTTP_FAIL_PROTO &&
	    strstr(buf_str(&why), "framing too long") != NULL,
	    "framing past: %d %s", rc, buf_str(&why));
	http_resp_clear(&p);
	buf_free(&in);
	buf_free(&body);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_http_resp_table);
	RUN(test_http_resp_limits);
	return harness_done("test_http_resp");
}
