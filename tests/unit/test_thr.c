/*
 * test_thr.c - the scheduling hints (thr.c, issue 15): a background
 * thread is named and runs at nice 10; an interactive one is named, keeps
 * its nice value, and either gets its short slice or is left as it was
 * (the kernel decides: Linux >= 6.12 takes it); a real-time one is
 * SCHED_RR at the priority asked for, not handed down to its threads,
 * refused to a user without RLIMIT_RTPRIO and allowed once root raised
 * the limit before becoming that user (thr_realtime_allow)
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "thr.h"

struct probe {
	void		(*fn)(struct probe *);
	int		 nice_before, nice_after, rc, err;
	int		 policy, prio, child_policy;
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

static void
rt(struct probe *p)
{
	errno = 0;
	p->rc = thr_realtime("t-rt", THR_RT_PRIO);
	p->err = errno;
}

static void *
child(void *arg)
{
	struct probe	*p = arg;

	p->child_slice = slice_now();
	p->child_policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
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
	p->policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
	{
		struct sched_param	sp;

		p->prio = sched_getparam(0, &sp) == 0 ? sp.sched_priority : -1;
	}
	if (pthread_create(&t, NULL, child, p) == 0)
		pthread_join(t, NULL);
	return NULL;
}

/* probe_in_thread - fn in a thread of its own, as a daemon's thread */
static void
probe_in_thread(struct probe *p, void (*fn)(struct probe *))
{
	pthread_t	t;

	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->policy = p->child_policy = -1;
	if (pthread_create(&t, NULL, run, p) == 0)
		pthread_join(t, NULL);
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
	size_t		r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		probe_in_thread(&p, rows[r].fn);
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
		CHECKF(p.policy == SCHED_OTHER, "row %zu: policy %d", r,
		    p.policy);
	}
}

/* thr_realtime as root: SCHED_RR at THR_RT_PRIO, its threads SCHED_OTHER */
static void
test_thr_realtime(void)
{
	struct probe	p;

	if (geteuid() != 0) {
		SKIP("needs root (CAP_SYS_NICE)");
		return;
	}
	probe_in_thread(&p, rt);
	CHECKF(p.rc == 0, "rc %d: %s", p.rc, strerror(p.err));
	CHECK_STR(p.name, "t-rt");
	CHECK_INT(p.policy, SCHED_RR);
	CHECK_INT(p.prio, THR_RT_PRIO);
	CHECK_INT(p.child_policy, SCHED_OTHER);	/* reset on fork */
}

/*
 * as a user: refused without RLIMIT_RTPRIO (the thread as it was), taken
 * when root raised the limit before becoming the user, refused above it.
 * In a child that becomes nobody; its exit status says which step failed.
 * Raising a hard limit of 0 needs CAP_SYS_RESOURCE (some containers'
 * root lacks it): then the second half is skipped.
 */
static void
test_thr_realtime_user(void)
{
	struct rlimit	rl;
	struct probe	p;
	pid_t		pid;
	int		st = -1;

	if (geteuid() != 0) {
		SKIP("needs root (to become nobody with and without the limit)");
		return;
	}
	if ((pid = fork()) == 0) {
		if (getrlimit(RLIMIT_RTPRIO, &rl) != 0)
			_exit(8);
		rl.rlim_cur = 0;		/* the hard limit as it is */
		if (setrlimit(RLIMIT_RTPRIO, &rl) != 0)
			_exit(8);
		if (fork() == 0) {	/* nobody, limit 0 */
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(2);
			probe_in_thread(&p, rt);
			_exit(p.rc == -1 && p.err == EPERM &&
			    p.policy == SCHED_OTHER ? 0 : 3);
		}
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 9);
		if (thr_realtime_allow(THR_RT_PRIO) != 0)
			_exit(errno == EPERM ? 7 : 4);
		if (getrlimit(RLIMIT_RTPRIO, &rl) != 0 ||
		    rl.rlim_cur != THR_RT_PRIO)
			_exit(4);
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		probe_in_thread(&p, rt);
		if (p.rc != 0 || p.policy != SCHED_RR ||
		    p.prio != THR_RT_PRIO)
			_exit(5);
		errno = 0;		/* and no higher than the limit */
		_exit(thr_realtime("t-rt2", THR_RT_PRIO + 1) == -1 &&
		    errno == EPERM ? 0 : 6);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	/* 7: the first half passed (refused without the limit) */
	CHECKF(WIFEXITED(st) && (WEXITSTATUS(st) == 0 ||
	    WEXITSTATUS(st) == 7), "child: status %#x", st);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 7) {
		SKIP("refused without the limit (checked); cannot raise a "
		    "hard RLIMIT_RTPRIO of 0 here (no CAP_SYS_RESOURCE)");
		return;
	}
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: status %#x "
	    "(2: could not become nobody, 3: taken without the limit, 4: "
	    "limit not raised, 5: refused with it, 6: above it taken, 8: "
	    "getrlimit/setrlimit)", st);
}

