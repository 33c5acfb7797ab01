/*
 * tls_lib.h - the OpenSSL library context the TLS clients run in
 *
 * tls_lib() returns an OSSL_LIB_CTX with every algorithm of OpenSSL's
 * default provider but only the decoders that read a DER
 * SubjectPublicKeyInfo, the one thing a TLS client decodes (the keys
 * of the peer's certificates).  OpenSSL 3.0 builds a decoder context
 * for each certificate key it parses, walking every decoder it has (40
 * in 3.0's default provider; 12 are kept): with the system CA bundle
 * that walk was a quarter of a cold policy fetch's CPU (issue 15,
 * README "The cold path").  The HTTPS loop and the MX probe make their
 * SSL_CTX in it; nothing else changes (same algorithms, same trust
 * stores, same checks).
 *
 * NULL when it cannot be made (the callers then use OpenSSL's default
 * context: the same TLS, slower); tls_lib_why() says why once.  Made on
 * the first call, thread-safe, kept for the life of the process.
 */
#ifndef TLS_LIB_H
#define TLS_LIB_H

#include <openssl/types.h>

OSSL_LIB_CTX	*tls_lib(void);
const char	*tls_lib_why(void);

/*
 * tls_lib_keep - whether a decoder's property definition (as
 * "provider=default,input=der,structure=SubjectPublicKeyInfo") is one
 * tls_lib() keeps; pure, for the tests
 */
int		 tls_lib_keep(const char *props);

#endif
