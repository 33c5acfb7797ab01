/*
 * report_fleet_send.c - the deliveries of one stored report, as
 * report_run.h makes them, every state change a fenced write
 * (report_fleet_impl.h)
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fleet_rpt.h"
#include "log.h"
#include "report_fleet_impl.h"
#include "tlsrpt_txt.h"
#include "xmalloc.h"

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
		(void)report_fleet_mirror_save(r, day, domain, gz, s);
	report_state_format(s, &b);
	rc = report_fleet_hset(r, fleet_rpt_key(&r->fr, k, "rpt:%s:%s", day,
	    domain), "state", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* report_fleet_send_one - rua and due deliveries of one stored report;
 * 1 final */
int
report_fleet_send_one(struct frun *r, const char *day, const char *domain)
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
		report_fleet_stop(r, lrc, "renewing the lease", &why);
		goto out;
	}
	rep = fleet_rpt_do(&r->fr, &why, "HMGET", fleet_rpt_key(&r->fr, k, "rpt:%s:%s", day, domain), "state", "gz", NULL);
	if (rep == NULL) {
		report_fleet_stop(r, FR_ERR, k, &why);
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
		report_fleet_rc(r, EX_IOERR);
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
	report_fleet_mirror_adopt(r, day, domain, &s);
	for (i = 0; i < s.ndest && !r->stop; i++) {
		struct report_dest *d = &s.dest[i];

		if (d->st != DEST_PENDING || d->next > r->o->now)
			continue;
		/* the lease must outlast the send: renew it first */
		buf_reset(&why);
		if ((lrc = fleet_rpt_lease_renew(&r->fr, &why)) != FR_OK) {
			report_fleet_stop(r, lrc, "renewing the lease", &why);
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
