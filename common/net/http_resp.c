/*
 * http_resp.c - an HTTP/1.x response, parsed as it streams in
 *
 * SYNOPSIS
 *	#include "http_resp.h"
 *
 *	void http_resp_init(struct http_resp *p, struct buf *body,
 *	    size_t max);
 *	int http_resp_feed(struct http_resp *p, const char *data, size_t n,
 *	    struct buf *why);
 *	int http_resp_eof(struct http_resp *p, int clean, struct buf *why);
 *	void http_resp_clear(struct http_resp *p);
 *
 * DESCRIPTION
 *	The contract is in http_resp.h.  The parser is a state machine
 *	over bytes: lines (the status line, header lines, chunk-size
 *	lines, the CRLF after a chunk, trailer lines) are gathered in
 *	r_line, so a response may arrive split anywhere; body bytes go
 *	to the body through http_body_add(), the cap's one rule
 *	(STS-HTTP-4), whether counted by Content-Length, by chunks or by
 *	the close.
 *
 * OWNERSHIP
 *	data and why are borrowed; the body is the caller's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http.h"
#include "http_body.h"
#include "http_resp.h"
#include "xmalloc.h"

enum {
	RS_STATUS = 0,		/* the status line */
	RS_HEADER,		/* header lines */
	RS_LEN,			/* Content-Length body */
	RS_CLOSE,		/* body to the close */
	RS_CHUNK_SIZE,
	RS_CHUNK_DATA,
	RS_CHUNK_END,		/* the CRLF after a chunk */
	RS_TRAILER,
	RS_DONE,
	RS_FAILED
};

void
http_resp_init(struct http_resp *p, struct buf *body, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->r_body = body;
	p->r_max = max;
	p->r_state = RS_STATUS;
	p->r_fail = HTTP_FAIL_NONE;
	buf_init(&p->r_line, HTTP_RESP_LINE);
}

void
http_resp_clear(struct http_resp *p)
{
	buf_free(&p->r_line);
	free(p->r_ctype);
	p->r_ctype = NULL;
}

/* fail - p failed with f; one reason in why; -1 */
static int
fail(struct http_resp *p, enum http_fail f, struct buf *why, const char *msg)
{
	p->r_state = RS_FAILED;
	p->r_fail = f;
	buf_puts(why, msg);
	return -1;
}

static int
toobig(struct http_resp *p, struct buf *why)
{
	p->r_state = RS_FAILED;
	p->r_fail = HTTP_FAIL_TOOBIG;
	buf_printf(why, "body larger than %zu bytes", p->r_max);
	return -1;
}

/* tchar - RFC 9110 5.6.2 */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/* trim - [*s, *e) without leading and trailing SP and HTAB */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* status_line - "HTTP/1.<d> <ddd>[ <reason>]" */
static int
status_line(struct http_resp *p, const char *l, size_t n, struct buf *why)
{
	size_t	i;

	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' ||
	    l[7] > '9' || l[8] != ' ')
		return fail(p, HTTP_FAIL_PROTO, why, "not an HTTP/1.x "
		    "status line");
	for (i = 9; i < 12; i++)
		if (l[i] < '0' || l[i] > '9')
			return fail(p, HTTP_FAIL_PROTO, why, "bad status code");
	if (n > 12 && l[12] != ' ')
		return fail(p, HTTP_FAIL_PROTO, why, "bad status code");
	for (i = 12; i < n; i++)
		if (((unsigned char)l[i] < 0x20 && l[i] != '\t') ||
		    l[i] == 0x7f)
			return fail(p, HTTP_FAIL_PROTO, why, "control "
			    "character in the status line");
	p->r_status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	p->r_minor = l[7] - '0';
	if (p->r_status < 100 || p->r_status > 599)
		return fail(p, HTTP_FAIL_PROTO, why, "bad status code");
	if (p->r_status == 101)
		return fail(p, HTTP_FAIL_PROTO, why, "unexpected 101 "
		    "Switching Protocols");
	p->r_state = RS_HEADER;
	return 0;
}

/* content_length - digits only; a larger value than uint64 saturates */
static int
content_length(struct http_resp *p, const char *s, const char *e,
    struct buf *why)
{
	uint64_t	v = 0;

	if (s == e)
		return fail(p, HTTP_FAIL_PROTO, why, "bad Content-Length");
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return fail(p, HTTP_FAIL_PROTO, why,
			    "bad Content-Length");
		v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 +
		    (uint64_t)(*s - '0');
	}
	if (p->r_haslen && p->r_len != v)
		return fail(p, HTTP_FAIL_PROTO, why, "conflicting "
		    "Content-Length headers");
	p->r_haslen = 1;
	p->r_len = v;
	return 0;
}

