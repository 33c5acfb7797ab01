/*
 * sts_store.c - the policy cache's on-disk format (see sts_store.h)
 */
#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_batch.h"
#include "fsutil.h"
#include "sts_store.h"
#include "xmalloc.h"

#define STS_STORE_MAGIC		"sts-milter-cache 1\n"
#define STS_STORE_MAGIC_LEN	(sizeof(STS_STORE_MAGIC) - 1)

void
sts_store_format(const struct sts_store_rec *r, struct buf *out)
{
	buf_printf(out, "%sid %s\nfetched %lld\nchecked %lld\n",
	    STS_STORE_MAGIC, r->id, (long long)r->fetched,
	    (long long)r->checked);
	if (r->failed)	/* STS-HTTP-5: the back-off survives restarts */
		buf_printf(out, "failed %s %lld %d\n", r->fail_id,
		    (long long)r->fail_time, (int)r->fail_rt);
	buf_printf(out, "length %zu\n\n", r->policy->p_text_len);
	buf_append(out, r->policy->p_text, r->policy->p_text_len);
}

/* sts_store_line - one header line (NUL-terminated) into r */
static void
sts_store_line(const char *p, struct sts_store_rec *r, size_t *len,
    int *have_len)
{
	char		fid[STS_ID_MAX + 1];
	long long	v;
	int		rt;

	if (sscanf(p, "id %32[A-Za-z0-9]", r->id) == 1)
		;
	else if (sscanf(p, "fetched %lld", &v) == 1)
		r->fetched = (time_t)v;
	else if (sscanf(p, "checked %lld", &v) == 1)
		r->checked = (time_t)v;
	else if (sscanf(p, "failed %32[A-Za-z0-9] %lld %d", fid, &v,
	    &rt) == 3 && rt > 0 && rt < TLSRPT_RESULT_MAX) {
		memcpy(r->fail_id, fid, sizeof(fid));
		r->fail_time = (time_t)v;
		r->fail_rt = (enum tlsrpt_result)rt;
		r->failed = 1;
	} else if (sscanf(p, "length %zu", len) == 1)
		*have_len = 1;
}

int
sts_store_parse(const char *data, size_t n, struct sts_store_rec *r)
{
	char		*copy, *p, *end, *nl;
	size_t		 len = 0;
	int		 have_len = 0, rc = -1;
	struct buf	 why = BUF_INIT;

	memset(r, 0, sizeof(*r));
	if (n < STS_STORE_MAGIC_LEN ||
	    memcmp(data, STS_STORE_MAGIC, STS_STORE_MAGIC_LEN) != 0)
		return -1;
	copy = xmalloc(n + 1);		/* header lines are cut in place */
	memcpy(copy, data, n);
	copy[n] = '\0';
	end = copy + n;
	for (p = copy + STS_STORE_MAGIC_LEN; p < end && *p != '\n';
	    p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			goto out;
		*nl = '\0';
		sts_store_line(p, r, &len, &have_len);
	}
	if (p >= end || !have_len || r->id[0] == '\0')
		goto out;
	p++;
	if ((size_t)(end - p) != len)
		goto out;		/* torn write: ignore the file */
	if (sts_policy_parse(p, len, &r->policy, &why) != ST_OK)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		sts_store_rec_clear(r);
	free(copy);
	buf_free(&why);
	return rc;
}

void
sts_store_rec_clear(struct sts_store_rec *r)
{
	sts_policy_free(r->policy);
	memset(r, 0, sizeof(*r));
}

/* FS_SYNC_DATA: after a crash the old entry or the new one, refetched
 * when lost */
int
sts_store_write(const char *dir, const char *domain, const struct buf *data)
{
	char	*path;
	int	 rc;

	if (data->b_trunc)
		return -1;
	path = xasprintf("%s/%s", dir, domain);
	rc = fs_write_atomic(path, data->b_data, data->b_len, 0640,
	    FS_SYNC_DATA);
	free(path);
	return rc;
}

int
sts_store_stage(struct fs_batch *b, const char *dir, const char *domain,
    const struct buf *data)
{
	char	*path;
	int	 rc;

	if (data->b_trunc)
		return 1;
	path = xasprintf("%s/%s", dir, domain);
	rc = fs_batch_write(b, path, data->b_data, data->b_len, 0640);
	free(path);
	return rc;
}

void
sts_store_stage_remove(struct fs_batch *b, const char *dir,
    const char *domain)
{
	char	*path = xasprintf("%s/%s", dir, domain);

	fs_batch_remove(b, path);
	free(path);
}

/* sts_store_read_path - parse one file */
static int
sts_store_read_path(const char *path, struct sts_store_rec *r)
{
	char	*data;
	size_t	 n;
	int	 rc;

	memset(r, 0, sizeof(*r));
	if ((data = fs_read_regular(path, STS_STORE_FILE_MAX, &n, NULL)) == NULL)
		return -1;
	rc = sts_store_parse(data, n, r);
	free(data);
	return rc;
}

int
sts_store_read(const char *dir, const char *domain, struct sts_store_rec *r)
{
	char	*path = xasprintf("%s/%s", dir, domain);
	int	 rc = sts_store_read_path(path, r);

	free(path);
	return rc;
}

int
sts_store_remove(const char *dir, const char *domain)
{
	char	*path = xasprintf("%s/%s", dir, domain);
	int	 rc = unlink(path);

	free(path);
	return rc;
}

int
sts_store_clear(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n += sts_store_remove(dir, de->d_name) == 0;
	closedir(d);
	return n;
}

int
sts_store_foreach(const char *dir, void (*fn)(void *, const char *,
    const struct sts_store_rec *), void *arg)
{
	DIR			*d;
	struct dirent		*de;
	struct sts_store_rec	 r;
	int			 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
			continue;
		if (sts_store_read(dir, de->d_name, &r) == 0) {
			fn(arg, de->d_name, &r);
			n++;
		}
		sts_store_rec_clear(&r);
	}
	closedir(d);
	return n;
}
