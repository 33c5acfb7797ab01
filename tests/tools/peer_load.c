/*
 * peer_load.c - many concurrent MTA connections, and hostile ones, for
 * the load test (tests/integration/t_load.sh)
 *
 * peer_load -p milter|pmap -s SOCKET [-c CONNS] [-r REQS] [-D DOMAINS]
 *	     [-S SILENT] [-W SLOW] [-N NOREAD] [-G GARBAGE] [-T SECONDS]
 *	     [-L MS]
 *
 *	-p	the protocol: "milter" (the MTA side of the milter protocol,
 *		version 6: OPTNEG, CONNECT, MAIL, REQS x RCPT, ABORT, QUIT at
 *		the end) or "pmap" (Postfix's socketmap: REQS netstring
 *		lookups "postfix DOMAIN" in lock-step)
 *	-s	the socket: /path (unix) or host:port
 *	-c	measured connections (1000), all opened at once and held
 *		open until every one has finished: they are concurrent
 *	-r	requests per measured connection (5)
 *	-D	domains, comma-separated, taken in turn, connection i
 *		starting with the i-th (enforce.test)
 *	-S	silent connections: connect, send nothing, hold open
 *	-W	slow connections: a request one byte every 250 ms, never done
 *	-N	connections that send 500 requests and never read (pmap) or
 *		stop reading after OPTNEG (milter)
 *	-G	connections that send 4 KB of garbage and wait for the close
 *	-T	give up after this many seconds (60)
 *	-L	count connections whose longest wait passed MS ms (1000)
 *
 * A connection's wait is the time from a request's send (the first:
 * from the connect, so a slow accept counts) to the last byte of its
 * reply; each measured connection keeps its longest.  A unix connect
 * that finds the backlog full is retried every 5 ms, its wait going on.
 * One thread, epoll.  Last line:
 *	RESULT conns=N done=D failed=F over=K max_wait_ms=M p50_wait_ms=..
 *	    p99_wait_ms=.. replies=R tempfail=T concurrent=C hostile=H
 * (concurrent: measured connections open at once at the peak; hostile:
 * hostile connections still open, or closed by the server, at the end).
 * Exit 0 when every measured connection finished in time.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_time.h"

enum kind { K_MEASURED, K_SILENT, K_SLOW, K_NOREAD, K_GARBAGE };
enum st { S_CONNECT, S_WAIT, S_IDLE, S_DONE, S_FAILED };

struct conn {
	int		 fd, idx;
	enum kind	 kind;
	enum st		 st;
	int		 step;		/* requests answered (milter: stages) */
	int64_t		 t0;		/* the pending wait started */
	int64_t		 t_first;	/* the first connect attempt */
	int64_t		 maxwait, next_ns;
	char		 in[8192];
	size_t		 inlen;
	char		*out;
	size_t		 outlen, outoff;
};

static const char	*o_proto = "pmap", *o_sock;
static int		 o_conns = 1000, o_reqs = 5, o_silent, o_slow, o_noread,
			 o_garbage, o_secs = 60, o_limit_ms = 1000;
static char		*doms[256];
static int		 ndoms;
static int		 ep, milter;
static unsigned long	 replies, tempfails;

static void
queue(struct conn *c, const void *p, size_t n)
{
	c->out = realloc(c->out, c->outlen + n);
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* mpkt - one milter packet: length, command, data */
static void
mpkt(struct conn *c, char cmd, const void *data, size_t n)
{
	uint32_t	len = htonl((uint32_t)n + 1);

	queue(c, &len, 4);
	queue(c, &cmd, 1);
	if (n)
		queue(c, data, n);
}

static void
request(struct conn *c, int i)
{
	const char	*d = doms[(c->idx + i) % ndoms];
	char		 b[600];
	int		 n;

	c->t0 = bench_time_ns();
	if (!milter) {
		n = snprintf(b, sizeof(b), "%zu:postfix %s,",
		    strlen("postfix ") + strlen(d), d);
		queue(c, b, (size_t)n);
		return;
	}
	switch (c->step) {
	case 0: {				/* OPTNEG: v6, all actions */
		uint32_t v[3] = { htonl(6), htonl(0x1ff), htonl(0) };

		mpkt(c, 'O', v, sizeof(v));
		break;
	}
	case 1:					/* CONNECT 192.0.2.1:41000 */
		memcpy(b, "client.example\0" "4\xa0\x28" "192.0.2.1\0", 28);
		mpkt(c, 'C', b, 28);
		break;
	case 2:
		mpkt(c, 'D', "Mi\0LOADQID\0", 11);
		mpkt(c, 'M', "<load@sender.example>\0", 22);
		break;
	default:
		n = snprintf(b, sizeof(b), "<u%d@%s>", i, d);
		mpkt(c, 'R', b, (size_t)n + 1);
		break;
	}
}

static int
open_sock(void)
{
	struct sockaddr_un	 sun;
	struct sockaddr_in	 sin;
	const char		*colon;
	int			 fd;

	if (o_sock[0] == '/') {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", o_sock);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno == EINPROGRESS)
			return fd;
	} else {
		colon = strrchr(o_sock, ':');
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)atoi(colon + 1));
		{
			char	h[64];

			snprintf(h, sizeof(h), "%.*s", (int)(colon - o_sock),
			    o_sock);
			inet_pton(AF_INET, h, &sin.sin_addr);
		}
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
		    errno == EINPROGRESS)
			return fd;
	}
	close(fd);
	return -1;			/* EAGAIN: the backlog is full, retry */
}

