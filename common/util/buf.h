/*
 * buf.h - bounded, always NUL-terminated byte buffer
 *
 * A struct buf grows on demand up to b_max bytes (0 means 16 MiB).
 * Appends past b_max are truncated and set b_trunc; the data stays
 * NUL-terminated.  The same type carries the one-line "why" reasons
 * that pure modules return to their callers.
 *
 * A zeroed struct buf (BUF_INIT) is a valid empty buffer.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*b_data;	/* NUL-terminated; NULL while empty */
	size_t	 b_len;
	size_t	 b_size;
	size_t	 b_max;		/* hard cap on b_len; 0 = default */
	int	 b_trunc;	/* an append did not fit */
};

#define BUF_INIT	{ NULL, 0, 0, 0, 0 }

void		 buf_init(struct buf *, size_t max);
void		 buf_free(struct buf *);
void		 buf_reset(struct buf *);
int		 buf_append(struct buf *, const void *, size_t);
int		 buf_puts(struct buf *, const char *);
int		 buf_putc(struct buf *, int);
int		 buf_printf(struct buf *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
int		 buf_vprintf(struct buf *, const char *, va_list)
		    __attribute__((__format__(__printf__, 2, 0)));
const char	*buf_str(const struct buf *);	/* never NULL */
char		*buf_release(struct buf *);	/* caller frees; never NULL */
void		 buf_json_str(struct buf *, const char *);	/* quoted JSON string */

#endif
