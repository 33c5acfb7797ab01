/*
 * tls_verify.h - the trust rules of an MTA-STS probe (RFC 8461 4.2, 7)
 *
 * tls_verify_ctx() makes a client context: TLS 1.2 or later
 * (STS-VAL-5), the trust anchors of ca_file or the system store, roots
 * only.  tls_verify_ssl() makes an SSL on a connected socket with SNI
 * set to the MX host (STS-VAL-4) and a host check against SAN dNSName
 * entries only, a wildcard matching one whole left-most label
 * (STS-VAL-3).  The handshake runs with SSL_VERIFY_NONE: OpenSSL still
 * verifies and records the first error in SSL_get_verify_result(), and
 * tls_verify_type() is the one place that result becomes an RFC 8460
 * result type (rfc-checklist 2.4, 3).
 *
 * Pure but for reading ca_file; never logs.
 */
#ifndef TLS_VERIFY_H
#define TLS_VERIFY_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "tlsrpt_types.h"

/* tls_verify_ctx - NULL with why[size] filled on failure */
SSL_CTX			*tls_verify_ctx(const char *ca_file, char *why,
			    size_t size);
/* tls_verify_ssl - NULL on failure (no memory, a bad host name) */
SSL			*tls_verify_ssl(SSL_CTX *, int fd, const char *host);
/* tls_verify_dane - verify ssl by DANE (RFC 7672) with the TLSA records
 * "usage selector mtype hex" (the context needs SSL_CTX_dane_enable()):
 * the number of usable records added, 0 (why: none usable) or -1 */
int			 tls_verify_dane(SSL *, const char *host,
			    const char *const *tlsa, size_t n, char *why,
			    size_t size);
/* tls_verify_type - the RFC 8460 result type of a verify result */
enum tlsrpt_result	 tls_verify_type(long x509_err);
/* tls_verify_name - "X509_V_ERR_..." for the common codes, else
 * OpenSSL's text */
const char		*tls_verify_name(long x509_err);

#endif
