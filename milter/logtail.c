/*
 * logtail.c - follow Postfix's mail log (see logtail.h)
 *
 * The file is identified by device, inode and a signature of its first
 * bytes (SIG_LEN), so a file truncated and written again (copytruncate)
 * is noticed even when it has grown past our offset between two polls.
 * The position saved is the offset of the last whole line handled; it
 * is saved after every chunk read, so a crash re-reads one chunk at
 * most.  After a rotation by rename the old file stays open for
 * ROTATE_GRACE polls: a syslog daemon may still write to it until it
 * reopens its files.
 *
 * Crash safety (issue 14): the position saved is moved back to the
 * first line of a session still pending (its TLS line read, its
 * delivery line not yet; at most LT_REWIND_MAX back), so a restart sees
 * that session whole.  Lines read again after a restart would journal
 * their sessions twice: each session's record carries lpos, the file's
 * identity (inode, signature) and the offset of the line that completed
 * it; at start the journal of today and yesterday is read for the
 * highest lpos of the file, and sessions up to it are not journaled
 * again.  So every session whose delivery line the saved position has
 * passed is in the journal exactly once, whenever the daemon is killed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "logtail.h"
#include "lsplit.h"
#include "mx_match.h"
#include "pflog.h"
#include "policy_archive.h"
#include "statedir.h"
#include "sts_policy.h"
#include "timefmt.h"
#include "xmalloc.h"

#define LT_CHUNK	65536
#define LT_POLL_MS	1000
#define SIG_LEN		64	/* bytes of the file's start that identify it */
#define ROTATE_GRACE	5	/* polls the renamed file is still read */
#define LT_REWIND_MAX	(1024 * 1024)	/* a pending session pins the saved
					 * position this far back at most */

struct lfile {
	int		 fd;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 off;		/* read up to here */
	uint64_t	 sig;		/* of the first sig_len bytes */
	size_t		 sig_len;
};

struct logtail {
	char			*path, *pos_path, *state_dir;
	struct sts_cache	*cache;
	struct journal		*journal;
	struct pflog		 pf;
	struct lfile		 cur, old;	/* old: renamed, in grace */
	int			 old_polls;
	struct lsplit		*ls;		/* a partial line */
	int			 stop[2];
	pthread_t		 thread;
	int			 started, drained, missing_logged;
	int			 pos_warned;
	long long		 line_off;	/* of the line handled (cur),
						 * -1: not known */
	char			 done_fid[48];	/* journaled up to done_off, */
	long long		 done_off;	/* done_n in this file */
	int			 done_n;
	atomic_ulong		 lines, recognised, sessions, journaled;
	atomic_ulong		 formats[PFF_MAX];
};

struct logtail *
logtail_new(const char *path, const char *state_dir, struct sts_cache *cache)
{
	struct logtail	*t = xcalloc(1, sizeof(*t));

	t->path = xstrdup(path ? path : "");
	t->state_dir = xstrdup(state_dir);
	t->pos_path = statedir_logpos(state_dir);
	t->cache = cache;
	t->cur.fd = t->old.fd = -1;
	t->stop[0] = t->stop[1] = -1;
	t->ls = xcalloc(1, sizeof(*t->ls));
	t->line_off = -1;
	return t;
}

/* fid - the identity of cur in lpos: inode and signature */
static void
fid(const struct logtail *t, char *buf, size_t size)
{
	snprintf(buf, size, "%llx-%016llx", (unsigned long long)t->cur.ino,
	    (unsigned long long)t->cur.sig);
}

/* lpos_parse - off and n of an lpos of file id f; 0 if of another file */
static int
lpos_parse(const char *lpos, const char *f, long long *off, int *n)
{
	size_t	k = strlen(f);

	return strncmp(lpos, f, k) == 0 && lpos[k] == ':' &&
	    sscanf(lpos + k + 1, "%lld.%d", off, n) == 2;
}

/* journaled_before - s is at or before what this file has journaled */
static int
journaled_before(const struct logtail *t, const char *f,
    const struct pflog_session *s)
{
	return strcmp(t->done_fid, f) == 0 && (s->off < t->done_off ||
	    (s->off == t->done_off && s->n <= t->done_n));
}

struct done_scan {
	const char	*fid;
	long long	 off;
	int		 n, found;
};

static int
done_cb(void *arg, const struct journal_rec *r)
{
	struct done_scan	*d = arg;
	long long		 off;
	int			 n;

	if (strcmp(r->src, "postfix") == 0 && r->lpos[0] != '\0' &&
	    lpos_parse(r->lpos, d->fid, &off, &n) && (!d->found ||
	    off > d->off || (off == d->off && n > d->n))) {
		d->off = off;
		d->n = n;
		d->found = 1;
	}
	return 0;
}

