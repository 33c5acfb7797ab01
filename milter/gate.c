/*
 * gate.c - the RCPT-time MTA-STS gate: observe, decide, journal, log
 *
 * gate_rcpt() gathers what the decision (gate_rule.c, a pure function
 * of the observations: RFC 8461 rules, which failure is reported, the
 * 451 text) asks for: the override, the policy from the shared cache,
 * the MX set, each candidate's addresses and STARTTLS probe verdicts.
 * It journals every real probe as a TLS session (RPT-RT-2: transient
 * failures are not sessions), MX hosts outside the policy once per MX
 * lookup, each fetch failure and each deferral (the records:
 * gate_journal.c), and logs the decision in one place (log_decision).
 * testing-mode domains are probed by a background thread running the
 * same walk.
 *
 * Caches: MX sets and addresses (tcache, short TTL), probe verdicts per
 * "host|ip|port" (probe_cache_ttl for passes, at most 5 minutes for
 * failures, 1 minute for transient trouble); in a fleet the verdicts of
 * real TLS sessions are shared (gate_share_verdicts, fleet_l2.h).
 */
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "gate_impl.h"
#include "log.h"
#include "mx_match.h"
#include "srcaddr.h"
#include "dane_cache.h"
#include "fleet_cache.h"
#include "tcache.h"
#include "tls_probe.h"
#include "xmalloc.h"

#define GATE_BG_MAX	32

/*
 * Values kept in a tcache are immutable once put and shared by
 * reference count (the tcache "dup" takes a reference), so a hit costs
 * an atomic increment, not a copy.  refs counts the holders beyond the
 * first.
 */
struct addrset {			/* a DNS answer: status + names */
	int		refs;
	enum status	st;
	int		n;
	char		name[GATE_MAX_MX][256];
	const char	*list[GATE_MAX_MX];	/* name[i], for gate_obs_*() */
	unsigned	pref[GATE_MAX_MX];	/* MX sets: preferences */
};

struct verdict {			/* a probe's outcome */
	int			refs;
	enum status		st;
	struct tls_probe_result	r;
};

/*
 * walk - one decision's observations and the cached values they point
 * into (held until the decision is made)
 */
struct walk {
	struct gate_obs		 o;
	int64_t			 deadline;
	const struct addrset	*mxs;
	const struct addrset	*addrs[GATE_MAX_MX];
	const struct verdict	*probes[GATE_MAX_MX][GATE_MAX_ADDR];
	struct dane_result	 dane;		/* when o.have_dane */
};

/* what a background probe job needs */
struct bgjob {
	struct gate		*g;
	char			 domain[256];
	struct sts_policy	*policy;
	char			 pid[STS_ID_MAX + 1];
};

/* the answers when another thread's lookup or probe of the name
 * outlives our deadline; held_unref() leaves them alone */
static struct addrset	dns_timeout = { .st = ST_TEMPFAIL };
static struct verdict	probe_timeout = { .st = ST_TEMPFAIL, .r = {
	.result = TLSRPT_VALIDATION_FAILURE, .reason = "probe-timeout",
	.transient = 1 } };

/* shared_ref, shared_unref - the refs member comes first in both types */
static void *
shared_ref(const void *p)
{
	__atomic_add_fetch((int *)(uintptr_t)p, 1, __ATOMIC_RELAXED);
	return (void *)(uintptr_t)p;
}

static void
shared_unref(void *p)
{
	if (p != NULL && __atomic_fetch_sub((int *)p, 1, __ATOMIC_ACQ_REL) == 0)
		free(p);
}

/* held_unref - drop a value from cached_dns() or probe() */
static void
held_unref(const void *p)
{
	if (p != &dns_timeout && p != &probe_timeout)
		shared_unref((void *)(uintptr_t)p);
}

struct gate *
gate_new(const struct conf *c, struct sts_cache *cache, struct dns *dns,
    struct journal *j)
{
	struct gate	*g = xcalloc(1, sizeof(*g));
	struct buf	 bw = BUF_INIT;
	char		 host[256];

