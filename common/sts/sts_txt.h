/*
 * sts_txt.h - parse the "_mta-sts" TXT record (RFC 8461 section 3.1)
 *
 * Pure: no I/O, no logging, no globals.
 *
 * sts_txt_parse() parses ONE record string (already concatenated from
 * its character-strings, STS-TXT-6).  It returns ST_OK with the id,
 * ST_NOTFOUND when the record does not begin with "v=STSv1;" (so it is
 * not an STS record at all, STS-TXT-4), or ST_INVALID with a reason.
 *
 * sts_txt_select() applies STS-TXT-4 to a whole RRset: records that do
 * not begin with "v=STSv1;" are discarded; if the number left is not
 * one, ST_NOTFOUND ("no policy", reason in why); if the survivor is
 * invalid, ST_INVALID.
 */
#ifndef STS_TXT_H
#define STS_TXT_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#define STS_ID_MAX	32

struct sts_txt {
	char	id[STS_ID_MAX + 1];
};

enum status	sts_txt_parse(const char *rec, size_t len, struct sts_txt *out,
		    struct buf *why);
enum status	sts_txt_select(char *const *recs, const size_t *lens, size_t n,
		    struct sts_txt *out, struct buf *why);

#endif
