/*
 * fuzz_pflog.c - libFuzzer target for the Postfix log line parser and
 * the session folding (postfix_log)
 *
 * The input is a log: lines split at LF, fed in order through one
 * struct pflog.  Invariants (abort() on violation):
 *   - every parsed line has a kind and a header format in range; a non-NONE line has a pid
 *     > 0 and a terminated host and ip, the host a DNS name;
 *   - a delivery line's domain is non-empty and lower case;
 *   - pflog_feed returns 0..PFLOG_EARLIER + 1 sessions, each with a
 *     non-empty domain and host;
 *   - pflog_classify gives a defined result type, and for a domain
 *     without a policy only success or starttls-not-supported.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pflog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pflog	f;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data, *end = p + size, *nl;
	struct pflog_line	 l;
	struct pflog_session	 s[PFLOG_EARLIER + 1];
	enum tlsrpt_result	 rt;
	char			 reason[128];
	const char		*c;
	int			 n, k, pol;

	memset(&f, 0, sizeof(f));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		pflog_line(p, (size_t)(nl - p), &l);
		if ((unsigned)l.kind > PFL_DELIVERY_END ||
		    (unsigned)l.fmt >= PFF_MAX)
			abort();
		if (l.kind != PFL_NONE && l.kind != PFL_DELIVERY_END) {
			if (l.pid <= 0 || l.host[0] == '\0' ||
			    strnlen(l.host, sizeof(l.host)) == sizeof(l.host) ||
			    strnlen(l.ip, sizeof(l.ip)) == sizeof(l.ip) ||
			    strnlen(l.reason, sizeof(l.reason)) ==
			    sizeof(l.reason))
				abort();
		}
		if (l.kind == PFL_DELIVERY) {
			if (l.domain[0] == '\0')
				abort();
			for (c = l.domain; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					abort();
		}
		n = pflog_feed(&f, &l, s);
		if (n < 0 || n > PFLOG_EARLIER + 1)
			abort();
		for (k = 0; k < n; k++) {
			if (s[k].domain[0] == '\0' || s[k].host[0] == '\0')
				abort();
			for (pol = 0; pol <= 1; pol++) {
				if (!pflog_classify(&s[k], pol, &rt, reason,
				    sizeof(reason)))
					continue;
				if ((unsigned)rt >= TLSRPT_RESULT_MAX ||
				    strnlen(reason, sizeof(reason)) ==
				    sizeof(reason))
					abort();
				if (!pol && rt != TLSRPT_SUCCESS &&
				    rt != TLSRPT_STARTTLS_NOT_SUPPORTED)
					abort();
			}
		}
		p = nl + 1;
	}
	return 0;
}
