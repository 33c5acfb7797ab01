/*
 * gate.c - the RCPT-time MTA-STS decision (RFC 8461 sections 4, 5)
 *
 * For an enforce policy (STS-APP-1) the recipient passes when at least
 * one MX host of the domain matches a policy pattern (STS-VAL-2) and, at
 * one of its addresses, passes a real STARTTLS probe with certificate
 * validation (STS-VAL-3, STS-VAL-4).  MX hosts are tried in preference
 * order and the first pass ends the search, as delivery would
 * (STS-APP-5).  Otherwise the recipient is deferred with 451 4.7.5,
 * never rejected (STS-APP-4), and the reply names the policy domain,
 * the policy id and each candidate's RFC 8460 result type.
 *
 * testing policies are accepted at once and probed in a background
 * thread; the results go to the journal for the TLS-RPT report
 * (STS-APP-2).  none and no policy are accepted (STS-APP-3, STS-HTTP-8).
 *
 * Decisions (documented in README):
 *   - A domain with no MX record is its own MX (RFC 5321 5.1); a null
 *     MX (RFC 7505) is accepted, the MTA will bounce it anyway.
 *   - DNS failure of the MX lookup fails open: the MTA cannot deliver
 *     then either, and its policy map enforces at delivery time.
 *   - An MX host that matches no policy pattern is journaled as a
 *     validation-failure session with failure-reason-code
 *     "mx-host-not-in-policy" (rfc-checklist 3 leaves the type open).
 *   - Transient probe failures (refused, timeout) are not journaled
 *     (RPT-RT-2) but do count against the candidate.
 *
 * Caches: MX sets and addresses (tcache, short TTL), probe verdicts per
 * "host|ip" (probe_cache_ttl for passes, at most 5 minutes for
 * failures, 1 minute for transient trouble).
 */
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "gate.h"
#include "log.h"
#include "mx_match.h"
#include "policy_archive.h"
#include "tcache.h"
#include "tls_probe.h"
#include "xmalloc.h"

#define GATE_MAX_MX	16
#define GATE_MAX_ADDR	8
#define GATE_MAX_TRIES	16
#define GATE_BG_MAX	32

struct gate {
	/* settings copied from the configuration at start */
	char			*g_state_dir;
	char			*g_ca_file;
	char			*g_helo;
	char			*g_report_from;
	int			 g_port;
	int			 g_probe_timeout_ms;
	int			 g_probe_ttl;
	int			 g_deadline_ms;

	struct sts_cache	*g_cache;
	struct dns		*g_dns;
	struct journal		*g_journal;

	pthread_rwlock_t	 g_ovlock;
	const struct override	*g_ov;

	struct tcache		*g_mx;		/* "domain" -> struct addrset */
	struct tcache		*g_addr;	/* "host" -> struct addrset */
	struct tcache		*g_probe;	/* "host|ip" -> struct verdict */
	struct tcache		*g_tested;	/* "domain" recently probed */

	pthread_mutex_t		 g_bgmu;
	pthread_cond_t		 g_bgcv;
	int			 g_bg;
	unsigned long		 g_jerr_logged;
	unsigned long		 g_rcpts, g_deferred;	/* __atomic */
};

/*
 * Values kept in a tcache are immutable once put and shared by
 * reference count (the tcache "dup" takes a reference), so a hit costs
 * an atomic increment, not a copy.
 */
struct addrset {			/* a DNS answer: status + names */
	int		refs;
	enum status	st;
	int		n;
	char		name[GATE_MAX_MX][256];
};

struct verdict {
	int			refs;
	enum status		st;
	struct tls_probe_result	r;
};

/* one tried (host, ip) for the reply text */
struct attempt {
	char			mx[256];
	char			ip[64];
	enum tlsrpt_result	result;
	char			reason[128];
	int			transient;
};

struct eval {
	int		pass;
	int		nomatch;	/* MX hosts exist, none matches */
	int		nmx;
	int		ntries;
	struct attempt	tries[GATE_MAX_TRIES];
	char		mxlist[300];	/* the MX hosts, for the text */
};

