/*
 * socketmap_load.c - a socketmap load client that behaves like Postfix
 *
 * SYNOPSIS
 *	socketmap_load [-c conns] [-t seconds] [-n name] [-w] [-o]
 *	    [-i usec] [-x prefix] ADDR DOMAIN...
 *	socketmap_load ... ADDR -f FILE
 *
 * DESCRIPTION
 *	Opens conns persistent connections to ADDR ("unix:/path",
 *	"/path", or "host:port") and on each sends netstring requests
 *	"name domain" in lock-step (one outstanding request per
 *	connection, like each Postfix smtp(8) process), cycling through
 *	the domains.  One thread, epoll.  After the run it prints one
 *	line:
 *
 *	    conns=N lookups=L seconds=S rate=R p50_us=X p99_us=Y errors=E
 *
 *	-w checks the first reply of each domain and prints it (warm-up).
 *	-o asks for every domain exactly once, spread over the
 *	connections, and stops (cold warm-up of many domains).
 *	-f reads the domains from FILE, one per line ("-": stdin).
 *	-i waits usec after each reply before the connection's next
 *	request (a paced probe that leaves the CPU to others).
 *	-x counts replies whose text does not start with prefix (they
 *	still count as lookups) and prints "bad=N" after errors.
 *	SIGTERM or SIGINT ends the run early; the line is still printed.
 *	Latency is from the send of a request to the last byte of its
 *	reply, per request.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_time.h"

struct lconn {
	int		 fd;
	size_t		 next;		/* domain index */
	char		 in[4096];
	size_t		 inlen;
	int64_t		 sent_ns;
	int		 busy;		/* a request is outstanding */
	int64_t		 due_ns;	/* -i: next request not before */
};

static char	**req;
static size_t	 *reqlen, nreq;
static int64_t	 *lat;
static size_t	  nlat, latcap;
static int	  once;
static size_t	  nextreq;		/* -o: the next domain to ask */
static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int
dial(const char *addr)
{
	struct sockaddr_un	sun;
	struct sockaddr_in	sin;
	const char		*path = addr, *colon;
	int			fd, one = 1;

	if (strncmp(addr, "unix:", 5) == 0)
		path = addr + 5;
	if (path[0] == '/') {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) < 0)
			return -1;
		return fd;
	}
	if (strncmp(addr, "inet:", 5) == 0)
		addr += 5;
	if ((colon = strrchr(addr, ':')) == NULL)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	{
		char	host[64];

		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
send_req(struct lconn *c)
{
	size_t	i;

	if (once) {
		if (nextreq == nreq)
			return 1;		/* done: this one stays quiet */
		c->next = nextreq++;
	}
	i = c->next++ % nreq;

	c->sent_ns = bench_time_ns();
	c->busy = send(c->fd, req[i], reqlen[i], MSG_NOSIGNAL) ==
	    (ssize_t)reqlen[i];
	return c->busy ? 0 : -1;
}

/* read_domains - one per line from path ("-": stdin) */
static char **
read_domains(const char *path, size_t *n)
{
	FILE	*f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char	 line[512], **v = NULL;
	size_t	 cap = 0, len;

	*n = 0;
	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\r\n");
		if (len == 0)
			continue;
		line[len] = '\0';
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = strdup(line);
	}
	if (f != stdin)
		fclose(f);
	return v;
}

/* reply_done - 1 if c->in holds a whole netstring */
static int
reply_done(const struct lconn *c, size_t *total)
{
	size_t	i, len = 0;

	for (i = 0; i < c->inlen && c->in[i] >= '0' && c->in[i] <= '9'; i++)
		len = len * 10 + (size_t)(c->in[i] - '0');
	if (i == c->inlen || c->in[i] != ':')
		return 0;
	*total = i + 1 + len + 1;
	return c->inlen >= *total;
}

