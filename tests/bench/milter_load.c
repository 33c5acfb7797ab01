/*
 * milter_load.c - load generator speaking the MTA side of the milter
 * protocol (version 6), for the RCPT benchmark
 *
 * milter_load -s SOCKET [-c CONNS] [-r RCPTS] [-m MSGS] [-d SECONDS | -n COUNT]
 *	       [-f DOMAINS] [-P PID [-E EVERY]] [-v]
 *
 *	-s	the filter's socket: unix:/path, local:/path, /path or
 *		inet:port@host
 *	-c	concurrent milter connections, one thread each (1)
 *	-r	recipients per message (5)
 *	-m	messages per milter session (1); a session is one milter
 *		connection: OPTNEG, CONNECT, then per message MAIL, RCPT...,
 *		ABORT; then QUIT and close, as Postfix does per SMTP session
 *	-d	run for this many seconds (5), or
 *	-n	send this many recipients in all
 *	-f	recipient domains, one a line ('#' comments); recipients take
 *		them in turn, so every domain is used once before any twice
 *		(default: the single domain example.test)
 *	-P	the filter's pid: report its CPU time per recipient and its
 *		RSS at the end, and with -E EVERY after every EVERY
 *		recipients ("RSS n=... kb=...")
 *	-v	print every recipient's reply (warm-up checks)
 *
 * Each RCPT is timed from just before its macro+RCPT write to the end
 * of the filter's reply (CLOCK_MONOTONIC).  The connection behaves as a
 * polite MTA: it offers every action and protocol bit of version 6,
 * then honours the reply: steps the filter asked to skip are not sent
 * (SMFIP_NOCONNECT, NOHELO, NOMAIL, ...), steps it will not answer
 * (SMFIP_NR_*) are not waited for, and macros are limited to the
 * filter's symbol lists (SMFIF_SETSYMLIST).  Progress replies are
 * skipped.
 *
 * The last output line is machine-readable:
 *	RESULT rcpts=N secs=S rate=R p50_us=.. p99_us=.. max_us=..
 *	    continue=.. tempfail=.. reject=.. other=.. errors=..
 *	    sessions=.. cpu_us_per_rcpt=.. rss_kb=..
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "bench/bench_time.h"

#define RBUF_SIZE	(MILTER_MAX_DATA_SIZE + 64)
#define WBUF_SIZE	8192
#define NSTAGES		(SMFIM_LAST + 1)
#define MAX_ERRORS	20		/* per thread, then it gives up */

/* --- options and shared state ------------------------------------------ */

static const char	*o_socket;
static int		 o_conns = 1;
static int		 o_rcpts = 5;
static int		 o_msgs = 1;
static double		 o_secs = 5;
static unsigned long	 o_count;		/* 0: run for o_secs */
static long		 o_pid;
static unsigned long	 o_every;
static int		 o_verbose;

static char		**domains;
static size_t		 ndomains;

static atomic_ulong	 next_domain;		/* recipients handed out */
static atomic_ulong	 claimed;		/* -n: recipients claimed */
static atomic_ulong	 completed;		/* replies received */
static atomic_int	 stop;
static double		 t_end;			/* -d: monotonic deadline */

static pthread_mutex_t	 out_mu = PTHREAD_MUTEX_INITIALIZER;
static long		*rss_samples;		/* kB, by n / o_every - 1 */
static size_t		 nrss_samples;

struct worker {
	pthread_t	 t;
	int		 id;
	uint32_t	*lat;			/* ns, one per recipient */
	size_t		 nlat, cap;
	unsigned long	 n_continue, n_tempfail, n_reject, n_other;
	unsigned long	 errors, sessions, msgs;
	char		 lasterr[200];
};

/* one milter connection */
struct conn {
	int		 fd;
	unsigned char	 rbuf[RBUF_SIZE];
	size_t		 roff, rlen;
	unsigned char	 wbuf[WBUF_SIZE];
	size_t		 wlen;
	uint32_t	 version, actions, pflags;
	char		*symlist[NSTAGES];
};

