/*
 * ship.c - ship every journal record of this node to the fleet's Redis
 *
 * One thread, one fleet_redis of its own.  Each pass: (re)learn the
 * positions when the connection is new (HGETALL <P>pos:<node>), list
 * the day files within retention, ship each from its position in
 * batches (fleet_batch_cut, FLEET_SHIP_SCRIPT), declare the closed day,
 * and now and then write the node's heartbeat.  A pass that stopped at
 * its batch limit is followed at once by the next; otherwise the thread
 * sleeps SHIP_IDLE_MS (it polls: the writers are other threads and
 * processes, and a stat of a few files is cheap).
 *
 * The local offsets are only a cache of Redis's: the script refuses a
 * batch whose expected offset is not Redis's and answers Redis's, and
 * the next batch is read from there (fleet_ship.h: exactly once).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fleet_batch.h"
#include "fleet_redis.h"
#include "fleet_ship.h"
#include "log.h"
#include "policy_archive.h"
#include "ship.h"
#include "statedir.h"
#include "timefmt.h"
#include "version.h"
#include "xmalloc.h"

#define SHIP_IDLE_MS		200
#define SHIP_BEAT_S		5
#define SHIP_PASS_BATCHES	50	/* then closure and heartbeat */
#define SHIP_DRAIN_MS		2000
#define SHIP_KEY_MAX		192
#define SHIP_NKEYS		(FSK_NFIXED + FLEET_BATCH_HASHES)
#define SHIP_NARGS		(FSK_NFIXED + FLEET_BATCH_HASHES + \
				 FSA_NFIXED + FLEET_BATCH_HASHES + FLEET_BATCH_MAX)

/*
 * The policy texts sent to Redis since the last (re)connect, with the
 * expiry they were sent with (fleet_ship.h): a batch sends the texts
 * of its hashes that are not here or were sent with an earlier expiry.
 * Open addressing on the hash's own bits; emptied at every new
 * connection, every refused batch, and when it gets large.
 */
struct ship_known {
	char		h[65];
	time_t		exp;
};

struct ship_set {
	struct ship_known	*e;
	size_t			 cap, n;
};

#define SHIP_SET_MAX	(1024 * 1024)

static size_t
set_slot(const struct ship_set *t, const char *h)
{
	unsigned long long	k = 0;
	size_t			i;

	for (i = 0; i < 16 && h[i]; i++)
		k = k * 16 + (unsigned)(h[i] <= '9' ? h[i] - '0' :
		    (h[i] | 0x20) - 'a' + 10);
	for (i = (size_t)k & (t->cap - 1); t->e[i].h[0] != '\0' &&
	    strcmp(t->e[i].h, h) != 0; i = (i + 1) & (t->cap - 1))
		;
	return i;
}

/* set_exp - the expiry h was sent with, or 0 */
static time_t
set_exp(const struct ship_set *t, const char *h)
{
	return t->cap > 0 ? t->e[set_slot(t, h)].exp : 0;
}

