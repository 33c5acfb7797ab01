/*
 * test_policymap.c - the policy-map listener (pmap_server.h) over
 * socketpairs with a cache on the DNS/HTTP/clock fakes: framing, the
 * memo, overrides, Exim events, and the deadline (a slow fetch through
 * the HTTP seam is answered "no policy" in time, and serves the next
 * lookup).  The replies themselves: test_pmap_reply.c.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domain.h"
#include "clock.h"
#include "fakes.h"
#include "harness.h"
#include "pmap_reply.h"
#include "pmap_server.h"
#include "sts_cache.h"
#include "sts_policy.h"
#include "xmalloc.h"

#define URL(d)	"https://mta-sts." d "/.well-known/mta-sts.txt"

/* --- the listener over socketpairs ----------------------------------- */

static struct sts_cache	*g_cache;
static struct pmap_server	*g_pm;

static void
lab_setup_deadline(int deadline_ms)
{
	struct sts_cache_opts	o;
	struct pmap_server_opts	po;

	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(1700000000);
	fake_sts_domain("enforce.test", "e1", "version: STSv1\nmode: enforce\n"
	    "mx: mx1.enforce.test\nmx: *.enforce.test\nmax_age: 86400\n");
	fake_sts_domain("testing.test", "t1", "version: STSv1\nmode: testing\n"
	    "mx: mx.testing.test\nmax_age: 86400\n");
	fake_dns_set("TXT", "_mta-sts.servfail.test", ST_TEMPFAIL, NULL);
	fake_cache_opts(&o, NULL);
	g_cache = sts_cache_new(&o);
	pmap_server_opts_conf(&po, NULL);
	if (deadline_ms > 0)
		po.deadline_ms = deadline_ms;
	g_pm = pmap_server_new("", g_cache, &po, NULL);
	pmap_server_start(g_pm);
}

static void
lab_setup(void)
{
	lab_setup_deadline(0);
}

static void
lab_teardown(void)
{
	pmap_server_stop(g_pm);
	sts_cache_free(g_cache);
	g_pm = NULL;
	g_cache = NULL;
}

/* client - a connected socket served by the listener */
static int
client(void)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	if (pmap_server_add_fd(g_pm, sv[1]) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	return sv[0];
}

