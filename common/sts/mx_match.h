/*
 * mx_match.h - RFC 8461 section 4.1 MX host matching
 *
 * Pure.  Matching is case-insensitive and ignores one trailing dot on
 * the host (resolver output).  A "*." pattern matches exactly one
 * left-most label (STS-VAL-2).
 */
#ifndef MX_MATCH_H
#define MX_MATCH_H

#include "buf.h"
#include "status.h"

struct sts_policy;

/* mx_match - 1 if host matches pattern, else 0 */
int		mx_match(const char *pattern, const char *host);
/* mx_match_policy - 1 if host matches any mx pattern of the policy */
int		mx_match_policy(const struct sts_policy *, const char *host);
/* mx_pattern_check - ST_OK if pattern is ["*."] Domain (A-labels only) */
enum status	mx_pattern_check(const char *pattern, struct buf *why);
/* mx_host_check - ST_OK if host is a syntactically valid host name
 * (a trailing dot allowed) */
enum status	mx_host_check(const char *host, struct buf *why);

#endif
