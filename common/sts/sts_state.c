/*
 * sts_state.c - one domain's cache state and the discovery that moves
 * it (see sts_state.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sts_state.h"
#include "xmalloc.h"

time_t
sts_state_expires(const struct sts_state *st)
{
	return st->st_fetched + (time_t)st->st_policy->p_max_age;
}

int
sts_state_refresh_due(const struct sts_state *st, int refresh_interval,
    time_t now)
{
	long long	iv = refresh_interval;

	if (st->st_policy->p_max_age / 2 < iv)
		iv = st->st_policy->p_max_age / 2;
	return now - st->st_fetched >= iv;
}

void
sts_state_set_reason(struct sts_state *st, const char *why)
{
	free(st->st_reason);
	st->st_reason = xstrdup(why);
}

int
sts_state_expire(struct sts_state *st, time_t now)
{
	if (st->st_policy == NULL || now < sts_state_expires(st))
		return 0;
	sts_policy_free(st->st_policy);		/* STS-CACHE-1 */
	st->st_policy = NULL;
	st->st_id[0] = '\0';
	return 1;
}

void
sts_state_clear(struct sts_state *st)
{
	sts_policy_free(st->st_policy);
	free(st->st_reason);
	memset(st, 0, sizeof(*st));
}

void
sts_state_copy(struct sts_state *dst, const struct sts_state *src)
{
	*dst = *src;
	dst->st_policy = sts_policy_ref(src->st_policy);	/* immutable */
	dst->st_reason = src->st_reason ? xstrdup(src->st_reason) : NULL;
}

void
sts_state_snapshot(const struct sts_state *st, const struct sts_state_opts *o,
    const char *domain, int force, time_t now, struct sts_state_snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	snprintf(sn->sn_domain, sizeof(sn->sn_domain), "%s", domain);
	sn->sn_have = st->st_policy != NULL;
	sn->sn_fetch_due = force || !sn->sn_have ||
	    sts_state_refresh_due(st, o->refresh_interval, now);
	sn->sn_backoff = !force && st->st_failed &&
	    now - st->st_fail_time < o->fetch_backoff;
	memcpy(sn->sn_old_id, st->st_id, sizeof(sn->sn_old_id));
	memcpy(sn->sn_fail_id, st->st_fail_id, sizeof(sn->sn_fail_id));
}

int
sts_state_txt_decide(const struct sts_state_opts *opt,
    const struct sts_state_snap *sn, struct sts_state_outcome *o,
    const struct sts_txt *txt)
{
	if (o->o_txt_st != ST_OK) {
		/*
		 * STS-CACHE-4, RFC 8461 10.2: refresh a cached policy even
		 * when its TXT record is missing or failing, or an attacker
		 * who hides the record only has to wait for max_age.
		 */
		if (sn->sn_have && sn->sn_fetch_due)
			return o->o_fetched = 1;
		return 0;
	}
	memcpy(o->o_txt_id, txt->id, sizeof(o->o_txt_id));
	if (sn->sn_have && strcmp(txt->id, sn->sn_old_id) == 0 &&
	    !sn->sn_fetch_due)
		return 0;				/* STS-CACHE-2 */
	if (sn->sn_backoff && strcmp(txt->id, sn->sn_fail_id) == 0) {
		buf_printf(&o->o_why, "fetch of policy id %s failed less than "
		    "%d s ago; not retrying yet", txt->id, opt->fetch_backoff);
		return 0;				/* STS-HTTP-5 */
	}
	return o->o_fetched = 1;
}

void
sts_state_outcome_init(struct sts_state_outcome *o)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->o_why, 512);
}

int
sts_state_discover_txt(const struct sts_state_opts *opt,
    const struct sts_state_snap *sn, struct sts_state_outcome *o)
{
	struct sts_txt	txt;

	sts_state_outcome_init(o);
	o->o_txt_st = sts_fetch_txt(opt->dns, sn->sn_domain, &txt, &o->o_why);
	return sts_state_txt_decide(opt, sn, o, &txt);
}

void
sts_state_fetched(struct sts_state_outcome *o, struct sts_policy *policy,
    enum tlsrpt_result rt, const char *why)
{
	o->o_policy = policy;
	o->o_rt = rt;
	if (policy == NULL && why != NULL && why[0] != '\0')
		buf_printf(&o->o_why, o->o_txt_st != ST_OK ?
		    "; refresh: %s" : "%s", why);
}

void
sts_state_discover(const struct sts_state_opts *opt,
    const struct sts_state_snap *sn, struct sts_state_outcome *o)
{
	struct sts_policy	*pol;
	enum tlsrpt_result	 rt;
	struct buf		 why = BUF_INIT;

	if (!sts_state_discover_txt(opt, sn, o))
		return;
	(void)sts_fetch_policy(opt->dns, opt->fetch, sn->sn_domain, &pol, &rt,
	    &why);
	sts_state_fetched(o, pol, rt, buf_str(&why));
	buf_free(&why);
}

