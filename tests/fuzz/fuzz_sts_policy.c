/*
 * fuzz_sts_policy.c - libFuzzer target for sts_policy_parse
 *
 * The input is one policy body.  Invariants (abort() on violation):
 *   - ST_OK => 0 <= max_age <= STS_MAX_AGE_LIMIT (P-12 clamp);
 *     1 <= nmx <= STS_MX_MAX unless mode is none (STS-POL-1);
 *     every mx passes mx_pattern_check() and is lower case;
 *     p_text is the input byte for byte;
 *     sts_policy_dup() gives the same sts_policy_json();
 *     sts_policy_lines() splits without losing or adding a line;
 *   - a failure leaves *out NULL with one non-empty reason line;
 *   - the input is never read past its length (exact-size copy).
 * sts_text_lines() is run on every input, valid or not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mx_match.h"
#include "status.h"
#include "sts_policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* count_lines - what sts_text_lines() must return */
static size_t
count_lines(const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++)
		if (s[i] == '\n')
			n++;
	if (len > 0 && s[len - 1] != '\n')
		n++;
	return n;
}

static void
free_lines(char **lines, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf		 why = BUF_INIT, j1 = BUF_INIT, j2 = BUF_INIT;
	struct sts_policy	*p = (struct sts_policy *)&why, *q;
	enum status		 st;
	char			*copy, **lines;
	size_t			 i, n;
	const char		*c;

	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	st = sts_policy_parse(copy, size, &p, &why);
	if (st == ST_OK) {
		if (p == NULL || why.b_len != 0)
			abort();
		if (p->p_max_age < 0 || p->p_max_age > STS_MAX_AGE_LIMIT)
			abort();
		if (p->p_mode != STS_MODE_NONE && p->p_mode !=
		    STS_MODE_TESTING && p->p_mode != STS_MODE_ENFORCE)
			abort();
		if (p->p_nmx > STS_MX_MAX ||
		    (p->p_nmx == 0 && p->p_mode != STS_MODE_NONE))
			abort();
		for (i = 0; i < p->p_nmx; i++) {
			if (mx_pattern_check(p->p_mx[i], NULL) != ST_OK)
				abort();
			for (c = p->p_mx[i]; *c != '\0'; c++)
				if (*c >= 'A' && *c <= 'Z')
					abort();
		}
		if (p->p_text_len != size || memcmp(p->p_text, data, size) != 0 ||
		    p->p_text[size] != '\0')
			abort();
		q = sts_policy_dup(p);
		sts_policy_json(p, &j1);
		sts_policy_json(q, &j2);
		if (strcmp(buf_str(&j1), buf_str(&j2)) != 0 || j1.b_trunc)
			abort();
		n = sts_policy_lines(q, &lines);
		if (n != count_lines(copy, size))
			abort();
		free_lines(lines, n);
		sts_policy_free(q);
		sts_policy_free(p);
	} else {
		if (st != ST_INVALID || p != NULL || why.b_len == 0 ||
		    strchr(buf_str(&why), '\n') != NULL)
			abort();
	}
	n = sts_text_lines(copy, size, &lines);
	if (n != count_lines(copy, size))
		abort();
	free_lines(lines, n);
	free(copy);
	buf_free(&why);
	buf_free(&j1);
	buf_free(&j2);
	return 0;
}
