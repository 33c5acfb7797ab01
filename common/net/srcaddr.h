/*
 * srcaddr.h - our address towards a peer, without talking to it
 *
 * srcaddr_for() asks the kernel which source address a connection to ip
 * would use (a UDP socket connect()ed to it sends nothing), so a record
 * of a connection that was not made -- an MX host outside the policy
 * (STS-VAL-2), an MX host Exim was told not to use -- can still name
 * its RFC 8460 sending-mta-ip beside the receiving-ip.
 */
#ifndef SRCADDR_H
#define SRCADDR_H

#include <stddef.h>

/* srcaddr_for - the numeric source address (RFC 5952 text for IPv6)
 * towards numeric address ip into out; 0, or -1 when ip is not numeric
 * or the host has no route to it */
int	srcaddr_for(const char *ip, char *out, size_t len);

#endif
