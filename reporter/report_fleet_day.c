/*
 * report_fleet_day.c - one day of the fleet: its nodes and their
 * watermarks, the record counts fixed before the first build, building
 * and storing every report, --dry-run, late records
 * (report_fleet_impl.h)
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fleet_rpt.h"
#include "log.h"
#include "report_fleet_impl.h"
#include "timefmt.h"
#include "xmalloc.h"

/* report_fleet_day_nodes - the nodes that shipped day, sorted */
size_t
report_fleet_day_nodes(struct frun *r, const char *day, char ***nodes,
    struct buf *why)
{
	redisReply	*rep;
	char		 k[FLEET_KEY_MAX];
	size_t		 n;

	rep = fleet_rpt_do(&r->fr, why, "SMEMBERS", fleet_rpt_key(&r->fr, k, "day:%s:nodes", day), NULL);
	n = fleet_rpt_strings(rep, nodes);
	if (rep != NULL)
		fleet_reply_free(rep);
	return n;
}

/* report_fleet_day_closed - P closed:<node> of each node ("" when none) */
char **
report_fleet_day_closed(struct frun *r, size_t n, char *const *nodes)
{
	struct buf	 why = BUF_INIT;
	redisReply	*rep;
	char		 k[FLEET_KEY_MAX], **v;
	size_t		 i;

	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		rep = fleet_rpt_do(&r->fr, &why, "GET", fleet_rpt_key(&r->fr, k, "closed:%s", nodes[i]), NULL);
		v[i] = xstrdup(rep != NULL && rep->type == REDIS_REPLY_STRING ?
		    rep->str : "");
		if (rep != NULL)
			fleet_reply_free(rep);
	}
	buf_free(&why);
	return v;
}

/* fix_upto - the number of records of each node taken into the day's
 * reports: written once (HSETNX), so every rerun takes the same */
static int
fix_upto(struct frun *r, const char *day, size_t n, char *const *nodes,
    long long *upto)
{
	struct buf		 why = BUF_INIT;
	redisReply		*rep;
	enum fleet_rpt_rc	 rc;
	char			 kd[FLEET_KEY_MAX], kl[FLEET_KEY_MAX], f[300],
				 v[32];
	const char		*av[2];
	size_t			 i;

	fleet_rpt_key(&r->fr, kd, "rpt:%s", day);
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "upto:%s", nodes[i]);
		if ((upto[i] = fleet_rpt_hget_ll(&r->fr, kd, f, -1)) >= 0)
			continue;
		rep = fleet_rpt_do(&r->fr, &why, "LLEN", fleet_rpt_key(&r->fr, kl, "j:%s:%s", day, nodes[i]), NULL);
		if (rep == NULL) {
			report_fleet_stop(r, FR_ERR, kl, &why);
			buf_free(&why);
			return -1;
		}
		snprintf(v, sizeof(v), "%lld", rep->integer);
		fleet_reply_free(rep);
		av[0] = f;
		av[1] = v;
		rc = fleet_rpt_fenced(&r->fr, &why, "HSETNX", kd, 2, av, NULL);
		if (rc != FR_OK) {
			report_fleet_stop(r, rc, kd, &why);
			buf_free(&why);
			return -1;
		}
		upto[i] = fleet_rpt_hget_ll(&r->fr, kd, f, 0);
	}
	buf_free(&why);
	return 0;
}

