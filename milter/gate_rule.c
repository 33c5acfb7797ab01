/*
 * gate_rule.c - the RCPT-time MTA-STS decision (RFC 8461 sections 4, 5)
 *
 * For an enforce policy (STS-APP-1) the recipient passes when at least
 * one MX host of the domain matches a policy pattern (STS-VAL-2) and, at
 * one of its addresses, passes a real STARTTLS probe with certificate
 * validation (STS-VAL-3, STS-VAL-4, STS-VAL-5: tls_probe.c).  MX hosts
 * are tried in preference order and the first pass ends the search, as
 * delivery would (STS-APP-5).  Otherwise the recipient is deferred with
 * 451 4.7.5, never rejected (STS-APP-4), and the reply names the policy
 * domain, the policy id and each candidate's RFC 8460 result type.
 *
 * testing policies are accepted at once and probed in the background
 * for the TLS-RPT report (STS-APP-2).  none and no policy are accepted
 * (STS-APP-3, STS-HTTP-8).  An override (override.h) skips a domain or
 * forces the mode of a policy it has; it never invents a policy.
 *
 * Decisions (documented in README):
 *   - A domain with no MX record is its own MX (RFC 5321 5.1); a null
 *     MX (RFC 7505) is accepted, the MTA will bounce it anyway.
 *   - DNS failure of the MX lookup fails open: the MTA cannot deliver
 *     then either, and its policy map enforces at delivery time.
 *   - Transient probe failures (refused, timeout) and address lookup
 *     failures count against the candidate (STS-APP-5: "as though
 *     unreachable").
 *   - The reported failure is the first policy failure (a probe that
 *     completed and failed validation), else the first attempt.
 *   - The deadline is checked before each probe (past it, that address
 *     is recorded as "deadline" and the walk ends) and after each
 *     candidate whose addresses were probed (past it, the walk ends).
 *
 * DANE (RFC 7672; STS-DANE-1: MTA-STS never overrides a failing DANE
 * validation), when the caller sets dane_on:
 *   - bogus DNSSEC for the MX, address or TLSA lookups defers
 *     (dnssec-invalid), with or without an MTA-STS policy;
 *   - a domain with usable TLSA (verdict all or some) is gated by DANE,
 *     whatever its MTA-STS policy says: MX hosts with TLSA are probed
 *     by DANE (tls_probe with their records) and one pass accepts.  A
 *     host without TLSA: under verdict some and no enforce policy the
 *     MTA delivers there with opportunistic TLS (the map's "dane"), so
 *     reaching it accepts ("dane-partial"); under verdict all, or some
 *     with an enforce policy (the map's "dane-only") it is no
 *     candidate (dane-required, "no-tlsa");
 *   - none, tempfail (the MTA's map defers then) and an insecure or
 *     indeterminate zone fall back to MTA-STS.
 *
 * gate_rule_decide() is stateless: it walks the observations from the
 * start on every call and stops at the first one missing.  The walk is
 * a few MX hosts long; recomputing it is cheaper than keeping a cursor
 * in step with the caller.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "gate_rule.h"
#include "mx_match.h"

void
gate_obs_init(struct gate_obs *o, const char *domain, enum override_action ov)
{
	o->domain = domain;
	o->ov = ov;
	o->have_policy = o->have_mx = o->expired = 0;
	o->policy = NULL;
	o->policy_id = "";
	o->nmx = 0;
	o->dane_on = o->have_dane = 0;
	o->dane = NULL;
}

void
gate_obs_dane(struct gate_obs *o, const struct dane_result *r)
{
	o->have_dane = 1;
	o->dane = r;
}

void
gate_obs_policy(struct gate_obs *o, enum status st,
    const struct sts_policy *p, const char *policy_id)
{
	o->have_policy = 1;
	o->policy_st = st == ST_OK && p == NULL ? ST_NOTFOUND : st;
	o->policy = p;
	o->policy_id = policy_id;
}

static void
host_init(struct gate_obs *o, int i, const char *name)
{
	struct gate_host	*h = &o->host[i];
	const struct dane_host	*dh;

	h->name = name;
	h->matched = o->policy != NULL && name[0] != '\0' &&
	    mx_match_policy(o->policy, name);			/* STS-VAL-2 */
	h->have_addr = h->naddr = h->nprobe = 0;
	h->tlsa = NULL;
	h->ntlsa = 0;
	h->dane_cname = NULL;
	if (o->have_dane && o->dane != NULL && (o->dane->state == DANE_ALL ||
	    o->dane->state == DANE_SOME) && name[0] != '\0' &&
	    (dh = dane_host_find(o->dane, name)) != NULL &&
	    dh->state == DANE_H_USABLE) {
		h->tlsa = (const char *const *)dh->tlsa;
		h->ntlsa = dh->ntlsa;
		h->dane_cname = dh->cname;
	}
}

