/*
 * tlsrpt_txt.c - parse the "_smtp._tls" TXT record (RFC 8460 section 3)
 *
 * SYNOPSIS
 *	#include "tlsrpt_txt.h"
 *
 *	enum status tlsrpt_txt_parse(const char *rec, size_t len,
 *	    struct tlsrpt_txt **out, struct buf *why);
 *	enum status tlsrpt_txt_select(char *const *recs, const size_t *lens,
 *	    size_t n, struct tlsrpt_txt **out, struct buf *why);
 *	void tlsrpt_txt_free(struct tlsrpt_txt *t);
 *	enum tlsrpt_rua_kind tlsrpt_rua_kind(const char *uri);
 *	enum status tlsrpt_rua_mailto(const char *uri, char **addr,
 *	    struct buf *why);
 *
 * DESCRIPTION
 *	tlsrpt_txt_parse() follows the section 3 ABNF:
 *
 *	    tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field)
 *	                    [field-delim]
 *	    field-delim   = *WSP ";" *WSP
 *	    tlsrpt-rua    = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *
 *	The record must begin with "v=TLSRPTv1" then *WSP ";", else it is
 *	not a TLSRPT record (ST_NOTFOUND; R-8 for case variants).  Fields
 *	are "rua=" or extensions checked against tlsrpt-ext-name and
 *	tlsrpt-ext-value, then ignored (RPT-TXT-8, R-9).  A rua URI is a
 *	non-empty run of printable ASCII without space, ',' or ';'
 *	(RPT-TXT-4); the list is split on ',' with optional WSP around it
 *	(R-3).  An embedded NUL byte makes the record ST_INVALID.
 *	tlsrpt_txt_select() applies RPT-TXT-6: records that do not begin
 *	with exactly "v=TLSRPTv1;" are discarded, and the count left must
 *	be one (R-5), else ST_NOTFOUND with the count in why.
 *
 *	Decision: rua is required; a record without one is ST_INVALID
 *	(R-6).
 *
 *	Decision (R-4, RPT-TXT-9): several rua= fields are merged in the
 *	order published; exact duplicates are kept once.
 *
 *	Decision (R-7, RPT-TXT-5): a URI with a raw '!' (a DMARC-style
 *	"!10m" size suffix, which RFC 8460 does not have) is a publisher
 *	error; that URI alone is dropped and the others are kept.  If no
 *	URI is left the record is ST_INVALID.  The drop is noted in why
 *	even on ST_OK.
 *
 *	Decision: unknown schemes are kept in the list; tlsrpt_rua_kind()
 *	says RUA_UNSUPPORTED for them (RPT-TXT-3).  At most TLSRPT_RUA_MAX
 *	URIs are kept, the first ones; the rest are ignored (noted in why).
 *
 *	Decision: whitespace at the very end of the record with no ';'
 *	after it is ST_INVALID, as in sts_txt.c (the ABNF only allows WSP
 *	inside a delimiter).
 *
 *	tlsrpt_rua_kind() looks at the scheme only (case-insensitive):
 *	"mailto:" with something after it, or "https://" with a host.
 *
 *	tlsrpt_rua_mailto() returns the addr-spec of a mailto: URI: the
 *	part before any "?" query, percent-decoded (RPT-TXT-4, R-10: the
 *	"%2C" in "reports%2Cx@example.com" gives a ',' in the local part).
 *	Decision: the decoded address must hold exactly one '@' with a
 *	non-empty local part and a domain that passes domain_syntax(); no
 *	control characters, spaces, non-ASCII bytes or any of < > " \, and
 *	no leading '-' (the result ends up in an SMTP envelope or on a
 *	sendmail command line, where "-oQ..." would be an option); a raw
 *	',' (an RFC 6068 list of addresses) is refused.  Quoted local parts
 *	are therefore not supported.
 *
 * OWNERSHIP
 *	Inputs are borrowed.  On ST_OK *out is new and the caller frees it
 *	with tlsrpt_txt_free(); on failure *out is NULL.  *addr from
 *	tlsrpt_rua_mailto() is the caller's to free(); NULL on failure.
 *
 * DIAGNOSTICS
 *	ST_OK, ST_NOTFOUND or ST_INVALID, one line appended to why (which
 *	may be NULL) on failure or when URIs were dropped.  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 2.2 and 5.3 (R-1 .. R-10)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lex.h"
#include "domain.h"
#include "status.h"
#include "tlsrpt_txt.h"
#include "xmalloc.h"

#define RPT_VERSION	"v=TLSRPTv1"
#define RPT_VERSION_LEN	(sizeof(RPT_VERSION) - 1)
#define RPT_PREFIX	"v=TLSRPTv1;"
#define RPT_PREFIX_LEN	(sizeof(RPT_PREFIX) - 1)

struct rua_list {
	struct tlsrpt_txt	*t;
	size_t			 nbang;		/* dropped: raw '!' */
	size_t			 nover;		/* ignored: over the cap */
	int			 seen;		/* a rua= field was present */
};


