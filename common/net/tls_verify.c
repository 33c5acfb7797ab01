/*
 * tls_verify.c - the trust rules of an MTA-STS probe (RFC 8461 4.2, 7)
 *
 * SYNOPSIS
 *	#include "tls_verify.h"
 *
 * DESCRIPTION
 *	See tls_verify.h.  Verification result to RFC 8460 result type
 *	(rfc-checklist.md section 3), in tls_verify_type():
 *	  X509_V_OK				success
 *	  outside the validity dates		certificate-expired
 *	  host name (SAN dNSName) mismatch	certificate-host-mismatch
 *	  chain, CA, purpose, signature and
 *	    name-constraint errors		certificate-not-trusted
 *	  anything else				validation-failure
 *
 *	Precedence: OpenSSL 3.0 stops at the first verification error,
 *	in this order: chain building (certificate-not-trusted), CA and
 *	purpose extensions, the host name (certificate-host-mismatch),
 *	then signatures and validity dates (certificate-expired), then
 *	name constraints.  So a certificate that is both expired and for
 *	the wrong name is reported as certificate-host-mismatch, and an
 *	expired certificate from an unknown CA as certificate-not-trusted.
 *	test_tls_probe pins this order.
 *
 * SEE ALSO
 *	rfc-checklist.md 1.7 (STS-VAL-3, -4, -5), 2.4, 3
 */
#include <stdio.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "tls_lib.h"
#include "tls_verify.h"

SSL_CTX *
tls_verify_ctx(const char *ca_file, char *why, size_t size)
{
	SSL_CTX	*ctx;
	int	 ok;

	if ((ctx = SSL_CTX_new_ex(tls_lib(), NULL, TLS_client_method())) ==
	    NULL) {
		snprintf(why, size, "SSL_CTX_new failed");
		return NULL;
	}
	if (ca_file != NULL && *ca_file != '\0')
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1 ||				/* STS-VAL-5 */
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(why, size, "cannot load trust anchors%s%s",
		    ca_file != NULL && *ca_file != '\0' ? " from " : "",
		    ca_file != NULL ? ca_file : "");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Trust anchors are roots only: no partial chains. */
	X509_VERIFY_PARAM_clear_flags(SSL_CTX_get0_param(ctx),
	    X509_V_FLAG_PARTIAL_CHAIN);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	return ctx;
}

SSL *
tls_verify_ssl(SSL_CTX *ctx, int fd, const char *host)
{
	X509_VERIFY_PARAM	*param;
	SSL			*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	param = SSL_get0_param(ssl);
	/* STS-VAL-3: SAN dNSName only, a wildcard is a whole label. */
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1 ||	/* STS-VAL-4 */
	    SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

int
tls_verify_dane(SSL *ssl, const char *host, const char *const *tlsa,
    size_t n, char *why, size_t size)
{
	unsigned char	 data[1024];
	unsigned	 u, sel, mt, hi, lo;
	const char	*h;
	size_t		 i, len;
	int		 off, usable = 0, r;

	/* RFC 7672 3.2.2: DANE-TA names are the MX host; 3.1.1: DANE-EE
	 * checks no name (and OpenSSL then no dates either) */
	if (SSL_dane_enable(ssl, host) <= 0) {
		snprintf(why, size, "SSL_dane_enable failed");
		return -1;
	}
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < n; i++) {
		off = 0;
		if (sscanf(tlsa[i], "%u %u %u %n", &u, &sel, &mt, &off) != 3 ||
		    off == 0 || (u != 2 && u != 3) || sel > 255 || mt > 255)
			continue;	/* 7672 3.1.3: PKIX-TA/EE unusable */
		for (h = tlsa[i] + off, len = 0; h[0] && h[1] &&
		    len < sizeof(data); h += 2) {
			if (sscanf(h, "%1x%1x", &hi, &lo) != 2)
				break;
			data[len++] = (unsigned char)(hi << 4 | lo);
		}
		if (*h != '\0' || len == 0)
			continue;
		r = SSL_dane_tlsa_add(ssl, (uint8_t)u, (uint8_t)sel,
		    (uint8_t)mt, data, len);
		if (r > 0)
			usable++;
	}
	if (usable == 0)
		snprintf(why, size, "no usable TLSA record");
	return usable;
}

