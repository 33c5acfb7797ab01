/*
 * pmap_fetch.h - the policy map's fetch step without a thread per fetch
 *
 * pmap_fetch_start() hands a lookup job to the policy cache with
 * STS_LOOKUP_START (sts_cache.h): what is known comes back at once
 * (done() is called before pmap_fetch_start() returns); otherwise the
 * job waits here, holding no thread, while the cache's pool of fetches
 * (fetch_concurrency of them in flight) discovers the domain, and
 * done() is called from a pool thread when the cache says it is ready.
 * A full pool queue is an answer too: ST_TEMPFAIL "too many policy
 * discoveries waiting" (the reply logic fails open).
 *
 * Called from reactor threads: never blocks on the network or the disk.
 * pmap_fetch_free() stops the callbacks and frees the jobs still
 * waiting (their connections are gone with the server).
 */
#ifndef PMAP_FETCH_H
#define PMAP_FETCH_H

#include "pmap_job.h"
#include "sts_cache.h"

struct pmap_fetch;

struct pmap_fetch *pmap_fetch_new(struct sts_cache *,
		    void (*done)(void *arg, struct pmap_job *), void *arg);
void		 pmap_fetch_start(struct pmap_fetch *, struct pmap_job *);
void		 pmap_fetch_free(struct pmap_fetch *);

#endif
