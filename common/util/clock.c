/*
 * clock.c - real clock (tests use tests/fakes/fake_clock.c; the test
 * builds of the programs add STS_TEST_CLOCK's offset, see clock.h)
 */
#include <time.h>

#include "clock.h"

#ifdef STS_TEST_CLOCK
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define TEST_CLOCK_REREAD_MS	50

static _Atomic long long	test_offset;
static _Atomic int64_t		test_next_read;
static pthread_once_t		test_once = PTHREAD_ONCE_INIT;

/* read_offset - the offset in STS_TEST_CLOCK_FILE (no variable: 0; an
 * unreadable file keeps the last one) */
static void
read_offset(void)
{
	const char	*p = getenv("STS_TEST_CLOCK_FILE");
	FILE		*f;
	long long	 v;

	if (p != NULL && *p != '\0' && (f = fopen(p, "re")) != NULL) {
		if (fscanf(f, "%lld", &v) == 1)
			atomic_store(&test_offset, v);
		fclose(f);
	}
}

static void
first_read(void)
{
	read_offset();
	atomic_store(&test_next_read, clock_mono_ms() + TEST_CLOCK_REREAD_MS);
}

static time_t
offset(void)
{
	int64_t	 m, next;

	pthread_once(&test_once, first_read);	/* no caller sees 0 first */
	m = clock_mono_ms();
	next = atomic_load(&test_next_read);
	if (m >= next && atomic_compare_exchange_strong(&test_next_read, &next,
	    m + TEST_CLOCK_REREAD_MS))
		read_offset();
	return (time_t)atomic_load(&test_offset);
}
#endif

time_t
clock_now(void)
{
#ifdef STS_TEST_CLOCK
	return time(NULL) + offset();
#else
	return time(NULL);
#endif
}

int64_t
clock_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
