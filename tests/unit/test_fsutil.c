/*
 * test_fsutil.c - the one atomic write (each durability, each failure
 * path leaves the old file and no temporary), the one whole-file read,
 * and the names under state_dir (statedir.h)
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakes.h"
#include "fsutil.h"
#include "harness.h"
#include "statedir.h"
#include "xmalloc.h"

static char	dir[64];

static char *
slurp(const char *path)
{
	size_t	len;

	return fs_read_file(path, 1 << 20, &len);
}

static void
test_fs_write_atomic_modes(void)
{
	static const struct {
		enum fs_sync	 sync;
		const char	*data;
		mode_t		 mode;
	} t[] = {
		{ FS_SYNC_NONE, "none\n", 0644 },
		{ FS_SYNC_DATA, "data\n", 0640 },
		{ FS_SYNC_FULL, "full\n", 0600 },
		{ FS_SYNC_FULL, "", 0640 },		/* an empty marker */
	};
	char		*path = xasprintf("%s/modes", dir), *got;
	struct stat	 st;
	size_t		 i;
	mode_t		 um = umask(0);

	umask(um);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)unlink(path);
		CHECKF(fs_write_atomic(path, t[i].data, strlen(t[i].data),
		    t[i].mode, t[i].sync) == 0, "row %zu", i);
		got = slurp(path);
		CHECKF(got != NULL && !strcmp(got, t[i].data), "row %zu", i);
		free(got);
		CHECKF(stat(path, &st) == 0 &&
		    (st.st_mode & 0777) == (t[i].mode & ~um), "row %zu", i);
		/* replacing keeps it whole */
		CHECKF(fs_write_atomic(path, "x", 1, t[i].mode, t[i].sync) ==
		    0, "row %zu", i);
		got = slurp(path);
		CHECKF(got != NULL && !strcmp(got, "x"), "row %zu", i);
		free(got);
		CHECKF(fake_dir_entries(dir) == 1, "row %zu: a temporary left",
		    i);
	}
	(void)unlink(path);
	free(path);
}

static void
test_fs_write_atomic_failures(void)
{
	char	*missing = xasprintf("%s/no/such/file", dir);
	char	*sub = xasprintf("%s/isdir", dir);

	/* no directory: nothing created */
	errno = 0;
	CHECK_INT(fs_write_atomic(missing, "a", 1, 0640, FS_SYNC_FULL), -1);
	CHECK_INT(errno, ENOENT);
	/* the target is a directory: the rename fails, no temporary left */
	CHECK_INT(mkdir(sub, 0750), 0);
	errno = 0;
	CHECK_INT(fs_write_atomic(sub, "a", 1, 0640, FS_SYNC_DATA), -1);
	CHECK(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
	CHECK_INT(fake_dir_entries(dir), 1);
	CHECK_INT(rmdir(sub), 0);
	free(missing);
	free(sub);
}

/* a write cut short (RLIMIT_FSIZE: EFBIG) leaves the old file whole */
static void
test_fs_write_atomic_short(void)
{
	char		*path = xasprintf("%s/short", dir), *got;
	static char	 big[8192];
	pid_t		 pid;
	int		 st;

	CHECK_INT(fs_write_atomic(path, "old\n", 4, 0640, FS_SYNC_NONE), 0);
	memset(big, 'b', sizeof(big));
	if ((pid = fork()) == 0) {		/* the limit stays in the child */
		struct rlimit	rl = { 4096, 4096 };

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(2);
		errno = 0;
		if (fs_write_atomic(path, big, sizeof(big), 0640,
		    FS_SYNC_FULL) != -1)
			_exit(3);
		_exit(errno == EFBIG ? 0 : 4);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	got = slurp(path);
	CHECK_STR(got, "old\n");
	free(got);
	CHECK_INT(fake_dir_entries(dir), 1);	/* the temporary is gone */
	(void)unlink(path);
	free(path);
}

/* a directory we may not write in: in a child, which as root (make
 * check) first becomes nobody, for whom the mode bits hold */
static void
test_fs_write_atomic_eacces(void)
{
	char	*ro = xasprintf("%s/ro", dir), *p = xasprintf("%s/ro/f", dir);
	pid_t	 pid;
	int	 st = -1;

	CHECK_INT(mkdir(ro, 0500), 0);
	CHECK_INT(chmod(dir, 0711), 0);		/* nobody may pass through */
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 ||
		    setuid(65534) != 0))
			_exit(2);
		errno = 0;
		if (fs_write_atomic(p, "a", 1, 0640, FS_SYNC_NONE) != -1)
			_exit(3);
		_exit(errno == EACCES ? 0 : 4);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: status %#x "
	    "(2: could not become nobody, 3: written, 4: not EACCES)", st);
	CHECK_INT(access(p, F_OK), -1);
	CHECK_INT(chmod(dir, 0700), 0);
	CHECK_INT(rmdir(ro), 0);
	free(ro);
	free(p);
}

