/*
 * gate_journal.c - the journal records of the RCPT gate (gate.c)
 *
 * Every real probe is a TLS session (RPT-RT-2: transient failures are
 * not sessions; under DANE with policy type tlsa), as is an MX host
 * outside the policy (gate.c fills in its addresses), a failed policy
 * fetch (RFC 8461 6) and a bogus DANE answer (RFC 8460 4.3.2.2); each
 * deferral is a deferral record.  Reporting never delays mail: a write
 * that fails is counted and logged by journal_append (rate-limited).
 */
#include <string.h>

#include "clock.h"
#include "dane.h"
#include "gate_impl.h"
#include "log.h"
#include "policy_archive.h"

/* gate_journal_put - append r (see the comment inside) */
void
gate_journal_put(struct gate *g, const struct journal_rec *r)
{
	/* Reporting never delays mail: journal_append counts and logs a
	 * failure (rate-limited), the mail goes on. */
	(void)journal_append(g->g_journal, r);
}

/* gate_journal_session - start r: a probe's session under MTA-STS */
void
gate_journal_session(struct gate *g, struct journal_rec *r,
    const char *domain, const struct sts_policy *p, const char *pid)
{
	memset(r, 0, sizeof(*r));
	r->type = JREC_SESSION;
	r->time = clock_now();
	JREC_SET(r, src, "probe");
	JREC_SET(r, domain, domain);
	policy_archive_rec_sts(r, g->g_state_dir, p, pid);
}

/* gate_journal_deferral - the deferral record of a decision */
void
gate_journal_deferral(struct gate *g, const char *qid, const char *rcpt,
    const struct gate_obs *o, const struct gate_decision *d,
    const struct gate_verdict *out)
{
	const struct gate_attempt	*fail = d->shown;
	struct journal_rec		 r;

	memset(&r, 0, sizeof(r));
	r.type = JREC_DEFERRAL;
	r.time = clock_now();
	JREC_SET(&r, src, "milter");
	JREC_SET(&r, ptype, d->dane ? "tlsa" : "sts");	/* STS-DANE-1 */
	JREC_SET(&r, domain, o->domain);
	if (!d->dane) {
		JREC_SET(&r, pid, o->policy_id);
		JREC_SET(&r, mode, "enforce");
	}
	if (fail) {
		JREC_SET(&r, mx, fail->mx);
		JREC_SET(&r, rip, fail->ip);
		JREC_SET(&r, reason, fail->reason);
	}
	r.result = out->result;
	JREC_SET(&r, qid, qid);
	JREC_SET(&r, rcpt, rcpt);
	JREC_SET(&r, text, out->text);
	gate_journal_put(g, &r);
}

/*
 * tlsa_rec - a session under DANE: policy type tlsa, the host's TLSA
 * records (upper-case hex, one a line) archived as its policy-string;
 * the report goes to the recipient domain, as with Postfix's datagrams
 */
static void
tlsa_rec(struct gate *g, struct journal_rec *r, const char *domain,
    const struct gate_host *h)
{
	struct buf	t = BUF_INIT;

	memset(r, 0, sizeof(*r));
	r->type = JREC_SESSION;
	r->time = clock_now();
	JREC_SET(r, src, "probe");
	JREC_SET(r, ptype, "tlsa");
	JREC_SET(r, domain, domain);
	dane_policy_string(h->tlsa, h->ntlsa, &t);
	if (t.b_len == 0 || policy_archive_put(g->g_state_dir, t.b_data,
	    t.b_len, r->phash) != 0)
		r->phash[0] = '\0';
	buf_free(&t);
}

/* gate_journal_probe - a real TLS session (a probe that completed) */
void
gate_journal_probe(struct gate *g, const struct gate_obs *o,
    const struct gate_host *h, const struct tls_probe_result *pr)
{
	const char		*host = h->name;
	struct journal_rec	 r;

	if (h->ntlsa > 0)
		tlsa_rec(g, &r, o->domain, h);
	else
		gate_journal_session(g, &r, o->domain, o->policy,
		    o->policy_id);
	JREC_SET(&r, mx, host);
	JREC_SET(&r, sip, pr->sending_ip);
	JREC_SET(&r, rip, pr->receiving_ip);
	JREC_SET(&r, helo, pr->helo);
	r.result = pr->result;
	JREC_SET(&r, reason, pr->reason);
	gate_journal_put(g, &r);
}

/*
 * gate_fetch_failed - RFC 8461 6: a fetch failure with a valid TXT
 * record is reportable; the cache calls this once per failed fetch
 * attempt, whichever interface's lookup ran it (the gate, the policy
 * maps, the refresher: sts_cache_on_fetch_failure), so every one of
 * them is journaled.
 */
void
gate_fetch_failed(void *arg, const char *domain, const struct sts_lookup *l)
{
	struct gate		*g = arg;
	struct journal_rec	 r;

	gate_journal_session(g, &r, domain, l->policy, l->txt_id);
	r.result = l->fetch_result;
	JREC_SET(&r, src, "fetch");
	JREC_SET(&r, reason, l->reason);
	gate_journal_put(g, &r);
	log_warnx("policy fetch failed policy_domain=%s policy_id=%s "
	    "result=%s reason=\"%.200s\"%s", domain, l->txt_id,
	    tlsrpt_result_str(l->fetch_result), l->reason, l->policy ?
	    " (cached policy still applies)" :
	    " (no cached policy: delivering without MTA-STS)");
}

/*
 * gate_dane_bogus - a DANE lookup met a bogus answer (RFC 8460 4.3.2.2
 * dnssec-invalid): one session under policy type tlsa for the domain,
 * whichever interface's lookup ran it (the gate's, the policy maps'),
 * so a site whose MTA defers on the map's TEMP reports it too.  No
 * policy-string: no TLSA record could be trusted.  The MX host is the
 * one whose address or TLSA answer was bogus.
 */
void
gate_dane_bogus(void *arg, const char *domain, const struct dane_result *dr)
{
	struct gate		*g = arg;
	struct journal_rec	 r;
	const char		*host, *where;

	if ((where = dane_bogus_where(dr, &host)) == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.type = JREC_SESSION;
	r.time = clock_now();
	JREC_SET(&r, src, "dane");
	JREC_SET(&r, ptype, "tlsa");
	JREC_SET(&r, domain, domain);
	if (host != NULL)
		JREC_SET(&r, mx, host);
	r.result = TLSRPT_DNSSEC_INVALID;
	JREC_SET(&r, reason, where);
	gate_journal_put(g, &r);
	log_warnx("dane: DNSSEC validation failed policy_domain=%s%s%s "
	    "result=dnssec-invalid reason=%s (deliveries deferred)", domain,
	    host != NULL ? " mx=" : "", host != NULL ? host : "", where);
}
