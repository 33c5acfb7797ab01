/*
 * test_journal.c - journal records: round trip, torn and corrupt records
 * skipped and counted, concurrent appends from threads and processes,
 * the policy archive
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "journal.h"
#include "policy_archive.h"

static char	dir[64];

static void
fill(struct journal_rec *r, int i)
{
	memset(r, 0, sizeof(*r));
	r->type = JREC_SESSION;
	r->time = 1700006400 + i;	/* 2023-11-15 */
	JREC_SET(r, src, "probe");
	JREC_SET(r, ptype, "sts");
	JREC_SET(r, domain, "example.com");
	JREC_SET(r, mx, "mx1.example.com");
	JREC_SET(r, sip, "192.0.2.1");
	JREC_SET(r, rip, "2001:db8::1");
	JREC_SET(r, helo, "mx1 \"quoted\" \\ \xc3\xa9\x01");
	r->result = i % 2 ? TLSRPT_CERTIFICATE_EXPIRED : TLSRPT_SUCCESS;
	JREC_SET(r, reason, "X509_V_ERR_CERT_HAS_EXPIRED");
}

static void
test_journal_roundtrip(void)
{
	struct journal_rec	a, b;
	struct buf		line = BUF_INIT, why = BUF_INIT;

	fill(&a, 1);
	journal_encode(&a, &line);
	CHECK(line.b_data[line.b_len - 1] == '\n');
	CHECK_INT(journal_decode(buf_str(&line), line.b_len, &b, &why), ST_OK);
	CHECK_INT(b.type, JREC_SESSION);
	CHECK_INT(b.time, a.time);
	CHECK_STR(b.domain, a.domain);
	CHECK_STR(b.rip, a.rip);
	CHECK_STR(b.helo, "mx1 \"quoted\" \\ \xc3\xa9\x01");
	CHECK_INT(b.result, TLSRPT_CERTIFICATE_EXPIRED);
	CHECK_STR(b.reason, a.reason);
	/* One flipped byte is detected. */
	line.b_data[30] ^= 1;
	CHECK_INT(journal_decode(buf_str(&line), line.b_len, &b, &why),
	    ST_INVALID);
	/* A torn line (cut short) is detected. */
	line.b_data[30] ^= 1;
	CHECK_INT(journal_decode(buf_str(&line), line.b_len / 2, &b, &why),
	    ST_INVALID);
	buf_free(&line);
	buf_free(&why);
}

static int
count_cb(void *arg, const struct journal_rec *r)
{
	(*(int *)arg)++;
	return 0;
}

struct thr {
	struct journal	*j;
	int		 base;
};

static void *
writer(void *arg)
{
	struct thr		*t = arg;
	struct journal_rec	 r;
	int			 i;

	for (i = 0; i < 500; i++) {
		fill(&r, t->base + i);
		r.time = 1700006400;
		if (journal_append(t->j, &r) != 0)
			abort();
	}
	return NULL;
}

/* many threads and two processes append; every record is read back */
static void
test_journal_concurrent(void)
{
	struct buf		 why = BUF_INIT;
	struct journal		*j = journal_open(dir, &why);
	struct journal_stats	 st;
	pthread_t		 th[8];
	struct thr		 t[8];
	pid_t			 pid;
	int			 i, n = 0, status;

	CHECK(j != NULL);
	if (j == NULL)
		return;
	if ((pid = fork()) == 0) {
		struct journal *cj = journal_open(dir, &why);
		struct thr ct = { cj, 100000 };

		writer(&ct);
		_exit(0);
	}
	for (i = 0; i < 8; i++) {
		t[i].j = j;
		t[i].base = i * 1000;
		pthread_create(&th[i], NULL, writer, &t[i]);
	}
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	waitpid(pid, &status, 0);
	CHECK_INT(journal_read_day(dir, "2023-11-15", count_cb, &n, &st), 0);
	CHECK_INT(n, 9 * 500);
	CHECK_INT(st.records, 9 * 500);
	CHECK_INT(st.bad, 0);
	CHECK_INT(journal_errors(j), 0);
	journal_close(j);
	buf_free(&why);
}

