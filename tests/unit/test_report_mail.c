/*
 * test_report_mail.c - the report mail and its DKIM signature
 *
 * Canonicalisation vectors from RFC 6376 section 3.4.6; the structure
 * of the signature (RPT-DKIM-2, RPT-DKIM-5) and of the MIME message
 * (RPT-MAIL-2, -3, -5, -6).  An independent verifier (python3-dkim)
 * checks real signatures in tests/integration/t_reporter_golden.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim.h"
#include "harness.h"
#include "report_mime.h"
#include "xmalloc.h"

static void
test_dkim_canon_rfc6376_example(void)
{
	struct buf	b = BUF_INIT;

	/* RFC 6376 3.4.6: "A: X" and "B : Y<TAB><CRLF><TAB>Z  " */
	dkim_canon_header("A: X\r\n", strlen("A: X\r\n"), &b);
	dkim_canon_header("B : Y\t\r\n\tZ  \r\n",
	    strlen("B : Y\t\r\n\tZ  \r\n"), &b);
	CHECK_STR(buf_str(&b), "a:X\r\nb:Y Z\r\n");
	buf_reset(&b);
	dkim_canon_body(" C \r\nD \t E\r\n\r\n\r\n",
	    strlen(" C \r\nD \t E\r\n\r\n\r\n"), &b);
	CHECK_STR(buf_str(&b), " C\r\nD E\r\n");
	buf_reset(&b);
	dkim_canon_body("no newline", 10, &b);
	CHECK_STR(buf_str(&b), "no newline\r\n");
	buf_free(&b);
}

static char *
keygen(const char *type)
{
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, type,
			    strcmp(type, "RSA") ? 0 : (size_t)2048);
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*p, *pem;
	long		 n;

	PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &p);
	pem = xstrndup(p, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(k);
	return pem;
}

static void
build_mail(struct buf *out)
{
	struct report_mail	m;
	struct buf		why = BUF_INIT;
	static const unsigned char gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0,
	    3, 1, 2, 3, 4, 5 };

	memset(&m, 0, sizeof(m));
	m.from = "tlsrpt@sender.example";
	m.to = "reports@rcpt.example";
	m.domain = "rcpt.example";
	m.submitter = "sender.example";
	m.report_id = "20261101abcdef";
	m.org = "Sender Org";
	m.date = 1793502000;
	m.start = 1793491200;
	m.end = 1793577600;
	m.nsuccess = 5;
	m.nfailure = 1;
	m.filename = "sender.example!rcpt.example!1793491200!1793577600!"
	    "20261101abcdef.json.gz";
	m.gz = gz;
	m.gzlen = sizeof(gz);
	buf_init(out, 1 << 20);
	CHECK(report_mime(&m, out, &why) == ST_OK);
	buf_free(&why);
}

static void
test_mime_headers_and_parts(void)
{
	struct buf	b;
	const char	*s;
	static const char *const want[] = {
		"From: tlsrpt@sender.example\r\n",
		"To: reports@rcpt.example\r\n",
		/* RPT-MAIL-5 */
		"Subject: Report Domain: rcpt.example Submitter: sender.example"
		    " Report-ID: <20261101abcdef@sender.example>\r\n",
		"Date: Sun, 01 Nov 2026 03:00:00 +0000\r\n",
		"Message-ID: <20261101abcdef@sender.example>\r\n",
		"TLS-Report-Domain: rcpt.example\r\n",		/* RPT-MAIL-3 */
		"TLS-Report-Submitter: sender.example\r\n",
		"TLS-Required: No\r\n",
		"Auto-Submitted: auto-generated\r\n",
		"MIME-Version: 1.0\r\n",
		"Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n",
		"Content-Type: text/plain; charset=us-ascii\r\n",
		"Content-Type: application/tlsrpt+gzip;\r\n",	/* RPT-MAIL-2 */
		"Content-Disposition: attachment;\r\n\tfilename=\"sender.example"
		    "!rcpt.example!1793491200!1793577600!20261101abcdef.json.gz\""
		    "\r\n",					/* RPT-MAIL-6 */
		"Content-Transfer-Encoding: base64\r\n\r\nH4sIAAAAAAAAAwECAwQF\r\n",
		"--=_tlsrpt_20261101abcdef--\r\n",
	};
	size_t		i;

	build_mail(&b);
	s = buf_str(&b);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECKF(strstr(s, want[i]) != NULL, "row %zu: %s", i, want[i]);
	/* every line ends in CRLF and is at most 998 octets */
	for (i = 0; i < b.b_len; i++)
		if (s[i] == '\n')
			CHECK(i > 0 && s[i - 1] == '\r');
	buf_free(&b);
}

