/*
 * srcaddr.c - our address towards a peer (see srcaddr.h)
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "srcaddr.h"

int
srcaddr_for(const char *ip, char *out, size_t len)
{
	struct addrinfo		 hints, *ai = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	int			 fd = -1, rc = -1;

	if (len > 0)
		out[0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (ip == NULL || len == 0 || getaddrinfo(ip, "25", &hints, &ai) != 0)
		return -1;
	/* connect() on a datagram socket only picks the route */
	if ((fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0 &&
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
	return rc;
}
