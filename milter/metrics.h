/*
 * metrics.h - the daemon's counters in the Prometheus text exposition
 * format 0.0.4, and the little HTTP that serves them (metrics_listen)
 *
 * The pure part: metrics_render() turns one snapshot of the counters
 * that the modules keep (gate, policy cache, DNS, policy map,
 * collectors, journal) into the text of GET /metrics;
 * metrics_http_request() classifies one HTTP/1.x request head and
 * metrics_http_response() frames the answer.  No I/O, no globals, no
 * logging: table-tested in tests/unit/test_metrics.c.
 *
 * Names follow the Prometheus conventions: the sts_milter_ prefix,
 * counters end in _total, times are seconds, and every label takes a
 * value from a fixed list (actions, modes, RFC 8460 result types,
 * record types, map flavours): never a domain, host or address.  The
 * list with types and labels is README.md "Monitoring".
 *
 * The listener (metrics_listen.h) runs in a thread of its own and
 * calls back into the daemon for each scrape; the counters are atomics
 * read without locks, so a scrape never waits for the mail path.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "collect.h"
#include "dns.h"
#include "fleet_l2.h"
#include "gate.h"
#include "logtail.h"
#include "pmap_server.h"
#include "ship.h"
#include "sts_cache.h"

struct metrics_snap {
	time_t			 now, started;	/* seconds since the epoch */
	const char		*version;	/* build_info's label */
	unsigned long		 cache_entries;
	unsigned long		 journal_errors;
	struct gate_stats	 gate;
	struct sts_cache_stats	 cache;
	struct dns_stats	 dns;
	int			 have_pm;	/* policy map configured */
	struct pmap_server_stats pm;
	struct collect_stats	 col;
	int			 have_lt;	/* postfix_log followed */
	struct logtail_stats	 lt;
	int			 have_ship;	/* fleet mode: the shipper */
	struct ship_stats	 ship;
	int			 have_fleet_cache; /* fleet mode: fleet_l2 */
	struct fleet_l2_stats	 fleet_cache;
};

/* metrics_render - append the exposition text of s to out */
void	metrics_render(const struct metrics_snap *s, struct buf *out);

/* The largest request head metrics_http_request() waits for. */
#define METRICS_HTTP_MAX	4096

/*
 * metrics_http_request - classify the request head in req[0..len):
 *   0    incomplete: read more (len < METRICS_HTTP_MAX)
 *   200  GET or HEAD of /metrics (a query string is ignored)
 *   400  not an HTTP/1.x request line
 *   404  another path
 *   405  another method
 *   431  no end of the head within METRICS_HTTP_MAX bytes
 * *head is set to 1 for HEAD (no body in the answer).
 */
int	metrics_http_request(const char *req, size_t len, int *head);

/*
 * metrics_http_response - the whole HTTP/1.1 answer with status code
 * and, for 200, body (the exposition text, Content-Type text/plain;
 * version=0.0.4); Connection: close, since one connection serves one
 * request.
 */
void	metrics_http_response(int code, int head, const struct buf *body,
	    struct buf *out);

#endif
