/*
 * tlsrpt_txt.h - parse the "_smtp._tls" TXT record (RFC 8460 section 3)
 *
 * Pure.  tlsrpt_txt_parse() parses one record string: ST_OK with the
 * list of rua URIs (as published, whitespace around commas removed),
 * ST_NOTFOUND if it does not begin with "v=TLSRPTv1" followed by ';'
 * (not a TLSRPT record), ST_INVALID otherwise with a reason.
 * tlsrpt_txt_select() applies RPT-TXT-6 to an RRset.  On ST_OK, why
 * may still get one note: URIs dropped for a raw '!' or past
 * TLSRPT_RUA_MAX.  why may be NULL in every function here.
 *
 * tlsrpt_rua_kind() classifies one URI; tlsrpt_rua_mailto() returns the
 * percent-decoded address of a mailto: URI (RPT-TXT-4).
 */
#ifndef TLSRPT_TXT_H
#define TLSRPT_TXT_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#define TLSRPT_RUA_MAX	16

struct tlsrpt_txt {
	size_t	  t_nrua;
	char	**t_rua;
};

enum tlsrpt_rua_kind {
	RUA_UNSUPPORTED = 0,
	RUA_MAILTO,
	RUA_HTTPS
};

enum status		tlsrpt_txt_parse(const char *rec, size_t len,
			    struct tlsrpt_txt **out, struct buf *why);
enum status		tlsrpt_txt_select(char *const *recs, const size_t *lens,
			    size_t n, struct tlsrpt_txt **out, struct buf *why);
void			tlsrpt_txt_free(struct tlsrpt_txt *);
enum tlsrpt_rua_kind	tlsrpt_rua_kind(const char *uri);
enum status		tlsrpt_rua_mailto(const char *uri, char **addr,
			    struct buf *why);

#endif
