/*
 * version.c - the package version and the libraries' run-time versions
 *
 * Library versions are asked of the libraries themselves, not taken
 * from their headers: -V says what the process actually runs with
 * (after a library upgrade without a rebuild, too).
 */
#include <stdio.h>

#include <curl/curl.h>
#include <getdns/getdns_extra.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "version.h"

#ifndef PKG_VERSION
#define PKG_VERSION	"unknown"	/* built outside the Makefile */
#endif

const char *
version_string(void)
{
	return PKG_VERSION;
}

void
version_print(FILE *f, const char *prog, const char *const *extra)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	fprintf(f, "%s %s\n", prog, PKG_VERSION);
	fprintf(f, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(f, "  libcurl %s (%s)\n", cv->version,
	    cv->ssl_version != NULL ? cv->ssl_version : "no TLS");
	fprintf(f, "  getdns %s (API %s)\n", getdns_get_version(),
	    getdns_get_api_version());
	fprintf(f, "  json-c %s\n", json_c_version());
	fprintf(f, "  zlib %s\n", zlibVersion());
	for (; extra != NULL && *extra != NULL; extra++)
		fprintf(f, "  %s\n", *extra);
}