	g->g_state_dir = xstrdup(c->state_dir);
	g->g_ca_file = xstrdup(c->ca_file);
	g->g_helo = xstrdup(conf_host_name(c, host, sizeof(host)));
	g->g_port = c->smtp_probe_port;
	g->g_probe_timeout_ms = c->probe_timeout * 1000;
	/* checked by configure(): a bad value cannot get here; if it did,
	 * the probes would use the kernel's choice */
	(void)srcaddr_bind_parse(c->probe_bind_address, &g->g_bind, &bw);
	buf_free(&bw);
	g->g_probe_ttl = c->probe_cache_ttl;
	g->g_deadline_ms = c->gate_deadline * 1000;
	g->g_cache = cache;
	g->g_dns = dns;
	g->g_journal = j;
	pthread_rwlock_init(&g->g_ovlock, NULL);
	g->g_mx = tcache_new(200000, shared_ref, shared_unref);
	g->g_addr = tcache_new(200000, shared_ref, shared_unref);
	g->g_probe = tcache_new(200000, shared_ref, shared_unref);
	g->g_tested = tcache_new(200000, shared_ref, shared_unref);
	pthread_mutex_init(&g->g_bgmu, NULL);
	pthread_cond_init(&g->g_bgcv, NULL);
	return g;
}

void
gate_wait_idle(struct gate *g, int timeout_ms)
{
	int64_t	end = clock_mono_ms() + timeout_ms;

	pthread_mutex_lock(&g->g_bgmu);
	while (g->g_bg > 0 && clock_mono_ms() < end) {
		pthread_mutex_unlock(&g->g_bgmu);
		usleep(20000);
		pthread_mutex_lock(&g->g_bgmu);
	}
	pthread_mutex_unlock(&g->g_bgmu);
}

void
gate_free(struct gate *g)
{
	if (g == NULL)
		return;
	gate_wait_idle(g, 300000);	/* probes end by their deadlines */
	tcache_free(g->g_mx);
	tcache_free(g->g_addr);
	tcache_free(g->g_probe);
	tcache_free(g->g_tested);
	pthread_rwlock_destroy(&g->g_ovlock);
	free(g->g_state_dir);
	free(g->g_ca_file);
	free(g->g_helo);
	free(g);
}

void
gate_set_overrides(struct gate *g, const struct override *ov)
{
	pthread_rwlock_wrlock(&g->g_ovlock);
	g->g_ov = ov;
	pthread_rwlock_unlock(&g->g_ovlock);
}

/* --- DNS through the caches ------------------------------------------- */

/* cached_dns - the MX set or addresses of name; caller held_unref()s */
static const struct addrset *
cached_dns(struct gate *g, struct tcache *tc, int mx, const char *name,
    int64_t deadline, int *fresh)
{
	struct addrset		*a;
	struct dns_rrset	 rr;
	struct buf		 why = BUF_INIT;
	size_t			 i;
	time_t			 ttl;
	void			*v;

	*fresh = 0;
	switch (tcache_get(tc, name, &v, deadline)) {
	case TC_HIT:
		return v;
	case TC_TIMEOUT:
		return &dns_timeout;	/* a shared constant: never freed */
	case TC_MISS:
		break;
	}
	*fresh = 1;
	a = xcalloc(1, sizeof(*a));
	a->st = mx ? dns_mx(g->g_dns, name, &rr, &why) :
	    dns_addr(g->g_dns, name, &rr, &why);
	if (a->st == ST_OK) {
		for (i = 0; i < rr.n && a->n < GATE_MAX_MX; i++) {
			snprintf(a->name[a->n], sizeof(a->name[0]), "%s",
			    rr.rr[i]);
			a->list[a->n] = a->name[a->n];
			a->pref[a->n] = rr.pref != NULL ? rr.pref[i] : 0;
			a->n++;
		}
		dns_rrset_clear(&rr);
	}
	ttl = a->st == ST_OK ? 300 : a->st == ST_NOTFOUND ? 120 : 20;
	tcache_put(tc, name, shared_ref(a), ttl);
	buf_free(&why);
	return a;
}

