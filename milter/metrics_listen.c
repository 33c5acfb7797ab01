/*
 * metrics_listen.c - the thread that answers GET /metrics (see
 * metrics_listen.h); the text and the HTTP framing are metrics.c's
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics_listen.h"
#include "sockspec.h"
#include "xmalloc.h"

struct metrics_listen {
	int		  ml_fd;
	int		  ml_stop[2];	/* a pipe: stop() writes, the thread polls */
	pthread_t	  ml_thread;
	int		  ml_running;
	void		(*ml_fill)(void *, struct metrics_snap *);
	void		 *ml_arg;
};

/* now_ms - the I/O deadlines are real time (not the clock seam) */
static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct metrics_listen *
metrics_listen_new(const char *spec, struct buf *why)
{
	struct metrics_listen	*ml;
	struct sockspec		 ss;
	struct addrinfo		 hints, *res, *ai;
	int			 fd = -1, on = 1, e;

	if (sockspec_parse(spec, &ss, why) != ST_OK)
		return NULL;
	if (ss.kind != SOCKSPEC_INET) {
		buf_printf(why, "%s: expected inet:port@host", spec);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ss.family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
	if ((e = getaddrinfo(ss.host[0] ? ss.host : NULL, ss.port, &hints,
	    &res)) != 0) {
		buf_printf(why, "%s: %s", spec, gai_strerror(e));
		return NULL;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol)) < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    listen(fd, 16) != 0) {
			e = errno;
			close(fd);
			fd = -1;
			errno = e;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		buf_printf(why, "%s: %s", spec, strerror(errno));
		return NULL;
	}
	ml = xcalloc(1, sizeof(*ml));
	ml->ml_fd = fd;
	ml->ml_stop[0] = ml->ml_stop[1] = -1;
	return ml;
}

/* wait_fd - poll fd for ev until deadline; 1 ready, 0 timeout or stop */
static int
wait_fd(struct metrics_listen *ml, int fd, short ev, int64_t deadline)
{
	struct pollfd	p[2] = { { fd, ev, 0 }, { ml->ml_stop[0], POLLIN, 0 } };
	int64_t		left;
	int		n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(p, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || p[1].revents != 0)
			return 0;
		return 1;
	}
}

/* serve - one connection: read the head, answer, close */
static void
serve(struct metrics_listen *ml, int fd)
{
	char			 req[METRICS_HTTP_MAX];
	size_t			 len = 0, off = 0;
	ssize_t			 n;
	int64_t			 deadline = now_ms() + METRICS_LISTEN_TIMEOUT_MS;
	int			 code = 0, head = 0;
	struct buf		 body = BUF_INIT, out = BUF_INIT;
	struct metrics_snap	 s;

	while (code == 0) {
		if (!wait_fd(ml, fd, POLLIN, deadline)) {
			code = 408;
			break;
		}
		n = recv(fd, req + len, sizeof(req) - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			goto out;		/* gone: nothing to answer */
		len += (size_t)n;
		code = metrics_http_request(req, len, &head);
	}
	if (code == 200) {
		memset(&s, 0, sizeof(s));
		ml->ml_fill(ml->ml_arg, &s);
		metrics_render(&s, &body);
	}
	metrics_http_response(code, head, &body, &out);
	while (off < out.b_len) {
		n = send(fd, out.b_data + off, out.b_len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN) &&
		    wait_fd(ml, fd, POLLOUT, deadline))
			continue;
		break;
	}
out:
	buf_free(&body);
	buf_free(&out);
}

static void *
run(void *arg)
{
	struct metrics_listen	*ml = arg;
	struct pollfd		 p[2] = { { ml->ml_fd, POLLIN, 0 },
				    { ml->ml_stop[0], POLLIN, 0 } };
	int			 fd;
	time_t			 lastwarn = 0;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("metrics_listen: poll");
			break;
		}
		if (p[1].revents != 0)
			break;
		if ((fd = accept4(ml->ml_fd, NULL, NULL, SOCK_CLOEXEC |
		    SOCK_NONBLOCK)) < 0) {
			/*
			 * EAGAIN, ECONNABORTED: later.  Out of descriptors
			 * the socket stays readable: pause instead of
			 * spinning, and say so at most once a minute.
			 */
			if (errno == EMFILE || errno == ENFILE) {
				if (time(NULL) - lastwarn >= 60) {
					lastwarn = time(NULL);
					log_warnx("metrics_listen: out of file "
					    "descriptors");
				}
				(void)poll(NULL, 0, 100);
			}
			continue;
		}
		serve(ml, fd);
		close(fd);
	}
	return NULL;
}

int
metrics_listen_start(struct metrics_listen *ml,
    void (*fill)(void *, struct metrics_snap *), void *arg)
{
	ml->ml_fill = fill;
	ml->ml_arg = arg;
	if (pipe2(ml->ml_stop, O_CLOEXEC) != 0)
		return -1;
	if (pthread_create(&ml->ml_thread, NULL, run, ml) != 0) {
		close(ml->ml_stop[0]);
		close(ml->ml_stop[1]);
		ml->ml_stop[0] = ml->ml_stop[1] = -1;
		return -1;
	}
	ml->ml_running = 1;
	return 0;
}

void
metrics_listen_stop(struct metrics_listen *ml)
{
	if (ml == NULL)
		return;
	if (ml->ml_running) {
		(void)write(ml->ml_stop[1], "x", 1);
		pthread_join(ml->ml_thread, NULL);
	}
	if (ml->ml_stop[0] >= 0) {
		close(ml->ml_stop[0]);
		close(ml->ml_stop[1]);
	}
	close(ml->ml_fd);
	free(ml);
}
