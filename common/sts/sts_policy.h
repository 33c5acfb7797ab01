/*
 * sts_policy.h - parse an MTA-STS policy body (RFC 8461 section 3.2)
 *
 * Pure: no I/O, no logging, no globals.
 *
 * sts_policy_parse() accepts LF, CRLF or mixed line endings (STS-POL-3),
 * requires version, mode and max_age, keeps the first of a repeated
 * non-mx field (STS-POL-6), requires at least one mx unless mode is none
 * (STS-POL-1), validates each mx pattern (STS-POL-10, STS-POL-11) and
 * ignores unknown keys (STS-POL-7).  On ST_OK *out is a new policy that
 * the caller frees; on failure *out is NULL and why has one line.
 *
 * p_text keeps the body exactly as received (NUL-terminated copy) so a
 * report can quote the policy-string line by line (STS-POL-12).
 */
#ifndef STS_POLICY_H
#define STS_POLICY_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#define STS_MAX_AGE_LIMIT	31557600LL	/* RFC 8461 section 3.2 */
#define STS_BODY_MAX		65536		/* STS-HTTP-4 suggestion */
#define STS_MX_MAX		256		/* our limit on mx lines */

enum sts_mode {
	STS_MODE_NONE = 0,
	STS_MODE_TESTING,
	STS_MODE_ENFORCE
};

struct sts_policy {
	enum sts_mode	  p_mode;
	long long	  p_max_age;
	size_t		  p_nmx;
	char		**p_mx;		/* lower-case patterns, "*." kept */
	char		 *p_text;	/* the body as received */
	size_t		  p_text_len;
	int		  p_refs;	/* extra holders (sts_policy_ref) */
};

enum status		 sts_policy_parse(const char *text, size_t len,
			    struct sts_policy **out, struct buf *why);
/* sts_policy_free - drop one reference; the last one frees */
void			 sts_policy_free(struct sts_policy *);
/* sts_policy_ref - one more holder of an (immutable) policy; thread-safe */
struct sts_policy	*sts_policy_ref(struct sts_policy *);
struct sts_policy	*sts_policy_dup(const struct sts_policy *);
const char		*sts_mode_str(enum sts_mode);
/* sts_policy_json - append {"version","mode","mx":[...],"max_age"} */
void			 sts_policy_json(const struct sts_policy *, struct buf *);
/* sts_policy_lines - split p_text into lines without terminators (for
 * the RFC 8460 policy-string); returns count, *lines caller-frees each
 * and the array */
size_t			 sts_policy_lines(const struct sts_policy *, char ***lines);
/* sts_text_lines - the same split over any body, e.g. one that failed
 * to parse (RFC 8460 wants the policy-string "including any errors");
 * a NUL byte ends its line's string early */
size_t			 sts_text_lines(const char *text, size_t len,
			    char ***lines);

#endif