static void
set_clear(struct ship_set *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static void
set_put(struct ship_set *t, const char *h, time_t exp)
{
	size_t	i;

	if (t->n >= SHIP_SET_MAX)
		set_clear(t);
	if (2 * (t->n + 1) > t->cap) {		/* at most half full */
		struct ship_set	nt = { NULL, t->cap ? 2 * t->cap : 1024, 0 };

		nt.e = xcalloc(nt.cap, sizeof(*nt.e));
		for (i = 0; i < t->cap; i++)
			if (t->e[i].h[0] != '\0') {
				nt.e[set_slot(&nt, t->e[i].h)] = t->e[i];
				nt.n++;
			}
		free(t->e);
		*t = nt;
	}
	i = set_slot(t, h);
	if (t->e[i].h[0] == '\0') {
		memcpy(t->e[i].h, h, 65);
		t->n++;
	}
	t->e[i].exp = exp;
}

struct ship_pos {			/* what Redis had at the last sync */
	char		day[11];
	long long	off;
};

struct ship {
	struct fleet_conf	 fc;
	char			*state_dir, *jdir;
	struct fleet_redis	*r;
	pthread_t		 thread;
	int			 running;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stopping;
	int			 budget;	/* ms per call; 0: fleet_timeout */

	unsigned long		 gen;		/* of the connection synced */
	int			 synced;
	struct ship_pos		*rpos;
	size_t			 nrpos;
	struct fleet_ship_day	*days;
	size_t			 ndays, cap;
	char			*buf;		/* a window of one day file */
	char			 wday[11];	/* "": none */
	long long		 woff;		/* file offset of buf[0] */
	size_t			 wlen, wpos;	/* bytes in buf, consumed */
	struct fleet_batch	 b;
	struct ship_set		 known;		/* ptexts Redis has, we think */
	const char		*argv[SHIP_NARGS];
	size_t			 lens[SHIP_NARGS];
	char			*texts[FLEET_BATCH_HASHES];
	size_t			 pick[FLEET_BATCH_HASHES];	/* to send */
	size_t			 npick;
	time_t			 exp;		/* of the batch's day */
	char			 keys[SHIP_NKEYS][SHIP_KEY_MAX];
	char			 closed[11];
	time_t			 started, caught_up;
	int64_t			 next_beat;
	int			 err_logged;	/* a script error, till success */
	int			 ahead_logged;

	/* counters: written by the thread, read by ship_stats() */
	unsigned long		 records, batches, bad, refused, script_errors;
	long long		 lag_bytes;
	long			 lag_seconds;
};

struct ship *
ship_new(const struct fleet_conf *fc, const char *state_dir)
{
	struct ship	*s = xcalloc(1, sizeof(*s));

	s->fc = *fc;
	s->state_dir = xstrdup(state_dir);
	s->jdir = statedir_journal(state_dir);
	s->r = fleet_redis_new(fc, "shipper");
	s->buf = xmalloc(FLEET_READ_MAX);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->started = s->caught_up = clock_now();
	return s;
}

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define ADD(x, v)	__atomic_add_fetch(&(x), (v), __ATOMIC_RELAXED)

void
ship_stats(struct ship *s, struct ship_stats *st)
{
	struct fleet_redis_stats	rs;

	memset(st, 0, sizeof(*st));
	if (s == NULL)
		return;
	fleet_redis_stats(s->r, &rs);
	st->records = LOAD(s->records);
	st->batches = LOAD(s->batches);
	st->bad = LOAD(s->bad);
	st->refused = LOAD(s->refused);
	st->script_errors = LOAD(s->script_errors);
	st->lag_bytes = LOAD(s->lag_bytes);
	st->lag_seconds = LOAD(s->lag_seconds);
	st->redis_errors = rs.errors;
	st->up = rs.up;
}

/* script_error - an error answer (or a malformed one): logged once
 * until a batch ships again */
static void
script_error(struct ship *s, const char *what, const redisReply *rep)
{
	ADD(s->script_errors, 1);
	if (s->err_logged++)
		return;
	log_err("fleet shipper: %s: %s (shipping stops until it succeeds; "
	    "retrying)", what, rep && rep->type == REDIS_REPLY_ERROR ?
	    rep->str : "unexpected answer");
}

/* sync - on a new connection: Redis's positions; -1 if Redis is away */
static int
sync_pos(struct ship *s)
{
	redisReply	*rep;
	char		 key[SHIP_KEY_MAX];
	size_t		 i;

	if (s->synced && fleet_redis_generation(s->r) == s->gen)
		return 0;
	if (fleet_key(&s->fc, key, sizeof(key), "pos:%s", s->fc.node) == NULL)
		return -1;
	if ((rep = fleet_redis_cmd(s->r, s->budget, "HGETALL %s", key)) == NULL)
		return -1;
	if (rep->type != REDIS_REPLY_ARRAY) {
		script_error(s, "HGETALL pos", rep);
		fleet_reply_free(rep);
		return -1;
	}
	free(s->rpos);
	s->rpos = xcalloc(rep->elements / 2 + 1, sizeof(*s->rpos));
	s->nrpos = 0;
	for (i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *f = rep->element[i], *v = rep->element[i + 1];

		if (f->type != REDIS_REPLY_STRING || f->len != 10 ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		memcpy(s->rpos[s->nrpos].day, f->str, 11);
		s->rpos[s->nrpos++].off = atoll(v->str);
	}
	fleet_reply_free(rep);
	s->ndays = 0;			/* scan_days() starts them again */
	s->wday[0] = '\0';
	set_clear(&s->known);
	s->closed[0] = '\0';
	s->gen = fleet_redis_generation(s->r);
	s->synced = 1;
	s->next_beat = 0;
	log_debug(LOG_LEVEL_EVENTS, "fleet shipper: %zu day position%s in "
	    "Redis", s->nrpos, s->nrpos == 1 ? "" : "s");
	return 0;
}

static long long
rpos_of(const struct ship *s, const char *day)
{
	size_t	i;

	for (i = 0; i < s->nrpos; i++)
		if (strcmp(s->rpos[i].day, day) == 0)
			return s->rpos[i].off;
	return 0;
}

static int
day_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fleet_ship_day *)a)->day,
	    ((const struct fleet_ship_day *)b)->day);
}

