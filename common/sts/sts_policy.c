/*
 * sts_policy.c - parse an MTA-STS policy body (RFC 8461 section 3.2)
 *
 * SYNOPSIS
 *	#include "sts_policy.h"
 *
 *	enum status sts_policy_parse(const char *text, size_t len,
 *	    struct sts_policy **out, struct buf *why);
 *	void sts_policy_free(struct sts_policy *p);
 *	struct sts_policy *sts_policy_dup(const struct sts_policy *p);
 *	const char *sts_mode_str(enum sts_mode m);
 *	void sts_policy_json(const struct sts_policy *p, struct buf *b);
 *	size_t sts_policy_lines(const struct sts_policy *p, char ***lines);
 *	size_t sts_text_lines(const char *text, size_t len, char ***lines);
 *
 * DESCRIPTION
 *	sts_policy_parse() follows the section 3.2 ABNF strictly: each
 *	line is key ":" *WSP value *WSP, ended by LF or CRLF (both, mixed,
 *	and a missing final terminator are fine, STS-POL-3).  Keys and
 *	values are case-sensitive (STS-POL-2, P-4); no space before ':'
 *	(P-5); none needed after it (P-6); trailing WSP is allowed (P-17).
 *	version, mode and max_age are required (P-7); the first of a
 *	repeated non-mx field wins (STS-POL-6, P-10); at least one mx is
 *	required unless mode is none (STS-POL-1, P-8, P-9); unknown keys
 *	are checked, then ignored (STS-POL-7, P-16); field order is free
 *	(P-3).  mx patterns are checked with mx_pattern_check() and stored
 *	in lower case.
 *
 *	Every line, whatever its key, must first be a valid
 *	sts-policy-extension: a key of sts-policy-ext-name, then a value
 *	of sts-policy-vchar and internal spaces.  The ext-value rule forbids
 *	leading and trailing spaces, but the delimiter ":" *WSP absorbs
 *	the leading ones and the field's trailing *WSP absorbs the trailing
 *	ones, so the value is taken with WSP stripped from both ends; what
 *	can still fail is a CTL inside it (a TAB included, since only SP
 *	may appear within) or ill-formed UTF-8 (RFC 3629 UTF8-2/3/4:
 *	no overlongs, surrogates or code points past U+10FFFF).
 *
 *	Decisions (STS-POL-3, P-18, rfc-checklist 1.13):
 *	  - a UTF-8 byte order mark is ST_INVALID;
 *	  - empty lines are tolerated only at the end of the body (a final
 *	    blank line, or several); an empty line followed by another
 *	    field is ST_INVALID;
 *	  - whitespace before a key is ST_INVALID;
 *	  - a bare CR (not followed by LF) anywhere is ST_INVALID;
 *	  - a NUL byte anywhere is ST_INVALID;
 *	  - a body over STS_BODY_MAX bytes is ST_INVALID (STS-HTTP-4);
 *	  - more than STS_MX_MAX mx lines is ST_INVALID (our limit).
 *
 *	Decision (P-12, STS-POL-8): max_age above 31557600 is clamped to
 *	31557600.  The RFC text calls 31557600 the "maximum value" while
 *	the ABNF allows 1*10 DIGIT (erratum 7282); clamping keeps the
 *	domain protected for the longest time the RFC allows, where a
 *	rejection would leave it unprotected.  0 is valid (the policy
 *	expires at once).  More than 10 digits is ST_INVALID (P-13).
 *
 *	Decision (P-14): one invalid mx line makes the whole policy
 *	invalid.  So does a U-label (P-15, STS-POL-11).
 *
 *	Decision: the first occurrence of version, mode or max_age must
 *	hold a valid value for that field; it is not reread as an
 *	extension that happens to use the same key.  "mode: Enforce"
 *	followed by "mode: enforce" is therefore ST_INVALID.  Later
 *	occurrences are ignored once they pass the extension check.
 *
 *	sts_policy_json() appends the normalised form that stsctl prints:
 *	{"version":"STSv1","mode":"enforce","mx":["a","*.b"],"max_age":86400}
 *
 *	sts_policy_lines() and sts_text_lines() split a body into lines
 *	without their LF or CRLF, for the RFC 8460 policy-string
 *	(STS-POL-12).  A final terminator does not start an empty line.
 *
 * OWNERSHIP
 *	text is borrowed.  On ST_OK *out is a new policy the caller frees
 *	with sts_policy_free(); p_text is a NUL-terminated copy of the body.
 *	On failure *out is NULL.  Line arrays: the caller frees each line
 *	and the array.
 *
 * DIAGNOSTICS
 *	ST_OK, or ST_INVALID with one line appended to why (which may be
 *	NULL), naming the line number.  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.5 and 5.3 (P-1 .. P-18); mx_match.c
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lex.h"
#include "mx_match.h"
#include "status.h"
#include "sts_policy.h"
#include "xmalloc.h"

#define KEY_MAX		32	/* 1 + *31 in sts-policy-ext-name */
#define MAX_AGE_DIGITS	10	/* 1*10(DIGIT) */
#define QUOTE_MAX	40	/* bytes of a value quoted in a reason */