void
gate_obs_mx(struct gate_obs *o, enum status st, const char *const *names,
    int n)
{
	int	i;

	o->have_mx = 1;
	o->mx_st = st;
	o->nmx = 0;
	if (st == ST_NOTFOUND) {		/* implicit MX, RFC 5321 5.1 */
		o->mx_st = ST_OK;
		host_init(o, o->nmx++, o->domain);
		return;
	}
	if (st != ST_OK)
		return;
	for (i = 0; i < n && i < GATE_MAX_MX; i++)
		host_init(o, o->nmx++, names[i]);
}

void
gate_obs_addr(struct gate_obs *o, int i, enum status st,
    const char *const *addrs, int n)
{
	struct gate_host	*h = &o->host[i];
	int			 k;

	h->have_addr = 1;
	h->addr_st = st;
	h->naddr = 0;
	if (st == ST_OK)
		for (k = 0; k < n && k < GATE_MAX_ADDR; k++)
			h->addr[h->naddr++] = addrs[k];
}

void
gate_obs_probe(struct gate_obs *o, int i, const struct gate_probe_obs *p)
{
	struct gate_host	*h = &o->host[i];

	if (h->nprobe < GATE_MAX_ADDR)
		h->probe[h->nprobe++] = *p;
}

/* --- the decision ------------------------------------------------------ */

static const char *const why_names[] = {
	[GATE_DEFERRED] = "",
	[GATE_OVERRIDE_SKIP] = "override-skip",
	[GATE_NO_POLICY] = "no-policy",
	[GATE_DISCOVERY_TEMPFAIL] = "discovery-tempfail",
	[GATE_MODE_NONE] = "mode-none",
	[GATE_MODE_TESTING] = "mode-testing",
	[GATE_MX_LOOKUP_FAILED] = "mx-lookup-failed",
	[GATE_VALIDATED] = "validated",
	[GATE_DANE_VALIDATED] = "dane-validated",
	[GATE_DANE_PARTIAL] = "dane-partial",
};

const char *
gate_why_str(enum gate_why why)
{
	return (size_t)why < sizeof(why_names) / sizeof(why_names[0]) ?
	    why_names[why] : "";
}

static void
add_try(struct gate_decision *d, const char *mx, const char *ip,
    enum tlsrpt_result rt, const char *reason, int transient)
{
	struct gate_attempt	*a;

	if (d->ntries >= GATE_MAX_TRIES)
		return;
	a = &d->tries[d->ntries++];
	a->mx = mx;
	a->ip = ip;
	a->result = rt;
	a->reason = reason != NULL ? reason : "";
	a->transient = transient;
	a->not_in_policy = 0;
}

static enum gate_need
need(struct gate_decision *d, enum gate_need what, int host, int addr)
{
	d->need = what;
	d->need_host = host;
	d->need_addr = addr;
	return what;
}

static enum gate_need
accepted(struct gate_decision *d, enum gate_why why)
{
	d->action = GATE_ACCEPT;
	d->why = why;
	return need(d, GATE_NEED_NONE, 0, 0);
}

/* first_failure - the attempt that best explains a deferral: the first
 * policy failure, else the first attempt */
static const struct gate_attempt *
first_failure(const struct gate_decision *d)
{
	int	i;

	for (i = 0; i < d->ntries; i++)
		if (!d->tries[i].transient && !d->tries[i].not_in_policy &&
		    d->tries[i].result != TLSRPT_SUCCESS)
			return &d->tries[i];
	return d->ntries ? &d->tries[0] : NULL;
}

/*
 * walk_host - the addresses of candidate h (index i) in order, until one
 * validates.  Returns a need, or GATE_NEED_NONE when the host is done;
 * *stop is set when the walk must end (a pass, or the deadline).
 */