/* is_uri_char - printable ASCII but ',' and ';' (RPT-TXT-4) */
static int
is_uri_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ',' && c != ';';
}

/* ieq_prefix - s begins with the lower-case ASCII prefix, any case */
static int
ieq_prefix(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++) {
		unsigned char	c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)*prefix)
			return 0;
	}
	return 1;
}

/* rua_add - R-4 merge in order, drop exact duplicates, cap the list */
static void
rua_add(struct rua_list *l, const char *u, size_t ulen)
{
	struct tlsrpt_txt	*t = l->t;
	size_t			 i;

	if (memchr(u, '!', ulen) != NULL) {	/* */
		l->nbang++;
		return;
	}
	for (i = 0; i < t->t_nrua; i++)
		if (strlen(t->t_rua[i]) == ulen &&
		    memcmp(t->t_rua[i], u, ulen) == 0)
			return;
	if (t->t_nrua == TLSRPT_RUA_MAX) {
		l->nover++;
		return;
	}
	t->t_rua[t->t_nrua++] = xstrndup(u, ulen);
}

/* parse_rua - the value of one rua= field; *pp is left after it */
static enum status
parse_rua(struct rua_list *l, const char **pp, const char *end,
    struct buf *why)
{
	const char	*p = *pp, *u, *ws;
	char		 tmp[8];

	l->seen = 1;
	for (;;) {
		u = p;
		while (p < end && is_uri_char((unsigned char)*p))
			p++;
		if (p == u) {
			if (p < end && is_wsp(*p) && u == *pp)
				whyf(why, "whitespace after \"rua=\"");
			else if (p < end && !is_wsp(*p) && *p != ',' &&
			    *p != ';')
				whyf(why, "invalid character %s in rua URI",
				    chdesc((unsigned char)*p, tmp,
				    sizeof(tmp)));
			else
				whyf(why, "empty URI in rua");
			return ST_INVALID;
		}
		if (p < end && !is_wsp(*p) && *p != ',' && *p != ';') {
			whyf(why, "invalid character %s in rua URI",
			    chdesc((unsigned char)*p, tmp, sizeof(tmp)));
			return ST_INVALID;
		}
		rua_add(l, u, (size_t)(p - u));
		ws = p;
		while (p < end && is_wsp(*p))
			p++;
		if (p < end && *p == ',') {
			p++;
			while (p < end && is_wsp(*p))
				p++;
			continue;
		}
		*pp = ws;
		return ST_OK;
	}
}

/* tlsrpt_txt_free - NULL is fine */
void
tlsrpt_txt_free(struct tlsrpt_txt *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->t_nrua; i++)
		free(t->t_rua[i]);
	free(t->t_rua);
	free(t);
}

/* tlsrpt_txt_parse - one record; see the header comment */
enum status
tlsrpt_txt_parse(const char *rec, size_t len, struct tlsrpt_txt **out,
    struct buf *why)
{
	struct rua_list	 l;
	const char	*p, *end, *name, *val;
	int		 more;
	size_t		 nlen;
	char		 tmp[8];

	*out = NULL;
	/* RPT-TXT-2: %s"v=TLSRPTv1", then field-delim. */
	p = end = NULL;
	if (rec != NULL && len >= RPT_VERSION_LEN &&
	    memcmp(rec, RPT_VERSION, RPT_VERSION_LEN) == 0) {
		end = rec + len;
		p = rec + RPT_VERSION_LEN;
		while (p < end && is_wsp(*p))
			p++;
	}
	if (p == NULL || p == end || *p != ';') {
		whyf(why, "not a TLSRPT record (no \"v=TLSRPTv1\" then ';')");
		return ST_NOTFOUND;
	}
	if (memchr(rec, '\0', len) != NULL) {
		whyf(why, "NUL byte in record");
		return ST_INVALID;
	}
	memset(&l, 0, sizeof(l));
	l.t = xcalloc(1, sizeof(*l.t));
	l.t->t_rua = xcalloc(TLSRPT_RUA_MAX, sizeof(*l.t->t_rua));
	p++;
	while (p < end && is_wsp(*p))
		p++;
	while (p < end) {
		if (lex_field_name(&p, end, &name, &nlen, why) != 0)
			goto bad;
		if (nlen == 3 && memcmp(name, "rua", 3) == 0) {
			/* RPT-TXT-3 */
			if (parse_rua(&l, &p, end, why) != ST_OK)
				goto bad;
		} else {
			/* RPT-TXT-8: check, then ignore */
			val = p;
			while (p < end && is_value_char((unsigned char)*p))
				p++;
			if (p < end && !is_wsp(*p) && *p != ';') {
				whyf(why, "invalid character %s in value of "
				    "\"%.*s\"", chdesc((unsigned char)*p, tmp,
				    sizeof(tmp)), (int)nlen, name);
				goto bad;
			}
			if (p == val) {
				if (p < end && is_wsp(*p))
					whyf(why, "whitespace after '='");
				else
					whyf(why, "empty value for \"%.*s\"",
					    (int)nlen, name);
				goto bad;
			}
		}
		if ((more = lex_field_delim(&p, end, why)) < 0)
			goto bad;
		if (!more)
			break;
	}
	if (!l.seen) {
		whyf(why, "missing rua");		/* */
		goto bad;
	}
	if (l.t->t_nrua == 0) {
		whyf(why, "no usable rua URI (%zu with a raw '!')", l.nbang);
		goto bad;
	}
	if (l.nbang > 0)
		whyf(why, "dropped %zu rua URI%s with a raw '!'", l.nbang,
		    l.nbang == 1 ? "" : "s");
	if (l.nover > 0)
		whyf(why, "%signored %zu rua URI%s over the limit of %d",
		    l.nbang > 0 ? "; " : "", l.nover, l.nover == 1 ? "" : "s",
		    TLSRPT_RUA_MAX);
	*out = l.t;
	return ST_OK;
bad:
	tlsrpt_txt_free(l.t);
	return ST_INVALID;
}

