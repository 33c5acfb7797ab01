/*
 * report_run.c - one run of tlsrpt-reporter: days, reports, deliveries
 *
 * On-disk layout under <state_dir>/reporter/ (statedir.h):
 *	lock			flock()ed for the whole run
 *	<day>/<domain>.json.gz	the report as built (sent byte for byte)
 *	<day>/<domain>.state	its identity and per-destination state
 *	<day>/.built		every report of the day is stored
 *	<day>/.done		every report of the day is final
 * Order of writes: report, then state, then .built; so a crash at any
 * point leaves either a report with its state, or nothing of it (a
 * .json.gz without .state is rebuilt; the id and bytes are the same
 * for the same journal).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "journal.h"
#include "log.h"
#include "report_prune.h"
#include "report_run.h"
#include "report_state.h"
#include "statedir.h"
#include "timefmt.h"
#include "tlsrpt_txt.h"
#include "xmalloc.h"

#define REPORT_GZ_MAX	(64 * 1024 * 1024)	/* a stored report read back */

struct run {
	const struct report_run_opts	*o;
	struct report_make_ctx		*x;
	struct report_send		*s;
	struct report_run_stats		*st;
	char				*rdir;		/* state_dir/reporter */
	int				 rc;
};

static void
rc_raise(struct run *r, int rc)
{
	r->rc = report_run_rc(r->rc, rc);
}

/* rc_raise_io - for a failed write with errno e: a full disk (or quota)
 * is retried by the next run (EX_TEMPFAIL), anything else is rc */
static void
rc_raise_io(struct run *r, int e, int rc)
{
	rc_raise(r, e == ENOSPC || e == EDQUOT ? EX_TEMPFAIL : rc);
}

static int
exists(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0;
}

/* store - a report or a marker: durable before anything relies on it */
static int
store(const char *path, const void *data, size_t len)
{
	return fs_write_atomic(path, data, len, 0640, FS_SYNC_FULL);
}

static int
is_day(const char *s)
{
	time_t	t;

	return strlen(s) == 10 && timefmt_parse(s, &t) == 0;
}

int
report_run_now(const struct conf *c, time_t *now)
{
	if (c->report_clock != NULL && c->report_clock[0] != '\0')
		return timefmt_parse(c->report_clock, now);
	*now = clock_now();
	return 0;
}

/* lookup_rua - RPT-TXT-1, RPT-TXT-6: the one v=TLSRPTv1 record */
static enum status
lookup_rua(struct report_send *snd, const char *domain, struct tlsrpt_txt **t,
    struct buf *why)
{
	struct dns_rrset	 rr;
	enum status		 st;
	char			*name;

	*t = NULL;
	memset(&rr, 0, sizeof(rr));
	name = xasprintf("_smtp._tls.%s", domain);
	st = dns_txt(snd->dns, name, &rr, why);
	if (st == ST_OK)
		st = tlsrpt_txt_select(rr.rr, rr.len, rr.n, t, why);
	dns_rrset_clear(&rr);
	free(name);
	return st;
}

/* progress - one line rewritten in place: what the run is doing now */
static void
progress(struct run *r, const char *day, const char *what, size_t i,
    size_t n)
{
	if (!r->o->progress)
		return;
	fprintf(r->o->out, "\r\033[K%s: %s %zu of %zu", day, what, i + 1, n);
	fflush(r->o->out);
}

void
report_run_table(FILE *f, const char *label, const struct report_run_stats *st)
{
	fprintf(f, "\r\033[K%-10s %8lu %7u %9u %7u %7u %6u %6u\n", label,
	    st->sessions, st->built, st->delivered, st->pending, st->gaveup,
	    st->norua, st->sends_failed);
}

/* table_row - the figures of the day just processed (before: the run's
 * figures when the day began) */