/* scan_days - the day files within retention, their sizes, sorted */
static void
scan_days(struct ship *s)
{
	struct fleet_ship_day	*nd = NULL;
	size_t			 n = 0, cap = 0, i;
	struct dirent		*de;
	struct stat		 st;
	char			 day[11], cutoff[11];
	DIR			*dir;
	int			 dfd;

	timefmt_day(clock_now() - (time_t)s->fc.retention_days * 86400, cutoff);
	if ((dir = opendir(s->jdir)) == NULL)
		return;
	dfd = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		if (!fleet_ship_day_name(de->d_name, day) ||
		    strcmp(day, cutoff) < 0 ||
		    fstatat(dfd, de->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nd = xreallocarray(nd, cap, sizeof(*nd));
		}
		memset(&nd[n], 0, sizeof(nd[n]));
		memcpy(nd[n].day, day, sizeof(day));
		nd[n].size = (long long)st.st_size;
		nd[n].off = rpos_of(s, day);
		for (i = 0; i < s->ndays; i++)	/* what we know already */
			if (strcmp(s->days[i].day, day) == 0) {
				nd[n].off = s->days[i].off;
				nd[n].torn = s->days[i].torn &&
				    s->days[i].size == nd[n].size;
				break;
			}
		n++;
	}
	closedir(dir);
	qsort(nd, n, sizeof(*nd), day_cmp);
	free(s->days);
	s->days = nd;
	s->ndays = n;
	s->cap = cap;
}

/* call - the script for the batch of day d, with the texts picked
 * (s->pick, s->texts).  Returns the answer (NULL: Redis away). */
static redisReply *
call(struct ship *s, const struct fleet_ship_day *d)
{
	const struct fleet_batch *b = &s->b;
	char		 expect[24], newoff[24], expat[24], now[24], last[24];
	char		 nt[8];
	int		 nk = 0, na = 0;
	size_t		 i;

#define KEY(...)	(fleet_key(&s->fc, s->keys[nk], SHIP_KEY_MAX, __VA_ARGS__), \
			 s->argv[nk] = s->keys[nk], s->lens[nk] = strlen(s->keys[nk]), nk++)
	KEY("pos:%s", s->fc.node);
	KEY("j:%s:%s", d->day, s->fc.node);
	KEY("node:%s", s->fc.node);
	KEY("day:%s:nodes", d->day);
	KEY("late:%s", d->day);
	KEY("rpt:%s:done", d->day);
	for (i = 0; i < s->npick; i++)
		KEY("ptext:%s", b->hash[s->pick[i]]);