/* --- helpers ---------------------------------------------------------- */

static void __attribute__((__noreturn__, __format__(__printf__, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "milter_load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
seterr(struct worker *w, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(w->lasterr, sizeof(w->lasterr), fmt, ap);
	va_end(ap);
}

/* proc_rss_kb - VmRSS of pid, or -1 */
static long
proc_rss_kb(long pid)
{
	char	path[64], line[256];
	FILE	*f;
	long	kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* proc_cpu_ticks - utime + stime of pid (all threads), or -1 */
static long long
proc_cpu_ticks(long pid)
{
	char		 path[64], buf[2048], *p;
	FILE		*f;
	size_t		 n;
	unsigned long long ut, st;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after ") ": state(3) ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static void
read_domains(const char *path)
{
	FILE	*f;
	char	 line[1024], *p, *e;
	size_t	 cap = 0;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == '\n' ||
		    e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (*p == '\0')
			continue;
		if (strlen(p) > 255)
			die("%s: domain too long: %.40s...", path, p);
		if (ndomains == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((domains = realloc(domains, cap * sizeof(*domains)))
			    == NULL)
				die("out of memory");
		}
		if ((domains[ndomains++] = strdup(p)) == NULL)
			die("out of memory");
	}
	fclose(f);
	if (ndomains == 0)
		die("%s: no domains", path);
}

/* --- the wire --------------------------------------------------------- */

static int
sock_connect(const char *spec)
{
	const char	*path = NULL;
	int		 fd;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sun.sun_path, path, strlen(path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		char		 port[16], host[256];
		const char	*at = strchr(spec + 5, '@');
		struct addrinfo	 hints, *ai;
		int		 one = 1, rc;

		if (at == NULL || (size_t)(at - spec - 5) >= sizeof(port))
			return errno = EINVAL, -1;
		memcpy(port, spec + 5, (size_t)(at - spec - 5));
		port[at - spec - 5] = '\0';
		snprintf(host, sizeof(host), "%s", at + 1);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
			return errno = EINVAL, -1;
		if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0) {
			freeaddrinfo(ai);
			return -1;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			int e = errno;

			close(fd);
			freeaddrinfo(ai);
			errno = e;
			return -1;
		}
		freeaddrinfo(ai);
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
	errno = EINVAL;
	return -1;
}

static void
put_u32(struct conn *c, uint32_t v)
{
	v = htonl(v);
	memcpy(c->wbuf + c->wlen, &v, 4);
	c->wlen += 4;
}

/* cmd_begin/cmd_end - frame a command: length, code, data */
static size_t
cmd_begin(struct conn *c, char code)
{
	size_t	at = c->wlen;

	c->wlen += 4;
	c->wbuf[c->wlen++] = (unsigned char)code;
	return at;
}

static void
cmd_end(struct conn *c, size_t at)
{
	uint32_t	len = htonl((uint32_t)(c->wlen - at - 4));

	memcpy(c->wbuf + at, &len, 4);
}

static int
put_str(struct conn *c, const char *s)
{
	size_t	n = strlen(s) + 1;

	if (c->wlen + n > WBUF_SIZE)
		return -1;
	memcpy(c->wbuf + c->wlen, s, n);
	c->wlen += n;
	return 0;
}

static int
flush_out(struct conn *c)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < c->wlen) {
		n = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	c->wlen = 0;
	return 0;
}

/* fill - at least need bytes buffered at roff */
static int
fill(struct conn *c, size_t need)
{
	ssize_t	n;

	if (need > RBUF_SIZE)
		return errno = EPROTO, -1;
	if (c->roff + need > RBUF_SIZE) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen);
		c->roff = 0;
	}
	while (c->rlen < need) {
		n = recv(c->fd, c->rbuf + c->roff + c->rlen,
		    RBUF_SIZE - c->roff - c->rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = ECONNRESET;
		if (n <= 0)
			return -1;
		c->rlen += (size_t)n;
	}
	return 0;
}

/*
 * read_reply - one reply from the filter: its code, and its data (not
 * NUL-terminated) in *data for *len bytes, valid until the next call.
 * Progress replies are skipped.  -1 on EOF, error or a bad frame.
 */
static int
read_reply(struct conn *c, char *code, const unsigned char **data,
    size_t *len)
{
	uint32_t	flen;

	for (;;) {
		if (fill(c, 4) != 0)
			return -1;
		memcpy(&flen, c->rbuf + c->roff, 4);
		flen = ntohl(flen);
		if (flen == 0 || fill(c, 4 + (size_t)flen) != 0)
			return errno = flen ? errno : EPROTO, -1;
		*code = (char)c->rbuf[c->roff + 4];
		*data = c->rbuf + c->roff + 5;
		*len = flen - 1;
		c->roff += 4 + flen;
		c->rlen -= 4 + flen;
		if (c->rlen == 0)
			c->roff = 0;
		if (*code != SMFIR_PROGRESS)
			return 0;
	}
}

static void
conn_close(struct conn *c)
{
	int	i;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (i = 0; i < NSTAGES; i++) {
		free(c->symlist[i]);
		c->symlist[i] = NULL;
	}
	c->roff = c->rlen = c->wlen = 0;
}

/* conn_open - connect and negotiate */
static int
conn_open(struct conn *c, struct worker *w)
{
	const unsigned char	*d;
	size_t			 len, off;
	char			 code;
	uint32_t		 v[3], stage;

	if ((c->fd = sock_connect(o_socket)) < 0) {
		seterr(w, "connect %s: %s", o_socket, strerror(errno));
		return -1;
	}
	off = cmd_begin(c, SMFIC_OPTNEG);
	put_u32(c, SMFI_PROT_VERSION);
	put_u32(c, SMFI_CURR_ACTS);
	put_u32(c, SMFI_CURR_PROT);
	cmd_end(c, off);
	if (flush_out(c) != 0 || read_reply(c, &code, &d, &len) != 0) {
		seterr(w, "option negotiation: %s", strerror(errno));
		return -1;
	}
	if (code != SMFIC_OPTNEG || len < MILTER_OPTLEN) {
		seterr(w, "option negotiation: reply '%c', %zu bytes", code,
		    len);
		return -1;
	}
	memcpy(v, d, sizeof(v));
	c->version = ntohl(v[0]);
	c->actions = ntohl(v[1]);
	c->pflags = ntohl(v[2]);
	if (c->version < 2 || c->version > SMFI_PROT_VERSION) {
		seterr(w, "filter speaks protocol version %u", c->version);
		return -1;
	}
	if (c->pflags & SMFIP_NORCPT) {
		seterr(w, "the filter does not want RCPT commands");
		return -1;
	}
	/* v6: symbol lists follow: (uint32 stage, "names\0")* */
	for (off = MILTER_OPTLEN; off + 5 <= len;) {
		const unsigned char *nul;

		memcpy(&stage, d + off, 4);
		stage = ntohl(stage);
		off += 4;
		if ((nul = memchr(d + off, '\0', len - off)) == NULL)
			break;
		if (stage < NSTAGES) {
			free(c->symlist[stage]);
			c->symlist[stage] = strdup((const char *)d + off);
		}
		off = (size_t)(nul - d) + 1;
	}
	return 0;
}

/* wanted - the filter wants macro name at stage (its symbol list, if any) */
static int
wanted(const struct conn *c, int stage, const char *name)
{
	const char	*l = c->symlist[stage], *p;
	char		 bare[64];
	size_t		 n;

	if (l == NULL)
		return 1;
	/* match "{x}" and "x" alike */
	if (name[0] == '{') {
		n = strlen(name) - 2;
		snprintf(bare, sizeof(bare), "%.*s", (int)n, name + 1);
	} else
		snprintf(bare, sizeof(bare), "%s", name);
	n = strlen(bare);
	for (p = l; *p;) {
		const char	*e;
		size_t		 k;

		while (*p == ' ' || *p == ',')
			p++;
		e = p + strcspn(p, " ,");
		k = (size_t)(e - p);
		if (k >= 2 && p[0] == '{' && p[k - 1] == '}') {
			if (k - 2 == n && strncmp(p + 1, bare, n) == 0)
				return 1;
		} else if (k == n && strncmp(p, bare, n) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* put_macros - SMFIC_MACRO for cmd at stage; pairs name, value, NULL */
static int
put_macros(struct conn *c, char cmd, int stage, const char *const *kv)
{
	size_t	at = cmd_begin(c, SMFIC_MACRO);
	int	i;

	c->wbuf[c->wlen++] = (unsigned char)cmd;
	for (i = 0; kv[i] != NULL; i += 2) {
		if (!wanted(c, stage, kv[i]))
			continue;
		if (put_str(c, kv[i]) != 0 || put_str(c, kv[i + 1]) != 0)
			return -1;
	}
	cmd_end(c, at);
	return 0;
}

/* step - send what is in wbuf; wait for the reply unless nr */
static int
step(struct conn *c, struct worker *w, const char *what, int nr, char *code,
    char *text, size_t textsize)
{
	const unsigned char	*d;
	size_t			 len;

	*code = SMFIR_CONTINUE;
	if (text)
		text[0] = '\0';
	if (flush_out(c) != 0) {
		seterr(w, "%s: write: %s", what, strerror(errno));
		return -1;
	}
	if (nr)
		return 0;
	if (read_reply(c, code, &d, &len) != 0) {
		seterr(w, "%s: reply: %s", what, strerror(errno));
		return -1;
	}
	if (text && len > 0) {
		if (len >= textsize)
			len = textsize - 1;
		memcpy(text, d, len);
		text[len] = '\0';
	}
	return 0;
}

static void
lat_add(struct worker *w, uint64_t ns)
{
	if (w->nlat == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 65536;
		if ((w->lat = realloc(w->lat, w->cap * sizeof(*w->lat))) == NULL)
			die("out of memory");
	}
	w->lat[w->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static void
sample_rss(unsigned long n)
{
	size_t	i;
	long	kb;

	if (o_pid == 0 || o_every == 0 || n % o_every != 0)
		return;
	i = n / o_every - 1;
	kb = proc_rss_kb(o_pid);
	pthread_mutex_lock(&out_mu);
	if (i < nrss_samples)
		rss_samples[i] = kb;
	pthread_mutex_unlock(&out_mu);
}

/* claim - how many recipients the next message may have; 0: stop */
static int
claim(void)
{
	unsigned long	from;

	if (atomic_load(&stop))
		return 0;
	if (o_count == 0) {
		if (bench_time_s() >= t_end) {
			atomic_store(&stop, 1);
			return 0;
		}
		return o_rcpts;
	}
	from = atomic_fetch_add(&claimed, (unsigned long)o_rcpts);
	if (from >= o_count)
		return 0;
	return from + (unsigned long)o_rcpts > o_count ?
	    (int)(o_count - from) : o_rcpts;
}

/*
 * session - one milter connection: OPTNEG, CONNECT (HELO), up to o_msgs
 * messages, QUIT.  Returns -1 after an I/O or protocol error, 1 when
 * the run is over, 0 otherwise.
 */
static int
session(struct worker *w, struct conn *c, unsigned long *qseq)
{
	char		 code, text[1024], qid[32], rcpt[320], mailer[] = "smtp";
	size_t		 at;
	uint16_t	 port;
	int		 m, k, n, rc = 0;
	uint64_t	 t0;

	if (conn_open(c, w) != 0)
		return -1;
	w->sessions++;
	if (!(c->pflags & SMFIP_NOCONNECT)) {
		const char *const mac[] = { "j", "mta.bench.example",
		    "{daemon_name}", "bench", "v", "milter_load",
		    "_", "client.bench.example [192.0.2.10]", NULL };

		if (put_macros(c, SMFIC_CONNECT, SMFIM_CONNECT, mac) != 0)
			return seterr(w, "macros too long"), -1;
		at = cmd_begin(c, SMFIC_CONNECT);
		put_str(c, "client.bench.example");
		c->wbuf[c->wlen++] = SMFIA_INET;
		port = htons(40000 + (uint16_t)w->id);
		memcpy(c->wbuf + c->wlen, &port, 2);
		c->wlen += 2;
		put_str(c, "192.0.2.10");
		cmd_end(c, at);
		if (step(c, w, "CONNECT", c->pflags & SMFIP_NR_CONN, &code,
		    NULL, 0) != 0)
			return -1;
		if (code != SMFIR_CONTINUE)
			return seterr(w, "CONNECT refused ('%c')", code), -1;
	}
	if (!(c->pflags & SMFIP_NOHELO)) {
		at = cmd_begin(c, SMFIC_HELO);
		put_str(c, "client.bench.example");
		cmd_end(c, at);
		if (step(c, w, "HELO", c->pflags & SMFIP_NR_HELO, &code,
		    NULL, 0) != 0)
			return -1;
	}
	for (m = 0; m < o_msgs; m++) {
		if ((n = claim()) == 0) {
			rc = 1;
			break;
		}
		snprintf(qid, sizeof(qid), "B%02X%09lX", w->id & 0xff,
		    (*qseq)++ & 0xfffffffffUL);
		w->msgs++;
		if (!(c->pflags & SMFIP_NOMAIL)) {
			const char *const mac[] = { "i", qid, "{mail_addr}",
			    "sender@bench.example", "{mail_host}",
			    "bench.example", "{mail_mailer}", "smtp", NULL };

			put_macros(c, SMFIC_MAIL, SMFIM_ENVFROM, mac);
			at = cmd_begin(c, SMFIC_MAIL);
			put_str(c, "<sender@bench.example>");
			cmd_end(c, at);
			if (step(c, w, "MAIL", c->pflags & SMFIP_NR_MAIL,
			    &code, NULL, 0) != 0)
				return -1;
		}
		for (k = 0; k < n; k++) {
			unsigned long	 di = atomic_fetch_add(&next_domain, 1);
			const char	*dom = domains[di % ndomains];
			char		 addr[300];

			snprintf(addr, sizeof(addr), "u%lu@%s", di, dom);
			snprintf(rcpt, sizeof(rcpt), "<%s>", addr);
			{
				const char *const mac[] = { "i", qid,
				    "{rcpt_mailer}", mailer, "{rcpt_host}", dom,
				    "{rcpt_addr}", addr, NULL };

				if (put_macros(c, SMFIC_RCPT, SMFIM_ENVRCPT,
				    mac) != 0)
					return seterr(w, "macros too long"), -1;
			}
			at = cmd_begin(c, SMFIC_RCPT);
			put_str(c, rcpt);
			cmd_end(c, at);
			t0 = bench_time_ns();
			if (step(c, w, "RCPT", (int)(c->pflags & SMFIP_NR_RCPT),
			    &code, text, sizeof(text)) != 0)
				return -1;
			lat_add(w, bench_time_ns() - t0);
			switch (code) {
			case SMFIR_CONTINUE:
			case SMFIR_ACCEPT:
				w->n_continue++;
				break;
			case SMFIR_TEMPFAIL:
				w->n_tempfail++;
				break;
			case SMFIR_REJECT:
				w->n_reject++;
				break;
			case SMFIR_REPLYCODE:
				if (text[0] == '4')
					w->n_tempfail++;
				else if (text[0] == '5')
					w->n_reject++;
				else
					w->n_other++;
				break;
			default:
				w->n_other++;
			}
			if (o_verbose) {
				pthread_mutex_lock(&out_mu);
				printf("rcpt %s: %c%s%s\n", addr, code,
				    text[0] ? " " : "", text);
				pthread_mutex_unlock(&out_mu);
			}
			sample_rss(atomic_fetch_add(&completed, 1) + 1);
		}
		/* the message ends here: RSET */
		at = cmd_begin(c, SMFIC_ABORT);
		cmd_end(c, at);
		if (flush_out(c) != 0)
			return seterr(w, "ABORT: %s", strerror(errno)), -1;
	}
	at = cmd_begin(c, SMFIC_QUIT);
	cmd_end(c, at);
	(void)flush_out(c);
	return rc;
}

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	struct conn	*c = calloc(1, sizeof(*c));
	unsigned long	 qseq = 0;
	int		 rc;

	if (c == NULL)
		die("out of memory");
	c->fd = -1;
	for (;;) {
		rc = session(w, c, &qseq);
		conn_close(c);
		if (rc > 0)
			break;
		if (rc < 0 && ++w->errors >= MAX_ERRORS) {
			pthread_mutex_lock(&out_mu);
			fprintf(stderr, "milter_load: connection %d: giving up "
			    "after %lu errors; last: %s\n", w->id, w->errors,
			    w->lasterr);
			pthread_mutex_unlock(&out_mu);
			break;
		}
		if (rc < 0)
			usleep(10000);
		if (atomic_load(&stop) || (o_count && atomic_load(&claimed) >=
		    o_count))
			break;
	}
	free(c);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: milter_load -s SOCKET [-c CONNS] [-r RCPTS] "
	    "[-m MSGS] [-d SECONDS | -n COUNT]\n"
	    "                   [-f DOMAINS] [-P PID [-E EVERY]] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker	*w;
	uint32_t	*all;
	size_t		 nall = 0, i;
	unsigned long	 tot_c = 0, tot_t = 0, tot_r = 0, tot_o = 0, errs = 0;
	unsigned long	 sess = 0, msgs = 0;
	long long	 cpu0 = -1, cpu1 = -1;
	double		 t0, secs, p50, p99, pmax;
	int		 ch, k;
	char		*end;

	while ((ch = getopt(argc, argv, "c:d:E:f:m:n:P:r:s:v")) != -1) {
		switch (ch) {
		case 'c':
			o_conns = (int)strtol(optarg, &end, 10);
			if (*end || o_conns < 1 || o_conns > 4096)
				usage();
			break;
		case 'd':
			o_secs = strtod(optarg, &end);
			if (*end || o_secs <= 0)
				usage();
			break;
		case 'E':
			o_every = strtoul(optarg, &end, 10);
			if (*end)
				usage();
			break;
		case 'f':
			read_domains(optarg);
			break;
		case 'm':
			o_msgs = (int)strtol(optarg, &end, 10);
			if (*end || o_msgs < 1)
				usage();
			break;
		case 'n':
			o_count = strtoul(optarg, &end, 10);
			if (*end || o_count == 0)
				usage();
			break;
		case 'P':
			o_pid = strtol(optarg, &end, 10);
			if (*end || o_pid <= 0)
				usage();
			break;
		case 'r':
			o_rcpts = (int)strtol(optarg, &end, 10);
			if (*end || o_rcpts < 1 || o_rcpts > 10000)
				usage();
			break;
		case 's':
			o_socket = optarg;
			break;
		case 'v':
			o_verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o_socket == NULL)
		usage();
	if (ndomains == 0) {
		static char *def[] = { "example.test" };

		domains = def;
		ndomains = 1;
	}
	if (o_pid && o_every) {
		nrss_samples = o_count ? o_count / o_every : 4096;
		if ((rss_samples = calloc(nrss_samples + 1,
		    sizeof(*rss_samples))) == NULL)
			die("out of memory");
	}
	if (o_pid)
		cpu0 = proc_cpu_ticks(o_pid);
	if ((w = calloc((size_t)o_conns, sizeof(*w))) == NULL)
		die("out of memory");
	t0 = bench_time_s();
	t_end = t0 + o_secs;
	for (k = 0; k < o_conns; k++) {
		w[k].id = k;
		if (pthread_create(&w[k].t, NULL, worker_run, &w[k]) != 0)
			die("pthread_create: %s", strerror(errno));
	}
	for (k = 0; k < o_conns; k++)
		pthread_join(w[k].t, NULL);
	secs = bench_time_s() - t0;
	if (o_pid)
		cpu1 = proc_cpu_ticks(o_pid);

	for (k = 0; k < o_conns; k++)
		nall += w[k].nlat;
	if ((all = malloc((nall ? nall : 1) * sizeof(*all))) == NULL)
		die("out of memory");
	nall = 0;
	for (k = 0; k < o_conns; k++) {
		memcpy(all + nall, w[k].lat, w[k].nlat * sizeof(*all));
		nall += w[k].nlat;
		tot_c += w[k].n_continue;
		tot_t += w[k].n_tempfail;
		tot_r += w[k].n_reject;
		tot_o += w[k].n_other;
		errs += w[k].errors;
		sess += w[k].sessions;
		msgs += w[k].msgs;
		if (w[k].errors && w[k].lasterr[0])
			fprintf(stderr, "milter_load: connection %d: %lu "
			    "error(s), last: %s\n", k, w[k].errors,
			    w[k].lasterr);
		free(w[k].lat);
	}
	qsort(all, nall, sizeof(*all), cmp_u32);
	p50 = nall ? all[(nall - 1) / 2] / 1e3 : 0;
	p99 = nall ? all[(size_t)((double)nall * 0.99 + 0.999999) > 0 ?
	    (size_t)((double)nall * 0.99 + 0.999999) - 1 : 0] / 1e3 : 0;
	pmax = nall ? all[nall - 1] / 1e3 : 0;

	for (i = 0; i < nrss_samples && o_every; i++)
		if (rss_samples[i] > 0)
			printf("RSS n=%lu kb=%ld\n", (unsigned long)(i + 1) *
			    o_every, rss_samples[i]);
	printf("milter_load: %s conns=%d rcpts/msg=%d msgs/session=%d "
	    "domains=%zu: %zu rcpts in %.2f s = %.0f/s, p50 %.1f us, "
	    "p99 %.1f us, max %.1f us; continue %lu tempfail %lu reject %lu "
	    "other %lu; %lu sessions, %lu messages, %lu errors\n",
	    o_socket, o_conns, o_rcpts, o_msgs, ndomains, nall, secs,
	    nall / secs, p50, p99, pmax, tot_c, tot_t, tot_r, tot_o, sess,
	    msgs, errs);
	printf("RESULT rcpts=%zu secs=%.3f rate=%.0f p50_us=%.1f p99_us=%.1f "
	    "max_us=%.1f continue=%lu tempfail=%lu reject=%lu other=%lu "
	    "errors=%lu sessions=%lu",
	    nall, secs, nall / secs, p50, p99, pmax, tot_c, tot_t, tot_r,
	    tot_o, errs, sess);
	if (cpu0 >= 0 && cpu1 >= 0 && nall > 0)
		printf(" cpu_us_per_rcpt=%.1f", (double)(cpu1 - cpu0) * 1e6 /
		    (double)sysconf(_SC_CLK_TCK) / (double)nall);
	if (o_pid)
		printf(" rss_kb=%ld", proc_rss_kb(o_pid));
	printf("\n");
	free(all);
	free(w);
	return errs > 0 && nall == 0 ? 1 : 0;
}
