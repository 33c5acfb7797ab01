/*
 * policy_archive.c - the archive of policy texts under <state_dir>/policies
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fsutil.h"
#include "policy_archive.h"
#include "sts_policy.h"
#include "xmalloc.h"

static void
sha256_hex(const char *text, size_t len, char *hex)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;

	EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

int
policy_archive_put(const char *state_dir, const char *text, size_t len,
    char *hash)
{
	char		*dir, *path, *tmp;
	struct stat	 st;
	int		 fd, rc = -1;

	sha256_hex(text, len, hash);
	dir = xasprintf("%s/policies", state_dir);
	path = xasprintf("%s/%s.txt", dir, hash);
	if (stat(path, &st) == 0) {
		rc = 0;
		goto out;
	}
	(void)fs_mkdir_p(dir, 0750);
	tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(),
	    (unsigned long)pthread_self());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) >= 0) {
		int	ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;

		ok = close(fd) == 0 && ok;	/* closed exactly once */
		if (ok && rename(tmp, path) == 0)
			rc = 0;
	}
	if (rc != 0)
		(void)unlink(tmp);
	free(tmp);
out:
	free(dir);
	free(path);
	return rc;
}

void
policy_archive_rec_sts(struct journal_rec *r, const char *state_dir,
    const struct sts_policy *p, const char *id)
{
	JREC_SET(r, ptype, "sts");
	JREC_SET(r, pid, id);
	if (p == NULL)
		return;
	JREC_SET(r, mode, sts_mode_str(p->p_mode));
	if (policy_archive_put(state_dir, p->p_text, p->p_text_len,
	    r->phash) != 0)
		r->phash[0] = '\0';
}

int
policy_archive_has(const char *state_dir, const char *text, size_t len,
    char *hash)
{
	char		*path;
	struct stat	 st;
	int		 rc;

	sha256_hex(text, len, hash);
	path = xasprintf("%s/policies/%s.txt", state_dir, hash);
	rc = stat(path, &st) == 0;
	free(path);
	return rc;
}

char *
policy_archive_text(const char *state_dir, const char *hash, size_t *len)
{
	char	*path, *text;
	FILE	*f;
	size_t	 i;
	long	 size;

	for (i = 0; hash[i]; i++)
		if (!((hash[i] >= '0' && hash[i] <= '9') ||
		    (hash[i] >= 'a' && hash[i] <= 'f')))
			return NULL;
	if (i != 64)
		return NULL;
	path = xasprintf("%s/policies/%s.txt", state_dir, hash);
	f = fopen(path, "rb");
	free(path);
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    size > 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	text = xmalloc((size_t)size + 1);
	*len = fread(text, 1, (size_t)size, f);
	text[*len] = '\0';
	fclose(f);
	return text;
}
