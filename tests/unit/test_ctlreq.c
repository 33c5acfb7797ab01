/*
 * test_ctlreq.c - requests to the running daemon: asked and answered
 * across processes (inotify wakes the server), a request nobody answers
 * is withdrawn, what a previous run left is removed, what is not a
 * request is left alone, bad requests are refused
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlreq.h"
#include "fakes.h"
#include "fsutil.h"
#include "harness.h"
#include "statedir.h"
#include "xmalloc.h"

static char	dir[64];

static int
entries(void)
{
	char	*d = statedir_requests(dir);
	int	 n = fake_dir_entries(d);

	free(d);
	return n;
}

static void
put(const char *name, const char *text)
{
	char	*d = statedir_requests(dir), *p = xasprintf("%s/%s", d, name);

	CHECK_INT(fs_write_atomic(p, text, strlen(text), 0640, FS_SYNC_NONE),
	    0);
	free(p);
	free(d);
}

/* echo - the test's daemon: "got REQ", and a second line never sent */
static void
echo(void *arg, const char *req, struct buf *reply)
{
	(*(int *)arg)++;
	buf_printf(reply, "got %s\nsecond line", req);
}

static void
test_ctlreq_listen_cleans(void)
{
	char	*d = statedir_requests(dir);
	int	 fd;

	CHECK_INT(fs_mkdir_p(d, 0750), 0);
	put("1-1.req", "stale");
	put("1-1.rep", "stale");
	fd = ctlreq_listen(dir);
	CHECK(fd >= 0);
	CHECK_INT(entries(), 0);
	close(fd);
	free(d);
}

static void
test_ctlreq_roundtrip(void)
{
	static const char *const reqs[] = { "cache-flush", "cache-flush a.b",
	    "x" };
	struct buf	 reply = BUF_INIT, why = BUF_INIT;
	int		 fd = ctlreq_listen(dir), st, served = 0;
	size_t		 i;
	pid_t		 pid;

	CHECK(fd >= 0);
	if ((pid = fork()) == 0) {		/* the daemon */
		struct pollfd	p = { fd, POLLIN, 0 };

		while (served < 3 && poll(&p, 1, 5000) == 1)
			ctlreq_serve(dir, fd, echo, &served);
		_exit(served == 3 ? 0 : 1);
	}
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		buf_reset(&reply);
		CHECKF(ctlreq_send(dir, reqs[i], 5000, &reply, &why) == ST_OK,
		    "%s: %s", reqs[i], buf_str(&why));
		CHECKF(strncmp(buf_str(&reply), "got ", 4) == 0 &&
		    !strcmp(buf_str(&reply) + 4, reqs[i]), "%s: %s", reqs[i],
		    buf_str(&reply));
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	CHECK_INT(entries(), 0);		/* nothing left behind */
	close(fd);
	buf_free(&reply);
	buf_free(&why);
}

/* nobody answers: withdrawn after the timeout */
static void
test_ctlreq_timeout(void)
{
	struct buf	reply = BUF_INIT, why = BUF_INIT;

	CHECK_INT(ctlreq_send(dir, "cache-flush", 200, &reply, &why),
	    ST_TEMPFAIL);
	CHECK(strstr(buf_str(&why), "200 ms") != NULL);
	CHECK_INT(reply.b_len, 0);
	CHECK_INT(entries(), 0);
	buf_free(&reply);
	buf_free(&why);
}

static void
test_ctlreq_bad_requests(void)
{
	struct buf	 reply = BUF_INIT, why = BUF_INIT;
	char		*big = xmalloc(CTLREQ_MAX + 1);
	int		 served = 0;

	CHECK_INT(ctlreq_send(dir, "a\nb", 100, &reply, &why), ST_INTERNAL);
	memset(big, 'a', CTLREQ_MAX);
	big[CTLREQ_MAX] = '\0';
	CHECK_INT(ctlreq_send(dir, big, 100, &reply, &why), ST_INTERNAL);
	CHECK_INT(ctlreq_send("/nonexistent-dir", "x", 100, &reply, &why),
	    ST_INTERNAL);
	CHECK_INT(entries(), 0);
	/* not requests: left alone */
	put("9-9.req.tmp.1.1", "x");
	put("9-9.rep", "x");
	put(".hidden.req", "x");
	CHECK_INT(ctlreq_serve(dir, -1, echo, &served), 0);
	CHECK_INT(served, 0);
	CHECK_INT(entries(), 3);
	/* a request without a client: answered all the same */
	put("8-8.req", "y");
	CHECK_INT(ctlreq_serve(dir, -1, echo, &served), 1);
	CHECK_INT(served, 1);
	CHECK_INT(entries(), 4);		/* 8-8.rep */
	free(big);
	buf_free(&reply);
	buf_free(&why);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_ctlreq.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_ctlreq_listen_cleans);
	RUN(test_ctlreq_roundtrip);
	RUN(test_ctlreq_timeout);
	RUN(test_ctlreq_bad_requests);
	(void)close(ctlreq_listen(dir));	/* cleans up */
	{
		char *d = statedir_requests(dir);

		(void)rmdir(d);
		free(d);
	}
	(void)rmdir(dir);
	return harness_done("test_ctlreq");
}