struct pstate {
	int		  have_version;
	int		  have_mode;
	int		  have_max_age;
	enum sts_mode	  mode;
	long long	  max_age;
	size_t		  nmx;
	char		**mx;
};


/* why_quoted - append s[0..n) in quotes, printable, cut at QUOTE_MAX */
static void
why_quoted(struct buf *why, const char *s, size_t n)
{
	size_t		i;
	unsigned char	c;

	if (why == NULL)
		return;
	(void)buf_putc(why, '"');
	for (i = 0; i < n && i < QUOTE_MAX; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			(void)buf_putc(why, c);
		else
			(void)buf_printf(why, "\\x%02x", c);
	}
	(void)buf_puts(why, i < n ? "...\"" : "\"");
}

/* is_key_char - sts-policy-ext-name after its first character */
static int
is_key_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

/* check_value - sts-policy-ext-value with the edges already stripped */
static enum status
check_value(const char *v, size_t n, size_t lineno, struct buf *why)
{
	const unsigned char	*s = (const unsigned char *)v;
	size_t			 i, k;

	for (i = 0; i < n; i += k) {
		k = 1;
		if (s[i] >= 0x80) {
			if ((k = utf8_len(s + i, n - i)) == 0) {
				whyf(why, "line %zu: invalid UTF-8 in value",
				    lineno);
				return ST_INVALID;
			}
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			whyf(why, "line %zu: control character \\x%02x in "
			    "value", lineno, s[i]);
			return ST_INVALID;
		}
	}
	return ST_OK;
}

/* key_is - the key is exactly the (case-sensitive) word */
static int
key_is(const char *k, size_t klen, const char *word)
{
	return strlen(word) == klen && memcmp(k, word, klen) == 0;
}

/* parse_max_age - STS-POL-8: 1*10 DIGIT, clamped (P-11, P-12, P-13) */
static enum status
parse_max_age(struct pstate *ps, const char *v, size_t n, size_t lineno,
    struct buf *why)
{
	long long	x = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9') {
			whyf(why, "line %zu: max_age: not a number: ", lineno);
			why_quoted(why, v, n);
			return ST_INVALID;
		}
	if (n > MAX_AGE_DIGITS) {
		whyf(why, "line %zu: max_age: more than %d digits", lineno,
		    MAX_AGE_DIGITS);
		return ST_INVALID;
	}
	for (i = 0; i < n; i++)
		x = x * 10 + (v[i] - '0');	/* < 10^10: no overflow */
	ps->max_age = x > STS_MAX_AGE_LIMIT ? STS_MAX_AGE_LIMIT : x;
	ps->have_max_age = 1;
	return ST_OK;
}

/* add_mx - STS-POL-10, STS-POL-11: check, lower-case, keep */
static enum status
add_mx(struct pstate *ps, const char *v, size_t n, size_t lineno,
    struct buf *why)
{
	struct buf	 tmp = BUF_INIT;
	char		*pat;
	size_t		 i;

	if (ps->nmx == STS_MX_MAX) {
		whyf(why, "line %zu: more than %d mx lines", lineno,
		    STS_MX_MAX);
		return ST_INVALID;
	}
	pat = xstrndup(v, n);
	if (mx_pattern_check(pat, &tmp) != ST_OK) {
		whyf(why, "line %zu: mx ", lineno);
		why_quoted(why, v, n);
		whyf(why, ": %s", buf_str(&tmp));
		buf_free(&tmp);
		free(pat);
		return ST_INVALID;
	}
	buf_free(&tmp);
	for (i = 0; pat[i] != '\0'; i++)
		if (pat[i] >= 'A' && pat[i] <= 'Z')
			pat[i] = (char)(pat[i] + ('a' - 'A'));
	if (ps->nmx == 0)
		ps->mx = xcalloc(STS_MX_MAX, sizeof(*ps->mx));
	ps->mx[ps->nmx++] = pat;
	return ST_OK;
}

/* parse_line - one non-empty line, without its terminator */
static enum status
parse_line(struct pstate *ps, const char *s, size_t n, size_t lineno,
    struct buf *why)
{
	size_t	k, v, e;

