/*
 * dns_upstream.c - one configured resolver address (dns_resolvers)
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dns_upstream.h"

/* dns_upstream_parse - "IP", "IP:port" or "[v6]:port" */
int
dns_upstream_parse(const char *s, size_t len, struct dns_upstream *up,
    struct buf *why)
{
	char		 tok[64], *host = tok, *port = NULL, *p, *end;
	unsigned long	 n;

	if (len == 0 || len >= sizeof(tok))
		goto bad;
	memcpy(tok, s, len);
	tok[len] = '\0';
	if (tok[0] == '[') {
		if ((p = strchr(tok, ']')) == NULL)
			goto bad;
		*p++ = '\0';
		host = tok + 1;
		if (*p == ':')
			port = p + 1;
		else if (*p != '\0')
			goto bad;
	} else if ((p = strchr(tok, ':')) != NULL &&
	    strchr(p + 1, ':') == NULL) {
		*p = '\0';	/* one colon: IPv4:port; more: bare IPv6 */
		port = p + 1;
	}
	if (inet_pton(AF_INET, host, up->du_addr) == 1)
		up->du_family = AF_INET;
	else if (inet_pton(AF_INET6, host, up->du_addr) == 1)
		up->du_family = AF_INET6;
	else
		goto bad;
	up->du_port = 53;
	if (port != NULL) {
		if (*port < '0' || *port > '9')
			goto bad;
		n = strtoul(port, &end, 10);
		if (*end != '\0' || n == 0 || n > 65535)
			goto bad;
		up->du_port = (unsigned)n;
	}
	return 0;
bad:
	buf_printf(why, "bad resolver address \"%.*s\"", (int)len, s);
	return -1;
}
