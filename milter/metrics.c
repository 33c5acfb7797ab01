/*
 * metrics.c - Prometheus text exposition of the daemon's counters and
 * the HTTP framing around it (see metrics.h); pure
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "tlsrpt_types.h"

/* label values, in the order of the enums they name */
static const char *const action_names[2] = { "accept", "defer" };
static const char *const mode_names[GATE_STAT_MAX] = {
	[GATE_STAT_NO_POLICY] = "no-policy",
	[GATE_STAT_NONE] = "none",
	[GATE_STAT_TESTING] = "testing",
	[GATE_STAT_ENFORCE] = "enforce",
	[GATE_STAT_EXEMPT] = "exempt",
};
static const char *const qtype_names[DNS_Q_MAX] = {
	[DNS_Q_TXT] = "TXT", [DNS_Q_MX] = "MX", [DNS_Q_A] = "A",
	[DNS_Q_AAAA] = "AAAA",
};

/* family - the HELP and TYPE lines of one metric */
static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP sts_milter_%s %s\n# TYPE sts_milter_%s %s\n",
	    name, help, name, type);
}

/* sample - one line; labels is "" or the inside of {...} */
static void
sample(struct buf *b, const char *name, const char *labels, unsigned long v)
{
	buf_printf(b, "sts_milter_%s%s%s%s %lu\n", name, labels[0] ? "{" : "",
	    labels, labels[0] ? "}" : "", v);
}

/* one - a metric with a single unlabelled sample */
static void
one(struct buf *b, const char *name, const char *type, const char *help,
    unsigned long v)
{
	family(b, name, type, help);
	sample(b, name, "", v);
}

/* by_result - one sample per RFC 8460 result type in [from, to) */
static void
by_result(struct buf *b, const char *name, const unsigned long *v, int from,
    int to)
{
	char	l[80];
	int	i;

	for (i = from; i < to; i++) {
		snprintf(l, sizeof(l), "result=\"%s\"",
		    tlsrpt_result_str((enum tlsrpt_result)i));
		sample(b, name, l, v[i]);
	}
}

