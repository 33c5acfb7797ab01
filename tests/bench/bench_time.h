/*
 * bench_time.h - the clocks of the benchmarks and load generators
 * (tests/bench, tests/tools): monotonic time, and the CPU time of the
 * process (all its threads)
 */
#ifndef BENCH_TIME_H
#define BENCH_TIME_H

#include <stdint.h>
#include <time.h>

/* bench_time_s - CLOCK_MONOTONIC in seconds */
static inline double
bench_time_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* bench_time_ns - CLOCK_MONOTONIC in nanoseconds */
static inline int64_t
bench_time_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* bench_time_cpu_s - the process's CPU time in seconds */
static inline double
bench_time_cpu_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
