/*
 * test_metrics.c - the Prometheus text (metrics_render), the HTTP
 * request classifier and response framing
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metrics.h"

/* has_line - 1 if text has exactly this line */
static int
has_line(const char *text, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

static void
snap_fill(struct metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->now = 1700000100;
	s->started = 1700000000;
	s->version = "1.2 \"x\"\\";
	s->cache_entries = 7;
	s->journal_errors = 3;
	s->gate.decisions[GATE_ACCEPT][GATE_STAT_NO_POLICY] = 11;
	s->gate.decisions[GATE_ACCEPT][GATE_STAT_TESTING] = 2;
	s->gate.decisions[GATE_DEFER][GATE_STAT_ENFORCE] = 5;
	s->gate.deferrals[TLSRPT_CERTIFICATE_EXPIRED] = 4;
	s->gate.deferrals[TLSRPT_VALIDATION_FAILURE] = 1;
	s->gate.probes[TLSRPT_SUCCESS] = 9;
	s->gate.probes[TLSRPT_RESULT_MAX] = 6;
	s->cache.hits = 100;
	s->cache.misses = 8;
	s->cache.fetches[TLSRPT_SUCCESS] = 3;
	s->cache.fetches[TLSRPT_STS_WEBPKI_INVALID] = 2;
	s->dns.queries[DNS_Q_MX] = 12;
	s->dns.failures[DNS_Q_AAAA] = 1;
	s->col.datagrams = 20;
	s->col.records = 19;
	s->col.invalid = 1;
	s->col.dropped = 2;
	s->col.lost = 1;
	s->col.exim = 4;
	s->col.exim_invalid = 5;
}

/* Each row: a line the rendered snapshot must have (exact values). */
static const char *const want_lines[] = {
	"sts_milter_build_info{version=\"1.2 \\\"x\\\"\\\\\"} 1",
	"sts_milter_start_time_seconds 1700000000",
	"sts_milter_uptime_seconds 100",
	"sts_milter_rcpt_decisions_total{action=\"accept\",mode=\"no-policy\"} 11",
	"sts_milter_rcpt_decisions_total{action=\"accept\",mode=\"testing\"} 2",
	"sts_milter_rcpt_decisions_total{action=\"accept\",mode=\"enforce\"} 0",
	"sts_milter_rcpt_decisions_total{action=\"defer\",mode=\"enforce\"} 5",
	"sts_milter_deferrals_total{result=\"certificate-expired\"} 4",
	"sts_milter_deferrals_total{result=\"validation-failure\"} 1",
	"sts_milter_deferrals_total{result=\"starttls-not-supported\"} 0",
	"sts_milter_probes_total{result=\"success\"} 9",
	"sts_milter_probes_total{result=\"no-session\"} 6",
	"sts_milter_policy_fetches_total{result=\"success\"} 3",
	"sts_milter_policy_fetches_total{result=\"sts-webpki-invalid\"} 2",
	"sts_milter_policy_fetches_total{result=\"sts-policy-invalid\"} 0",
	"sts_milter_policy_cache_entries 7",
	"sts_milter_policy_cache_hits_total 100",
	"sts_milter_policy_cache_misses_total 8",
	"sts_milter_dns_queries_total{type=\"MX\"} 12",
	"sts_milter_dns_failures_total{type=\"AAAA\"} 1",
	"sts_milter_collector_received_total{source=\"datagram\"} 20",
	"sts_milter_collector_journaled_total{source=\"datagram\"} 19",
	"sts_milter_collector_journaled_total{source=\"exim\"} 4",
	"sts_milter_collector_rejected_total{source=\"datagram\"} 1",
	"sts_milter_collector_rejected_total{source=\"exim\"} 5",
	"sts_milter_collector_dropped_total{reason=\"queue-full\"} 2",
	"sts_milter_collector_dropped_total{reason=\"journal-error\"} 1",
	"sts_milter_journal_write_errors_total 3",
	"# TYPE sts_milter_rcpt_decisions_total counter",
	"# TYPE sts_milter_policy_cache_entries gauge",
};

/* Lines that must not be there. */
static const char *const unwanted[] = {
	"defer\",mode=\"testing\"",	/* only enforce defers */
	"deferrals_total{result=\"success\"}",
	"probes_total{result=\"sts-policy-invalid\"}",
	"policymap_requests_total",	/* have_pm = 0 */
	"source=\"postfix_log\"",	/* have_lt = 0 */
};

static void
test_metrics_render_values(void)
{
	struct metrics_snap	s;
	struct buf		b = BUF_INIT;
	size_t			i;

	snap_fill(&s);
	metrics_render(&s, &b);
	for (i = 0; i < sizeof(want_lines) / sizeof(want_lines[0]); i++)
		CHECKF(has_line(buf_str(&b), want_lines[i]), "row %zu: %s", i,
		    want_lines[i]);
	for (i = 0; i < sizeof(unwanted) / sizeof(unwanted[0]); i++)
		CHECKF(strstr(buf_str(&b), unwanted[i]) == NULL, "row %zu: %s",
		    i, unwanted[i]);
	buf_free(&b);
}

static void
test_metrics_render_optional(void)
{
	struct metrics_snap	s;
	struct buf		b = BUF_INIT;

	snap_fill(&s);
	s.have_pm = 1;
	s.pm.requests = 40;
	s.pm.memo_hits = 30;
	s.pm.connections = 2;
	s.pm.deadline = 1;
	s.pm.lookups[PMAP_POSTFIX][PMAP_SECURE] = 25;
	s.pm.lookups[PMAP_EXIM][PMAP_VETO] = 3;
	s.have_lt = 1;
	s.lt.lines = 50;
	s.lt.recognised = 10;
	s.lt.sessions = 4;
	s.lt.journaled = 3;
	s.now = s.started - 5;			/* a clock step back */
	metrics_render(&s, &b);
	CHECK(has_line(buf_str(&b), "sts_milter_policymap_requests_total 40"));
	CHECK(has_line(buf_str(&b), "sts_milter_policymap_memo_hits_total 30"));
	CHECK(has_line(buf_str(&b), "sts_milter_policymap_connections 2"));
	CHECK(has_line(buf_str(&b), "sts_milter_policymap_deadline_total 1"));
	CHECK(has_line(buf_str(&b), "sts_milter_policymap_lookups_total"
	    "{flavour=\"postfix\",reply=\"secure\"} 25"));
	CHECK(has_line(buf_str(&b), "sts_milter_policymap_lookups_total"
	    "{flavour=\"exim\",reply=\"veto\"} 3"));
	CHECK(strstr(buf_str(&b), "reply=\"may\"") == NULL);	/* zero */
	CHECK(has_line(buf_str(&b),
	    "sts_milter_collector_received_total{source=\"postfix_log\"} 50"));
	CHECK(has_line(buf_str(&b),
	    "sts_milter_collector_journaled_total{source=\"postfix_log\"} 3"));
	CHECK(has_line(buf_str(&b), "sts_milter_postfix_log_sessions_total 4"));
	CHECK(has_line(buf_str(&b), "sts_milter_uptime_seconds 0"));
	buf_free(&b);
}

/*
 * The format's rules, line by line: every sample belongs to the family
 * of the TYPE line before it, names carry the prefix, counters end in
 * _total, no family is declared twice, and labels never hold anything
 * but the fixed values (no dot: never a domain or address).
 */
static void
test_metrics_render_format(void)
{
	struct metrics_snap	 s;
	struct buf		 b = BUF_INIT;
	char			*text, *line, *save = NULL;
	char			 fam[128] = "", type[16] = "", seen[8192] = " ";
	int			 nsamples = 0;

	snap_fill(&s);
	s.have_pm = s.have_lt = 1;
	s.version = "1";
	metrics_render(&s, &b);
	CHECK(b.b_len > 0 && buf_str(&b)[b.b_len - 1] == '\n');
	text = buf_release(&b);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char	name[128], key[140];

		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (sscanf(line, "# TYPE %127s %15s", fam, type) == 2) {
			snprintf(key, sizeof(key), " %s ", fam);
			CHECKF(strstr(seen, key) == NULL, "twice: %s", fam);
			if (strlen(seen) + strlen(key) < sizeof(seen))
				strcat(seen, key + 1);
			CHECKF(strncmp(fam, "sts_milter_", 11) == 0, "%s", fam);
			CHECKF(strcmp(type, "counter") != 0 ||
			    (strlen(fam) > 6 &&
			    strcmp(fam + strlen(fam) - 6, "_total") == 0),
			    "counter %s", fam);
			continue;
		}
		CHECKF(line[0] != '#', "stray comment: %s", line);
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, "{ "),
		    line);
		CHECKF(strcmp(name, fam) == 0, "sample %s under %s", line, fam);
		CHECKF(strchr(line, '.') == NULL, "a dot in %s", line);
		nsamples++;
	}
	CHECK(nsamples > 40);
	free(text);
}