static void
table_row(struct run *r, const char *day, const struct report_run_stats *b)
{
	struct report_run_stats	d;
	static int		header;

	if (!r->o->progress)
		return;
	if (!header++)
		fprintf(r->o->out, "\r\033[K%-10s %8s %7s %9s %7s %7s %6s "
		    "%6s\n", "DAY",
		    "SESSIONS", "REPORTS", "DELIVERED", "PENDING", "GAVE-UP",
		    "NO-RUA", "FAILED");
	memset(&d, 0, sizeof(d));
	d.sessions = r->st->sessions - b->sessions;
	d.built = r->st->built - b->built;
	d.delivered = r->st->delivered - b->delivered;
	d.pending = r->st->pending - b->pending;
	d.gaveup = r->st->gaveup - b->gaveup;
	d.norua = r->st->norua - b->norua;
	d.sends_failed = r->st->sends_failed - b->sends_failed;
	report_run_table(r->o->out, day, &d);
}

/* report_run_dry_print - the report's JSON and the whole MIME message */
void
report_run_dry_print(const struct report_run_opts *o,
    const struct report_make_ctx *x, struct report_send *snd,
    const struct report_made *m)
{
	FILE			*out = o->out;
	struct tlsrpt_txt	*t = NULL;
	struct buf		 why = BUF_INIT;
	char			*to = NULL, *msg = NULL;
	size_t			 i, len = 0;

	fprintf(out, "----- BEGIN REPORT domain=%s day=%s report-id=%s -----\n",
	    m->domain, m->day, m->report_id);
	fprintf(out, "file: %s\n", m->filename);
	if (o->dry_to != NULL) {
		to = xstrdup(o->dry_to);
		fprintf(out, "rua: (--to) mailto:%s\n", to);
	} else if (lookup_rua(snd, m->domain, &t, &why) == ST_OK) {
		fprintf(out, "rua:");
		for (i = 0; i < t->t_nrua; i++) {
			fprintf(out, " %s", t->t_rua[i]);
			if (to == NULL && tlsrpt_rua_kind(t->t_rua[i]) ==
			    RUA_MAILTO)
				(void)tlsrpt_rua_mailto(t->t_rua[i], &to, &why);
		}
		fprintf(out, "\n");
	} else
		fprintf(out, "rua: none (%s): no report would be sent\n",
		    buf_str(&why));
	fprintf(out, "----- BEGIN JSON -----\n%s----- END JSON -----\n",
	    m->json);
	buf_reset(&why);
	if (report_make_mail(x, m, to ? to : "undisclosed-recipients:;",
	    o->now, &msg, &len, &why) == ST_OK) {
		fprintf(out, "----- BEGIN MIME -----\n");
		fwrite(msg, 1, len, out);
		fprintf(out, "----- END MIME -----\n");
	} else
		fprintf(out, "mime: error: %s\n", buf_str(&why));
	fprintf(out, "----- END REPORT -----\n");
	free(msg);
	free(to);
	tlsrpt_txt_free(t);
	buf_free(&why);
}

