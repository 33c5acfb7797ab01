/*
 * fs_batch.c - many whole-file replacements and removals, one flush
 * (see fs_batch.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_batch.h"
#include "fsutil.h"
#include "xmalloc.h"

static void
add(struct fs_batch *b, const char *path, char *tmp)
{
	if (b->b_n == b->b_cap) {
		b->b_cap = b->b_cap ? b->b_cap * 2 : 16;
		b->b_op = xreallocarray(b->b_op, b->b_cap, sizeof(*b->b_op));
	}
	b->b_op[b->b_n].o_path = xstrdup(path);
	b->b_op[b->b_n].o_tmp = tmp;
	b->b_n++;
}

int
fs_batch_write(struct fs_batch *b, const char *path, const void *data,
    size_t len, mode_t mode)
{
	char	*tmp;

	if (fs_write_tmp(path, data, len, mode, FS_SYNC_NONE, &tmp) == -1)
		return 1;
	add(b, path, tmp);
	return 0;
}

void
fs_batch_remove(struct fs_batch *b, const char *path)
{
	add(b, path, NULL);
}

/* flush - syncfs on the file system of the batch's first write */
static int
flush(const struct fs_batch *b)
{
	size_t	i;
	int	fd, rc, saved;

	for (i = 0; i < b->b_n && b->b_op[i].o_tmp == NULL; i++)
		;
	if (i == b->b_n)
		return 0;		/* removals only: nothing to flush */
	if ((fd = open(b->b_op[i].o_tmp, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	rc = syncfs(fd);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rc;
}

int
fs_batch_commit(struct fs_batch *b)
{
	struct fs_batch_op	*o;
	size_t			 i;
	int			 synced, bad = 0, saved = 0;

	synced = flush(b) == 0;
	if (!synced)
		saved = errno;
	for (i = 0; i < b->b_n; i++) {
		o = &b->b_op[i];
		if (o->o_tmp == NULL) {
			if (unlink(o->o_path) == -1 && errno != ENOENT) {
				saved = errno;
				bad++;
			}
		} else if (!synced || rename(o->o_tmp, o->o_path) == -1) {
			if (synced)
				saved = errno;
			(void)unlink(o->o_tmp);
			bad++;
		}
		free(o->o_tmp);
		free(o->o_path);
	}
	b->b_n = 0;
	errno = saved;
	return bad;
}

void
fs_batch_free(struct fs_batch *b)
{
	size_t	i;

	for (i = 0; i < b->b_n; i++) {
		if (b->b_op[i].o_tmp != NULL)
			(void)unlink(b->b_op[i].o_tmp);
		free(b->b_op[i].o_tmp);
		free(b->b_op[i].o_path);
	}
	free(b->b_op);
	memset(b, 0, sizeof(*b));
}
