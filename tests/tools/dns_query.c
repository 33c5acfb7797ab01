/*
 * dns_query.c - ask common/net/dns.c one question from the command line
 *
 * SYNOPSIS
 *	dns_query [-A] [-t TIMEOUT_MS] [-n REPEAT] [-j THREADS] RESOLVER TYPE NAME
 *
 * DESCRIPTION
 *	RESOLVER is the dns_new() resolver list ("" or "system" for
 *	/etc/resolv.conf), TYPE is txt, mx or addr.  Prints one line
 *
 *		status=<status> ttl=<ttl> n=<records> ms=<elapsed>
 *
 *	then each record on its own line (MX as "<pref> <host>"), bytes
 *	outside 0x21-0x7e and the backslash written as \xNN, then
 *	"why: <reason>" when the status is not ok.  With -n/-j, THREADS
 *	threads each run the query REPEAT times on one handle (exercising
 *	the context pool); the first answer is printed as above, followed
 *	by "runs=<total> ok=<n> notfound=<n> tempfail=<n> invalid=<n>
 *	internal=<n>".
 *
 *	-A asks txt and addr through the DNS loop (dns_async_start,
 *	dns_txt_start, dns_addr_start: what policy discoveries use) and
 *	waits for the answer; mx is asked as without it.
 *
 *	The exit status is the enum status of the first answer (0 = ok).
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "status.h"

enum qtype { Q_TXT, Q_MX, Q_ADDR };

struct job {
	struct dns	*dns;
	enum qtype	 type;
	const char	*name;
	int		 repeat;
	int		 count[ST_INTERNAL + 1];
};

static int	use_loop;

/* the answer of the loop, handed to the asking thread */
struct wait {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done;
	enum status		 st;
	struct dns_rrset	*rs;
	struct buf		*why;
};

static void
answered(void *arg, enum status st, struct dns_rrset *out, const char *why)
{
	struct wait	*w = arg;

	pthread_mutex_lock(&w->mu);
	w->st = st;
	*w->rs = *out;			/* taken */
	memset(out, 0, sizeof(*out));
	buf_puts(w->why, why);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static enum status
ask_loop(struct dns *d, enum qtype t, const char *name, struct dns_rrset *rs,
    struct buf *why)
{
	struct wait	w;

	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.rs = rs;
	w.why = why;
	if (t == Q_TXT)
		dns_txt_start(d, name, answered, &w);
	else
		dns_addr_start(d, name, answered, &w);
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return w.st;
}

static enum status
ask(struct dns *d, enum qtype t, const char *name, struct dns_rrset *rs,
    struct buf *why)
{
	if (use_loop && t != Q_MX)
		return ask_loop(d, t, name, rs, why);
	switch (t) {
	case Q_TXT:
		return dns_txt(d, name, rs, why);
	case Q_MX:
		return dns_mx(d, name, rs, why);
	case Q_ADDR:
		return dns_addr(d, name, rs, why);
	}
	return ST_INTERNAL;
}

static void
put_escaped(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '\\')
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
	putchar('\n');
}

static void *
worker(void *arg)
{
	struct job		*j = arg;
	struct dns_rrset	 rs;
	struct buf		 why = BUF_INIT;
	enum status		 st;
	int			 i;

	for (i = 0; i < j->repeat; i++) {
		st = ask(j->dns, j->type, j->name, &rs, &why);
		if (st <= ST_INTERNAL)
			j->count[st]++;
		dns_rrset_clear(&rs);
		buf_reset(&why);
	}
	buf_free(&why);
	return NULL;
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dns_query [-A] [-t timeout_ms] [-n repeat] "
	    "[-j threads] resolver txt|mx|addr name\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct dns		*d;
	struct dns_rrset	 rs;
	struct buf		 why = BUF_INIT;
	struct timespec		 t0;
	struct job		*jobs;
	pthread_t		*tids;
	const char		*res;
	enum qtype		 type;
	enum status		 st;
	int			 c, timeout = 2000, repeat = 0, threads = 1, i, k;
	int			 total[ST_INTERNAL + 1] = { 0 };
	size_t			 n;

	while ((c = getopt(argc, argv, "Aj:n:t:")) != -1) {
		switch (c) {
		case 'A':
			use_loop = 1;
			break;
		case 'j':
			threads = atoi(optarg);
			break;
		case 'n':
			repeat = atoi(optarg);
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3 || threads < 1 || repeat < 0)
		usage();
	res = argv[0];
	if (strcmp(res, "system") == 0)
		res = NULL;
	if (strcmp(argv[1], "txt") == 0)
		type = Q_TXT;
	else if (strcmp(argv[1], "mx") == 0)
		type = Q_MX;
	else if (strcmp(argv[1], "addr") == 0)
		type = Q_ADDR;
	else
		usage();

	if ((d = dns_new(res, timeout, &why)) == NULL) {
		printf("status=%s\nwhy: %s\n", status_str(ST_INTERNAL),
		    buf_str(&why));
		buf_free(&why);
		return ST_INTERNAL;
	}
	if (use_loop && dns_async_start(d, &why) == -1) {
		printf("status=%s\nwhy: %s\n", status_str(ST_INTERNAL),
		    buf_str(&why));
		return ST_INTERNAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = ask(d, type, argv[2], &rs, &why);
	printf("status=%s ttl=%u n=%zu ms=%ld\n", status_str(st), rs.ttl,
	    rs.n, elapsed_ms(&t0));
	for (n = 0; n < rs.n; n++) {
		if (type == Q_MX)
			printf("%u ", rs.pref[n]);
		put_escaped(rs.rr[n], rs.len[n]);
	}
	if (st != ST_OK)
		printf("why: %s\n", buf_str(&why));
	dns_rrset_clear(&rs);
	buf_free(&why);

	if (repeat > 0) {
		jobs = calloc((size_t)threads, sizeof(*jobs));
		tids = calloc((size_t)threads, sizeof(*tids));
		if (jobs == NULL || tids == NULL)
			return ST_INTERNAL;
		for (i = 0; i < threads; i++) {
			jobs[i].dns = d;
			jobs[i].type = type;
			jobs[i].name = argv[2];
			jobs[i].repeat = repeat;
			if (pthread_create(&tids[i], NULL, worker, &jobs[i]))
				return ST_INTERNAL;
		}
		for (i = 0; i < threads; i++) {
			pthread_join(tids[i], NULL);
			for (k = 0; k <= ST_INTERNAL; k++)
				total[k] += jobs[i].count[k];
		}
		printf("runs=%d ok=%d notfound=%d tempfail=%d invalid=%d "
		    "internal=%d\n", threads * repeat, total[ST_OK],
		    total[ST_NOTFOUND], total[ST_TEMPFAIL], total[ST_INVALID],
		    total[ST_INTERNAL]);
		free(jobs);
		free(tids);
	}
	dns_free(d);
	return st;
}
