/*
 * trust.h - TLS trust stores built once and shared by every connection
 *
 * trust_get() returns the X509_STORE for ca_file (NULL or "": the
 * system store, i.e. libcurl's default CA bundle and directory) with a
 * reference for the caller (X509_STORE_free() it; SSL_CTX_set_cert_store
 * takes it over).  The first call for a file parses it; later calls
 * share that store, so a connection does not re-read ~145 roots
 * (issue 15).  Stores are built under one lock: concurrent first calls
 * wait for one parse instead of each doing it.
 *
 * trust_reload() drops every store (SIGHUP: a CA bundle that changed on
 * disk is read again by the next trust_get); connections that hold a
 * reference keep theirs.  trust_free_all() is trust_reload() at exit.
 *
 * NULL from trust_get() with one line in why: the file cannot be read
 * or holds no certificate.  Thread-safe.  Never logs.
 */
#ifndef TRUST_H
#define TRUST_H

#include <openssl/x509_vfy.h>

#include "buf.h"

X509_STORE	*trust_get(const char *ca_file, struct buf *why);
void		 trust_reload(void);
void		 trust_free_all(void);
/* trust_builds - how many stores were parsed so far (tests) */
unsigned long	 trust_builds(void);

#endif