/* what a background probe job needs */
struct bgjob {
	struct gate		*g;
	char			 domain[256];
	struct sts_policy	*policy;
	char			 pid[STS_ID_MAX + 1];
};

/* the answer when another thread's lookup of the name outlives our
 * deadline; set_unref() leaves it alone */
static struct addrset	dns_timeout = { 0, ST_TEMPFAIL, 0, {{0}} };

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

/* set_unref - drop an address set from cached_dns() */
static void
set_unref(const struct addrset *a)
{
	if (a != &dns_timeout)
		shared_unref((void *)(uintptr_t)a);
}

struct gate *
gate_new(const struct conf *c, struct sts_cache *cache, struct dns *dns,
    struct journal *j)
{
	struct gate	*g = xcalloc(1, sizeof(*g));
	char		 host[256];

	g->g_state_dir = xstrdup(c->state_dir);
	g->g_ca_file = xstrdup(c->ca_file);
	if (c->hostname[0] != '\0')
		snprintf(host, sizeof(host), "%s", c->hostname);
	else if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	g->g_helo = xstrdup(host);
	g->g_report_from = xstrdup(conf_report_from(c));
	g->g_port = c->smtp_probe_port;
	g->g_probe_timeout_ms = c->probe_timeout * 1000;
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
	free(g->g_report_from);
	free(g);
}

void
gate_set_overrides(struct gate *g, const struct override *ov)
{
	pthread_rwlock_wrlock(&g->g_ovlock);
	g->g_ov = ov;
	pthread_rwlock_unlock(&g->g_ovlock);
}

/* --- journal ------------------------------------------------------------ */

static void
journal_put(struct gate *g, const struct journal_rec *r)
{
	unsigned long	n, last;

	if (journal_append(g->g_journal, r) == 0)
		return;
	/* Reporting never delays mail: log, count, go on (rate-limited). */
	n = journal_errors(g->g_journal);
	last = __atomic_load_n(&g->g_jerr_logged, __ATOMIC_RELAXED);
	if (n == 1 || n - last >= 1000) {
		__atomic_store_n(&g->g_jerr_logged, n, __ATOMIC_RELAXED);
		log_err("journal: write failed (%lu failures so far): %s", n,
		    errno ? strerror(errno) : "unknown error");
	}
}

static void
session_base(struct gate *g, struct journal_rec *r, const char *domain,
    const struct sts_policy *p, const char *pid)
{
	memset(r, 0, sizeof(*r));
	r->type = JREC_SESSION;
	r->time = clock_now();
	JREC_SET(r, src, "probe");
	JREC_SET(r, domain, domain);
	policy_archive_rec_sts(r, g->g_state_dir, p, pid);
}

/* --- DNS through the caches ------------------------------------------- */

/* cached_dns - the MX set or addresses of name; caller unrefs the result */
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
		for (i = 0; i < rr.n && a->n < GATE_MAX_MX; i++)
			snprintf(a->name[a->n++], sizeof(a->name[0]), "%s",
			    rr.rr[i]);
		dns_rrset_clear(&rr);
	}
	ttl = a->st == ST_OK ? 300 : a->st == ST_NOTFOUND ? 120 : 20;
	tcache_put(tc, name, shared_ref(a), ttl);
	buf_free(&why);
	return a;
}

/* --- probing ---------------------------------------------------------- */

static void
probe_one(struct gate *g, const char *domain, const struct sts_policy *p,
    const char *pid, const char *host, const char *ip, int64_t deadline,
    struct verdict *out)
{
	struct tls_probe_opts	 o;
	struct journal_rec	 r;
	struct buf		 why = BUF_INIT;
	struct verdict		*v;
	char			 key[400];
	void			*hit;
	int64_t			 left;
	time_t			 ttl;