	if (is_wsp(s[0])) {
		whyf(why, "line %zu: whitespace before the key", lineno);
		return ST_INVALID;
	}
	for (k = 0; k < n && is_key_char((unsigned char)s[k]); k++)
		continue;
	if (k == 0 || !is_alnum((unsigned char)s[0])) {
		whyf(why, "line %zu: invalid key", lineno);
		return ST_INVALID;
	}
	if (k == n || s[k] != ':') {
		if (k < n && is_wsp(s[k]))	/* P-5 */
			whyf(why, "line %zu: whitespace before ':'", lineno);
		else if (k == n)
			whyf(why, "line %zu: no ':' after the key", lineno);
		else
			whyf(why, "line %zu: invalid key", lineno);
		return ST_INVALID;
	}
	if (k > KEY_MAX) {
		whyf(why, "line %zu: key longer than %d characters", lineno,
		    KEY_MAX);
		return ST_INVALID;
	}
	for (v = k + 1; v < n && is_wsp(s[v]); v++)
		continue;
	for (e = n; e > v && is_wsp(s[e - 1]); e--)
		continue;
	if (e == v) {
		whyf(why, "line %zu: empty value for \"%.*s\"", lineno,
		    (int)k, s);
		return ST_INVALID;
	}
	if (check_value(s + v, e - v, lineno, why) != ST_OK)
		return ST_INVALID;

	if (key_is(s, k, "mx"))
		return add_mx(ps, s + v, e - v, lineno, why);
	if (key_is(s, k, "version") && !ps->have_version) {
		if (!key_is(s + v, e - v, "STSv1")) {
			whyf(why, "line %zu: version: unsupported value ",
			    lineno);
			why_quoted(why, s + v, e - v);
			return ST_INVALID;
		}
		ps->have_version = 1;
	} else if (key_is(s, k, "mode") && !ps->have_mode) {
		if (key_is(s + v, e - v, "enforce"))
			ps->mode = STS_MODE_ENFORCE;
		else if (key_is(s + v, e - v, "testing"))
			ps->mode = STS_MODE_TESTING;
		else if (key_is(s + v, e - v, "none"))
			ps->mode = STS_MODE_NONE;
		else {
			whyf(why, "line %zu: mode: invalid value ", lineno);
			why_quoted(why, s + v, e - v);
			return ST_INVALID;
		}
		ps->have_mode = 1;
	} else if (key_is(s, k, "max_age") && !ps->have_max_age)
		return parse_max_age(ps, s + v, e - v, lineno, why);
	/* else: a repeat (first wins) or an extension: ignored */
	return ST_OK;
}

/* parse_body - every line of a body already checked for size and NULs */
static enum status
parse_body(struct pstate *ps, const char *text, size_t len,
    struct buf *why)
{
	const char	*p = text, *end = text + len, *eol, *lend;
	size_t		 lineno, blank = 0;

	for (lineno = 1; p < end; lineno++) {
		eol = memchr(p, '\n', (size_t)(end - p));
		lend = eol != NULL ? eol : end;
		if (eol != NULL && lend > p && lend[-1] == '\r')
			lend--;				/* STS-POL-3: CRLF */
		if (memchr(p, '\r', (size_t)(lend - p)) != NULL) {
			whyf(why, "line %zu: bare CR", lineno);
			return ST_INVALID;
		}
		if (lend == p) {
			/* P-18: tolerated only if nothing follows. */
			if (blank == 0)
				blank = lineno;
		} else if (blank != 0) {
			whyf(why, "line %zu: empty line followed by a field",
			    blank);
			return ST_INVALID;
		} else if (parse_line(ps, p, (size_t)(lend - p), lineno,
		    why) != ST_OK)
			return ST_INVALID;
		p = eol != NULL ? eol + 1 : end;
	}
	return ST_OK;
}

/* sts_policy_parse - see the header comment */
enum status
sts_policy_parse(const char *text, size_t len, struct sts_policy **out,
    struct buf *why)
{
	struct pstate		 ps;
	struct sts_policy	*p;
	const char		*nul;
	size_t			 i;

