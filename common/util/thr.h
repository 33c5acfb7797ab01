/*
 * thr.h - scheduling hints for the daemon's threads
 *
 * Two kinds of threads share the CPUs during a cold storm: the ones that
 * answer (the policy map's reactors, which reply to cached lookups in
 * microseconds) and the ones that work (TLS handshakes in the HTTPS
 * loops, DNS, the pool, the writer).  thr_background() lowers a worker's
 * weight (nice + 10); thr_interactive() asks the scheduler (Linux >= 6.12,
 * EEVDF) for a short time slice, so a woken answerer gets a CPU at once
 * instead of after a worker's slice.  Both are hints: an older kernel,
 * or one that refuses, leaves the thread as it was.
 *
 * A short slice is not enough when the workers and other processes fill
 * every CPU: the answerer still waits for a scheduler tick (4 ms at
 * HZ=250) behind them (README "The cold path").  thr_realtime() puts it
 * at SCHED_RR, the lowest real-time priority by default
 * (policymap_realtime): it then runs as soon as it wakes.  Its work is
 * bounded (no network, no disk), and the kernel caps real-time threads
 * (sched_rt_runtime_us, 95 % of a CPU).  It needs CAP_SYS_NICE or an
 * RLIMIT_RTPRIO of the priority: thr_realtime_allow() raises the limit
 * while the daemon is still root; systemd's LimitRTPRIO= does it for a
 * unit started as its user.
 *
 * Real-time helps a thread that is mostly asleep and must run the moment
 * it wakes.  A thread that is busy anyway gains nothing from it and
 * would run into the kernel's cap (a stall of 50 ms a second, and "RT
 * throttling activated" in the kernel log).  So struct thr_rt governs
 * it: thr_rt_tick(), called each time round the thread's loop, measures
 * the thread's CPU share over windows of THR_RT_WINDOW_MS and steps it
 * down to SCHED_OTHER (with the short slice) above THR_RT_HIGH, back up
 * below THR_RT_LOW; thr_rt_decide() is that rule, pure.
 */
#ifndef THR_H
#define THR_H

#include <stdint.h>

#define THR_SLICE_NS	100000UL	/* 0.1 ms: the kernel's minimum */

void	thr_background(const char *name);
int	thr_interactive(const char *name);
int	thr_realtime(const char *name, int prio);
int	thr_realtime_allow(int prio);

#define THR_RT_PRIO	1	/* below every other real-time task */
#define THR_RT_WINDOW_MS 100	/* the governor's window */
#define THR_RT_HIGH	500	/* per mille of a CPU: step down above */
#define THR_RT_LOW	250	/* per mille: step up again below */

struct thr_rt {
	int		prio;		/* 0: not real-time (refused, or off) */
	int		on;		/* at SCHED_RR now */
	int64_t		t0, cpu0;	/* the window: start, thread CPU (ns) */
};
/* thr_rt_start - the calling thread at SCHED_RR prio (0: never), else
 * thr_interactive(); 0, or -1 with errno when SCHED_RR was refused */
int	thr_rt_start(struct thr_rt *, const char *name, int prio);
/* thr_rt_tick - once round the loop; 1 when it changed the thread's
 * policy (rt->on says which) */
int	thr_rt_tick(struct thr_rt *);
/* thr_rt_decide - at SCHED_RR or not for the next window, given whether
 * it is now and the CPU share (per mille) it used in the last one */
int	thr_rt_decide(int on, int share);

#endif
