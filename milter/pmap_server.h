/*
 * pmap_server.h - the MTA policy-map listener (Postfix/Sendmail
 * socketmap, Exim readsocket), served from the daemon's policy cache
 *
 * pmap_server_new() opens the listening sockets (pmap_listen.h; call it
 * before dropping privileges); pmap_server_start() starts its threads;
 * pmap_server_stop() closes everything.  The wire forms are in
 * pmap_frame.h, the replies in pmap_reply.h.  The override table may be
 * swapped at run time (SIGHUP) with pmap_server_set_overrides().
 *
 * Deadline.  Every request is answered within opts.deadline_ms of its
 * arrival, under the MTAs' own map timeouts (Sendmail FEATURE(sts)
 * -d5, Exim ${readsocket} 5 s, Postfix 100 s): a request whose policy
 * fetch is still running then gets what the cache knows without the
 * network -- for a domain seen for the first time, its flavour's "no
 * policy" (RFC 8461 3.3, STS-HTTP-8: deliver as though the domain had
 * no policy).  The fetch goes on and serves the next lookup.
 *
 * Each answer is logged at log_level >= LOG_LEVEL_LOOKUPS (flavour,
 * domain, cache state, reply kind and text).
 *
 * Thread safety: pmap_server_set_overrides() may be called from any
 * thread while the listener runs; when it returns no lookup uses the
 * previous table any more, so the caller may free it.
 */
#ifndef PMAP_SERVER_H
#define PMAP_SERVER_H

#include "buf.h"
#include "conf.h"
#include "exim_event.h"
#include "override.h"
#include "pmap_job.h"
#include "pmap_reply.h"
#include "sts_cache.h"

struct pmap_server;

struct pmap_server_opts {
	int	tempfail;		/* policymap_tempfail */
	int	txt_check_interval;	/* seconds (STS-CACHE-2) */
	int	refresh_interval;	/* seconds (STS-CACHE-3) */
	int	deadline_ms;		/* policymap_deadline */
	int	realtime;		/* policymap_realtime (thr.h) */
};

/* pmap_server_opts_conf - the options the configuration asks for (NULL:
 * the defaults) */
void	 pmap_server_opts_conf(struct pmap_server_opts *, const struct conf *);
struct pmap_server *pmap_server_new(const char *spec, struct sts_cache *,
	    const struct pmap_server_opts *, struct buf *why);
int	 pmap_server_start(struct pmap_server *);
struct dane_cache;
/* pmap_server_set_dane - answer domains under DANE by pmap_dane.c
 * (STS-DANE-1); before pmap_server_start(); dc outlives the server */
void	 pmap_server_set_dane(struct pmap_server *, struct dane_cache *);
void	 pmap_server_set_overrides(struct pmap_server *,
	    const struct override *);
void	 pmap_server_stop(struct pmap_server *);

/*
 * pmap_server_on_exim - the Exim hook (struct in pmap_job.h): event(arg,
 * ev) is called from a worker thread (never a reactor: it writes the
 * journal) with each TLS outcome Exim reports ("exim-tlsrpt KEY=VALUE
 * ...", read by exim_event_read) and with a veto event (exim_event_veto)
 * each time Exim is told not to connect to an MX host; invalid(arg, why)
 * with the reason an "exim-tlsrpt" line could not be read.  The request
 * is answered once the hook returned (or at the deadline).  Set it
 * before pmap_server_start().
 */
void	 pmap_server_on_exim(struct pmap_server *,
	    const struct pmap_exim_hook *);

struct pmap_server_stats {
	unsigned long	requests;	/* answered */
	unsigned long	memo_hits;	/* of them from a reactor's memo */
	unsigned long	deadline;	/* of them at the deadline */
	unsigned long	connections;	/* open now */
	unsigned long	realtime;	/* reactors at SCHED_RR */
	/* answered, by the request's flavour and the kind of reply */
	unsigned long	lookups[PMAP_NFLAVOURS][PMAP_NKINDS];
};
void	 pmap_server_stats(struct pmap_server *, struct pmap_server_stats *);
/* pmap_server_add_fd - serve an already connected stream socket (tests) */
int	 pmap_server_add_fd(struct pmap_server *, int fd);

#endif
