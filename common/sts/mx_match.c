/*
 * mx_match.c - RFC 8461 section 4.1 MX host matching
 *
 * SYNOPSIS
 *	#include "mx_match.h"
 *
 *	int mx_match(const char *pattern, const char *host);
 *	int mx_match_policy(const struct sts_policy *p, const char *host);
 *	enum status mx_pattern_check(const char *pattern, struct buf *why);
 *	enum status mx_host_check(const char *host, struct buf *why);
 *
 * DESCRIPTION
 *	mx_pattern_check() accepts the policy "mx" value production
 *	["*."] Domain (STS-POL-10): a Domain per RFC 5321 (see
 *	domain_syntax()), optionally preceded by one whole-label "*.".
 *	mx_host_check() accepts a host name with at most one trailing dot
 *	(resolver output).
 *
 *	mx_match() is total: NULL, empty or malformed input never matches.
 *	A literal pattern matches the host case-insensitively; "*.D"
 *	matches exactly one extra left-most label in front of D
 *	(STS-VAL-2, TV-8461-5), as in the Appendix B pseudocode.
 *
 *	Decision: a pattern may be a single label ("localhost"): RFC 5321
 *	Domain allows it, so rejecting it would invalidate a whole policy
 *	(P-14 is strict).  A dotted quad is an ABNF-valid Domain too and is
 *	accepted; it matches only a host of that exact spelling.
 *
 *	Decision: mx_match() checks both inputs first.  A host that is not
 *	a valid host name (underscore, '*', empty label) never matches,
 *	even against "*.D", and a pattern that mx_pattern_check() rejects
 *	(bare "*", "*.", "mail.*.example.com") never matches either.  The
 *	cost is a scan of two short strings.
 *
 *	Decision: one trailing dot is ignored on the host only.  Patterns
 *	come from a parsed policy, where a trailing dot is invalid (P-14).
 *
 * DIAGNOSTICS
 *	Checks return ST_OK or ST_INVALID with one line appended to why
 *	(which may be NULL).  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.5, 1.7; domain.c
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "lex.h"
#include "domain.h"
#include "mx_match.h"
#include "status.h"
#include "sts_policy.h"


/* lc - ASCII lower case, no locale */
static unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ieq - n bytes equal ignoring ASCII case */
static int
ieq(const char *a, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return 0;
	return 1;
}

/* mx_pattern_check - STS-POL-10: ["*."] Domain, A-labels only */
enum status
mx_pattern_check(const char *pattern, struct buf *why)
{
	const char	*d;
	size_t		 len;

	if (pattern == NULL || *pattern == '\0') {
		whyf(why, "empty pattern");
		return ST_INVALID;
	}
	len = strlen(pattern);
	d = pattern;
	if (pattern[0] == '*') {
		if (pattern[1] != '.') {
			whyf(why, "wildcard must be the whole left-most label");
			return ST_INVALID;
		}
		d += 2;
		len -= 2;
		if (len == 0) {
			whyf(why, "nothing after \"*.\"");
			return ST_INVALID;
		}
	}
	if (memchr(d, '*', len) != NULL) {
		whyf(why, "wildcard must be the whole left-most label");
		return ST_INVALID;
	}
	return domain_syntax(d, len, why);
}

/* mx_host_check - a host name, one trailing dot allowed */
enum status
mx_host_check(const char *host, struct buf *why)
{
	size_t	len;

	if (host == NULL || *host == '\0') {
		whyf(why, "empty host name");
		return ST_INVALID;
	}
	len = strlen(host);
	if (host[len - 1] == '.')
		len--;
	return domain_syntax(host, len, why);
}

/* mx_match - STS-VAL-2: 1 if host matches pattern, else 0 */
int
mx_match(const char *pattern, const char *host)
{
	const char	*dot;
	size_t		 plen, hlen;

	if (mx_pattern_check(pattern, NULL) != ST_OK ||
	    mx_host_check(host, NULL) != ST_OK)
		return 0;
	plen = strlen(pattern);
	hlen = strlen(host);
	if (host[hlen - 1] == '.')
		hlen--;
	if (pattern[0] != '*')
		return hlen == plen && ieq(host, pattern, hlen);
	/* "*.D": exactly one label, then ".D"; the label is non-empty. */
	if ((dot = memchr(host, '.', hlen)) == NULL)
		return 0;
	dot++;
	return (size_t)(host + hlen - dot) == plen - 2 &&
	    ieq(dot, pattern + 2, plen - 2);
}

/* mx_match_policy - 1 if host matches any mx pattern of the policy */
int
mx_match_policy(const struct sts_policy *p, const char *host)
{
	size_t	i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->p_nmx; i++)
		if (mx_match(p->p_mx[i], host))
			return 1;
	return 0;
}
