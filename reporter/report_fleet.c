/*
 * report_fleet.c - tlsrpt-reporter in fleet mode (report_fleet.h)
 *
 * Local files, under <state_dir>/reporter/:
 *	fleet.lock			flock()ed for the run (one per host)
 *	fleet/<day>/<domain>.json.gz	the mirror of a report that reached
 *	fleet/<day>/<domain>.state	a destination (written before Redis)
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fleet_rpt.h"
#include "fsutil.h"
#include "journal_fmt.h"
#include "log.h"
#include "report_fleet.h"
#include "report_prune.h"
#include "report_state.h"
#include "statedir.h"
#include "timefmt.h"
#include "tlsrpt_txt.h"
#include "xmalloc.h"

#define CHUNK		10000		/* records per LRANGE */
#define PIPE		4		/* LRANGEs per round trip */
#define GZ_MAX		(64 * 1024 * 1024)

struct frun {
	const struct report_run_opts	*o;
	const struct report_fleet_conf	*fc;
	struct fleet_rpt		 fr;
	struct report_make_ctx		*x;
	struct report_send		*s;
	struct report_run_stats		*st;
	char				*mdir;		/* the local mirror */
	int				 rc;
	int				 stop;		/* lease lost, Redis gone */
};

static void
rc_raise(struct frun *r, int rc)
{
	if (r->rc == EX_OK || (r->rc == EX_TEMPFAIL && rc != EX_OK))
		r->rc = rc;
}

/* redis_failed - a Redis error or a lost lease ends the run: the next
 * run (or the reporter that leads now) carries on */
