/*
 * dkim.h - DKIM signatures (RFC 6376) for report mail, with OpenSSL
 *
 * SYNOPSIS
 *	struct dkim_key *k = dkim_key_load(path, "rsa-sha256", why);
 *	dkim_sign(k, domain, selector, t, msg, len, &hdr, why);
 *	dkim_key_free(k);
 *
 * DESCRIPTION
 *	dkim_sign() signs a complete message (header fields, empty line,
 *	body; CRLF line ends) with relaxed/relaxed canonicalisation
 *	(RFC 6376 section 3.4.2 and 3.4.4) and returns one
 *	"DKIM-Signature:" header field (folded, ending in CRLF) to put in
 *	front of the message.  The signed fields are those of
 *	DKIM_SIGNED_HEADERS present in the message, which include
 *	TLS-Report-Domain and TLS-Report-Submitter (RPT-DKIM-5,
 *	RPT-MAIL-4).  There is never an l= tag (RPT-DKIM-2), so the whole
 *	body is covered.
 *
 *	Algorithms: rsa-sha256 (RSA key, PKCS#1 v1.5) and ed25519-sha256
 *	(RFC 8463: PureEdDSA over the SHA-256 hash of the canonicalised
 *	data).  The key type must match the algorithm.
 *
 *	dkim_pubkey_txt() returns the DNS TXT record text to publish at
 *	<selector>._domainkey.<domain>, with s=tlsrpt (RPT-DKIM-3), for a
 *	selector that signs report mail only (RPT-DKIM-4).  Decision: not
 *	s=email:tlsrpt, although RFC 6376 allows the list: python3-dkim
 *	1.1.4 (Debian 12) does not parse colon lists and ignores such a
 *	key, so the report would count as unsigned there.
 *
 * OWNERSHIP
 *	*hdr and the TXT text are the caller's (free()).  A key is
 *	read-only after loading and may be used by several threads.
 *
 * DIAGNOSTICS
 *	ST_INVALID (bad key file, algorithm mismatch) or ST_INTERNAL
 *	(OpenSSL failure) with one line in why.  Never logs.
 */
#ifndef DKIM_H
#define DKIM_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "status.h"

#define DKIM_SIGNED_HEADERS	"from:to:subject:date:message-id:" \
				"tls-report-domain:tls-report-submitter:" \
				"mime-version:content-type"

struct dkim_key;

struct dkim_key	*dkim_key_load(const char *path, const char *algorithm,
		    struct buf *why);
/* dkim_key_pem - the same from PEM text in memory (tests, benchmark) */
struct dkim_key	*dkim_key_pem(const char *pem, size_t len,
		    const char *algorithm, struct buf *why);
void		 dkim_key_free(struct dkim_key *);
/* dkim_key_dup - a private copy for one thread: OpenSSL serialises RSA
 * blinding on a shared key, so parallel signers each want their own */
struct dkim_key	*dkim_key_dup(const struct dkim_key *);
enum status	 dkim_sign(const struct dkim_key *, const char *domain,
		    const char *selector, time_t t, const char *msg,
		    size_t len, char **hdr, struct buf *why);
char		*dkim_pubkey_txt(const struct dkim_key *);

/* exposed for tests: relaxed canonical forms */
void		 dkim_canon_header(const char *field, size_t len,
		    struct buf *out);
void		 dkim_canon_body(const char *body, size_t len, struct buf *out);

#endif
