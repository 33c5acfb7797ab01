/*
 * ctlreq.h - requests to the running daemon, through <state_dir>/requests
 *
 * SYNOPSIS
 *	fd = ctlreq_listen(state_dir);			(the daemon, at start)
 *	n = ctlreq_serve(state_dir, fd, fn, arg);	(when fd is readable)
 *	st = ctlreq_send(state_dir, "cache-flush example.com", 10000,
 *	    &reply, &why);				(stsctl)
 *
 * DESCRIPTION
 *	A client writes one line, the request, to requests/<id>.req
 *	(fs_write_atomic: the daemon never sees half of it) and waits for
 *	requests/<id>.rep, the daemon's one-line answer, which it reads and
 *	removes.  The daemon watches the directory with inotify; fd is
 *	readable when something arrived.  ctlreq_serve() answers every
 *	pending request with fn and removes it.  A request that times out
 *	is withdrawn by its client.  ctlreq_listen() removes what a
 *	previous run left behind.
 *
 *	The requests and their answers are the daemon's (milter/control.h:
 *	"cache-flush [DOMAIN]", answered "flushed N" or "error WHY").
 *
 *	Trust: only the daemon's user and root may write in state_dir, so
 *	a request is as trusted as a signal from them.  fn still validates
 *	what it is given.  Requests are at most CTLREQ_MAX bytes.
 *
 *	Never logs.
 */
#ifndef CTLREQ_H
#define CTLREQ_H

#include "buf.h"
#include "status.h"

#define CTLREQ_MAX	1024

typedef void	(*ctlreq_fn)(void *arg, const char *req, struct buf *reply);

/* ctlreq_listen - an fd to poll for requests, or -1 with errno */
int		ctlreq_listen(const char *state_dir);
/* ctlreq_serve - answer what is pending (fd may be -1); the number */
int		ctlreq_serve(const char *state_dir, int fd, ctlreq_fn fn,
		    void *arg);
/*
 * ctlreq_send - ST_OK, reply set; ST_TEMPFAIL no answer within
 * timeout_ms (withdrawn); ST_INTERNAL the request cannot be written
 */
enum status	ctlreq_send(const char *state_dir, const char *req,
		    int timeout_ms, struct buf *reply, struct buf *why);

#endif