static void
redis_failed(struct frun *r, enum fleet_rpt_rc rc, const char *what,
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
	rc_raise(r, EX_TEMPFAIL);
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

/* ptext_load - a policy text from P ptext:<hash>, if its hash matches
 * (the shipped text is checked as the archive's would be) */
static char *
ptext_load(void *arg, const char *hash, size_t *len)
{
	struct fleet_rpt	*fr = arg;
	struct buf		 why = BUF_INIT;
	redisReply		*rep;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	char			 k[FLEET_KEY_MAX], hex[65], *text = NULL;

	rep = fleet_rpt_do(fr, &why, "GET", fleet_rpt_key(fr, k, "ptext:%s", hash), NULL);
	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		EVP_Digest(rep->str, rep->len, md, &mdlen, EVP_sha256(), NULL);
		for (i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		hex[64] = '\0';
		if (strcmp(hex, hash) == 0) {
			text = xstrndup(rep->str, rep->len);
			*len = rep->len;
		}
	}
	if (rep != NULL)
		fleet_reply_free(rep);
	buf_free(&why);
	return text;
}

/* add_lines - decode and count every line of one LRANGE reply */
static void
add_lines(redisReply *rep, struct report_agg *agg, unsigned long *bad)
{
	struct journal_rec	rec;
	struct buf		why = BUF_INIT;
	size_t			i;

	for (i = 0; i < rep->elements; i++) {
		redisReply *e = rep->element[i];

		if (e->type != REDIS_REPLY_STRING ||
		    journal_decode(e->str, e->len, &rec, &why) != ST_OK) {
			(*bad)++;
			buf_reset(&why);
			continue;
		}
		report_agg_add(agg, &rec);
	}
	buf_free(&why);
}

int
report_fleet_aggregate(struct fleet_rpt *fr, const char *day, size_t n,
    char *const *nodes, const long long *upto, struct report_agg *agg,
    unsigned long *bad, struct buf *why)
{
	struct fleet_cmd	 cmds[PIPE];
	redisReply		*reps[PIPE];
	const char		*argv[PIPE][4];
	char			 k[FLEET_KEY_MAX], from[PIPE][24], to[PIPE][24],
				 e[256];
	long long		 at, want;
	size_t			 i;
	int			 nc, c, short_list;

	for (i = 0; i < n; i++) {
		fleet_rpt_key(fr, k, "j:%s:%s", day, nodes[i]);
		for (at = 0; at < upto[i]; ) {
			/* PIPE LRANGEs of CHUNK records in one round trip */
			want = at;
			for (nc = 0; nc < PIPE && want < upto[i]; nc++) {
				long long end = want + CHUNK < upto[i] ?
				    want + CHUNK : upto[i];

				snprintf(from[nc], sizeof(from[nc]), "%lld",
				    want);
				snprintf(to[nc], sizeof(to[nc]), "%lld",
				    end - 1);
				argv[nc][0] = "LRANGE";
				argv[nc][1] = k;
				argv[nc][2] = from[nc];
				argv[nc][3] = to[nc];
				cmds[nc].argc = 4;
				cmds[nc].argv = argv[nc];
				cmds[nc].lens = NULL;
				want = end;
			}
			if (fleet_redis_pipeline(fr->r, fr->budget_ms, nc, cmds,
			    reps) != 0) {
				fleet_redis_last_error(fr->r, e, sizeof(e));
				buf_printf(why, "redis: %s", e);
				return -1;
			}
			short_list = 0;
			for (c = 0; c < nc; c++) {
				if (reps[c]->type != REDIS_REPLY_ARRAY)
					short_list = 1;
				else {
					add_lines(reps[c], agg, bad);
					at += (long long)reps[c]->elements;
					if (reps[c]->elements == 0)
						short_list = 1;
				}
				fleet_reply_free(reps[c]);
			}
			/* fewer records than fixed (Redis lost data): stop */
			if (short_list && at < upto[i]) {
				buf_printf(why, "%s holds fewer records than "
				    "the %lld fixed for the reports", k,
				    upto[i]);
				return -1;
			}
		}
	}
	return 0;
}

/* day_nodes - the nodes that shipped day, sorted */
static size_t
day_nodes(struct frun *r, const char *day, char ***nodes, struct buf *why)
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

/* closed_days - P closed:<node> of each node ("" when none) */
static char **
closed_days(struct frun *r, size_t n, char *const *nodes)
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

/* hfield - HSET key field value, fenced; 0 or -1 (run stopped) */
static int
hfield(struct frun *r, const char *key, const char *field, const char *val)
{
	struct buf		why = BUF_INIT;
	const char		*av[2] = { field, val };
	enum fleet_rpt_rc	rc;

	rc = fleet_rpt_fenced(&r->fr, &why, "HSET", key, 2, av, NULL);
	if (rc != FR_OK)
		redis_failed(r, rc, key, &why);
	buf_free(&why);
	return rc == FR_OK ? 0 : -1;
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
			redis_failed(r, FR_ERR, kl, &why);
			buf_free(&why);
			return -1;
		}
		snprintf(v, sizeof(v), "%lld", rep->integer);
		fleet_reply_free(rep);
		av[0] = f;
		av[1] = v;
		rc = fleet_rpt_fenced(&r->fr, &why, "HSETNX", kd, 2, av, NULL);
		if (rc != FR_OK) {
			redis_failed(r, rc, kd, &why);
			buf_free(&why);
			return -1;
		}
		upto[i] = fleet_rpt_hget_ll(&r->fr, kd, f, 0);
	}
	buf_free(&why);
	return 0;
}

/* mirror_paths - the local mirror of one report */
static void
mirror_paths(struct frun *r, const char *day, const char *domain,
    char **gzp, char **stp)
{
	*gzp = xasprintf("%s/%s/%s.json.gz", r->mdir, day, domain);
	*stp = xasprintf("%s/%s/%s.state", r->mdir, day, domain);
}

/* mirror_save - the report's bytes and state on local disk, before the
 * delivery is recorded in Redis: a Redis that loses it cannot make us
 * resend */
