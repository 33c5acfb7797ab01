/*
 * clock.c - real clock (tests use tests/fakes/fake_clock.c)
 */
#include <time.h>

#include "clock.h"

time_t
clock_now(void)
{
	return time(NULL);
}

int64_t
clock_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
