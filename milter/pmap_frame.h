/*
 * pmap_frame.h - the policy map's two wire forms, without I/O
 *
 *   netstring  "<len>:<name> <key>,"  -> "<len>:<reply>,"; any number of
 *		lock-step requests per connection (Postfix, Sendmail).
 *   line	"<name> <key>" or "<key>", ended by LF or by the client's
 *		half-close -> one reply without a line terminator, then
 *		close (Exim ${readsocket}).
 * The first bytes of a connection decide: decimal digits and ':' make
 * it a netstring connection, anything else a line.  A netstring's
 * length is checked against PMAP_MAX_QUERY as soon as its digits are
 * read, so an oversize request is never buffered.
 */
#ifndef PMAP_FRAME_H
#define PMAP_FRAME_H

#include <stddef.h>

enum pmap_frame_mode {
	PMAP_FRAME_UNKNOWN = 0,		/* nothing read yet */
	PMAP_FRAME_NETSTRING,
	PMAP_FRAME_LINE
};

/* the longest netstring header: "100000:" and more */
#define PMAP_FRAME_HDR	24

/*
 * pmap_frame_next - the next complete request at the start of in (len
 * bytes so far; eof: the client half-closed).  1: the request is
 * in[*off .. *off + *reqlen) and the first *consume bytes of in are
 * used up once it is answered; 0: more input is needed; -1: a protocol
 * error, *err says which (answer it and close).  *mode is the
 * connection's, set by the first call.
 */
int	pmap_frame_next(enum pmap_frame_mode *mode, const char *in, size_t len,
	    int eof, size_t *off, size_t *reqlen, size_t *consume,
	    const char **err);
/* pmap_frame_header - "<n>:" into hdr (PMAP_FRAME_HDR bytes); its length */
size_t	pmap_frame_header(size_t n, char *hdr);

#endif