static int
mirror_save(struct frun *r, const char *day, const char *domain,
    const struct buf *gz, const struct report_state *s)
{
	struct buf	 why = BUF_INIT;
	char		*dd, *gzp, *stp;
	int		 rc = 0;

	dd = xasprintf("%s/%s", r->mdir, day);
	mirror_paths(r, day, domain, &gzp, &stp);
	if (fs_mkdir_p(dd, 0750) != 0 || (access(gzp, F_OK) != 0 &&
	    fs_write_atomic(gzp, gz->b_data, gz->b_len, 0640,
	    FS_SYNC_FULL) != 0) || report_state_save(stp, s, &why) != ST_OK) {
		log_warn("fleet: cannot mirror the report of day=%s domain=%s "
		    "in %s", day, domain, dd);
		rc = -1;
	}
	free(dd);
	free(gzp);
	free(stp);
	buf_free(&why);
	return rc;
}

/* mirror_load - a mirrored report: 1 (gz and s filled), 0 none */
static int
mirror_load(struct frun *r, const char *day, const char *domain,
    struct buf *gz, struct report_state *s)
{
	struct buf	 why = BUF_INIT;
	char		*gzp, *stp, *data;
	size_t		 len = 0;
	int		 ok = 0;

	mirror_paths(r, day, domain, &gzp, &stp);
	memset(s, 0, sizeof(*s));
	if (report_state_load(stp, s, &why) == ST_OK &&
	    (data = fs_read_regular(gzp, GZ_MAX, &len, NULL)) != NULL) {
		buf_reset(gz);
		buf_append(gz, data, len);
		free(data);
		ok = 1;
	} else
		report_state_clear(s);
	free(gzp);
	free(stp);
	buf_free(&why);
	return ok;
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
		redis_failed(r, FR_ERR, k, &why);
		goto out0;
	}
	k2 = rep->integer == 1;
	fleet_reply_free(rep);
	if (k2)
		goto out0;		/* stored by an earlier run */
	memset(&m, 0, sizeof(m));
	if (mirror_load(r, day, d->d_name, &gz, &s)) {
		log_info("fleet: day=%s domain=%s report_id=%s: restored from "
		    "the local mirror (Redis had lost it)", day, d->d_name,
		    s.report_id);
	} else {
		if (report_make(r->x, day, d, &m, &why) != ST_OK) {
			log_err("day=%s domain=%s: cannot build the report: %s",
			    day, d->d_name, buf_str(&why));
			rc_raise(r, EX_SOFTWARE);
			report_make_clear(&m);
			goto out0;
		}
		memset(&s, 0, sizeof(s));
		snprintf(s.report_id, sizeof(s.report_id), "%s", m.report_id);
		s.built = r->o->now;
		s.nsuccess = m.nsuccess;
		s.nfailure = m.nfailure;
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
		redis_failed(r, FR_FENCED, "storing a report", &why);
		break;
	default:
		redis_failed(r, FR_ERR, "storing a report", &why);
	}
	report_make_clear(&m);
	report_state_clear(&s);
out0:
	buf_free(&why);
	buf_free(&st);
	buf_free(&gz);
}