/* --- probing ---------------------------------------------------------- */

/* probe - the verdict of host at ip, cached or probed now; caller
 * held_unref()s */
static const struct verdict *
probe(struct gate *g, const struct gate_obs *o, const struct gate_host *h,
    const char *ip, int64_t deadline)
{
	const char		*host = h->name;
	struct tls_probe_opts	 opts;
	struct buf		 why = BUF_INIT;
	struct verdict		*v;
	char			 key[400];
	void			*hit;
	int64_t			 left;
	time_t			 ttl;

	/* a DANE verdict is not a WebPKI one: its own key */
	snprintf(key, sizeof(key), "%s|%s|%d%s", host, ip, g->g_port,
	    h->ntlsa ? "|dane" : "");
	switch (tcache_get(g->g_probe, key, &hit, deadline)) {
	case TC_HIT:
		return hit;
	case TC_TIMEOUT:
		return &probe_timeout;	/* a shared constant: never freed */
	case TC_MISS:
		break;
	}
	memset(&opts, 0, sizeof(opts));
	opts.helo_name = g->g_helo;
	opts.ca_file = g->g_ca_file;
	opts.port = g->g_port;
	opts.timeout_ms = g->g_probe_timeout_ms;
	/* our sending-mta-ip: the MTA's smtp_bind_address, if set */
	opts.local_addr = srcaddr_bind_pick(&g->g_bind, ip);
	left = deadline - clock_mono_ms();
	opts.total_timeout_ms = left > 1000 ? (int)left : 1000;
	opts.tlsa = h->tlsa;		/* RFC 7672: verified by DANE */
	opts.ntlsa = h->ntlsa;
	opts.dane_cname = h->dane_cname;
	v = xcalloc(1, sizeof(*v));
	v->st = tls_probe(host, ip, &opts, &v->r, &why);
	__atomic_add_fetch(&g->g_probes[v->st != ST_OK ? TLSRPT_RESULT_MAX :
	    v->r.result < TLSRPT_RESULT_MAX ? v->r.result :
	    TLSRPT_VALIDATION_FAILURE], 1, __ATOMIC_RELAXED);
	if (v->st != ST_OK && !v->r.transient) {
		/* our own trouble (bad ca_file, arguments) */
		v->r.result = TLSRPT_VALIDATION_FAILURE;
		v->r.transient = 1;
		snprintf(v->r.reason, sizeof(v->r.reason), "%.120s",
		    buf_str(&why));
		log_err("probe %s [%s]: %s", host, ip, buf_str(&why));
	}
	if (v->st == ST_OK)		/* a real TLS session: journal it */
		gate_journal_probe(g, o, h, &v->r);
	if (v->r.result == TLSRPT_SUCCESS && v->st == ST_OK)
		ttl = g->g_probe_ttl;
	else if (v->r.transient)
		ttl = 60;
	else
		ttl = g->g_probe_ttl < 300 ? g->g_probe_ttl : 300;
	log_debug(LOG_LEVEL_EVENTS, "probe: mx=%s ip=%s%s result=%s reason=\"%s\"", host, ip,
	    h->ntlsa ? " dane" : "", tlsrpt_result_str(v->r.result),
	    v->r.reason);
	tcache_put(g->g_probe, key, shared_ref(v), ttl);
	buf_free(&why);
	return v;
}

/* --- observing what the decision asks for ------------------------------ */

/*
 * not_in_policy_ips - the receiving-ip and sending-mta-ip of a session
 * with an MX host outside the policy, which is never connected to:
 * RFC 8460 4.3 lists both for every failure, so the host's first address
 * (the one delivery would try first; the address cache, until the
 * walk's deadline) and our source address towards it.  Unknown: left
 * out, as before.
 */
