/*
 * http_get.c - one request through common/net/http.c from the command line
 *
 * SYNOPSIS
 *	http_get [-kbL] [-c CAFILE] [-a ADDR]... [-H PINHOST] [-m MAXBODY]
 *	    [-t TIMEOUT_MS] [-T CONNECT_MS] [-P BODYFILE] [-C CONTENT_TYPE] URL...
 *
 * DESCRIPTION
 *	GET (or, with -P, POST the file's contents) URL and print
 *
 *		result=<status> http=<code> fail=<kind> body=<bytes> ms=<n>
 *		content-type: <type or "-">
 *		why: <reason>			(only when not ok)
 *
 *	-a pins the URL's host to ADDR (repeatable; -H pins another
 *	host name instead, to check that a mismatch is refused), -c names the CA
 *	bundle, -k turns verification off, -b prints the body after the
 *	report.  -L makes the request through the loop (http_get(), which
 *	stsctl's fetches use: http_loop_submit to a loop of its own, the
 *	daemon's client) instead of http_do().  With -L, several URLs (of
 *	the first one's host and port, which the pins are for) are
 *	submitted to one loop at once; each answer's lines then start with
 *	"[i] " (ms=0), in the order of the URLs.
 *	Defaults: max body 65536, timeout 10000 ms, connect
 *	timeout the same.  Exit status: 0 ok, 1 tempfail, 64 usage.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "status.h"

#define MAXADDR	16

static void
usage(void)
{
	fprintf(stderr, "usage: http_get [-kbL] [-c cafile] [-a addr]... "
	    "[-H pinhost] [-m maxbody] [-t timeout_ms] [-T connect_ms] [-P bodyfile] "
	    "[-C content_type] url\n");
	exit(64);
}

static char *
slurp(const char *path, size_t *len)
{
	struct buf	 b = BUF_INIT;
	char		 chunk[4096];
	size_t		 n;
	FILE		*fp;

	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(66);
	}
	buf_append(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	*len = b.b_len;
	return buf_release(&b);
}

/* many at once: every URL submitted to one loop, answers in order */
struct many {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 left;
};

struct one {
	struct many		*m;
	enum status		 st;
	struct http_reply	 r;
	struct buf		 why;
	char			 url[512];
};

static void
one_done(void *arg, enum status st, struct http_reply *r, const char *why)
{
	struct one	*o = arg;

	pthread_mutex_lock(&o->m->mu);
	o->st = st;
	o->r = *r;			/* taken: the loop frees a cleared one */
	memset(r, 0, sizeof(*r));
	buf_puts(&o->why, why);
	if (--o->m->left == 0)
		pthread_cond_signal(&o->m->cv);
	pthread_mutex_unlock(&o->m->mu);
}

static void
report(const char *prefix, enum status st, struct http_reply *r,
    const struct buf *why, long ms, int printbody)
{
	printf("%sresult=%s http=%ld fail=%s body=%zu ms=%ld\n", prefix,
	    status_str(st), r->status, http_fail_str(r->fail), r->body.b_len,
	    ms);
	printf("%scontent-type: %s\n", prefix,
	    r->content_type ? r->content_type : "-");
	if (st != ST_OK)
		printf("%swhy: %s\n", prefix, buf_str(why));
	if (printbody && r->body.b_len > 0) {
		putchar('\n');
		fwrite(r->body.b_data, 1, r->body.b_len, stdout);
	}
}

