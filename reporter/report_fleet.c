/*
 * report_fleet.c - tlsrpt-reporter in fleet mode (report_fleet.h): the
 * run, its days and what they wait for, retention, and the steps every
 * module shares (report_fleet_impl.h)
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "fleet_rpt.h"
#include "log.h"
#include "report_fleet_impl.h"
#include "report_prune.h"
#include "statedir.h"
#include "timefmt.h"
#include "xmalloc.h"

void
report_fleet_rc(struct frun *r, int rc)
{
	r->rc = report_run_rc(r->rc, rc);
}

/* report_fleet_stop - a Redis error or a lost lease ends the run: the
 * next run (or the reporter that leads now) carries on */
void
report_fleet_stop(struct frun *r, enum fleet_rpt_rc rc, const char *what,
    const struct buf *why)
{
	if (r->stop)
		return;
	r->stop = 1;
	if (rc == FR_FENCED)
		log_warnx("fleet: lost the reporter lease (%s): %s; stopping, "
		    "the reporter that holds it now carries on", what,
		    buf_str(why));
	else
		log_warnx("fleet: Redis: %s: %s; stopping, the next run "
		    "carries on", what, buf_str(why));
	report_fleet_rc(r, EX_TEMPFAIL);
}

enum report_fleet_ready
report_fleet_ready(const char *day, time_t now, long grace, size_t n,
    char *const *nodes, char *const *closed, struct buf *missing)
{
	time_t	start;
	size_t	i, nmiss = 0;

	for (i = 0; i < n; i++)
		if (closed[i] == NULL || strcmp(closed[i], day) < 0) {
			buf_printf(missing, "%s%s", nmiss++ ? " " : "",
			    nodes[i]);
		}
	if (nmiss == 0)
		return FLEET_DAY_READY;
	if (timefmt_parse(day, &start) != 0)
		return FLEET_DAY_WAIT;
	return now >= start + 86400 + grace ? FLEET_DAY_OVERDUE :
	    FLEET_DAY_WAIT;
}

/* report_fleet_hset - HSET key field value, fenced; 0 or -1 (the run
 * stopped) */
int
report_fleet_hset(struct frun *r, const char *key, const char *field,
    const char *val)
{
	struct buf		why = BUF_INIT;
	const char		*av[2] = { field, val };
	enum fleet_rpt_rc	rc;

	rc = fleet_rpt_fenced(&r->fr, &why, "HSET", key, 2, av, NULL);
	if (rc != FR_OK)
		report_fleet_stop(r, rc, key, &why);
	buf_free(&why);
	return rc == FR_OK ? 0 : -1;
}

/* process_day - wait, build, deliver, late records */
static void
process_day(struct frun *r, const char *day)
{
	struct buf		 why = BUF_INIT, missing = BUF_INIT;
	redisReply		*rep;
	char			 k[FLEET_KEY_MAX], **nodes = NULL, **closed = NULL,
				**doms = NULL, t[32];
	size_t			 n, nd = 0, i;
	int			 done, all = 1;

	n = report_fleet_day_nodes(r, day, &nodes, &why);
	if (buf_str(&why)[0]) {
		report_fleet_stop(r, FR_ERR, "the day's nodes", &why);
		goto out;
	}
	if (r->o->dry_run) {
		if (fleet_rpt_hget_ll(&r->fr, fleet_rpt_key(&r->fr, k,
		    "rpt:%s", day), "built", 0) > 0)
			fprintf(r->o->out, "day %s: reports built already "
			    "(stsctl reports shows them)\n", day);
		else
			report_fleet_day_dry(r, day, n, nodes);
		goto out;
	}
	fleet_rpt_key(&r->fr, k, "rpt:%s", day);
	if (fleet_rpt_hget_ll(&r->fr, k, "final", 0) > 0 &&
	    r->o->day == NULL) {
		report_fleet_day_late(r, day, n, nodes);
		goto out;
	}
	r->st->days++;
	rep = fleet_rpt_do(&r->fr, &why, "EXISTS", fleet_rpt_key(&r->fr, k, "rpt:%s:done", day), NULL);
	if (rep == NULL) {
		report_fleet_stop(r, FR_ERR, k, &why);
		goto out;
	}
	done = rep->integer == 1;
	fleet_reply_free(rep);
	if (!done) {
		closed = report_fleet_day_closed(r, n, nodes);
		switch (report_fleet_ready(day, r->o->now, r->fc->grace, n,
		    nodes, closed, &missing)) {
		case FLEET_DAY_WAIT:
			log_info("fleet: day=%s: waiting for nodes to close "
			    "the day: %s", day, buf_str(&missing));
			r->st->waiting++;
			report_fleet_rc(r, EX_TEMPFAIL);
			goto out;
		case FLEET_DAY_OVERDUE:
			log_warnx("fleet: day=%s: fleet_report_grace is over; "
			    "reporting without the day's end from: %s", day,
			    buf_str(&missing));
			break;
		case FLEET_DAY_READY:
			break;
		}
		if (!report_fleet_day_build(r, day, n, nodes,
		    buf_str(&missing)))
			goto out;
	}
	rep = fleet_rpt_do(&r->fr, &why, "SMEMBERS", fleet_rpt_key(&r->fr, k, "rpt:%s:domains", day), NULL);
	nd = fleet_rpt_strings(rep, &doms);
	if (rep != NULL)
		fleet_reply_free(rep);
	for (i = 0; i < nd && !r->stop; i++) {
		if (r->o->only_domain != NULL &&
		    strcmp(doms[i], r->o->only_domain) != 0)
			continue;
		if (!report_fleet_send_one(r, day, doms[i]))
			all = 0;
	}
	if (r->stop)
		goto out;
	report_fleet_day_late(r, day, n, nodes);
	if (all && r->o->only_domain == NULL) {
		snprintf(t, sizeof(t), "%lld", (long long)r->o->now);
		(void)report_fleet_hset(r, fleet_rpt_key(&r->fr, k, "rpt:%s",
		    day), "final", t);
	}
out:
	fleet_rpt_strings_free(nodes, n);
	fleet_rpt_strings_free(closed, n);
	fleet_rpt_strings_free(doms, nd);
	buf_free(&why);
	buf_free(&missing);
}

