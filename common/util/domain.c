/*
 * domain.c - domain name syntax and normalisation
 *
 * SYNOPSIS
 *	#include "domain.h"
 *
 *	enum status domain_normalize(const char *in, char *out,
 *	    struct buf *why);
 *	enum status domain_syntax(const char *name, size_t len,
 *	    struct buf *why);
 *
 * DESCRIPTION
 *	domain_syntax() checks the RFC 5321 section 4.1.2 Domain production
 *	over (name, len): dot-separated LDH labels of 1..63 octets that
 *	neither begin nor end with '-', DOMAIN_MAX octets at most.  It is
 *	shared by mx_match.c (policy mx patterns, STS-POL-10) and
 *	tlsrpt_txt.c (mailto: domains).
 *
 *	domain_normalize() turns a recipient or next-hop domain into the
 *	form the cache, the DNS names and the reports use: lower case, one
 *	trailing dot removed, LDH syntax checked.
 *
 *	Decision: underscores are rejected.  They are legal in DNS owner
 *	names but not in a mail domain (RFC 5321 Domain) nor in an mx
 *	pattern (STS-POL-10).
 *
 *	Decision: address literals get ST_INVALID with the reason "address
 *	literal" (STS-PD-4): "[...]" literals, bare IPv6 text, and names
 *	whose labels are all digits (dotted quads, and the shorter forms
 *	such as "127.1" that inet_aton() would also take as an address).
 *	Any other name whose top-level label is all digits is rejected too
 *	(no such TLD can exist, RFC 3696 section 2).
 *
 *	Decision: no IDNA conversion is done here.  Non-ASCII input gets
 *	ST_INVALID "not an A-label domain"; callers must pass A-labels
 *	(STS-PD-5, STS-POL-11).
 *
 * OWNERSHIP
 *	Inputs are borrowed.  out must hold DOMAIN_MAX + 1 bytes; on
 *	failure it is the empty string.
 *
 * DIAGNOSTICS
 *	ST_OK, or ST_INVALID with one line appended to why (which may be
 *	NULL).  Never logs.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.1, 1.5; mx_match.c
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "lex.h"
#include "domain.h"
#include "status.h"

#define LABEL_MAX	63


static int
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* domain_syntax - RFC 5321 Domain over (name, len), LDH A-labels only */
enum status
domain_syntax(const char *name, size_t len, struct buf *why)
{
	size_t		i, lab = 0;
	unsigned char	c;

	if (name == NULL || len == 0) {
		whyf(why, "empty name");
		return ST_INVALID;
	}
	if (name[0] == '[') {
		whyf(why, "address literal");
		return ST_INVALID;
	}
	if (len > DOMAIN_MAX) {
		whyf(why, "name longer than %d octets", DOMAIN_MAX);
		return ST_INVALID;
	}
	for (i = 0; i <= len; i++) {
		c = i < len ? (unsigned char)name[i] : '.';
		if (c == '.') {
			if (i == lab) {
				whyf(why, i == len ? "trailing dot" :
				    "empty label");
				return ST_INVALID;
			}
			if (i - lab > LABEL_MAX) {
				whyf(why, "label longer than %d octets",
				    LABEL_MAX);
				return ST_INVALID;
			}
			if (name[lab] == '-' || name[i - 1] == '-') {
				whyf(why, "label %s with '-'",
				    name[lab] == '-' ? "begins" : "ends");
				return ST_INVALID;
			}
			lab = i + 1;
			continue;
		}
		if (c == '\0') {
			whyf(why, "NUL byte in name");
			return ST_INVALID;
		}
		if (c >= 0x80) {
			whyf(why, "not an A-label domain (non-ASCII byte)");
			return ST_INVALID;
		}
		if (!is_alnum(c) && c != '-') {
			if (c > 0x20 && c < 0x7f)
				whyf(why, "invalid character '%c'", c);
			else
				whyf(why, "invalid character \\x%02x", c);
			return ST_INVALID;
		}
	}
	return ST_OK;
}

/* looks_ipv6 - only hex digits, ':' and '.', with at least one ':' */
static int
looks_ipv6(const char *s, size_t len)
{
	size_t	i;
	int	colon = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colon = 1;
		else if (s[i] != '.' && !is_hex((unsigned char)s[i]))
			return 0;
	}
	return colon;
}

/* numeric_labels - 1 if every label is all digits; *top for the last */
static int
numeric_labels(const char *s, size_t len, int *top)
{
	size_t	i;
	int	all = 1, cur = 1;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			all &= cur;
			cur = 1;
		} else if (!is_digit((unsigned char)s[i]))
			cur = 0;
	}
	*top = cur;
	return all & cur;
}

/* domain_normalize - lower case, no trailing dot, checked A-labels */
enum status
domain_normalize(const char *in, char *out, struct buf *why)
{
	size_t	len, i;
	int	top;

	out[0] = '\0';
	if (in == NULL || *in == '\0') {
		whyf(why, "empty domain");
		return ST_INVALID;
	}
	len = strlen(in);
	if (in[len - 1] == '.')
		len--;
	/* STS-PD-4: no MTA-STS for address literals. */
	if (in[0] == '[' || looks_ipv6(in, len)) {
		whyf(why, "address literal");
		return ST_INVALID;
	}
	if (domain_syntax(in, len, why) != ST_OK)
		return ST_INVALID;
	if (numeric_labels(in, len, &top)) {
		whyf(why, "address literal");
		return ST_INVALID;
	}
	if (top) {
		whyf(why, "all-numeric top-level label");
		return ST_INVALID;
	}
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)in[i];

		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[len] = '\0';
	return ST_OK;
}