static void
arm(struct conn *c)
{
	struct epoll_event	ev;
	int			reading = !(c->kind == K_NOREAD &&
				    (!milter || c->step > 0));

	ev.events = (reading ? EPOLLIN : 0) |
	    (c->outoff < c->outlen ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		(void)epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* what a slow client sends, one byte at a time, and never finishes: a
 * netstring, or a milter OPTNEG packet (13 bytes announced) */
#define SLOW_PMAP	"30:postfix enforce.test"
#define SLOW_MILTER	"\0\0\0\x0dO\0\0\0\x06\0\0"
#define SLOW_LEN	(milter ? sizeof(SLOW_MILTER) - 1 : sizeof(SLOW_PMAP) - 1)

static void
start(struct conn *c)
{
	char			junk[4096];
	int			i;

	if ((c->fd = open_sock()) < 0)
		return;
	c->st = S_WAIT;
	switch (c->kind) {
	case K_MEASURED:
		request(c, 0);
		c->t0 = c->t_first;	/* the wait began with the connect */
		break;
	case K_SILENT:
		c->st = S_IDLE;
		break;
	case K_SLOW:
		c->st = S_IDLE;
		c->next_ns = bench_time_ns();
		break;
	case K_NOREAD:
		c->st = S_IDLE;
		if (milter)
			request(c, 0);
		else
			for (i = 0; i < 500; i++)
				request(c, i);
		break;
	case K_GARBAGE:
		for (i = 0; i < (int)sizeof(junk); i++)
			junk[i] = (char)(rand() & 0xff);
		junk[0] = '9';		/* a netstring length, then junk */
		queue(c, junk, sizeof(junk));
		break;
	}
	arm(c);
}

/* reply - a complete reply at the start of in: its length, or 0 */
static size_t
reply_len(struct conn *c, char *code)
{
	uint32_t	n;
	size_t		i, len = 0;

	if (milter) {
		if (c->inlen < 5)
			return 0;
		memcpy(&n, c->in, 4);
		n = ntohl(n);
		if (c->inlen < 4 + (size_t)n)
			return 0;
		*code = c->in[4];
		return 4 + n;
	}
	for (i = 0; i < c->inlen && c->in[i] >= '0' && c->in[i] <= '9'; i++)
		len = len * 10 + (size_t)(c->in[i] - '0');
	if (i == c->inlen || c->in[i] != ':' || c->inlen < i + 1 + len + 1)
		return 0;
	*code = c->in[i + 1];
	return i + 1 + len + 1;
}

static void
got_reply(struct conn *c, char code)
{
	int64_t	w = bench_time_ns() - c->t0;

	if (c->kind != K_MEASURED)
		return;
	if (w > c->maxwait)
		c->maxwait = w;
	if (milter && code == 'p')
		return;			/* progress: the reply is still due */
	replies++;
	if (code == 't' || code == 'y' || code == 'T')
		tempfails++;
	c->step++;
	if (c->step >= (milter ? 3 : 0) + o_reqs) {
		if (milter)
			mpkt(c, 'A', NULL, 0);
		c->st = S_DONE;
		return;
	}
	request(c, c->step);
}

static void
io(struct conn *c, uint32_t events)
{
	ssize_t	n;
	size_t	len;
	char	code;

	if ((events & EPOLLOUT) && c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n > 0)
			c->outoff += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			goto gone;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			goto gone;
		if (n > 0)
			c->inlen += (size_t)n;
		while ((len = reply_len(c, &code)) > 0) {
			memmove(c->in, c->in + len, c->inlen - len);
			c->inlen -= len;
			if (c->kind == K_NOREAD)
				c->step = 1;
			got_reply(c, code);
		}
		if (c->inlen == sizeof(c->in))
			goto gone;
	}
	arm(c);
	return;
gone:
	if (c->kind == K_MEASURED && c->st != S_DONE) {
		fprintf(stderr, "peer_load: connection closed after %d "
		    "replies\n", c->step);
		c->st = S_FAILED;
	} else if (c->kind != K_MEASURED)
		c->st = S_DONE;		/* the server closed it: fine */
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct epoll_event	 evs[256];
	struct rlimit		 rl;
	struct conn		*cs;
	int64_t			 end, t, *w;
	char			*d;
	int			 ch, i, n, total, done, failed, over, open_now,
				 peak = 0, hostile_left = 0;

	while ((ch = getopt(argc, argv, "p:s:c:r:D:S:W:N:G:T:L:")) != -1) {
		switch (ch) {
		case 'p': o_proto = optarg; break;
		case 's': o_sock = optarg; break;
		case 'c': o_conns = atoi(optarg); break;
		case 'r': o_reqs = atoi(optarg); break;
		case 'D':
			for (d = strtok(optarg, ","); d && ndoms < 256;
			    d = strtok(NULL, ","))
				doms[ndoms++] = d;
			break;
		case 'S': o_silent = atoi(optarg); break;
		case 'W': o_slow = atoi(optarg); break;
		case 'N': o_noread = atoi(optarg); break;
		case 'G': o_garbage = atoi(optarg); break;
		case 'T': o_secs = atoi(optarg); break;
		case 'L': o_limit_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: peer_load -p milter|pmap -s "
			    "SOCKET [-c N] [-r N] [-D d1,d2] [-S N] [-W N] "
			    "[-N N] [-G N] [-T SECS] [-L MS]\n");
			return 2;
		}
	}
	if (o_sock == NULL)
		return 2;
	milter = strcmp(o_proto, "milter") == 0;
	if (ndoms == 0)
		doms[ndoms++] = "enforce.test";
	total = o_conns + o_silent + o_slow + o_noread + o_garbage;
	/* as the MTA's own limit would be raised for this many */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	ep = epoll_create1(0);
	cs = calloc((size_t)total, sizeof(*cs));
	for (i = 0; i < total; i++) {
		cs[i].fd = -1;
		cs[i].idx = i;
		cs[i].kind = i < o_conns ? K_MEASURED : i < o_conns + o_silent ?
		    K_SILENT : i < o_conns + o_silent + o_slow ? K_SLOW :
		    i < o_conns + o_silent + o_slow + o_noread ? K_NOREAD :
		    K_GARBAGE;
		cs[i].t0 = cs[i].t_first = bench_time_ns();
	}
	/* the hostile ones first: they are there before the load starts */
	for (i = o_conns; i < total; i++)
		start(&cs[i]);
	for (i = 0; i < o_conns; i++)
		start(&cs[i]);
	end = bench_time_ns() + (int64_t)o_secs * 1000000000;
	for (;;) {
		done = failed = open_now = 0;
		for (i = 0; i < o_conns; i++) {
			if (cs[i].st == S_CONNECT) {
				start(&cs[i]);	/* backlog was full */
				if (cs[i].fd < 0)
					continue;
			}
			if (cs[i].fd >= 0)
				open_now++;
			done += cs[i].st == S_DONE;
			failed += cs[i].st == S_FAILED;
		}
		if (open_now > peak)
			peak = open_now;
		if (done + failed == o_conns || bench_time_ns() > end)
			break;
		t = bench_time_ns();
		for (i = o_conns; i < total; i++)	/* the slow ones */
			if (cs[i].kind == K_SLOW && cs[i].fd >= 0 &&
			    t >= cs[i].next_ns && cs[i].outlen < SLOW_LEN) {
				queue(&cs[i], (milter ? SLOW_MILTER : SLOW_PMAP)
				    + cs[i].outlen, 1);
				cs[i].next_ns = t + 250000000;
				arm(&cs[i]);
			}
		n = epoll_wait(ep, evs, 256, 5);
		for (i = 0; i < n; i++)
			io(evs[i].data.ptr, evs[i].events);
	}
	w = calloc((size_t)o_conns + 1, sizeof(*w));
	done = failed = over = 0;
	for (i = 0; i < o_conns; i++) {
		if (cs[i].st != S_DONE) {
			failed++;
			/* never answered: its wait is the whole run */
			cs[i].maxwait = bench_time_ns() - cs[i].t0 > cs[i].maxwait ?
			    bench_time_ns() - cs[i].t0 : cs[i].maxwait;
		} else
			done++;
		w[i] = cs[i].maxwait;
		if (w[i] > (int64_t)o_limit_ms * 1000000)
			over++;
	}
	for (i = o_conns; i < total; i++)
		hostile_left += cs[i].fd >= 0 || cs[i].st == S_DONE;
	qsort(w, (size_t)o_conns, sizeof(*w), cmp64);
	printf("RESULT conns=%d done=%d failed=%d over=%d max_wait_ms=%.1f "
	    "p50_wait_ms=%.1f p99_wait_ms=%.1f replies=%lu tempfail=%lu "
	    "concurrent=%d hostile=%d\n", o_conns, done, failed, over,
	    o_conns ? w[o_conns - 1] / 1e6 : 0.0,
	    o_conns ? w[o_conns / 2] / 1e6 : 0.0,
	    o_conns ? w[(o_conns * 99) / 100] / 1e6 : 0.0, replies, tempfails,
	    peak, hostile_left);
	for (i = 0; i < total; i++) {
		if (cs[i].fd >= 0) {
			if (milter && cs[i].kind == K_MEASURED) {
				uint32_t len = htonl(1);

				(void)send(cs[i].fd, &len, 4, MSG_NOSIGNAL);
				(void)send(cs[i].fd, "Q", 1, MSG_NOSIGNAL);
			}
			close(cs[i].fd);
		}
		free(cs[i].out);
	}
	free(cs);
	free(w);
	return failed == 0 && over == 0 ? 0 : 1;
}
