/*
 * policy_archive.h - every MTA-STS policy text ever journaled, by hash
 *
 * SYNOPSIS
 *	policy_archive_put(state_dir, text, len, hash);
 *	policy_archive_has(state_dir, text, len, hash);
 *	text = policy_archive_text(state_dir, hash, &len);
 *	policy_archive_rec_sts(&r, state_dir, policy, id);
 *
 * DESCRIPTION
 *	<state_dir>/policies/<sha256>.txt holds the text of a policy, written
 *	once (tmp + fsync + rename) and never changed; journal records carry
 *	only the hash (journal_fmt.h field phash), and the reporter reads the
 *	text back to build the report's policy-string (RPT-JSON-*).  The
 *	format is the policy text, byte for byte.
 *
 *	policy_archive_rec_sts() is the one place that marks a journal
 *	record as a session under a cached STS policy: it sets ptype "sts",
 *	pid and, when the policy is known, its mode, and it archives the
 *	policy's text (a file write with fsync the first time a text is seen)
 *	to set phash.  Callers on the mail path pay that write once per
 *	policy text.
 *
 *	hash is 64 lower-case hex digits + NUL (char[65]).  Never logs.
 */
#ifndef POLICY_ARCHIVE_H
#define POLICY_ARCHIVE_H

#include <stddef.h>

#include "journal_fmt.h"

struct sts_policy;

/* policy_archive_put - store text once; 0 (hash set) or -1 */
int		 policy_archive_put(const char *state_dir, const char *text,
		    size_t len, char *hash);
/* policy_archive_has - 1 if text is archived already; hash set */
int		 policy_archive_has(const char *state_dir, const char *text,
		    size_t len, char *hash);
/* policy_archive_text - the archived text of hash, or NULL (free it) */
char		*policy_archive_text(const char *state_dir, const char *hash,
		    size_t *len);
/*
 * policy_archive_rec_sts - mark r a session under the MTA-STS policy p
 * with id: ptype "sts", pid, and with p its mode and phash (p's text
 * archived; phash empty if that fails).  p may be NULL (not known).
 */
void		 policy_archive_rec_sts(struct journal_rec *r,
		    const char *state_dir, const struct sts_policy *p,
		    const char *id);

#endif
