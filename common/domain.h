/*
 * domain.h - domain name normalisation
 *
 * Pure.  domain_normalize() lower-cases, strips one trailing dot,
 * checks LDH syntax (A-labels; STS-PD-5) and rejects address literals
 * (STS-PD-4).  The result is written into out (size DOMAIN_MAX + 1).
 */
#ifndef DOMAIN_H
#define DOMAIN_H

#include "buf.h"
#include "status.h"

#define DOMAIN_MAX	253

enum status	domain_normalize(const char *in, char *out, struct buf *why);

#endif