	snprintf(key, sizeof(key), "%s|%s", host, ip);
	switch (tcache_get(g->g_probe, key, &hit, deadline)) {
	case TC_HIT:
		*out = *(struct verdict *)hit;
		shared_unref(hit);
		return;
	case TC_TIMEOUT:
		memset(out, 0, sizeof(*out));
		out->st = ST_TEMPFAIL;
		out->r.result = TLSRPT_VALIDATION_FAILURE;
		out->r.transient = 1;
		snprintf(out->r.reason, sizeof(out->r.reason), "probe-timeout");
		return;
	case TC_MISS:
		break;
	}
	memset(&o, 0, sizeof(o));
	o.helo_name = g->g_helo;
	o.ca_file = g->g_ca_file;
	o.port = g->g_port;
	o.timeout_ms = g->g_probe_timeout_ms;
	left = deadline - clock_mono_ms();
	o.total_timeout_ms = left > 1000 ? (int)left : 1000;
	v = xcalloc(1, sizeof(*v));
	v->st = tls_probe(host, ip, &o, &v->r, &why);
	if (v->st != ST_OK && !v->r.transient) {
		/* our own trouble (bad ca_file, arguments) */
		v->r.result = TLSRPT_VALIDATION_FAILURE;
		v->r.transient = 1;
		snprintf(v->r.reason, sizeof(v->r.reason), "%.120s",
		    buf_str(&why));
		log_err("probe %s [%s]: %s", host, ip, buf_str(&why));
	}
	if (v->st == ST_OK) {		/* a real TLS session: journal it */
		session_base(g, &r, domain, p, pid);
		JREC_SET(&r, mx, host);
		JREC_SET(&r, sip, v->r.sending_ip);
		JREC_SET(&r, rip, v->r.receiving_ip);
		JREC_SET(&r, helo, v->r.helo);
		r.result = v->r.result;
		JREC_SET(&r, reason, v->r.reason);
		journal_put(g, &r);
	}
	if (v->r.result == TLSRPT_SUCCESS && v->st == ST_OK)
		ttl = g->g_probe_ttl;
	else if (v->r.transient)
		ttl = 60;
	else
		ttl = g->g_probe_ttl < 300 ? g->g_probe_ttl : 300;
	log_debug(1, "probe: mx=%s ip=%s result=%s reason=\"%s\"", host, ip,
	    tlsrpt_result_str(v->r.result), v->r.reason);
	*out = *v;
	tcache_put(g->g_probe, key, v, ttl);	/* the tcache's reference */
	buf_free(&why);
}

static void
add_try(struct eval *ev, const char *mx, const char *ip,
    enum tlsrpt_result rt, const char *reason, int transient)
{
	struct attempt	*a;

	if (ev->ntries >= GATE_MAX_TRIES)
		return;
	a = &ev->tries[ev->ntries++];
	snprintf(a->mx, sizeof(a->mx), "%s", mx);
	snprintf(a->ip, sizeof(a->ip), "%s", ip);
	a->result = rt;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
	a->transient = transient;
}

/*
 * evaluate - walk the MX hosts of domain against policy p until one
 * validates.  Returns 0, or -1 when the MX set could not be had (fail
 * open).
 */
