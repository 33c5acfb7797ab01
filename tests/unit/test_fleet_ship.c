/*
 * test_fleet_ship.c - the shipper's rules: which day a node declares
 * closed, day file names, when a day's keys expire
 */
#include <string.h>

#include "fleet_ship.h"
#include "timefmt.h"

#include "../harness.h"

#define D(day, off, size, torn)	{ day, off, size, torn }

static const struct {
	const char		*now;
	int			 delay;
	struct fleet_ship_day	 days[4];
	size_t			 n;
	const char		*want;		/* NULL: none */
} closed[] = {
	/* no files: every day that is over (plus the delay) is closed */
	{ "2026-12-06T00:10:00Z", 600, { D("", 0, 0, 0) }, 0, "2026-12-05" },
	{ "2026-12-06T00:09:59Z", 600, { D("", 0, 0, 0) }, 0, "2026-12-04" },
	{ "2026-12-06T12:00:00Z", 0, { D("", 0, 0, 0) }, 0, "2026-12-05" },
	/* all shipped */
	{ "2026-12-06T12:00:00Z", 600, { D("2026-12-04", 10, 10, 0),
	  D("2026-12-05", 20, 20, 0), D("2026-12-06", 5, 30, 0) }, 3,
	  "2026-12-05" },
	/* yesterday not shipped to its end: the day before it */
	{ "2026-12-06T12:00:00Z", 600, { D("2026-12-04", 10, 10, 0),
	  D("2026-12-05", 19, 20, 0), D("2026-12-06", 5, 30, 0) }, 3,
	  "2026-12-04" },
	/* a torn tail counts as shipped */
	{ "2026-12-06T12:00:00Z", 600, { D("2026-12-04", 10, 10, 0),
	  D("2026-12-05", 19, 20, 1) }, 2, "2026-12-05" },
	/* an old day behind: the watermark stays before it */
	{ "2026-12-06T12:00:00Z", 600, { D("2026-12-01", 0, 10, 0),
	  D("2026-12-05", 20, 20, 0) }, 2, "2026-11-30" },
	/* today's file does not matter */
	{ "2026-12-06T12:00:00Z", 600, { D("2026-12-06", 0, 10, 0) }, 1,
	  "2026-12-05" },
};

static void
test_ship_closed(void)
{
	size_t	i;

	for (i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
		char	out[11] = "";
		time_t	now;
		int	rc;

		CHECK_INT(timefmt_parse(closed[i].now, &now), 0);
		rc = fleet_ship_closed(now, closed[i].delay, closed[i].days,
		    closed[i].n, out);
		CHECKF(rc == (closed[i].want != NULL), "row %zu", i);
		if (rc && closed[i].want)
			CHECKF(strcmp(out, closed[i].want) == 0,
			    "row %zu: %s, want %s", i, out, closed[i].want);
	}
}

static void
test_ship_day_name(void)
{
	char	day[11];

	CHECK_INT(fleet_ship_day_name("2026-12-06.jnl", day), 1);
	CHECK_STR(day, "2026-12-06");
	CHECK_INT(fleet_ship_day_name("2026-12-06.jnl.tmp", day), 0);
	CHECK_INT(fleet_ship_day_name("2026-02-31.jnl", day), 0);
	CHECK_INT(fleet_ship_day_name("x026-12-06.jnl", day), 0);
	CHECK_INT(fleet_ship_day_name(".jnl", day), 0);
}

static void
test_ship_expire_at(void)
{
	time_t	t;

	CHECK_INT(timefmt_parse("2026-12-23T00:00:00Z", &t), 0);
	/* end of the 6th + 14 + 2 days */
	CHECK_INT(fleet_ship_expire_at("2026-12-06", 14), t);
	CHECK_INT(fleet_ship_expire_at("bad", 14), 0);
}

int
main(void)
{
	RUN(test_ship_closed);
	RUN(test_ship_day_name);
	RUN(test_ship_expire_at);
	return harness_done("test_fleet_ship");
}