/* days - days some node shipped or with report state, sorted, unique */
static size_t
days(struct frun *r, char ***out)
{
	struct buf	 why = BUF_INIT;
	redisReply	*rep;
	char		 k[FLEET_KEY_MAX], pat[FLEET_KEY_MAX], **v, **a,
			 cursor[32] = "0";
	size_t		 n = 0, cap = 16, na, i, pl;

	v = xreallocarray(NULL, cap, sizeof(*v));
	fleet_rpt_key(&r->fr, pat, "day:*:nodes");
	pl = strlen(r->fr.prefix) + 4;
	do {
		rep = fleet_rpt_do(&r->fr, &why, "SCAN", cursor, "MATCH", pat, "COUNT", "1000", NULL);
		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements != 2) {
			if (rep != NULL)
				fleet_reply_free(rep);
			report_fleet_stop(r, FR_ERR, "SCAN", &why);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			const char *key = rep->element[1]->element[i]->str;

			if (strlen(key) < pl + 10)
				continue;
			if (n == cap)
				v = xreallocarray(v, cap *= 2, sizeof(*v));
			v[n++] = xstrndup(key + pl, 10);
		}
		fleet_reply_free(rep);
	} while (strcmp(cursor, "0") != 0);
	rep = fleet_rpt_do(&r->fr, &why, "SMEMBERS", fleet_rpt_key(&r->fr, k, "rpt:days"), NULL);
	na = fleet_rpt_strings(rep, &a);
	if (rep != NULL)
		fleet_reply_free(rep);
	for (i = 0; i < na; i++) {
		if (n == cap)
			v = xreallocarray(v, cap *= 2, sizeof(*v));
		v[n++] = a[i];
	}
	free(a);
	a = v;
	n = fleet_rpt_dedup(a, n);
	buf_free(&why);
	*out = a;
	return n;
}

/* retention - the Redis keys of final days older than journal_retention */
static void
retention(struct frun *r, char **dv, size_t nd)
{
	struct buf	 why = BUF_INIT;
	redisReply	*rep;
	char		 k[FLEET_KEY_MAX], **names;
	size_t		 i, j, n;
	time_t		 t;

	for (i = 0; i < nd && !r->stop; i++) {
		if (timefmt_parse(dv[i], &t) != 0 || t + 86400LL *
		    (r->x->conf->journal_retention + 1) > r->o->now ||
		    fleet_rpt_hget_ll(&r->fr, fleet_rpt_key(&r->fr, k,
		    "rpt:%s", dv[i]), "final", 0) == 0)
			continue;
		n = report_fleet_day_nodes(r, dv[i], &names, &why);
		for (j = 0; j < n; j++) {
			rep = fleet_rpt_do(&r->fr, &why, "UNLINK", fleet_rpt_key(&r->fr, k, "j:%s:%s", dv[i],
			    names[j]), NULL);
			if (rep != NULL)
				fleet_reply_free(rep);
		}
		fleet_rpt_strings_free(names, n);
		rep = fleet_rpt_do(&r->fr, &why, "SMEMBERS", fleet_rpt_key(&r->fr, k, "rpt:%s:domains", dv[i]), NULL);
		n = fleet_rpt_strings(rep, &names);
		if (rep != NULL)
			fleet_reply_free(rep);
		for (j = 0; j < n; j++) {
			rep = fleet_rpt_do(&r->fr, &why, "UNLINK", fleet_rpt_key(&r->fr, k, "rpt:%s:%s", dv[i],
			    names[j]), NULL);
			if (rep != NULL)
				fleet_reply_free(rep);
		}
		fleet_rpt_strings_free(names, n);
		{
			static const char *const tails[] = { ":domains",
			    ":done", ":nodes", "" };

			for (j = 0; j < 4; j++) {
				if (j == 2)
					fleet_rpt_key(&r->fr, k,
					    "day:%s:nodes", dv[i]);
				else
					fleet_rpt_key(&r->fr, k, "rpt:%s%s",
					    dv[i], tails[j]);
				rep = fleet_rpt_do(&r->fr, &why, "UNLINK", k, NULL);
				if (rep != NULL)
					fleet_reply_free(rep);
			}
		}
		rep = fleet_rpt_do(&r->fr, &why, "SREM", fleet_rpt_key(&r->fr, k, "rpt:days"), dv[i], NULL);
		if (rep != NULL)
			fleet_reply_free(rep);
		r->st->removed_days++;
		log_info("fleet: day=%s: reports final, its records and report "
		    "state older than journal_retention removed from Redis",
		    dv[i]);
	}
	buf_free(&why);
}