/* store_one - build (or take from the mirror) and store one report */
static void
store_one(struct frun *r, const char *day, const struct report_domain *d)
{
	struct report_made	 m;
	struct report_state	 s;
	struct buf		 why = BUF_INIT, st = BUF_INIT, gz = BUF_INIT;
	char			 k[FLEET_KEY_MAX];
	redisReply		*rep;
	int			 k2;

	rep = fleet_rpt_do(&r->fr, &why, "EXISTS", fleet_rpt_key(&r->fr, k, "rpt:%s:%s", day, d->d_name), NULL);
	if (rep == NULL) {
		report_fleet_stop(r, FR_ERR, k, &why);
		goto out0;
	}
	k2 = rep->integer == 1;
	fleet_reply_free(rep);
	if (k2)
		goto out0;		/* stored by an earlier run */
	memset(&m, 0, sizeof(m));
	if (report_fleet_mirror_load(r, day, d->d_name, &gz, &s)) {
		log_info("fleet: day=%s domain=%s report_id=%s: restored from "
		    "the local mirror (Redis had lost it)", day, d->d_name,
		    s.report_id);
	} else {
		if (report_make(r->x, day, d, &m, &why) != ST_OK) {
			log_err("day=%s domain=%s: cannot build the report: %s",
			    day, d->d_name, buf_str(&why));
			report_fleet_rc(r, EX_SOFTWARE);
			report_make_clear(&m);
			goto out0;
		}
		report_run_state_new(&s, &m, r->o->now);
		buf_append(&gz, m.gz.b_data, m.gz.b_len);
	}
	report_state_format(&s, &st);
	switch (fleet_rpt_store(&r->fr, &why, day, d->d_name, s.report_id,
	    gz.b_data, gz.b_len, s.built, buf_str(&st))) {
	case 1:
		r->st->built++;
		log_debug(LOG_LEVEL_EVENTS, "day=%s domain=%s report_id=%s "
		    "built", day, d->d_name, s.report_id);
		break;
	case 0:
		break;
	case -1:
		report_fleet_stop(r, FR_FENCED, "storing a report", &why);
		break;
	default:
		report_fleet_stop(r, FR_ERR, "storing a report", &why);
	}
	report_make_clear(&m);
	report_state_clear(&s);
out0:
	buf_free(&why);
	buf_free(&st);
	buf_free(&gz);
}

/* report_fleet_day_build - aggregate all nodes' records and store every
 * report */
int
report_fleet_day_build(struct frun *r, const char *day, size_t n,
    char *const *nodes,
    const char *missing)
{
	struct report_agg	 *agg;
	struct report_domain	**doms;
	struct buf		  why = BUF_INIT;
	long long		 *upto;
	unsigned long		  bad = 0;
	char			  k[FLEET_KEY_MAX], t[32];
	size_t			  nd, i;
	int			  ok = 0;

	upto = xcalloc(n + 1, sizeof(*upto));
	if (fix_upto(r, day, n, nodes, upto) != 0)
		goto out;
	agg = report_agg_new(r->o->only_domain);
	if (!r->x->conf->report_sending_ip)
		report_agg_omit_sending_ip(agg);
	if (report_fleet_aggregate(&r->fr, day, n, nodes, upto, agg, &bad,
	    &why) != 0) {
		report_fleet_stop(r, FR_ERR, "reading the shipped records",
		    &why);
		report_agg_free(agg);
		goto out;
	}
	if (bad > 0)
		log_warnx("fleet: day=%s: skipped %lu corrupt shipped records",
		    day, bad);
	nd = report_run_domains(r->st, r->x, agg, bad, "fleet: ", day,
	    "in Redis", &doms);
	for (i = 0; i < nd && !r->stop; i++)
		store_one(r, day, doms[i]);
	report_agg_free(agg);
	if (r->stop || r->o->only_domain != NULL)
		goto out;
	fleet_rpt_key(&r->fr, k, "rpt:%s", day);
	snprintf(t, sizeof(t), "%lld", (long long)r->o->now);
	if (report_fleet_hset(r, k, "built", t) != 0 ||
	    report_fleet_hset(r, k, "missing", missing) != 0)
		goto out;
	{
		const char		*av[1] = { t };
		enum fleet_rpt_rc	 rc;

		rc = fleet_rpt_fenced(&r->fr, &why, "SET",
		    fleet_rpt_key(&r->fr, k, "rpt:%s:done", day), 1, av, NULL);
		if (rc != FR_OK) {
			report_fleet_stop(r, rc, k, &why);
			goto out;
		}
	}
	log_info("fleet: day=%s: %zu reports built from %zu nodes%s%s", day,
	    nd, n, missing[0] ? "; not closed by: " : "", missing);
	ok = 1;
out:
	free(upto);
	buf_free(&why);
	return ok;
}

