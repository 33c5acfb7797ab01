/*
 * control.h - the daemon's answers to stsctl's requests (ctlreq.h)
 *
 *	"cache-flush"		forget every cached policy, memory and disk
 *	"cache-flush DOMAIN"	forget DOMAIN's (normalised; a name that is
 *				not a domain is refused)
 *
 * Each is answered "flushed N" (files removed) or "error WHY"; a flush
 * is logged (LOG_INFO).  control_answer() has the shape of a ctlreq_fn,
 * with the daemon's struct sts_cache as its argument.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include "buf.h"

void	control_answer(void *cache, const char *req, struct buf *reply);

#endif
