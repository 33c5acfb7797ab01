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

/* thr_interactive - name the calling thread and ask for a short slice
 * (SCHED_OTHER's sched_runtime, Linux 6.12 and later): 0, or -1 when the
 * kernel does not take it (it then ignores or refuses the attribute) */
int
thr_interactive(const char *name)
{
	struct thr_attr	a;

	(void)pthread_setname_np(pthread_self(), name);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.policy = SCHED_OTHER;
	a.nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	a.runtime = THR_SLICE_NS;
	a.flags = 0x01;		/* SCHED_FLAG_RESET_ON_FORK: not to the
				 * threads it starts (workq.c's) */
	return syscall(SYS_sched_setattr, 0, &a, 0) == 0 ? 0 : -1;
}

/* thr_realtime - name the calling thread and put it at SCHED_RR priority
 * prio, not handed down to the threads it starts: 0, or -1 with errno
 * (EPERM: neither CAP_SYS_NICE nor an RLIMIT_RTPRIO of prio) and the
 * thread as it was */
int
thr_realtime(const char *name, int prio)
{
	struct thr_attr	a;

	(void)pthread_setname_np(pthread_self(), name);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.policy = SCHED_RR;
	a.priority = (uint32_t)prio;
	a.flags = 0x01;		/* SCHED_FLAG_RESET_ON_FORK, as above */
	return syscall(SYS_sched_setattr, 0, &a, 0) == 0 ? 0 : -1;
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
