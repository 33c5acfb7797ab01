/*
 * journal.c - append and read the journal
 *
 * The writer keeps one descriptor for the current day and reopens when
 * the UTC day of a record changes or the file was removed.  Records are
 * formatted outside the lock; the lock covers only the descriptor and
 * the write.  A short or failed write leaves at most a torn line, which
 * readers detect by its CRC and skip.
 *
 * Failures are logged here, for every writer (gate, collectors): the
 * first at once, then at most one line every JOURNAL_LOG_EVERY seconds
 * with the count since, and one line when a write succeeds again (a
 * full disk that has space again: the next record reopens the file and
 * ends a torn line first).  Nothing is retried: the record is lost and
 * counted (journal_errors).
 *
 * Reading uses a 1 MiB buffer and memchr for line breaks; a line longer
 * than JOURNAL_LINE_MAX is skipped whole.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "journal.h"
#include "statedir.h"
#include "timefmt.h"
#include "xmalloc.h"

struct journal {
	char		*j_dir;
	pthread_mutex_t	 j_mu;
	int		 j_fd;
	char		 j_day[11];
	unsigned long	 j_errors;
	unsigned long	 j_failing;	/* failures since the last success */
	unsigned long	 j_unlogged;	/* of them not logged yet */
	time_t		 j_logged;	/* when a failure was last logged */
};

#define JOURNAL_LOG_EVERY	60

struct journal *
journal_open(const char *state_dir, struct buf *why)
{
	struct journal	*j = xcalloc(1, sizeof(*j));

	j->j_dir = statedir_journal(state_dir);
	if (fs_mkdir_p(j->j_dir, 0750) != 0) {
		buf_printf(why, "%s: %s", j->j_dir, strerror(errno));
		free(j->j_dir);
		free(j);
		return NULL;
	}
	pthread_mutex_init(&j->j_mu, NULL);
	j->j_fd = -1;
	return j;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->j_fd >= 0)
		close(j->j_fd);
	pthread_mutex_destroy(&j->j_mu);
	free(j->j_dir);
	free(j);
}

const char *
journal_dir(const struct journal *j)
{
	return j->j_dir;
}

unsigned long
journal_errors(const struct journal *j)
{
	return __atomic_load_n(&j->j_errors, __ATOMIC_RELAXED);
}

/* reopen - descriptor for day; lock held */
static int
reopen(struct journal *j, const char *day)
{
	struct stat	st;
	char		*path;

	if (j->j_fd >= 0 && strcmp(j->j_day, day) == 0 &&
	    fstat(j->j_fd, &st) == 0 && st.st_nlink > 0)
		return 0;
	if (j->j_fd >= 0)
		close(j->j_fd);
	path = xasprintf("%s/%s.jnl", j->j_dir, day);
	j->j_fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	free(path);
	if (j->j_fd < 0)
		return -1;
	/*
	 * A crash may have left a torn last line.  End it here, so the
	 * next record starts on a line of its own and is not lost with it.
	 */
	if (fstat(j->j_fd, &st) == 0 && st.st_size > 0) {
		char	last;

		if (pread(j->j_fd, &last, 1, st.st_size - 1) == 1 &&
		    last != '\n' && write(j->j_fd, "\n", 1) != 1) {
			/* Still full: try again next time, never append a
			 * record to the torn line (it would be lost too). */
			close(j->j_fd);
			j->j_fd = -1;
			return -1;
		}
	}
	memcpy(j->j_day, day, sizeof(j->j_day));
	return 0;
}

int
journal_append(struct journal *j, const struct journal_rec *r)
{
	struct buf	line;
	char		day[11];
	ssize_t		n;
	int		rc = -1, e = 0, say = 0;
	unsigned long	failing = 0, unlogged = 0;
	time_t		now;

	if (j == NULL)
		return -1;
	buf_init(&line, JOURNAL_LINE_MAX);
	journal_encode(r, &line);
	timefmt_day(r->time, day);
	pthread_mutex_lock(&j->j_mu);
	if (!line.b_trunc && reopen(j, day) == 0) {
		errno = 0;
		n = write(j->j_fd, buf_str(&line), line.b_len);
		rc = n == (ssize_t)line.b_len ? 0 : -1;
		if (rc != 0) {
			e = n >= 0 ? ENOSPC : errno;	/* short: full */
			/* A short write left a torn line: reopen next time,
			 * which ends it before the next record. */
			close(j->j_fd);
			j->j_fd = -1;
		}
	}
	else
		e = line.b_trunc ? EMSGSIZE : errno;
	now = clock_now();
	if (rc != 0) {
		j->j_failing++;
		j->j_unlogged++;
		if (j->j_failing == 1 || now - j->j_logged >= JOURNAL_LOG_EVERY) {
			say = 1;
			unlogged = j->j_unlogged;
			failing = j->j_failing;
			j->j_unlogged = 0;
			j->j_logged = now;
		}
	} else if (j->j_failing > 0) {
		say = 1;
		failing = j->j_failing;
		j->j_failing = j->j_unlogged = 0;
	}
	pthread_mutex_unlock(&j->j_mu);
	if (rc != 0)
		__atomic_add_fetch(&j->j_errors, 1, __ATOMIC_RELAXED);
	if (say && rc != 0)
		log_err("journal: write failed: %s (%lu record%s lost since "
		    "the last line, %lu since the last good write; logged at "
		    "most every %d s)", strerror(e ? e : EIO), unlogged,
		    unlogged == 1 ? "" : "s", failing, JOURNAL_LOG_EVERY);
	else if (say)
		log_notice("journal: writing again (%lu record%s lost)",
		    failing, failing == 1 ? "" : "s");
	buf_free(&line);
	errno = e;
	return rc;
}

int
journal_read_day(const char *state_dir, const char *day,
    int (*fn)(void *, const struct journal_rec *), void *arg,
    struct journal_stats *stats)
{
	struct journal_rec	 r;
	struct buf		 why = BUF_INIT;
	char			*path, *buf, *p, *nl;
	size_t			 have = 0, bufsize = 1024 * 1024;
	ssize_t			 n;
	int			 fd, skipping = 0, stop = 0;

	memset(stats, 0, sizeof(*stats));
	path = statedir_journal_day(state_dir, day);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	buf = xmalloc(bufsize);
	while (!stop && (n = read(fd, buf + have, bufsize - have)) > 0) {
		have += (size_t)n;
		p = buf;
		while (!stop && (nl = memchr(p, '\n', have - (size_t)(p - buf)))) {
			if (skipping)
				skipping = 0;		/* end of an overlong line */
			else if (nl == p)
				;			/* empty line */
			else if (journal_decode(p, (size_t)(nl - p), &r, &why) ==
			    ST_OK) {
				stats->records++;
				stop = fn(arg, &r) != 0;
			} else {
				stats->bad++;
				buf_reset(&why);
			}
			p = nl + 1;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == bufsize) {		/* a line longer than the buffer */
			stats->bad++;
			skipping = 1;
			have = 0;
		}
	}
	if (n < 0) {				/* EIO, EISDIR: not an end */
		int	e = errno;

		close(fd);
		free(buf);
		buf_free(&why);
		errno = e;
		return -1;
	}
	if (have > 0 && !skipping && !stop)
		stats->bad++;			/* torn last record */
	close(fd);
	free(buf);
	buf_free(&why);
	return 0;
}
