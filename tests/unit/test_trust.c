/*
 * test_trust.c - trust stores built once and shared (trust.c, issue 15):
 * one parse per CA file however many connections ask, a new parse after
 * trust_reload(), a clear error for a file that cannot be read
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "harness.h"
#include "trust.h"

#define BUNDLE	"/etc/ssl/certs/ca-certificates.crt"	/* ca-certificates */

static void
test_trust_shared(void)
{
	struct buf	 why = BUF_INIT;
	X509_STORE	*a, *b, *c;
	unsigned long	 n0 = trust_builds();

	a = trust_get(BUNDLE, &why);
	b = trust_get(BUNDLE, &why);
	CHECK(a != NULL && a == b);		/* one store, shared */
	CHECK_INT(trust_builds() - n0, 1);	/* parsed once */
	CHECK(a != NULL && sk_X509_OBJECT_num(X509_STORE_get0_objects(a)) > 10);
	trust_reload();				/* SIGHUP */
	c = trust_get(BUNDLE, &why);
	CHECK(c != NULL && c != a);		/* read again */
	CHECK_INT(trust_builds() - n0, 2);
	X509_STORE_free(a);			/* holders keep theirs */
	X509_STORE_free(b);
	X509_STORE_free(c);
	CHECK_STR(buf_str(&why), "");
	buf_free(&why);
}

/* a CA file that cannot be read, or holds no certificate */
static void
test_trust_bad_files(void)
{
	static const char *const bad[] = { "/nonexistent/ca.pem", "/dev/null" };
	struct buf	 why = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&why);
		CHECKF(trust_get(bad[i], &why) == NULL, "%s", bad[i]);
		CHECKF(strstr(buf_str(&why), bad[i]) != NULL, "%s: %s", bad[i],
		    buf_str(&why));
	}
	buf_free(&why);
}

/* NULL: the system store, what libcurl itself would load */
static void
test_trust_system(void)
{
	struct buf	 why = BUF_INIT;
	X509_STORE	*s = trust_get(NULL, &why);

	CHECK(s != NULL);
	X509_STORE_free(s);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_trust_shared);
	RUN(test_trust_bad_files);
	RUN(test_trust_system);
	trust_free_all();
	return harness_done("test_trust");
}