struct writer {
	char	*path;
	char	 c;
};

static void *
writer(void *arg)
{
	struct writer	*w = arg;
	char		 data[4096];
	int		 i;

	memset(data, w->c, sizeof(data));
	for (i = 0; i < 50; i++)
		if (fs_write_atomic(w->path, data, sizeof(data), 0640,
		    FS_SYNC_NONE) != 0)
			return (void *)1;
	return NULL;
}

/* threads replacing one file: always one writer's whole content */
static void
test_fs_write_atomic_threads(void)
{
	struct writer	 w[4];
	pthread_t	 th[4];
	void		*rv;
	char		*path = xasprintf("%s/shared", dir), *got;
	size_t		 len, i;
	int		 j;

	for (j = 0; j < 4; j++) {
		w[j].path = path;
		w[j].c = (char)('a' + j);
		CHECK_INT(pthread_create(&th[j], NULL, writer, &w[j]), 0);
	}
	for (j = 0; j < 4; j++) {
		CHECK_INT(pthread_join(th[j], &rv), 0);
		CHECK(rv == NULL);
	}
	got = fs_read_file(path, 1 << 20, &len);
	CHECK(got != NULL && len == 4096);
	for (i = 1; got != NULL && i < len; i++)
		if (got[i] != got[0])
			break;
	CHECK(got != NULL && i == len);
	free(got);
	CHECK_INT(fake_dir_entries(dir), 1);
	(void)unlink(path);
	free(path);
}

static void
test_fs_read_file_table(void)
{
	static const struct {
		size_t	size, max;
		int	ok, err;
	} t[] = {
		{ 0, 10, 1, 0 },		/* empty: "" */
		{ 10, 10, 1, 0 },		/* exactly max */
		{ 11, 10, 0, EFBIG },		/* one more */
		{ 1, 0, 0, EFBIG },
		{ 100000, 100000, 1, 0 },	/* grows past its first 4 KiB */
		{ 100001, 100000, 0, EFBIG },
		{ 5000, (size_t)-1, 1, 0 },	/* no cap */
	};
	char	*path = xasprintf("%s/read", dir), *data, *got;
	size_t	 i, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		data = xmalloc(t[i].size + 1);
		memset(data, 'r', t[i].size);
		data[t[i].size / 2] = '\0';	/* binary-safe */
		CHECK_INT(fs_write_atomic(path, data, t[i].size, 0640,
		    FS_SYNC_NONE), 0);
		len = 7;
		errno = 0;
		got = fs_read_file(path, t[i].max, &len);
		CHECKF((got != NULL) == t[i].ok, "row %zu", i);
		if (got != NULL) {
			CHECKF(len == t[i].size, "row %zu", i);
			CHECKF(memcmp(got, data, len) == 0 && got[len] == '\0',
			    "row %zu", i);
		} else
			CHECKF(errno == t[i].err, "row %zu: errno %d", i,
			    errno);
		free(got);
		free(data);
	}
	(void)unlink(path);
	free(path);
	/* no file; a directory */
	errno = 0;
	CHECK(fs_read_file("/nonexistent/x", 10, &len) == NULL);
	CHECK_INT(errno, ENOENT);
	errno = 0;
	CHECK(fs_read_file(dir, 10, &len) == NULL);
	CHECK_INT(errno, EISDIR);
}

