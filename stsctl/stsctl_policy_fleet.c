/*
 * stsctl_policy_fleet.c - "stsctl policy DOMAIN" in fleet mode: the
 * fleet's shared policy cache (P pol:<domain>, fleet_cache.h) beside
 * the node's own
 *
 * SYNOPSIS
 *	struct stsctl_pfleet *pf = stsctl_pfleet_new(conf);	(NULL: single host)
 *	stsctl_pfleet_attach(pf, cache);	(before the lookup)
 *	... sts_cache_lookup(cache, domain, flags, &l) ...
 *	st = stsctl_pfleet_cached(pf, domain, st, &l);	(--cached, after it)
 *	stsctl_pfleet_json(pf, domain, &out);	(inside the lookup's object)
 *	stsctl_pfleet_free(pf);			(after the cache)
 *
 * DESCRIPTION
 *	Attached as the cache's second level (sts_cache_l2), a check the
 *	lookup runs first reads the fleet's entry, as the daemon does
 *	(fleet_pol_use: a state another node checked recently is used as
 *	it is, an older policy is the base of the check).  Read only: no
 *	fetch lock is taken and nothing is written to Redis (the daemons
 *	share their own checks).
 *
 *	With --cached the lookup runs no check, so the second level is
 *	never asked; when the node has no policy cached,
 *	stsctl_pfleet_cached() answers with the policy of the fleet's entry
 *	while it has not expired (RFC 8461 5.1: a cached policy applies until
 *	max_age), as a node that has not checked the domain itself would,
 *	and Redis is the only thing it reads.
 *
 *	The JSON members it adds to the lookup's object:
 *	  "source":"local"|"fleet"   where the answer came from: the
 *	      node's own cache or check, or the fleet's entry (used as it
 *	      was, or as the base of this check: "fleet_use":"fresh"|"base";
 *	      with --cached, "cached": the fleet's policy, no check)
 *	  "fleet":{"status":"policy"|"no-policy","id","policy","checked",
 *	      "expires"}   the fleet's entry as Redis holds it after the
 *	      lookup; {"status":"none"} when there is none, {"error":...}
 *	      when Redis cannot be reached (the lookup is then the node's
 *	      own, as the daemon's would be).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fleet_cache.h"
#include "fleet_conf.h"
#include "fleet_redis.h"
#include "sts_state.h"
#include "stsctl.h"
#include "timefmt.h"
#include "xmalloc.h"

struct stsctl_pfleet {
	struct fleet_conf	 fc;
	struct fleet_redis	*r;
	struct fleet_pol_opts	 po;
	struct sts_cache_l2	 l2;
	enum sts_l2_use		 used;	/* what the lookup's check did */
	int			 cached;	/* --cached: the fleet's policy */
};

/* read - the fleet's entry of domain: its value (caller frees) and PTTL
 * in ms; NULL when Redis cannot be reached (err says why) */
static redisReply *
read_entry(struct stsctl_pfleet *pf, const char *domain, long long *pttl,
    char *err, size_t errlen)
{
	struct buf	 key = BUF_INIT;
	redisReply	*v, *t;

	fleet_cache_key(&key, pf->fc.prefix, FLEET_KEY_POL, domain);
	*pttl = -2;
	if ((v = fleet_redis_cmd(pf->r, 0, "GET %s", buf_str(&key))) != NULL &&
	    (t = fleet_redis_cmd(pf->r, 0, "PTTL %s", buf_str(&key))) != NULL) {
		if (t->type == REDIS_REPLY_INTEGER)
			*pttl = t->integer;
		fleet_reply_free(t);
	} else {
		fleet_reply_free(v);
		v = NULL;
		fleet_redis_last_error(pf->r, err, errlen);
	}
	buf_free(&key);
	return v;
}

static enum sts_l2_use
pol_get(void *arg, const char *domain, time_t local, struct sts_state *out)
{
	struct stsctl_pfleet	*pf = arg;
	redisReply		*v;
	long long		 pttl;
	char			 err[256];

	memset(out, 0, sizeof(*out));
	v = read_entry(pf, domain, &pttl, err, sizeof(err));
	if (v != NULL && v->type == REDIS_REPLY_STRING &&
	    fleet_pol_parse(v->str, v->len, out) == 0 &&
	    (pf->used = fleet_pol_use(out, local, clock_now(), &pf->po)) ==
	    STS_L2_NONE)
		sts_state_clear(out);
	fleet_reply_free(v);
	return pf->used;
}

