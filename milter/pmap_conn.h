/*
 * pmap_conn.h - one policy-map client connection's bytes: a
 * non-blocking stream socket, its input and output buffers, and the
 * framing of both (pmap_frame.h)
 *
 * No threads, no epoll: the owner (pmap_server.c) decides when to read
 * and write.  Input is kept to PMAP_MAX_QUERY and a little; a line
 * connection closes after its one reply; a protocol error is answered
 * ("PERM ..." or, for a line, "error ...") and then closes.
 */
#ifndef PMAP_CONN_H
#define PMAP_CONN_H

#include <stddef.h>

#include "pmap_frame.h"

struct pmap_conn {
	int			 fd;
	enum pmap_frame_mode	 mode;
	int			 eof;		/* peer half-closed or gone */
	int			 closing;	/* close once out is drained */
	char			*in;
	size_t			 inlen, incap;
	char			*out;
	size_t			 outlen, outoff, outcap;
};

/* pmap_conn_read - drain the socket into in; -1 on a hard error */
int	pmap_conn_read(struct pmap_conn *);
/* pmap_conn_write - send what is pending: 1 all, 0 would block, -1 gone */
int	pmap_conn_write(struct pmap_conn *);
/*
 * pmap_conn_next - the next complete request in in: 1 with
 * in[*off .. *off + *len) (drop *used bytes once it is answered), 0 more
 * input needed, -1 a protocol error: answered with pmap_conn_error(),
 * write it and close
 */
int	pmap_conn_next(struct pmap_conn *, size_t *off, size_t *len,
	    size_t *used, const char **err);
/* pmap_conn_consume - drop the first n bytes of in */
void	pmap_conn_consume(struct pmap_conn *, size_t n);
/* pmap_conn_reply - frame one reply (len bytes) into out; returns the
 * length of the frame's header */
size_t	pmap_conn_reply(struct pmap_conn *, const char *r, size_t len);
/* pmap_conn_append - bytes already framed into out */
void	pmap_conn_append(struct pmap_conn *, const char *s, size_t n);
/* pmap_conn_error - answer a protocol error, then close */
void	pmap_conn_error(struct pmap_conn *, const char *what);
/* pmap_conn_close - close the socket, free the buffers */
void	pmap_conn_close(struct pmap_conn *);

#endif