/* a pipe (stsctl check-policy -): read to its end */
static void
test_fs_read_file_pipe(void)
{
	int	 p[2];
	char	*path, *got;
	size_t	 len = 0;
	pid_t	 pid;

	CHECK_INT(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		for (int i = 0; i < 3000; i++)
			if (write(p[1], "0123456789", 10) != 10)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	path = xasprintf("/dev/fd/%d", p[0]);
	got = fs_read_file(path, 1 << 20, &len);
	CHECK(got != NULL);
	CHECK_INT(len, 30000);
	CHECK(got != NULL && !memcmp(got + 29990, "0123456789", 10));
	free(got);
	free(path);
	close(p[0]);
	waitpid(pid, NULL, 0);
}

static void
test_statedir_paths(void)
{
	char	*(*const one[])(const char *) = {
		statedir_cache, statedir_journal, statedir_policies,
		statedir_reporter, statedir_status, statedir_logpos,
		statedir_quarantine, statedir_requests,
	};
	static const char *const want[] = {
		"/s/cache", "/s/journal", "/s/policies", "/s/reporter",
		"/s/status.json", "/s/postfix-log.pos", "/s/tlsrpt-quarantine",
		"/s/requests",
	};
	char	*p;
	size_t	 i, j;

	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		p = one[i]("/s");
		CHECK_STR(p, want[i]);
		free(p);
	}
	p = statedir_journal_day("/s", "2026-12-06");
	CHECK_STR(p, "/s/journal/2026-12-06.jnl");
	free(p);
	p = statedir_policy("/s", "ab12");
	CHECK_STR(p, "/s/policies/ab12.txt");
	free(p);
	/* every directory named above is one the daemon owns */
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strchr(want[i] + 3, '.') != NULL ||
		    !strcmp(want[i], "/s/tlsrpt-quarantine"))
			continue;		/* a file */
		for (j = 0; statedir_dirs[j] != NULL; j++)
			if (!strcmp(statedir_dirs[j], want[i] + 2))
				break;
		CHECKF(statedir_dirs[j] != NULL, "%s", want[i]);
	}
	CHECK_STR(statedir_dirs[0], "");
}

/* fs_read_regular: state files only -- no symlink, no FIFO, owner told */
static void
test_fs_read_regular(void)
{
	char		*f = xasprintf("%s/reg", dir), *l = xasprintf("%s/lnk", dir);
	char		*fifo = xasprintf("%s/fifo", dir), *got;
	struct stat	 st;
	size_t		 len = 0;

	CHECK_INT(fs_write_atomic(f, "abc", 3, 0600, FS_SYNC_NONE), 0);
	got = fs_read_regular(f, 10, &len, &st);
	CHECK(got != NULL && len == 3 && strcmp(got, "abc") == 0);
	CHECK_INT(st.st_uid, geteuid());
	free(got);
	CHECK_INT(symlink(f, l), 0);
	errno = 0;
	CHECK(fs_read_regular(l, 10, &len, NULL) == NULL);
	CHECK_INT(errno, ELOOP);
	got = fs_read_file(l, 10, &len);	/* the general one follows */
	CHECK(got != NULL);
	free(got);
	CHECK_INT(mkfifo(fifo, 0600), 0);	/* no writer: must not block */
	errno = 0;
	CHECK(fs_read_regular(fifo, 10, &len, NULL) == NULL);
	CHECK_INT(errno, EINVAL);
	unlink(l);
	unlink(fifo);
	unlink(f);
	free(f);
	free(l);
	free(fifo);
}

