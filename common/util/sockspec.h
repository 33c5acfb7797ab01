/*
 * sockspec.h - one parser for the socket specifications of the config
 *
 * SYNOPSIS
 *	struct sockspec s;
 *	if (sockspec_parse("inet:10025@127.0.0.1", &s, why) != ST_OK) ...
 *
 * DESCRIPTION
 *	The forms milter_socket, policymap_socket and metrics_listen take
 *	(libmilter's spelling, plus Postfix's host:port):
 *
 *	  unix:/path  local:/path  /path		SOCKSPEC_UNIX, path
 *	  inet:port  inet:port@host  inet:host:port	SOCKSPEC_INET, AF_INET
 *	  inet6:port@host  inet:[::1]:port		SOCKSPEC_INET, AF_INET6
 *
 *	A host that contains ':' makes the family AF_INET6; an empty host
 *	means every address.  The port is 1 to 65535 in decimal.
 *	ST_INVALID with the reason for anything else.
 *
 * OWNERSHIP
 *	Pure: no I/O, no logging; the result is a copy.
 */
#ifndef SOCKSPEC_H
#define SOCKSPEC_H

#include "buf.h"
#include "status.h"

enum sockspec_kind {
	SOCKSPEC_UNIX,
	SOCKSPEC_INET
};

struct sockspec {
	enum sockspec_kind	 kind;
	int			 family;	/* AF_INET, AF_INET6: inet */
	char			 path[108];	/* unix: sun_path */
	char			 host[256];	/* inet: "" = any */
	char			 port[6];	/* inet: decimal */
};

enum status	sockspec_parse(const char *spec, struct sockspec *,
		    struct buf *why);

#endif
