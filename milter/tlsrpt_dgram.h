/*
 * tlsrpt_dgram.h - parse one libtlsrpt datagram: the TLS-RPT event that
 * Postfix 3.10+ (smtp_tlsrpt_enable) sends after each TLS handshake
 *
 * The wire format is libtlsrpt's (reporting-anchors.md 3.3): one JSON
 * object per AF_UNIX datagram, no terminator,
 *	{"dpv": "1","d": DOMAIN,"pr": TLSRPT-TXT,"policies":[POLICY...]}
 * POLICY {"policy-type":1|2|9, "policy-domain": S, "policy-string":[S..],
 *	   "mx-host":[S..], "failure-details":[FAIL..], "t":N, "f":0|1}
 * FAIL {"c":201..205|301..306, "s": sending-ip, "n": mx, "h": EHLO reply,
 *	 "r": receiving-ip, "a": additional-info, "f": reason-code}
 *
 * Pure: no I/O, no logging.  Parsed strictly (reporting-anchors.md 10):
 * "dpv" is the string "1" or absent (another value is accepted and
 * flagged); "d" must be a DNS name (A-label, lower-cased here); every
 * policy needs "policy-type" and "f"; "t" may disagree with the failure
 * list (flagged); unknown result codes, unknown policy types, NUL bytes,
 * wrong JSON types, nesting and sizes over the limits below make the
 * whole datagram ST_INVALID with one line in why.  Strings are cleaned
 * for the journal: control characters become spaces, bytes that are not
 * well-formed UTF-8 become '?' (libtlsrpt copies raw bytes >= 0x80).
 * A missing "policy-domain" for no-policy-found (sys4 tlsrpt #51; Postfix
 * 3.10.13 fills it, earlier releases did not) is "d".  The EHLO reply is reduced to the host name of
 * its first line (RFC 8460 receiving-mx-helo).
 */
#ifndef TLSRPT_DGRAM_H
#define TLSRPT_DGRAM_H

#include <stddef.h>

#include "buf.h"
#include "status.h"
#include "tlsrpt_types.h"

#define DGRAM_MAX		65536	/* bytes; larger is refused */
#define DGRAM_POLICIES_MAX	4	/* Postfix sends exactly one */
#define DGRAM_FAILS_MAX		16
#define DGRAM_LINES_MAX		64	/* policy-string lines */
#define DGRAM_TEXT_MAX		8192	/* policy-string, joined */

enum dgram_ptype {
	DGRAM_TLSA = 1,
	DGRAM_STS = 2,
	DGRAM_NO_POLICY = 9
};

struct dgram_fail {
	enum tlsrpt_result	 result;
	char			 sip[64];	/* sending-mta-ip */
	char			 mx[256];	/* receiving-mx-hostname */
	char			 helo[256];	/* receiving-mx-helo */
	char			 rip[64];	/* receiving-ip */
	char			 info[256];	/* additional-information */
	char			 reason[256];	/* failure-reason-code */
};

struct dgram_policy {
	enum dgram_ptype	 ptype;
	char			 pdomain[256];
	char			 text[DGRAM_TEXT_MAX];	/* lines joined by LF */
	size_t			 nlines;
	char			 mode[8];	/* STS "mode:" line, if any */
	struct dgram_fail	 fails[DGRAM_FAILS_MAX];
	size_t			 nfails;
	int			 failed;	/* "f": 1 failure, 0 success */
	int			 t_mismatch;	/* "t" != number of fails */
};

struct tlsrpt_dgram {
	char			 domain[256];	/* "d", normalised */
	int			 dpv_unknown;	/* "dpv" present and not "1" */
	struct dgram_policy	 pol[DGRAM_POLICIES_MAX];
	size_t			 npol;
};

/* dgram_ptype_str - "tlsa", "sts", "no-policy-found" */
const char	*dgram_ptype_str(enum dgram_ptype);
/* dgram_result - the RFC 8460 result type of a libtlsrpt code; -1 unknown */
int		 dgram_result(long code, enum tlsrpt_result *);
/*
 * tlsrpt_dgram_parse - ST_OK and *out (free with tlsrpt_dgram_free), or
 * ST_INVALID with *out NULL and one line in why.
 */
enum status	 tlsrpt_dgram_parse(const char *buf, size_t len,
		    struct tlsrpt_dgram **out, struct buf *why);
void		 tlsrpt_dgram_free(struct tlsrpt_dgram *);

#endif
