/*
 * tlsrpt_types.h - RFC 8460 result types (section 4.3), the one place
 * that knows their names
 */
#ifndef TLSRPT_TYPES_H
#define TLSRPT_TYPES_H

enum tlsrpt_result {
	TLSRPT_SUCCESS = 0,
	TLSRPT_STARTTLS_NOT_SUPPORTED,
	TLSRPT_CERTIFICATE_HOST_MISMATCH,
	TLSRPT_CERTIFICATE_EXPIRED,
	TLSRPT_CERTIFICATE_NOT_TRUSTED,
	TLSRPT_VALIDATION_FAILURE,
	TLSRPT_TLSA_INVALID,
	TLSRPT_DNSSEC_INVALID,
	TLSRPT_DANE_REQUIRED,
	TLSRPT_STS_POLICY_FETCH_ERROR,
	TLSRPT_STS_POLICY_INVALID,
	TLSRPT_STS_WEBPKI_INVALID,
	TLSRPT_RESULT_MAX
};

/* "success" for TLSRPT_SUCCESS, else the RFC 8460 name */
const char		*tlsrpt_result_str(enum tlsrpt_result);
/* -1 if unknown */
int			 tlsrpt_result_parse(const char *, enum tlsrpt_result *);

#endif
