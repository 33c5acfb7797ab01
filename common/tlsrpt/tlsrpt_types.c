/*
 * tlsrpt_types.c - RFC 8460 section 4.3 result-type names
 */
#include <string.h>

#include "tlsrpt_types.h"

static const char *const names[TLSRPT_RESULT_MAX] = {
	[TLSRPT_SUCCESS] = "success",
	[TLSRPT_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
	[TLSRPT_CERTIFICATE_HOST_MISMATCH] = "certificate-host-mismatch",
	[TLSRPT_CERTIFICATE_EXPIRED] = "certificate-expired",
	[TLSRPT_CERTIFICATE_NOT_TRUSTED] = "certificate-not-trusted",
	[TLSRPT_VALIDATION_FAILURE] = "validation-failure",
	[TLSRPT_TLSA_INVALID] = "tlsa-invalid",
	[TLSRPT_DNSSEC_INVALID] = "dnssec-invalid",
	[TLSRPT_DANE_REQUIRED] = "dane-required",
	[TLSRPT_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
	[TLSRPT_STS_POLICY_INVALID] = "sts-policy-invalid",
	[TLSRPT_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
};

const char *
tlsrpt_result_str(enum tlsrpt_result r)
{
	if ((unsigned)r >= TLSRPT_RESULT_MAX)
		return "validation-failure";
	return names[r];
}

int
tlsrpt_result_parse(const char *s, enum tlsrpt_result *out)
{
	int	i;

	for (i = 0; i < TLSRPT_RESULT_MAX; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum tlsrpt_result)i;
			return 0;
		}
	return -1;
}
