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
 */
#ifndef THR_H
#define THR_H

#define THR_SLICE_NS	100000UL	/* 0.1 ms: the kernel's minimum */

void	thr_background(const char *name);
int	thr_interactive(const char *name);
int	thr_realtime(const char *name, int prio);
int	thr_realtime_allow(int prio);

#define THR_RT_PRIO	1	/* below every other real-time task */

#endif