static void
not_in_policy_ips(struct gate *g, const struct walk *w, const char *mx,
    struct journal_rec *r)
{
	const struct addrset	*a;
	char			 sip[sizeof(r->sip)];
	int			 fresh;

	a = cached_dns(g, g->g_addr, 0, mx, w->deadline, &fresh);
	if (a->st == ST_OK && a->n > 0) {
		JREC_SET(r, rip, a->list[0]);
		if (srcaddr_for_bound(&g->g_bind, a->list[0], sip,
		    sizeof(sip)) == 0)
			JREC_SET(r, sip, sip);
	}
	held_unref(a);
}

static void
observe_mx(struct gate *g, struct walk *w)
{
	struct gate_obs		*o = &w->o;
	struct journal_rec	 r;
	int			 i, fresh;

	w->mxs = cached_dns(g, g->g_mx, 1, o->domain, w->deadline, &fresh);
	gate_obs_mx(o, w->mxs->st, w->mxs->list, w->mxs->n);
	if (!fresh || o->mx_st != ST_OK)
		return;
	/* Only an MTA-STS walk checks MX hosts against the policy: not a
	 * domain without one, nor one under DANE (STS-DANE-1). */
	if (o->policy_st != ST_OK || o->policy == NULL || (o->have_dane &&
	    o->dane != NULL && (o->dane->state == DANE_ALL ||
	    o->dane->state == DANE_SOME)))
		return;
	/* An MX outside the policy: a session, once per MX lookup
	 * (rfc-checklist 3 leaves its result type open). */
	for (i = 0; i < o->nmx; i++) {
		if (o->host[i].matched || o->host[i].name[0] == '\0')
			continue;
		gate_journal_session(g, &r, o->domain, o->policy,
		    o->policy_id);
		JREC_SET(&r, mx, o->host[i].name);
		not_in_policy_ips(g, w, o->host[i].name, &r);
		r.result = TLSRPT_VALIDATION_FAILURE;
		JREC_SET(&r, reason, "mx-host-not-in-policy");
		gate_journal_put(g, &r);
	}
}

/* observe_dane - the domain's DANE verdict (dane_cache: for its TTL) */
static void
observe_dane(struct gate *g, struct walk *w)
{
	dane_cache_get(g->g_dane, w->o.domain, &w->dane);
	gate_obs_dane(&w->o, &w->dane);
}

static void
observe_addr(struct gate *g, struct walk *w, int i)
{
	const struct addrset	*a;
	int			 fresh;

	a = cached_dns(g, g->g_addr, 0, w->o.host[i].name, w->deadline,
	    &fresh);
	w->addrs[i] = a;
	gate_obs_addr(&w->o, i, a->st, a->list, a->n);
}

static void
observe_probe(struct gate *g, struct walk *w, int i, int k)
{
	const struct gate_host	*h = &w->o.host[i];
	const struct verdict	*v;
	struct gate_probe_obs	 p;

	v = probe(g, &w->o, h, h->addr[k], w->deadline);
	w->probes[i][k] = v;
	p.st = v->st;
	p.result = v->r.result;
	p.transient = v->r.transient;
	p.reason = v->r.reason;
	gate_obs_probe(&w->o, i, &p);
}

/* walk_run - observe until the decision is made (only the MX walk when
 * walk_only); the policy must be observed already */
static void
walk_run(struct gate *g, struct walk *w, int walk_only,
    struct gate_decision *d)
{
	for (;;) {
		w->o.expired = clock_mono_ms() >= w->deadline;
		switch (walk_only ? gate_rule_walk(&w->o, d) :
		    gate_rule_decide(&w->o, d)) {
		case GATE_NEED_MX:
			observe_mx(g, w);
			break;
		case GATE_NEED_ADDR:
			observe_addr(g, w, d->need_host);
			break;
		case GATE_NEED_PROBE:
			observe_probe(g, w, d->need_host, d->need_addr);
			break;
		case GATE_NEED_DANE:
			observe_dane(g, w);
			break;
		case GATE_NEED_POLICY:		/* the caller's */
		case GATE_NEED_NONE:
			return;
		}
	}
}

