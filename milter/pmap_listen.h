/*
 * pmap_listen.h - the policy map's listening sockets
 *
 * Socket specs as sockspec.h reads them ("unix:/path", "inet:port@host",
 * "inet:host:port", "inet6:port@host", "inet:port" for all addresses);
 * several, separated by spaces or commas; an empty spec opens nothing.
 * A stale unix socket is replaced; a new one is mode 0666 (the MTA's
 * lookup clients run as other users).  Sockets are non-blocking and
 * close-on-exec.  Open them before dropping privileges.
 */
#ifndef PMAP_LISTEN_H
#define PMAP_LISTEN_H

#include "buf.h"

#define PMAP_LISTEN_MAX	8

struct pmap_listen {
	int	 fd[PMAP_LISTEN_MAX];
	char	*path[PMAP_LISTEN_MAX];	/* unix sockets: removed at close */
	int	 n;
};

/* pmap_listen_open - every socket of spec into l; -1 (one line in why,
 * nothing left open) on the first that fails */
int	pmap_listen_open(struct pmap_listen *l, const char *spec,
	    struct buf *why);
void	pmap_listen_close(struct pmap_listen *l);
/*
 * pmap_listen_accept - the next connection on listener lfd (non-blocking,
 * close-on-exec, TCP_NODELAY on TCP): its fd, or -1 when none is pending.
 * Out of descriptors: logged (once a second at most) after a 10 ms pause,
 * so a level-triggered caller does not spin.
 */
int	pmap_listen_accept(int lfd);
/* pmap_listen_nonblock - set O_NONBLOCK on fd; -1 on error */
int	pmap_listen_nonblock(int fd);

#endif
