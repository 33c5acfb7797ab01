/*
 * thr.c - scheduling hints for the daemon's threads (see thr.h)
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "thr.h"

/* the kernel's struct sched_attr (SCHED_ATTR_SIZE_VER0: a stable ABI);
 * <linux/sched/types.h> does not mix with <sched.h> */
struct thr_attr {
	uint32_t	size, policy;
	uint64_t	flags;
	int32_t		nice;
	uint32_t	priority;
	uint64_t	runtime, deadline, period;
};

/* thr_background - name the calling thread (top -H, ps -L) and lower its
 * weight by 10 (nice 19 at most): its work can wait, the answers
 * cannot */
void
thr_background(const char *name)
{
	int	n;

	(void)pthread_setname_np(pthread_self(), name);
	errno = 0;
	n = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (errno == 0)		/* 10 below the answerers, whatever they run at */
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(),
		    n + 10 > 19 ? 19 : n + 10);
}

/* set - name the calling thread (NULL: leave its name) and set its
 * policy, not handed down to the threads it starts
 * (SCHED_FLAG_RESET_ON_FORK: workq.c's, say); 0, or -1 with errno */
static int
set(const char *name, uint32_t policy, uint32_t prio, uint64_t runtime)
{
	struct thr_attr	a;

	if (name != NULL)
		(void)pthread_setname_np(pthread_self(), name);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.policy = policy;
	a.priority = prio;
	a.nice = policy == SCHED_OTHER ?
	    getpriority(PRIO_PROCESS, (id_t)gettid()) : 0;
	a.runtime = runtime;
	a.flags = 0x01;		/* SCHED_FLAG_RESET_ON_FORK */
	return syscall(SYS_sched_setattr, 0, &a, 0) == 0 ? 0 : -1;
}

/* thr_interactive - name the calling thread (NULL: leave its name) and
 * ask for a short slice (SCHED_OTHER's sched_runtime, Linux 6.12 and
 * later), at its nice level: 0, or -1 when the kernel does not take it
 * (it then ignores or refuses the attribute).  Either way the thread is
 * SCHED_OTHER after it (a real-time one steps down). */
int
thr_interactive(const char *name)
{
	if (set(name, SCHED_OTHER, 0, THR_SLICE_NS) == 0)
		return 0;
	(void)set(NULL, SCHED_OTHER, 0, 0);
	return -1;
}

/* thr_realtime - name the calling thread (NULL: leave its name) and put
 * it at SCHED_RR priority prio: 0, or -1 with errno (EPERM: neither
 * CAP_SYS_NICE nor an RLIMIT_RTPRIO of prio) and the thread as it was */
int
thr_realtime(const char *name, int prio)
{
	return set(name, SCHED_RR, (uint32_t)prio, 0);
}

/* thr_realtime_allow - raise RLIMIT_RTPRIO to prio (root, before it
 * drops privileges: the limit outlives setuid, so the user may then ask
 * for prio and no more); 0, or -1 with errno */
int
thr_realtime_allow(int prio)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_RTPRIO, &rl) != 0)
		return -1;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)prio)
		return 0;
	rl.rlim_cur = (rlim_t)prio;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)prio)
		rl.rlim_max = (rlim_t)prio;
	return setrlimit(RLIMIT_RTPRIO, &rl);
}

/* --- the governor (thr.h) ------------------------------------------------ */

int
thr_rt_decide(int on, int share)
{
	if (on)
		return share <= THR_RT_HIGH;
	return share < THR_RT_LOW;
}

static int64_t
ns(clockid_t id)
{
	struct timespec	ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
thr_rt_start(struct thr_rt *rt, const char *name, int prio)
{
	int	e;

	memset(rt, 0, sizeof(*rt));
	rt->t0 = ns(CLOCK_MONOTONIC_COARSE);
	rt->cpu0 = ns(CLOCK_THREAD_CPUTIME_ID);
	if (prio > 0 && thr_realtime(name, prio) == 0) {
		rt->prio = prio;
		rt->on = 1;
		return 0;
	}
	e = errno;
	(void)thr_interactive(name);
	errno = e;
	return prio > 0 ? -1 : 0;
}

int
thr_rt_tick(struct thr_rt *rt)
{
	int64_t	now, cpu, wall;
	int	want, share;

	if (rt->prio == 0)
		return 0;
	now = ns(CLOCK_MONOTONIC_COARSE);	/* the vDSO: no system call */
	wall = now - rt->t0;
	if (wall < (int64_t)THR_RT_WINDOW_MS * 1000000)
		return 0;
	cpu = ns(CLOCK_THREAD_CPUTIME_ID);
	share = (int)((cpu - rt->cpu0) * 1000 / wall);
	rt->t0 = now;
	rt->cpu0 = cpu;
	want = thr_rt_decide(rt->on, share);
	if (want == rt->on)
		return 0;
	if (want) {
		if (thr_realtime(NULL, rt->prio) != 0) {
			rt->prio = 0;		/* refused now: stay as is */
			return 0;
		}
	} else
		(void)thr_interactive(NULL);
	rt->on = want;
	return 1;
}
