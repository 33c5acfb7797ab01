/*
 * fuzz_exim_event.c - libFuzzer target for the Exim event_action line
 * parser (exim-tlsrpt requests on the policy-map socket)
 *
 * The input is one line (a NUL ends it early, as on the socket, where
 * the listener refuses NULs).  Invariants (abort() on violation), with
 * and without a policy:
 *   - ST_OK => the domain is non-empty, lower case, no trailing dot;
 *     the result is a defined type; mx, ip, sip and reason are
 *     terminated and free of control characters; without a policy the
 *     result is success or starttls-not-supported;
 *   - ST_INVALID => one non-empty reason line; ST_NOTFOUND is silent;
 *   - classified under DANE (exim_event_classify_dane): success,
 *     starttls-not-supported or tlsa-invalid only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exim_event.h"
#include "status.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
clean(const char *s, size_t size)
{
	size_t	n = strnlen(s, size), i;

	if (n == size)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*line = malloc(size + 1);
	struct exim_event	 ev;
	struct buf		 why = BUF_INIT;
	enum status		 st;
	int			 np;
	const char		*c;

	memcpy(line, data, size);
	line[size] = '\0';
	for (np = 0; np <= 1; np++) {
		buf_reset(&why);
		st = exim_event_parse(line, 1800000000, np, &ev, &why);
		if (st == ST_OK) {
			size_t n = strnlen(ev.domain, sizeof(ev.domain));

			if (n == 0 || n == sizeof(ev.domain) ||
			    ev.domain[n - 1] == '.')
				abort();
			for (c = ev.domain; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					abort();
			if ((unsigned)ev.result >= TLSRPT_RESULT_MAX)
				abort();
			if (np && ev.result != TLSRPT_SUCCESS &&
			    ev.result != TLSRPT_STARTTLS_NOT_SUPPORTED)
				abort();
			clean(ev.mx, sizeof(ev.mx));
			clean(ev.ip, sizeof(ev.ip));
			clean(ev.sip, sizeof(ev.sip));
			clean(ev.reason, sizeof(ev.reason));
		} else if (st == ST_INVALID) {
			if (why.b_len == 0 || strchr(buf_str(&why), '\n'))
				abort();
		} else if (st != ST_NOTFOUND)
			abort();
	}
	/* under DANE: success, starttls-not-supported or tlsa-invalid */
	buf_reset(&why);
	if (exim_event_read(line, &ev, &why) == ST_OK &&
	    exim_event_classify_dane(&ev) == ST_OK) {
		if (ev.result != TLSRPT_SUCCESS &&
		    ev.result != TLSRPT_STARTTLS_NOT_SUPPORTED &&
		    ev.result != TLSRPT_TLSA_INVALID)
			abort();
		clean(ev.reason, sizeof(ev.reason));
	}
	buf_free(&why);
	free(line);
	return 0;
}