#undef KEY
	snprintf(expect, sizeof(expect), "%lld", d->off);
	snprintf(newoff, sizeof(newoff), "%lld", d->off + (long long)b->used);
	snprintf(expat, sizeof(expat), "%lld", (long long)s->exp);
	snprintf(now, sizeof(now), "%lld", (long long)clock_now());
	snprintf(last, sizeof(last), "%lld", (long long)b->last_time);
	snprintf(nt, sizeof(nt), "%zu", s->npick);
	{
		const char *fixed[] = { d->day, expect, newoff, s->fc.node,
		    expat, now, last, nt };

		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			s->argv[nk + na] = fixed[i];
			s->lens[nk + na++] = strlen(fixed[i]);
		}
		for (i = 0; i < s->npick; i++) {
			s->argv[nk + na] = s->texts[i] ? s->texts[i] : "";
			s->lens[nk + na++] = s->texts[i] ? strlen(s->texts[i]) : 0;
		}
		for (i = 0; i < b->n; i++) {
			s->argv[nk + na] = b->line[i];
			s->lens[nk + na++] = b->len[i];
		}
		return fleet_redis_eval(s->r, FLEET_SHIP_SCRIPT, s->budget, nk,
		    nk + na, s->argv, s->lens);
	}
}

/* pick_texts - the batch's policy texts Redis may lack or keep too
 * short a time, read from the archive */
static void
pick_texts(struct ship *s)
{
	size_t	i, len;

	s->npick = 0;
	for (i = 0; i < s->b.nhash; i++) {
		if (set_exp(&s->known, s->b.hash[i]) >= s->exp)
			continue;
		s->texts[s->npick] = policy_archive_text(s->state_dir,
		    s->b.hash[i], &len);
		if (s->texts[s->npick] == NULL)
			log_warnx("fleet shipper: policy text %s is not in the "
			    "archive: records naming it are shipped without "
			    "it", s->b.hash[i]);
		s->pick[s->npick++] = i;
	}
}

static void
free_texts(struct ship *s)
{
	size_t	i;

	for (i = 0; i < s->npick; i++) {
		free(s->texts[i]);
		s->texts[i] = NULL;
	}
}

/* fill - read day d from its position into the window; bytes or -1 */
static ssize_t
fill(struct ship *s, struct fleet_ship_day *d)
{
	struct stat	 st;
	char		*path;
	ssize_t		 n;
	int		 fd;

	s->wday[0] = '\0';
	path = statedir_journal_day(s->state_dir, d->day);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;		/* removed: the next scan drops it */
	if (fstat(fd, &st) == 0)
		d->size = (long long)st.st_size;	/* it grows meanwhile */
	n = d->off < d->size ? pread(fd, s->buf, FLEET_READ_MAX,
	    (off_t)d->off) : 0;
	close(fd);
	if (d->off > d->size && !s->ahead_logged++)
		log_err("fleet shipper: Redis has journal day %s shipped to "
		    "byte %lld but the file has %lld: was it replaced?  Not "
		    "shipping it", d->day, d->off, d->size);
	if (n <= 0)
		return -1;
	memcpy(s->wday, d->day, sizeof(s->wday));
	s->woff = d->off;
	s->wlen = (size_t)n;
	s->wpos = 0;
	return n;
}

/*
 * next_batch - cut the next batch of day d into s->b, from the window
 * when it holds the position and at least half a read, else from a new
 * read: 1, or 0 when nothing whole is there yet
 */
static int
next_batch(struct ship *s, struct fleet_ship_day *d)
{
	int	fresh = 0;

	if (strcmp(s->wday, d->day) != 0 ||
	    s->woff + (long long)s->wpos != d->off ||
	    s->wlen - s->wpos < FLEET_READ_MAX / 2) {
		if (fill(s, d) < 0)
			return 0;
		fresh = 1;
	}
	for (;;) {
		fleet_batch_cut(&s->b, s->buf + s->wpos, s->wlen - s->wpos,
		    s->wpos == 0 && s->wlen == FLEET_READ_MAX);
		if (s->b.used > 0)
			return 1;
		if (fresh) {
			d->torn = 1;	/* nothing whole until it grows */
			return 0;
		}
		if (fill(s, d) < 0)	/* the window's end: read on */
			return 0;
		fresh = 1;
	}
}

