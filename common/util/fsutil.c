/*
 * fsutil.c - file-system helpers (see fsutil.h)
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "xmalloc.h"

int
fs_mkdir_p(const char *path, mode_t mode)
{
	char	*p = xstrdup(path), *s;
	int	 rc = 0, saved = 0;

	for (s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, mode) != 0 && errno != EEXIST) {
				rc = -1;
				saved = errno;
			}
			*s = '/';
		}
	if (mkdir(p, mode) != 0 && errno != EEXIST) {
		rc = -1;
		saved = errno;
	}
	free(p);
	if (rc != 0)
		errno = saved;
	return rc;
}

/* write_all - write(2) until done; 0 or -1 with errno (EIO: no progress) */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fs_sync_dir - fsync the directory that holds path */
int
fs_sync_dir(const char *path)
{
	char	*d = xstrdup(path);
	int	 fd, rc = -1, saved;

	if ((fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		rc = fsync(fd);
		saved = errno;
		close(fd);
		errno = saved;
	}
	free(d);
	return rc;
}

/*
 * fs_write_tmp - data in a new <path>.tmp.<pid>.<n>, fsync'd unless
 * FS_SYNC_NONE; 0 with *tmpp (the caller's to free), or -1 with errno
 * and nothing left behind
 */
int
fs_write_tmp(const char *path, const void *data, size_t len, mode_t mode,
    enum fs_sync sync, char **tmpp)
{
	static unsigned long	 seq;
	char			*tmp;
	int			 fd, rc = -1, saved;

	tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(),
	    __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	/*
	 * O_EXCL: never write through a link someone placed under our
	 * name (a symlink or a hard link).  A stale one of a crashed
	 * process with our pid is removed and the open tried once more.
	 */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode);
	if (fd < 0) {
		saved = errno;
		free(tmp);
		errno = saved;
		return -1;
	}
	if (write_all(fd, data, len) == 0 &&
	    (sync == FS_SYNC_NONE || fsync(fd) == 0))
		rc = 0;
	saved = errno;
	if (close(fd) != 0 && rc == 0) {	/* closed exactly once */
		saved = errno;
		rc = -1;
	}
	if (rc != 0) {
		(void)unlink(tmp);
		free(tmp);
		errno = saved;
		return -1;
	}
	*tmpp = tmp;
	return 0;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    enum fs_sync sync)
{
	char	*tmp;
	int	 rc = 0, saved = 0;

	if (fs_write_tmp(path, data, len, mode, sync, &tmp) == -1)
		return -1;
	if (rename(tmp, path) != 0) {
		saved = errno;
		(void)unlink(tmp);
		rc = -1;
	} else if (sync == FS_SYNC_FULL && fs_sync_dir(path) != 0) {
		saved = errno;
		rc = -1;
	}
	free(tmp);
	errno = saved;
	return rc;
}

/* read_fd - the rest of fd (closed here), NUL-terminated; NULL, errno */
static char *
read_fd(int fd, size_t max, size_t *len)
{
	char	*data = NULL;
	size_t	 have = 0, size = 0;
	ssize_t	 n;
	int	 saved;

	for (;;) {
		if (size - have < 2) {		/* room for a byte and the NUL */
			size = size ? size * 2 : 4096;
			if (max < SIZE_MAX - 2 && size > max + 2)
				size = max + 2;
			data = xrealloc(data, size);
		}
		if ((n = read(fd, data + have, size - have - 1)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			errno = EFBIG;
			n = -1;
			break;
		}
	}
	saved = errno;
	close(fd);
	if (n < 0) {
		free(data);
		errno = saved;
		return NULL;
	}
	if (data == NULL)
		data = xmalloc(1);
	data[have] = '\0';
	*len = have;
	return data;
}

char *
fs_read_file(const char *path, size_t max, size_t *len)
{
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	return read_fd(fd, max, len);
}

char *
fs_read_regular(const char *path, size_t max, size_t *len, struct stat *st)
{
	struct stat	 sb;
	int		 fd;

	if (st == NULL)
		st = &sb;
	/* O_NONBLOCK: a FIFO planted under the name never blocks us */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	return read_fd(fd, max, len);
}

int
fs_sweep_tmp(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	const char	*t;
	char		*end, *path;
	long		 pid;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		/* <name>.tmp.<pid>.<n>: the name fs_write_atomic() gives */
		if ((t = strstr(e->d_name, ".tmp.")) == NULL || t == e->d_name)
			continue;
		pid = strtol(t + 5, &end, 10);
		if (pid <= 0 || *end != '.' || end[1] == '\0' ||
		    strspn(end + 1, "0123456789") != strlen(end + 1))
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;		/* its writer may still live */
		path = xasprintf("%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			n++;
		free(path);
	}
	closedir(d);
	return n;
}