static void
send_all(int fd, const char *s, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		if ((k = send(fd, s, n, MSG_NOSIGNAL)) <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* recv_some - read until n bytes, EOF or timeout; returns bytes read */
static size_t
recv_some(int fd, char *dst, size_t n, int *eof, int timeout_ms)
{
	struct pollfd	p = { fd, POLLIN, 0 };
	size_t		got = 0;
	ssize_t		k;

	*eof = 0;
	while (got < n) {
		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		k = recv(fd, dst + got, n - got, 0);
		if (k <= 0) {
			*eof = 1;
			break;
		}
		got += (size_t)k;
	}
	dst[got] = '\0';
	return got;
}

/* recv_netstring - one netstring reply as text, NULL on error */
static char *
recv_netstring(int fd)
{
	char	hdr[16], *body;
	size_t	i = 0, len;
	int	eof;

	while (i < sizeof(hdr) - 1) {
		if (recv_some(fd, hdr + i, 1, &eof, 5000) != 1)
			return NULL;
		if (hdr[i] == ':')
			break;
		i++;
	}
	hdr[i] = '\0';
	len = strtoul(hdr, NULL, 10);
	body = xmalloc(len + 2);
	if (recv_some(fd, body, len + 1, &eof, 5000) != len + 1 ||
	    body[len] != ',') {
		free(body);
		return NULL;
	}
	body[len] = '\0';
	return body;
}

static char *
ask(int fd, const char *req)
{
	char	hdr[32];

	snprintf(hdr, sizeof(hdr), "%zu:", strlen(req));
	send_all(fd, hdr, strlen(hdr));
	send_all(fd, req, strlen(req));
	send_all(fd, ",", 1);
	return recv_netstring(fd);
}

/* at_eof - the server closed the connection */
static int
at_eof(int fd)
{
	char	b[64];
	int	eof;

	(void)recv_some(fd, b, sizeof(b) - 1, &eof, 5000);
	return eof;
}

static void
test_listener_lockstep(void)
{
	int	fd;
	char	*r;
	int	i;

	lab_setup();
	fd = client();
	r = ask(fd, "postfix enforce.test");
	CHECK_STR(r, "OK secure match=mx1.enforce.test:.enforce.test "
	    "servername=hostname");
	free(r);
	/* many lock-step requests on one connection, every flavour */
	for (i = 0; i < 50; i++) {
		r = ask(fd, "sendmail enforce.test");
		CHECK_STR(r, "OK secure match=mx1.enforce.test:.enforce.test "
		    "servername=hostname");
		free(r);
	}
	r = ask(fd, "postfix testing.test");
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	r = ask(fd, "postfix-tlsrpt testing.test");
	CHECK(r && strncmp(r, "OK may policy_type=sts policy_domain="
	    "testing.test mx_host_pattern=mx.testing.test", 70) == 0);
	free(r);
	r = ask(fd, "postfix nopolicy.test");
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	r = ask(fd, "postfix servfail.test");
	CHECK_STR(r, "NOTFOUND ");			/* fail open */
	free(r);
	r = ask(fd, "postfix .enforce.test");
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	r = ask(fd, "POSTFIX Enforce.Test");		/* case folded */
	CHECK(r && strncmp(r, "OK secure", 9) == 0);
	free(r);
	r = ask(fd, "nosuchmap enforce.test");
	CHECK_STR(r, "PERM unknown map name");
	free(r);
	/* the connection survives all of that */
	r = ask(fd, "postfix enforce.test");
	CHECK(r && strncmp(r, "OK secure", 9) == 0);
	free(r);
	/* the cold lookup went to the network once; the rest were hits */
	CHECK_INT(fake_http_calls(), 2);
	close(fd);
	lab_teardown();
}

/*
 * The reactor's reply memo must never answer from a state that is gone:
 * the fake clock stands still here, so only the cache's stamp and the
 * override generation can tell it that a reply is stale.
 */
static void
test_listener_memo(void)
{
	struct sts_lookup l;
	int		  fd, i;
	char		 *r;

	lab_setup();
	fd = client();
	for (i = 0; i < 3; i++) {		/* cold, then memoized */
		r = ask(fd, "postfix enforce.test");
		CHECK_STR(r, "OK secure match=mx1.enforce.test:.enforce.test "
		    "servername=hostname");
		free(r);
	}
	CHECK_INT(fake_http_calls(), 1);
	/* A new policy (testing) is fetched and applied in the same second. */
	fake_dns_set("TXT", "_mta-sts.enforce.test", ST_OK, "v=STSv1; id=e2",
	    NULL);
	fake_http_set(URL("enforce.test"), 200, "text/plain",
	    "version: STSv1\nmode: testing\nmx: mx1.enforce.test\n"
	    "max_age: 86400\n", HTTP_FAIL_NONE);
	CHECK_INT(sts_cache_lookup(g_cache, "enforce.test", STS_LOOKUP_FORCE,
	    &l), ST_OK);
	sts_lookup_clear(&l);
	r = ask(fd, "postfix enforce.test");
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	r = ask(fd, "postfix enforce.test");
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	/* Flushed, and enforce again: rediscovered, not the memo's NOTFOUND. */
	fake_dns_set("TXT", "_mta-sts.enforce.test", ST_OK, "v=STSv1; id=e3",
	    NULL);
	fake_http_set(URL("enforce.test"), 200, "text/plain",
	    "version: STSv1\nmode: enforce\nmx: mx2.enforce.test\n"
	    "max_age: 86400\n", HTTP_FAIL_NONE);
	sts_cache_flush(g_cache, "enforce.test");
	r = ask(fd, "postfix enforce.test");
	CHECK_STR(r, "OK secure match=mx2.enforce.test servername=hostname");
	free(r);
	/* Another flavour of the same domain is its own memo entry. */
	r = ask(fd, "postfix-tlsrpt enforce.test");
	CHECK(r && strncmp(r, "OK secure match=mx2.enforce.test "
	    "servername=hostname policy_type=sts", 55) == 0);
	free(r);
	/* A policy that expires: the next second's request sees no policy
	 * in force and rediscovers (the fake server now has none). */
	fake_dns_set("TXT", "_mta-sts.enforce.test", ST_NOTFOUND, NULL);
	fake_clock_advance(86401);
	r = ask(fd, "postfix enforce.test");
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	close(fd);
	lab_teardown();
}

/* ev_cb, bad_cb - what the Exim hook hands on, as "key=value" text */
static char	reports[4][256];
static int	nreports, nbad;

static void
ev_cb(void *arg, const struct exim_event *ev)
{
	struct buf	b = BUF_INIT;

	(void)arg;
	buf_printf(&b, "domain=%s mx=%s", ev->domain, ev->mx);
	if (ev->tls[0])
		buf_printf(&b, " tls=%s verified=%s", ev->tls, ev->verified);
	if (ev->veto[0])
		buf_printf(&b, " veto=%s", ev->veto);
	if (nreports < 4)
		snprintf(reports[nreports], sizeof(reports[0]), "%s",
		    buf_str(&b));
	buf_free(&b);
	__atomic_add_fetch(&nreports, 1, __ATOMIC_SEQ_CST);
}

static void
bad_cb(void *arg, const char *why)
{
	(void)arg;
	(void)why;
	__atomic_add_fetch(&nbad, 1, __ATOMIC_SEQ_CST);
}

/* raw_line - an Exim readsocket exchange: line, half-close, reply */
static char *
raw_line(const char *req)
{
	int	fd = client(), eof;
	char	buf[512];

	send_all(fd, req, strlen(req));
	shutdown(fd, SHUT_WR);
	(void)recv_some(fd, buf, sizeof(buf) - 1, &eof, 5000);
	close(fd);
	return xstrdup(buf);
}

/*
 * Exim's TLS outcomes: "exim-tlsrpt ..." gets an empty reply and its
 * words reach the report hook (never the memo: each is an event); an
 * MX veto is reported by the daemon itself, an allowed MX is not.
 */
static void
test_listener_exim_reports(void)
{
	struct pmap_exim_hook	 hook = { ev_cb, bad_cb, NULL };
	char			*r;
	int			 i, fd;

	lab_setup();
	nreports = nbad = 0;
	pmap_server_on_exim(g_pm, &hook);
	r = raw_line("exim enforce.test");	/* warms the cache */
	CHECK(r && strncmp(r, "enforce domain=enforce.test", 27) == 0);
	free(r);
	r = raw_line("exim-tlsrpt domain=enforce.test mx=mx1.enforce.test "
	    "tls=T verified=1\n");
	CHECK_STR(r, "");
	free(r);
	r = raw_line("exim enforce.test mx.evil.test");
	CHECK(r && strstr(r, "does not match") != NULL);
	free(r);
	r = raw_line("exim enforce.test mx1.enforce.test");
	CHECK_STR(r, "");
	free(r);
	/* the same report twice over netstrings: both reach the hook */
	fd = client();
	for (i = 0; i < 2; i++) {
		r = ask(fd, "exim-tlsrpt domain=enforce.test mx=a.enforce.test "
		    "tls=T verified=1");
		CHECK_STR(r, "");
		free(r);
	}
	close(fd);
	CHECK_INT(nreports, 4);
	CHECK_STR(reports[0], "domain=enforce.test mx=mx1.enforce.test tls=t "
	    "verified=1");
	CHECK_STR(reports[1], "domain=enforce.test mx=mx.evil.test veto=1");
	CHECK_STR(reports[2], "domain=enforce.test mx=a.enforce.test tls=t "
	    "verified=1");
	CHECK_STR(reports[3], reports[2]);
	/* a line that is not KEY=VALUE words reaches the invalid hook */
	r = raw_line("exim-tlsrpt mx=a.enforce.test tls\n");
	CHECK_STR(r, "");
	free(r);
	CHECK_INT(nbad, 1);
	CHECK_INT(nreports, 4);
	lab_teardown();
}

/* Two requests in one write, and one request split byte by byte. */
static void
test_listener_pipelined_and_split(void)
{
	const char	*two = "20:postfix enforce.test,20:postfix testing.test,";
	const char	*one = "20:postfix enforce.test,";
	int		 fd;
	char		*r;
	size_t		 i;

	lab_setup();
	fd = client();
	send_all(fd, two, strlen(two));
	r = recv_netstring(fd);
	CHECK(r && strncmp(r, "OK secure", 9) == 0);
	free(r);
	r = recv_netstring(fd);
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	for (i = 0; i < strlen(one); i++) {
		send_all(fd, one + i, 1);
		usleep(1000);
	}
	r = recv_netstring(fd);
	CHECK(r && strncmp(r, "OK secure", 9) == 0);
	free(r);
	close(fd);
	lab_teardown();
}

static void
test_listener_garbage(void)
{
	static const char *bad[] = {
		"20:postfix enforce.test;",	/* wrong terminator */
		"12:postfix a.com\0\0\0,",	/* NUL inside */
		"0:,",				/* empty */
		"100001:postfix ",		/* oversize: refused at once */
		"99999999999999999999:",	/* absurd length */
		"5:ab\0cd,",			/* NUL inside */
		/* leading zeros: the header would grow without bound */
		"000000000000000000000000000000000000000013:postfix a.com,",
	};
	static const size_t badlen[] = { 24, 20, 3, 15, 21, 8, 57 };
	int	fd;
	char	*r;
	size_t	i;

	lab_setup();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = client();
		send_all(fd, bad[i], badlen[i]);
		r = recv_netstring(fd);
		CHECKF(r && strncmp(r, "PERM ", 5) == 0, "case %zu: %s", i,
		    r ? r : "(null)");
		free(r);
		CHECKF(at_eof(fd), "case %zu: not closed", i);
		close(fd);
	}
	/* digits and nothing after them: a netstring length or the start
	 * of an Exim key ("1234567.example"), decided by the next byte;
	 * more digits than a line may hold are refused at once */
	fd = client();
	{
		char	zeros[PMAP_LINE_MAX + 8];

		memset(zeros, '0', sizeof(zeros));
		send_all(fd, zeros, sizeof(zeros));
	}
	r = recv_netstring(fd);
	CHECK(r && strncmp(r, "PERM ", 5) == 0);
	free(r);
	CHECK(at_eof(fd));
	close(fd);
	fd = client();
	send_all(fd, "1234567", 7);
	usleep(20000);
	send_all(fd, "890.example.com mx.example.com\n", 31);
	{
		char	b[64];
		int	eof;

		(void)recv_some(fd, b, sizeof(b) - 1, &eof, 5000);
		CHECK_STR(b, "");	/* an Exim MX check, no policy */
		CHECK(eof);
	}
	close(fd);
	/* not a netstring after all: a line (Exim) request */
	fd = client();
	send_all(fd, "12x:postfix a,", 14);
	shutdown(fd, SHUT_WR);
	{
		char	b[64];
		int	eof;

		(void)recv_some(fd, b, sizeof(b) - 1, &eof, 5000);
		CHECK_STR(b, "");	/* "<junk> <junk>": an MX check */
		CHECK(eof);
	}
	close(fd);
	/* a line that never ends is cut off */
	fd = client();
	{
		char	junk[2000];

		memset(junk, 'x', sizeof(junk));
		send_all(fd, junk, sizeof(junk));
	}
	CHECK(at_eof(fd));
	close(fd);
	/* the listener still answers */
	fd = client();
	r = ask(fd, "postfix enforce.test");
	CHECK(r && strncmp(r, "OK secure", 9) == 0);
	free(r);
	close(fd);
	lab_teardown();
}

/* Exim ${readsocket}: request, half-close, one reply, close. */
static void
test_listener_exim_line(void)
{
	static const struct {
		const char	*req;
		const char	*want;
	} x[] = {
		{ "exim enforce.test", "enforce domain=enforce.test "
		  "mx=mx1.enforce.test:*.enforce.test id=e1" },
		{ "enforce.test", "enforce domain=enforce.test "
		  "mx=mx1.enforce.test:*.enforce.test id=e1" },
		{ "exim enforce.test\n", "enforce domain=enforce.test "
		  "mx=mx1.enforce.test:*.enforce.test id=e1" },
		{ "exim enforce.test\r\n", "enforce domain=enforce.test "
		  "mx=mx1.enforce.test:*.enforce.test id=e1" },
		{ "163.example", "none" },	/* digits, not a netstring */
		{ "exim testing.test", "testing domain=testing.test "
		  "mx=mx.testing.test id=t1" },
		{ "exim nopolicy.test", "none" },
		{ "exim enforce.test mx1.enforce.test", "" },
		{ "exim enforce.test a.enforce.test", "" },
		{ "exim enforce.test a.b.enforce.test", "MX host "
		  "a.b.enforce.test does not match the MTA-STS policy of "
		  "enforce.test" },
		{ "postfix enforce.test", "OK secure match=mx1.enforce.test:"
		  ".enforce.test servername=hostname" },
	};
	char	buf[512];
	int	fd, eof;
	size_t	i;

	lab_setup();
	for (i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
		fd = client();
		send_all(fd, x[i].req, strlen(x[i].req));
		if (strchr(x[i].req, '\n') == NULL)
			shutdown(fd, SHUT_WR);
		(void)recv_some(fd, buf, sizeof(buf) - 1, &eof, 5000);
		CHECKF(strcmp(buf, x[i].want) == 0, "\"%s\": got \"%s\"",
		    x[i].req, buf);
		CHECKF(eof, "\"%s\": not closed", x[i].req);
		close(fd);
	}
	lab_teardown();
}

/* Clients that vanish: mid-netstring, and while a slow lookup runs. */
static void
test_listener_vanishing_clients(void)
{
	int	fd, i;
	char	*r;

	lab_setup();
	fake_dns_set("TXT", "_mta-sts.slow.test", ST_OK, "v=STSv1; id=s1",
	    NULL);
	fake_dns_set("A", "mta-sts.slow.test", ST_OK, "192.0.2.1", NULL);
	fake_http_set(URL("slow.test"), 200, "text/plain",
	    "version: STSv1\nmode: enforce\nmx: mx.slow.test\n"
	    "max_age: 86400\n", HTTP_FAIL_NONE);
	fake_http_delay_ms(300);
	for (i = 0; i < 20; i++) {
		fd = client();
		send_all(fd, "20:postfix enf", 14);	/* half a request */
		close(fd);
	}
	fd = client();
	send_all(fd, "17:postfix slow.test,", 21);	/* goes to a worker */
	close(fd);					/* reply hits EPIPE */
	usleep(500000);
	fake_http_delay_ms(0);
	fd = client();
	r = ask(fd, "postfix slow.test");		/* now cached */
	CHECK_STR(r, "OK secure match=mx.slow.test servername=hostname");
	free(r);
	close(fd);
	lab_teardown();
}

/* Many idle connections at once, then all of them in use. */
static void
test_listener_many_connections(void)
{
	enum { N = 300 };
	int	fd[N], i, ok = 0;
	char	*r;

	lab_setup();
	for (i = 0; i < N; i++)
		fd[i] = client();
	for (i = 0; i < N; i++) {
		r = ask(fd[i], i % 2 ? "postfix enforce.test" :
		    "postfix testing.test");
		if (r && strcmp(r, i % 2 ? "OK secure match=mx1.enforce.test:"
		    ".enforce.test servername=hostname" : "NOTFOUND ") == 0)
			ok++;
		free(r);
	}
	CHECK_INT(ok, N);
	for (i = 0; i < N; i++)
		close(fd[i]);
	lab_teardown();
}

/* Overrides swap at run time (SIGHUP) and apply to the policy map. */
static void
test_listener_overrides(void)
{
	struct override	*ov = NULL;
	struct buf	 why = BUF_INIT;
	const char	*text = "enforce.test skip\ntesting.test enforce\n";
	int		 fd;
	char		*r;

	lab_setup();
	CHECK_INT(override_parse(text, strlen(text), "ov", &ov, &why), ST_OK);
	fd = client();
	r = ask(fd, "postfix enforce.test");
	CHECK(r && strncmp(r, "OK secure", 9) == 0);
	free(r);
	pmap_server_set_overrides(g_pm, ov);
	r = ask(fd, "postfix enforce.test");
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	r = ask(fd, "postfix testing.test");
	CHECK_STR(r, "OK secure match=mx.testing.test servername=hostname");
	free(r);
	pmap_server_set_overrides(g_pm, NULL);
	override_free(ov);
	r = ask(fd, "postfix enforce.test");
	CHECK(r && strncmp(r, "OK secure", 9) == 0);
	free(r);
	close(fd);
	lab_teardown();
	buf_free(&why);
}

/* slow_domain - slow.test: a policy behind a fetch of delay_ms */
static void
slow_domain(int delay_ms)
{
	fake_dns_set("TXT", "_mta-sts.slow.test", ST_OK, "v=STSv1; id=s1",
	    NULL);
	fake_dns_set("A", "mta-sts.slow.test", ST_OK, "192.0.2.1", NULL);
	fake_http_set(URL("slow.test"), 200, "text/plain",
	    "version: STSv1\nmode: enforce\nmx: mx.slow.test\n"
	    "max_age: 86400\n", HTTP_FAIL_NONE);
	fake_http_delay_ms(delay_ms);
}

static int64_t
ms_since(int64_t t0)
{
	return clock_mono_ms() - t0;
}

/*
 * The deadline (issue 11): a cold lookup whose policy fetch outlasts it
 * is answered with the flavour's "no policy" at the deadline, well under
 * the MTA's own map timeout (RFC 8461 3.3, STS-HTTP-8: deliver as though
 * there were no policy); the fetch goes on and the next lookup gets the
 * policy.  Every flavour, both wire forms; a pipelined request behind a
 * waiting one is answered after it, in order.
 */
static void
test_listener_deadline(void)
{
	static const struct {
		const char	*req;
		const char	*want;
	} cold[] = {
		{ "postfix slow.test", "NOTFOUND " },
		{ "postfix-tlsrpt slow.test", "NOTFOUND " },
		{ "sendmail slow.test", "NOTFOUND " },
		{ "sts slow.test", "NOTFOUND " },
		{ "exim slow.test", "none" },
		{ "exim slow.test mx.other.test", "" },
	};
	struct pmap_server_stats st;
	char			*r, buf[256];
	int			 fd, eof;
	int64_t			 t0, dt;
	size_t			 i;

	lab_setup_deadline(200);
	slow_domain(3000);
	fd = client();
	t0 = clock_mono_ms();
	for (i = 0; i < sizeof(cold) / sizeof(cold[0]); i++) {
		r = ask(fd, cold[i].req);
		CHECKF(r != NULL && strcmp(r, cold[i].want) == 0,
		    "%s: \"%s\"", cold[i].req, r ? r : "(null)");
		free(r);
	}
	/* each joined the one fetch and waited its 200 ms, well before
	 * the fetch ends */
	dt = ms_since(t0);
	CHECKF(dt >= 150 * 6 && dt < 2500, "%lld ms", (long long)dt);
	/* Exim's line form too */
	t0 = clock_mono_ms();
	r = raw_line("exim slow.test");
	CHECK_STR(r, "none");
	free(r);
	CHECKF(ms_since(t0) < 1000, "%lld ms", (long long)ms_since(t0));
	/* two pipelined requests, the first waiting: answered in order */
	snprintf(buf, sizeof(buf), "%zu:%s,%zu:%s,", strlen("sendmail "
	    "slow.test"), "sendmail slow.test", strlen("nosuchmap x"),
	    "nosuchmap x");
	send_all(fd, buf, strlen(buf));
	r = recv_netstring(fd);
	CHECK_STR(r, "NOTFOUND ");
	free(r);
	r = recv_netstring(fd);
	CHECK_STR(r, "PERM unknown map name");
	free(r);
	/* the fetch ends in the background and serves the next lookup */
	fake_http_delay_ms(0);
	for (i = 0; i < 60; i++) {
		r = ask(fd, "postfix slow.test");
		if (r != NULL && strncmp(r, "OK secure", 9) == 0)
			break;
		free(r);
		r = NULL;
		usleep(100000);
	}
	CHECK_STR(r, "OK secure match=mx.slow.test servername=hostname");
	free(r);
	CHECK_INT(fake_http_calls(), 1);	/* one fetch for all of them */
	pmap_server_stats(g_pm, &st);
	CHECKF(st.deadline >= 8, "%lu answered at the deadline", st.deadline);
	close(fd);
	/* a fetch that ends before the deadline is waited for (20 of the
	 * 200 ms: room for a loaded machine's scheduling) */
	fake_sts_domain("slow2.test", "s2", "version: STSv1\nmode: enforce\n"
	    "mx: mx.slow2.test\nmax_age: 86400\n");
	fake_http_delay_ms(20);
	fd = client();
	send_all(fd, "25:postfix-tlsrpt slow2.test,", 29);	/* waits */
	(void)recv_some(fd, buf, sizeof(buf) - 1, &eof, 5000);
	CHECK(strstr(buf, "OK secure match=mx.slow2.test") != NULL);
	close(fd);
	fake_http_delay_ms(0);
	lab_teardown();
}

/* free_port - a TCP port of 127.0.0.1 that was free a moment ago */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Socket specs: unix and inet forms open; bad ones are refused. */
static void
test_specs(void)
{
	struct pmap_server	*pm;
	struct buf		 why = BUF_INIT;
	char			 path[64], spec[200];
	int			 p1 = free_port(), p2 = free_port();

	snprintf(path, sizeof(path), "/tmp/pm-test-%d.sock", (int)getpid());
	snprintf(spec, sizeof(spec), "unix:%s inet:%d@127.0.0.1 "
	    "inet:127.0.0.1:%d", path, p1, p2);
	pm = pmap_server_new(spec, NULL, NULL, &why);
	CHECKF(pm != NULL, "%s", buf_str(&why));
	CHECK(access(path, F_OK) == 0);
	pmap_server_stop(pm);
	CHECK(access(path, F_OK) != 0);			/* removed */
	buf_reset(&why);
	CHECK(pmap_server_new("tcp:25", NULL, NULL, &why) == NULL);
	CHECK(pmap_server_new("inet:x@127.0.0.1", NULL, NULL, &why) == NULL);
	CHECK(pmap_server_new("unix:/nonexistent/dir/s", NULL, NULL, &why) ==
	    NULL);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_specs);
	RUN(test_listener_lockstep);
	RUN(test_listener_pipelined_and_split);
	RUN(test_listener_garbage);
	RUN(test_listener_exim_line);
	RUN(test_listener_vanishing_clients);
	RUN(test_listener_many_connections);
	RUN(test_listener_overrides);
	RUN(test_listener_memo);
	RUN(test_listener_exim_reports);
	RUN(test_listener_deadline);
	return harness_done("test_policymap");
}
