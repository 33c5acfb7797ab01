/*
 * journal_fmt.h - encode and decode ONE journal record
 *
 * Shared by the writer (sts-milter, collectors) and the readers
 * (tlsrpt-reporter, stsctl) so they cannot drift apart; pure and fuzzed.
 *
 * A record is one line:
 *	J1 <crc32 of JSON, 8 lower-case hex> <flat JSON object>\n
 * The JSON object holds only strings and integers, keys as below.  A
 * line that is torn (no newline), has a bad CRC or does not parse is
 * rejected with ST_INVALID, so a reader skips it and never miscounts.
 *
 * Keys: "type" ("session"|"deferral"), "time" (unix seconds), "src"
 * (who observed it: "probe", "postfix", "exim", "sendmail", "report",
 * "fetch" a failed policy fetch, "dane" a bogus DNSSEC answer),
 * "ptype" ("sts"|"no-policy-found"|"tlsa"), "domain", "phash" (SHA-256
 * of the policy text in the archive), "pid" (policy id), "mode", "mx",
 * "sip" (sending-mta-ip), "rip" (receiving-ip), "helo", "result"
 * (RFC 8460 type or "success"), "reason" (failure-reason-code), "info"
 * (additional-information), "qid", "rcpt", "text" (deferral reply),
 * "lpos" (where in the mail log a postfix_log session was read, so a
 * restart that reads lines again does not journal them twice:
 * "<inode hex>-<signature hex>:<offset>.<n>", logtail.c).
 * Empty strings are omitted.  Unknown keys are ignored by the decoder.
 */
#ifndef JOURNAL_FMT_H
#define JOURNAL_FMT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "status.h"
#include "tlsrpt_types.h"

#define JOURNAL_LINE_MAX	8192

enum jrec_type {
	JREC_SESSION = 1,
	JREC_DEFERRAL
};

struct journal_rec {
	enum jrec_type		type;
	time_t			time;
	char			src[16];
	char			ptype[16];
	char			domain[256];
	char			phash[65];
	char			pid[33];
	char			mode[8];
	char			mx[256];
	char			sip[64];
	char			rip[64];
	char			helo[256];
	enum tlsrpt_result	result;
	char			reason[256];
	char			info[256];
	char			qid[32];
	char			rcpt[320];
	char			text[512];
	char			lpos[64];
};

/* journal_encode - append one whole line (with CRC and newline) to b */
void		journal_encode(const struct journal_rec *, struct buf *b);
/* journal_json - append only the JSON object (for stsctl journal) */
void		journal_json(const struct journal_rec *, struct buf *b);
/* journal_decode - parse one line (with or without the newline) */
enum status	journal_decode(const char *line, size_t len,
		    struct journal_rec *, struct buf *why);
/* journal_rec_set - bounded copy of a string into a field */
void		journal_rec_set(char *field, size_t size, const char *s);
#define JREC_SET(r, f, s)	journal_rec_set((r)->f, sizeof((r)->f), (s))

#endif