/* walk_release - drop what the walk held */
static void
walk_release(struct walk *w)
{
	int	i, k;

	if (w->o.have_dane)
		dane_result_clear(&w->dane);
	if (!w->o.have_mx)
		return;
	held_unref(w->mxs);
	for (i = 0; i < w->o.nmx; i++) {
		if (!w->o.host[i].have_addr)
			continue;
		held_unref(w->addrs[i]);
		for (k = 0; k < w->o.host[i].nprobe; k++)
			held_unref(w->probes[i][k]);
	}
}

/*
 * gate_truth_hosts - the MX hosts of domain in preference order with
 * what the daemon knows of them under policy p (truth.h): a host that
 * matches no pattern fails (STS-VAL-2) unprobed; the others get the
 * probe cache's verdict per address, probed now when there is none
 * (until deadline: the caller is the collector's worker thread).
 */
size_t
gate_truth_hosts(struct gate *g, const char *domain,
    const struct sts_policy *p, const char *pid, int64_t deadline,
    struct truth_host *h, size_t max)
{
	const struct addrset	*mxs, *addrs;
	const struct verdict	*v;
	struct truth_host	*t;
	struct gate_obs		 o;
	struct gate_host	 gh;
	int			 i, k, fresh, nmx;
	size_t			 n = 0;

	memset(&gh, 0, sizeof(gh));
	gate_obs_init(&o, domain, OVERRIDE_NONE);
	gate_obs_policy(&o, ST_OK, p, pid);	/* what probe() journals */
	mxs = cached_dns(g, g->g_mx, 1, domain, deadline, &fresh);
	if (mxs->st == ST_NOTFOUND)		/* implicit MX, RFC 5321 5.1 */
		nmx = 1;
	else if (mxs->st == ST_OK && !(mxs->n == 1 &&
	    mxs->name[0][0] == '\0'))
		nmx = mxs->n;
	else {					/* DNS trouble, null MX: */
		held_unref(mxs);		/* nothing known */
		return 0;
	}
	for (i = 0; i < nmx && n < max; i++) {
		t = &h[n++];
		memset(t, 0, sizeof(*t));
		snprintf(t->mx, sizeof(t->mx), "%s", mxs->st == ST_OK ?
		    mxs->name[i] : domain);
		t->pref = mxs->st == ST_OK ? mxs->pref[i] : 0;
		if (!mx_match_policy(p, t->mx)) {		/* STS-VAL-2 */
			t->state = TRUTH_FAIL;
			t->result = TLSRPT_VALIDATION_FAILURE;
			snprintf(t->reason, sizeof(t->reason),
			    "mx-host-not-in-policy");
			continue;
		}
		addrs = cached_dns(g, g->g_addr, 0, t->mx, deadline, &fresh);
		if (addrs->st != ST_OK)
			t->state = addrs->st == ST_NOTFOUND ?
			    TRUTH_UNREACHABLE : TRUTH_UNKNOWN;
		for (k = 0; addrs->st == ST_OK && k < addrs->n &&
		    k < GATE_MAX_ADDR; k++) {
			if (k > 0) {		/* one entry per address */
				if (n >= max)
					break;
				t = &h[n++];
				*t = h[n - 2];
			}
			snprintf(t->ip, sizeof(t->ip), "%s", addrs->name[k]);
			t->state = TRUTH_UNKNOWN;
			if (clock_mono_ms() >= deadline)
				continue;
			gh.name = t->mx;	/* MTA-STS truth: no TLSA */
			v = probe(g, &o, &gh, t->ip, deadline);
			if (v->st == ST_OK && v->r.result == TLSRPT_SUCCESS)
				t->state = TRUTH_PASS;
			else if (v->st == ST_OK) {
				t->state = TRUTH_FAIL;
				t->result = v->r.result;
				snprintf(t->reason, sizeof(t->reason), "%s",
				    v->r.reason);
			} else if (v != &probe_timeout)
				t->state = TRUTH_UNREACHABLE;
			held_unref(v);
		}
		held_unref(addrs);
	}
	held_unref(mxs);
	return n;
}

