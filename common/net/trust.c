/*
 * trust.c - TLS trust stores built once and shared (see trust.h)
 *
 * A short list of (path, store) pairs under one mutex: a process uses
 * one or two CA files (ca_file, the system store), so a list is enough.
 * The system store is what libcurl would load by itself: its default
 * CA bundle (CURLINFO_CAINFO) plus its default hashed directory
 * (CURLINFO_CAPATH, looked up lazily by OpenSSL).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "trust.h"
#include "xmalloc.h"

struct trust_ent {
	struct trust_ent	*t_next;
	char			*t_path;	/* "" = the system store */
	X509_STORE		*t_store;
};

static pthread_mutex_t	 trust_mu = PTHREAD_MUTEX_INITIALIZER;
static struct trust_ent	*trust_list;
static unsigned long	 trust_nbuilds;

/* trust_curl_default - libcurl's compiled-in CA file and directory */
static void
trust_curl_default(char **file, char **dir)
{
	CURL	*h;
	char	*s;

	*file = *dir = NULL;
	if ((h = curl_easy_init()) == NULL)
		return;
	if (curl_easy_getinfo(h, CURLINFO_CAINFO, &s) == CURLE_OK &&
	    s != NULL && *s != '\0')
		*file = xstrdup(s);
	if (curl_easy_getinfo(h, CURLINFO_CAPATH, &s) == CURLE_OK &&
	    s != NULL && *s != '\0')
		*dir = xstrdup(s);
	curl_easy_cleanup(h);
}

/* trust_build - a new store from path ("" = system); NULL + why */
static X509_STORE *
trust_build(const char *path, struct buf *why)
{
	X509_STORE	*st;
	char		*file = NULL, *dir = NULL;
	int		 ok;

	if ((st = X509_STORE_new()) == NULL) {
		buf_puts(why, "out of memory");
		return NULL;
	}
	if (*path != '\0') {
		ok = X509_STORE_load_file(st, path) == 1;
	} else {
		trust_curl_default(&file, &dir);
		ok = (file != NULL && X509_STORE_load_file(st, file) == 1) |
		    (dir != NULL && X509_STORE_load_path(st, dir) == 1);
		if (file == NULL && dir == NULL)
			ok = X509_STORE_set_default_paths(st) == 1;
	}
	if (!ok) {
		buf_printf(why, "error setting certificate file: %s",
		    *path != '\0' ? path : file != NULL ? file : "(system)");
		X509_STORE_free(st);
		st = NULL;
	}
	ERR_clear_error();
	free(file);
	free(dir);
	return st;
}

X509_STORE *
trust_get(const char *ca_file, struct buf *why)
{
	const char		*path = ca_file != NULL ? ca_file : "";
	struct trust_ent	*t;
	X509_STORE		*st = NULL;

	pthread_mutex_lock(&trust_mu);
	for (t = trust_list; t != NULL; t = t->t_next)
		if (strcmp(t->t_path, path) == 0)
			break;
	if (t == NULL) {
		if ((st = trust_build(path, why)) != NULL) {
			trust_nbuilds++;
			t = xcalloc(1, sizeof(*t));
			t->t_path = xstrdup(path);
			t->t_store = st;
			t->t_next = trust_list;
			trust_list = t;
		}
	}
	if (t != NULL && X509_STORE_up_ref(t->t_store) == 1)
		st = t->t_store;
	else if (t != NULL) {
		buf_puts(why, "out of memory");
		st = NULL;
	}
	pthread_mutex_unlock(&trust_mu);
	return st;
}

void
trust_reload(void)
{
	struct trust_ent	*t, *next;

	pthread_mutex_lock(&trust_mu);
	t = trust_list;
	trust_list = NULL;
	pthread_mutex_unlock(&trust_mu);
	for (; t != NULL; t = next) {
		next = t->t_next;
		X509_STORE_free(t->t_store);	/* holders keep their refs */
		free(t->t_path);
		free(t);
	}
}

void
trust_free_all(void)
{
	trust_reload();
}

unsigned long
trust_builds(void)
{
	unsigned long	n;

	pthread_mutex_lock(&trust_mu);
	n = trust_nbuilds;
	pthread_mutex_unlock(&trust_mu);
	return n;
}