static int
evaluate(struct gate *g, const char *domain, const struct sts_policy *p,
    const char *pid, int64_t deadline, struct eval *ev)
{
	const struct addrset	*mxs, *addrs;
	struct addrset		 implicit;
	struct verdict		 v;
	struct journal_rec	 r;
	int			 i, k, fresh, fresh_a, ncand = 0, n, rc = 0;
	const char		*(names[GATE_MAX_MX]);

	ev->pass = ev->nomatch = ev->nmx = ev->ntries = 0;
	ev->mxlist[0] = '\0';
	mxs = cached_dns(g, g->g_mx, 1, domain, deadline, &fresh);
	if (mxs->st == ST_NOTFOUND) {		/* implicit MX, RFC 5321 5.1 */
		set_unref(mxs);
		memset(&implicit, 0, sizeof(implicit));
		implicit.st = ST_OK;
		implicit.n = 1;
		snprintf(implicit.name[0], sizeof(implicit.name[0]), "%s", domain);
		mxs = &implicit;
	} else if (mxs->st != ST_OK || (mxs->n == 1 &&
	    mxs->name[0][0] == '\0')) {		/* DNS trouble; null MX */
		set_unref(mxs);
		return -1;
	}
	n = ev->nmx = mxs->n;
	for (i = 0; i < n; i++) {
		size_t l = strlen(ev->mxlist);

		names[i] = mxs->name[i];
		snprintf(ev->mxlist + l, sizeof(ev->mxlist) - l, "%s%s",
		    i ? ", " : "", names[i]);
		if (mx_match_policy(p, names[i])) {		/* STS-VAL-2 */
			ncand++;
			continue;
		}
		add_try(ev, names[i], "", TLSRPT_VALIDATION_FAILURE,
		    "mx-host-not-in-policy", 0);
		if (fresh) {
			session_base(g, &r, domain, p, pid);
			JREC_SET(&r, mx, names[i]);
			r.result = TLSRPT_VALIDATION_FAILURE;
			JREC_SET(&r, reason, "mx-host-not-in-policy");
			journal_put(g, &r);
		}
	}
	if (ncand == 0) {
		ev->nomatch = 1;
		goto out;
	}
	for (i = 0; i < n && !ev->pass; i++) {
		if (!mx_match_policy(p, names[i]))
			continue;
		addrs = cached_dns(g, g->g_addr, 0, names[i], deadline, &fresh_a);
		if (addrs->st != ST_OK) {
			add_try(ev, names[i], "", TLSRPT_VALIDATION_FAILURE,
			    addrs->st == ST_NOTFOUND ? "no-address" :
			    "address-lookup-failed", 1);
			set_unref(addrs);
			continue;
		}
		for (k = 0; k < addrs->n && k < GATE_MAX_ADDR; k++) {
			if (clock_mono_ms() >= deadline) {
				add_try(ev, names[i], addrs->name[k],
				    TLSRPT_VALIDATION_FAILURE, "deadline", 1);
				break;
			}
			probe_one(g, domain, p, pid, names[i], addrs->name[k],
			    deadline, &v);
			if (v.st == ST_OK && v.r.result == TLSRPT_SUCCESS) {
				ev->pass = 1;
				add_try(ev, names[i], addrs->name[k],
				    TLSRPT_SUCCESS, "", 0);
				break;
			}
			add_try(ev, names[i], addrs->name[k], v.r.result,
			    v.r.reason, v.r.transient);
		}
		set_unref(addrs);
		if (clock_mono_ms() >= deadline)
			break;
	}
out:
	if (mxs != &implicit)
		set_unref(mxs);
	return rc;
}

/* --- background probes (testing mode) --------------------------------- */

