/*
 * stsctl_reports_fleet.c - "stsctl reports" in fleet mode: the fleet's
 * reports and days, from Redis (fleet_rpt.h)
 *
 * DESCRIPTION
 *	Each report is printed as stsctl_reports.c prints a local one, plus
 *	the member
 *
 *	  "fleet":{"built":T,"final":bool,"missing":[nodes],
 *	   "late_records":N,"nodes":[{"node","shipped","reported","late",
 *	   "closed"}]}
 *
 *	about its day: per node the records shipped, the records in the
 *	reports (fixed when the day was built), those shipped after
 *	(late: counted, in no report) and the last day the node closed;
 *	missing names the nodes that had not closed the day when the
 *	grace time ran out; late_records is the day's late records of the
 *	report's domain (P late:<day>, counted by the shipper).  A day that
 *	was shipped but has no reports yet is one line {"day","state":
 *	"waiting","fleet":{...}}.  Read only.
 *
 * EXIT STATUS
 *	0; 69 (EX_UNAVAILABLE) when Redis cannot be reached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "conf.h"
#include "fleet_conf.h"
#include "fleet_redis.h"
#include "fleet_rpt.h"
#include "report_state.h"
#include "stsctl.h"
#include "timefmt.h"
#include "xmalloc.h"

/* smembers - a set's members, sorted */
static size_t
smembers(struct fleet_rpt *fr, const char *key, char ***out)
{
	struct buf	 why = BUF_INIT;
	redisReply	*r;
	size_t		 n;

	r = fleet_rpt_do(fr, &why, "SMEMBERS", key, NULL);
	n = fleet_rpt_strings(r, out);
	if (r != NULL)
		fleet_reply_free(r);
	buf_free(&why);
	return n;
}

/* day_json - the "fleet" member of a day, without late_records */
static void
day_json(struct fleet_rpt *fr, const char *day, char **nodes, size_t n,
    struct buf *b)
{
	struct buf	 why = BUF_INIT;
	redisReply	*r;
	char		 k[FLEET_KEY_MAX], kd[FLEET_KEY_MAX], f[300],
			 ts[TIMEFMT_LEN];
	long long	 built, final, shipped, upto;
	size_t		 i;

