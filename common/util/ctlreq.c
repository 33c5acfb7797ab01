/*
 * ctlreq.c - requests to the running daemon (see ctlreq.h)
 */
#include <sys/stat.h>
#include <sys/inotify.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ctlreq.h"
#include "fsutil.h"
#include "statedir.h"
#include "xmalloc.h"

static int
has_suffix(const char *name, const char *sfx)
{
	size_t	n = strlen(name), m = strlen(sfx);

	return n > m && strcmp(name + n - m, sfx) == 0;
}

int
ctlreq_listen(const char *state_dir)
{
	char		*dir = statedir_requests(state_dir), *p;
	DIR		*d;
	struct dirent	*e;
	int		 fd, saved;

	if (fs_mkdir_p(dir, 0750) != 0) {
		saved = errno;
		free(dir);
		errno = saved;
		return -1;
	}
	if ((d = opendir(dir)) != NULL) {	/* what a previous run left */
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			p = xasprintf("%s/%s", dir, e->d_name);
			(void)unlink(p);
			free(p);
		}
		closedir(d);
	}
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd >= 0 && inotify_add_watch(fd, dir, IN_MOVED_TO |
	    IN_CLOSE_WRITE) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	free(dir);
	return fd;
}

/* answer - one request file: read, remove, answer */
static int
answer(const char *dir, const char *name, ctlreq_fn fn, void *arg)
{
	struct buf	 reply = BUF_INIT;
	struct stat	 st;
	char		*req, *rep, *text, *nl;
	size_t		 len;

	req = xasprintf("%s/%s", dir, name);
	text = fs_read_regular(req, CTLREQ_MAX, &len, &st);
	(void)unlink(req);
	free(req);
	if (text != NULL && st.st_uid != 0 && st.st_uid != geteuid()) {
		free(text);		/* only root and we may ask */
		text = NULL;
	}
	if (text == NULL)
		return 0;
	if ((nl = memchr(text, '\n', len)) != NULL)
		*nl = '\0';
	buf_init(&reply, CTLREQ_MAX);
	fn(arg, text, &reply);
	if ((nl = memchr(buf_str(&reply), '\n', reply.b_len)) != NULL)
		reply.b_len = (size_t)(nl - reply.b_data);	/* one line */
	buf_putc(&reply, '\n');
	rep = xasprintf("%s/%.*s.rep", dir, (int)(strlen(name) - 4), name);
	(void)fs_write_atomic(rep, reply.b_data, reply.b_len, 0640,
	    FS_SYNC_NONE);
	free(rep);
	free(text);
	buf_free(&reply);
	return 1;
}

int
ctlreq_serve(const char *state_dir, int fd, ctlreq_fn fn, void *arg)
{
	char		 ev[4096];
	char		*dir = statedir_requests(state_dir);
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if (fd >= 0)
		while (read(fd, ev, sizeof(ev)) > 0)
			;		/* drained: the directory says what */
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.' && has_suffix(e->d_name, ".req"))
				n += answer(dir, e->d_name, fn, arg);
		closedir(d);
	}
	free(dir);
	return n;
}

enum status
ctlreq_send(const char *state_dir, const char *req, int timeout_ms,
    struct buf *reply, struct buf *why)
{
	static unsigned	 seq;
	struct timespec	 tick = { 0, 10 * 1000 * 1000 };
	char		*dir = statedir_requests(state_dir), *rq, *rp, *text;
	size_t		 len;
	int64_t		 end = clock_mono_ms() + timeout_ms;
	enum status	 st = ST_TEMPFAIL;
	struct stat	 dst, rst;

	rq = xasprintf("%s/%ld-%u.req", dir, (long)getpid(), ++seq);
	rp = xasprintf("%s/%ld-%u.rep", dir, (long)getpid(), seq);
	if (strlen(req) >= CTLREQ_MAX || strchr(req, '\n') != NULL) {
		buf_puts(why, "request too long or not one line");
		st = ST_INTERNAL;
		goto out;
	}
	/* 0644: stsctl may run as root, the daemon as its user */
	if (fs_write_atomic(rq, req, strlen(req), 0644, FS_SYNC_NONE) != 0) {
		buf_printf(why, "%s: %s", dir, strerror(errno));
		st = ST_INTERNAL;
		goto out;
	}
	if (stat(dir, &dst) != 0) {
		buf_printf(why, "%s: %s", dir, strerror(errno));
		st = ST_INTERNAL;
		goto out;
	}
	for (;;) {
		/*
		 * The answer is the directory owner's (the daemon's user)
		 * or root's: stsctl, often root, reads nothing else there.
		 */
		if ((text = fs_read_regular(rp, CTLREQ_MAX, &len, &rst)) !=
		    NULL && rst.st_uid != dst.st_uid && rst.st_uid != 0) {
			free(text);
			text = NULL;
		}
		if (text != NULL) {
			(void)unlink(rp);
			if (len > 0 && text[len - 1] == '\n')
				text[--len] = '\0';
			buf_append(reply, text, len);
			free(text);
			st = ST_OK;
			break;
		}
		if (clock_mono_ms() >= end) {
			/* withdrawn; answered meanwhile: the answer is lost */
			(void)unlink(rq);
			(void)unlink(rp);
			buf_printf(why, "no answer within %d ms", timeout_ms);
			break;
		}
		nanosleep(&tick, NULL);
	}
out:
	free(rq);
	free(rp);
	free(dir);
	return st;
}
