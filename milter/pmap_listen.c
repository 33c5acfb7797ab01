/*
 * pmap_listen.c - open the policy map's sockets (see pmap_listen.h)
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sockspec.h"
#include "pmap_listen.h"
#include "priv.h"
#include "xmalloc.h"

int
pmap_listen_nonblock(int fd)
{
	int	fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* listen_unix - bind a unix socket, replacing a stale one */
static int
listen_unix(const char *path, struct buf *why)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;
	mode_t			old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		buf_printf(why, "%s: path too long", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		buf_printf(why, "socket: %s", strerror(errno));
		return -1;
	}
	/* owner only until the daemon applies socket_mode (priv.h) */
	old = umask(PRIV_SOCKET_UMASK);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		buf_printf(why, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (listen(fd, 1024) < 0) {
		buf_printf(why, "listen %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* listen_inet - bind host:port ("" host: every address) */
static int
listen_inet(const char *host, const char *port, int family, struct buf *why)
{
	struct addrinfo	hints, *res, *ai;
	int		fd = -1, on = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		buf_printf(why, "%s port %s: %s", *host ? host : "*", port,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0)
		buf_printf(why, "bind %s port %s: %s", *host ? host : "*",
		    port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* open_one - one socket spec */
static int
open_one(struct pmap_listen *l, const char *spec, struct buf *why)
{
	struct sockspec	ss;
	int		fd;

	if (l->n == PMAP_LISTEN_MAX) {
		buf_printf(why, "too many sockets");
		return -1;
	}
	if (sockspec_parse(spec, &ss, why) != ST_OK)
		return -1;
	if (ss.kind == SOCKSPEC_UNIX) {
		if ((fd = listen_unix(ss.path, why)) < 0)
			return -1;
		l->path[l->n] = xstrdup(ss.path);
	} else if ((fd = listen_inet(ss.host, ss.port, ss.family, why)) < 0)
		return -1;
	if (pmap_listen_nonblock(fd) < 0) {
		buf_printf(why, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	l->fd[l->n++] = fd;
	return 0;
}

int
pmap_listen_accept(int lfd)
{
	static _Atomic long	 lastwarn;
	long			 now, last;
	int			 fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			now = (long)time(NULL);
			last = atomic_load(&lastwarn);
			if (now != last && atomic_compare_exchange_strong(
			    &lastwarn, &last, now))
				log_warnx("policymap: fd=%d out of file "
				    "descriptors", lfd);
			usleep(10000);
		}
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;				/* (fails on unix: fine) */
}

int
pmap_listen_open(struct pmap_listen *l, const char *spec, struct buf *why)
{
	char	*copy, *tok, *save = NULL;
	int	 rc = 0;

	memset(l, 0, sizeof(*l));
	copy = xstrdup(spec ? spec : "");
	for (tok = strtok_r(copy, " \t,", &save); tok && rc == 0;
	    tok = strtok_r(NULL, " \t,", &save))
		rc = open_one(l, tok, why);
	free(copy);
	if (rc < 0)
		pmap_listen_close(l);
	return rc;
}

void
pmap_listen_close(struct pmap_listen *l)
{
	int	i;

	for (i = 0; i < l->n; i++) {
		close(l->fd[i]);
		if (l->path[i] != NULL) {
			(void)unlink(l->path[i]);
			free(l->path[i]);
		}
	}
	memset(l, 0, sizeof(*l));
}
