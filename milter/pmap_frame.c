/*
 * pmap_frame.c - netstring and line framing of policy-map requests
 * (see pmap_frame.h)
 */
#include <ctype.h>
#include <string.h>

#include "pmap_frame.h"
#include "pmap_reply.h"

/* line - a line request: up to LF, or everything at EOF */
static int
line(const char *in, size_t len, int eof, size_t *reqlen, size_t *consume,
    const char **err)
{
	const char	*nl = memchr(in, '\n', len);
	size_t		 n;

	if (nl == NULL && !eof) {
		if (len > PMAP_LINE_MAX) {
			*err = "request line too long";
			return -1;
		}
		return 0;
	}
	n = nl ? (size_t)(nl - in) : len;
	if (n > PMAP_LINE_MAX) {
		*err = "request line too long";
		return -1;
	}
	while (n > 0 && (in[n - 1] == '\r' || in[n - 1] == ' ' ||
	    in[n - 1] == '\t'))
		n--;
	if (memchr(in, '\0', n) != NULL) {
		*err = "NUL in request";
		return -1;
	}
	*reqlen = n;
	*consume = len;			/* one request per line connection */
	return 1;
}

/* netstring - "<len>:<request>," */
static int
netstring(const char *in, size_t len, size_t *off, size_t *reqlen,
    size_t *consume, const char **err)
{
	size_t	i, n = 0, hdr;

	for (i = 0; i < len && isdigit((unsigned char)in[i]); i++) {
		if (i == 1 && in[0] == '0') {	/* "0" is the only 0... */
			*err = "malformed netstring (leading zero)";
			return -1;
		}
		n = n * 10 + (size_t)(in[i] - '0');
		if (n > PMAP_MAX_QUERY) {
			*err = "request longer than PMAP_MAX_QUERY";
			return -1;
		}
	}
	if (i == len)
		return 0;
	if (i == 0 || in[i] != ':') {
		*err = "malformed netstring";
		return -1;
	}
	hdr = i + 1;
	if (len < hdr + n + 1)
		return 0;
	if (in[hdr + n] != ',') {
		*err = "netstring without ','";
		return -1;
	}
	if (n == 0 || memchr(in + hdr, '\0', n) != NULL) {
		*err = n ? "NUL in request" : "empty request";
		return -1;
	}
	*off = hdr;
	*reqlen = n;
	*consume = hdr + n + 1;
	return 1;
}

int
pmap_frame_next(enum pmap_frame_mode *mode, const char *in, size_t len,
    int eof, size_t *off, size_t *reqlen, size_t *consume, const char **err)
{
	size_t	i;

	*off = *reqlen = *consume = 0;
	*err = NULL;
	if (len == 0)
		return 0;
	if (*mode == PMAP_FRAME_UNKNOWN) {
		for (i = 0; i < len && isdigit((unsigned char)in[i]); i++)
			;
		/*
		 * Digits so far: a netstring's length or the start of a line
		 * (an Exim key may begin with digits: "1234567.example").
		 * Wait for the byte after them, however the reads fell
		 * (found by fuzz_pmap_stream: 7 digits in one read were
		 * taken for an oversize netstring).  Digits beyond a line's
		 * limit are neither: an oversize netstring.
		 */
		if (i == len && !eof) {
			if (len <= PMAP_LINE_MAX)
				return 0;
			*mode = PMAP_FRAME_NETSTRING;
		} else
			*mode = i > 0 && i < len && in[i] == ':' ?
			    PMAP_FRAME_NETSTRING : PMAP_FRAME_LINE;
	}
	if (*mode == PMAP_FRAME_LINE)
		return line(in, len, eof, reqlen, consume, err);
	return netstring(in, len, off, reqlen, consume, err);
}

size_t
pmap_frame_header(size_t n, char *hdr)
{
	char	tmp[PMAP_FRAME_HDR], *p = tmp + sizeof(tmp);
	size_t	hlen;

	/* no printf on the hot path */
	*--p = ':';
	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	hlen = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(hdr, p, hlen);
	return hlen;
}
