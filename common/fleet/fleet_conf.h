/*
 * fleet_conf.h - the fleet keys of the configuration, checked once
 *
 * SYNOPSIS
 *	struct fleet_conf fc;
 *	if (fleet_conf_from(&fc, conf, &why) != ST_OK) ... bad keys
 *	if (fc.on) ... fleet mode: fc.node, fc.prefix, fc.host/fc.port
 *	fleet_key(&fc, key, sizeof(key), "pos:%s", fc.node);  "sts:pos:n1"
 *
 * DESCRIPTION
 *	Fleet mode (issue 12) is on when fleet_redis names an endpoint:
 *	"unix:/absolute/path", "host:port", "[v6addr]:port" or "host"
 *	(port 6379).  fleet_conf_from() parses it and the other fleet_*
 *	keys of struct conf into one value every program (daemon,
 *	reporter, stsctl) uses the same way; it is pure (no I/O: the
 *	password file is read at each connect, fleet_redis.h).
 *
 *	fleet_node defaults to the host name (conf_host_name: hostname,
 *	else gethostname()).  A node name is 1-64 of [A-Za-z0-9._-]: it
 *	is part of Redis keys ("j:<day>:<node>") and of log lines.  The
 *	prefix is at most 64 printable non-space bytes.
 *
 *	With fleet_redis empty, fc.on is 0 and nothing else is checked:
 *	single-host mode never needs Redis.
 */
#ifndef FLEET_CONF_H
#define FLEET_CONF_H

#include <stddef.h>

#include "buf.h"
#include "conf.h"
#include "status.h"

#define FLEET_NODE_MAX		64
#define FLEET_PREFIX_MAX	64
#define FLEET_DEFAULT_PORT	6379

struct fleet_conf {
	int	 on;			/* fleet_redis set */
	int	 is_unix;		/* host is a socket path */
	char	 endpoint[256];		/* as configured, for messages */
	char	 host[256];		/* host name, IP or socket path */
	int	 port;
	char	 node[FLEET_NODE_MAX + 1];
	char	 prefix[FLEET_PREFIX_MAX + 1];
	char	 password_file[256];	/* "" none */
	int	 db;
	int	 timeout_ms;		/* background work */
	int	 budget_ms;		/* RCPT path */
	int	 lock_ms;
	int	 report_grace;		/* seconds */
	int	 close_delay;		/* seconds */
	int	 retention_days;	/* journal_retention */
};

/* fleet_conf_from - fc from c; ST_INVALID with "key: reason" in why */
enum status	 fleet_conf_from(struct fleet_conf *fc, const struct conf *c,
		    struct buf *why);
/* fleet_endpoint_parse - "unix:/p", "host:port", "[v6]:port", "host" */
enum status	 fleet_endpoint_parse(struct fleet_conf *fc, const char *spec,
		    struct buf *why);
/* fleet_node_valid - 1 if s may be a node name */
int		 fleet_node_valid(const char *s);
/* fleet_key - prefix + the formatted rest into dst; returns dst, or
 * NULL if it does not fit */
char		*fleet_key(const struct fleet_conf *fc, char *dst, size_t size,
		    const char *fmt, ...) __attribute__((__format__(__printf__, 4, 5)));

#endif
