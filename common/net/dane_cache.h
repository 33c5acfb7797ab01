/*
 * dane_cache.h - DANE verdicts per domain, kept for their DNS TTL
 * (see dane_cache.c)
 */
#ifndef DANE_CACHE_H
#define DANE_CACHE_H

#include <stddef.h>

#include "dane.h"
#include "dns.h"

#define DANE_CACHE_MIN_TTL	60	/* seconds a verdict is kept at least */
#define DANE_CACHE_MAX_TTL	3600	/* and at most */
#define DANE_CACHE_FAIL_TTL	30	/* bogus and tempfail verdicts */

struct dane_cache;

struct dane_cache	*dane_cache_new(struct dns *, size_t max_entries);
void			 dane_cache_free(struct dane_cache *);
/* dane_cache_peek - 1 and *st when a fresh verdict is cached; no I/O */
int			 dane_cache_peek(struct dane_cache *, const char *domain,
			    enum dane_state *st);
/* dane_cache_peek_host - 1 when a fresh verdict of domain is all or some
 * and host has usable TLSA, with their policy-string (dane_policy_string)
 * appended to records (may be NULL); no I/O */
int			 dane_cache_peek_host(struct dane_cache *,
			    const char *domain, const char *host,
			    struct buf *records);
/* dane_cache_get - the verdict, looked up (blocking) when not fresh;
 * copy (may be NULL) gets the hosts, released with dane_result_clear() */
enum dane_state		 dane_cache_get(struct dane_cache *, const char *domain,
			    struct dane_result *copy);
size_t			 dane_cache_count(struct dane_cache *);
/* dane_cache_counts - lookups made, and misses that waited for a lookup
 * of the same domain already in flight instead (single-flight) */
void			 dane_cache_counts(struct dane_cache *,
			    unsigned long *lookups, unsigned long *joined);
/*
 * dane_cache_on_bogus - fn(arg, domain, result) is called once per
 * lookup whose verdict is DANE_BOGUS, by the thread that ran it, outside
 * the cache's lock (the daemon journals a dnssec-invalid session); set
 * before the first lookup
 */
typedef void		 dane_bogus_fn(void *arg, const char *domain,
			    const struct dane_result *);
void			 dane_cache_on_bogus(struct dane_cache *,
			    dane_bogus_fn *, void *arg);

#endif
