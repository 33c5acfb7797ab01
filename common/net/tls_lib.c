/*
 * tls_lib.c - the TLS clients' OpenSSL library context (see tls_lib.h)
 *
 * A built-in provider, "sts-tls", is the only provider of a library
 * context of our own.  It forwards to OpenSSL's default provider,
 * loaded into a second, private context: its algorithms, capabilities
 * (the TLS groups libssl asks for) and parameters as they are, and its
 * decoders filtered to the DER SubjectPublicKeyInfo ones.  The
 * algorithms run with the default provider's own context, so what
 * they fetch inside (digests, key managers) they fetch from it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include "tls_lib.h"

#define TLS_LIB_PROV	"sts-tls"
#define TLS_LIB_KEEP	"structure=SubjectPublicKeyInfo"

static pthread_once_t	 tl_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX	*tl_ctx;	/* ours: "sts-tls" only */
static OSSL_LIB_CTX	*tl_inner;	/* private: the default provider */
static OSSL_PROVIDER	*tl_deflt;
static OSSL_ALGORITHM	*tl_dec;	/* the decoders kept, NULL-ended */
static const char	*tl_why = "";

int
tls_lib_keep(const char *props)
{
	const char	*p, *e;
	size_t		 n = strlen(TLS_LIB_KEEP);

	for (p = props; p != NULL && *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && strncasecmp(p, TLS_LIB_KEEP, n) == 0)
			return 1;
		if (*e == ',')
			e++;
	}
	return 0;
}

static const OSSL_ALGORITHM *
tl_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	if (op == OSSL_OP_DECODER) {
		*no_cache = 0;
		return tl_dec;
	}
	return OSSL_PROVIDER_query_operation(tl_deflt, op, no_cache);
}

static void
tl_unquery(void *provctx, int op, const OSSL_ALGORITHM *algs)
{
	(void)provctx;
	if (op != OSSL_OP_DECODER)
		OSSL_PROVIDER_unquery_operation(tl_deflt, op, algs);
}

static int
tl_caps(void *provctx, const char *cap, OSSL_CALLBACK *cb, void *arg)
{
	(void)provctx;
	return OSSL_PROVIDER_get_capabilities(tl_deflt, cap, cb, arg);
}

static const OSSL_PARAM *
tl_gettable(void *provctx)
{
	(void)provctx;
	return OSSL_PROVIDER_gettable_params(tl_deflt);
}

static int
tl_params(void *provctx, OSSL_PARAM params[])
{
	(void)provctx;
	return OSSL_PROVIDER_get_params(tl_deflt, params);
}

static void
tl_teardown(void *provctx)
{
	(void)provctx;	/* the process's life: nothing to give back */
}

static const OSSL_DISPATCH tl_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))tl_query },
	{ OSSL_FUNC_PROVIDER_UNQUERY_OPERATION, (void (*)(void))tl_unquery },
	{ OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))tl_caps },
	{ OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))tl_gettable },
	{ OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))tl_params },
	{ OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))tl_teardown },
	{ 0, NULL }
};

/* tl_init - "sts-tls"'s init: the default provider's decoders, filtered */
static int
tl_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	const OSSL_ALGORITHM	*all, *a;
	size_t			 n = 0, k = 0;
	int			 no_cache = 0;

	(void)handle;
	(void)in;
	if ((all = OSSL_PROVIDER_query_operation(tl_deflt, OSSL_OP_DECODER,
	    &no_cache)) == NULL) {
		tl_why = "the default provider has no decoders";
		return 0;
	}
	for (a = all; a->algorithm_names != NULL; a++)
		n++;
	if ((tl_dec = calloc(n + 1, sizeof(*tl_dec))) == NULL) {
		tl_why = "out of memory";
		return 0;
	}
	for (a = all; a->algorithm_names != NULL; a++)
		if (tls_lib_keep(a->property_definition))
			tl_dec[k++] = *a;
	if (k == 0) {	/* named otherwise than in 3.0: keep them all */
		memcpy(tl_dec, all, n * sizeof(*tl_dec));
		tl_why = "no SubjectPublicKeyInfo decoder found: all kept";
	}
	OSSL_PROVIDER_unquery_operation(tl_deflt, OSSL_OP_DECODER, all);
	*provctx = OSSL_PROVIDER_get0_provider_ctx(tl_deflt);
	*out = tl_dispatch;
	return 1;
}

static void
tl_make(void)
{
	if ((tl_inner = OSSL_LIB_CTX_new()) == NULL ||
	    (tl_deflt = OSSL_PROVIDER_load(tl_inner, "default")) == NULL) {
		tl_why = "cannot load OpenSSL's default provider; "
		    "OpenSSL's own context is used (slower)";
		goto fail;
	}
	if ((tl_ctx = OSSL_LIB_CTX_new()) == NULL ||
	    OSSL_PROVIDER_add_builtin(tl_ctx, TLS_LIB_PROV, tl_init) != 1 ||
	    OSSL_PROVIDER_load(tl_ctx, TLS_LIB_PROV) == NULL) {
		if (*tl_why == '\0')
			tl_why = "cannot load the " TLS_LIB_PROV " provider; "
			    "OpenSSL's own context is used (slower)";
		goto fail;
	}
	ERR_clear_error();
	return;
fail:
	ERR_clear_error();
	OSSL_LIB_CTX_free(tl_ctx);	/* unloads what it holds */
	tl_ctx = NULL;
	free(tl_dec);
	tl_dec = NULL;
	if (tl_deflt != NULL)
		(void)OSSL_PROVIDER_unload(tl_deflt);
	tl_deflt = NULL;
	OSSL_LIB_CTX_free(tl_inner);
	tl_inner = NULL;
}

OSSL_LIB_CTX *
tls_lib(void)
{
	(void)pthread_once(&tl_once, tl_make);
	return tl_ctx;
}

const char *
tls_lib_why(void)
{
	(void)pthread_once(&tl_once, tl_make);
	return tl_why;
}