/* load_done - what the journal (today, yesterday) holds of cur */
static void
load_done(struct logtail *t)
{
	struct journal_stats	st;
	struct done_scan	d;
	char			f[48], day[11];
	time_t			now = clock_now();
	int			i;

	fid(t, f, sizeof(f));
	memset(&d, 0, sizeof(d));
	d.fid = f;
	for (i = 1; i >= 0; i--) {
		timefmt_day(now - i * 86400, day);
		(void)journal_read_day(t->state_dir, day, done_cb, &d, &st);
	}
	t->done_fid[0] = '\0';
	if (d.found) {
		memcpy(t->done_fid, f, sizeof(t->done_fid));
		t->done_off = d.off;
		t->done_n = d.n;
	}
}

/* persisted - the policy cache has a file for domain (a normalised
 * name: no '/') */
static int
persisted(const struct logtail *t, const char *domain)
{
	char	*dir = statedir_cache(t->state_dir), *path;
	int	 rc;

	path = xasprintf("%s/%s", dir, domain);
	rc = access(path, F_OK) == 0;
	free(path);
	free(dir);
	return rc;
}

/* journal_session - one classified session into the journal */
static void
journal_session(struct logtail *t, const struct pflog_session *s,
    time_t now)
{
	char			 f[48];
	struct sts_lookup	 l;
	struct journal_rec	 r;
	enum status		 st;
	enum tlsrpt_result	 rt;
	char			 reason[128];
	int			 has;

	st = sts_cache_lookup(t->cache, s->domain, STS_LOOKUP_CACHED |
	    STS_LOOKUP_PEEK, &l);
	if (st == ST_TEMPFAIL && persisted(t, s->domain)) {
		/* not read since a restart (a crash): this thread may read
		 * the state directory */
		sts_lookup_clear(&l);
		st = sts_cache_lookup(t->cache, s->domain, STS_LOOKUP_CACHED |
		    STS_LOOKUP_LOAD, &l);
	}
	if (st != ST_OK && st != ST_NOTFOUND)
		goto out;			/* a domain we do not know */
	has = st == ST_OK && l.policy != NULL &&
	    l.policy->p_mode != STS_MODE_NONE;
	/* A host outside the policy is not one of the domain's MX hosts:
	 * a relayhost or a transport_maps next hop; not its session. */
	if (has && !s->no_starttls && !mx_match_policy(l.policy, s->host))
		goto out;
	if (!pflog_classify(s, has, &rt, reason, sizeof(reason)))
		goto out;
	f[0] = '\0';
	if (s->off >= 0 && t->cur.fd >= 0) {
		fid(t, f, sizeof(f));
		if (journaled_before(t, f, s))
			goto out;		/* read again after a restart */
	}
	atomic_fetch_add(&t->sessions, 1);
	memset(&r, 0, sizeof(r));
	r.type = JREC_SESSION;
	r.time = now;
	JREC_SET(&r, src, "postfix");
	JREC_SET(&r, domain, s->domain);
	if (has)
		policy_archive_rec_sts(&r, t->state_dir, l.policy, l.id);
	else
		JREC_SET(&r, ptype, "no-policy-found");
	r.result = rt;
	JREC_SET(&r, mx, s->host);
	JREC_SET(&r, rip, s->ip);
	JREC_SET(&r, reason, reason);
	if (f[0] != '\0')
		snprintf(r.lpos, sizeof(r.lpos), "%s:%lld.%d", f, s->off, s->n);
	if (t->journal != NULL && journal_append(t->journal, &r) == 0) {
		atomic_fetch_add(&t->journaled, 1);
		if (f[0] != '\0') {
			memcpy(t->done_fid, f, sizeof(t->done_fid));
			t->done_off = s->off;
			t->done_n = s->n;
		}
		log_debug(LOG_LEVEL_EVENTS, "tlsrpt: src=postfix-log domain=%s policy_type=%s "
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
	l.off = t->line_off;
	atomic_fetch_add(&t->formats[l.fmt], 1);
	if (l.kind != PFL_NONE)
		atomic_fetch_add(&t->recognised, 1);
	n = pflog_feed(&t->pf, &l, s);
	for (i = 0; i < n; i++)
		journal_session(t, &s[i], now);
}

/* signature - of the first want bytes of fd (fewer if shorter) */
static void
signature(int fd, size_t want, uint64_t *sig, size_t *len)
{
	char	b[SIG_LEN];
	ssize_t	n = pread(fd, b, want < sizeof(b) ? want : sizeof(b), 0);

	*len = n > 0 ? (size_t)n : 0;
	*sig = hash_fnv64(HASH_FNV64_INIT, b, *len);
}

/*
 * The position file (<state_dir>/postfix-log.pos, statedir.h), one line:
 * "dev ino offset signature signature_length".  Rewritten after every
 * chunk, so FS_SYNC_NONE: a crash costs at most the lines since the last
 * rewrite that made it to disk, read again.
 */
#define POS_MAX		256

/* save_pos - where the last whole line of cur ended, or the first line
 * of a session not complete yet (crash safety, above) */
static void
save_pos(struct logtail *t)
{
	char		line[POS_MAX];
	int		n;
	long long	pos, pend;

	if (t->cur.fd < 0)
		return;
	pos = (long long)(t->cur.off - (off_t)t->ls->blen);
	pend = pflog_pending(&t->pf, pos - LT_REWIND_MAX);
	if (pend >= 0 && pend < pos)
		pos = pend;		/* a session not complete yet */
	n = snprintf(line, sizeof(line), "%llu %llu %lld %016llx %zu\n",
	    (unsigned long long)t->cur.dev, (unsigned long long)t->cur.ino,
	    pos, (unsigned long long)t->cur.sig, t->cur.sig_len);
	if (fs_write_atomic(t->pos_path, line, (size_t)n, 0640,
	    FS_SYNC_NONE) == 0)
		t->pos_warned = 0;
	else if (!t->pos_warned++)
		log_warn("postfix_log position %s", t->pos_path);
}

/* load_pos - the saved position; off -1 if there is none */
static void
load_pos(struct logtail *t, unsigned long long *dev, unsigned long long *ino,
    long long *off, unsigned long long *sig, size_t *slen)
{
	char	*line;
	size_t	 len;

	*off = -1;
	if ((line = fs_read_regular(t->pos_path, POS_MAX, &len, NULL)) == NULL)
		return;
	if (sscanf(line, "%llu %llu %lld %llx %zu", dev, ino, off, sig,
	    slen) != 5)
		*off = -1;
	free(line);
}

/* open_log - cur = path; at the saved position when it is the same
 * file, else from the start, or (first open, no saved position) at the
 * end: history is not imported */
static void
open_log(struct logtail *t, int first)
{
	struct stat		 st;
	unsigned long long	 dev = 0, ino = 0, sig = 0;
	long long		 off = -1;
	size_t			 slen = 0;
	int			 fd;

	fd = open(t->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (!t->missing_logged++) {
			if (fd >= 0)
				log_warnx("postfix_log %s: not a regular file",
				    t->path);
			else
				log_warn("postfix_log %s (waiting for it)",
				    t->path);
		}
		if (fd >= 0)
			close(fd);
		return;
	}
	t->missing_logged = 0;
	pflog_unpin(&t->pf);		/* offsets of another file */
	t->cur.fd = fd;
	t->cur.dev = st.st_dev;
	t->cur.ino = st.st_ino;
	t->cur.off = 0;
	signature(fd, SIG_LEN, &t->cur.sig, &t->cur.sig_len);
	t->ls->blen = 0;
	t->ls->skipping = 0;
	if (first) {
		load_pos(t, &dev, &ino, &off, &sig, &slen);
		if (off >= 0 && dev == (unsigned long long)st.st_dev &&
		    ino == (unsigned long long)st.st_ino &&
		    off <= (long long)st.st_size && slen <= SIG_LEN) {
			uint64_t	s2;
			size_t		n2;

			signature(fd, slen, &s2, &n2);
			if (n2 == slen && s2 == (uint64_t)sig) {
				t->cur.off = (off_t)off;	/* resume */
				load_done(t);
			}
		} else if (off < 0)
			t->cur.off = st.st_size;	/* first start: now on */
	}
	(void)lseek(fd, t->cur.off, SEEK_SET);
	save_pos(t);
}

/* rewritten - f's first bytes are no longer those it was opened with */
static int
rewritten(struct lfile *f)
{
	uint64_t	sig;
	size_t		slen;

	if (f->sig_len == 0)
		return 0;
	signature(f->fd, f->sig_len, &sig, &slen);
	return slen < f->sig_len || sig != f->sig;
}

/* restart - read f again from its start (truncated) */
static void
restart(struct logtail *t, struct lfile *f)
{
	(void)lseek(f->fd, 0, SEEK_SET);
	f->off = 0;
	t->ls->blen = 0;
	pflog_unpin(&t->pf);
	t->ls->skipping = 0;
	signature(f->fd, SIG_LEN, &f->sig, &f->sig_len);
}

/* stopping - the stop pipe has been written */
static int
stopping(struct logtail *t)
{
	struct pollfd	p = { t->stop[0], POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}

struct drain_ctx {
	struct logtail	*t;
	long long	 start;		/* of the chunk in cur, -1: not cur */
	time_t		 now;
};

static void
drain_line(void *arg, const char *line, size_t len, long long off)
{
	struct drain_ctx	*lc = arg;

	/* where this line starts in the file (also a part of it that came
	 * in the last chunk) */
	lc->t->line_off = lc->start >= 0 ? lc->start + off : -1;
	logtail_line(lc->t, line, len, lc->now);
}

/* drain - handle what f holds now, one chunk at a time, saving the
 * position after each (cur only) and stopping early when asked to */
static void
drain(struct logtail *t, struct lfile *f, int is_cur)
{
	struct drain_ctx	 lc;
	char			*chunk = xmalloc(LT_CHUNK);
	ssize_t			 n;
	off_t			 start;

	while ((n = read(f->fd, chunk, LT_CHUNK)) > 0) {
		if (is_cur && rewritten(f)) {
			/* truncated and written again since the last check:
			 * this chunk may be the new text at the old offset */
			restart(t, f);
			continue;
		}
		start = f->off;
		f->off += n;
		if (is_cur && f->sig_len < SIG_LEN)	/* the start grew */
			signature(f->fd, SIG_LEN, &f->sig, &f->sig_len);
		lc.t = t;
		lc.start = is_cur ? (long long)start : -1;
		lc.now = clock_now();
		lsplit_feed(t->ls, chunk, (size_t)n, drain_line, &lc);
		t->line_off = -1;
		if (is_cur)
			save_pos(t);
		if (stopping(t))
			break;
	}
	free(chunk);
}

static void
close_file(struct lfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* check - rotation, truncation, replacement of cur since the last poll */
static void
check(struct logtail *t)
{
	struct stat	st;

	if (stat(t->path, &st) != 0 || st.st_ino != t->cur.ino ||
	    st.st_dev != t->cur.dev) {
		/* renamed (or removed): read the old file a while more */
		drain(t, &t->cur, 0);
		close_file(&t->old);
		t->old = t->cur;
		t->old_polls = ROTATE_GRACE;
		t->cur.fd = -1;
		t->ls->blen = 0;
		t->ls->skipping = 0;
		open_log(t, 0);			/* the new one, from its start */
		return;
	}
	if (st.st_size < t->cur.off || rewritten(&t->cur)) {
		/* truncated, perhaps written again since: from the start */
		restart(t, &t->cur);
		return;
	}
	if (t->cur.sig_len < SIG_LEN)		/* the start grew: sign more */
		signature(t->cur.fd, SIG_LEN, &t->cur.sig, &t->cur.sig_len);
}

static void *
follower(void *arg)
{
	struct logtail	*t = arg;

	open_log(t, 1);
	for (;;) {
		if (t->old.fd >= 0) {
			drain(t, &t->old, 0);
			if (--t->old_polls <= 0)
				close_file(&t->old);
		}
		if (t->cur.fd >= 0)
			drain(t, &t->cur, 1);
		{
			struct pollfd p = { t->stop[0], POLLIN, 0 };

			if (poll(&p, 1, LT_POLL_MS) > 0)
				break;
		}
		if (t->cur.fd < 0)
			open_log(t, 0);
		else
			check(t);
	}
	save_pos(t);
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
logtail_drain(struct logtail *t)
{
	if (t == NULL || !t->started || t->drained)
		return;
	(void)write(t->stop[1], "x", 1);
	pthread_join(t->thread, NULL);
	t->drained = 1;
	log_info("postfix_log: %lu lines (%lu from smtp), %lu TLS sessions, "
	    "%lu journaled", (unsigned long)atomic_load(&t->lines),
	    (unsigned long)atomic_load(&t->recognised),
	    (unsigned long)atomic_load(&t->sessions),
	    (unsigned long)atomic_load(&t->journaled));
}

void
logtail_stop(struct logtail *t)
{
	if (t == NULL)
		return;
	logtail_drain(t);
	close_file(&t->cur);
	close_file(&t->old);
	if (t->stop[0] >= 0) {
		close(t->stop[0]);
		close(t->stop[1]);
	}
	free(t->ls);
	free(t->path);
	free(t->pos_path);
	free(t->state_dir);
	free(t);
}

void
logtail_stats(struct logtail *t, struct logtail_stats *s)
{
	int	i;

	s->lines = atomic_load(&t->lines);
	s->recognised = atomic_load(&t->recognised);
	s->sessions = atomic_load(&t->sessions);
	s->journaled = atomic_load(&t->journaled);
	for (i = 0; i < PFF_MAX; i++)
		s->formats[i] = atomic_load(&t->formats[i]);
}
