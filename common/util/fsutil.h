/*
 * fsutil.h - small file-system helpers shared by the daemon and reporter
 */
#ifndef FSUTIL_H
#define FSUTIL_H

#include <sys/types.h>

/* fs_mkdir_p - mkdir -p; 0 or -1 with errno */
int	fs_mkdir_p(const char *path, mode_t mode);

#endif
