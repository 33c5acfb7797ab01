/*
 * fs_batch.h - many whole-file replacements and removals, one flush
 *
 * SYNOPSIS
 *	struct fs_batch b = FS_BATCH_INIT;
 *	fs_batch_write(&b, path, data, len, 0640);
 *	fs_batch_remove(&b, path);
 *	fs_batch_commit(&b);
 *
 * DESCRIPTION
 *	fs_batch_write() writes data to a temporary file beside path (as
 *	fs_write_atomic() does, without an fsync of its own);
 *	fs_batch_remove() notes a removal.  fs_batch_commit() flushes the
 *	file system once (syncfs(2) on the first file's directory), then,
 *	in the order they were added, renames each temporary file over
 *	its path and removes what was to be removed.  Each file then has
 *	the durability of FS_SYNC_DATA: after a crash the old file or the
 *	complete new one, the rename itself possibly lost; readers see the
 *	old file or the new one, never a mix.  What it saves: one flush
 *	(a disk cache flush; in a virtual machine an exit to the host) per
 *	file, for a writer with a queue of them (the policy cache's
 *	writer, README "The cold path").
 *
 *	All files of a batch must be on one file system.  A write that
 *	fails leaves nothing behind and counts as failed; a failed flush
 *	fails every write of the batch (their temporary files are removed,
 *	the old files stay) and the removals still happen.  The batch is
 *	empty again after a commit.  fs_batch_write and fs_batch_commit
 *	return the number of failures (0: all done), with errno of the
 *	last one.  Not thread-safe: one batch, one thread.  Never logs.
 */
#ifndef FS_BATCH_H
#define FS_BATCH_H

#include <stddef.h>
#include <sys/types.h>

struct fs_batch_op {
	char	*o_path;
	char	*o_tmp;		/* NULL: remove o_path */
};

struct fs_batch {
	struct fs_batch_op	*b_op;
	size_t			 b_n, b_cap;
};

#define FS_BATCH_INIT	{ NULL, 0, 0 }

int	fs_batch_write(struct fs_batch *, const char *path, const void *data,
	    size_t len, mode_t mode);
void	fs_batch_remove(struct fs_batch *, const char *path);
int	fs_batch_commit(struct fs_batch *);
/* fs_batch_free - drop what is not committed (temporary files removed) */
void	fs_batch_free(struct fs_batch *);

#endif
