/*
 * pmap_conn.c - a policy-map connection's buffers (see pmap_conn.h)
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmap_conn.h"
#include "pmap_frame.h"
#include "pmap_reply.h"
#include "xmalloc.h"

#define IN_INIT	256
#define IN_MAX	(PMAP_MAX_QUERY + 32)

int
pmap_conn_read(struct pmap_conn *c)
{
	ssize_t	n;

	while (!c->eof) {
		if (c->inlen == c->incap) {
			if (c->incap >= IN_MAX)
				return 0;	/* pmap_conn_next() judges */
			c->incap = c->incap ? c->incap * 2 : IN_INIT;
			if (c->incap > IN_MAX)
				c->incap = IN_MAX;
			c->in = xrealloc(c->in, c->incap);
		}
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n > 0) {
			c->inlen += (size_t)n;
			if (c->inlen < c->incap)
				return 0;	/* short read: socket drained */
			continue;
		}
		if (n == 0) {
			c->eof = 1;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	return 0;
}

int
pmap_conn_write(struct pmap_conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->outoff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;			/* EPIPE, ECONNRESET: gone */
	}
	c->outoff = c->outlen = 0;
	return 1;
}

int
pmap_conn_next(struct pmap_conn *c, size_t *off, size_t *len, size_t *used,
    const char **err)
{
	int	k;

	k = pmap_frame_next(&c->mode, c->in, c->inlen, c->eof, off, len,
	    used, err);
	if (k == 0 && c->inlen >= IN_MAX) {	/* full, still incomplete: */
		*err = "request too long";	/* never wait on it again */
		k = -1;
	}
	if (k < 0)
		pmap_conn_error(c, *err);
	return k;
}

void
pmap_conn_consume(struct pmap_conn *c, size_t n)
{
	if (n < c->inlen)
		memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/* room - make room for n more bytes of output */
static void
room(struct pmap_conn *c, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2 + 64;
		c->out = xrealloc(c->out, c->outcap);
	}
}

void
pmap_conn_append(struct pmap_conn *c, const char *s, size_t n)
{
	if (n == 0)
		return;
	room(c, n);
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
}

size_t
pmap_conn_reply(struct pmap_conn *c, const char *r, size_t len)
{
	char	hdr[PMAP_FRAME_HDR];
	size_t	hlen;

	if (c->mode == PMAP_FRAME_LINE) {
		pmap_conn_append(c, r, len);
		c->closing = 1;
		return 0;
	}
	hlen = pmap_frame_header(len, hdr);
	room(c, hlen + len + 1);
	memcpy(c->out + c->outlen, hdr, hlen);
	if (len > 0)
		memcpy(c->out + c->outlen + hlen, r, len);
	c->out[c->outlen + hlen + len] = ',';
	c->outlen += hlen + len + 1;
	return hlen;
}

void
pmap_conn_error(struct pmap_conn *c, const char *what)
{
	char	r[128];
	int	n;

	n = snprintf(r, sizeof(r), c->mode == PMAP_FRAME_LINE ? "error %s" :
	    "PERM %s", what);
	if (c->mode == PMAP_FRAME_UNKNOWN)
		c->mode = PMAP_FRAME_NETSTRING;
	(void)pmap_conn_reply(c, r, n < (int)sizeof(r) ? (size_t)n :
	    sizeof(r) - 1);
	c->closing = 1;
	c->inlen = 0;
}

void
pmap_conn_close(struct pmap_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);		/* also leaves any epoll set */
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
}
