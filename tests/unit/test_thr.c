/*
 * test_thr.c - the scheduling hints (thr.c, issue 15): a background
 * thread is named and runs at nice 10; an interactive one is named, keeps
 * its nice value, and either gets its short slice or is left as it was
 * (the kernel decides: Linux >= 6.12 takes it)
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "thr.h"

struct probe {
	void		(*fn)(struct probe *);
	int		 nice_before, nice_after, rc;
	char		 name[16];
	uint64_t	 slice, child_slice;
};

/* the kernel's view of the calling thread: SCHED_OTHER's runtime */
static uint64_t
slice_now(void)
{
	struct {
		uint32_t	size, policy;
		uint64_t	flags;
		int32_t		nice;
		uint32_t	prio;
		uint64_t	runtime, deadline, period;
	} a;

	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof(a), 0) != 0)
		return 0;
	return a.runtime;
}

static void
bg(struct probe *p)
{
	thr_background("t-bg");
}

static void
inter(struct probe *p)
{
	p->rc = thr_interactive("t-inter");
}

static void *
child(void *arg)
{
	*(uint64_t *)arg = slice_now();
	return NULL;
}

static void *
run(void *arg)
{
	struct probe	*p = arg;
	pthread_t	 t;

	p->nice_before = getpriority(PRIO_PROCESS, (id_t)gettid());
	p->fn(p);
	p->nice_after = getpriority(PRIO_PROCESS, (id_t)gettid());
	(void)pthread_getname_np(pthread_self(), p->name, sizeof(p->name));
	p->slice = slice_now();
	if (pthread_create(&t, NULL, child, &p->child_slice) == 0)
		pthread_join(t, NULL);
	return NULL;
}

static void
test_thr_table(void)
{
	static const struct {
		void		(*fn)(struct probe *);
		const char	*name;
		int		 nice_delta;
		int		 interactive;
	} rows[] = {
		{ bg, "t-bg", 10, 0 },
		{ inter, "t-inter", 0, 1 },
	};
	struct probe	p;
	pthread_t	t;
	size_t		r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		memset(&p, 0, sizeof(p));
		p.fn = rows[r].fn;
		CHECK(pthread_create(&t, NULL, run, &p) == 0);
		pthread_join(t, NULL);
		CHECK_STR(p.name, rows[r].name);
		/* nice 19 is the floor: a test run under nice keeps it */
		CHECKF(p.nice_after == (p.nice_before + rows[r].nice_delta > 19 ?
		    19 : p.nice_before + rows[r].nice_delta),
		    "row %zu: nice %d -> %d", r, p.nice_before, p.nice_after);
		if (rows[r].interactive)
			/* taken: the kernel reports the slice asked for */
			CHECKF(p.rc != 0 || p.slice == THR_SLICE_NS,
			    "row %zu: rc %d, slice %llu", r, p.rc,
			    (unsigned long long)p.slice);
		/* not handed down to the threads it starts */
		CHECKF(p.child_slice != THR_SLICE_NS, "row %zu: child slice %llu",
		    r, (unsigned long long)p.child_slice);
	}
}

int
main(void)
{
	RUN(test_thr_table);
	return harness_done("test_thr");
}