static const struct {
	const char	*req;
	int		 code, head;
} http_cases[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",	200, 0 },
	{ "GET /metrics HTTP/1.0\r\n\r\n",		200, 0 },
	{ "GET /metrics?x=1 HTTP/1.1\r\n\r\n",		200, 0 },
	{ "HEAD /metrics HTTP/1.1\r\n\r\n",		200, 1 },
	{ "GET /metrics HTTP/1.1\n\n",			200, 0 },
	{ "GET / HTTP/1.1\r\n\r\n",			404, 0 },
	{ "GET /metricsx HTTP/1.1\r\n\r\n",		404, 0 },
	{ "GET /metric HTTP/1.1\r\n\r\n",		404, 0 },
	{ "POST /metrics HTTP/1.1\r\n\r\n",		405, 0 },
	{ "DELETE / HTTP/1.1\r\n\r\n",			405, 0 },
	{ "GET /metrics HTTP/2.0\r\n\r\n",		400, 0 },
	{ "GET /metrics\r\n\r\n",			400, 0 },
	{ "GET metrics HTTP/1.1\r\n\r\n",		400, 0 },
	{ " /metrics HTTP/1.1\r\n\r\n",			400, 0 },
	{ "GET /metrics HTTP/1.1x\r\n\r\n",		400, 0 },
	{ "GET /metrics HTTP/1.1\r\n",			0, 0 },	/* more */
	{ "GET /met",					0, 0 },
	{ "",						0, 0 },
};