/* build_day - aggregate all nodes' records and store every report */
static int
build_day(struct frun *r, const char *day, size_t n, char *const *nodes,
    const char *missing)
{
	struct report_agg	 *agg;
	struct report_domain	**doms;
	struct buf		  why = BUF_INIT;
	long long		 *upto;
	unsigned long		  bad = 0, pmiss;
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
		redis_failed(r, FR_ERR, "reading the shipped records", &why);
		report_agg_free(agg);
		goto out;
	}
	if (bad > 0)
		log_warnx("fleet: day=%s: skipped %lu corrupt shipped records",
		    day, bad);
	r->st->records += report_agg_stats(agg)->records;
	r->st->sessions += report_agg_stats(agg)->sessions;
	r->st->own_reports += report_agg_stats(agg)->own_reports;
	r->st->bad += report_agg_stats(agg)->bad + bad;
	nd = report_agg_domains(agg, &doms);
	pmiss = r->x->ptext_missing;
	report_make_ctx_attach(r->x, doms, nd);
	if (r->x->ptext_missing > pmiss)
		log_warnx("fleet: day=%s: %lu policy texts missing in Redis "
		    "(policy-string left empty)", day,
		    r->x->ptext_missing - pmiss);
	for (i = 0; i < nd && !r->stop; i++)
		store_one(r, day, doms[i]);
	report_agg_free(agg);
	if (r->stop || r->o->only_domain != NULL)
		goto out;
	fleet_rpt_key(&r->fr, k, "rpt:%s", day);
	snprintf(t, sizeof(t), "%lld", (long long)r->o->now);
	if (hfield(r, k, "built", t) != 0 ||
	    hfield(r, k, "missing", missing) != 0)
		goto out;
	{
		const char		*av[1] = { t };
		enum fleet_rpt_rc	 rc;

		rc = fleet_rpt_fenced(&r->fr, &why, "SET",
		    fleet_rpt_key(&r->fr, k, "rpt:%s:done", day), 1, av, NULL);
		if (rc != FR_OK) {
			redis_failed(r, rc, k, &why);
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

/* save_state - the report's state, fenced; mirror first if it reached a
 * destination */
static int
save_state(struct frun *r, const char *day, const char *domain,
    const struct buf *gz, const struct report_state *s)
{
	struct buf	b = BUF_INIT;
	char		k[FLEET_KEY_MAX];
	int		rc;

	if (report_state_delivered_any(s))
		(void)mirror_save(r, day, domain, gz, s);
	report_state_format(s, &b);
	rc = hfield(r, fleet_rpt_key(&r->fr, k, "rpt:%s:%s", day, domain),
	    "state", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* adopt_mirror - destinations the local mirror has as delivered (Redis
 * lost the record of it) are not sent to again */
static void
adopt_mirror(struct frun *r, const char *day, const char *domain,
    struct report_state *s)
{
	struct report_state	 ms;
	struct buf		 gz = BUF_INIT;
	size_t			 i, j;

	if (!mirror_load(r, day, domain, &gz, &ms))
		return;
	for (i = 0; i < ms.ndest; i++) {
		if (ms.dest[i].st != DEST_DELIVERED)
			continue;
		for (j = 0; j < s->ndest; j++)
			if (s->dest[j].st == DEST_PENDING &&
			    strcmp(s->dest[j].uri, ms.dest[i].uri) == 0) {
				report_state_delivered(&s->dest[j],
				    ms.dest[i].done);
				log_info("fleet: day=%s domain=%s rua=%s: "
				    "delivered before (local mirror); not "
				    "sent again", day, domain, s->dest[j].uri);
			}
	}
	report_state_clear(&ms);
	buf_free(&gz);
}

/* deliver_one - rua and due deliveries of one stored report; 1 final */
static int
deliver_one(struct frun *r, const char *day, const char *domain)
{
	struct report_state	 s;
	struct report_made	 m;
	struct buf		 why = BUF_INIT;
	enum fleet_rpt_rc	 lrc;
	redisReply		*rep;
	char			 k[FLEET_KEY_MAX];
	size_t			 i;
	int			 final = 0, was, kind, gave;
	enum status		 st;

	memset(&s, 0, sizeof(s));
	memset(&m, 0, sizeof(m));
	/* rua lookups and sends take time: the lease must outlast them */
	if ((lrc = fleet_rpt_lease_renew(&r->fr, &why)) != FR_OK) {
		redis_failed(r, lrc, "renewing the lease", &why);
		goto out;
	}
	rep = fleet_rpt_do(&r->fr, &why, "HMGET", fleet_rpt_key(&r->fr, k, "rpt:%s:%s", day, domain), "state", "gz", NULL);
	if (rep == NULL) {
		redis_failed(r, FR_ERR, k, &why);
		goto out;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING ||
	    report_state_parse(rep->element[0]->str, rep->element[0]->len, &s,
	    &why) != ST_OK) {
		log_warnx("fleet: day=%s domain=%s: unreadable report state "
		    "%s", day, domain, buf_str(&why));
		fleet_reply_free(rep);
		rc_raise(r, EX_IOERR);
		goto out;
	}
	report_make_meta(r->x, day, domain, &m);
	snprintf(m.report_id, sizeof(m.report_id), "%.32s", s.report_id);
	buf_append(&m.gz, rep->element[1]->str, rep->element[1]->len);
	fleet_reply_free(rep);
	m.nsuccess = s.nsuccess;
	m.nfailure = s.nfailure;
	if (report_state_final(&s)) {
		final = 1;
		goto out;
	}
	was = report_state_delivered_any(&s);
	if (s.rua != RUA_ST_FOUND) {
		if (s.lk_next > r->o->now) {
			r->st->pending++;
			goto out;
		}
		report_run_rua(r->s, r->o->now, day, domain, &s,
		    &r->st->norua);
		if (save_state(r, day, domain, &m.gz, &s) != 0)
			goto out;
	}
	adopt_mirror(r, day, domain, &s);
	for (i = 0; i < s.ndest && !r->stop; i++) {
		struct report_dest *d = &s.dest[i];

		if (d->st != DEST_PENDING || d->next > r->o->now)
			continue;
		/* the lease must outlast the send: renew it first */
		buf_reset(&why);
		if ((lrc = fleet_rpt_lease_renew(&r->fr, &why)) != FR_OK) {
			redis_failed(r, lrc, "renewing the lease", &why);
			break;
		}
		buf_reset(&why);
		st = report_run_send(r->x, r->s, &m, d, r->o->now, &why);
		kind = tlsrpt_rua_kind(d->uri) == RUA_MAILTO ? 0 : 1;
		if (st == ST_OK) {
			report_state_delivered(d, r->o->now);
			r->st->sends_ok++;
			r->st->sent[kind]++;
			report_run_log_dest(day, domain, &s, d, "delivered");
		} else {
			gave = report_state_failed(d, r->o->now, buf_str(&why),
			    st == ST_INVALID);
			r->st->sends_failed++;
			r->st->failed[kind]++;
			report_run_log_dest(day, domain, &s, d,
			    gave ? "gaveup" : "retry");
		}
		if (save_state(r, day, domain, &m.gz, &s) != 0)
			break;
	}
	final = report_run_outcome(r->st, day, domain, was, &s);
out:
	report_make_clear(&m);
	report_state_clear(&s);
	buf_free(&why);
	return final;
}

/* dry_day - --dry-run: build from Redis and print, write nothing */
static void
dry_day(struct frun *r, const char *day, size_t n, char *const *nodes)
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
		redis_failed(r, FR_ERR, "reading the shipped records", &why);
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

/* late_check - the day is built: its records leave Redis (each node
 * keeps its journal), counted in gone:<node>; records shipped after the
 * build are late: counted, logged once per new batch, in no report */
static void
late_check(struct frun *r, const char *day, size_t n, char *const *nodes)
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
			redis_failed(r, gone == -1 ? FR_FENCED : FR_ERR,
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
		(void)hfield(r, kd, f, v);
	}
	buf_free(&why);
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

	n = day_nodes(r, day, &nodes, &why);
	if (buf_str(&why)[0]) {
		redis_failed(r, FR_ERR, "the day's nodes", &why);
		goto out;
	}
	if (r->o->dry_run) {
		if (fleet_rpt_hget_ll(&r->fr, fleet_rpt_key(&r->fr, k,
		    "rpt:%s", day), "built", 0) > 0)
			fprintf(r->o->out, "day %s: reports built already "
			    "(stsctl reports shows them)\n", day);
		else
			dry_day(r, day, n, nodes);
		goto out;
	}
	fleet_rpt_key(&r->fr, k, "rpt:%s", day);
	if (fleet_rpt_hget_ll(&r->fr, k, "final", 0) > 0 &&
	    r->o->day == NULL) {
		late_check(r, day, n, nodes);
		goto out;
	}
	r->st->days++;
	rep = fleet_rpt_do(&r->fr, &why, "EXISTS", fleet_rpt_key(&r->fr, k, "rpt:%s:done", day), NULL);
	if (rep == NULL) {
		redis_failed(r, FR_ERR, k, &why);
		goto out;
	}
	done = rep->integer == 1;
	fleet_reply_free(rep);
	if (!done) {
		closed = closed_days(r, n, nodes);
		switch (report_fleet_ready(day, r->o->now, r->fc->grace, n,
		    nodes, closed, &missing)) {
		case FLEET_DAY_WAIT:
			log_info("fleet: day=%s: waiting for nodes to close "
			    "the day: %s", day, buf_str(&missing));
			r->st->waiting++;
			rc_raise(r, EX_TEMPFAIL);
			goto out;
		case FLEET_DAY_OVERDUE:
			log_warnx("fleet: day=%s: fleet_report_grace is over; "
			    "reporting without the day's end from: %s", day,
			    buf_str(&missing));
			break;
		case FLEET_DAY_READY:
			break;
		}
		if (!build_day(r, day, n, nodes, buf_str(&missing)))
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
		if (!deliver_one(r, day, doms[i]))
			all = 0;
	}
	if (r->stop)
		goto out;
	late_check(r, day, n, nodes);
	if (all && r->o->only_domain == NULL) {
		snprintf(t, sizeof(t), "%lld", (long long)r->o->now);
		(void)hfield(r, fleet_rpt_key(&r->fr, k, "rpt:%s", day),
		    "final", t);
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
			redis_failed(r, FR_ERR, "SCAN", &why);
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
		n = day_nodes(r, dv[i], &names, &why);
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

/* mirror_retention - the local mirror's days older than
 * journal_retention (Redis may have lost them: swept on their own) */
static void
mirror_retention(struct frun *r)
{
	DIR		*d, *dd;
	struct dirent	*e, *f;
	char		*p, *q;
	time_t		 t;

	if ((d = opendir(r->mdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 10 || timefmt_parse(e->d_name, &t) !=
		    0 || t + 86400LL * (r->x->conf->journal_retention + 1) >
		    r->o->now)
			continue;
		p = xasprintf("%s/%s", r->mdir, e->d_name);
		if ((dd = opendir(p)) != NULL) {
			while ((f = readdir(dd)) != NULL) {
				if (f->d_name[0] == '.' && (f->d_name[1] ==
				    '\0' || (f->d_name[1] == '.' &&
				    f->d_name[2] == '\0')))
					continue;
				q = xasprintf("%s/%s", p, f->d_name);
				(void)unlink(q);
				free(q);
			}
			closedir(dd);
		}
		(void)rmdir(p);
		free(p);
	}
	closedir(d);
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
	char	*rdir = statedir_reporter(r->x->conf->state_dir), *p;
	int	 fd = -1;

	p = xasprintf("%s/fleet.lock", rdir);
	if (fs_mkdir_p(rdir, 0750) != 0 ||
	    (fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		log_warn("%s", p);
		rc_raise(r, EX_CANTCREAT);
	} else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_warnx("another tlsrpt-reporter run holds %s; nothing done",
		    p);
		rc_raise(r, EX_TEMPFAIL);
		close(fd);
		fd = -1;
	}
	free(p);
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
	x->ptext_load = ptext_load;
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
			mirror_retention(&r);
		}
	}
	if (st->pending > 0)
		rc_raise(&r, EX_TEMPFAIL);
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