/* --- background probes (testing mode) --------------------------------- */

static void *
bg_run(void *arg)
{
	struct bgjob		*job = arg;
	struct gate		*g = job->g;
	struct walk		 w;
	struct gate_decision	 d;

	gate_obs_init(&w.o, job->domain, OVERRIDE_NONE);
	gate_obs_policy(&w.o, ST_OK, job->policy, job->pid);
	w.deadline = clock_mono_ms() + g->g_deadline_ms * 3;
	walk_run(g, &w, 1, &d);
	log_debug(LOG_LEVEL_EVENTS, "testing: policy_domain=%s pass=%d", job->domain, d.pass);
	walk_release(&w);
	sts_policy_free(job->policy);
	free(job);
	pthread_mutex_lock(&g->g_bgmu);
	g->g_bg--;
	pthread_cond_broadcast(&g->g_bgcv);
	pthread_mutex_unlock(&g->g_bgmu);
	return NULL;
}

static void
bg_probe(struct gate *g, const char *domain, const struct sts_policy *p,
    const char *pid)
{
	struct bgjob	*job;
	struct verdict	*mark;
	pthread_t	 t;
	pthread_attr_t	 attr;
	void		*hit;

	if (tcache_get(g->g_tested, domain, &hit, 0) != TC_MISS) {
		shared_unref(hit);
		return;			/* probed recently, or being probed */
	}
	pthread_mutex_lock(&g->g_bgmu);
	if (g->g_bg >= GATE_BG_MAX) {	/* busy: try again next time */
		pthread_mutex_unlock(&g->g_bgmu);
		tcache_abandon(g->g_tested, domain);
		return;
	}
	g->g_bg++;
	pthread_mutex_unlock(&g->g_bgmu);
	mark = xcalloc(1, sizeof(*mark));
	tcache_put(g->g_tested, domain, mark, g->g_probe_ttl > 60 ?
	    g->g_probe_ttl : 60);
	job = xcalloc(1, sizeof(*job));
	job->g = g;
	snprintf(job->domain, sizeof(job->domain), "%s", domain);
	job->policy = sts_policy_dup(p);
	snprintf(job->pid, sizeof(job->pid), "%s", pid);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, bg_run, job) != 0) {
		sts_policy_free(job->policy);
		free(job);
		pthread_mutex_lock(&g->g_bgmu);
		g->g_bg--;
		pthread_mutex_unlock(&g->g_bgmu);
	}
	pthread_attr_destroy(&attr);
}

/* --- the decision ------------------------------------------------------ */

/* observe_policy - the policy to apply, from the shared cache */
static void
observe_policy(struct gate *g, const char *q, struct walk *w,
    struct sts_lookup *l)
{
	enum status	st;

	/* the discovery runs in the cache's pool, not on this libmilter
	 * thread, which waits for it up to gate_deadline; a failed fetch
	 * is journaled by the cache's callback (gate_fetch_failed) */
	st = sts_cache_lookup(g->g_cache, w->o.domain, STS_LOOKUP_ASYNC |
	    STS_LOOKUP_BACKGROUND, l);
	gate_obs_policy(&w->o, st, l->policy, l->id);
	/* The enforce deadline starts once the policy is known. */
	w->deadline = clock_mono_ms() + g->g_deadline_ms;
}

