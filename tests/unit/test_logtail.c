/*
 * test_logtail.c - following Postfix's mail log: new lines are read as
 * they come, a partial line waits for its end, a rotated log is read to
 * its end and the new one from its start, a truncated one again from
 * the start, a restart resumes where it stopped, the first start does
 * not import history.  Sessions are journaled with the cached policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "clock.h"
#include "fakes.h"
#include "harness.h"
#include "journal.h"
#include "logtail.h"
#include "sts_cache.h"
#include "timefmt.h"

static char		 dir[64], logpath[128];
static struct sts_cache	*cache;
static struct journal	*jnl;

#define TLS(pid, host, ip) "Nov 30 14:48:01 h postfix/smtp[" pid "]: " \
	"Verified TLS connection established to " host "[" ip "]:25: x\n"
#define TO(pid, rcpt, host, ip) "Nov 30 14:48:01 h postfix/smtp[" pid "]: " \
	"Q1: to=<" rcpt ">, relay=" host "[" ip "]:25, status=sent (ok)\n"
#define SESSION(pid) TLS(pid, "mx1.enforce.test", "192.0.2.7") \
	TO(pid, "a@enforce.test", "mx1.enforce.test", "192.0.2.7")

static void
append(const char *s)
{
	FILE	*f = fopen(logpath, "a");

	if (f == NULL)
		abort();
	fputs(s, f);
	fclose(f);
}

static int
count_cb(void *arg, const struct journal_rec *r)
{
	int	*n = arg;

	if (strcmp(r->src, "postfix") == 0 && strcmp(r->ptype, "sts") == 0 &&
	    r->result == TLSRPT_SUCCESS && strcmp(r->mx,
	    "mx1.enforce.test") == 0 && strcmp(r->pid, "e1") == 0)
		(*n)++;
	return 0;
}

static int
journaled(void)
{
	struct journal_stats	st;
	char			day[11];
	int			n = 0;

	timefmt_day(clock_now(), day);
	(void)journal_read_day(dir, day, count_cb, &n, &st);
	return n;
}

/* wait_for - until the journal holds n sessions (5 s at most) */
static int
wait_for(int n)
{
	int	i;

	for (i = 0; i < 100 && journaled() < n; i++)
		usleep(50000);
	return journaled();
}

