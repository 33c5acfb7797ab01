/*
 * fuzz_mx_match.c - libFuzzer target for mx_match and domain checks
 *
 * The input is "pattern\0host" (no NUL: the host is empty).
 * Invariants (abort() on violation):
 *   - mx_match() is unchanged when either input is upper-cased (M-3);
 *   - a match implies mx_pattern_check() and mx_host_check() pass;
 *   - one trailing dot on the host changes nothing (M-4);
 *   - a valid literal pattern matches itself; a valid "*.D" matches
 *     "x.D" when that fits in 253 octets (STS-VAL-2);
 *   - domain_normalize() output is lower case, has no trailing dot,
 *     fits DOMAIN_MAX and normalises to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "domain.h"
#include "mx_match.h"
#include "status.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
upper(const char *s)
{
	char	*u = strdup(s), *c;

	for (c = u; *c != '\0'; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - ('a' - 'A'));
	return u;
}

static void
check_normalize(const char *in)
{
	char	out[DOMAIN_MAX + 1], again[DOMAIN_MAX + 1];
	size_t	len, i;

	if (domain_normalize(in, out, NULL) != ST_OK) {
		if (out[0] != '\0')
			abort();
		return;
	}
	len = strlen(out);
	if (len == 0 || len > DOMAIN_MAX || out[len - 1] == '.')
		abort();
	for (i = 0; i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			abort();
	if (domain_normalize(out, again, NULL) != ST_OK ||
	    strcmp(out, again) != 0)
		abort();
	if (mx_host_check(out, NULL) != ST_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf, *pat, *host, *up, *uh, *dotted;
	size_t	 hlen, plen;
	int	 r;

	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	pat = buf;
	host = buf + strlen(buf);
	if (host < buf + size)
		host++;

	r = mx_match(pat, host);
	up = upper(pat);
	uh = upper(host);
	if (mx_match(up, host) != r || mx_match(pat, uh) != r ||
	    mx_match(up, uh) != r)
		abort();
	if (r && (mx_pattern_check(pat, NULL) != ST_OK ||
	    mx_host_check(host, NULL) != ST_OK))
		abort();
	hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] != '.') {
		dotted = malloc(hlen + 2);
		memcpy(dotted, host, hlen);
		memcpy(dotted + hlen, ".", 2);
		if (mx_match(pat, dotted) != r)
			abort();
		free(dotted);
	}
	if (mx_pattern_check(pat, NULL) == ST_OK) {
		plen = strlen(pat);
		if (pat[0] != '*') {
			if (!mx_match(pat, pat) || !mx_match(pat, up))
				abort();
		} else if (plen <= DOMAIN_MAX) {
			dotted = strdup(pat);
			dotted[0] = 'x';
			if (!mx_match(pat, dotted))
				abort();
			free(dotted);
		}
	} else if (r)
		abort();
	check_normalize(pat);
	check_normalize(host);
	free(up);
	free(uh);
	free(buf);
	return 0;
}