static enum gate_need
walk_host(const struct gate_obs *o, int i, struct gate_decision *d,
    int *stop)
{
	const struct gate_host		*h = &o->host[i];
	const struct gate_probe_obs	*p;
	int				 k;

	if (h->addr_st != ST_OK) {	/* as though unreachable: STS-APP-5 */
		add_try(d, h->name, "", TLSRPT_VALIDATION_FAILURE,
		    h->addr_st == ST_NOTFOUND ? "no-address" :
		    "address-lookup-failed", 1);
		return GATE_NEED_NONE;
	}
	for (k = 0; k < h->naddr; k++) {
		if (k >= h->nprobe) {		/* not probed yet */
			if (o->expired) {
				add_try(d, h->name, h->addr[k],
				    TLSRPT_VALIDATION_FAILURE, "deadline", 1);
				*stop = 1;
				return GATE_NEED_NONE;
			}
			return need(d, GATE_NEED_PROBE, i, k);
		}
		p = &h->probe[k];
		if (p->st == ST_OK && p->result == TLSRPT_SUCCESS) {
			add_try(d, h->name, h->addr[k], TLSRPT_SUCCESS, "", 0);
			d->pass = 1;			/* STS-APP-5: done */
			*stop = 1;
			return GATE_NEED_NONE;
		}
		add_try(d, h->name, h->addr[k], p->result, p->reason,
		    p->transient);
	}
	return GATE_NEED_NONE;
}

/*
 * visit - candidate i of a walk: its addresses, then walk_host().  Not
 * GATE_NEED_NONE: that need is next.  *stop ends the walk (a pass, or
 * the deadline after a host whose addresses were probed, *probed).
 */
static enum gate_need
visit(const struct gate_obs *o, int i, struct gate_decision *d, int *stop,
    int *probed)
{
	const struct gate_host	*h = &o->host[i];

	if (!h->have_addr) {
		if (*probed && o->expired) {	/* deadline after a host */
			*stop = 1;
			return GATE_NEED_NONE;
		}
		return need(d, GATE_NEED_ADDR, i, 0);
	}
	if (walk_host(o, i, d, stop) != GATE_NEED_NONE)
		return d->need;
	*probed = h->addr_st == ST_OK;
	return GATE_NEED_NONE;
}

/* walk_verdict - the decision at the end of an enforce walk */
static enum gate_need
walk_verdict(struct gate_decision *d)
{
	if (d->pass) {
		d->shown = &d->tries[d->ntries - 1];
		d->result = TLSRPT_SUCCESS;
		return accepted(d, GATE_VALIDATED);
	}
	/* STS-APP-1: no valid MX; STS-APP-4: a temporary failure. */
	d->action = GATE_DEFER;
	d->why = GATE_DEFERRED;
	d->shown = first_failure(d);
	d->result = d->shown ? d->shown->result : TLSRPT_VALIDATION_FAILURE;
	return need(d, GATE_NEED_NONE, 0, 0);
}

enum gate_need
gate_rule_walk(const struct gate_obs *o, struct gate_decision *d)
{
	int			 i, ncand = 0, stop = 0, probed = 0;

	d->pass = d->nomatch = d->ntries = d->nmx = 0;
	d->shown = NULL;
	if (!o->have_mx)
		return need(d, GATE_NEED_MX, 0, 0);
	/* DNS trouble or a null MX (RFC 7505): fail open */
	if (o->mx_st != ST_OK || (o->nmx == 1 && o->host[0].name[0] == '\0'))
		return accepted(d, GATE_MX_LOOKUP_FAILED);
	d->nmx = o->nmx;
	for (i = 0; i < o->nmx; i++) {
		if (o->host[i].matched) {
			ncand++;
			continue;
		}
		add_try(d, o->host[i].name, "", TLSRPT_VALIDATION_FAILURE,
		    "mx-host-not-in-policy", 0);		/* STS-VAL-2 */
		d->tries[d->ntries - 1].not_in_policy = 1;
	}
	if (ncand == 0) {
		d->nomatch = 1;
		return walk_verdict(d);
	}
	for (i = 0; i < o->nmx && !stop; i++)
		if (o->host[i].matched &&
		    visit(o, i, d, &stop, &probed) != GATE_NEED_NONE)
			return d->need;
	return walk_verdict(d);
}

/* dane_walk - the MX hosts by DANE (see the top); enforce: the domain
 * also has an enforce MTA-STS policy */
static enum gate_need
dane_walk(const struct gate_obs *o, struct gate_decision *d, int enforce)
{
	const struct gate_host	*h;
	int			 i, stop = 0, probed = 0;

	d->dane = 1;
	if (!o->have_mx)
		return need(d, GATE_NEED_MX, 0, 0);
	if (o->mx_st != ST_OK || (o->nmx == 1 && o->host[0].name[0] == '\0'))
		return accepted(d, GATE_MX_LOOKUP_FAILED);	/* fail open */
	d->nmx = o->nmx;
	for (i = 0; i < o->nmx && !stop; i++) {
		h = &o->host[i];
		if (h->ntlsa == 0) {
			if (o->dane->state == DANE_SOME && !enforce)
				return accepted(d, GATE_DANE_PARTIAL);
			add_try(d, h->name, "", TLSRPT_DANE_REQUIRED, "no-tlsa",
			    0);
			continue;
		}
		if (visit(o, i, d, &stop, &probed) != GATE_NEED_NONE)
			return d->need;
	}
	walk_verdict(d);
	if (d->pass)
		d->why = GATE_DANE_VALIDATED;
	return GATE_NEED_NONE;
}

