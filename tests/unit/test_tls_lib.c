/*
 * test_tls_lib.c - the TLS clients' library context (tls_lib.c, issue
 * 15): only SubjectPublicKeyInfo decoders, and everything a TLS client
 * does still works in it: certificates of each key type parsed and
 * their signatures checked, handshakes (TLS 1.3 and 1.2, EC and RSA
 * servers) completed and verified against a trust store, and refused
 * when the root is not in it
 */
#include <stdio.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "harness.h"
#include "tls_lib.h"

static void
test_tls_lib_keep(void)
{
	static const struct {
		const char	*props;
		int		 keep;
	} t[] = {
		{ "provider=default,fips=yes,input=der,"
		  "structure=SubjectPublicKeyInfo", 1 },
		{ "provider=default,fips=yes,input=der,"
		  "structure=PrivateKeyInfo", 0 },
		{ "provider=default,fips=yes,input=der,"
		  "structure=type-specific", 0 },
		{ "provider=default,fips=yes,input=pem", 0 },
		{ "provider=default,fips=yes,input=msblob", 0 },
		{ "structure=subjectpublickeyinfo", 1 },	/* any case */
		{ "input=der, structure=SubjectPublicKeyInfo", 1 },
		{ "structure=SubjectPublicKeyInfoX", 0 },
		{ "xstructure=SubjectPublicKeyInfo", 0 },
		{ "structure=SubjectPublicKey", 0 },
		{ "", 0 },
		{ NULL, 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECKF(tls_lib_keep(t[i].props) == t[i].keep, "%s",
		    t[i].props ? t[i].props : "(null)");
}

struct dec_count {
	int	n, kept;
};

static void
count_dec(OSSL_DECODER *d, void *arg)
{
	struct dec_count	*c = arg;

	c->n++;
	c->kept += tls_lib_keep(OSSL_DECODER_get0_properties(d));
}

/* fewer decoders than OpenSSL's own context, and only the kept kind */
static void
test_tls_lib_decoders(void)
{
	struct dec_count	dflt = { 0, 0 }, ours = { 0, 0 };

	CHECK(tls_lib() != NULL);
	CHECK_STR(tls_lib_why(), "");
	OSSL_DECODER_do_all_provided(NULL, count_dec, &dflt);
	OSSL_DECODER_do_all_provided(tls_lib(), count_dec, &ours);
	CHECKF(ours.n > 0 && ours.n < dflt.n, "%d of %d", ours.n, dflt.n);
	CHECK_INT(ours.kept, ours.n);
	CHECK_INT(ours.n, dflt.kept);	/* all of that kind are kept */
}

/* a self-signed certificate for key k, DER in *der */
static int
mkcert(EVP_PKEY *k, const char *cn, unsigned char **der)
{
	X509	*x = X509_new();
	int	 n = -1;

	if (x == NULL)
		return -1;
	if (X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
	    X509_set_pubkey(x, k) == 1 &&
	    X509_sign(x, k, EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_id(k) == EVP_PKEY_ED448 ? NULL :
	    EVP_sha256()) > 0)
		n = i2d_X509(x, der);
	X509_free(x);
	return n;
}

static EVP_PKEY *
mkkey(const char *type)
{
	if (strcmp(type, "RSA") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (strncmp(type, "EC:", 3) == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", type + 3);
	return EVP_PKEY_Q_keygen(NULL, NULL, type);
}

/* each key type a certificate can carry: parsed, key equal, signature good */
static void
test_tls_lib_parse(void)
{
	static const char *const types[] = {
		"RSA", "EC:P-256", "EC:P-384", "EC:P-521", "ED25519", "ED448",
	};
	size_t	i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		EVP_PKEY		*k = mkkey(types[i]), *pk;
		unsigned char		*der = NULL;
		const unsigned char	*p;
		X509			*x;
		int			 n;

		CHECKF(k != NULL, "%s: key", types[i]);
		if (k == NULL)
			continue;
		n = mkcert(k, "mta-sts.example.com", &der);
		CHECKF(n > 0, "%s: certificate", types[i]);
		p = der;
		x = X509_new_ex(tls_lib(), NULL);
		CHECKF(x != NULL && d2i_X509(&x, &p, n) != NULL, "%s: parsed",
		    types[i]);
		pk = x != NULL ? X509_get0_pubkey(x) : NULL;
		CHECKF(pk != NULL && EVP_PKEY_eq(pk, k) == 1, "%s: key",
		    types[i]);
		CHECKF(pk != NULL && X509_verify(x, pk) == 1, "%s: signature",
		    types[i]);
		X509_free(x);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

/* step - one handshake call of s unless it is done: 0 when it failed */
static int
step(SSL *s, int *done)
{
	int	r;

	if (*done)
		return 1;
	if ((r = SSL_do_handshake(s)) == 1)
		*done = 1;
	return r == 1 || SSL_get_error(s, r) == SSL_ERROR_WANT_READ;
}

/* one handshake over a BIO pair: 1 done, 0 failed */
static int
shake(SSL *c, SSL *s)
{
	int	i, cd = 0, sd = 0;

	for (i = 0; i < 100 && !(cd && sd); i++)
		if (!step(c, &cd) || !step(s, &sd))
			return 0;
	return cd && sd;
}

/* TLS 1.3 and 1.2 against EC and RSA servers, trusted or not */
static void
test_tls_lib_handshake(void)
{
	static const struct {
		const char	*key;
		int		 version, trusted, ok;
	} t[] = {
		{ "EC:P-256", TLS1_3_VERSION, 1, 1 },
		{ "EC:P-256", TLS1_2_VERSION, 1, 1 },
		{ "RSA", TLS1_3_VERSION, 1, 1 },
		{ "RSA", TLS1_2_VERSION, 1, 1 },
		{ "EC:P-256", TLS1_3_VERSION, 0, 0 },	/* root not in store */
		{ "RSA", TLS1_2_VERSION, 0, 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		EVP_PKEY		*k = mkkey(t[i].key);
		unsigned char		*der = NULL;
		const unsigned char	*p;
		X509			*x = NULL;
		SSL_CTX			*sc, *cc;
		SSL			*s = NULL, *c = NULL;
		BIO			*bc = NULL, *bs = NULL;
		int			 n, ok;

		n = k != NULL ? mkcert(k, "mta-sts.example.com", &der) : -1;
		p = der;
		if (n > 0)
			x = d2i_X509(NULL, &p, n);	/* OpenSSL's own context */
		sc = SSL_CTX_new(TLS_server_method());
		cc = SSL_CTX_new_ex(tls_lib(), NULL, TLS_client_method());
		CHECKF(x != NULL && sc != NULL && cc != NULL, "%zu: setup", i);
		if (x == NULL || sc == NULL || cc == NULL)
			goto next;
		(void)SSL_CTX_use_certificate(sc, x);
		(void)SSL_CTX_use_PrivateKey(sc, k);
		(void)SSL_CTX_set_max_proto_version(sc, t[i].version);
		if (t[i].trusted)
			(void)X509_STORE_add_cert(SSL_CTX_get_cert_store(cc), x);
		SSL_CTX_set_verify(cc, SSL_VERIFY_PEER, NULL);
		s = SSL_new(sc);
		c = SSL_new(cc);
		if (s == NULL || c == NULL ||
		    BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
			goto next;
		SSL_set_bio(c, bc, bc);
		SSL_set_bio(s, bs, bs);
		SSL_set_connect_state(c);
		SSL_set_accept_state(s);
		(void)SSL_set1_host(c, "mta-sts.example.com");
		ok = shake(c, s);
		CHECKF(ok == t[i].ok, "%zu: %s %#x trusted %d: handshake %d",
		    i, t[i].key, t[i].version, t[i].trusted, ok);
		if (ok) {
			CHECKF(SSL_version(c) == t[i].version, "%zu: %#x", i,
			    SSL_version(c));
			CHECK_INT(SSL_get_verify_result(c), X509_V_OK);
		} else
			CHECK(SSL_get_verify_result(c) != X509_V_OK);
next:
		SSL_free(c);
		SSL_free(s);
		SSL_CTX_free(cc);
		SSL_CTX_free(sc);
		X509_free(x);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

int
main(void)
{
	RUN(test_tls_lib_keep);
	RUN(test_tls_lib_decoders);
	RUN(test_tls_lib_parse);
	RUN(test_tls_lib_handshake);
	return harness_done("test_tls_lib");
}