/* report_fleet_day_dry - --dry-run: build from Redis and print, write
 * nothing */
void
report_fleet_day_dry(struct frun *r, const char *day, size_t n,
    char *const *nodes)
{
	struct report_agg	 *agg;
	struct report_domain	**doms;
	struct report_made	  m;
	struct buf		  why = BUF_INIT;
	long long		 *upto = xcalloc(n + 1, sizeof(*upto));
	unsigned long		  bad = 0;
	char			  k[FLEET_KEY_MAX], f[300];
	size_t			  nd, i;

	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "upto:%s", nodes[i]);
		upto[i] = fleet_rpt_hget_ll(&r->fr, fleet_rpt_key(&r->fr, k,
		    "rpt:%s", day), f, -1);
		if (upto[i] < 0) {
			redisReply *rep = fleet_rpt_do(&r->fr, &why, "LLEN",
			    fleet_rpt_key(&r->fr, k, "j:%s:%s", day, nodes[i]),
			    NULL);

			upto[i] = rep != NULL ? rep->integer : 0;
			if (rep != NULL)
				fleet_reply_free(rep);
		}
	}
	agg = report_agg_new(r->o->only_domain);
	if (!r->x->conf->report_sending_ip)
		report_agg_omit_sending_ip(agg);
	if (report_fleet_aggregate(&r->fr, day, n, nodes, upto, agg, &bad,
	    &why) != 0)
		report_fleet_stop(r, FR_ERR, "reading the shipped records",
		    &why);
	nd = report_agg_domains(agg, &doms);
	report_make_ctx_attach(r->x, doms, nd);
	for (i = 0; i < nd && !r->stop; i++) {
		buf_reset(&why);
		if (report_make(r->x, day, doms[i], &m, &why) == ST_OK)
			report_run_dry_print(r->o, r->x, r->s, &m);
		report_make_clear(&m);
	}
	report_agg_free(agg);
	free(upto);
	buf_free(&why);
}

/* report_fleet_day_late - the day is built: its records leave Redis (each node
 * keeps its journal), counted in gone:<node>; records shipped after the
 * build are late: counted, logged once per new batch, in no report */
void
report_fleet_day_late(struct frun *r, const char *day, size_t n,
    char *const *nodes)
{
	struct buf	 why = BUF_INIT;
	char		 kd[FLEET_KEY_MAX], f[300], v[32];
	long long	 upto, logged, late, gone;
	size_t		 i;

	fleet_rpt_key(&r->fr, kd, "rpt:%s", day);
	for (i = 0; i < n && !r->stop; i++) {
		snprintf(f, sizeof(f), "upto:%s", nodes[i]);
		upto = fleet_rpt_hget_ll(&r->fr, kd, f, 0);
		buf_reset(&why);
		if ((gone = fleet_rpt_drop_list(&r->fr, &why, day,
		    nodes[i])) < 0) {
			report_fleet_stop(r, gone == -1 ? FR_FENCED : FR_ERR,
			    "removing a built day's records", &why);
			break;
		}
		late = gone > upto ? gone - upto : 0;
		snprintf(f, sizeof(f), "late:%s", nodes[i]);
		logged = fleet_rpt_hget_ll(&r->fr, kd, f, 0);
		r->st->late += (unsigned long)late;
		if (late <= logged)
			continue;
		log_warnx("fleet: day=%s node=%s: %lld records shipped after "
		    "the day's reports were built (%lld new); they are in no "
		    "report (stsctl reports shows them)", day, nodes[i], late,
		    late - logged);
		snprintf(v, sizeof(v), "%lld", late);
		(void)report_fleet_hset(r, kd, f, v);
	}
	buf_free(&why);
}