enum status
stsctl_pfleet_cached(struct stsctl_pfleet *pf, const char *domain,
    enum status st, struct sts_lookup *l)
{
	struct sts_state	 fs;
	redisReply		*v;
	long long		 pttl;
	char			 err[256];

	if (pf == NULL || st == ST_OK)
		return st;
	v = read_entry(pf, domain, &pttl, err, sizeof(err));
	if (v != NULL && v->type == REDIS_REPLY_STRING &&
	    fleet_pol_parse(v->str, v->len, &fs) == 0) {
		if (fs.st_policy != NULL &&
		    sts_state_expires(&fs) > clock_now()) {
			sts_lookup_clear(l);
			sts_lookup_from_state(&fs, l);
			pf->used = STS_L2_FRESH;
			pf->cached = 1;
			st = ST_OK;
		}
		sts_state_clear(&fs);
	}
	fleet_reply_free(v);
	return st;
}

static void
pol_put(void *arg, const char *domain, const struct sts_state *st)
{
	(void)arg;			/* read only: the daemons share */
	(void)domain;
	(void)st;
}

struct stsctl_pfleet *
stsctl_pfleet_new(const struct conf *c)
{
	struct stsctl_pfleet	*pf;
	struct buf		 why = BUF_INIT;

	pf = xcalloc(1, sizeof(*pf));
	if (fleet_conf_from(&pf->fc, c, &why) != ST_OK || !pf->fc.on) {
		buf_free(&why);		/* stsctl config says why */
		free(pf);
		return NULL;
	}
	buf_free(&why);
	pf->r = fleet_redis_new(&pf->fc, "stsctl");
	fleet_redis_quiet(pf->r);
	pf->po.txt_check_interval = c->txt_check_interval;
	pf->po.refresh_interval = c->refresh_interval;
	pf->l2.get = pol_get;
	pf->l2.put = pol_put;
	pf->l2.arg = pf;
	pf->used = STS_L2_NONE;
	return pf;
}

void
stsctl_pfleet_attach(struct stsctl_pfleet *pf, struct sts_cache *cache)
{
	if (pf != NULL)
		sts_cache_set_l2(cache, &pf->l2);
}

void
stsctl_pfleet_json(struct stsctl_pfleet *pf, const char *domain,
    struct buf *out)
{
	struct sts_state	 st;
	redisReply		*v;
	long long		 pttl;
	char			 t[TIMEFMT_LEN], err[256];

	buf_printf(out, ",\"source\":\"%s\"", pf->used == STS_L2_NONE ?
	    "local" : "fleet");
	if (pf->used != STS_L2_NONE)
		buf_printf(out, ",\"fleet_use\":\"%s\"", pf->cached ? "cached" :
		    pf->used == STS_L2_FRESH ? "fresh" : "base");
	buf_puts(out, ",\"fleet\":{");
	if ((v = read_entry(pf, domain, &pttl, err, sizeof(err))) == NULL) {
		buf_puts(out, "\"error\":");
		buf_json_str(out, err);
	} else if (v->type != REDIS_REPLY_STRING ||
	    fleet_pol_parse(v->str, v->len, &st) != 0) {
		buf_puts(out, v->type == REDIS_REPLY_NIL ?
		    "\"status\":\"none\"" : "\"status\":\"unreadable\"");
	} else {
		buf_printf(out, "\"status\":\"%s\"", st.st_policy != NULL ?
		    "policy" : "no-policy");
		if (st.st_policy != NULL) {
			buf_puts(out, ",\"id\":");
			buf_json_str(out, st.st_id);
			buf_puts(out, ",\"policy\":");
			sts_policy_json(st.st_policy, out);
			buf_printf(out, ",\"fetched\":\"%s\"",
			    timefmt_rfc3339(st.st_fetched, t));
		} else if (st.st_reason != NULL) {
			buf_puts(out, ",\"reason\":");
			buf_json_str(out, st.st_reason);
		}
		buf_printf(out, ",\"checked\":\"%s\"",
		    timefmt_rfc3339(st.st_checked, t));
		if (pttl > 0)
			buf_printf(out, ",\"expires\":\"%s\"", timefmt_rfc3339(
			    clock_now() + (time_t)(pttl / 1000), t));
		sts_state_clear(&st);
	}
	buf_putc(out, '}');
	fleet_reply_free(v);
}

void
stsctl_pfleet_free(struct stsctl_pfleet *pf)
{
	if (pf == NULL)
		return;
	fleet_redis_free(pf->r);
	free(pf);
}
