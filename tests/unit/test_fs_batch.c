/*
 * test_fs_batch.c - a batch of whole-file writes and removals with one
 * flush (fs_batch.h): nothing changes before the commit, the commit
 * applies every operation in the order added, a failure costs that
 * operation only and leaves no temporary file, and a batch dropped
 * uncommitted leaves the old files and no temporary
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_batch.h"
#include "fsutil.h"
#include "harness.h"
#include "xmalloc.h"

static char	dir[64];

static char *
p(const char *name)
{
	static char	buf[4][128];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* content of name, or "-" when absent */
static char *
cat(const char *name)
{
	size_t	len;
	char	*s = fs_read_file(p(name), 4096, &len);

	return s != NULL ? s : xstrdup("-");
}

static int
tmp_files(void)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".tmp.") != NULL;
	if (d != NULL)
		closedir(d);
	return n;
}

static void
put(const char *name, const char *data)
{
	CHECK(fs_write_atomic(p(name), data, strlen(data), 0640,
	    FS_SYNC_NONE) == 0);
}

#define CHECK_FILE(name, want) do {					\
	char	*got_ = cat(name);					\
	CHECKF(strcmp(got_, (want)) == 0, "%s: \"%s\", want \"%s\"",	\
	    (name), got_, (want));					\
	free(got_);							\
} while (0)

/* the table: each row a batch on fresh files a (old "A") and b (absent) */
static void
test_fs_batch_table(void)
{
	static const struct {
		const char	*ops;	/* wX: write a with X, ra: remove a */
		const char	*a, *b;	/* after the commit */
		int		 bad;
	} t[] = {
		{ "",		"A",	"-",	0 },
		{ "wa1",	"1",	"-",	0 },
		{ "wb1",	"A",	"1",	0 },
		{ "ra",		"-",	"-",	0 },
		{ "rb",		"A",	"-",	0 },	/* absent: fine */
		{ "wa1 ra",	"-",	"-",	0 },	/* in order */
		{ "ra wa1",	"1",	"-",	0 },
		{ "wa1 wa2",	"2",	"-",	0 },	/* the later wins */
		{ "wa1 wb2 ra",	"-",	"2",	0 },
		{ "wx1 wa2",	"2",	"-",	1 },	/* x: no such dir */
	};
	struct fs_batch	 b = FS_BATCH_INIT;
	char		 ops[64], *tok, *save, name[8];
	size_t		 i;
	int		 bad;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)unlink(p("b"));
		put("a", "A");
		bad = 0;
		snprintf(ops, sizeof(ops), "%s", t[i].ops);
		for (tok = strtok_r(ops, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			snprintf(name, sizeof(name), "%s%c",
			    tok[1] == 'x' ? "nodir/" : "", tok[1]);
			if (tok[0] == 'w')
				bad += fs_batch_write(&b, p(name), tok + 2,
				    strlen(tok + 2), 0640);
			else
				fs_batch_remove(&b, p(name));
		}
		/* before the commit: the old files, whatever was staged */
		CHECK_FILE("a", "A");
		bad += fs_batch_commit(&b);
		CHECKF(bad == t[i].bad, "row %zu: %d failures", i, bad);
		CHECK_FILE("a", t[i].a);
		CHECK_FILE("b", t[i].b);
		CHECKF(tmp_files() == 0, "row %zu: temporary files left", i);
		CHECK(b.b_n == 0);
	}
	fs_batch_free(&b);
	(void)unlink(p("a"));
	(void)unlink(p("b"));
}

/* a rename that fails (a directory in the way) costs that file only */
static void
test_fs_batch_rename_fails(void)
{
	struct fs_batch	b = FS_BATCH_INIT;
	struct stat	st;

	CHECK(mkdir(p("d"), 0700) == 0);
	put("a", "A");
	CHECK(fs_batch_write(&b, p("d"), "D", 1, 0640) == 0);
	CHECK(fs_batch_write(&b, p("a"), "1", 1, 0640) == 0);
	CHECK_INT(fs_batch_commit(&b), 1);
	CHECK(stat(p("d"), &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_FILE("a", "1");
	CHECK_INT(tmp_files(), 0);
	fs_batch_free(&b);
	(void)rmdir(p("d"));
	(void)unlink(p("a"));
}

/* dropped before the commit: old files, no temporary, the mode kept */
static void
test_fs_batch_free_uncommitted(void)
{
	struct fs_batch	b = FS_BATCH_INIT;
	struct stat	st;

	put("a", "A");
	CHECK(fs_batch_write(&b, p("a"), "1", 1, 0600) == 0);
	CHECK(fs_batch_write(&b, p("b"), "2", 1, 0600) == 0);
	fs_batch_remove(&b, p("a"));
	CHECK_INT(tmp_files(), 2);
	fs_batch_free(&b);
	CHECK_FILE("a", "A");
	CHECK_FILE("b", "-");
	CHECK_INT(tmp_files(), 0);
	/* and a committed file has the mode asked for */
	CHECK(fs_batch_write(&b, p("b"), "2", 1, 0600) == 0);
	CHECK_INT(fs_batch_commit(&b), 0);
	CHECK(stat(p("b"), &st) == 0 && (st.st_mode & 0777) == 0600);
	fs_batch_free(&b);
	(void)unlink(p("a"));
	(void)unlink(p("b"));
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_fs_batch.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	umask(022);
	RUN(test_fs_batch_table);
	RUN(test_fs_batch_rename_fails);
	RUN(test_fs_batch_free_uncommitted);
	(void)rmdir(dir);
	return harness_done("test_fs_batch");
}