/* many_at_once - urls[0..n) with req's other fields, all in one loop */
static int
many_at_once(struct http_req *req, char **urls, int n)
{
	struct many	 m;
	struct one	*o = calloc((size_t)n, sizeof(*o));
	struct buf	 why = BUF_INIT;
	struct http_loop *l;
	char		 prefix[32];
	int		 i, bad = 0;

	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.cv, NULL);
	m.left = n;
	if (o == NULL || (l = http_loop_new(n, &why)) == NULL) {
		fprintf(stderr, "http_get: %s\n", buf_str(&why));
		return 1;
	}
	for (i = 0; i < n; i++) {
		o[i].m = &m;
		snprintf(o[i].url, sizeof(o[i].url), "%s", urls[i]);
		req->url = o[i].url;
		(void)http_loop_submit(l, req, one_done, &o[i]);
	}
	pthread_mutex_lock(&m.mu);
	while (m.left > 0)
		pthread_cond_wait(&m.cv, &m.mu);
	pthread_mutex_unlock(&m.mu);
	http_loop_free(l);
	for (i = 0; i < n; i++) {
		snprintf(prefix, sizeof(prefix), "[%d] ", i);
		report(prefix, o[i].st, &o[i].r, &o[i].why, 0, 0);
		bad |= o[i].st != ST_OK;
		http_reply_clear(&o[i].r);
		buf_free(&o[i].why);
	}
	free(o);
	return bad;
}

int
main(int argc, char *argv[])
{
	struct http_req		 req;
	struct http_reply	 r;
	struct buf		 why = BUF_INIT;
	struct timespec		 t0, t1;
	CURLU			*u;
	char			*addrs[MAXADDR], *host = NULL, *port = NULL;
	char			*post = NULL, *pinhost = NULL;
	size_t			 naddr = 0, hl;
	int			 c, printbody = 0, loop = 0;
	enum status		 st;

	memset(&req, 0, sizeof(req));
	req.verify = 1;
	req.max_body = 65536;
	req.timeout_ms = 10000;
	req.connect_timeout_ms = 10000;
	while ((c = getopt(argc, argv, "a:bC:c:H:kLm:P:T:t:")) != -1) {
		switch (c) {
		case 'a':
			if (naddr == MAXADDR)
				usage();
			addrs[naddr++] = optarg;
			break;
		case 'b':
			printbody = 1;
			break;
		case 'C':
			req.content_type = optarg;
			break;
		case 'c':
			req.ca_file = optarg;
			break;
		case 'H':
			pinhost = optarg;
			break;
		case 'k':
			req.verify = 0;
			break;
		case 'L':
			loop = 1;
			break;
		case 'm':
			req.max_body = strtoul(optarg, NULL, 10);
			break;
		case 'P':
			post = slurp(optarg, &req.body_len);
			req.body = post;
			req.method = "POST";
			break;
		case 'T':
			req.connect_timeout_ms = atoi(optarg);
			break;
		case 't':
			req.timeout_ms = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (argc > 1 && !loop))
		usage();
	req.url = argv[0];
	if (http_init() == -1) {
		perror("http_init");
		return 1;
	}
	if (naddr > 0) {
		/* The pinned host and port are the URL's own. */
		if ((u = curl_url()) == NULL ||
		    curl_url_set(u, CURLUPART_URL, req.url, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_PORT, &port,
		    CURLU_DEFAULT_PORT) != CURLUE_OK) {
			fprintf(stderr, "http_get: cannot parse %s\n", req.url);
			return 64;
		}
		curl_url_cleanup(u);
		hl = strlen(host);
		if (hl >= 2 && host[0] == '[') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		}
		req.host = pinhost ? pinhost : host;
		req.port = atoi(port);
		req.addrs = addrs;
		req.naddrs = naddr;
	}

	if (argc > 1) {		/* several URLs (same host): one loop */
		c = many_at_once(&req, argv, argc);
		curl_free(host);
		curl_free(port);
		free(post);
		curl_global_cleanup();
		return c;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (loop)
		st = http_get(&req, &r, &why);	/* through a loop of its own */
	else
		st = http_do(&req, &r, &why);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report("", st, &r, &why, (long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000), printbody);
	http_reply_clear(&r);
	buf_free(&why);
	curl_free(host);
	curl_free(port);
	free(post);
	curl_global_cleanup();
	return st == ST_OK ? 0 : 1;
}