/* log_decision - the one log line of a decision (DESIGN.md "Syslog") */
static void
log_decision(const char *q, const char *rcpt, const struct gate_obs *o,
    const struct gate_decision *d)
{
	const struct gate_attempt	*a = d->shown;

	switch (d->why) {
	case GATE_DEFERRED:
		if (d->dane) {				/* STS-DANE-1 */
			log_notice("%s: defer rcpt=<%s> policy_domain=%s "
			    "dane=%s result=%s mx=%s ip=%s%s%s%s candidates=%d",
			    q, rcpt, o->domain, o->dane ?
			    dane_state_str(o->dane->state) : "-",
			    tlsrpt_result_str(d->result), a ? a->mx : "-",
			    a && a->ip[0] ? a->ip : "-",
			    a && a->reason[0] ? " reason=\"" : "",
			    a ? a->reason : "", a && a->reason[0] ? "\"" : "",
			    d->nmx);
			break;
		}
		log_notice("%s: defer rcpt=<%s> policy_domain=%s mode=enforce "
		    "policy_id=%s result=%s mx=%s ip=%s%s%s%s candidates=%d",
		    q, rcpt, o->domain, o->policy_id,
		    tlsrpt_result_str(d->result), a ? a->mx : "-",
		    a && a->ip[0] ? a->ip : "-",
		    a && a->reason[0] ? " reason=\"" : "", a ? a->reason : "",
		    a && a->reason[0] ? "\"" : "", d->nmx);
		break;
	case GATE_OVERRIDE_SKIP:
		log_info("%s: exempt rcpt=<%s> policy_domain=%s "
		    "reason=override", q, rcpt, o->domain);
		break;
	case GATE_NO_POLICY:
	case GATE_DISCOVERY_TEMPFAIL:
		log_debug(LOG_LEVEL_EVENTS, "%s: accept rcpt=<%s> policy_domain=%s result=%s",
		    q, rcpt, o->domain, gate_why_str(d->why));
		break;
	case GATE_MODE_NONE:
		break;
	case GATE_MODE_TESTING:
		log_debug(LOG_LEVEL_EVENTS, "%s: accept rcpt=<%s> policy_domain=%s "
		    "mode=testing policy_id=%s", q, rcpt, o->domain,
		    o->policy_id);
		break;
	case GATE_MX_LOOKUP_FAILED:
		log_warnx("%s: accept rcpt=<%s> policy_domain=%s mode=enforce "
		    "policy_id=%s result=mx-lookup-failed (delivery will be "
		    "enforced by the MTA)", q, rcpt, o->domain, o->policy_id);
		break;
	case GATE_VALIDATED:
		log_debug(LOG_LEVEL_EVENTS, "%s: accept rcpt=<%s> policy_domain=%s "
		    "mode=enforce policy_id=%s result=success mx=%s ip=%s", q,
		    rcpt, o->domain, o->policy_id, a->mx, a->ip);
		break;
	case GATE_DANE_VALIDATED:
		log_debug(1, "%s: accept rcpt=<%s> policy_domain=%s dane=%s "
		    "result=success mx=%s ip=%s", q, rcpt, o->domain,
		    dane_state_str(o->dane->state), a->mx, a->ip);
		break;
	case GATE_DANE_PARTIAL:
		log_debug(1, "%s: accept rcpt=<%s> policy_domain=%s dane=some "
		    "result=dane-partial", q, rcpt, o->domain);
		break;
	}
}

/* count - the decision's counters (gate_stats) */
static void
count(struct gate *g, const struct gate_decision *d)
{
	enum gate_stat_mode	m;

	switch (d->why) {
	case GATE_OVERRIDE_SKIP:
		m = GATE_STAT_EXEMPT;
		break;
	case GATE_NO_POLICY:
	case GATE_DISCOVERY_TEMPFAIL:
		m = GATE_STAT_NO_POLICY;
		break;
	case GATE_MODE_NONE:
		m = GATE_STAT_NONE;
		break;
	case GATE_MODE_TESTING:
		m = GATE_STAT_TESTING;
		break;
	default:		/* deferred, validated, MX lookup failed */
		m = GATE_STAT_ENFORCE;
	}
	__atomic_add_fetch(&g->g_rcpts, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->g_decisions[d->action == GATE_DEFER][m], 1,
	    __ATOMIC_RELAXED);
	if (d->action == GATE_DEFER) {
		__atomic_add_fetch(&g->g_deferred, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&g->g_deferrals[d->result < TLSRPT_RESULT_MAX ?
		    d->result : TLSRPT_VALIDATION_FAILURE], 1, __ATOMIC_RELAXED);
	}
}

