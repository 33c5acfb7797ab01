/*
 * fsutil.h - file-system helpers: directories, whole-file writes and reads
 *
 * SYNOPSIS
 *	fs_mkdir_p(path, 0750);
 *	fs_write_atomic(path, data, len, 0640, FS_SYNC_FULL);
 *	data = fs_read_file(path, max, &len);
 *	data = fs_read_regular(path, max, &len, &st);
 *
 * DESCRIPTION
 *	fs_write_atomic() is the one way anything under state_dir is
 *	replaced: it writes <path>.tmp.<pid>.<n> (n unique in the process,
 *	so threads never share a temporary file), then renames it over
 *	path.  A reader sees the old file or the new one, never a mix.  What
 *	a crash (of the machine, not the process) may leave depends on the
 *	durability the caller chooses:
 *
 *	FS_SYNC_NONE	no fsync.  After a crash: the old file, the new one,
 *			or (file system permitting) an empty one.  For files
 *			that are rewritten soon anyway and cost nothing when
 *			lost (status.json, the Postfix log position).
 *	FS_SYNC_DATA	fsync the file before the rename.  After a crash:
 *			the old file or the complete new one, never a torn
 *			or empty one; the rename itself may be lost.  For
 *			files whose loss is repaired by doing the work again
 *			(policy cache, policy archive).
 *	FS_SYNC_FULL	FS_SYNC_DATA, then fsync the directory: once the
 *			call returns 0 the new file survives a crash.  For
 *			promises made to someone else (the reporter's
 *			delivery state: a report must not be sent twice).
 *
 *	On failure the temporary file is removed, path is unchanged, and
 *	-1 is returned with errno set (EIO for a short write that left no
 *	errno).  A failed directory fsync after the rename returns -1 too
 *	(the file is in place but may not survive a crash).
 *
 *	fs_read_file() reads a whole file (any file: also a pipe or
 *	/dev/stdin) into a malloc'd buffer with a NUL after the len bytes.
 *	More than max bytes: NULL with errno EFBIG.  Other failures: NULL
 *	with the errno of open(2) or read(2).
 *
 *	fs_sweep_tmp() removes from dir the temporary files that
 *	fs_write_atomic() leaves when its process dies between the open
 *	and the rename (<name>.tmp.<pid>.<n> of a pid that no longer
 *	exists), and returns how many.
 *
 *	fs_read_regular() is the same for a file under state_dir: it
 *	follows no symbolic link (ELOOP), reads only a regular file
 *	(EINVAL: never blocks on a FIFO planted under the name), and
 *	gives the caller the file's stat (st may be NULL) so it can check
 *	the owner of what it read.
 *
 *	Never logs.
 */
#ifndef FSUTIL_H
#define FSUTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

enum fs_sync {
	FS_SYNC_NONE = 0,
	FS_SYNC_DATA,
	FS_SYNC_FULL
};

/* fs_mkdir_p - mkdir -p; 0 or -1 with errno */
int	 fs_mkdir_p(const char *path, mode_t mode);
/* fs_sync_dir - fsync the directory holding path (after a rename(2)) */
int	 fs_sync_dir(const char *path);
/* fs_write_atomic - replace path with data; 0 or -1 with errno */
int	 fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, enum fs_sync);
/* fs_write_tmp - the first half of fs_write_atomic: the temporary file
 * (fs_batch.c renames it); 0 with *tmp malloc'd, or -1 with errno */
int	 fs_write_tmp(const char *path, const void *data, size_t len,
	    mode_t mode, enum fs_sync, char **tmp);
/* fs_read_file - the whole file, NUL-terminated; NULL with errno */
char	*fs_read_file(const char *path, size_t max, size_t *len);
/* fs_sweep_tmp - remove the temp files of dead writers in dir; count */
int	 fs_sweep_tmp(const char *dir);
/* fs_read_regular - a regular file only, no symlink; NULL with errno */
char	*fs_read_regular(const char *path, size_t max, size_t *len,
	    struct stat *st);

#endif
