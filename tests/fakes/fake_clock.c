/*
 * fake_clock.c - a clock the test sets and advances
 */
#include <time.h>

#include "clock.h"
#include "fakes.h"

static time_t	fake_now = 1700000000;	/* 2023-11-14T22:13:20Z */

time_t
clock_now(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

int64_t
clock_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fake_clock_set(time_t t)
{
	__atomic_store_n(&fake_now, t, __ATOMIC_SEQ_CST);
}

void
fake_clock_advance(time_t d)
{
	__atomic_add_fetch(&fake_now, d, __ATOMIC_SEQ_CST);
}