enum gate_need
gate_rule_decide(const struct gate_obs *o, struct gate_decision *d)
{
	int	enforce;

	d->action = GATE_ACCEPT;
	d->background = 0;
	d->mode = STS_MODE_NONE;
	d->ntries = d->nmx = d->pass = d->nomatch = d->dane = 0;
	d->shown = NULL;
	d->result = TLSRPT_SUCCESS;
	if (o->ov == OVERRIDE_SKIP)
		return accepted(d, GATE_OVERRIDE_SKIP);
	if (!o->have_policy)
		return need(d, GATE_NEED_POLICY, 0, 0);
	if (o->dane_on) {				/* STS-DANE-1 */
		if (!o->have_dane)
			return need(d, GATE_NEED_DANE, 0, 0);
		if (o->dane != NULL && o->dane->state == DANE_BOGUS) {
			d->dane = 1;
			add_try(d, o->domain, "", TLSRPT_DNSSEC_INVALID,
			    "bogus", 0);
			return walk_verdict(d);
		}
		if (o->dane != NULL && (o->dane->state == DANE_ALL ||
		    o->dane->state == DANE_SOME)) {
			enforce = o->policy_st == ST_OK && o->ov !=
			    OVERRIDE_TESTING && (o->policy->p_mode ==
			    STS_MODE_ENFORCE || (o->ov == OVERRIDE_ENFORCE &&
			    o->policy->p_mode != STS_MODE_NONE));
			if (o->policy_st == ST_OK)
				d->mode = o->policy->p_mode;
			return dane_walk(o, d, enforce);
		}
	}
	if (o->policy_st != ST_OK)	/* STS-HTTP-8: as though none */
		return accepted(d, o->policy_st == ST_TEMPFAIL ?
		    GATE_DISCOVERY_TEMPFAIL : GATE_NO_POLICY);
	d->mode = o->policy->p_mode;
	if (o->ov == OVERRIDE_ENFORCE && d->mode != STS_MODE_NONE)
		d->mode = STS_MODE_ENFORCE;
	else if (o->ov == OVERRIDE_TESTING && d->mode != STS_MODE_NONE)
		d->mode = STS_MODE_TESTING;
	if (d->mode == STS_MODE_NONE)			/* STS-APP-3 */
		return accepted(d, GATE_MODE_NONE);
	if (d->mode == STS_MODE_TESTING) {		/* STS-APP-2 */
		d->background = 1;
		return accepted(d, GATE_MODE_TESTING);
	}
	return gate_rule_walk(o, d);			/* STS-APP-1 */
}

void
gate_rule_text(const struct gate_obs *o, const struct gate_decision *d,
    char *text, size_t size)
{
	const struct gate_attempt	*a;
	struct buf			 t;
	char				 mxlist[300];
	int				 i, shown = 0;

	buf_init(&t, GATE_TEXT_MAX - 1);
	if (d->dane)
		buf_printf(&t, "DANE (RFC 7672) for %s cannot be met:",
		    o->domain);
	else
		buf_printf(&t, "MTA-STS policy of %s (id %s, mode enforce) "
		    "cannot be met:", o->domain, o->policy_id);
	if (d->nomatch) {
		mxlist[0] = '\0';
		for (i = 0; i < o->nmx; i++) {
			size_t	l = strlen(mxlist);

			snprintf(mxlist + l, sizeof(mxlist) - l, "%s%s",
			    i ? ", " : "", o->host[i].name);
		}
		buf_printf(&t, " no MX matches the policy (MX: %s)", mxlist);
	} else
		for (i = 0; i < d->ntries; i++) {
			a = &d->tries[i];
			if (a->not_in_policy)
				continue;
			buf_printf(&t, "%s %s%s%s%s: %s%s%s%s", shown++ ? ";" : "",
			    a->mx, a->ip[0] ? " [" : "", a->ip,
			    a->ip[0] ? "]" : "", tlsrpt_result_str(a->result),
			    a->reason[0] ? " (" : "", a->reason,
			    a->reason[0] ? ")" : "");
		}
	buf_puts(&t, "; will retry");
	snprintf(text, size, "%s", buf_str(&t));
	buf_free(&t);
}