/*
 * local_prune - this node's own journal and policy archive, as in
 * single-host mode (report_prune.h): its days reach Redis through the
 * shipper and are reported from there, so a day older than
 * journal_retention (which the shipper no longer ships) is removed
 * here, then the archived policy texts no kept day names.  Done at
 * every run of every node's reporter, whether it leads or not.
 */
static void
local_prune(struct frun *r)
{
	const struct conf	*c = r->x->conf;
	int			 days;

	days = report_prune_journal(c->state_dir, r->o->now,
	    c->journal_retention);
	if (days <= 0)
		return;
	log_info("fleet: %d journal days of this node older than "
	    "journal_retention removed", days);
	report_run_prune_archive(c, r->o->now, r->st);
}

/* lock_local - one fleet reporter per host: an flock()ed file */
static int
lock_local(struct frun *r)
{
	char	*rdir = statedir_reporter(r->x->conf->state_dir);
	int	 fd = report_run_lock(rdir, "fleet.lock", &r->rc);

	free(rdir);
	return fd;
}

int
report_fleet_run(const struct report_run_opts *o,
    const struct report_fleet_conf *fc, struct fleet_redis *redis,
    struct report_make_ctx *x, struct report_send *s,
    struct report_run_stats *st)
{
	struct frun	 r;
	struct buf	 why = BUF_INIT;
	char		**dv = NULL, *rdir;
	size_t		  nd = 0, i;
	time_t		  t, day0 = timefmt_day_start(o->now);
	int		  lockfd = -1, got;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.fc = fc;
	r.x = x;
	r.s = s;
	r.st = st;
	r.rc = EX_OK;
	rdir = statedir_reporter(x->conf->state_dir);
	r.mdir = xasprintf("%s/fleet", rdir);
	free(rdir);
	fleet_rpt_init(&r.fr, redis, fc->budget_ms, fc->prefix, fc->node,
	    fc->lease_ms);
	x->ptext_load = report_fleet_agg_ptext;
	x->ptext_arg = &r.fr;

	if (o->day != NULL && (timefmt_parse(o->day, &t) != 0 ||
	    strlen(o->day) != 10 || t + 86400 > o->now)) {
		log_warnx("--day %s: not a finished UTC day (YYYY-MM-DD)",
		    o->day);
		r.rc = EX_DATAERR;
		goto out;
	}
	if (!o->dry_run) {
		if ((lockfd = lock_local(&r)) < 0)
			goto out;
		local_prune(&r);
		/* we hold the host's lock: a lease in our own name is a
		 * dead run's (killed mid-send), so take it over */
		if ((got = fleet_rpt_lease_take(&r.fr, 1, &why)) != 1) {
			if (got == 0)
				log_warnx("fleet: another reporter leads (%s); "
				    "nothing done", buf_str(&why));
			else
				log_warnx("fleet: Redis: %s; nothing done",
				    buf_str(&why));
			r.rc = EX_TEMPFAIL;
			goto out;
		}
		log_debug(LOG_LEVEL_EVENTS, "fleet: lease %s taken",
		    r.fr.lease_val);
	}
	st->ran = 1;
	if (o->day != NULL)
		process_day(&r, o->day);
	else {
		nd = days(&r, &dv);
		for (i = 0; i < nd && !r.stop; i++)
			if (timefmt_parse(dv[i], &t) == 0 && t < day0)
				process_day(&r, dv[i]);
		if (!o->dry_run) {
			retention(&r, dv, nd);
			report_fleet_mirror_retention(&r);
		}
	}
	if (st->pending > 0)
		report_fleet_rc(&r, EX_TEMPFAIL);
	if (!o->dry_run)
		log_info("run: fleet node=%s days=%u records=%lu sessions=%lu "
		    "own_reports_skipped=%lu built=%u delivered=%u pending=%u "
		    "gaveup=%u no_rua=%u sends_ok=%u sends_failed=%u "
		    "waiting_days=%u late_records=%lu", fc->node, st->days,
		    st->records, st->sessions, st->own_reports, st->built,
		    st->delivered, st->pending, st->gaveup, st->norua,
		    st->sends_ok, st->sends_failed, st->waiting, st->late);
	fleet_rpt_lease_drop(&r.fr);
out:
	fleet_rpt_strings_free(dv, nd);
	if (lockfd >= 0)
		close(lockfd);
	free(r.mdir);
	buf_free(&why);
	x->ptext_load = NULL;
	x->ptext_arg = NULL;
	return r.rc;
}
