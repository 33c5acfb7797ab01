/*
 * journal_fmt.c - encode and decode one journal record
 *
 * The decoder is a small, strict, flat-JSON reader (strings and
 * non-negative integers only, no nesting) rather than a general JSON
 * library: it runs for every record of a day in the reporter, and a
 * flat grammar is easy to bound.  Strings longer than their field are
 * truncated, never overflowed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "journal_fmt.h"
#include "lex.h"

void
journal_rec_set(char *field, size_t size, const char *s)
{
	size_t	n = strlen(s);

	if (n >= size)
		n = size - 1;
	memcpy(field, s, n);
	field[n] = '\0';
}

static void
put_str(struct buf *b, int *first, const char *key, const char *val)
{
	if (val[0] == '\0')
		return;
	buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
	buf_json_str(b, val);
	*first = 0;
}

void
journal_json(const struct journal_rec *r, struct buf *b)
{
	int	first = 1;

	buf_putc(b, '{');
	put_str(b, &first, "type", r->type == JREC_DEFERRAL ? "deferral" :
	    "session");
	buf_printf(b, ",\"time\":%lld", (long long)r->time);
	put_str(b, &first, "src", r->src);
	put_str(b, &first, "ptype", r->ptype);
	put_str(b, &first, "domain", r->domain);
	put_str(b, &first, "phash", r->phash);
	put_str(b, &first, "pid", r->pid);
	put_str(b, &first, "mode", r->mode);
	put_str(b, &first, "mx", r->mx);
	put_str(b, &first, "sip", r->sip);
	put_str(b, &first, "rip", r->rip);
	put_str(b, &first, "helo", r->helo);
	put_str(b, &first, "result", tlsrpt_result_str(r->result));
	put_str(b, &first, "reason", r->reason);
	put_str(b, &first, "info", r->info);
	put_str(b, &first, "qid", r->qid);
	put_str(b, &first, "rcpt", r->rcpt);
	put_str(b, &first, "text", r->text);
	put_str(b, &first, "lpos", r->lpos);
	buf_putc(b, '}');
}

void
journal_encode(const struct journal_rec *r, struct buf *b)
{
	struct buf	j = BUF_INIT;
	uLong		crc;

	buf_init(&j, JOURNAL_LINE_MAX - 16);
	journal_json(r, &j);
	crc = crc32(0L, (const Bytef *)buf_str(&j), (uInt)j.b_len);
	buf_printf(b, "J1 %08lx %s\n", crc & 0xffffffffUL, buf_str(&j));
	if (j.b_trunc)
		b->b_trunc = 1;		/* never write a cut record */
	buf_free(&j);
}

/* put_utf8 - append code point cp to dst (bounded by *n) */
static void
put_utf8(char *dst, size_t size, size_t *n, unsigned long cp)
{
	char	u[4];
	size_t	k, len;

	if (cp < 0x80) {
		u[0] = (char)cp;
		len = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (*n + len >= size)
		return;
	for (k = 0; k < len; k++)
		dst[(*n)++] = u[k];
}

/* parse_str - a JSON string at *pp into dst (truncating whole
 * characters); -1 if bad */
static int
parse_str(const char **pp, const char *end, char *dst, size_t size)
{
	const char	*p = *pp;
	size_t		 n = 0;
	unsigned long	 cp;
	int		 i, h;

	if (p >= end || *p != '"')
		return -1;
	for (p++; p < end && *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20)
			return -1;
		if (c >= 0x80) {
			/* One whole, well-formed UTF-8 sequence (the writer
			 * never writes anything else), kept or cut whole. */
			size_t	k, len = utf8_len((const unsigned char *)p,
			    (size_t)(end - p));

			if (len == 0)
				return -1;
			if (dst && n + len < size)
				for (k = 0; k < len; k++)
					dst[n++] = p[k];
			else if (dst)
				size = n + 1;	/* stop filling, keep parsing */
			p += len - 1;
			continue;
		}
		if (c != '\\') {
			if (dst && n + 1 < size)
				dst[n++] = (char)c;
			else if (dst)
				size = n + 1;
			continue;
		}
		if (++p >= end)
			return -1;
		switch (*p) {
		case '"': case '\\': case '/':
			c = (unsigned char)*p;
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (end - p < 5)
				return -1;
			for (cp = 0, i = 1; i <= 4; i++) {
				if ((h = hexval(p[i])) < 0)
					return -1;
				cp = cp * 16 + (unsigned long)h;
			}
			p += 4;
			if (cp == 0)
				return -1;		/* no NULs */
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;		/* lone surrogates */
			if (dst) {
				size_t before = n;

				put_utf8(dst, size, &n, cp);
				if (n == before)
					size = n + 1;	/* full: stop filling */
			}
			continue;
		default:
			return -1;
		}
		if (dst && n + 1 < size)
			dst[n++] = (char)c;
		else if (dst)
			size = n + 1;
	}
	if (p >= end)
		return -1;
	if (dst)
		dst[n] = '\0';
	*pp = p + 1;
	return 0;
}

