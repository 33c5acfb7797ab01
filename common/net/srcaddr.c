/*
 * srcaddr.c - our address towards a peer (see srcaddr.h)
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "srcaddr.h"

/* one_addr - check one literal of probe_bind_address into b: its
 * family's slot, which must still be empty */
static enum status
one_addr(const char *a, struct srcaddr_bind *b, struct buf *why)
{
	struct in_addr	 in4;
	struct in6_addr	 in6;
	char		*slot;
	int		 af, bad;

	if (inet_pton(AF_INET, a, &in4) == 1) {
		af = AF_INET;
		slot = b->v4;
		bad = in4.s_addr == htonl(INADDR_ANY) ||
		    in4.s_addr == htonl(INADDR_BROADCAST) ||
		    IN_MULTICAST(ntohl(in4.s_addr));
	} else if (inet_pton(AF_INET6, a, &in6) == 1) {
		af = AF_INET6;
		slot = b->v6;
		bad = IN6_IS_ADDR_UNSPECIFIED(&in6) ||
		    IN6_IS_ADDR_MULTICAST(&in6);
	} else {
		buf_printf(why, "%s: not a numeric IPv4 or IPv6 address", a);
		return ST_INVALID;
	}
	if (bad) {
		buf_printf(why, "%s: not a unicast address", a);
		return ST_INVALID;
	}
	if (slot[0] != '\0') {
		buf_printf(why, "%s: a second %s address (one of each family "
		    "at most)", a, af == AF_INET ? "IPv4" : "IPv6");
		return ST_INVALID;
	}
	inet_ntop(af, af == AF_INET ? (void *)&in4 : (void *)&in6, slot,
	    SRCADDR_TEXT);
	return ST_OK;
}

enum status
srcaddr_bind_parse(const char *spec, struct srcaddr_bind *b, struct buf *why)
{
	char	 tok[SRCADDR_TEXT];
	size_t	 n;

	memset(b, 0, sizeof(*b));
	while (spec != NULL && *(spec += strspn(spec, " \t,")) != '\0') {
		n = strcspn(spec, " \t,");
		if (n >= sizeof(tok)) {
			buf_printf(why, "%.20s...: not a numeric IPv4 or IPv6 "
			    "address", spec);
			goto bad;
		}
		memcpy(tok, spec, n);
		tok[n] = '\0';
		spec += n;
		if (one_addr(tok, b, why) != ST_OK)
			goto bad;
	}
	return ST_OK;
bad:
	memset(b, 0, sizeof(*b));
	return ST_INVALID;
}

const char *
srcaddr_bind_pick(const struct srcaddr_bind *b, const char *ip)
{
	struct in6_addr	a;

	if (b == NULL || ip == NULL)
		return NULL;
	if (inet_pton(AF_INET, ip, &a) == 1)
		return b->v4[0] != '\0' ? b->v4 : NULL;
	if (inet_pton(AF_INET6, ip, &a) == 1)
		return b->v6[0] != '\0' ? b->v6 : NULL;
	return NULL;
}

int
srcaddr_for(const char *ip, char *out, size_t len)
{
	return srcaddr_for_bound(NULL, ip, out, len);
}

int
srcaddr_for_bound(const struct srcaddr_bind *b, const char *ip, char *out,
    size_t len)
{
	struct addrinfo		 hints, *ai = NULL, *li = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	const char		*local = srcaddr_bind_pick(b, ip);
	int			 fd = -1, rc = -1;

	if (len > 0)
		out[0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (ip == NULL || len == 0 || getaddrinfo(ip, "25", &hints, &ai) != 0)
		return -1;
	if (local != NULL && getaddrinfo(local, "0", &hints, &li) != 0) {
		freeaddrinfo(ai);
		return -1;
	}
	/* connect() on a datagram socket only picks the route; bound
	 * first, it keeps the probes' source address (or fails as they
	 * would) */
	if ((fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0 &&
	    (li == NULL || bind(fd, li->ai_addr, li->ai_addrlen) == 0) &&
	    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sslen, out, (socklen_t)len,
	    NULL, 0, NI_NUMERICHOST) == 0)
		rc = 0;
	else if (len > 0)
		out[0] = '\0';
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	if (li != NULL)
		freeaddrinfo(li);
	return rc;
}
