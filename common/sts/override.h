/*
 * override.h - per-domain overrides of discovered policy
 *
 * File format (override_file): one "domain action" per line, '#'
 * comments; action is skip (no MTA-STS for this domain), enforce or
 * testing (force that mode on the discovered policy).  A leading "."
 * ("'.example.com") also matches every subdomain.  Pure parser; the
 * table is immutable once built and safe to share between threads.
 */
#ifndef OVERRIDE_H
#define OVERRIDE_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

enum override_action {
	OVERRIDE_NONE = 0,
	OVERRIDE_SKIP,
	OVERRIDE_ENFORCE,
	OVERRIDE_TESTING
};

struct override;

enum status		 override_parse(const char *text, size_t len,
			    const char *fname, struct override **out,
			    struct buf *why);
/* override_load - NULL or "" path gives an empty table */
enum status		 override_load(const char *path, struct override **out,
			    struct buf *why);
enum override_action	 override_lookup(const struct override *,
			    const char *domain);
const char		*override_str(enum override_action);
void			 override_free(struct override *);

#endif