/* header_line - one "name: value" line; trailer lines are only checked */
static int
header_line(struct http_resp *p, const char *l, size_t n, int keep,
    struct buf *why)
{
	const char	*colon, *s, *e = l + n;
	size_t		 i, nl;

	if (l[0] == ' ' || l[0] == '\t')
		return fail(p, HTTP_FAIL_PROTO, why, "obsolete header line "
		    "folding");
	if ((colon = memchr(l, ':', n)) == NULL || colon == l)
		return fail(p, HTTP_FAIL_PROTO, why, "malformed header line");
	nl = (size_t)(colon - l);
	for (i = 0; i < nl; i++)
		if (!tchar((unsigned char)l[i]))
			return fail(p, HTTP_FAIL_PROTO, why, "bad header "
			    "name");
	for (s = colon + 1; s < e; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return fail(p, HTTP_FAIL_PROTO, why, "control "
			    "character in a header value");
	if (!keep)
		return 0;
	s = colon + 1;
	trim(&s, &e);
	if (nl == 14 && strncasecmp(l, "Content-Length", nl) == 0)
		return content_length(p, s, e, why);
	if (nl == 17 && strncasecmp(l, "Transfer-Encoding", nl) == 0) {
		if ((size_t)(e - s) != 7 || strncasecmp(s, "chunked", 7) != 0)
			return fail(p, HTTP_FAIL_PROTO, why, "unsupported "
			    "transfer coding");
		if (p->r_minor == 0)
			return fail(p, HTTP_FAIL_PROTO, why, "Transfer-Encoding "
			    "in an HTTP/1.0 response");
		p->r_chunked = 1;
	} else if (nl == 12 && strncasecmp(l, "Content-Type", nl) == 0) {
		free(p->r_ctype);
		p->r_ctype = xstrndup(s, (size_t)(e - s));
	}
	return 0;
}

/* head_end - the empty line: an interim response ends, or the body starts */
static int
head_end(struct http_resp *p, struct buf *why)
{
	if (p->r_status < 200) {
		if (++p->r_interim > HTTP_RESP_INTERIM)
			return fail(p, HTTP_FAIL_PROTO, why, "too many "
			    "interim responses");
		free(p->r_ctype);
		p->r_ctype = NULL;
		p->r_chunked = p->r_haslen = 0;
		p->r_len = 0;
		p->r_state = RS_STATUS;
		return 0;
	}
	if (p->r_chunked && p->r_haslen)		/* RFC 9112 6.3 */
		return fail(p, HTTP_FAIL_PROTO, why, "both Transfer-Encoding "
		    "and Content-Length");
	if (p->r_status == 204 || p->r_status == 304)
		p->r_state = RS_DONE;
	else if (p->r_chunked)
		p->r_state = RS_CHUNK_SIZE;
	else if (p->r_haslen) {
		if (p->r_len > p->r_max)
			return toobig(p, why);
		p->r_left = p->r_len;
		p->r_state = p->r_len == 0 ? RS_DONE : RS_LEN;
	} else
		p->r_state = RS_CLOSE;
	return p->r_state == RS_DONE;
}

/* chunk_size - "<hex>[ext]"; 0 starts the trailer */
static int
chunk_size(struct http_resp *p, const char *l, size_t n, struct buf *why)
{
	uint64_t	v = 0;
	size_t		i;
	int		d;

	for (i = 0; i < n; i++) {
		if (l[i] >= '0' && l[i] <= '9')
			d = l[i] - '0';
		else if ((l[i] | 0x20) >= 'a' && (l[i] | 0x20) <= 'f')
			d = (l[i] | 0x20) - 'a' + 10;
		else
			break;
		if (v > UINT64_MAX >> 4)
			return fail(p, HTTP_FAIL_PROTO, why, "chunk size too "
			    "long");
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
		return fail(p, HTTP_FAIL_PROTO, why, "bad chunk size");
	if (v == 0) {
		p->r_state = RS_TRAILER;
		return 0;
	}
	if (v > p->r_max - p->r_body->b_len)
		return toobig(p, why);
	p->r_left = v;
	p->r_state = RS_CHUNK_DATA;
	return 0;
}

/* line - one whole line (without its CR LF) in the state it ends */
static int
line(struct http_resp *p, const char *l, size_t n, struct buf *why)
{
	switch (p->r_state) {
	case RS_STATUS:
		return status_line(p, l, n, why);
	case RS_HEADER:
		if (n == 0)
			return head_end(p, why);
		return header_line(p, l, n, 1, why);
	case RS_CHUNK_SIZE:
		return chunk_size(p, l, n, why);
	case RS_CHUNK_END:
		if (n != 0)
			return fail(p, HTTP_FAIL_PROTO, why, "chunk data "
			    "longer than its size");
		p->r_state = RS_CHUNK_SIZE;
		return 0;
	case RS_TRAILER:
		if (n == 0) {
			p->r_state = RS_DONE;
			return 1;
		}
		return header_line(p, l, n, 0, why);
	}
	return fail(p, HTTP_FAIL_PROTO, why, "internal: line in a body");
}

/* line_bytes - gather a line from data; *used bytes taken; a whole
 * line is handed to line() */
static int
line_bytes(struct http_resp *p, const char *data, size_t n, size_t *used,
    struct buf *why)
{
	const char	*nl = memchr(data, '\n', n);
	size_t		 take = nl != NULL ? (size_t)(nl - data) + 1 : n;
	const char	*l;
	size_t		 len;
	int		 rc, head = p->r_state == RS_STATUS ||
			    p->r_state == RS_HEADER || p->r_state == RS_TRAILER;

	*used = take;
	if (p->r_line.b_len + take > HTTP_RESP_LINE)
		return fail(p, HTTP_FAIL_PROTO, why, head ? "header line too "
		    "long" : "chunk line too long");
	if (head && (p->r_head += take) > HTTP_RESP_HEAD)
		return fail(p, HTTP_FAIL_PROTO, why, "headers too long");
	if (!head && (p->r_frame += take) > HTTP_RESP_HEAD + (uint64_t)p->r_max)
		return fail(p, HTTP_FAIL_PROTO, why, "chunked framing too "
		    "long");
	if (nl == NULL) {
		(void)buf_append(&p->r_line, data, take);
		return 0;
	}
	if (p->r_line.b_len == 0) {		/* the usual case: no copy */
		l = data;
		len = take - 1;
	} else {
		(void)buf_append(&p->r_line, data, take - 1);
		l = buf_str(&p->r_line);
		len = p->r_line.b_len;
	}
	if (len > 0 && l[len - 1] == '\r')
		len--;
	rc = line(p, l, len, why);
	buf_reset(&p->r_line);
	return rc;
}

/* body_bytes - body bytes into the body; *used taken */
static int
body_bytes(struct http_resp *p, const char *data, size_t n, size_t *used,
    struct buf *why)
{
	int	big = 0;

	if (p->r_state != RS_CLOSE && n > p->r_left)
		n = (size_t)p->r_left;
	*used = n;
	if (n == 0)
		return 0;
	if (http_body_add(p->r_body, p->r_max, data, 1, n, &big) != n)
		return toobig(p, why);
	if (p->r_state == RS_CLOSE)
		return 0;
	if ((p->r_left -= n) > 0)
		return 0;
	if (p->r_state == RS_CHUNK_DATA) {
		p->r_state = RS_CHUNK_END;
		return 0;
	}
	p->r_state = RS_DONE;
	return 1;
}

int
http_resp_feed(struct http_resp *p, const char *data, size_t n,
    struct buf *why)
{
	size_t	used;
	int	rc = 0;

	if (p->r_state == RS_DONE)
		return 1;
	if (p->r_state == RS_FAILED)
		return -1;
	if (n > 0)
		p->r_any = 1;
	while (n > 0 && rc == 0) {
		if (p->r_state == RS_LEN || p->r_state == RS_CLOSE ||
		    p->r_state == RS_CHUNK_DATA)
			rc = body_bytes(p, data, n, &used, why);
		else
			rc = line_bytes(p, data, n, &used, why);
		data += used;
		n -= used;
	}
	return rc;
}

int
http_resp_eof(struct http_resp *p, int clean, struct buf *why)
{
	switch (p->r_state) {
	case RS_DONE:
		return 1;
	case RS_FAILED:
		return -1;
	case RS_CLOSE:
		if (!clean)
			return fail(p, HTTP_FAIL_PROTO, why, "connection closed "
			    "without close_notify: the body may be cut short");
		p->r_state = RS_DONE;
		return 1;
	case RS_STATUS:
		if (!p->r_any)
			return fail(p, HTTP_FAIL_PROTO, why, "empty reply "
			    "from server");
		/* FALLTHROUGH */
	case RS_HEADER:
		return fail(p, HTTP_FAIL_PROTO, why, "connection closed in "
		    "the headers");
	case RS_LEN:
		p->r_state = RS_FAILED;
		p->r_fail = HTTP_FAIL_PROTO;
		buf_printf(why, "transfer closed with %llu bytes remaining",
		    (unsigned long long)p->r_left);
		return -1;
	}
	return fail(p, HTTP_FAIL_PROTO, why, "connection closed in a "
	    "chunked body");
}