static void
skip_ws(const char **pp, const char *end)
{
	while (*pp < end && (**pp == ' ' || **pp == '\t'))
		(*pp)++;
}

#define F(name)	{ #name, offsetof(struct journal_rec, name), \
		  sizeof(((struct journal_rec *)0)->name) }
static const struct {
	const char	*key;
	size_t		 off, size;
} fields[] = {
	F(src), F(ptype), F(domain), F(phash), F(pid), F(mode), F(mx),
	F(sip), F(rip), F(helo), F(reason), F(info), F(qid), F(rcpt),
	F(text), F(lpos),
};
#undef F

enum status
journal_decode(const char *line, size_t len, struct journal_rec *r,
    struct buf *why)
{
	const char	*p, *end, *json;
	char		 key[16], val[32];
	unsigned long	 want;
	int		 i, h, have_type = 0, have_time = 0;
	size_t		 k;

	/* Every field empty; not a memset of the whole 2.5 KB (the
	 * reporter decodes a million lines a second). */
	r->type = 0;
	r->time = 0;
	r->result = TLSRPT_SUCCESS;
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		((char *)r + fields[k].off)[0] = '\0';
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len < 14 || memcmp(line, "J1 ", 3) != 0 || line[11] != ' ') {
		buf_printf(why, "not a journal record");
		return ST_INVALID;
	}
	for (want = 0, i = 3; i < 11; i++) {
		if ((h = hexval(line[i])) < 0) {
			buf_printf(why, "bad checksum field");
			return ST_INVALID;
		}
		want = want * 16 + (unsigned long)h;
	}
	json = line + 12;
	end = line + len;
	if ((crc32(0L, (const Bytef *)json, (uInt)(end - json)) & 0xffffffffUL)
	    != want) {
		buf_printf(why, "checksum mismatch (torn or corrupt record)");
		return ST_INVALID;
	}
	p = json;
	if (p >= end || *p++ != '{')
		goto bad;
	for (;;) {
		skip_ws(&p, end);
		if (parse_str(&p, end, key, sizeof(key)) != 0)
			goto bad;
		skip_ws(&p, end);
		if (p >= end || *p++ != ':')
			goto bad;
		skip_ws(&p, end);
		if (p < end && *p >= '0' && *p <= '9') {
			long long v = 0;

			while (p < end && *p >= '0' && *p <= '9') {
				if (v > 100000000000LL)
					goto bad;
				v = v * 10 + (*p++ - '0');
			}
			if (strcmp(key, "time") == 0) {
				r->time = (time_t)v;
				have_time = 1;
			}
		} else {
			char *dst = NULL;
			size_t size = 0;
			int is_type = 0, is_result = 0;

			for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
				if (key[0] == fields[k].key[0] &&
				    strcmp(key, fields[k].key) == 0) {
					dst = (char *)r + fields[k].off;
					size = fields[k].size;
					break;		/* keys are unique */
				}
			if (dst == NULL && ((is_type = !strcmp(key, "type")) ||
			    (is_result = !strcmp(key, "result")))) {
				dst = val;
				size = sizeof(val);
			}
			if (parse_str(&p, end, dst, size) != 0)
				goto bad;
			if (is_type) {
				if (!strcmp(val, "session"))
					r->type = JREC_SESSION;
				else if (!strcmp(val, "deferral"))
					r->type = JREC_DEFERRAL;
				else
					goto bad;
				have_type = 1;
			} else if (is_result &&
			    tlsrpt_result_parse(val, &r->result) != 0)
				r->result = TLSRPT_VALIDATION_FAILURE;
		}
		skip_ws(&p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		goto bad;
	}
	if (p != end || !have_type || !have_time)
		goto bad;
	return ST_OK;
bad:
	buf_printf(why, "malformed record");
	return ST_INVALID;
}
