/*
 * fuzz_dane - libFuzzer target for TLSA records as the daemon uses them
 * (RFC 7672): each line of the input is one record in the form
 * dns_rr.c gives it ("usage selector mtype hex"), judged by
 * dane_tlsa_usable() (does DANE apply to the host: STS-DANE-1) and
 * handed to OpenSSL by tls_verify_dane() for the probe; then the
 * policy map's DANE answer (pmap_dane_reply) for every flavour and
 * DANE state.
 *
 * Invariants (abort() on violation):
 *   - a record dane_tlsa_usable() accepts with a digest matching type
 *     (1: SHA-256, 2: SHA-512) is one tls_verify_dane() adds: the gate
 *     never calls a host DANE-protected with records the probe cannot
 *     use (matching type 0 is left to OpenSSL's parse of the data);
 *   - tls_verify_dane() adds at most one record per line and gives a
 *     reason when it adds none;
 *   - a DANE reply is non-empty unless it is Exim's MX-check answer,
 *     holds no CR, LF or NUL, and is never "secure" for a domain whose
 *     MX hosts all have usable TLSA (STS-DANE-1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "dane.h"
#include "pmap_dane.h"
#include "pmap_reply.h"
#include "tls_verify.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXREC	16

static void
check_replies(void)
{
	static const char *doms[] = { "example.com", "xn--bcher-kva.example" };
	struct buf	 out = BUF_INIT;
	enum pmap_kind	 kind;
	int		 fl, st, enf, exim, d;

	for (fl = PMAP_POSTFIX; fl < PMAP_NFLAVOURS; fl++)
		for (st = DANE_NONE; st <= DANE_TEMPFAIL; st++)
			for (enf = 0; enf < 2; enf++)
				for (exim = 0; exim < 2; exim++)
					for (d = 0; d < 2; d++) {
		buf_reset(&out);
		buf_append(&out, "", 0);
		if (pmap_dane_reply((enum pmap_flavour)fl, doms[d],
		    (enum dane_state)st, enf, exim, &out, &kind) == 0)
			continue;
		if (memchr(out.b_data, '\n', out.b_len) ||
		    memchr(out.b_data, '\r', out.b_len) ||
		    strlen(out.b_data) != out.b_len ||
		    (out.b_len == 0 && !exim && kind != PMAP_CONNECT) ||
		    (st == DANE_ALL && kind == PMAP_SECURE))
			abort();
	}
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static SSL_CTX	*ctx;
	static int	 replies_done;
	const char	*p = (const char *)data, *end = p + size, *nl;
	char		*rec[MAXREC], why[128];
	const char	*cr[MAXREC];
	size_t		 n = 0, i, digest = 0;
	SSL		*ssl;
	int		 added;

	if (ctx == NULL) {
		ctx = SSL_CTX_new(TLS_client_method());
		if (ctx == NULL || SSL_CTX_dane_enable(ctx) <= 0)
			abort();
	}
	if (!replies_done) {
		check_replies();
		replies_done = 1;
	}
	while (p < end && n < MAXREC) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		rec[n] = strndup(p, (size_t)(nl - p));
		cr[n] = rec[n];
		n++;
		p = nl + 1;
	}
	for (i = 0; i < n; i++) {
		unsigned u, s, m;

		if (dane_tlsa_usable(rec[i]) &&
		    sscanf(rec[i], "%u %u %u", &u, &s, &m) == 3 && m != 0)
			digest++;
	}
	if ((ssl = SSL_new(ctx)) == NULL)
		abort();
	why[0] = '\0';
	added = tls_verify_dane(ssl, "mx.example.com", cr, n, why,
	    sizeof(why));
	if (added < 0 || (size_t)added > n || (size_t)added < digest ||
	    (added == 0 && why[0] == '\0'))
		abort();
	SSL_free(ssl);
	for (i = 0; i < n; i++)
		free(rec[i]);
	return 0;
}