/* thr_realtime_allow leaves a higher limit alone */
static void
test_thr_realtime_allow_keeps(void)
{
	struct rlimit	rl, was;

	CHECK_INT(getrlimit(RLIMIT_RTPRIO, &was), 0);
	rl.rlim_cur = rl.rlim_max = was.rlim_max;	/* as high as we may */
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 5) {
		SKIP("RLIMIT_RTPRIO hard limit below 5");
		return;
	}
	rl.rlim_cur = 5;
	CHECK_INT(setrlimit(RLIMIT_RTPRIO, &rl), 0);
	CHECK_INT(thr_realtime_allow(THR_RT_PRIO), 0);
	CHECK_INT(getrlimit(RLIMIT_RTPRIO, &rl), 0);
	CHECKF(rl.rlim_cur == 5, "limit %llu", (unsigned long long)rl.rlim_cur);
	(void)setrlimit(RLIMIT_RTPRIO, &was);
}

/* the governor's rule: step down above THR_RT_HIGH, up below THR_RT_LOW,
 * else stay */
static void
test_thr_rt_decide(void)
{
	static const struct { int on, share, want; } rows[] = {
		{ 1, 0, 1 }, { 1, 70, 1 }, { 1, THR_RT_HIGH, 1 },
		{ 1, THR_RT_HIGH + 1, 0 }, { 1, 1000, 0 }, { 1, 2000, 0 },
		{ 0, 1000, 0 }, { 0, THR_RT_HIGH, 0 }, { 0, THR_RT_LOW, 0 },
		{ 0, THR_RT_LOW - 1, 1 }, { 0, 0, 1 },
	};
	size_t	r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
		CHECKF(thr_rt_decide(rows[r].on, rows[r].share) ==
		    rows[r].want, "row %zu: on %d, share %d", r, rows[r].on,
		    rows[r].share);
}

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct gov {
	int	started, rc_start;
	int	after_spin, policy_spin;	/* on, and the kernel's view */
	int	after_rest, policy_rest;
	int	off_ticks;			/* prio 0: never changes */
};

static void *
governed(void *arg)
{
	struct gov	*g = arg;
	struct thr_rt	 rt, off;
	int64_t		 end;
	int		 i;

	g->rc_start = thr_rt_start(&rt, "t-gov", THR_RT_PRIO);
	g->started = rt.on;
	/* busy: three windows of work, ticking as a loop would */
	g->after_spin = 1;
	end = mono_ms() + 3 * THR_RT_WINDOW_MS + 20;
	while (mono_ms() < end)
		if (thr_rt_tick(&rt) && !rt.on && g->after_spin) {
			/* stepped down: what the kernel says then (a busy
			 * machine may let it step up again later) */
			g->after_spin = 0;
			g->policy_spin = sched_getscheduler(0) &
			    ~SCHED_RESET_ON_FORK;
		}
	/* quiet: a tick every 5 ms for three windows */
	for (i = 0; i < 3 * THR_RT_WINDOW_MS / 5 + 4; i++) {
		usleep(5000);
		(void)thr_rt_tick(&rt);
	}
	g->after_rest = rt.on;
	g->policy_rest = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
	/* prio 0: the short slice, never real-time, ticks do nothing */
	(void)thr_rt_start(&off, "t-gov", 0);
	end = mono_ms() + 2 * THR_RT_WINDOW_MS + 20;
	while (mono_ms() < end)
		g->off_ticks += thr_rt_tick(&off);
	return NULL;
}

/* the governor at work: real-time while quiet, not while busy */
static void
test_thr_rt_governor(void)
{
	struct gov	g;
	pthread_t	t;

	if (geteuid() != 0) {
		SKIP("needs root (CAP_SYS_NICE)");
		return;
	}
	memset(&g, 0, sizeof(g));
	CHECK(pthread_create(&t, NULL, governed, &g) == 0);
	pthread_join(t, NULL);
	CHECK_INT(g.rc_start, 0);
	CHECK_INT(g.started, 1);
	CHECK_INT(g.after_spin, 0);		/* stepped down */
	CHECK_INT(g.policy_spin, SCHED_OTHER);
	CHECK_INT(g.after_rest, 1);		/* and up again */
	CHECK_INT(g.policy_rest, SCHED_RR);
	CHECK_INT(g.off_ticks, 0);
}

int
main(void)
{
	RUN(test_thr_table);
	RUN(test_thr_realtime);
	RUN(test_thr_realtime_user);
	RUN(test_thr_realtime_allow_keeps);
	RUN(test_thr_rt_decide);
	RUN(test_thr_rt_governor);
	return harness_done("test_thr");
}
