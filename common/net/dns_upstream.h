/*
 * dns_upstream.h - one configured resolver address (dns_resolvers)
 *
 * dns_upstream_parse() reads "IP", "IP:port" or "[v6]:port" (len bytes
 * of s; the port defaults to 53): 0, or -1 with one line in why.
 * Pure; dns.c turns the result into getdns upstreams.
 */
#ifndef DNS_UPSTREAM_H
#define DNS_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct dns_upstream {
	int		 du_family;	/* AF_INET or AF_INET6 */
	uint8_t		 du_addr[16];
	unsigned	 du_port;
};

int	dns_upstream_parse(const char *s, size_t len, struct dns_upstream *,
	    struct buf *why);

#endif
