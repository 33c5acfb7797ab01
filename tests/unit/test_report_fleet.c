/*
 * test_report_fleet.c - the fleet reporter's pure decision: may a day be
 * reported, given which nodes shipped it, which closed it, the clock and
 * fleet_report_grace (issue 12 item 4)
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "report_fleet.h"
#include "timefmt.h"

static void
test_report_fleet_ready_table(void)
{
	static const struct {
		const char	*day;
		const char	*now;		/* RFC 3339 */
		long		 grace;
		const char	*closed[3];	/* per node n1 n2 n3 */
		size_t		 n;
		enum report_fleet_ready want;
		const char	*missing;
	} t[] = {
		/* every node closed the day (or a later one) */
		{ "2026-11-01", "2026-11-02T00:10:00Z", 21600,
		  { "2026-11-01", "2026-11-01", "2026-11-03" }, 3,
		  FLEET_DAY_READY, "" },
		/* one has not: wait within the grace */
		{ "2026-11-01", "2026-11-02T05:59:59Z", 21600,
		  { "2026-11-01", "2026-10-31", "2026-11-01" }, 3,
		  FLEET_DAY_WAIT, "n2" },
		/* grace over: report anyway, naming the missing */
		{ "2026-11-01", "2026-11-02T06:00:00Z", 21600,
		  { "2026-11-01", "2026-10-31", "" }, 3,
		  FLEET_DAY_OVERDUE, "n2 n3" },
		/* a node that never closed anything */
		{ "2026-11-01", "2026-11-02T01:00:00Z", 21600,
		  { "", "", "" }, 3, FLEET_DAY_WAIT, "n1 n2 n3" },
		/* grace 0: at once after the day */
		{ "2026-11-01", "2026-11-02T00:00:00Z", 0,
		  { "2026-10-30", NULL, NULL }, 1, FLEET_DAY_OVERDUE, "n1" },
		/* nobody shipped the day: nothing to wait for */
		{ "2026-11-01", "2026-11-02T00:00:00Z", 21600,
		  { NULL, NULL, NULL }, 0, FLEET_DAY_READY, "" },
	};
	char	*nodes[3] = { "n1", "n2", "n3" };
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct buf	miss = BUF_INIT;
		char		*closed[3];
		time_t		 now = 0;

		memcpy(closed, t[i].closed, sizeof(closed));
		CHECK(timefmt_parse(t[i].now, &now) == 0);
		CHECKF(report_fleet_ready(t[i].day, now, t[i].grace, t[i].n,
		    nodes, closed, &miss) == t[i].want, "row %zu", i);
		CHECKF(strcmp(buf_str(&miss), t[i].missing) == 0,
		    "row %zu: missing \"%s\"", i, buf_str(&miss));
		buf_free(&miss);
	}
}

int
main(void)
{
	RUN(test_report_fleet_ready_table);
	return harness_done("test_report_fleet");
}