/* build_day - aggregate the journal and store every report not stored */
static int
build_day(struct run *r, const char *day, const char *dd)
{
	struct report_agg	 *agg;
	struct report_domain	**doms;
	struct journal_stats	  js;
	struct report_made	  m;
	struct report_state	  s;
	struct buf		  why = BUF_INIT;
	char			 *gzp, *stp;
	size_t			  n, i;
	int			  ok = 1;

	agg = report_agg_new(r->o->only_domain);
	if (!r->x->conf->report_sending_ip)
		report_agg_omit_sending_ip(agg);
	if (journal_read_day(r->x->conf->state_dir, day, report_agg_cb, agg,
	    &js) != 0 && errno != ENOENT) {
		log_warn("day=%s: cannot read the journal", day);
		report_agg_free(agg);
		rc_raise(r, EX_IOERR);
		return 0;
	}
	if (js.bad > 0)
		log_warnx("day=%s: skipped %lu torn or corrupt journal records",
		    day, js.bad);
	n = report_run_domains(r->st, r->x, agg, js.bad, "", day,
	    "from the archive", &doms);
	for (i = 0; i < n; i++) {
		progress(r, day, "building the report of domain", i, n);
		gzp = xasprintf("%s/%s.json.gz", dd, doms[i]->d_name);
		stp = xasprintf("%s/%s.state", dd, doms[i]->d_name);
		if (!r->o->dry_run && exists(stp))
			goto next;		/* stored by an earlier run */
		buf_reset(&why);
		{
			const struct report_policy	*p;
			int max = r->x->conf->report_max_failure_details;

			for (p = doms[i]->p_list; p != NULL; p = p->p_next)
				if (max > 0 && p->p_nfails > (size_t)max)
					log_warnx("day=%s domain=%s: %zu "
					    "failure-details groups for one "
					    "policy; the report lists the %d "
					    "with the most sessions "
					    "(report_max_failure_details)",
					    day, doms[i]->d_name, p->p_nfails,
					    max);
		}
		if (report_make(r->x, day, doms[i], &m, &why) != ST_OK) {
			log_err("day=%s domain=%s: cannot build the report: %s",
			    day, doms[i]->d_name, buf_str(&why));
			rc_raise(r, EX_SOFTWARE);
			ok = 0;
			report_make_clear(&m);
			goto next;
		}
		if (r->o->dry_run) {
			report_run_dry_print(r->o, r->x, r->s, &m);
			report_make_clear(&m);
			goto next;
		}
		report_run_state_new(&s, &m, r->o->now);
		if (store(gzp, m.gz.b_data, m.gz.b_len) != 0 ||
		    report_state_save(stp, &s, &why) != ST_OK) {
			int e = errno;

			log_warn("day=%s domain=%s: cannot store the report",
			    day, doms[i]->d_name);
			rc_raise_io(r, e, EX_CANTCREAT);
			ok = 0;
		} else {
			r->st->built++;
			log_debug(LOG_LEVEL_EVENTS, "day=%s domain=%s report_id=%s built",
			    day, doms[i]->d_name, m.report_id);
		}
		report_make_clear(&m);
next:
		free(gzp);
		free(stp);
	}
	report_agg_free(agg);
	buf_free(&why);
	return ok;
}

void
report_run_log_dest(const char *day, const char *domain, const struct report_state *s,
    const struct report_dest *d, const char *result)
{
	char	reason[300], next[TIMEFMT_LEN] = "-";

	log_printable(reason, sizeof(reason), d->last ? d->last : "");
	if (d->next)
		timefmt_rfc3339(d->next, next);
	if (d->st == DEST_DELIVERED)
		log_info("report day=%s domain=%s report_id=%s rua=%s "
		    "result=delivered attempts=%d", day, domain, s->report_id,
		    d->uri, d->attempts);
	else
		log_warnx("report day=%s domain=%s report_id=%s rua=%s "
		    "result=%s attempts=%d next=%s reason=\"%s\"", day, domain,
		    s->report_id, d->uri, result, d->attempts, next, reason);
}

/*
 * stage_delivered - write the state as it will be once d is delivered to
 * <stp>.next, before sending: a report that went out must be recorded as
 * sent, so a full disk must stop it before, not after (issue 14).  After
 * the send, rename(2) puts it in place (no new space needed).
 */
static int
stage_delivered(const struct report_state *s, const struct report_dest *d,
    const char *next, time_t now, struct buf *why)
{
	struct report_state	 s2 = *s;	/* shallow: only d2->last is */
	struct report_dest	*d2 = &s2.dest[d - s->dest];	/* its own */
	int			 rc;

	d2->last = NULL;
	report_state_delivered(d2, now);
	rc = report_state_save(next, &s2, why) == ST_OK ? 0 : -1;
	free(d2->last);
	return rc;
}

