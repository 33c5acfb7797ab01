/*
 * logtail.c - follow Postfix's mail log (see logtail.h)
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "logtail.h"
#include "pflog.h"
#include "sts_policy.h"
#include "xmalloc.h"

#define LT_LINE_MAX	8192
#define LT_POLL_MS	1000
#define LT_SAVE_EVERY	10		/* seconds between position saves */

struct logtail {
	char			*path, *pos_path, *state_dir;
	struct sts_cache	*cache;
	struct journal		*journal;
	struct pflog		 pf;
	int			 fd;
	ino_t			 ino;
	off_t			 off;
	char			*buf;		/* a partial line */
	size_t			 blen;
	int			 skipping;	/* inside an over-long line */
	int			 stop[2];
	pthread_t		 thread;
	int			 started, missing_logged;
	time_t			 saved_at;
	off_t			 saved_off;
	atomic_ulong		 lines, sessions, journaled;
};

struct logtail *
logtail_new(const char *path, const char *state_dir, struct sts_cache *cache)
{
	struct logtail	*t = xcalloc(1, sizeof(*t));

	t->path = xstrdup(path ? path : "");
	t->state_dir = xstrdup(state_dir);
	t->pos_path = xasprintf("%s/postfix-log.pos", state_dir);
	t->cache = cache;
	t->fd = -1;
	t->stop[0] = t->stop[1] = -1;
	t->buf = xmalloc(LT_LINE_MAX + 1);
	return t;
}

/* journal_session - one classified session into the journal */
static void
journal_session(struct logtail *t, const struct pflog_session *s,
    time_t now)
{
	struct sts_lookup	 l;
	struct journal_rec	 r;
	enum status		 st;
	enum tlsrpt_result	 rt;
	char			 reason[128];
	int			 has;

	st = sts_cache_lookup(t->cache, s->domain, STS_LOOKUP_CACHED |
	    STS_LOOKUP_PEEK, &l);
	if (st != ST_OK && st != ST_NOTFOUND)
		goto out;			/* a domain we do not know */
	has = st == ST_OK && l.policy != NULL &&
	    l.policy->p_mode != STS_MODE_NONE;
	if (!pflog_classify(s, has, &rt, reason, sizeof(reason)))
		goto out;
	atomic_fetch_add(&t->sessions, 1);
	memset(&r, 0, sizeof(r));
	r.type = JREC_SESSION;
	r.time = now;
	JREC_SET(&r, src, "postfix");
	JREC_SET(&r, domain, s->domain);
	if (has) {
		JREC_SET(&r, ptype, "sts");
		JREC_SET(&r, pid, l.id);
		JREC_SET(&r, mode, sts_mode_str(l.policy->p_mode));
		if (journal_archive_policy(t->state_dir, l.policy->p_text,
		    l.policy->p_text_len, r.phash) != 0)
			r.phash[0] = '\0';
	} else
		JREC_SET(&r, ptype, "no-policy-found");
	r.result = rt;
	JREC_SET(&r, mx, s->host);
	JREC_SET(&r, rip, s->ip);
	JREC_SET(&r, reason, reason);
	if (t->journal != NULL && journal_append(t->journal, &r) == 0) {
		atomic_fetch_add(&t->journaled, 1);
		log_debug(1, "tlsrpt: src=postfix-log domain=%s policy_type=%s "
		    "result=%s mx=%s", r.domain, r.ptype,
		    tlsrpt_result_str(rt), r.mx);
	}
out:
	sts_lookup_clear(&l);
}

void
logtail_line(struct logtail *t, const char *line, size_t len, time_t now)
{
	struct pflog_line	l;
	struct pflog_session	s[PFLOG_EARLIER + 1];
	int			n, i;

	atomic_fetch_add(&t->lines, 1);
	pflog_line(line, len, &l);
	n = pflog_feed(&t->pf, &l, s);
	for (i = 0; i < n; i++)
		journal_session(t, &s[i], now);
}

/* save_pos - remember where we are (tmp + rename) */
static void
save_pos(struct logtail *t, int force)
{
	time_t	now = clock_now();
	char	*tmp;
	FILE	*f;

	if (t->fd < 0 || (!force && (now - t->saved_at < LT_SAVE_EVERY ||
	    t->off == t->saved_off)))
		return;
	tmp = xasprintf("%s.tmp", t->pos_path);
	if ((f = fopen(tmp, "w")) != NULL) {
		fprintf(f, "%llu %lld\n", (unsigned long long)t->ino,
		    (long long)t->off);
		if (fclose(f) == 0 && rename(tmp, t->pos_path) == 0) {
			t->saved_at = now;
			t->saved_off = t->off;
		}
	}
	free(tmp);
}

