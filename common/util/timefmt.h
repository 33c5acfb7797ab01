/*
 * timefmt.h - UTC time text (RFC 3339) and days
 */
#ifndef TIMEFMT_H
#define TIMEFMT_H

#include <time.h>

#define TIMEFMT_LEN	21	/* "2026-11-30T12:00:00Z" + NUL */

/* timefmt_rfc3339 - "YYYY-MM-DDTHH:MM:SSZ" into buf (TIMEFMT_LEN) */
char	*timefmt_rfc3339(time_t, char *buf);
/* timefmt_day - "YYYY-MM-DD" into buf (11) */
char	*timefmt_day(time_t, char *buf);
/* timefmt_parse - "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD"; -1 if bad */
int	 timefmt_parse(const char *, time_t *);
/* timefmt_day_start - 00:00:00 UTC of the day holding t */
time_t	 timefmt_day_start(time_t);

#endif