enum status
report_run_send(const struct report_make_ctx *x, struct report_send *snd,
    const struct report_made *m, const struct report_dest *d, time_t now,
    struct buf *why)
{
	enum status	 st;
	char		*addr = NULL, *msg = NULL;
	size_t		 len = 0;

	if (tlsrpt_rua_kind(d->uri) != RUA_MAILTO)
		return snd->https(snd, d->uri, m->gz.b_data, m->gz.b_len, why);
	st = tlsrpt_rua_mailto(d->uri, &addr, why);
	if (st == ST_OK)
		st = report_make_mail(x, m, addr, now, &msg, &len, why);
	if (st == ST_OK)
		st = snd->smtp(snd, addr, msg, len, why);
	else
		st = ST_INVALID;
	free(addr);
	free(msg);
	return st;
}

/* attempt - one delivery of the stored report to one destination */
static void
attempt(struct run *r, struct report_made *m, struct report_state *s,
    struct report_dest *d, const char *stp)
{
	struct buf	 why = BUF_INIT;
	enum status	 st;
	char		*next;
	int		 gave, kind, e;

	next = xasprintf("%s.next", stp);
	if (stage_delivered(s, d, next, r->o->now, &why) != 0) {
		e = errno;
		log_warnx("report day=%s domain=%s report_id=%s rua=%s "
		    "result=retry reason=\"cannot record a delivery, not sent: "
		    "%s\"", m->day, m->domain, s->report_id, d->uri,
		    buf_str(&why));
		(void)unlink(next);
		rc_raise_io(r, e, EX_IOERR);
		free(next);
		buf_free(&why);
		return;
	}
	st = report_run_send(r->x, r->s, m, d, r->o->now, &why);
	kind = tlsrpt_rua_kind(d->uri) == RUA_MAILTO ? 0 : 1;
	if (st == ST_OK) {
		report_state_delivered(d, r->o->now);
		r->st->sends_ok++;
		r->st->sent[kind]++;
		report_run_log_dest(m->day, m->domain, s, d, "delivered");
		if (rename(next, stp) != 0 || fs_sync_dir(stp) != 0) {
			log_warn("%s", stp);
			rc_raise(r, EX_IOERR);
		}
	} else {
		(void)unlink(next);
		gave = report_state_failed(d, r->o->now, buf_str(&why),
		    st == ST_INVALID);
		r->st->sends_failed++;
		r->st->failed[kind]++;
		report_run_log_dest(m->day, m->domain, s, d, gave ? "gaveup" : "retry");
		buf_reset(&why);
		/* not recorded (no space): the next run tries again */
		if (report_state_save(stp, s, &why) != ST_OK) {
			e = errno;
			log_warnx("%s", buf_str(&why));
			rc_raise_io(r, e, EX_IOERR);
		}
	}
	free(next);
	buf_free(&why);
}

/* report_run_rua - look up the domain's rua (RPT-TXT): its destinations into
 * s, a retry time, or no-rua; the caller saves s */
void
report_run_rua(struct report_send *snd, time_t now, const char *day,
    const char *domain, struct report_state *s, unsigned *norua)
{
	struct tlsrpt_txt	*t = NULL;
	struct buf		 why = BUF_INIT;
	enum status		 st;
	size_t			 i;

	st = lookup_rua(snd, domain, &t, &why);
	free(s->lk_last);
	s->lk_last = xstrdup(buf_str(&why));
	if (st == ST_OK) {
		s->rua = RUA_ST_FOUND;
		for (i = 0; i < t->t_nrua && s->ndest < REPORT_DEST_MAX;
		    i++) {
			struct report_dest *d = &s->dest[s->ndest++];

			memset(d, 0, sizeof(*d));
			d->uri = xstrdup(t->t_rua[i]);
			d->last = xstrdup("");
			d->next = now;
			if (tlsrpt_rua_kind(d->uri) == RUA_UNSUPPORTED)
				d->st = DEST_UNSUPPORTED;
		}
	} else if (st == ST_TEMPFAIL) {
		if (s->lk_first == 0)
			s->lk_first = now;
		s->lk_tries++;
		s->lk_next = report_retry_next(s->lk_tries, s->lk_first,
		    now);
		if (s->lk_next == 0)
			s->rua = RUA_ST_GAVEUP;
		log_warnx("report day=%s domain=%s: _smtp._tls lookup "
		    "failed: %s%s", day, domain, buf_str(&why),
		    s->rua == RUA_ST_GAVEUP ? "; giving up" : "");
	} else {
		s->rua = RUA_ST_NONE;
		(*norua)++;
		log_info("report day=%s domain=%s result=no-rua "
		    "reason=\"%s\"", day, domain, buf_str(&why));
	}
	tlsrpt_txt_free(t);
	buf_free(&why);
}