/* open_log - open path; at the saved position when it is the same file,
 * else at start (rotated) or, the very first time, at the end */
static void
open_log(struct logtail *t, int first)
{
	struct stat		 st;
	unsigned long long	 ino = 0;
	long long		 off = -1;
	FILE			*f;

	if ((t->fd = open(t->path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (!t->missing_logged++)
			log_warn("postfix_log %s (waiting for it)", t->path);
		return;
	}
	t->missing_logged = 0;
	if (fstat(t->fd, &st) != 0) {
		close(t->fd);
		t->fd = -1;
		return;
	}
	t->ino = st.st_ino;
	t->off = 0;
	t->blen = 0;
	t->skipping = 0;
	if (first) {
		if ((f = fopen(t->pos_path, "r")) != NULL) {
			if (fscanf(f, "%llu %lld", &ino, &off) != 2)
				off = -1;
			fclose(f);
		}
		if (off >= 0 && ino == (unsigned long long)st.st_ino &&
		    off <= (long long)st.st_size)
			t->off = (off_t)off;		/* resume */
		else if (off < 0)
			t->off = st.st_size;		/* first start: now on */
	}
	(void)lseek(t->fd, t->off, SEEK_SET);
	save_pos(t, 1);
}

/* drain - read what is there; 0 at EOF */
static void
drain(struct logtail *t)
{
	char	chunk[65536], *p, *nl, *end;
	ssize_t	n;
	time_t	now;

	while ((n = read(t->fd, chunk, sizeof(chunk))) > 0) {
		t->off += n;
		now = clock_now();
		p = chunk;
		end = chunk + n;
		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL) {		/* keep the partial line */
				size_t k = (size_t)(end - p);

				if (t->skipping || t->blen + k > LT_LINE_MAX) {
					t->skipping = 1;
					t->blen = 0;
				} else {
					memcpy(t->buf + t->blen, p, k);
					t->blen += k;
				}
				break;
			}
			if (t->skipping)
				t->skipping = 0;	/* the long line ends */
			else if (t->blen > 0) {
				size_t k = (size_t)(nl - p);

				if (t->blen + k <= LT_LINE_MAX) {
					memcpy(t->buf + t->blen, p, k);
					logtail_line(t, t->buf, t->blen + k,
					    now);
				}
				t->blen = 0;
			} else
				logtail_line(t, p, (size_t)(nl - p), now);
			p = nl + 1;
		}
	}
}

static void *
follower(void *arg)
{
	struct logtail	*t = arg;
	struct pollfd	 p = { t->stop[0], POLLIN, 0 };
	struct stat	 st;

	open_log(t, 1);
	for (;;) {
		if (t->fd >= 0) {
			drain(t);
			save_pos(t, 0);
		}
		if (poll(&p, 1, LT_POLL_MS) > 0)
			break;
		if (t->fd < 0) {
			open_log(t, 0);
			continue;
		}
		if (stat(t->path, &st) != 0 || st.st_ino != t->ino) {
			drain(t);		/* the rest of the rotated file */
			close(t->fd);
			t->fd = -1;
			open_log(t, 0);		/* the new one, from its start */
		} else if (st.st_size < t->off) {
			(void)lseek(t->fd, 0, SEEK_SET);	/* truncated */
			t->off = 0;
			t->blen = 0;
		}
	}
	if (t->fd >= 0) {
		drain(t);
		save_pos(t, 1);
	}
	return NULL;
}

int
logtail_start(struct logtail *t, struct journal *j)
{
	t->journal = j;
	if (t->path[0] == '\0')
		return 0;
	if (pipe2(t->stop, O_CLOEXEC) != 0)
		return -1;
	if (pthread_create(&t->thread, NULL, follower, t) != 0)
		return -1;
	t->started = 1;
	return 0;
}

void
logtail_stop(struct logtail *t)
{
	if (t == NULL)
		return;
	if (t->started) {
		(void)write(t->stop[1], "x", 1);
		pthread_join(t->thread, NULL);
		log_info("postfix_log: %lu lines, %lu TLS sessions, %lu "
		    "journaled", (unsigned long)atomic_load(&t->lines),
		    (unsigned long)atomic_load(&t->sessions),
		    (unsigned long)atomic_load(&t->journaled));
	}
	if (t->fd >= 0)
		close(t->fd);
	if (t->stop[0] >= 0) {
		close(t->stop[0]);
		close(t->stop[1]);
	}
	free(t->buf);
	free(t->path);
	free(t->pos_path);
	free(t->state_dir);
	free(t);
}

void
logtail_stats(struct logtail *t, struct logtail_stats *s)
{
	s->lines = atomic_load(&t->lines);
	s->sessions = atomic_load(&t->sessions);
	s->journaled = atomic_load(&t->journaled);
}
