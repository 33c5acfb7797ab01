/*
 * tls_client.c - what a TLS client's side of a cold policy fetch costs
 * in OpenSSL's own library context and in tls_lib()'s (issue 15)
 *
 *	tls_client [-n N] [-r ROUNDS] [-c CAFILE]
 *
 * A chain as a policy host sends it (leaf and intermediate, a root
 * behind), EC P-256 and RSA 2048, made here; a client that trusts
 * CAFILE (the system bundle by default) plus that root, so its store is
 * a production one.  Each handshake runs over a BIO pair in this thread;
 * only the client's calls are timed (thread CPU time: SSL_new, the
 * handshake, the verification, SSL_free).  Rounds alternate the two
 * contexts; the line per chain gives the medians, microseconds per
 * handshake, and their ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_lib.h"

#define HOST	"mta-sts.example.com"

struct chain {
	EVP_PKEY	*leaf_key;
	X509		*leaf, *mid, *root;
};

static X509 *
mkcert(EVP_PKEY *k, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca)
{
	X509		*x = X509_new();
	X509V3_CTX	 v;
	X509_EXTENSION	*e;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), rand());
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (!ca) {
		e = X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name,
		    "DNS:" HOST);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, ikey ? ikey : k, EVP_sha256()) <= 0) {
		fprintf(stderr, "tls_client: cannot sign\n");
		exit(1);
	}
	return x;
}

static EVP_PKEY *
mkkey(int rsa)
{
	return rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static void
mkchain(struct chain *c, int rsa)
{
	EVP_PKEY	*rk = mkkey(rsa), *mk = mkkey(rsa);

	c->leaf_key = mkkey(rsa);
	c->root = mkcert(rk, "bench root", NULL, NULL, 1);
	c->mid = mkcert(mk, "bench intermediate", c->root, rk, 1);
	c->leaf = mkcert(c->leaf_key, HOST, c->mid, mk, 0);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(mk);
}

static double
cpu_us(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* n handshakes from client context cc to server context sc; client us each */
static double
run(SSL_CTX *cc, SSL_CTX *sc, int n)
{
	double	spent = 0, t;
	int	i, k, cd, sd, r;

	for (i = 0; i < n; i++) {
		SSL	*c, *s = SSL_new(sc);
		BIO	*bc, *bs;

		t = cpu_us();
		c = SSL_new(cc);
		SSL_set_connect_state(c);
		SSL_set_tlsext_host_name(c, HOST);
		SSL_set1_host(c, HOST);
		spent += cpu_us() - t;
		BIO_new_bio_pair(&bc, 0, &bs, 0);
		SSL_set_bio(c, bc, bc);
		SSL_set_bio(s, bs, bs);
		SSL_set_accept_state(s);
		for (k = cd = sd = 0; k < 50 && !(cd && sd); k++) {
			if (!cd) {
				t = cpu_us();
				r = SSL_do_handshake(c);
				spent += cpu_us() - t;
				if (r == 1)
					cd = 1;
				else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
					break;
			}
			if (!sd && (r = SSL_do_handshake(s)) == 1)
				sd = 1;
		}
		if (!cd || SSL_get_verify_result(c) != X509_V_OK) {
			fprintf(stderr, "tls_client: handshake failed\n");
			ERR_print_errors_fp(stderr);
			exit(1);
		}
		t = cpu_us();
		SSL_free(c);
		spent += cpu_us() - t;
		SSL_free(s);
	}
	return spent / n;
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	const char	*ca = "/etc/ssl/certs/ca-certificates.crt";
	int		 n = 400, rounds = 5, ch, rsa, i;

	while ((ch = getopt(argc, argv, "n:r:c:")) != -1)
		switch (ch) {
		case 'n': n = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'c': ca = optarg; break;
		default:
			fprintf(stderr, "usage: tls_client [-n N] [-r R] [-c CA]\n");
			return 2;
		}
	if (n < 1 || rounds < 1 || rounds > 99)
		return 2;
	if (tls_lib() == NULL) {
		fprintf(stderr, "tls_client: tls_lib: %s\n", tls_lib_why());
		return 1;
	}
	for (rsa = 0; rsa <= 1; rsa++) {
		struct chain	 c;
		SSL_CTX		*sc = SSL_CTX_new(TLS_server_method());
		SSL_CTX		*cc[2];
		double		 us[2][99], m[2];

		mkchain(&c, rsa);
		SSL_CTX_use_certificate(sc, c.leaf);
		SSL_CTX_add1_chain_cert(sc, c.mid);
		SSL_CTX_use_PrivateKey(sc, c.leaf_key);
		cc[0] = SSL_CTX_new(TLS_client_method());
		cc[1] = SSL_CTX_new_ex(tls_lib(), NULL, TLS_client_method());
		for (i = 0; i < 2; i++) {
			if (SSL_CTX_load_verify_locations(cc[i], ca, NULL) != 1) {
				fprintf(stderr, "tls_client: %s unreadable\n", ca);
				return 1;
			}
			X509_STORE_add_cert(SSL_CTX_get_cert_store(cc[i]), c.root);
			SSL_CTX_set_verify(cc[i], SSL_VERIFY_PEER, NULL);
			SSL_CTX_set_session_cache_mode(cc[i], SSL_SESS_CACHE_OFF);
			SSL_CTX_set_options(cc[i], SSL_OP_NO_TICKET);
			(void)run(cc[i], sc, 20);		/* warm up */
		}
		for (i = 0; i < rounds; i++) {
			us[i % 2][i] = run(cc[i % 2], sc, n);	/* alternate */
			us[(i + 1) % 2][i] = run(cc[(i + 1) % 2], sc, n);
		}
		for (i = 0; i < 2; i++) {
			qsort(us[i], rounds, sizeof(double), cmp);
			m[i] = us[i][rounds / 2];
		}
		printf("tls_client: %s chain (leaf + intermediate), client CPU "
		    "per handshake, median of %d rounds of %d: OpenSSL's "
		    "context %.0f us, tls_lib %.0f us (%.2fx)\n",
		    rsa ? "RSA 2048" : "EC P-256", rounds, n, m[0], m[1],
		    m[0] / m[1]);
		SSL_CTX_free(cc[0]);
		SSL_CTX_free(cc[1]);
		SSL_CTX_free(sc);
		X509_free(c.leaf);
		X509_free(c.mid);
		X509_free(c.root);
		EVP_PKEY_free(c.leaf_key);
	}
	return 0;
}
