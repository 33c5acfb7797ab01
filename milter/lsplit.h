/*
 * lsplit.h - whole lines out of the chunks a file is read in (pure)
 *
 * SYNOPSIS
 *	struct lsplit ls = { 0 };
 *	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
 *		lsplit_feed(&ls, chunk, n, line_cb, arg);
 *
 * DESCRIPTION
 *	logtail.c reads the mail log in chunks of 64 KB; a line may end in
 *	a later chunk than it starts in.  lsplit_feed() calls cb once for
 *	each line that ends (LF) in chunk, without its LF, joined with the
 *	part kept from earlier chunks; the part after the last LF is kept
 *	for the next call.  A line longer than LSPLIT_MAX bytes is skipped
 *	whole.  off is where the line starts, relative to the chunk's
 *	first byte (negative: it started in an earlier chunk).  The
 *	caller resets blen and skipping when it starts a file again.
 *	fuzz_lsplit checks it against splitting the whole text at once.
 */
#ifndef LSPLIT_H
#define LSPLIT_H

#include <stddef.h>

#define LSPLIT_MAX	8192		/* longer lines are skipped */

struct lsplit {
	size_t	blen;			/* bytes of a partial line in buf */
	int	skipping;		/* inside an over-long line */
	char	buf[LSPLIT_MAX + 1];
};

typedef void	lsplit_cb(void *arg, const char *line, size_t len,
		    long long off);

void	lsplit_feed(struct lsplit *, const char *chunk, size_t n,
	    lsplit_cb *cb, void *arg);

#endif