static void
test_metrics_http_request(void)
{
	size_t	i;
	int	head;

	for (i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
		head = -1;
		CHECKF(metrics_http_request(http_cases[i].req,
		    strlen(http_cases[i].req), &head) == http_cases[i].code,
		    "row %zu: %s", i, http_cases[i].req);
		CHECKF(head == http_cases[i].head, "row %zu head", i);
	}
}

static void
test_metrics_http_oversize(void)
{
	char	req[METRICS_HTTP_MAX];
	int	head;

	memset(req, 'a', sizeof(req));
	CHECK_INT(metrics_http_request(req, sizeof(req) - 1, &head), 0);
	CHECK_INT(metrics_http_request(req, sizeof(req), &head), 431);
	/* a NUL in the request line is not a path */
	memcpy(req, "GET /me\0rics HTTP/1.1\r\n\r\n", 26);
	CHECK_INT(metrics_http_request(req, 26, &head), 404);
}

static void
test_metrics_http_response(void)
{
	struct buf	body = BUF_INIT, out = BUF_INIT;

	buf_puts(&body, "a 1\n");
	metrics_http_response(200, 0, &body, &out);
	CHECK_STR(buf_str(&out), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\n"
	    "Connection: close\r\n\r\na 1\n");
	buf_reset(&out);
	metrics_http_response(200, 1, &body, &out);	/* HEAD: no body */
	CHECK(strstr(buf_str(&out), "Content-Length: 4\r\n") != NULL);
	CHECK(strcmp(buf_str(&out) + out.b_len - 4, "\r\n\r\n") == 0);
	buf_reset(&out);
	metrics_http_response(405, 0, NULL, &out);
	CHECK(strncmp(buf_str(&out), "HTTP/1.1 405 Method Not Allowed\r\n",
	    33) == 0);
	CHECK(strstr(buf_str(&out), "\r\nAllow: GET, HEAD\r\n") != NULL);
	buf_reset(&out);
	metrics_http_response(404, 0, NULL, &out);
	CHECK(strstr(buf_str(&out), "Content-Length: 28\r\n") != NULL);
	CHECK(strstr(buf_str(&out), "\r\n\r\n404 Not Found: try /metrics\n")
	    != NULL);
	buf_free(&body);
	buf_free(&out);
}

int
main(void)
{
	RUN(test_metrics_render_values);
	RUN(test_metrics_render_optional);
	RUN(test_metrics_render_format);
	RUN(test_metrics_http_request);
	RUN(test_metrics_http_oversize);
	RUN(test_metrics_http_response);
	return harness_done("test_metrics");
}