/* tlsrpt_txt_select - RPT-TXT-6 over an RRset */
enum status
tlsrpt_txt_select(char *const *recs, const size_t *lens, size_t n,
    struct tlsrpt_txt **out, struct buf *why)
{
	size_t	hits, k;

	*out = NULL;
	if ((hits = lex_select(recs, lens, n, RPT_PREFIX, RPT_PREFIX_LEN, &k)) != 1) {
		whyf(why, "%zu v=TLSRPTv1 records", hits);
		return ST_NOTFOUND;
	}
	return tlsrpt_txt_parse(recs[k], lens != NULL ? lens[k] :
	    strlen(recs[k]), out, why);
}

/* tlsrpt_rua_kind - classify one URI by its scheme */
enum tlsrpt_rua_kind
tlsrpt_rua_kind(const char *uri)
{
	if (uri == NULL)
		return RUA_UNSUPPORTED;
	if (ieq_prefix(uri, "mailto:") && uri[7] != '\0')
		return RUA_MAILTO;
	if (ieq_prefix(uri, "https://") && uri[8] != '\0' && uri[8] != '/')
		return RUA_HTTPS;
	return RUA_UNSUPPORTED;
}

/* tlsrpt_rua_mailto - RPT-TXT-4: the percent-decoded addr-spec */
enum status
tlsrpt_rua_mailto(const char *uri, char **addr, struct buf *why)
{
	struct buf	 b = BUF_INIT;
	const char	*p, *at = NULL, *s;
	size_t		 nat = 0, end;
	int		 hi, lo;
	unsigned char	 c;
	char		 tmp[8];

	*addr = NULL;
	if (uri == NULL || !ieq_prefix(uri, "mailto:")) {
		whyf(why, "not a mailto: URI");
		return ST_INVALID;
	}
	for (p = uri + 7; *p != '\0' && *p != '?'; p++) {
		c = (unsigned char)*p;
		if (c == ',') {
			whyf(why, "raw ',' in mailto: URI");
			goto bad;
		}
		if (c == '%') {
			if ((hi = hexval((unsigned char)p[1])) < 0 ||
			    (lo = hexval((unsigned char)p[2])) < 0) {
				whyf(why, "bad percent-encoding in mailto: "
				    "URI");
				goto bad;
			}
			c = (unsigned char)(hi << 4 | lo);
			p += 2;
		}
		if (c <= 0x20 || c >= 0x7f || strchr("<>\"\\", c) != NULL) {
			whyf(why, "invalid character %s in mailto: address",
			    chdesc(c, tmp, sizeof(tmp)));
			goto bad;
		}
		(void)buf_putc(&b, c);
	}
	s = buf_str(&b);
	for (end = 0; s[end] != '\0'; end++)
		if (s[end] == '@') {
			nat++;
			at = s + end;
		}
	if (nat != 1 || at == s || at[1] == '\0') {
		whyf(why, "mailto: address is not local@domain");
		goto bad;
	}
	if (s[0] == '-') {
		whyf(why, "mailto: address begins with '-'");
		goto bad;
	}
	if (domain_syntax(at + 1, strlen(at + 1), NULL) != ST_OK) {
		whyf(why, "mailto: address has an invalid domain");
		goto bad;
	}
	*addr = buf_release(&b);
	return ST_OK;
bad:
	buf_free(&b);
	return ST_INVALID;
}
