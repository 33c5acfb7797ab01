/*
 * lex.h - character classes and the reason helper shared by the pure
 * parsers (sts_txt, tlsrpt_txt, sts_policy, domain, mx_match, journal_fmt,
 * conf, dkim, ...)
 *
 * Static inline: each parser stays a self-contained pure module, with
 * one definition of the ABNF character classes.
 */
#ifndef LEX_H
#define LEX_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"

/* whyf - append a reason unless the caller passed no buffer */
static inline void __attribute__((__format__(__printf__, 2, 3)))
whyf(struct buf *why, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL)
		return;
	va_start(ap, fmt);
	(void)buf_vprintf(why, fmt, ap);
	va_end(ap);
}

/* chdesc - a printable rendering of one byte for a reason line */
static inline const char *
chdesc(unsigned char c, char *tmp, size_t size)
{
	static const char	hex[] = "0123456789abcdef";

	if (c > 0x20 && c < 0x7f && size >= 4) {
		tmp[0] = '\'';
		tmp[1] = (char)c;
		tmp[2] = '\'';
		tmp[3] = '\0';
	} else if (size >= 5) {
		tmp[0] = '\\';
		tmp[1] = 'x';
		tmp[2] = hex[c >> 4];
		tmp[3] = hex[c & 15];
		tmp[4] = '\0';
	}
	return tmp;
}

/*
 * utf8_len - length of the well-formed UTF-8 sequence of 2 to 4 bytes at
 * p (RFC 3629: no overlongs, no surrogates, at most U+10FFFF), 0 if
 * there is none (also for ASCII).  Reads at most avail bytes and stops
 * at the first bad one, so a NUL-terminated string may pass avail 4.
 */
static inline size_t
utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char	c = p[0];
	size_t		n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

static inline int
is_wsp(char c)				/* WSP: SP / HTAB */
{
	return c == ' ' || c == '\t';
}

/* hexval - the value of one hex digit (either case), -1 if it is none */
static inline int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int
is_alnum(unsigned char c)		/* ALPHA / DIGIT */
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* is_name_char - ext-name after its first character (RFC 8461 3.1,
 * RFC 8460 3): ALPHA / DIGIT / "_" / "-" / "." */
static inline int
is_name_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

/* is_value_char - ext-value: %x21-3A / %x3C / %x3E-7E */
static inline int
is_value_char(unsigned char c)
{
	return (c >= 0x21 && c <= 0x3a) || c == 0x3c ||
	    (c >= 0x3e && c <= 0x7e);
}

#define LEX_EXT_NAME_MAX	32	/* 1 + *31 in the ext-name ABNF */

/*
 * lex_field_name - a TXT-record field name and its "=" (RFC 8461 3.1,
 * RFC 8460 3: name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."),
 * no whitespace before "=").  On success *pp is past the "=" and 0 is
 * returned; otherwise -1 with a reason in why.
 */
static inline int
lex_field_name(const char **pp, const char *end, const char **name,
    size_t *nlen, struct buf *why)
{
	const char	*p = *pp;
	char		 tmp[8];

	*name = p;
	while (p < end && is_name_char((unsigned char)*p))
		p++;
	*nlen = (size_t)(p - *name);
	if (*nlen == 0 || !is_alnum((unsigned char)(*name)[0])) {
		if (*nlen == 0 && p < end && *p == ';')
			whyf(why, "empty field");
		else
			whyf(why, "invalid field name starting with %s",
			    chdesc((unsigned char)**name, tmp, sizeof(tmp)));
		return -1;
	}
	if (p == end || *p != '=') {
		if (p < end && is_wsp(*p))
			whyf(why, "whitespace before '='");
		else if (p == end || *p == ';')
			whyf(why, "field without '='");
		else
			whyf(why, "invalid character %s in field name",
			    chdesc((unsigned char)*p, tmp, sizeof(tmp)));
		return -1;
	}
	if (*nlen > LEX_EXT_NAME_MAX) {
		whyf(why, "field name longer than %d characters",
		    LEX_EXT_NAME_MAX);
		return -1;
	}
	*pp = p + 1;
	return 0;
}

/*
 * lex_field_delim - what follows a TXT-record field: a field delimiter
 * (RFC 8461 3.1 sts-field-delim, RFC 8460 3 tlsrpt-field-delim:
 * *WSP ";" *WSP) or the end of the record, with no whitespace before
 * it.  1: a delimiter, *pp past it; 0: the end; -1: a reason in why.
 */
static inline int
lex_field_delim(const char **pp, const char *end, struct buf *why)
{
	const char	*p = *pp, *ws = p;

	while (p < end && is_wsp(*p))
		p++;
	if (p == end) {
		if (p != ws) {
			whyf(why, "trailing whitespace");
			return -1;
		}
		*pp = p;
		return 0;
	}
	if (*p != ';') {
		whyf(why, "missing ';' between fields");
		return -1;
	}
	p++;
	while (p < end && is_wsp(*p))
		p++;
	*pp = p;
	return 1;
}

/*
 * lex_select - RFC 8461 3.1 and RFC 8460 3: of the TXT records of a
 * name, the ones that begin with prefix (lens NULL: NUL-terminated);
 * returns how many, with the index of the last in *k.  Exactly one is
 * usable; zero or several mean no record.
 */
static inline size_t
lex_select(char *const *recs, const size_t *lens, size_t n,
    const char *prefix, size_t plen, size_t *k)
{
	size_t	i, hits = 0, len;

	*k = 0;
	for (i = 0; i < n; i++) {
		if (recs[i] == NULL)
			continue;
		len = lens != NULL ? lens[i] : strlen(recs[i]);
		if (len >= plen && memcmp(recs[i], prefix, plen) == 0) {
			hits++;
			*k = i;
		}
	}
	return hits;
}

#endif