static void
setup(void)
{
	struct sts_cache_opts	o;
	struct sts_lookup	l;
	struct buf		why = BUF_INIT;

	snprintf(dir, sizeof(dir), "/tmp/test_logtail.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(logpath, sizeof(logpath), "%s/mail.log", dir);
	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(1700000000);
	fake_sts_domain("enforce.test", "e1", "version: STSv1\nmode: enforce\n"
	    "mx: mx1.enforce.test\nmax_age: 86400\n");
	fake_cache_opts(&o, NULL);
	cache = sts_cache_new(&o);
	(void)sts_cache_lookup(cache, "enforce.test", 0, &l);
	sts_lookup_clear(&l);
	jnl = journal_open(dir, &why);
	buf_free(&why);
}

static void
teardown(void)
{
	journal_close(jnl);
	sts_cache_free(cache);
	fake_rm_rf(dir);
}

static void
test_follow(void)
{
	struct logtail		*t;
	struct logtail_stats	 s;
	char			 rotated[160];

	setup();
	append(SESSION("1"));			/* history: not imported */
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(200000);
	append(SESSION("2"));
	CHECK_INT(wait_for(1), 1);
	/* a line in two writes is one line */
	append("Nov 30 14:48:01 h postfix/smtp[3]: Verified TLS connec");
	usleep(1200000);
	append("tion established to mx1.enforce.test[192.0.2.7]:25: x\n"
	    TO("3", "a@enforce.test", "mx1.enforce.test", "192.0.2.7"));
	CHECK_INT(wait_for(2), 2);
	/* rotation: the rest of the old file, then the new one */
	snprintf(rotated, sizeof(rotated), "%s.1", logpath);
	CHECK(rename(logpath, rotated) == 0);
	{
		FILE *f = fopen(rotated, "a");	/* written after the rename */

		fputs(SESSION("4"), f);
		fclose(f);
	}
	append(SESSION("5"));			/* the new file */
	CHECK_INT(wait_for(4), 4);
	/* truncation: read again from the start */
	CHECK(truncate(logpath, 0) == 0);
	usleep(1200000);
	append(SESSION("6"));
	CHECK_INT(wait_for(5), 5);
	logtail_stop(t);
	/* a restart resumes: what came while stopped is read, once */
	append(SESSION("7"));
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	CHECK_INT(wait_for(6), 6);
	usleep(1200000);
	CHECK_INT(journaled(), 6);
	logtail_stats(t, &s);
	CHECK(s.sessions == 1 && s.journaled == 1 && s.lines == 2);
	logtail_stop(t);
	teardown();
}

/* A missing log is waited for; an over-long line is skipped whole. */
static void
test_missing_and_long(void)
{
	struct logtail	*t;
	char		*big;

	setup();
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(300000);
	big = malloc(20000);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	append(big);				/* no newline yet */
	append("\n");
	free(big);
	append(SESSION("8"));
	CHECK_INT(wait_for(1), 1);
	logtail_stop(t);
	teardown();
}

/*
 * copytruncate that regrows past our offset within one poll, a stop in
 * the middle of a line (the restart reads the whole line), a session
 * through a relay host outside the policy (not the domain's), and a
 * FIFO (refused, and the stop does not hang).
 */
static void
test_hard_cases(void)
{
	struct logtail	*t;
	char		 fifo[160];

	setup();
	append("x\n");
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(200000);
	append(SESSION("1") SESSION("2"));
	CHECK_INT(wait_for(2), 2);
	/* truncated and written again, longer than before, in one go */
	{
		FILE *f = fopen(logpath, "w");

		fputs("Nov 30 14:48:01 h postfix/smtpd[1]: connect from a long "
		    "new first line that the old file did not have\n", f);
		fputs(SESSION("3") SESSION("4") SESSION("5"), f);
		fclose(f);
	}
	CHECK_INT(wait_for(5), 5);
	/* half a line when stopped: the restart reads it whole */
	append("Nov 30 14:48:01 h postfix/smtp[6]: Verified TLS connection "
	    "established to mx1.enf");
	usleep(1200000);
	logtail_stop(t);
	append("orce.test[192.0.2.7]:25: x\n" TO("6", "a@enforce.test",
	    "mx1.enforce.test", "192.0.2.7"));
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	CHECK_INT(wait_for(6), 6);
	/* a relay host outside enforce.test's policy: not its session */
	append(TLS("7", "smarthost.example", "192.0.2.9")
	    TO("7", "b@enforce.test", "smarthost.example", "192.0.2.9"));
	append(SESSION("8"));
	CHECK_INT(wait_for(7), 7);
	usleep(300000);
	CHECK_INT(journaled(), 7);
	logtail_stop(t);
	/* not a regular file: refused, and stopping does not hang */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	t = logtail_new(fifo, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(300000);
	logtail_stop(t);
	teardown();
}

/* copy - file a to b */
static void
copy_file(const char *a, const char *b)
{
	char	 buf[4096];
	size_t	 n;
	FILE	*in = fopen(a, "r"), *out = fopen(b, "w");

	if (in == NULL || out == NULL)
		abort();
	n = fread(buf, 1, sizeof(buf), in);
	fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
}

/*
 * Crash safety (issue 14 item 2): a session whose TLS line was read
 * before a stop and its delivery line after it is journaled (the saved
 * position waits at its first line); lines read again because the
 * daemon died after journaling but before saving the position are not
 * journaled twice (lpos).
 */
static void
test_restart_whole(void)
{
	struct logtail	*t;
	char		 pos[160], old[160];

	setup();
	snprintf(pos, sizeof(pos), "%s/postfix-log.pos", dir);
	snprintf(old, sizeof(old), "%s/pos.old", dir);
	append("x\n");
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(200000);
	append(TLS("9", "mx1.enforce.test", "192.0.2.7") SESSION("1"));
	CHECK_INT(wait_for(1), 1);
	logtail_stop(t);
	/* pid 9's delivery line comes while the follower is down */
	append(TO("9", "a@enforce.test", "mx1.enforce.test", "192.0.2.7"));
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	CHECK_INT(wait_for(2), 2);
	usleep(1200000);
	CHECK_INT(journaled(), 2);		/* session 1 not again */
	logtail_stop(t);
	/* a crash after journaling, before the position was saved: the
	 * position file is the one before those lines */
	copy_file(pos, old);
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(200000);
	append(SESSION("3") SESSION("4"));
	CHECK_INT(wait_for(4), 4);
	logtail_stop(t);
	copy_file(old, pos);
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(200000);
	append(SESSION("5"));
	CHECK_INT(wait_for(5), 5);
	usleep(1200000);
	CHECK_INT(journaled(), 5);		/* 3 and 4 once each */
	logtail_stop(t);
	teardown();
}

/* After a restart (a crash) the daemon's memory is empty: a domain whose
 * policy is in the state directory is still known to the follower. */
static void
test_restart_cache(void)
{
	struct sts_cache_opts	 o;
	struct sts_lookup	 l;
	struct logtail		*t;

	setup();
	sts_cache_free(cache);
	fake_cache_opts(&o, dir);
	cache = sts_cache_new(&o);
	(void)sts_cache_lookup(cache, "enforce.test", 0, &l);	/* persisted */
	sts_lookup_clear(&l);
	sts_cache_free(cache);
	fake_dns_reset();			/* no network from here on */
	fake_http_reset();
	cache = sts_cache_new(&o);		/* the restarted daemon's */
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(200000);
	append(SESSION("1"));
	CHECK_INT(wait_for(1), 1);
	logtail_stop(t);
	teardown();
}

/* The three header formats (pflog.h) in one file: each session is
 * journaled, the lines of each format counted. */
static void
test_formats(void)
{
	struct logtail		*t;
	struct logtail_stats	 s;

	setup();
	t = logtail_new(logpath, dir, cache);
	CHECK_INT(logtail_start(t, jnl), 0);
	usleep(200000);
	append(SESSION("1"));
	append("2026-12-06T05:05:33.123456+00:00 h postfix/smtp[2]: Verified "
	    "TLS connection established to mx1.enforce.test[192.0.2.7]:25: x\n"
	    "2026-12-06T05:05:33.123457+00:00 h postfix/smtp[2]: Q1: "
	    "to=<a@enforce.test>, relay=mx1.enforce.test[192.0.2.7]:25, "
	    "status=sent (ok)\n");
	append("<22>1 2026-12-06T05:05:34.000001+00:00 h postfix/smtp 3 - - "
	    "Verified TLS connection established to mx1.enforce.test"
	    "[192.0.2.7]:25: x\n"
	    "<22>1 2026-12-06T05:05:34.000002+00:00 h postfix/smtp 3 - - Q1: "
	    "to=<a@enforce.test>, relay=mx1.enforce.test[192.0.2.7]:25, "
	    "status=sent (ok)\n"
	    "<30>1 2026-12-06T05:05:34Z h systemd 1 - - x\n");
	CHECK_INT(wait_for(3), 3);
	logtail_stats(t, &s);
	CHECK(s.formats[PFF_BSD] == 2 && s.formats[PFF_RFC3339] == 2 &&
	    s.formats[PFF_RFC5424] == 3 && s.formats[PFF_OTHER] == 0);
	CHECK(s.lines == 7 && s.recognised == 6 && s.journaled == 3);
	logtail_stop(t);
	teardown();
}

int
main(void)
{
	RUN(test_follow);
	RUN(test_missing_and_long);
	RUN(test_hard_cases);
	RUN(test_formats);
	RUN(test_restart_whole);
	RUN(test_restart_cache);
	return harness_done("test_logtail");
}
