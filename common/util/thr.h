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
 */
#ifndef THR_H
#define THR_H

#define THR_SLICE_NS	100000UL	/* 0.1 ms: the kernel's minimum */

void	thr_background(const char *name);
int	thr_interactive(const char *name);

#endif