	*out = NULL;
	if (text == NULL || len == 0) {
		whyf(why, "empty policy");
		return ST_INVALID;
	}
	if (len > STS_BODY_MAX) {		/* STS-HTTP-4 */
		whyf(why, "policy is %zu bytes, over the limit of %d", len,
		    STS_BODY_MAX);
		return ST_INVALID;
	}
	if ((nul = memchr(text, '\0', len)) != NULL) {
		whyf(why, "NUL byte at offset %zu", (size_t)(nul - text));
		return ST_INVALID;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		whyf(why, "UTF-8 byte order mark");
		return ST_INVALID;
	}
	memset(&ps, 0, sizeof(ps));
	if (parse_body(&ps, text, len, why) != ST_OK)
		goto bad;
	if (!ps.have_version) {
		whyf(why, "missing version");
		goto bad;
	}
	if (!ps.have_mode) {
		whyf(why, "missing mode");
		goto bad;
	}
	if (!ps.have_max_age) {
		whyf(why, "missing max_age");
		goto bad;
	}
	if (ps.nmx == 0 && ps.mode != STS_MODE_NONE) {	/* STS-POL-1 */
		whyf(why, "mode %s requires at least one mx",
		    sts_mode_str(ps.mode));
		goto bad;
	}
	p = xcalloc(1, sizeof(*p));
	p->p_mode = ps.mode;
	p->p_max_age = ps.max_age;
	p->p_nmx = ps.nmx;
	if (ps.nmx > 0) {
		p->p_mx = xreallocarray(ps.mx, ps.nmx, sizeof(*p->p_mx));
		ps.mx = NULL;
	}
	p->p_text = xmalloc(len + 1);
	memcpy(p->p_text, text, len);
	p->p_text[len] = '\0';
	p->p_text_len = len;
	*out = p;
	return ST_OK;
bad:
	for (i = 0; i < ps.nmx; i++)
		free(ps.mx[i]);
	free(ps.mx);
	return ST_INVALID;
}

/* sts_policy_free - drop a reference; NULL is fine */
void
sts_policy_free(struct sts_policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	if (__atomic_fetch_sub(&p->p_refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;			/* other holders remain */
	for (i = 0; i < p->p_nmx; i++)
		free(p->p_mx[i]);
	free(p->p_mx);
	free(p->p_text);
	free(p);
}

/*
 * sts_policy_ref - share a policy: parsed policies are never modified,
 * so the policy cache hands out references instead of copies.
 */
struct sts_policy *
sts_policy_ref(struct sts_policy *p)
{
	if (p != NULL)
		__atomic_add_fetch(&p->p_refs, 1, __ATOMIC_RELAXED);
	return p;
}

/* sts_policy_dup - deep copy; NULL gives NULL */
struct sts_policy *
sts_policy_dup(const struct sts_policy *p)
{
	struct sts_policy	*q;
	size_t			 i;

	if (p == NULL)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->p_mode = p->p_mode;
	q->p_max_age = p->p_max_age;
	q->p_nmx = p->p_nmx;
	if (p->p_nmx > 0) {
		q->p_mx = xcalloc(p->p_nmx, sizeof(*q->p_mx));
		for (i = 0; i < p->p_nmx; i++)
			q->p_mx[i] = xstrdup(p->p_mx[i]);
	}
	if (p->p_text != NULL) {
		q->p_text = xmalloc(p->p_text_len + 1);
		memcpy(q->p_text, p->p_text, p->p_text_len);
		q->p_text[p->p_text_len] = '\0';
		q->p_text_len = p->p_text_len;
	}
	return q;
}

/* sts_mode_str - the policy file spelling of a mode */
const char *
sts_mode_str(enum sts_mode m)
{
	switch (m) {
	case STS_MODE_NONE:
		return "none";
	case STS_MODE_TESTING:
		return "testing";
	case STS_MODE_ENFORCE:
		return "enforce";
	}
	return "unknown";
}

/* sts_policy_json - append the normalised policy as one JSON object */
void
sts_policy_json(const struct sts_policy *p, struct buf *b)
{
	size_t	i;

	(void)buf_puts(b, "{\"version\":\"STSv1\",\"mode\":");
	buf_json_str(b, sts_mode_str(p->p_mode));
	(void)buf_puts(b, ",\"mx\":[");
	for (i = 0; i < p->p_nmx; i++) {
		if (i > 0)
			(void)buf_putc(b, ',');
		buf_json_str(b, p->p_mx[i]);
	}
	(void)buf_printf(b, "],\"max_age\":%lld}", p->p_max_age);
}

/* sts_text_lines - STS-POL-12: lines without LF or CRLF */
size_t
sts_text_lines(const char *text, size_t len, char ***lines)
{
	const char	*p, *end, *eol, *lend;
	size_t		 n = 0, cap = 0;
	char		**v = NULL;

	*lines = NULL;
	if (text == NULL || len == 0)
		return 0;
	for (p = text, end = text + len; p < end; p = eol != NULL ?
	    eol + 1 : end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		lend = eol != NULL ? eol : end;
		if (eol != NULL && lend > p && lend[-1] == '\r')
			lend--;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = xstrndup(p, (size_t)(lend - p));
	}
	*lines = v;
	return n;
}

/* sts_policy_lines - sts_text_lines() over the body as received */
size_t
sts_policy_lines(const struct sts_policy *p, char ***lines)
{
	if (p == NULL) {
		*lines = NULL;
		return 0;
	}
	return sts_text_lines(p->p_text, p->p_text_len, lines);
}
