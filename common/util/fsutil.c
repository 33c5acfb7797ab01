/*
 * fsutil.c - small file-system helpers
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>

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
