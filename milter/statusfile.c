/*
 * statusfile.c - write <state_dir>/status.json (see statusfile.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "statusfile.h"
#include "xmalloc.h"

int
status_write(const char *state_dir, const struct status_snap *s)
{
	struct buf	 b = BUF_INIT;
	char		*path = xasprintf("%s/status.json", state_dir);
	char		*tmp = xasprintf("%s.tmp", path);
	int		 fd, rc = -1, e = 0;

	buf_printf(&b, "{\"pid\":%ld,\"started\":%lld,\"written\":%lld,"
	    "\"interval\":%d,", s->pid, (long long)s->started,
	    (long long)s->written, s->interval);
	if (s->stopped)
		buf_printf(&b, "\"stopped\":%lld,", (long long)s->written);
	buf_printf(&b, "\"cache_entries\":%lu,\"journal_errors\":%lu,"
	    "\"gate\":{\"rcpts\":%lu,\"deferred\":%lu}", s->cache_entries,
	    s->journal_errors, s->gate.rcpts, s->gate.deferred);
	if (s->have_pm)
		buf_printf(&b, ",\"policymap\":{\"requests\":%lu,"
		    "\"memo_hits\":%lu,\"connections\":%lu}", s->pm.requests,
		    s->pm.memo_hits, s->pm.connections);
	buf_printf(&b, ",\"tlsrpt\":{\"datagrams\":%lu,\"records\":%lu,"
	    "\"invalid\":%lu,\"dropped\":%lu,\"lost\":%lu,\"unarchived\":%lu,"
	    "\"exim\":%lu,\"exim_invalid\":%lu}", s->col.datagrams,
	    s->col.records, s->col.invalid, s->col.dropped, s->col.lost,
	    s->col.unarchived, s->col.exim, s->col.exim_invalid);
	if (s->have_lt)
		buf_printf(&b, ",\"postfix_log\":{\"lines\":%lu,\"smtp_lines\":"
		    "%lu,\"sessions\":%lu,\"journaled\":%lu}", s->lt.lines,
		    s->lt.recognised, s->lt.sessions, s->lt.journaled);
	buf_puts(&b, "}\n");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) >= 0) {
		errno = 0;
		if (write(fd, buf_str(&b), b.b_len) == (ssize_t)b.b_len)
			rc = 0;
		else
			e = errno ? errno : EIO;	/* short write */
		if (close(fd) != 0 && rc == 0) {
			e = errno;
			rc = -1;
		}
		if (rc == 0 && rename(tmp, path) != 0) {
			e = errno;
			rc = -1;
		}
		if (rc != 0)
			(void)unlink(tmp);
	} else
		e = errno;
	free(tmp);
	free(path);
	buf_free(&b);
	errno = e;
	return rc;
}