static void
test_mime_refuses_header_injection(void)
{
	struct report_mail	m;
	struct buf		out = BUF_INIT, why = BUF_INIT;

	memset(&m, 0, sizeof(m));
	m.from = "a@b.example";
	m.to = "x@y.example\r\nBcc: evil@z.example";
	m.domain = m.submitter = m.report_id = m.org = m.filename = "x";
	m.gz = "";
	CHECK(report_mime(&m, &out, &why) == ST_INVALID);
	buf_free(&out);
	buf_free(&why);
}

static void
sign_case(const char *keytype, const char *alg, size_t siglen_b64)
{
	struct dkim_key	*k;
	struct buf	 msg, why = BUF_INIT;
	char		*pem = keygen(keytype), *hdr = NULL, *txt, *b;
	size_t		 n = 0;

	k = dkim_key_pem(pem, strlen(pem), alg, &why);
	CHECKF(k != NULL, "%s", buf_str(&why));
	if (k == NULL)
		return;
	build_mail(&msg);
	CHECK(dkim_sign(k, "sender.example", "tlsrpt", 1793502000,
	    buf_str(&msg), msg.b_len, &hdr, &why) == ST_OK);
	CHECK(hdr != NULL && strncmp(hdr, "DKIM-Signature: v=1; a=", 23) == 0);
	CHECK(strstr(hdr, alg) != NULL);
	CHECK(strstr(hdr, "c=relaxed/relaxed;") != NULL);
	CHECK(strstr(hdr, " l=") == NULL && strstr(hdr, ";l=") == NULL);
	/* RPT-DKIM-5: the TLS-Report-* fields are signed */
	CHECK(strstr(hdr, "h=from:to:subject:date:message-id:"
	    "tls-report-domain:tls-report-submitter:mime-version:"
	    "content-type;") != NULL);
	CHECK(strstr(hdr, "d=sender.example; s=tlsrpt; t=1793502000;") != NULL);
	b = strstr(hdr, "b=") ? strstr(hdr, "\tb=") + 3 : NULL;
	for (; b && *b; b++)
		if (*b != '\r' && *b != '\n' && *b != '\t' && *b != ' ')
			n++;
	CHECK_INT(n, siglen_b64);
	txt = dkim_pubkey_txt(k);
	CHECK(txt != NULL && strstr(txt, "; s=tlsrpt; p=") != NULL);
	free(txt);
	free(hdr);
	free(pem);
	buf_free(&msg);
	buf_free(&why);
	dkim_key_free(k);
}

static void
test_dkim_rsa_sha256(void)
{
	sign_case("RSA", "rsa-sha256", 344);	/* 256-byte signature */
}

static void
test_dkim_ed25519_sha256(void)
{
	sign_case("ED25519", "ed25519-sha256", 88);	/* RFC 8463 */
}

static void
test_dkim_key_mismatch(void)
{
	struct buf	 why = BUF_INIT;
	char		*pem = keygen("ED25519");

	CHECK(dkim_key_pem(pem, strlen(pem), "rsa-sha256", &why) == NULL);
	CHECK(strstr(buf_str(&why), "not an RSA key") != NULL);
	buf_reset(&why);
	CHECK(dkim_key_pem(pem, strlen(pem), "rsa-sha1", &why) == NULL);
	CHECK(dkim_key_pem("junk", 4, "rsa-sha256", &why) == NULL);
	free(pem);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_dkim_canon_rfc6376_example);
	RUN(test_mime_headers_and_parts);
	RUN(test_mime_refuses_header_injection);
	RUN(test_dkim_rsa_sha256);
	RUN(test_dkim_ed25519_sha256);
	RUN(test_dkim_key_mismatch);
	return harness_done("test_report_mail");
}