static void *
bg_run(void *arg)
{
	struct bgjob	*job = arg;
	struct gate	*g = job->g;
	struct eval	 ev;

	(void)evaluate(g, job->domain, job->policy, job->pid,
	    clock_mono_ms() + g->g_deadline_ms * 3, &ev);
	log_debug(1, "testing: policy_domain=%s pass=%d", job->domain, ev.pass);
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

/*
 * fetch_failed - RFC 8461 6: a fetch failure with a valid TXT record is
 * reportable (the caller leaves out policies of mode none); journaled
 * once per fetch attempt, from the RCPT path or the cache's refresher.
 */
static void
fetch_failed(struct gate *g, const char *q, const char *domain,
    const struct sts_lookup *l)
{
	struct journal_rec	r;

	session_base(g, &r, domain, l->policy, l->txt_id);
	r.result = l->fetch_result;
	JREC_SET(&r, src, "fetch");
	JREC_SET(&r, reason, l->reason);
	journal_put(g, &r);
	log_warnx("%s: policy fetch failed policy_domain=%s policy_id=%s "
	    "result=%s reason=\"%.200s\"%s", q, domain, l->txt_id,
	    tlsrpt_result_str(l->fetch_result), l->reason, l->policy ?
	    " (cached policy still applies)" :
	    " (no cached policy: delivering without MTA-STS)");
}

/* gate_refresh_failed - the cache's callback for background checks */
void
gate_refresh_failed(void *arg, const char *domain, const struct sts_lookup *l)
{
	fetch_failed(arg, "refresh", domain, l);
}

/* first_failure - the attempt that best explains a deferral */
static const struct attempt *
first_failure(const struct eval *ev)
{
	int	i;

	for (i = 0; i < ev->ntries; i++)		/* a policy failure */
		if (!ev->tries[i].transient &&
		    ev->tries[i].result != TLSRPT_SUCCESS &&
		    strcmp(ev->tries[i].reason, "mx-host-not-in-policy"))
			return &ev->tries[i];
	return ev->ntries ? &ev->tries[0] : NULL;
}

static void
defer_text(const char *domain, const char *pid, const struct eval *ev,
    struct gate_verdict *out)
{
	struct buf	t;
	int		i, shown = 0;

	buf_init(&t, sizeof(out->text) - 1);
	buf_printf(&t, "MTA-STS policy of %s (id %s, mode enforce) cannot be "
	    "met:", domain, pid);
	if (ev->nomatch)
		buf_printf(&t, " no MX matches the policy (MX: %s)", ev->mxlist);
	else
		for (i = 0; i < ev->ntries; i++) {
			const struct attempt *a = &ev->tries[i];

			if (!strcmp(a->reason, "mx-host-not-in-policy"))
				continue;
			buf_printf(&t, "%s %s%s%s%s: %s%s%s%s", shown++ ? ";" : "",
			    a->mx, a->ip[0] ? " [" : "", a->ip,
			    a->ip[0] ? "]" : "", tlsrpt_result_str(a->result),
			    a->reason[0] ? " (" : "", a->reason,
			    a->reason[0] ? ")" : "");
		}
	buf_puts(&t, "; will retry");
	snprintf(out->text, sizeof(out->text), "%s", buf_str(&t));
	buf_free(&t);
}

static void	decide(struct gate *, const char *, const char *,
		    const char *, struct gate_verdict *);

void
gate_rcpt(struct gate *g, const char *qid, const char *rcpt,
    const char *domain, struct gate_verdict *out)
{
	decide(g, qid, rcpt, domain, out);
	__atomic_add_fetch(&g->g_rcpts, 1, __ATOMIC_RELAXED);
	if (out->action == GATE_DEFER)
		__atomic_add_fetch(&g->g_deferred, 1, __ATOMIC_RELAXED);
}

void
gate_stats(struct gate *g, struct gate_stats *s)
{
	s->rcpts = __atomic_load_n(&g->g_rcpts, __ATOMIC_RELAXED);
	s->deferred = __atomic_load_n(&g->g_deferred, __ATOMIC_RELAXED);
}

/* decide - gate_rcpt() without the counting */
static void
decide(struct gate *g, const char *qid, const char *rcpt,
    const char *domain, struct gate_verdict *out)
{
	struct sts_lookup	 l;
	struct journal_rec	 r;
	struct eval		 ev;
	const struct attempt	*fail;
	enum override_action	 ov;
	enum sts_mode		 mode;
	enum status		 st;
	const char		*q = qid[0] ? qid : "NOQUEUE";

	memset(out, 0, sizeof(*out));
	out->action = GATE_ACCEPT;

	pthread_rwlock_rdlock(&g->g_ovlock);
	ov = override_lookup(g->g_ov, domain);
	pthread_rwlock_unlock(&g->g_ovlock);
	if (ov == OVERRIDE_SKIP) {
		log_info("%s: exempt rcpt=<%s> policy_domain=%s reason=override",
		    q, rcpt, domain);
		snprintf(out->why, sizeof(out->why), "override-skip");
		return;
	}

	st = sts_cache_lookup(g->g_cache, domain, STS_LOOKUP_ASYNC, &l);
	if (l.fetch_failed && !l.from_cache &&
	    (l.policy == NULL || l.policy->p_mode != STS_MODE_NONE))
		fetch_failed(g, q, domain, &l);
	if (st != ST_OK) {
		snprintf(out->why, sizeof(out->why), "%s",
		    st == ST_TEMPFAIL ? "discovery-tempfail" : "no-policy");
		log_debug(1, "%s: accept rcpt=<%s> policy_domain=%s result=%s",
		    q, rcpt, domain, out->why);
		sts_lookup_clear(&l);
		return;
	}
	mode = l.policy->p_mode;
	if (ov == OVERRIDE_ENFORCE && mode != STS_MODE_NONE)
		mode = STS_MODE_ENFORCE;
	else if (ov == OVERRIDE_TESTING && mode != STS_MODE_NONE)
		mode = STS_MODE_TESTING;
	if (mode == STS_MODE_NONE) {
		snprintf(out->why, sizeof(out->why), "mode-none");
		sts_lookup_clear(&l);
		return;
	}
	if (mode == STS_MODE_TESTING) {
		bg_probe(g, domain, l.policy, l.id);
		snprintf(out->why, sizeof(out->why), "mode-testing");
		log_debug(1, "%s: accept rcpt=<%s> policy_domain=%s "
		    "mode=testing policy_id=%s", q, rcpt, domain, l.id);
		sts_lookup_clear(&l);
		return;
	}

	if (evaluate(g, domain, l.policy, l.id,
	    clock_mono_ms() + g->g_deadline_ms, &ev) != 0) {
		snprintf(out->why, sizeof(out->why), "mx-lookup-failed");
		log_warnx("%s: accept rcpt=<%s> policy_domain=%s mode=enforce "
		    "policy_id=%s result=mx-lookup-failed (delivery will be "
		    "enforced by the MTA)", q, rcpt, domain, l.id);
		sts_lookup_clear(&l);
		return;
	}
	if (ev.pass) {
		const struct attempt *a = &ev.tries[ev.ntries - 1];

		snprintf(out->why, sizeof(out->why), "validated");
		log_debug(1, "%s: accept rcpt=<%s> policy_domain=%s "
		    "mode=enforce policy_id=%s result=success mx=%s ip=%s", q,
		    rcpt, domain, l.id, a->mx, a->ip);
		sts_lookup_clear(&l);
		return;
	}

	/* Defer: STS-APP-1, STS-APP-4. */
	out->action = GATE_DEFER;
	fail = first_failure(&ev);
	out->result = fail ? fail->result : TLSRPT_VALIDATION_FAILURE;
	defer_text(domain, l.id, &ev, out);
	log_notice("%s: defer rcpt=<%s> policy_domain=%s mode=enforce "
	    "policy_id=%s result=%s mx=%s ip=%s%s%s%s candidates=%d", q, rcpt,
	    domain, l.id, tlsrpt_result_str(out->result),
	    fail ? fail->mx : "-", fail && fail->ip[0] ? fail->ip : "-",
	    fail && fail->reason[0] ? " reason=\"" : "",
	    fail ? fail->reason : "", fail && fail->reason[0] ? "\"" : "",
	    ev.nmx);
	memset(&r, 0, sizeof(r));
	r.type = JREC_DEFERRAL;
	r.time = clock_now();
	JREC_SET(&r, src, "milter");
	JREC_SET(&r, ptype, "sts");
	JREC_SET(&r, domain, domain);
	JREC_SET(&r, pid, l.id);
	JREC_SET(&r, mode, "enforce");
	if (fail) {
		JREC_SET(&r, mx, fail->mx);
		JREC_SET(&r, rip, fail->ip);
		JREC_SET(&r, reason, fail->reason);
	}
	r.result = out->result;
	JREC_SET(&r, qid, qid);
	JREC_SET(&r, rcpt, rcpt);
	JREC_SET(&r, text, out->text);
	journal_put(g, &r);
	sts_lookup_clear(&l);
}
