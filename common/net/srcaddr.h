/*
 * srcaddr.h - our address towards a peer, without talking to it
 *
 * srcaddr_for() asks the kernel which source address a connection to ip
 * would use (a UDP socket connect()ed to it sends nothing), so a record
 * of a connection that was not made -- an MX host outside the policy
 * (STS-VAL-2), an MX host Exim was told not to use -- can still name
 * its RFC 8460 sending-mta-ip beside the receiving-ip.
 *
 * probe_bind_address (like Postfix's smtp_bind_address and
 * smtp_bind_address6 in one key): the source addresses of our own
 * connections to MX hosts, one IPv4 and/or one IPv6 literal;
 * srcaddr_bind_parse() checks and splits it (pure), srcaddr_bind_pick()
 * gives the one of a peer's family (NULL: the kernel's choice), and
 * srcaddr_for() with a bind answers with the address a connection bound
 * to it would use.
 */
#ifndef SRCADDR_H
#define SRCADDR_H

#include <stddef.h>

#include "buf.h"
#include "status.h"

#define SRCADDR_TEXT	46		/* INET6_ADDRSTRLEN */

struct srcaddr_bind {
	char	v4[SRCADDR_TEXT];	/* "" : the kernel's choice */
	char	v6[SRCADDR_TEXT];	/* RFC 5952 text, or "" */
};

/* srcaddr_bind_parse - spec: empty, or one or two numeric addresses
 * (at most one per family) separated by spaces or commas; IPv6 without
 * brackets or a scope.  Not the unspecified address nor a multicast
 * one.  ST_OK with b filled (IPv6 in RFC 5952 form), or ST_INVALID with
 * the reason in why (not NULL; b emptied). */
enum status	 srcaddr_bind_parse(const char *spec, struct srcaddr_bind *b,
		    struct buf *why);
/* srcaddr_bind_pick - b's address of numeric peer ip's family, or NULL
 * (none configured for it, ip not numeric, b NULL) */
const char	*srcaddr_bind_pick(const struct srcaddr_bind *b, const char *ip);

/* srcaddr_for - the numeric source address (RFC 5952 text for IPv6)
 * towards numeric address ip into out; 0, or -1 when ip is not numeric
 * or the host has no route to it */
int	srcaddr_for(const char *ip, char *out, size_t len);
/* srcaddr_for_bound - the same from b's address of ip's family (b may
 * be NULL: srcaddr_for); -1 also when that address cannot be bound */
int	srcaddr_for_bound(const struct srcaddr_bind *b, const char *ip,
	    char *out, size_t len);

#endif
