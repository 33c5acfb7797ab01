/*
 * timefmt.c - UTC time text (RFC 3339) and days
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

char *
timefmt_rfc3339(time_t t, char *buf)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, TIMEFMT_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

char *
timefmt_day(time_t t, char *buf)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
	return buf;
}

int
timefmt_parse(const char *s, time_t *out)
{
	struct tm	tm;
	int		y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	size_t		len = strlen(s);

	memset(&tm, 0, sizeof(tm));
	if (len == 10) {
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
			return -1;
	} else if (len == 20) {
		if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi,
		    &se, &n) != 6 || n != 20)
			return -1;
	} else
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	gmtime_r(out, &tm);
	if (tm.tm_mday != d)		/* 2026-02-31 */
		return -1;
	return 0;
}

time_t
timefmt_day_start(time_t t)
{
	return t - (t % 86400);
}
