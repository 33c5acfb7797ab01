/*
 * version.h - what -V prints: the package version and the versions of
 * the libraries the program runs with
 *
 * The version has one source, the first line of debian/changelog; the
 * Makefile compiles it (PKG_VERSION) into version.o and http.o (the
 * User-Agent), so the three programs, the HTTP requests and the Debian
 * package agree.
 */
#ifndef VERSION_H
#define VERSION_H

#include <stdio.h>

/* version_string - e.g. "0.1.0" */
const char	*version_string(void);

/*
 * version_print - "PROG VERSION", then one line per library the three
 * programs link (OpenSSL, libcurl, getdns, json-c, zlib), as each
 * reports itself at run time, then the caller's own lines (extra:
 * NULL-terminated, e.g. "libmilter 1.0.1"; NULL for none)
 */
void		 version_print(FILE *, const char *prog,
		    const char *const *extra);

#endif
