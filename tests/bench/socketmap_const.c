/*
 * socketmap_const.c - the ceiling: a netstring server that answers
 * every request with one constant reply, one thread, epoll, no lookup
 *
 * SYNOPSIS
 *	socketmap_const PORT [REPLY]
 *
 * Listens on 127.0.0.1:PORT.  Whatever loopback and the load client
 * allow on this machine, no socketmap server can beat this.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cconn {
	int	fd;
	char	in[4096];
	size_t	inlen;
};

int
main(int argc, char **argv)
{
	const char		*reply = argc > 2 ? argv[2] :
	    "OK secure match=mx1.enforce.test:mx2.enforce.test servername=hostname";
	char			 out[1024];
	int			 outlen, lfd, ep, n, i, one = 1;
	struct sockaddr_in	 sin;
	struct epoll_event	 ev, evs[256];

	if (argc < 2)
		return 2;
	outlen = snprintf(out, sizeof(out), "%zu:%s,", strlen(reply), reply);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 1024) < 0) {
		perror("bind");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			struct cconn	*c = evs[i].data.ptr;
			size_t		 j, len, total;
			ssize_t		 k;

			if (c == NULL) {
				int	fd = accept(lfd, NULL, NULL);

				if (fd < 0)
					continue;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one));
				c = calloc(1, sizeof(*c));
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			k = recv(c->fd, c->in + c->inlen,
			    sizeof(c->in) - c->inlen, 0);
			if (k <= 0) {
				close(c->fd);
				free(c);
				continue;
			}
			c->inlen += (size_t)k;
			for (;;) {		/* every whole request */
				len = 0;
				for (j = 0; j < c->inlen && c->in[j] >= '0' &&
				    c->in[j] <= '9'; j++)
					len = len * 10 + (size_t)(c->in[j] - '0');
				if (j == c->inlen || c->in[j] != ':')
					break;
				total = j + 1 + len + 1;
				if (c->inlen < total)
					break;
				memmove(c->in, c->in + total, c->inlen - total);
				c->inlen -= total;
				(void)send(c->fd, out, (size_t)outlen,
				    MSG_NOSIGNAL);
			}
		}
	}
}