/* fs_write_atomic never writes through a link planted at its temp name */
static void
test_fs_write_atomic_planted(void)
{
	char	*f = xasprintf("%s/victim", dir), *t = xasprintf("%s/target", dir);
	char	*tmp, *got;
	size_t	 len = 0;
	int	 k;

	CHECK_INT(fs_write_atomic(t, "secret", 6, 0600, FS_SYNC_NONE), 0);
	/* the next temp names of this process: plant hard links at several */
	for (k = 1; k <= 64; k++) {
		tmp = xasprintf("%s.tmp.%ld.%d", f, (long)getpid(), k);
		(void)link(t, tmp);
		free(tmp);
	}
	CHECK_INT(fs_write_atomic(f, "new", 3, 0600, FS_SYNC_NONE), 0);
	got = fs_read_file(t, 100, &len);
	CHECK(got != NULL && strcmp(got, "secret") == 0);
	free(got);
	got = fs_read_file(f, 100, &len);
	CHECK(got != NULL && strcmp(got, "new") == 0);
	free(got);
	for (k = 1; k <= 64; k++) {
		tmp = xasprintf("%s.tmp.%ld.%d", f, (long)getpid(), k);
		(void)unlink(tmp);
		free(tmp);
	}
	unlink(f);
	unlink(t);
	free(f);
	free(t);
}

/* fs_sweep_tmp: a dead writer's temp files go, a live one's and others stay */
static void
test_fs_sweep_tmp(void)
{
	char	*sd = xasprintf("%s/sweep", dir), *p;
	pid_t	 dead;
	static const char *const keep[] = { "status.json", "a.tmp", "a.tmp.x.1",
	    "a.tmp.1.", ".tmp.1.2" };
	size_t	 i;

	CHECK_INT(fs_mkdir_p(sd, 0750), 0);
	if ((dead = fork()) == 0)
		_exit(0);
	waitpid(dead, NULL, 0);		/* a pid that is no more */
	p = xasprintf("%s/status.json.tmp.%ld.3", sd, (long)dead);
	CHECK_INT(fs_write_atomic(p, "x", 1, 0600, FS_SYNC_NONE), 0);
	free(p);
	p = xasprintf("%s/live.tmp.%ld.1", sd, (long)getpid());
	CHECK_INT(fs_write_atomic(p, "x", 1, 0600, FS_SYNC_NONE), 0);
	free(p);
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		p = xasprintf("%s/%s", sd, keep[i]);
		CHECK_INT(fs_write_atomic(p, "x", 1, 0600, FS_SYNC_NONE), 0);
		free(p);
	}
	CHECK_INT(fs_sweep_tmp(sd), 1);
	p = xasprintf("%s/status.json.tmp.%ld.3", sd, (long)dead);
	CHECK(access(p, F_OK) != 0);
	free(p);
	p = xasprintf("%s/live.tmp.%ld.1", sd, (long)getpid());
	CHECK(access(p, F_OK) == 0);
	unlink(p);
	free(p);
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		p = xasprintf("%s/%s", sd, keep[i]);
		CHECKF(access(p, F_OK) == 0, "%s", keep[i]);
		unlink(p);
		free(p);
	}
	CHECK_INT(fs_sweep_tmp("/nonexistent"), 0);
	rmdir(sd);
	free(sd);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_fsutil.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_fs_write_atomic_planted);	/* first: knows the temp names */
	RUN(test_fs_write_atomic_modes);
	RUN(test_fs_write_atomic_failures);
	RUN(test_fs_write_atomic_short);
	RUN(test_fs_write_atomic_eacces);
	RUN(test_fs_write_atomic_threads);
	RUN(test_fs_read_file_table);
	RUN(test_fs_read_file_pipe);
	RUN(test_fs_read_regular);
	RUN(test_fs_sweep_tmp);
	RUN(test_statedir_paths);
	(void)rmdir(dir);
	return harness_done("test_fsutil");
}