/*
 * ship_day - one batch of day d from its position: 1 progress (shipped,
 * or the position corrected), 0 nothing to ship now, -1 Redis away or
 * failing
 */
static int
ship_day(struct ship *s, struct fleet_ship_day *d)
{
	redisReply	*rep;
	long long	 code, off;
	int		 rc = -1;

	if (next_batch(s, d) <= 0)
		return 0;
	s->exp = fleet_ship_expire_at(d->day, s->fc.retention_days);
	pick_texts(s);
	rep = call(s, d);
	free_texts(s);
	if (rep == NULL)
		return -1;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    rep->element[1]->type != REDIS_REPLY_STRING) {
		script_error(s, "the ship script", rep);
		fleet_reply_free(rep);
		return -1;
	}
	code = rep->element[0]->integer;
	off = atoll(rep->element[1]->str);
	if (code == FLEET_SHIP_DONE) {
		size_t	i;

		d->off = off;
		s->wpos += s->b.used;
		for (i = 0; i < s->npick; i++)
			set_put(&s->known, s->b.hash[s->pick[i]], s->exp);
		ADD(s->records, s->b.n);
		ADD(s->batches, 1);
		ADD(s->bad, s->b.bad);
		s->err_logged = 0;
		rc = 1;
	} else if (code == FLEET_SHIP_REFUSED) {
		log_info("fleet shipper: Redis has journal day %s shipped to "
		    "byte %lld, not %lld: going on from there", d->day, off,
		    d->off);
		ADD(s->refused, 1);
		d->off = off;
		s->wday[0] = '\0';
		set_clear(&s->known);	/* Redis is not what we thought */
		d->torn = 0;
		rc = 1;
	} else
		script_error(s, "the ship script", rep);
	fleet_reply_free(rep);
	return rc;
}

/* declare_closed - the closed-day watermark, when it moves */
static void
declare_closed(struct ship *s)
{
	redisReply	*rep;
	char		 day[11], key[SHIP_KEY_MAX];
	const char	*argv[2];

	if (!fleet_ship_closed(clock_now(), s->fc.close_delay, s->days,
	    s->ndays, day) || strcmp(day, s->closed) <= 0)
		return;
	if (fleet_key(&s->fc, key, sizeof(key), "closed:%s", s->fc.node) ==
	    NULL)
		return;
	argv[0] = key;
	argv[1] = day;
	rep = fleet_redis_eval(s->r, FLEET_CLOSE_SCRIPT, s->budget, 1, 2, argv,
	    NULL);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER) {
		if (rep->integer == 1)
			log_info("fleet shipper: journal day %s closed", day);
		memcpy(s->closed, day, sizeof(day));
	} else if (rep != NULL)
		script_error(s, "the close script", rep);
	fleet_reply_free(rep);
}