	fleet_rpt_key(fr, kd, "rpt:%s", day);
	built = fleet_rpt_hget_ll(fr, kd, "built", 0);
	final = fleet_rpt_hget_ll(fr, kd, "final", 0);
	buf_puts(b, "\"fleet\":{");
	if (built > 0)
		buf_printf(b, "\"built\":\"%s\",",
		    timefmt_rfc3339((time_t)built, ts));
	buf_printf(b, "\"final\":%s,\"missing\":[", final > 0 ? "true" :
	    "false");
	r = fleet_rpt_do(fr, &why, "HGET", kd, "missing", NULL);
	if (r != NULL && r->type == REDIS_REPLY_STRING && r->len > 0) {
		char *m = xstrndup(r->str, r->len), *p, *save = NULL;
		int   first = 1;

		for (p = strtok_r(m, " ", &save); p != NULL;
		    p = strtok_r(NULL, " ", &save)) {
			buf_puts(b, first ? "" : ",");
			buf_json_str(b, p);
			first = 0;
		}
		free(m);
	}
	if (r != NULL)
		fleet_reply_free(r);
	buf_puts(b, "],\"nodes\":[");
	for (i = 0; i < n; i++) {
		shipped = fleet_rpt_shipped(fr, day, nodes[i]);
		snprintf(f, sizeof(f), "upto:%s", nodes[i]);
		upto = fleet_rpt_hget_ll(fr, kd, f, -1);
		buf_puts(b, i ? ",{\"node\":" : "{\"node\":");
		buf_json_str(b, nodes[i]);
		buf_printf(b, ",\"shipped\":%lld", shipped);
		if (upto >= 0)
			buf_printf(b, ",\"reported\":%lld,\"late\":%lld", upto,
			    shipped > upto ? shipped - upto : 0);
		r = fleet_rpt_do(fr, &why, "GET", fleet_rpt_key(fr, k,
		    "closed:%s", nodes[i]), NULL);
		if (r != NULL && r->type == REDIS_REPLY_STRING) {
			buf_puts(b, ",\"closed\":");
			buf_json_str(b, r->str);
		}
		if (r != NULL)
			fleet_reply_free(r);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	buf_free(&why);
}

/* one_day - the day's reports, or its waiting line */
static int
one_day(struct fleet_rpt *fr, const char *day)
{
	struct report_state	 s;
	struct buf		 why = BUF_INIT, dj = BUF_INIT, fj = BUF_INIT;
	redisReply		*r;
	char			 k[FLEET_KEY_MAX], **nodes, **doms;
	size_t			 nn, nd, i;
	int			 rc = EX_OK;

	nn = smembers(fr, fleet_rpt_key(fr, k, "day:%s:nodes", day), &nodes);
	nd = smembers(fr, fleet_rpt_key(fr, k, "rpt:%s:domains", day), &doms);
	if (nn == 0 && nd == 0)
		goto out;
	day_json(fr, day, nodes, nn, &dj);
	if (nd == 0) {
		buf_printf(&fj, "{\"day\":\"%s\",\"state\":\"waiting\",%s}}",
		    day, buf_str(&dj));
		stsctl_reports_line(buf_str(&fj));
		goto out;
	}
	for (i = 0; i < nd; i++) {
		memset(&s, 0, sizeof(s));
		buf_reset(&why);
		r = fleet_rpt_do(fr, &why, "HGET", fleet_rpt_key(fr, k,
		    "rpt:%s:%s", day, doms[i]), "state", NULL);
		if (r != NULL && r->type == REDIS_REPLY_STRING &&
		    report_state_parse(r->str, r->len, &s, &why) == ST_OK) {
			buf_reset(&fj);
			buf_printf(&fj, "%s,\"late_records\":%lld}",
			    buf_str(&dj), fleet_rpt_hget_ll(fr,
			    fleet_rpt_key(fr, k, "late:%s", day), doms[i], 0));
			stsctl_reports_print(day, doms[i], &s, buf_str(&fj));
		} else {
			fprintf(stderr, "stsctl: report state of %s %s: %s\n",
			    day, doms[i], buf_str(&why));
			rc = EX_IOERR;
		}
		if (r != NULL)
			fleet_reply_free(r);
		report_state_clear(&s);
	}
out:
	fleet_rpt_strings_free(nodes, nn);
	fleet_rpt_strings_free(doms, nd);
	buf_free(&why);
	buf_free(&dj);
	buf_free(&fj);
	return rc;
}

int
stsctl_reports_fleet(const struct conf *c, time_t since, time_t until)
{
	struct fleet_conf	 fc;
	struct fleet_redis	*redis;
	struct fleet_rpt	 fr;
	struct buf		 why = BUF_INIT;
	redisReply		*r;
	char			 day[11];
	time_t			 t;
	int			 rc = EX_OK, k;

	if (fleet_conf_from(&fc, c, &why) != ST_OK) {
		fprintf(stderr, "stsctl: configuration: %s\n", buf_str(&why));
		buf_free(&why);
		return EX_CONFIG;
	}
	if (!fc.on)
		return -1;
	redis = fleet_redis_new(&fc, "stsctl");
	fleet_rpt_init(&fr, redis, fc.timeout_ms, fc.prefix, fc.node, 0);
	if ((r = fleet_rpt_do(&fr, &why, "PING", NULL)) == NULL) {
		fprintf(stderr, "stsctl: fleet_redis %s: %s\n", fc.endpoint,
		    buf_str(&why));
		rc = EX_UNAVAILABLE;
		goto out;
	}
	fleet_reply_free(r);
	for (t = since; t <= until; t += 86400) {
		timefmt_day(t, day);
		if ((k = one_day(&fr, day)) != EX_OK)
			rc = k;
	}
out:
	fleet_redis_free(redis);
	buf_free(&why);
	return rc;
}
