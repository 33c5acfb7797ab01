/*
 * policy_archive.c - the archive of policy texts under <state_dir>/policies
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "fsutil.h"
#include "policy_archive.h"
#include "statedir.h"
#include "sts_policy.h"

#define POLICY_ARCHIVE_MAX	(1024 * 1024)	/* a text read back */

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
	char		*dir, *path;
	struct stat	 st;
	int		 rc = 0;

	sha256_hex(text, len, hash);
	path = statedir_policy(state_dir, hash);
	if (stat(path, &st) != 0) {		/* written once, never changed */
		dir = statedir_policies(state_dir);
		(void)fs_mkdir_p(dir, 0750);
		free(dir);
		rc = fs_write_atomic(path, text, len, 0640, FS_SYNC_DATA);
	}
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
	path = statedir_policy(state_dir, hash);
	rc = stat(path, &st) == 0;
	free(path);
	return rc;
}

char *
policy_archive_text(const char *state_dir, const char *hash, size_t *len)
{
	char	*path, *text;
	size_t	 i;

	for (i = 0; hash[i]; i++)
		if (!((hash[i] >= '0' && hash[i] <= '9') ||
		    (hash[i] >= 'a' && hash[i] <= 'f')))
			return NULL;
	if (i != 64)
		return NULL;
	path = statedir_policy(state_dir, hash);
	text = fs_read_regular(path, POLICY_ARCHIVE_MAX, len, NULL);
	free(path);
	return text;
}