/* beat - the node's heartbeat and lag, every SHIP_BEAT_S */
static void
beat(struct ship *s)
{
	char			 nodes[SHIP_KEY_MAX], node[SHIP_KEY_MAX];
	char			 now[24], started[24], pid[24], lb[24], ls[24];
	const char		*sadd[] = { "SADD", nodes, s->fc.node };
	const char		*hset[] = { "HSET", node, "seen", now,
				    "started", started, "version",
				    version_string(), "pid", pid, "lag_bytes",
				    lb, "lag_s", ls };
	struct fleet_cmd	 cmds[2] = { { 3, sadd, NULL },
				    { (int)(sizeof(hset) / sizeof(hset[0])),
				    hset, NULL } };
	redisReply		*rep[2];

	if (clock_mono_ms() < s->next_beat)
		return;
	s->next_beat = clock_mono_ms() + SHIP_BEAT_S * 1000;
	if (fleet_key(&s->fc, nodes, sizeof(nodes), "nodes") == NULL ||
	    fleet_key(&s->fc, node, sizeof(node), "node:%s", s->fc.node) ==
	    NULL)
		return;
	snprintf(now, sizeof(now), "%lld", (long long)clock_now());
	snprintf(started, sizeof(started), "%lld", (long long)s->started);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(lb, sizeof(lb), "%lld", LOAD(s->lag_bytes));
	snprintf(ls, sizeof(ls), "%ld", LOAD(s->lag_seconds));
	if (fleet_redis_pipeline(s->r, s->budget, 2, cmds, rep) == 0) {
		fleet_reply_free(rep[0]);
		fleet_reply_free(rep[1]);
	}
}

/* lag - what is not known to be in Redis yet, and since when */
static void
lag(struct ship *s)
{
	long long	bytes = 0;
	size_t		i;
	time_t		now = clock_now();

	for (i = 0; i < s->ndays; i++)
		if (!s->days[i].torn && s->days[i].size > s->days[i].off)
			bytes += s->days[i].size - s->days[i].off;
	if (bytes == 0)
		s->caught_up = now;
	STORE(s->lag_bytes, bytes);
	STORE(s->lag_seconds, (long)(now - s->caught_up));
}

/* pass - 1 if it stopped at its batch limit (more to ship), else 0 */
static int
pass(struct ship *s)
{
	size_t	i;
	int	k = 0, rc;

	if (sync_pos(s) != 0) {
		scan_days(s);		/* Redis away: the lag still grows */
		lag(s);
		return 0;
	}
	scan_days(s);
	for (i = 0; i < s->ndays; i++) {
		struct fleet_ship_day *d = &s->days[i];

		while (d->off < d->size && !d->torn) {
			if ((rc = ship_day(s, d)) < 0) {
				lag(s);
				return 0;
			}
			if (rc == 0)
				break;
			if (++k >= SHIP_PASS_BATCHES) {
				lag(s);
				return 1;
			}
		}
	}
	lag(s);
	declare_closed(s);
	beat(s);
	return 0;
}

static void *
shipper(void *arg)
{
	struct ship	*s = arg;
	int64_t		 end;

	/* background work, at nice +10 like the cache's discovery threads:
	 * the RCPT path keeps the CPUs while a backlog ships (issue 12
	 * item 7: "with the daemon's RCPT figures unchanged") */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	for (;;) {
		int	more = pass(s);

		pthread_mutex_lock(&s->mu);
		if (!more && !s->stopping) {
			struct timespec	ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += SHIP_IDLE_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		}
		if (s->stopping) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
	}
	/* what the writers appended before they stopped, if Redis is there */
	end = clock_mono_ms() + SHIP_DRAIN_MS;
	s->budget = SHIP_DRAIN_MS;
	while (clock_mono_ms() < end && pass(s) == 1)
		;
	return NULL;
}

int
ship_start(struct ship *s)
{
	if (pthread_create(&s->thread, NULL, shipper, s) != 0)
		return -1;
	s->running = 1;
	log_info("fleet: node %s shipping its journal to Redis %s (prefix "
	    "\"%s\")", s->fc.node, s->fc.endpoint, s->fc.prefix);
	return 0;
}

void
ship_stop(struct ship *s)
{
	struct ship_stats	st;

	if (s == NULL)
		return;
	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
		ship_stats(s, &st);
		log_info("fleet shipper: %lu records shipped in %lu batches, "
		    "%lld bytes not shipped yet, %lu Redis errors",
		    st.records, st.batches, st.lag_bytes, st.redis_errors);
	}
	fleet_redis_free(s->r);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->rpos);
	free(s->days);
	free(s->buf);
	set_clear(&s->known);
	free(s->state_dir);
	free(s->jdir);
	free(s);
}
