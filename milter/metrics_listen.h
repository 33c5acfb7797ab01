/*
 * metrics_listen.h - the metrics_listen HTTP listener (GET /metrics)
 *
 * metrics_listen_new() opens the socket (before the privilege drop, so
 * a port below 1024 works); metrics_listen_start() starts its thread,
 * which serves one connection at a time: a request head of at most
 * METRICS_HTTP_MAX bytes within METRICS_LISTEN_TIMEOUT_MS, one answer,
 * close.  A slow or silent client costs that thread the timeout, never
 * a mail thread: the mail path only bumps atomic counters, and the
 * thread reads them through fill(arg, snap) for each GET /metrics.
 * metrics_listen_stop() stops the thread and closes the socket; call
 * it before anything fill() reads is freed.
 */
#ifndef METRICS_LISTEN_H
#define METRICS_LISTEN_H

#include "buf.h"
#include "metrics.h"

#define METRICS_LISTEN_TIMEOUT_MS	5000

struct metrics_listen;

/* metrics_listen_new - NULL with one line in why */
struct metrics_listen	*metrics_listen_new(const char *spec, struct buf *why);
int			 metrics_listen_start(struct metrics_listen *,
			    void (*fill)(void *arg, struct metrics_snap *),
			    void *arg);
void			 metrics_listen_stop(struct metrics_listen *);

#endif
