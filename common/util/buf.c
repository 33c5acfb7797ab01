/*
 * buf.c - bounded, always NUL-terminated byte buffer
 *
 * Growth is overflow-checked; the cap b_max is enforced on every append,
 * which is how network readers bound what they keep (STS-HTTP-4).
 * Allocation failure is fatal (xmalloc family).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lex.h"
#include "xmalloc.h"

#define BUF_DEFAULT_MAX	(16u * 1024 * 1024)

/* buf_init - empty buffer with a cap */
void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->b_max = max;
}

/* buf_free - release storage; the buffer stays usable and empty */
void
buf_free(struct buf *b)
{
	size_t	max = b->b_max;

	free(b->b_data);
	memset(b, 0, sizeof(*b));
	b->b_max = max;
}

/* buf_reset - make empty, keep storage */
void
buf_reset(struct buf *b)
{
	b->b_len = 0;
	b->b_trunc = 0;
	if (b->b_data != NULL)
		b->b_data[0] = '\0';
}

static size_t
buf_cap(const struct buf *b)
{
	return b->b_max ? b->b_max : BUF_DEFAULT_MAX;
}

/* buf_grow - room for len more bytes plus NUL, within the cap */
static size_t
buf_grow(struct buf *b, size_t len)
{
	size_t	cap = buf_cap(b), want, nsize;

	if (b->b_len >= cap)
		return 0;
	if (len > cap - b->b_len)
		len = cap - b->b_len;
	want = b->b_len + len + 1;
	if (want > b->b_size) {
		nsize = b->b_size ? b->b_size : 64;
		while (nsize < want)
			nsize *= 2;
		b->b_data = xrealloc(b->b_data, nsize);
		b->b_size = nsize;
	}
	return len;
}

/* buf_append - append bytes; returns -1 (and sets b_trunc) if cut short */
int
buf_append(struct buf *b, const void *p, size_t len)
{
	size_t	n = buf_grow(b, len);

	if (b->b_data == NULL) {
		b->b_data = xmalloc(1);
		b->b_size = 1;
	}
	if (n)
		memcpy(b->b_data + b->b_len, p, n);
	b->b_len += n;
	b->b_data[b->b_len] = '\0';
	if (n < len) {
		b->b_trunc = 1;
		return -1;
	}
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, int c)
{
	char	ch = (char)c;

	return buf_append(b, &ch, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char	 small[256];
	char	*big;
	int	 n, rc;
	va_list	 ap2;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	big = xmalloc((size_t)n + 1);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	rc = buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
buf_str(const struct buf *b)
{
	return b->b_data ? b->b_data : "";
}

char *
buf_release(struct buf *b)
{
	char	*s = b->b_data ? b->b_data : xstrdup("");
	size_t	 max = b->b_max;

	memset(b, 0, sizeof(*b));
	b->b_max = max;
	return s;
}

/* buf_json_str - append s as a JSON string; invalid UTF-8 bytes become U+FFFD */
void
buf_json_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	n;

	buf_putc(b, '"');
	while (*p) {
		unsigned char c = *p;

		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, c);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			buf_putc(b, c);
			p++;
		} else {
			/* Copy one well-formed UTF-8 sequence, else U+FFFD
			 * (utf8_len stops at the NUL). */
			if ((n = utf8_len(p, 4)) == 0) {
				buf_puts(b, "\\ufffd");
				p++;
			} else {
				buf_append(b, p, n);
				p += n;
			}
		}
	}
	buf_putc(b, '"');
}
