/*
 * domain.h - domain name normalisation
 *
 * Pure.  domain_normalize() lower-cases, strips one trailing dot,
 * checks LDH syntax (A-labels; STS-PD-5) and rejects address literals
 * (STS-PD-4).  The result is written into out (size DOMAIN_MAX + 1).
 */
#ifndef DOMAIN_H
#define DOMAIN_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#define DOMAIN_MAX	253

enum status	domain_normalize(const char *in, char *out, struct buf *why);
/*
 * domain_syntax - ST_OK if name[0..len) is an RFC 5321 Domain made of
 * LDH labels: 1..63 octets each, not starting or ending with '-', at
 * most DOMAIN_MAX octets, ASCII only, no trailing dot.  A single label
 * is allowed.  Does not reject dotted quads (the ABNF allows them).
 */
enum status	domain_syntax(const char *name, size_t len, struct buf *why);

#endif