/* label_value - a label value escaped as the format asks (\\ \" \n) */
static void
label_value(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

static void
render_gate(struct buf *b, const struct gate_stats *g)
{
	char	l[80];
	int	a, m;

	family(b, "rcpt_decisions_total", "counter", "Recipients decided "
	    "by the milter gate, by action and the policy mode they were "
	    "decided under.");
	for (a = 0; a < 2; a++)
		for (m = 0; m < GATE_STAT_MAX; m++) {
			if (a == GATE_DEFER && m != GATE_STAT_ENFORCE)
				continue;	/* only enforce defers */
			snprintf(l, sizeof(l), "action=\"%s\",mode=\"%s\"",
			    action_names[a], mode_names[m]);
			sample(b, "rcpt_decisions_total", l,
			    g->decisions[a][m]);
		}
	family(b, "deferrals_total", "counter", "Recipients deferred "
	    "(451 4.7.5) under an enforce policy, by RFC 8460 result type.");
	by_result(b, "deferrals_total", g->deferrals, TLSRPT_SUCCESS + 1,
	    TLSRPT_TLSA_INVALID);	/* from probes and MX matching */
	family(b, "probes_total", "counter", "STARTTLS probes of MX hosts "
	    "run by the gate, by RFC 8460 result type (no-session: no TLS "
	    "session was reached).");
	by_result(b, "probes_total", g->probes, TLSRPT_SUCCESS,
	    TLSRPT_TLSA_INVALID);	/* the types a TLS session can have */
	sample(b, "probes_total", "result=\"no-session\"",
	    g->probes[TLSRPT_RESULT_MAX]);
}

static void
render_cache(struct buf *b, const struct metrics_snap *s)
{
	family(b, "policy_fetches_total", "counter", "HTTPS policy fetches, "
	    "by outcome (success or the RFC 8460 sts-* result type).");
	by_result(b, "policy_fetches_total", s->cache.fetches, TLSRPT_SUCCESS,
	    TLSRPT_SUCCESS + 1);
	by_result(b, "policy_fetches_total", s->cache.fetches,
	    TLSRPT_STS_POLICY_FETCH_ERROR, TLSRPT_RESULT_MAX);
	one(b, "policy_cache_entries", "gauge", "Domains in the policy "
	    "cache's memory.", s->cache_entries);
	one(b, "policy_cache_hits_total", "counter", "Policy lookups "
	    "answered from the cache without discovery.", s->cache.hits);
	one(b, "policy_cache_misses_total", "counter", "Policy lookups that "
	    "ran or waited for a discovery, or found nothing cached.",
	    s->cache.misses);
}

static void
render_dns(struct buf *b, const struct dns_stats *d)
{
	char	l[32];
	int	i;

	family(b, "dns_queries_total", "counter", "DNS queries asked, by "
	    "record type.");
	for (i = 0; i < DNS_Q_MAX; i++) {
		snprintf(l, sizeof(l), "type=\"%s\"", qtype_names[i]);
		sample(b, "dns_queries_total", l, d->queries[i]);
	}
	family(b, "dns_failures_total", "counter", "DNS queries that failed "
	    "(timeout, SERVFAIL, refused answer; not NXDOMAIN or NODATA), "
	    "by record type.");
	for (i = 0; i < DNS_Q_MAX; i++) {
		snprintf(l, sizeof(l), "type=\"%s\"", qtype_names[i]);
		sample(b, "dns_failures_total", l, d->failures[i]);
	}
}

static void
render_pm(struct buf *b, const struct pmap_server_stats *p)
{
	char	l[96];
	int	f, k;

	family(b, "policymap_lookups_total", "counter", "Policy-map requests "
	    "answered, by the map's flavour and the kind of reply (series "
	    "appear once counted).");
	for (f = 0; f < PMAP_NFLAVOURS; f++)
		for (k = 0; k < PMAP_NKINDS; k++) {
			if (p->lookups[f][k] == 0)
				continue;
			snprintf(l, sizeof(l), "flavour=\"%s\",reply=\"%s\"",
			    pmap_reply_flavour_name((enum pmap_flavour)f),
			    pmap_reply_kind_name((enum pmap_kind)k));
			sample(b, "policymap_lookups_total", l,
			    p->lookups[f][k]);
		}
	one(b, "policymap_requests_total", "counter", "Policy-map requests "
	    "answered.", p->requests);
	one(b, "policymap_memo_hits_total", "counter", "Policy-map requests "
	    "answered again from a reactor's reply memo.", p->memo_hits);
	one(b, "policymap_deadline_total", "counter", "Policy-map requests "
	    "answered at policymap_deadline from what was known.",
	    p->deadline);
	one(b, "policymap_connections", "gauge", "Policy-map client "
	    "connections open.", p->connections);
	one(b, "policymap_reactors_realtime", "gauge", "Policy-map "
	    "reactors at SCHED_RR now (policymap_realtime; one busy more "
	    "than half the time steps down until it is quiet).", p->realtime);
}

static void
render_collect(struct buf *b, const struct metrics_snap *s)
{
	family(b, "collector_received_total", "counter", "TLS outcomes "
	    "received by the collectors: libtlsrpt datagrams, mail log "
	    "lines read.");
	sample(b, "collector_received_total", "source=\"datagram\"",
	    s->col.datagrams);
	if (s->have_lt)
		sample(b, "collector_received_total", "source=\"postfix_log\"",
		    s->lt.lines);
	family(b, "collector_journaled_total", "counter", "TLS sessions "
	    "journaled by the collectors.");
	sample(b, "collector_journaled_total", "source=\"datagram\"",
	    s->col.records);
	sample(b, "collector_journaled_total", "source=\"exim\"", s->col.exim);
	if (s->have_lt)
		sample(b, "collector_journaled_total", "source=\"postfix_log\"",
		    s->lt.journaled);
	family(b, "collector_rejected_total", "counter", "Datagrams and Exim "
	    "events refused by the parser.");
	sample(b, "collector_rejected_total", "source=\"datagram\"",
	    s->col.invalid);
	sample(b, "collector_rejected_total", "source=\"exim\"",
	    s->col.exim_invalid);
	family(b, "collector_dropped_total", "counter", "TLS outcomes lost: "
	    "queue full (never parsed) or the journal write failed.");
	sample(b, "collector_dropped_total", "reason=\"queue-full\"",
	    s->col.dropped);
	sample(b, "collector_dropped_total", "reason=\"journal-error\"",
	    s->col.lost);
	if (s->have_lt) {
		one(b, "postfix_log_smtp_lines_total", "counter", "Mail log "
		    "lines from Postfix's smtp(8).", s->lt.recognised);
		one(b, "postfix_log_sessions_total", "counter", "Complete TLS "
		    "sessions classified from the mail log.", s->lt.sessions);
	}
}

/* render_ship - the journal shipper of fleet mode */
static void
render_ship(struct buf *b, const struct ship_stats *st)
{
	one(b, "fleet_shipped_records_total", "counter", "Journal records "
	    "shipped to the fleet's Redis.", st->records);
	one(b, "fleet_ship_lag_bytes", "gauge", "Journal bytes not shipped "
	    "yet.", (unsigned long)st->lag_bytes);
	one(b, "fleet_ship_lag_seconds", "gauge", "Seconds since the shipper "
	    "last had shipped everything.", (unsigned long)st->lag_seconds);
	family(b, "fleet_redis_errors_total", "counter", "Failed calls to the "
	    "fleet's Redis (down, timed out, error answers), by part.");
	sample(b, "fleet_redis_errors_total", "part=\"shipper\"",
	    st->redis_errors + st->script_errors);
	family(b, "fleet_redis_up", "gauge", "1 if the part is connected to "
	    "the fleet's Redis.");
	sample(b, "fleet_redis_up", "part=\"shipper\"", (unsigned long)st->up);
}

/* render_fleet_cache - the shared policy and verdict cache (fleet_l2.h) */
static void
render_fleet_cache(struct buf *b, const struct fleet_l2_stats *st)
{
	family(b, "fleet_cache_policies_total", "counter", "Checks that "
	    "asked the fleet's Redis first, by what they found there: fresh "
	    "(used as it was), base (a newer policy, then checked), none.");
	sample(b, "fleet_cache_policies_total", "use=\"fresh\"", st->pol_fresh);
	sample(b, "fleet_cache_policies_total", "use=\"base\"", st->pol_base);
	sample(b, "fleet_cache_policies_total", "use=\"none\"", st->pol_none);
	family(b, "fleet_cache_lock_total", "counter", "Checks that took the "
	    "fleet's fetch lock, waited for another node's result, or gave "
	    "up waiting.");
	sample(b, "fleet_cache_lock_total", "outcome=\"owned\"",
	    st->lock_owned);
	sample(b, "fleet_cache_lock_total", "outcome=\"waited\"",
	    st->lock_waited);
	sample(b, "fleet_cache_lock_total", "outcome=\"alone\"",
	    st->lock_alone);
	family(b, "fleet_cache_verdicts_total", "counter", "MX probe verdicts "
	    "looked up in the fleet's Redis, by result.");
	sample(b, "fleet_cache_verdicts_total", "result=\"hit\"",
	    st->verdict_hits);
	sample(b, "fleet_cache_verdicts_total", "result=\"miss\"",
	    st->verdict_misses);
	one(b, "fleet_cache_unavailable_total", "counter", "Reads of the "
	    "fleet's cache not made or failed (Redis down, slow or busy).",
	    st->unavailable);
	family(b, "fleet_cache_writes_total", "counter", "Cache updates "
	    "written to the fleet's Redis, dropped (queue full), re-synced.");
	sample(b, "fleet_cache_writes_total", "result=\"written\"",
	    st->written);
	sample(b, "fleet_cache_writes_total", "result=\"dropped\"",
	    st->dropped);
	sample(b, "fleet_cache_writes_total", "result=\"resynced\"",
	    st->resynced);
	one(b, "fleet_cache_queued", "gauge", "Cache updates waiting to be "
	    "written to the fleet's Redis.", st->queued);
}

void
metrics_render(const struct metrics_snap *s, struct buf *b)
{
	family(b, "build_info", "gauge", "The running build (always 1).");
	buf_puts(b, "sts_milter_build_info{version=\"");
	label_value(b, s->version != NULL ? s->version : "unknown");
	buf_puts(b, "\"} 1\n");
	one(b, "start_time_seconds", "gauge", "Start time of the daemon, "
	    "seconds since the epoch.", (unsigned long)s->started);
	one(b, "uptime_seconds", "gauge", "Seconds since the daemon started.",
	    s->now > s->started ? (unsigned long)(s->now - s->started) : 0);
	render_gate(b, &s->gate);
	render_cache(b, s);
	render_dns(b, &s->dns);
	if (s->have_pm)
		render_pm(b, &s->pm);
	render_collect(b, s);
	one(b, "journal_write_errors_total", "counter", "Journal records that "
	    "could not be written.", s->journal_errors);
	if (s->have_ship)
		render_ship(b, &s->ship);
	if (s->have_fleet_cache)
		render_fleet_cache(b, &s->fleet_cache);
}

/* --- HTTP --------------------------------------------------------- */

int
metrics_http_request(const char *req, size_t len, int *head)
{
	const char	*end, *eol, *sp1, *sp2, *path;
	size_t		 mlen, plen;

	*head = 0;
	end = memmem(req, len, "\r\n\r\n", 4);
	if (end == NULL)
		end = memmem(req, len, "\n\n", 2);
	if (end == NULL)
		return len >= METRICS_HTTP_MAX ? 431 : 0;
	/* the first line ends at or right after end (end[1] is in req) */
	eol = memchr(req, '\n', (size_t)(end - req) + 2);
	if (eol > req && eol[-1] == '\r')
		eol--;
	if ((sp1 = memchr(req, ' ', (size_t)(eol - req))) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))) == NULL ||
	    (size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return 400;
	mlen = (size_t)(sp1 - req);
	path = sp1 + 1;
	plen = strcspn(path, "? ");
	if (path + plen > sp2)
		plen = (size_t)(sp2 - path);
	if (mlen == 0 || plen == 0 || path[0] != '/')
		return 400;
	if (mlen == 4 && memcmp(req, "HEAD", 4) == 0)
		*head = 1;
	else if (mlen != 3 || memcmp(req, "GET", 3) != 0)
		return 405;
	if (plen != 8 || memcmp(path, "/metrics", 8) != 0)
		return 404;
	return 200;
}

void
metrics_http_response(int code, int head, const struct buf *body,
    struct buf *out)
{
	static const struct {
		int		 code;
		const char	*text;
	} reasons[] = {
		{ 200, "OK" }, { 400, "Bad Request" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 431, "Request Header Fields Too Large" },
		{ 503, "Service Unavailable" }, { 0, NULL },
	};
	const char	*reason = "Error", *ctype = "text/plain; charset=utf-8";
	char		 msg[80];
	const char	*data;
	size_t		 n, i;

	for (i = 0; reasons[i].text != NULL; i++)
		if (reasons[i].code == code)
			reason = reasons[i].text;
	if (code == 200 && body != NULL) {
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		data = buf_str(body);
		n = body->b_len;
	} else {
		snprintf(msg, sizeof(msg), "%d %s%s\n", code, reason,
		    code == 404 ? ": try /metrics" : "");
		data = msg;
		n = strlen(msg);
	}
	buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", code, reason,
	    ctype, n, code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		buf_append(out, data, n);
}