/* a torn last record (crash mid-write) and garbage lines are skipped */
static void
test_journal_torn_tail(void)
{
	struct buf		 why = BUF_INIT, line = BUF_INIT;
	struct journal		*j = journal_open(dir, &why);
	struct journal_rec	 r;
	struct journal_stats	 st;
	char			 path[128];
	int			 fd, n = 0;

	fill(&r, 0);
	r.time = 1700092800;		/* 2023-11-16 */
	CHECK_INT(journal_append(j, &r), 0);
	snprintf(path, sizeof(path), "%s/journal/2023-11-16.jnl", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(write(fd, "garbage line\n", 13) == 13);
	journal_encode(&r, &line);
	CHECK(write(fd, buf_str(&line), line.b_len / 2) > 0);	/* torn */
	close(fd);
	CHECK_INT(journal_read_day(dir, "2023-11-16", count_cb, &n, &st), 0);
	CHECK_INT(n, 1);
	CHECK_INT(st.bad, 2);
	/* A restarted writer ends the torn line first: its record survives. */
	journal_close(j);
	j = journal_open(dir, &why);
	CHECK_INT(journal_append(j, &r), 0);
	n = 0;
	CHECK_INT(journal_read_day(dir, "2023-11-16", count_cb, &n, &st), 0);
	CHECK_INT(n, 2);
	CHECK_INT(st.bad, 2);
	CHECK_INT(journal_read_day(dir, "1999-01-01", count_cb, &n, &st), -1);
	journal_close(j);
	buf_free(&why);
	buf_free(&line);
}

/* A full disk (the day's file is /dev/full): the append fails with
 * ENOSPC and is counted; when there is room again (the file is back)
 * the next append succeeds by itself (issue 14 item 3). */
static void
test_journal_full(void)
{
	struct buf		 why = BUF_INIT;
	struct journal		*j = journal_open(dir, &why);
	struct journal_rec	 r;
	struct journal_stats	 st;
	char			 path[128];
	int			 i, n = 0;

	fill(&r, 0);
	r.time = 1700179200;		/* 2023-11-17 */
	snprintf(path, sizeof(path), "%s/journal/2023-11-17.jnl", dir);
	CHECK(symlink("/dev/full", path) == 0);
	for (i = 0; i < 3; i++) {
		errno = 0;
		CHECK_INT(journal_append(j, &r), -1);
		CHECK_INT(errno, ENOSPC);
	}
	CHECK_INT(journal_errors(j), 3);
	CHECK(unlink(path) == 0);
	CHECK_INT(journal_append(j, &r), 0);
	CHECK_INT(journal_errors(j), 3);
	CHECK_INT(journal_read_day(dir, "2023-11-17", count_cb, &n, &st), 0);
	CHECK_INT(n, 1);
	CHECK_INT(st.bad, 0);
	journal_close(j);
	buf_free(&why);
}

/*
 * A disk that fills in the middle of a record (RLIMIT_FSIZE stands in for
 * it): the torn line is counted; while the disk stays full the line
 * cannot be ended; once it has room, the next record is written on a
 * line of its own, not glued to the torn one (issue 14: that lost it).
 */
static void
test_journal_full_torn(void)
{
	struct buf		 why = BUF_INIT;
	struct journal		*j = journal_open(dir, &why);
	struct journal_rec	 r;
	struct journal_stats	 st;
	struct rlimit		 old, lim;
	struct stat		 sb;
	char			 path[128];
	int			 n = 0;

	signal(SIGXFSZ, SIG_IGN);
	fill(&r, 0);
	r.time = 1700265600;		/* 2023-11-18 */
	snprintf(path, sizeof(path), "%s/journal/2023-11-18.jnl", dir);
	CHECK_INT(journal_append(j, &r), 0);
	CHECK(stat(path, &sb) == 0 && getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 10;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	CHECK_INT(journal_append(j, &r), -1);		/* torn: 10 bytes */
	CHECK_INT(journal_append(j, &r), -1);	/* cannot end the line */
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);	/* room again */
	CHECK_INT(journal_append(j, &r), 0);
	CHECK_INT(journal_errors(j), 2);
	CHECK_INT(journal_read_day(dir, "2023-11-18", count_cb, &n, &st), 0);
	CHECK_INT(n, 2);
	CHECK_INT(st.bad, 1);
	journal_close(j);
	buf_free(&why);
}

static void
test_journal_archive(void)
{
	char	 hash[65], *text;
	size_t	 len;
	const char *pol = "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1\n";

	CHECK_INT(policy_archive_put(dir, pol, strlen(pol), hash), 0);
	CHECK_INT(strlen(hash), 64);
	CHECK_INT(policy_archive_put(dir, pol, strlen(pol), hash), 0);
	text = policy_archive_text(dir, hash, &len);
	CHECK(text != NULL && len == strlen(pol) && memcmp(text, pol, len) == 0);
	free(text);
	CHECK(policy_archive_text(dir, "../../etc/passwd", &len) == NULL);
}

int
main(void)
{
	char	cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/test_journal.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_journal_roundtrip);
	RUN(test_journal_concurrent);
	RUN(test_journal_torn_tail);
	RUN(test_journal_full);
	RUN(test_journal_full_torn);
	RUN(test_journal_archive);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	return harness_done("test_journal");
}