/* reply_starts - the reply text (after "len:") starts with prefix */
static int
reply_starts(const struct lconn *c, const char *prefix)
{
	const char	*colon = memchr(c->in, ':', c->inlen);
	size_t		 n = strlen(prefix);

	return colon != NULL && (size_t)(c->in + c->inlen - colon - 1) >= n &&
	    memcmp(colon + 1, prefix, n) == 0;
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
	const char		*name = "postfix", *addr, *file = NULL;
	char			**doms;
	size_t			 ndoms, pending = 0;
	int			 conns = 1, secs = 3, warm = 0, ch, ep, i, n;
	struct lconn		*cs;
	struct epoll_event	 ev, evs[256];
	int64_t			 start, end, errors = 0, bad = 0;
	int64_t			 pace_ns = 0;
	const char		*expect = NULL;
	size_t			 total, waiting = 0;
	int			 k0;
	struct sigaction	 sa;

	while ((ch = getopt(argc, argv, "c:t:n:wof:i:x:")) != -1)
		switch (ch) {
		case 'c': conns = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'n': name = optarg; break;
		case 'w': warm = 1; break;
		case 'o': once = 1; break;
		case 'f': file = optarg; break;
		case 'i': pace_ns = (int64_t)atol(optarg) * 1000; break;
		case 'x': expect = optarg; break;
		default:
			fprintf(stderr, "usage: socketmap_load [-c conns] "
			    "[-t seconds] [-n name] [-w] [-o] [-i usec] "
			    "[-x prefix] ADDR "
			    "DOMAIN...|-f FILE\n");
			return 2;
		}
	if (argc - optind < (file ? 1 : 2) || conns < 1)
		return 2;
	addr = argv[optind++];
	if (file != NULL) {
		if ((doms = read_domains(file, &ndoms)) == NULL || ndoms == 0) {
			fprintf(stderr, "socketmap_load: %s: no domains\n",
			    file);
			return 2;
		}
	} else {
		doms = argv + optind;
		ndoms = (size_t)(argc - optind);
	}
	nreq = ndoms;
	req = calloc(nreq, sizeof(*req));
	reqlen = calloc(nreq, sizeof(*reqlen));
	for (i = 0; i < (int)nreq; i++) {
		size_t	l = strlen(name) + 1 + strlen(doms[i]);

		req[i] = malloc(l + 32);
		reqlen[i] = (size_t)snprintf(req[i], l + 32, "%zu:%s %s,", l,
		    name, doms[i]);
	}
	if (warm) {
		struct lconn	c;

		memset(&c, 0, sizeof(c));
		if ((c.fd = dial(addr)) < 0) {
			perror(addr);
			return 1;
		}
		for (i = 0; i < (int)nreq; i++) {
			ssize_t	k;

			c.next = (size_t)i;
			c.inlen = 0;
			send_req(&c);
			while (!reply_done(&c, &total)) {
				k = recv(c.fd, c.in + c.inlen,
				    sizeof(c.in) - c.inlen, 0);
				if (k <= 0)
					return 1;
				c.inlen += (size_t)k;
			}
			printf("%s -> %.*s\n", doms[i],
			    (int)(total - 1), c.in);
		}
		close(c.fd);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	cs = calloc((size_t)conns, sizeof(*cs));
	ep = epoll_create1(0);
	latcap = 1 << 20;
	lat = malloc(latcap * sizeof(*lat));
	for (i = 0; i < conns; i++) {
		if ((cs[i].fd = dial(addr)) < 0) {
			perror(addr);
			return 1;
		}
		cs[i].next = (size_t)i;
		ev.events = EPOLLIN;
		ev.data.ptr = &cs[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
	}
	start = bench_time_ns();
	end = start + (int64_t)secs * 1000000000;
	if (once)
		end = INT64_MAX;		/* until every domain is asked */
	for (i = 0; i < conns; i++)
		if (send_req(&cs[i]) == 0)
			pending++;
	for (;;) {
		int64_t	t = bench_time_ns();

		if (t >= end || stop || (once && pending == 0 && waiting == 0))
			break;
		if (waiting > 0)	/* -i: paced connections now due */
			for (i = 0; i < conns; i++) {
				if (cs[i].due_ns == 0 || cs[i].due_ns > t)
					continue;
				cs[i].due_ns = 0;
				waiting--;
				k0 = send_req(&cs[i]);
				if (k0 < 0)
					errors++;
				if (k0 == 0)
					pending++;
			}
		n = epoll_wait(ep, evs, 256, waiting > 0 ?
		    (int)(pace_ns / 1000000 + 1) : 100);
		for (i = 0; i < n; i++) {
			struct lconn	*c = evs[i].data.ptr;
			ssize_t		 k;

			k = recv(c->fd, c->in + c->inlen, sizeof(c->in) -
			    c->inlen, 0);
			if (k <= 0) {
				errors++;
				if (c->busy)
					pending--;
				c->busy = 0;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				continue;
			}
			c->inlen += (size_t)k;
			if (!reply_done(c, &total))
				continue;
			if (nlat == latcap) {
				latcap *= 2;
				lat = realloc(lat, latcap * sizeof(*lat));
			}
			lat[nlat++] = bench_time_ns() - c->sent_ns;
			if (expect != NULL && !reply_starts(c, expect))
				bad++;
			memmove(c->in, c->in + total, c->inlen - total);
			c->inlen -= total;
			pending--;
			c->busy = 0;
			if (pace_ns > 0) {
				c->due_ns = bench_time_ns() + pace_ns;
				waiting++;
				continue;
			}
			k = send_req(c);
			if (k < 0)
				errors++;
			if (k == 0)
				pending++;
		}
	}
	end = bench_time_ns();
	qsort(lat, nlat, sizeof(*lat), cmp64);
	printf("conns=%d lookups=%zu seconds=%.2f rate=%.0f p50_us=%.1f "
	    "p99_us=%.1f errors=%lld", conns, nlat,
	    (double)(end - start) / 1e9,
	    (double)nlat / ((double)(end - start) / 1e9),
	    nlat ? (double)lat[nlat / 2] / 1000.0 : 0.0,
	    nlat ? (double)lat[nlat * 99 / 100] / 1000.0 : 0.0,
	    (long long)errors);
	if (expect != NULL)
		printf(" bad=%lld", (long long)bad);
	printf("\n");
	return 0;
}
