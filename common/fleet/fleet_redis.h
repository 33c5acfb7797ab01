/*
 * fleet_redis.h - one connection to the fleet's Redis, never in the way
 *
 * SYNOPSIS
 *	struct fleet_redis *r = fleet_redis_new(&fc, "shipper");
 *	redisReply *rep = fleet_redis_cmd(r, budget_ms, "GET %s", key);
 *	if (rep == NULL) ... Redis is down or slow: carry on without it
 *	else if (rep->type == REDIS_REPLY_ERROR) ... the command failed
 *	fleet_reply_free(rep);
 *	rep = fleet_redis_eval(r, SCRIPT, budget_ms, nkeys, argc, argv, lens);
 *	fleet_redis_free(r);
 *
 * DESCRIPTION
 *	A fleet_redis is one synchronous hiredis connection (fleet_conf.h:
 *	unix:/path or host:port), opened on first use, with AUTH from the
 *	password file (its first line: "password", or "user password" for
 *	a Redis 6 ACL user) and SELECT db (or PING) at every connect: a
 *	connect counts as good only once the server answered (the kernel
 *	of a stopped server still accepts connections).
 *
 *	A call on a connection that the server closed while it was idle
 *	(a restart, a client timeout) is sent again at once on a fresh
 *	connection, within the same budget, once.  If the server had run
 *	the first send before it closed, the command runs twice: commands
 *	must be idempotent or check before they write (the ship script
 *	does).
 *
 *	Every call has a budget in milliseconds (<= 0: fleet_timeout) that
 *	bounds the connect and each read and write of the call.  A call
 *	that fails (refused, reset, timed out, AUTH refused) returns NULL,
 *	drops the connection (a late answer must never be read as the
 *	next call's) and the next connect is tried only after a back-off
 *	(100 ms, doubling to 5 s; reset by a good connect): calls during
 *	the back-off return NULL at once, without waiting, and are counted
 *	as skipped.  So a dead Redis costs the caller nothing but the
 *	first budget.
 *
 *	Logging: "log once, count, re-sync".  The first failure after the
 *	connection was good (or at start) is logged (LOG_WARNING, naming
 *	who); later failures are only counted (fleet_redis_stats); the
 *	connect that ends an outage is logged with the count and the
 *	outage's length.  fleet_redis_generation() changes at every good
 *	connect: a caller that keeps state about Redis's content (what it
 *	shipped, which scripts are loaded) compares it and re-syncs when
 *	it changed, since a Redis may come back without its data.
 *
 *	Replies of type REDIS_REPLY_ERROR are the command's answer, not a
 *	failure of the connection: returned as they are.
 *
 *	fleet_redis_eval() runs a Lua script by EVALSHA (SHA-1 of script)
 *	and falls back to EVAL when Redis answers NOSCRIPT (a restarted or
 *	flushed Redis), so scripts need no loading step; argv holds the
 *	nkeys keys, then the arguments.
 *
 *	fleet_redis_pipeline() sends n commands at once and reads the n
 *	replies (one round trip); all replies or none (-1: failure).
 *
 * THREADS
 *	Calls on one fleet_redis are serialised by a mutex inside, so it
 *	may be shared; threads that must not wait for each other (the
 *	RCPT path, the shipper, a scrape) each use a fleet_redis of their
 *	own.  Writes to a closed connection would raise SIGPIPE:
 *	fleet_redis_new() sets SIGPIPE to SIG_IGN if it is at SIG_DFL.
 */
#ifndef FLEET_REDIS_H
#define FLEET_REDIS_H

#include <stddef.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "fleet_conf.h"

#define FLEET_BACKOFF_MIN_MS	100
#define FLEET_BACKOFF_MAX_MS	5000

struct fleet_redis;

struct fleet_redis_stats {
	unsigned long	commands;	/* calls answered (errors included) */
	unsigned long	errors;		/* calls that failed: down, timeout */
	unsigned long	skipped;	/* calls not tried: in back-off */
	unsigned long	connects;	/* good connects */
	int		up;		/* connected now */
	time_t		down_since;	/* when the outage began, if down */
};

struct fleet_cmd {
	int		  argc;
	const char	**argv;
	const size_t	 *lens;		/* NULL: strlen of each */
};

struct fleet_redis	*fleet_redis_new(const struct fleet_conf *fc,
			    const char *who);
void			 fleet_redis_free(struct fleet_redis *);
redisReply		*fleet_redis_cmd(struct fleet_redis *, int budget_ms,
			    const char *fmt, ...);
redisReply		*fleet_redis_argv(struct fleet_redis *, int budget_ms,
			    int argc, const char **argv, const size_t *lens);
redisReply		*fleet_redis_eval(struct fleet_redis *,
			    const char *script, int budget_ms, int nkeys,
			    int argc, const char **argv, const size_t *lens);
int			 fleet_redis_pipeline(struct fleet_redis *,
			    int budget_ms, int n, const struct fleet_cmd *cmds,
			    redisReply **replies);
unsigned long		 fleet_redis_generation(struct fleet_redis *);
void			 fleet_redis_stats(struct fleet_redis *,
			    struct fleet_redis_stats *);
/* fleet_redis_last_error - why the last call failed ("" none), copied */
void			 fleet_redis_last_error(struct fleet_redis *,
			    char *dst, size_t size);
/* fleet_redis_quiet - no log lines (a command-line tool says it itself) */
void			 fleet_redis_quiet(struct fleet_redis *);
void			 fleet_reply_free(redisReply *);
/* fleet_script_sha - the SHA-1 of a script, 40 hex + NUL */
void			 fleet_script_sha(const char *script, char sha[41]);

#endif