int
report_run_outcome(struct report_run_stats *st, const char *day,
    const char *domain, int was_delivered, const struct report_state *s)
{
	int	final = report_state_final(s);

	if (!was_delivered && report_state_delivered_any(s))
		st->delivered++;
	else if (final && s->rua == RUA_ST_FOUND &&
	    !report_state_delivered_any(s)) {
		st->gaveup++;
		log_err("report day=%s domain=%s report_id=%s result=gaveup: "
		    "no destination accepted it within 24 hours", day, domain,
		    s->report_id);
	}
	if (!final)
		st->pending++;
	return final;
}

/* process_report - rua lookup and due deliveries of one stored report */
static int
process_report(struct run *r, const char *day, const char *dd,
    const char *domain)
{
	struct report_state	 s;
	struct report_made	 m;
	struct buf		 why = BUF_INIT;
	char			*stp, *gzp, *gz = NULL;
	size_t			 i, gzlen = 0;
	enum status		 st;
	int			 was_delivered, final = 0;

	stp = xasprintf("%s/%s.state", dd, domain);
	gzp = xasprintf("%s/%s.json.gz", dd, domain);
	memset(&m, 0, sizeof(m));
	if ((st = report_state_load(stp, &s, &why)) != ST_OK) {
		log_warnx("day=%s domain=%s: %s", day, domain, buf_str(&why));
		rc_raise(r, EX_IOERR);
		goto out;
	}
	if (report_state_final(&s)) {
		final = 1;
		goto out;
	}
	was_delivered = report_state_delivered_any(&s);
	if ((gz = fs_read_regular(gzp, REPORT_GZ_MAX, &gzlen, NULL)) == NULL) {
		log_warn("day=%s domain=%s: cannot read the stored report",
		    day, domain);
		rc_raise(r, EX_IOERR);
		goto out;
	}
	report_make_meta(r->x, day, domain, &m);
	/* the stored id wins (the configuration may have changed since) */
	memcpy(m.report_id, s.report_id, sizeof(m.report_id) - 1);
	m.report_id[sizeof(m.report_id) - 1] = '\0';
	{
		struct report_meta meta;

		memset(&meta, 0, sizeof(meta));
		meta.submitter = r->x->submitter;
		meta.report_id = m.report_id;
		meta.start = m.start;
		meta.end = m.end;
		report_build_filename(&meta, domain, m.filename, sizeof(m.filename));
	}
	m.nsuccess = s.nsuccess;
	m.nfailure = s.nfailure;
	m.gz.b_data = gz;
	m.gz.b_len = gzlen;
	m.gz.b_size = gzlen + 1;
	gz = NULL;

	if (s.rua != RUA_ST_FOUND) {
		if (s.lk_next > r->o->now) {
			r->st->pending++;	/* lookup retry not due */
			goto done;
		}
		report_run_rua(r->s, r->o->now, day, domain, &s,
		    &r->st->norua);
		buf_reset(&why);
		if (report_state_save(stp, &s, &why) != ST_OK) {
			int e = errno;

			log_warnx("%s", buf_str(&why));
			rc_raise_io(r, e, EX_IOERR);
			goto done;
		}
	}
	for (i = 0; i < s.ndest; i++)
		if (s.dest[i].st == DEST_PENDING && s.dest[i].next <= r->o->now)
			attempt(r, &m, &s, &s.dest[i], stp);
	final = report_run_outcome(r->st, day, domain, was_delivered, &s);
done:
	report_make_clear(&m);
out:
	report_state_clear(&s);
	free(gz);
	free(stp);
	free(gzp);
	buf_free(&why);
	return final;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_dir - sorted names in dir ending in suffix (suffix removed) */
static size_t
list_dir(const char *dir, const char *suffix, char ***out)
{
	DIR		*d;
	struct dirent	*e;
	char		**v = NULL;
	size_t		 n = 0, cap = 0, sl = strlen(suffix), l;

	*out = NULL;
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l <= sl ||
		    strcmp(e->d_name + l - sl, suffix) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = xstrndup(e->d_name, l - sl);
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	return n;
}

static void
free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
process_day(struct run *r, const char *day)
{
	struct report_run_stats	 before = *r->st;
	char			*dd, *built, *done, **names;
	size_t			 n, i;
	int			 all = 1;

	dd = xasprintf("%s/%s", r->rdir, day);
	built = xasprintf("%s/.built", dd);
	done = xasprintf("%s/.done", dd);
	if (!r->o->dry_run && exists(done) && r->o->day == NULL)
		goto out;
	r->st->days++;
	if (!r->o->dry_run && fs_mkdir_p(dd, 0750) != 0) {
		log_warn("%s", dd);
		rc_raise(r, EX_CANTCREAT);
		goto out;
	}
	if (r->o->dry_run || !exists(built)) {
		if (!build_day(r, day, dd))
			all = 0;
		else if (!r->o->dry_run && r->o->only_domain == NULL &&
		    store(built, "", 0) != 0) {
			log_warn("%s", built);
			rc_raise(r, EX_CANTCREAT);
		}
	}
	if (r->o->dry_run)
		goto out;
	(void)fs_sweep_tmp(dd);		/* a crashed run's temporary files */
	n = list_dir(dd, ".state", &names);
	for (i = 0; i < n; i++) {
		if (r->o->only_domain != NULL &&
		    strcmp(names[i], r->o->only_domain) != 0)
			continue;
		progress(r, day, "delivering report", i, n);
		if (!process_report(r, day, dd, names[i]))
			all = 0;
	}
	free_list(names, n);
	if (all && exists(built) && store(done, "", 0) != 0)
		log_warn("%s", done);
	table_row(r, day, &before);
out:
	free(dd);
	free(built);
	free(done);
}

/* remove_day - the journal file and reporter state of a done day */
static void
remove_day(struct run *r, const char *day)
{
	char	*dd = xasprintf("%s/%s", r->rdir, day), *p;

	p = statedir_journal_day(r->x->conf->state_dir, day);
	(void)unlink(p);
	free(p);
	report_run_rmdir(dd);
	free(dd);
	r->st->removed_days++;
	log_info("day=%s: reports done, journal older than journal_retention "
	    "removed", day);
}

/* report_run_prune_archive - the archived policy texts only removed
 * days named (report_prune.h) */
void
report_run_prune_archive(const struct conf *c, time_t now,
    struct report_run_stats *st)
{
	unsigned	kept = 0;
	int		n;

	n = report_prune_policies(c->state_dir, now,
	    86400LL * (c->journal_retention + 1), &kept);
	if (n < 0)
		log_warnx("policy archive: journal unreadable, nothing pruned");
	else if (n > 0)
		log_info("policy archive: %d policy texts no kept journal "
		    "names removed, %u kept", n, kept);
	st->pruned_policies += n > 0 ? (unsigned)n : 0;
}

/* days - every day with a journal or reporter state, sorted, unique */
static size_t
days(struct run *r, char ***out)
{
	char	*jd, **a, **b, **v;
	size_t	 na, nb, n = 0, i, j;

	jd = statedir_journal(r->x->conf->state_dir);
	na = list_dir(jd, ".jnl", &a);
	free(jd);
	nb = 0;
	b = NULL;
	{
		DIR		*d;
		struct dirent	*e;
		size_t		 cap = 0;

		if ((d = opendir(r->rdir)) != NULL) {
			while ((e = readdir(d)) != NULL) {
				if (!is_day(e->d_name))
					continue;
				if (nb == cap) {
					cap = cap ? cap * 2 : 16;
					b = xreallocarray(b, cap, sizeof(*b));
				}
				b[nb++] = xstrdup(e->d_name);
			}
			closedir(d);
		}
	}
	v = xreallocarray(NULL, na + nb + 1, sizeof(*v));
	for (i = 0; i < na; i++)
		if (is_day(a[i]))
			v[n++] = xstrdup(a[i]);
	for (j = 0; j < nb; j++)
		v[n++] = xstrdup(b[j]);
	free_list(a, na);
	free_list(b, nb);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(v[j - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[j++] = v[i];
	}
	*out = v;
	return j;
}

int
report_run(const struct report_run_opts *o, struct report_make_ctx *x,
    struct report_send *s, struct report_run_stats *st)
{
	struct run	 r;
	char		**dv = NULL, today[11];
	size_t		 nd = 0, i;
	int		 lockfd = -1;
	time_t		 t, day0 = timefmt_day_start(o->now);

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.x = x;
	r.s = s;
	r.st = st;
	r.rc = EX_OK;
	r.rdir = statedir_reporter(x->conf->state_dir);
	timefmt_day(o->now, today);

	if (o->day != NULL) {
		if (!is_day(o->day) || timefmt_parse(o->day, &t) != 0) {
			log_warnx("--day %s: not a day (YYYY-MM-DD)", o->day);
			r.rc = EX_DATAERR;
			goto out;
		}
		if (t + 86400 > o->now) {
			log_warnx("--day %s: the UTC day is not over yet (now "
			    "%s)", o->day, today);
			r.rc = EX_DATAERR;
			goto out;
		}
	}
	if (!o->dry_run &&
	    (lockfd = report_run_lock(r.rdir, "lock", &r.rc)) < 0)
		goto out;
	st->ran = 1;
	if (o->day != NULL) {
		process_day(&r, o->day);
	} else {
		nd = days(&r, &dv);
		for (i = 0; i < nd; i++) {
			if (timefmt_parse(dv[i], &t) != 0 || t >= day0)
				continue;	/* today is not over */
			process_day(&r, dv[i]);
		}
		/* retention: done days older than journal_retention */
		for (i = 0; i < nd && !o->dry_run; i++) {
			char *done = xasprintf("%s/%s/.done", r.rdir, dv[i]);

			if (timefmt_parse(dv[i], &t) == 0 &&
			    t + 86400LL * (x->conf->journal_retention + 1) <=
			    o->now && exists(done))
				remove_day(&r, dv[i]);
			free(done);
		}
		if (st->removed_days > 0)
			report_run_prune_archive(x->conf, o->now, st);
	}
	if (st->pending > 0)
		rc_raise(&r, EX_TEMPFAIL);
	if (!o->dry_run)
		log_info("run: days=%u records=%lu sessions=%lu "
		    "own_reports_skipped=%lu built=%u delivered=%u pending=%u "
		    "gaveup=%u no_rua=%u sends_ok=%u sends_failed=%u",
		    st->days, st->records, st->sessions, st->own_reports,
		    st->built, st->delivered, st->pending, st->gaveup,
		    st->norua, st->sends_ok, st->sends_failed);
out:
	free_list(dv, nd);
	if (lockfd >= 0)
		close(lockfd);
	free(r.rdir);
	return r.rc;
}