/* sts_state_failed - the fetch of id failed at now */
static void
sts_state_failed(struct sts_state *st, const struct sts_state_outcome *o,
    const char *id, time_t now)
{
	st->st_failed = 1;
	st->st_fail_rt = o->o_rt;
	st->st_fail_time = now;
	memcpy(st->st_fail_id, id, sizeof(st->st_fail_id));
}

/* sts_state_apply_notxt - the TXT lookup failed or found nothing */
static int
sts_state_apply_notxt(struct sts_state *st, const struct sts_state_opts *opt,
    struct sts_state_outcome *o, time_t now)
{
	if (st->st_policy != NULL && o->o_policy != NULL) { /* STS-CACHE-4 */
		sts_policy_free(st->st_policy);
		st->st_policy = o->o_policy;		/* id unchanged */
		o->o_policy = NULL;
		st->st_fetched = now;
		sts_state_set_reason(st, buf_str(&o->o_why));
		return 1;
	}
	if (st->st_policy != NULL) {		/* STS-CACHE-6, STS-TXT-5 */
		if (o->o_fetched)		/* refresh failed too */
			sts_state_failed(st, o, st->st_id, now);
		sts_state_set_reason(st, buf_str(&o->o_why));
		return 0;
	}
	st->st_neg_status = o->o_txt_st == ST_TEMPFAIL ? ST_TEMPFAIL :
	    ST_NOTFOUND;
	st->st_neg_until = now + (o->o_txt_st == ST_TEMPFAIL ?
	    opt->tempfail_ttl : opt->negative_ttl);
	st->st_failed = 0;
	st->st_txt_id[0] = '\0';
	sts_state_set_reason(st, buf_str(&o->o_why));
	return 0;
}

int
sts_state_apply(struct sts_state *st, const struct sts_state_opts *opt,
    struct sts_state_outcome *o, time_t now)
{
	int	have = st->st_policy != NULL, persist = 0;

	st->st_checked = now;
	if (o->o_txt_st != ST_OK)
		return sts_state_apply_notxt(st, opt, o, now);
	memcpy(st->st_txt_id, o->o_txt_id, sizeof(st->st_txt_id));
	if (o->o_policy != NULL) {			/* STS-CACHE-2, -4 */
		sts_policy_free(st->st_policy);
		st->st_policy = o->o_policy;
		o->o_policy = NULL;
		memcpy(st->st_id, o->o_txt_id, sizeof(st->st_id));
		st->st_fetched = now;
		st->st_failed = 0;
		st->st_fail_id[0] = '\0';
		st->st_neg_until = 0;
		sts_state_set_reason(st, "");
		return 1;
	}
	if (o->o_fetched) {				/* the fetch failed */
		sts_state_failed(st, o, o->o_txt_id, now);
		sts_state_set_reason(st, buf_str(&o->o_why));
		persist = 1;
	} else if (buf_str(&o->o_why)[0] != '\0')
		sts_state_set_reason(st, buf_str(&o->o_why)); /* back-off */
	if (!have && (o->o_fetched || st->st_failed)) {	/* STS-HTTP-8 */
		st->st_neg_status = ST_NOTFOUND;
		st->st_neg_until = st->st_fail_time + opt->fetch_backoff;
		if (st->st_neg_until > now + opt->negative_ttl)
			st->st_neg_until = now + opt->negative_ttl;
	}
	/* STS-CACHE-7: a valid policy stays in force. */
	return persist && st->st_policy != NULL;
}

void
sts_state_outcome_clear(struct sts_state_outcome *o)
{
	sts_policy_free(o->o_policy);
	buf_free(&o->o_why);
}

void
sts_state_to_rec(const struct sts_state *st, struct sts_store_rec *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->id, st->st_id, sizeof(r->id));
	r->fetched = st->st_fetched;
	r->checked = st->st_checked;
	r->failed = st->st_failed;
	memcpy(r->fail_id, st->st_fail_id, sizeof(r->fail_id));
	r->fail_time = st->st_fail_time;
	r->fail_rt = st->st_fail_rt;
	r->policy = st->st_policy;	/* borrowed: do not clear r */
}

void
sts_state_from_rec(struct sts_state *st, struct sts_store_rec *r)
{
	memcpy(st->st_id, r->id, sizeof(st->st_id));
	st->st_fetched = r->fetched;
	st->st_checked = r->checked;
	st->st_failed = r->failed;
	memcpy(st->st_fail_id, r->fail_id, sizeof(st->st_fail_id));
	st->st_fail_time = r->fail_time;
	st->st_fail_rt = r->fail_rt;
	sts_policy_free(st->st_policy);
	st->st_policy = r->policy;		/* taken over */
	r->policy = NULL;
	memcpy(st->st_txt_id, st->st_failed ? st->st_fail_id : st->st_id,
	    sizeof(st->st_txt_id));
	if (st->st_failed)
		sts_state_set_reason(st, "a fetch of this policy id failed "
		    "before the restart");
}
