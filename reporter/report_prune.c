/*
 * report_prune.c - the policy texts no kept journal refers to (see
 * report_prune.h)
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_prune.h"
#include "statedir.h"
#include "timefmt.h"
#include "xmalloc.h"

#define HASH_LEN	64
#define PHASH_KEY	"\"phash\":\""
#define SCAN_CHUNK	(256 * 1024)

struct hashes {
	char	(*h)[HASH_LEN + 1];
	size_t	 n, cap;
};

static int
is_hash(const char *s, size_t len)
{
	size_t	i;

	if (len != HASH_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, HASH_LEN);
}

/* compact - sort and drop duplicates (records repeat a few hashes) */
static void
compact(struct hashes *hs)
{
	size_t	i, j;

	if (hs->n < 2)
		return;
	qsort(hs->h, hs->n, sizeof(*hs->h), cmp_hash);
	for (i = 1, j = 1; i < hs->n; i++)
		if (memcmp(hs->h[i], hs->h[j - 1], HASH_LEN) != 0)
			memcpy(hs->h[j++], hs->h[i], sizeof(*hs->h));
	hs->n = j;
}

static void
add(struct hashes *hs, const char *s)
{
	if (hs->n == hs->cap) {
		compact(hs);
		if (hs->n * 2 >= hs->cap) {	/* mostly distinct: grow */
			hs->cap = hs->cap ? hs->cap * 2 : 64;
			hs->h = xreallocarray(hs->h, hs->cap, sizeof(*hs->h));
		}
	}
	memcpy(hs->h[hs->n], s, HASH_LEN);
	hs->h[hs->n++][HASH_LEN] = '\0';
}

/* scan_buf - the hashes named in buf[0..len); returns how many bytes at
 * the end may hold a reference cut by the chunk's end */
static size_t
scan_buf(struct hashes *hs, const char *buf, size_t len)
{
	const size_t	 klen = sizeof(PHASH_KEY) - 1;
	const char	*p = buf, *end = buf + len, *k;

	while ((k = memmem(p, (size_t)(end - p), PHASH_KEY, klen)) != NULL) {
		if ((size_t)(end - k) < klen + HASH_LEN)
			return (size_t)(end - k);
		if (is_hash(k + klen, HASH_LEN))
			add(hs, k + klen);
		p = k + klen;
	}
	return len < klen ? len : klen - 1;
}

/* scan_file - add every hash path's records name; -1 if unreadable */
static int
scan_file(struct hashes *hs, const char *path)
{
	char	*buf = xmalloc(SCAN_CHUNK);
	size_t	 have = 0, keep;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		free(buf);
		return -1;
	}
	while ((n = read(fd, buf + have, SCAN_CHUNK - have)) > 0) {
		have += (size_t)n;
		keep = scan_buf(hs, buf, have);
		memmove(buf, buf + have - keep, keep);
		have = keep;
	}
	close(fd);
	free(buf);
	return n < 0 ? -1 : 0;
}

/* referenced - every hash the journal files name, sorted; -1 */
static int
referenced(const char *state_dir, struct hashes *hs)
{
	char		*jd = statedir_journal(state_dir), *p;
	DIR		*d;
	struct dirent	*e;
	size_t		 len;
	int		 rc = 0;

	if ((d = opendir(jd)) == NULL) {
		free(jd);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 4, ".jnl") != 0)
			continue;
		p = xasprintf("%s/%s", jd, e->d_name);
		rc = scan_file(hs, p);
		free(p);
	}
	closedir(d);
	free(jd);
	compact(hs);
	return rc;
}

int
report_prune_policies(const char *state_dir, time_t now, time_t min_age,
    unsigned *kept)
{
	struct hashes	 hs = { NULL, 0, 0 };
	char		*pd, *p;
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	size_t		 len;
	unsigned	 left = 0;
	int		 removed = 0;

	if (referenced(state_dir, &hs) != 0) {
		free(hs.h);
		return -1;
	}
	pd = statedir_policies(state_dir);
	if ((d = opendir(pd)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			len = strlen(e->d_name);
			if (len != HASH_LEN + 4 ||
			    strcmp(e->d_name + HASH_LEN, ".txt") != 0 ||
			    !is_hash(e->d_name, HASH_LEN))
				continue;
			p = xasprintf("%s/%s", pd, e->d_name);
			if (bsearch(e->d_name, hs.h, hs.n, sizeof(*hs.h),
			    cmp_hash) == NULL && lstat(p, &st) == 0 &&
			    S_ISREG(st.st_mode) && st.st_mtime + min_age <= now &&
			    unlink(p) == 0)
				removed++;
			else
				left++;
			free(p);
		}
		closedir(d);
	}
	free(pd);
	free(hs.h);
	if (kept != NULL)
		*kept = left;
	return removed;
}

int
report_prune_journal(const char *state_dir, time_t now, int retention_days)
{
	char		*jd = statedir_journal(state_dir), *p, day[11];
	DIR		*d;
	struct dirent	*e;
	time_t		 t;
	int		 removed = 0;

	if ((d = opendir(jd)) == NULL) {
		free(jd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 14 ||
		    strcmp(e->d_name + 10, ".jnl") != 0)
			continue;
		memcpy(day, e->d_name, 10);
		day[10] = '\0';
		/* as report_run.c: day + retention + 1 days <= now */
		if (timefmt_parse(day, &t) != 0 ||
		    t + 86400LL * (retention_days + 1) > now)
			continue;
		p = xasprintf("%s/%s", jd, e->d_name);
		if (unlink(p) == 0)
			removed++;
		free(p);
	}
	closedir(d);
	free(jd);
	return removed;
}
