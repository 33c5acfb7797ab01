/*
 * sts_store.h - the policy cache's on-disk format, one file a domain
 *
 * <state_dir>/cache/<domain> holds one cached policy (STS-CACHE-10):
 *	sts-milter-cache 1\n
 *	id <id>\n
 *	fetched <unix time>\n
 *	checked <unix time>\n
 *	[failed <id> <unix time> <RFC 8460 result type number>\n]
 *	length <n>\n
 *	\n
 *	<n bytes of policy body as received>
 * written with fs_write_atomic (FS_SYNC_DATA: fsync, then rename).  The
 * "failed" line keeps a fetch back-off across restarts (STS-HTTP-5).
 * Unknown lines are ignored; a file whose body is not exactly <n> bytes
 * (a torn write) or does not parse as a policy is ignored.
 *
 * sts_store_format() and sts_store_parse() are pure (table-tested and
 * fuzzed); the others do the file system calls, and only they: the
 * cache calls them without holding a lock a lookup needs.
 */
#ifndef STS_STORE_H
#define STS_STORE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "sts_policy.h"
#include "sts_txt.h"
#include "tlsrpt_types.h"

#define STS_STORE_FILE_MAX	(STS_BODY_MAX * 16 + 4096)

struct sts_store_rec {
	char			 id[STS_ID_MAX + 1];
	time_t			 fetched;
	time_t			 checked;
	int			 failed;	/* a fetch of fail_id failed */
	char			 fail_id[STS_ID_MAX + 1];
	time_t			 fail_time;
	enum tlsrpt_result	 fail_rt;
	struct sts_policy	*policy;	/* owned by the record */
};

/* sts_store_format - the file's bytes for rec (rec->policy != NULL) */
void	sts_store_format(const struct sts_store_rec *, struct buf *out);
/* sts_store_parse - 0 and rec filled (caller frees rec->policy), or -1 */
int	sts_store_parse(const char *data, size_t len, struct sts_store_rec *);
void	sts_store_rec_clear(struct sts_store_rec *);

/* file system part; dir is <state_dir>/cache */
int	sts_store_write(const char *dir, const char *domain,
	    const struct buf *data);
int	sts_store_read(const char *dir, const char *domain,
	    struct sts_store_rec *);
/* the same, staged in a batch that the caller commits (fs_batch.h);
 * sts_store_stage returns 0, or 1 when the file could not be written */
struct fs_batch;
int	sts_store_stage(struct fs_batch *, const char *dir, const char *domain,
	    const struct buf *data);
void	sts_store_stage_remove(struct fs_batch *, const char *dir,
	    const char *domain);
int	sts_store_remove(const char *dir, const char *domain);
/* sts_store_clear - remove every file; returns how many */
int	sts_store_clear(const char *dir);
/* sts_store_foreach - fn for each readable record; returns how many */
int	sts_store_foreach(const char *dir, void (*fn)(void *,
	    const char *domain, const struct sts_store_rec *), void *arg);

#endif
