/*
 * sts_txt.c - parse the "_mta-sts" TXT record (RFC 8461 section 3.1)
 *
 * SYNOPSIS
 *	#include "sts_txt.h"
 *
 *	enum status sts_txt_parse(const char *rec, size_t len,
 *	    struct sts_txt *out, struct buf *why);
 *	enum status sts_txt_select(char *const *recs, const size_t *lens,
 *	    size_t n, struct sts_txt *out, struct buf *why);
 *
 * DESCRIPTION
 *	sts_txt_parse() parses one record, already joined from its
 *	character-strings (STS-TXT-6), as the section 3.1 ABNF says:
 *
 *	    sts-text-record = sts-version 1*(sts-field-delim sts-field)
 *	                      [sts-field-delim]
 *	    sts-field-delim = *WSP ";" *WSP
 *
 *	Whitespace may surround ';' but not '=' (STS-TXT-9).  Each field
 *	is "id=" 1*32(ALPHA / DIGIT) or an extension whose name and value
 *	follow sts-ext-name and sts-ext-value; unknown extensions are
 *	checked, then ignored (STS-TXT-8).  The record is read as (rec,
 *	len): an embedded NUL byte makes it ST_INVALID.
 *
 *	Decision (T-13): the literal prefix rule of STS-TXT-4 wins.  A
 *	record that does not begin with exactly "v=STSv1;" is not an STS
 *	record: ST_NOTFOUND from sts_txt_parse(), discarded by
 *	sts_txt_select().  So "v=STSv1 ; id=1", valid by the ABNF
 *	(erratum 6285), is ignored, as is "v=STSv10;" (T-6) and any case
 *	variant (T-7).
 *
 *	Decision: the first field named "id" is the id and must match
 *	sts-id (T-3, T-4); "id=2016-08-31" is not read as an extension
 *	that happens to be called "id".  Later "id=" fields are ignored
 *	(first wins, STS-TXT-8, T-9) once their value passes the
 *	sts-ext-value check.  A missing id is ST_INVALID (T-14).
 *
 *	Decision: whitespace after the last field with no ';' after it
 *	("v=STSv1; id=1 ") is ST_INVALID: the ABNF only allows WSP as part
 *	of a delimiter.
 *
 *	sts_txt_select() applies STS-TXT-4 to an RRset: it counts records
 *	that begin with "v=STSv1;"; if the count is not one it returns
 *	ST_NOTFOUND with the count in why ("2 v=STSv1 records", T-10),
 *	else the result of parsing the survivor (T-11).
 *
 * OWNERSHIP
 *	Inputs are borrowed; *out is filled (the id is copied).  lens may
 *	be NULL, then each record is a C string.
 *
 * DIAGNOSTICS
 *	ST_OK, ST_NOTFOUND or ST_INVALID; on failure one line is appended
 *	to why (which may be NULL).  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.2 and 5.3 (T-1 .. T-15)
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "lex.h"
#include "status.h"
#include "sts_txt.h"

#define STS_PREFIX	"v=STSv1;"
#define STS_PREFIX_LEN	(sizeof(STS_PREFIX) - 1)


/* set_id - STS-TXT-2: 1*32(ALPHA / DIGIT) */
static enum status
set_id(const char *v, size_t vlen, struct sts_txt *out, struct buf *why)
{
	char	tmp[8];
	size_t	i;

	for (i = 0; i < vlen; i++)
		if (!is_alnum((unsigned char)v[i])) {
			whyf(why, "id: invalid character %s "
			    "(letters and digits only)",
			    chdesc((unsigned char)v[i], tmp, sizeof(tmp)));
			return ST_INVALID;
		}
	if (vlen > STS_ID_MAX) {
		whyf(why, "id longer than %d characters", STS_ID_MAX);
		return ST_INVALID;
	}
	memcpy(out->id, v, vlen);
	out->id[vlen] = '\0';
	return ST_OK;
}

/* sts_txt_parse - one record; see the header comment */
enum status
sts_txt_parse(const char *rec, size_t len, struct sts_txt *out,
    struct buf *why)
{
	const char	*p, *end, *name, *val;
	int		 more;
	size_t		 nlen, vlen;
	int		 have_id = 0;
	char		 tmp[8];

	memset(out, 0, sizeof(*out));
	if (rec == NULL)
		len = 0;
	/* STS-TXT-3, STS-TXT-4: begins with exactly "v=STSv1;" (T-13). */
	if (len < STS_PREFIX_LEN || memcmp(rec, STS_PREFIX,
	    STS_PREFIX_LEN) != 0) {
		whyf(why, "not an STS record (no \"v=STSv1;\" prefix)");
		return ST_NOTFOUND;
	}
	if (memchr(rec, '\0', len) != NULL) {
		whyf(why, "NUL byte in record");
		return ST_INVALID;
	}
	p = rec + STS_PREFIX_LEN;
	end = rec + len;
	while (p < end && is_wsp(*p))
		p++;
	while (p < end) {
		/* sts-field: name "=" value (STS-TXT-9) */
		if (lex_field_name(&p, end, &name, &nlen, why) != 0)
			goto bad;
		val = p;
		while (p < end && is_value_char((unsigned char)*p))
			p++;
		vlen = (size_t)(p - val);
		if (p < end && !is_wsp(*p) && *p != ';') {
			/* T-15: "=" cannot appear in a value. */
			whyf(why, "invalid character %s in value of "
			    "\"%.*s\"", chdesc((unsigned char)*p, tmp,
			    sizeof(tmp)), (int)nlen, name);
			goto bad;
		}
		if (vlen == 0) {
			if (p < end && is_wsp(*p))
				whyf(why, "whitespace after '='");
			else
				whyf(why, "empty value for \"%.*s\"",
				    (int)nlen, name);
			goto bad;
		}
		if (nlen == 2 && memcmp(name, "id", 2) == 0 && !have_id) {
			if (set_id(val, vlen, out, why) != ST_OK)
				goto bad;
			have_id = 1;
		}
		/* sts-field-delim, or the end of the record */
		if ((more = lex_field_delim(&p, end, why)) < 0)
			goto bad;
		if (!more)
			break;
	}
	if (!have_id) {
		/* STS-TXT-2, T-14 */
		whyf(why, "missing id");
		goto bad;
	}
	return ST_OK;
bad:
	memset(out, 0, sizeof(*out));
	return ST_INVALID;
}

/* sts_txt_select - STS-TXT-4 over an RRset */
enum status
sts_txt_select(char *const *recs, const size_t *lens, size_t n,
    struct sts_txt *out, struct buf *why)
{
	size_t	hits, k;

	memset(out, 0, sizeof(*out));
	if ((hits = lex_select(recs, lens, n, STS_PREFIX, STS_PREFIX_LEN, &k)) != 1) {
		whyf(why, "%zu v=STSv1 records", hits);
		return ST_NOTFOUND;
	}
	return sts_txt_parse(recs[k], lens != NULL ? lens[k] :
	    strlen(recs[k]), out, why);
}