/* decide - gate_rcpt(): observe, decide, log, journal, count */
static void
decide(struct gate *g, const char *qid, const char *rcpt,
    const char *domain, struct gate_verdict *out)
{
	struct sts_lookup	 l;
	struct walk		 w;
	struct gate_decision	 d;
	enum override_action	 ov;
	const char		*q = qid[0] ? qid : "NOQUEUE";

	pthread_rwlock_rdlock(&g->g_ovlock);
	ov = override_lookup(g->g_ov, domain);
	pthread_rwlock_unlock(&g->g_ovlock);
	gate_obs_init(&w.o, domain, ov);
	w.o.dane_on = g->g_dane != NULL;		/* STS-DANE-1 */
	if (gate_rule_decide(&w.o, &d) == GATE_NEED_POLICY) {
		observe_policy(g, q, &w, &l);
		walk_run(g, &w, 0, &d);
	}

	memset(out, 0, sizeof(*out));
	out->action = d.action;
	snprintf(out->why, sizeof(out->why), "%s", gate_why_str(d.why));
	if (d.action == GATE_DEFER) {
		out->result = d.result;
		gate_rule_text(&w.o, &d, out->text, sizeof(out->text));
	}
	log_decision(q, rcpt, &w.o, &d);
	count(g, &d);
	if (d.action == GATE_DEFER)
		gate_journal_deferral(g, qid, rcpt, &w.o, &d, out);
	if (d.background)
		bg_probe(g, domain, w.o.policy, w.o.policy_id);
	walk_release(&w);
	if (w.o.have_policy)
		sts_lookup_clear(&l);
}

/* verdict_text - only a real TLS session's outcome is shared: a
 * connection this node could not make may be its own trouble */
static int
verdict_text(const void *val, struct buf *text)
{
	const struct verdict	*v = val;

	if (v->st != ST_OK || v->r.transient)
		return -1;
	fleet_verdict_format(&v->r, text);
	return 0;
}

static void *
verdict_parse(const char *text, size_t len)
{
	struct verdict	*v = xcalloc(1, sizeof(*v));

	if (fleet_verdict_parse(text, len, &v->r) != 0) {
		free(v);
		return NULL;
	}
	v->st = ST_OK;
	return v;
}

void
gate_share_verdicts(struct gate *g, const struct tcache_l2 *store)
{
	g->g_probe_l2 = *store;
	g->g_probe_l2.fmt = verdict_text;
	g->g_probe_l2.parse = verdict_parse;
	tcache_set_l2(g->g_probe, &g->g_probe_l2);
}

void
gate_set_dane(struct gate *g, struct dane_cache *dc)
{
	g->g_dane = dc;
}

void
gate_rcpt(struct gate *g, const char *qid, const char *rcpt,
    const char *domain, struct gate_verdict *out)
{
	decide(g, qid, rcpt, domain, out);
}

void
gate_stats(struct gate *g, struct gate_stats *s)
{
	int	i, m;

	s->rcpts = __atomic_load_n(&g->g_rcpts, __ATOMIC_RELAXED);
	s->deferred = __atomic_load_n(&g->g_deferred, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++)
		for (m = 0; m < GATE_STAT_MAX; m++)
			s->decisions[i][m] = __atomic_load_n(
			    &g->g_decisions[i][m], __ATOMIC_RELAXED);
	for (i = 0; i < TLSRPT_RESULT_MAX; i++)
		s->deferrals[i] = __atomic_load_n(&g->g_deferrals[i],
		    __ATOMIC_RELAXED);
	for (i = 0; i <= TLSRPT_RESULT_MAX; i++)
		s->probes[i] = __atomic_load_n(&g->g_probes[i],
		    __ATOMIC_RELAXED);
}