#define XE(e)	{ e, #e }
static const struct {
	long		 code;
	const char	*name;
} x509_names[] = {
	XE(X509_V_OK),
	XE(X509_V_ERR_UNSPECIFIED),
	XE(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT),
	XE(X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE),
	XE(X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY),
	XE(X509_V_ERR_CERT_SIGNATURE_FAILURE),
	XE(X509_V_ERR_CERT_NOT_YET_VALID),
	XE(X509_V_ERR_CERT_HAS_EXPIRED),
	XE(X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD),
	XE(X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD),
	XE(X509_V_ERR_OUT_OF_MEM),
	XE(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
	XE(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN),
	XE(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
	XE(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE),
	XE(X509_V_ERR_CERT_CHAIN_TOO_LONG),
	XE(X509_V_ERR_CERT_REVOKED),
	XE(X509_V_ERR_NO_ISSUER_PUBLIC_KEY),
	XE(X509_V_ERR_PATH_LENGTH_EXCEEDED),
	XE(X509_V_ERR_INVALID_PURPOSE),
	XE(X509_V_ERR_CERT_UNTRUSTED),
	XE(X509_V_ERR_CERT_REJECTED),
	XE(X509_V_ERR_KEYUSAGE_NO_CERTSIGN),
	XE(X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION),
	XE(X509_V_ERR_INVALID_NON_CA),
	XE(X509_V_ERR_INVALID_EXTENSION),
	XE(X509_V_ERR_PERMITTED_VIOLATION),
	XE(X509_V_ERR_EXCLUDED_VIOLATION),
	XE(X509_V_ERR_SUBTREE_MINMAX),
	XE(X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE),
	XE(X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX),
	XE(X509_V_ERR_UNSUPPORTED_NAME_SYNTAX),
	XE(X509_V_ERR_PATH_LOOP),
	XE(X509_V_ERR_HOSTNAME_MISMATCH),
	XE(X509_V_ERR_EE_KEY_TOO_SMALL),
	XE(X509_V_ERR_CA_KEY_TOO_SMALL),
	XE(X509_V_ERR_CA_MD_TOO_WEAK),
	XE(X509_V_ERR_INVALID_CA),
	XE(X509_V_ERR_EMPTY_SUBJECT_ALT_NAME),
	XE(X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM),
	XE(X509_V_ERR_DANE_NO_MATCH),
};
#undef XE

const char *
tls_verify_name(long err)
{
	size_t	i;

	for (i = 0; i < sizeof(x509_names) / sizeof(x509_names[0]); i++)
		if (x509_names[i].code == err)
			return x509_names[i].name;
	return X509_verify_cert_error_string(err);
}

enum tlsrpt_result
tls_verify_type(long err)
{
	switch (err) {
	case X509_V_OK:
		return TLSRPT_SUCCESS;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:	/* outside its validity */
		return TLSRPT_CERTIFICATE_EXPIRED;
	case X509_V_ERR_HOSTNAME_MISMATCH:	/* STS-VAL-3: SAN dNSName */
		return TLSRPT_CERTIFICATE_HOST_MISMATCH;
	case X509_V_ERR_DANE_NO_MATCH:		/* RFC 8460 4.3.2 */
		return TLSRPT_TLSA_INVALID;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
	case X509_V_ERR_PATH_LOOP:
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_INVALID_NON_CA:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
	case X509_V_ERR_NO_ISSUER_PUBLIC_KEY:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
	case X509_V_ERR_CERT_REVOKED:
	case X509_V_ERR_PERMITTED_VIOLATION:	/* name constraints */
	case X509_V_ERR_EXCLUDED_VIOLATION:
	case X509_V_ERR_SUBTREE_MINMAX:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
	case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
		return TLSRPT_CERTIFICATE_NOT_TRUSTED;
	default:
		return TLSRPT_VALIDATION_FAILURE;
	}
}
