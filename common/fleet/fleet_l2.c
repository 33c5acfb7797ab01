/*
 * fleet_l2.c - the fleet's shared policy and verdict cache on Redis
 * (see fleet_l2.h; the values and decisions are fleet_cache.c's)
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fleet_cache.h"
#include "fleet_l2.h"
#include "fleet_redis.h"
#include "hash.h"
#include "log.h"
#include "statedir.h"
#include "sts_store.h"
#include "xmalloc.h"

#define QBUCKETS	4096
#define IDLE_MS		1000	/* the writer looks at Redis this often */
#define RETRY_MS	200	/* after a failed write */

/* read the entry, take the lock if it is free: one round trip */
static const char POLL_LUA[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "local t = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])\n"
    "return {v, t and 1 or 0}\n";

/*
 * write a state unless Redis has one checked later, or it is "no policy"
 * and Redis has a policy (STS-TXT-5); always with its expiry (PXAT,
 * STS-CACHE-1); then release the lock if this node still holds it.
 * KEYS: entry, lock.  ARGV: value ("" none), expiry ms, checked, token
 * ("" none), kind ("p" policy, "n" no policy).
 */
static const char PUT_LUA[] =
    "local w = 0\n"
    "if ARGV[1] ~= '' then\n"
    "  local old = redis.call('GET', KEYS[1])\n"
    "  local keep = false\n"
    "  if old then\n"
    "    local oc = tonumber(string.match(old, '\\nchecked (%d+)\\n') or '-1')\n"
    "    if oc > tonumber(ARGV[3]) then keep = true end\n"
    "    if ARGV[5] == 'n' and string.sub(old, 1, 17) == 'sts-milter-cache '"
    " then keep = true end\n"
    "  end\n"
    "  if not keep then\n"
    "    redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])\n"
    "    w = 1\n"
    "  end\n"
    "end\n"
    "if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) == ARGV[4] then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "end\n"
    "return w\n";

/* a write waiting for the writer: one a key, the latest wins */
struct job {
	struct job	*j_prev, *j_next;	/* the FIFO */
	struct job	*j_hnext;		/* its hash chain */
	uint32_t	 j_hash;
	char		*j_key;
	char		*j_lock;	/* policy: the lock key */
	int		 j_unlock;	/* release the lock (ours) */
	char		 j_kind;	/* 'p', 'n', 'v' verdict, 0 unlock only */
	char		*j_val;
	size_t		 j_len;
	long long	 j_exp;		/* PXAT: unix time in ms */
	long long	 j_stamp;	/* checked */
};

struct fleet_l2 {
	struct fleet_conf	 fc;
	struct fleet_pol_opts	 po;
	char			 token[FLEET_NODE_MAX + 32];
	struct sts_cache_l2	 hooks;
	char			*cache_dir;	/* the local cache's files */

	struct fleet_redis	*r_pol, *r_ver, *r_wr;
	pthread_mutex_t		 pol_mu, ver_mu;	/* claimed in budget */

	pthread_mutex_t		 q_mu;
	pthread_cond_t		 q_cv;		/* work, or the queue moved */
	struct job		*q_head, *q_tail;
	struct job		*q_tab[QBUCKETS];
	size_t			 q_n;
	int			 q_busy;	/* the writer holds a job */
	int			 q_stop;
	int			 started;	/* the writer runs */
	pthread_t		 writer;
	unsigned long		 gen_seen;

	atomic_int		 err_logged;	/* redis_error() */
	atomic_ulong		 s_fresh, s_base, s_none, s_owned, s_waited,
				 s_alone, s_vhit, s_vmiss, s_unavail,
				 s_written, s_dropped, s_resynced;
};

#define COUNT(l2, f)	atomic_fetch_add_explicit(&(l2)->f, 1, \
			    memory_order_relaxed)

/* redis_error - an error answer (a Redis older than 6.2 refuses PXAT,
 * a script fails): logged the first time, then counted as unavailable */
static void
redis_error(struct fleet_l2 *l2, const char *who, const char *err)
{
	if (!atomic_exchange(&l2->err_logged, 1))
		log_warnx("%s: Redis answered an error: %s (logged once; "
		    "counted as unavailable)", who, err);
}

/* --- connections claimed within the budget ---------------------------- */

/* in_ms - CLOCK_REALTIME ms from now (pthread's timed waits) */
static struct timespec
in_ms(int ms)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* claim - mu within budget_ms; the ms left, or -1 (busy: skip Redis) */
static int
claim(pthread_mutex_t *mu, int budget_ms)
{
	struct timespec	ts;
	int64_t		start = clock_mono_ms(), left;

	if (pthread_mutex_trylock(mu) != 0) {
		ts = in_ms(budget_ms);
		if (pthread_mutex_timedlock(mu, &ts) != 0)
			return -1;
	}
	left = budget_ms - (clock_mono_ms() - start);
	return left > 0 ? (int)left : 1;
}

/* pol_call - GET or the poll script on the policy connection */
static redisReply *
pol_call(struct fleet_l2 *l2, const char *key, const char *lock)
{
	char		 px[24];
	const char	*argv[4] = { key, lock, l2->token, px };
	redisReply	*rep;
	int		 left;

	if ((left = claim(&l2->pol_mu, l2->fc.budget_ms)) < 0) {
		COUNT(l2, s_unavail);
		return NULL;
	}
	snprintf(px, sizeof(px), "%d", l2->fc.lock_ms);
	rep = lock == NULL ? fleet_redis_cmd(l2->r_pol, left, "GET %s", key) :
	    fleet_redis_eval(l2->r_pol, POLL_LUA, left, 2, 4, argv, NULL);
	pthread_mutex_unlock(&l2->pol_mu);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		redis_error(l2, "fleet cache", rep->str);
		fleet_reply_free(rep);
		rep = NULL;
	}
	if (rep == NULL)
		COUNT(l2, s_unavail);
	return rep;
}

/* --- policies: sts_cache_l2 ------------------------------------------ */

/* decide - what the node does with a value (a bulk or nil reply) */
static enum sts_l2_use
decide(struct fleet_l2 *l2, const redisReply *v, time_t local,
    struct sts_state *out)
{
	enum sts_l2_use	use;

	memset(out, 0, sizeof(*out));
	if (v == NULL || v->type != REDIS_REPLY_STRING ||
	    v->len > STS_STORE_FILE_MAX ||	/* no node wrote that */
	    fleet_pol_parse(v->str, v->len, out) != 0)
		return STS_L2_NONE;
	if ((use = fleet_pol_use(out, local, clock_now(), &l2->po)) ==
	    STS_L2_NONE)
		sts_state_clear(out);
	return use;
}

static enum sts_l2_use
counted(struct fleet_l2 *l2, enum sts_l2_use use)
{
	if (use == STS_L2_FRESH)
		COUNT(l2, s_fresh);
	else if (use == STS_L2_BASE)
		COUNT(l2, s_base);
	else
		COUNT(l2, s_none);
	return use;
}

static void enqueue(struct fleet_l2 *, struct job *);
static void q_wait(struct fleet_l2 *, int);

/* unlock_later - the writer releases the lock (if still ours) */
static void
unlock_later(struct fleet_l2 *l2, const char *key, const char *lock)
{
	struct job	*j = xcalloc(1, sizeof(*j));

	j->j_key = xstrdup(key);
	j->j_lock = xstrdup(lock);
	j->j_unlock = 1;
	enqueue(l2, j);
}

static enum sts_l2_use
pol_get(void *arg, const char *domain, time_t local, struct sts_state *out)
{
	struct fleet_l2	*l2 = arg;
	struct buf	 key = BUF_INIT, lock = BUF_INIT;
	redisReply	*rep;
	enum sts_l2_use	 use = STS_L2_NONE;
	int64_t		 start = clock_mono_ms();
	int		 attempt, took;

	memset(out, 0, sizeof(*out));
	fleet_cache_key(&key, l2->fc.prefix, FLEET_KEY_POL, domain);
	fleet_cache_key(&lock, l2->fc.prefix, FLEET_KEY_LOCK, domain);
	if ((rep = pol_call(l2, buf_str(&key), NULL)) == NULL)
		goto out;
	use = decide(l2, rep, local, out);
	fleet_reply_free(rep);
	for (attempt = 0; use != STS_L2_FRESH; attempt++) {
		if ((rep = pol_call(l2, buf_str(&key), buf_str(&lock))) ==
		    NULL)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			fleet_reply_free(rep);
			break;
		}
		sts_state_clear(out);
		use = decide(l2, rep->element[0], local, out);
		took = rep->element[1]->integer == 1;
		switch (fleet_lock_next(use, took, clock_mono_ms() - start,
		    l2->fc.lock_ms)) {
		case FLEET_LOCK_OWN:
			COUNT(l2, s_owned);
			fleet_reply_free(rep);
			goto out;
		case FLEET_LOCK_ADOPT:
			COUNT(l2, s_waited);
			fleet_reply_free(rep);
			if (took)	/* the holder was done: not ours */
				unlock_later(l2, buf_str(&key), buf_str(&lock));
			goto out;
		case FLEET_LOCK_ALONE:
			COUNT(l2, s_alone);
			fleet_reply_free(rep);
			goto out;
		case FLEET_LOCK_WAIT:
			break;
		}
		fleet_reply_free(rep);
		usleep((useconds_t)fleet_lock_delay_ms(attempt) * 1000);
	}
out:
	buf_free(&key);
	buf_free(&lock);
	return counted(l2, use);
}

static void
pol_put(void *arg, const char *domain, const struct sts_state *st)
{
	struct fleet_l2	*l2 = arg;
	struct job	*j = xcalloc(1, sizeof(*j));
	struct buf	 key = BUF_INIT, lock = BUF_INIT, val = BUF_INIT;
	time_t		 exp;

	fleet_cache_key(&key, l2->fc.prefix, FLEET_KEY_POL, domain);
	fleet_cache_key(&lock, l2->fc.prefix, FLEET_KEY_LOCK, domain);
	j->j_key = buf_release(&key);
	j->j_lock = buf_release(&lock);
	j->j_unlock = 1;
	if (fleet_pol_format(st, clock_now(), &val, &exp) == 0 &&
	    !val.b_trunc) {
		j->j_kind = st->st_policy != NULL ? 'p' : 'n';
		j->j_len = val.b_len;
		j->j_val = buf_release(&val);
		j->j_exp = (long long)exp * 1000;
		j->j_stamp = (long long)st->st_checked;
	}
	buf_free(&val);
	enqueue(l2, j);
}

/* forget_queued - queued writes of domain's state (NULL: every policy)
 * become lock releases only, and the writer is idle; q_mu held */
static void
forget_queued(struct fleet_l2 *l2, const char *key)
{
	struct job	*j;
	size_t		 n = strlen(key);

	for (j = l2->q_head; j != NULL; j = j->j_next)
		if (j->j_kind != 'v' && strncmp(j->j_key, key, n) == 0 &&
		    (key[n - 1] == ':' || j->j_key[n] == '\0')) {
			free(j->j_val);
			j->j_val = NULL;
			j->j_kind = 0;
		}
	while (l2->q_busy)
		q_wait(l2, 20);
}

/* unlink_all - every P pol: key; 0, or -1 (Redis unavailable) */
static int
unlink_all(struct fleet_l2 *l2, const char *pattern)
{
	char		 cursor[32] = "0";
	const char	*argv[1001];
	redisReply	*rep, *del;
	size_t		 i;

	do {
		rep = fleet_redis_cmd(l2->r_wr, l2->fc.timeout_ms,
		    "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements != 2) {
			fleet_reply_free(rep);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		argv[0] = "UNLINK";
		for (i = 0; i < rep->element[1]->elements && i < 1000; i++)
			argv[i + 1] = rep->element[1]->element[i]->str;
		del = i == 0 ? NULL : fleet_redis_argv(l2->r_wr,
		    l2->fc.timeout_ms, (int)i + 1, argv, NULL);
		fleet_reply_free(rep);
		if (i > 0 && del == NULL)
			return -1;
		fleet_reply_free(del);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

/* pol_forget - sts_cache_flush(): the fleet's copy goes too, so the
 * next check of it here fetches (and shares) it anew */
static void
pol_forget(void *arg, const char *domain)
{
	struct fleet_l2	*l2 = arg;
	struct buf	 key = BUF_INIT;
	redisReply	*rep;
	int		 rc;

	fleet_cache_key(&key, l2->fc.prefix, FLEET_KEY_POL,
	    domain ? domain : "");
	pthread_mutex_lock(&l2->q_mu);
	forget_queued(l2, buf_str(&key));
	pthread_mutex_unlock(&l2->q_mu);
	if (domain != NULL) {
		rep = fleet_redis_cmd(l2->r_wr, l2->fc.timeout_ms, "UNLINK %s",
		    buf_str(&key));
		rc = rep != NULL ? 0 : -1;
		fleet_reply_free(rep);
	} else {
		buf_puts(&key, "*");
		rc = unlink_all(l2, buf_str(&key));
	}
	if (rc != 0)
		log_warnx("fleet cache: Redis unavailable: the fleet's copy of "
		    "%s stays until it expires", domain ? domain :
		    "the policies");
	buf_free(&key);
}

/* --- verdicts: tcache_l2 --------------------------------------------- */

int
fleet_l2_verdict_get(void *arg, const char *key, struct buf *text,
    time_t *ttl)
{
	struct fleet_l2	*l2 = arg;
	struct buf	 k = BUF_INIT;
	const char	*get[2], *pttl[2];
	struct fleet_cmd cmds[2] = { { 2, get, NULL }, { 2, pttl, NULL } };
	redisReply	*rep[2] = { NULL, NULL };
	int		 left, rc = -1;

	fleet_cache_key(&k, l2->fc.prefix, FLEET_KEY_MX, key);
	get[0] = "GET";
	pttl[0] = "PTTL";
	get[1] = pttl[1] = buf_str(&k);
	if ((left = claim(&l2->ver_mu, l2->fc.budget_ms)) < 0) {
		COUNT(l2, s_unavail);
		buf_free(&k);
		return -1;
	}
	if (fleet_redis_pipeline(l2->r_ver, left, 2, cmds, rep) != 0)
		COUNT(l2, s_unavail);
	else if (rep[0]->type == REDIS_REPLY_STRING && rep[0]->len <= 4096 &&
	    rep[1]->type == REDIS_REPLY_INTEGER && rep[1]->integer >= 1000) {
		buf_append(text, rep[0]->str, rep[0]->len);
		*ttl = (time_t)(rep[1]->integer / 1000);
		rc = 0;
	}
	pthread_mutex_unlock(&l2->ver_mu);
	if (rc == 0)
		COUNT(l2, s_vhit);
	else
		COUNT(l2, s_vmiss);
	fleet_reply_free(rep[0]);
	fleet_reply_free(rep[1]);
	buf_free(&k);
	return rc;
}

void
fleet_l2_verdict_put(void *arg, const char *key, const struct buf *text,
    time_t ttl)
{
	struct fleet_l2	*l2 = arg;
	struct job	*j;
	struct buf	 k = BUF_INIT;

	if (ttl <= 0 || text->b_len == 0)
		return;
	j = xcalloc(1, sizeof(*j));
	fleet_cache_key(&k, l2->fc.prefix, FLEET_KEY_MX, key);
	j->j_key = buf_release(&k);
	j->j_kind = 'v';
	j->j_val = xmalloc(text->b_len);
	memcpy(j->j_val, text->b_data, text->b_len);
	j->j_len = text->b_len;
	j->j_exp = ((long long)clock_now() + ttl) * 1000;	/* a retry
					 * after an outage keeps the end */
	enqueue(l2, j);
}

/* --- the write queue ------------------------------------------------- */

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->j_key);
	free(j->j_lock);
	free(j->j_val);
	free(j);
}

static struct job **
q_slot(struct fleet_l2 *l2, uint32_t h, const char *key)
{
	struct job	**pp;

	for (pp = &l2->q_tab[h % QBUCKETS]; *pp; pp = &(*pp)->j_hnext)
		if ((*pp)->j_hash == h && strcmp((*pp)->j_key, key) == 0)
			break;
	return pp;
}

/* q_unlink - take j out of the FIFO and its chain; q_mu held */
static void
q_unlink(struct fleet_l2 *l2, struct job *j)
{
	struct job	**pp = q_slot(l2, j->j_hash, j->j_key);

	if (*pp == j)
		*pp = j->j_hnext;
	if (j->j_prev)
		j->j_prev->j_next = j->j_next;
	else
		l2->q_head = j->j_next;
	if (j->j_next)
		j->j_next->j_prev = j->j_prev;
	else
		l2->q_tail = j->j_prev;
	j->j_prev = j->j_next = j->j_hnext = NULL;
	l2->q_n--;
}

/* q_merge - the newer job n's value replaces old's (old keeps its place
 * and a lock release either asked for) */
static void
q_merge(struct job *old, struct job *n)
{
	if (n->j_kind != 0) {
		free(old->j_val);
		old->j_val = n->j_val;
		old->j_len = n->j_len;
		old->j_kind = n->j_kind;
		old->j_exp = n->j_exp;
		old->j_stamp = n->j_stamp;
		n->j_val = NULL;
	}
	old->j_unlock |= n->j_unlock;
	job_free(n);
}

/* q_insert - j at the tail (or the front: a retry), unless the key is
 * queued already; q_mu held */
static void
q_insert(struct fleet_l2 *l2, struct job *j, int front)
{
	struct job	**pp;

	j->j_hash = hash_fnv32(j->j_key);
	pp = q_slot(l2, j->j_hash, j->j_key);
	if (*pp != NULL) {
		if (front) {	/* a failed write: the queued one is newer */
			(*pp)->j_unlock |= j->j_unlock;
			job_free(j);
		} else
			q_merge(*pp, j);
		return;
	}
	*pp = j;
	if (front) {
		j->j_next = l2->q_head;
		if (l2->q_head)
			l2->q_head->j_prev = j;
		else
			l2->q_tail = j;
		l2->q_head = j;
	} else {
		j->j_prev = l2->q_tail;
		if (l2->q_tail)
			l2->q_tail->j_next = j;
		else
			l2->q_head = j;
		l2->q_tail = j;
	}
	l2->q_n++;
	while (l2->q_n > FLEET_L2_QUEUE_MAX && l2->q_head != j) {
		struct job *old = l2->q_head;

		q_unlink(l2, old);
		job_free(old);
		COUNT(l2, s_dropped);
	}
}

static void
enqueue(struct fleet_l2 *l2, struct job *j)
{
	pthread_mutex_lock(&l2->q_mu);
	q_insert(l2, j, 0);
	pthread_cond_broadcast(&l2->q_cv);
	pthread_mutex_unlock(&l2->q_mu);
}

/* write_job - 0 written (or refused by the script: a newer state), -1
 * Redis unavailable */
static int
write_job(struct fleet_l2 *l2, const struct job *j)
{
	char		 exp[24], stamp[24];
	const char	*argv[7];
	size_t		 lens[7];
	redisReply	*rep;
	int		 rc;

	snprintf(exp, sizeof(exp), "%lld", j->j_exp);
	if (j->j_kind == 'v')
		rep = fleet_redis_cmd(l2->r_wr, l2->fc.timeout_ms,
		    "SET %s %b PXAT %s", j->j_key, j->j_val, j->j_len, exp);
	else {
		snprintf(stamp, sizeof(stamp), "%lld", j->j_stamp);
		argv[0] = j->j_key;
		argv[1] = j->j_lock;
		argv[2] = j->j_val ? j->j_val : "";
		argv[3] = exp;
		argv[4] = stamp;
		argv[5] = j->j_unlock ? l2->token : "";
		argv[6] = j->j_kind == 'n' ? "n" : "p";
		lens[0] = strlen(argv[0]);
		lens[1] = strlen(argv[1]);
		lens[2] = j->j_val ? j->j_len : 0;
		lens[3] = strlen(exp);
		lens[4] = strlen(stamp);
		lens[5] = strlen(argv[5]);
		lens[6] = 1;
		rep = fleet_redis_eval(l2->r_wr, PUT_LUA, l2->fc.timeout_ms, 2,
		    7, argv, lens);
	}
	if (rep == NULL)
		return -1;
	rc = 0;
	if (rep->type == REDIS_REPLY_ERROR) {
		redis_error(l2, "fleet cache writer", rep->str);
		COUNT(l2, s_unavail);
	} else if (j->j_kind != 0 && (rep->type == REDIS_REPLY_STATUS ||
	    (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)))
		COUNT(l2, s_written);
	fleet_reply_free(rep);
	return rc;
}

/* --- the re-sync after an outage ------------------------------------- */

struct resync {
	struct fleet_l2	*l2;
	int		 failed;
};

static void
resync_one(void *arg, const char *domain, const struct sts_store_rec *r)
{
	struct resync	*rs = arg;
	struct sts_state st;
	struct job	 j;
	struct buf	 key = BUF_INIT, lock = BUF_INIT, val = BUF_INIT;
	time_t		 exp;

	if (rs->failed || r->policy == NULL)
		return;
	memset(&st, 0, sizeof(st));	/* the file's state, policy borrowed */
	st.st_policy = r->policy;
	memcpy(st.st_id, r->id, sizeof(st.st_id));
	st.st_fetched = r->fetched;
	st.st_checked = r->checked;
	st.st_failed = r->failed;
	memcpy(st.st_fail_id, r->fail_id, sizeof(st.st_fail_id));
	st.st_fail_time = r->fail_time;
	st.st_fail_rt = r->fail_rt;
	if (fleet_pol_format(&st, clock_now(), &val, &exp) == 0) {
		memset(&j, 0, sizeof(j));
		fleet_cache_key(&key, rs->l2->fc.prefix, FLEET_KEY_POL, domain);
		fleet_cache_key(&lock, rs->l2->fc.prefix, FLEET_KEY_LOCK,
		    domain);
		j.j_key = (char *)(uintptr_t)buf_str(&key);
		j.j_lock = (char *)(uintptr_t)buf_str(&lock);
		j.j_kind = 'p';
		j.j_val = val.b_data;
		j.j_len = val.b_len;
		j.j_exp = (long long)exp * 1000;
		j.j_stamp = (long long)st.st_checked;
		if (write_job(rs->l2, &j) != 0)
			rs->failed = 1;
		else
			COUNT(rs->l2, s_resynced);
	}
	buf_free(&key);
	buf_free(&lock);
	buf_free(&val);
}

/* maybe_resync - a new connection (a restart, the end of an outage, the
 * first connect): offer the local cache's policies; writer thread */
static void
maybe_resync(struct fleet_l2 *l2)
{
	unsigned long	gen = fleet_redis_generation(l2->r_wr);
	struct resync	rs = { l2, 0 };

	if (gen == l2->gen_seen || l2->cache_dir == NULL)
		return;
	(void)sts_store_foreach(l2->cache_dir, resync_one, &rs);
	if (!rs.failed)		/* else again at the next connection */
		l2->gen_seen = gen;
}

/* --- the writer thread ----------------------------------------------- */

/* keepalive - PING a reader's connection (within the budget, as a read)
 * so that a Redis that went away or came back is noticed here, not by
 * the next RCPT */
static void
keepalive(struct fleet_l2 *l2, struct fleet_redis *r, pthread_mutex_t *mu)
{
	int	left;

	if ((left = claim(mu, l2->fc.budget_ms)) < 0)
		return;
	fleet_reply_free(fleet_redis_cmd(r, left, "PING"));
	pthread_mutex_unlock(mu);
}

/* q_wait - until there is work, stop, or ms passed; q_mu held */
static void
q_wait(struct fleet_l2 *l2, int ms)
{
	struct timespec	ts = in_ms(ms);

	(void)pthread_cond_timedwait(&l2->q_cv, &l2->q_mu, &ts);
}

static void *
writer_run(void *arg)
{
	struct fleet_l2	*l2 = arg;
	struct job	*j;
	redisReply	*rep;

	pthread_mutex_lock(&l2->q_mu);
	for (;;) {
		if (l2->q_head == NULL) {
			if (l2->q_stop)
				break;
			pthread_mutex_unlock(&l2->q_mu);
			/* an idle writer notices a restarted Redis */
			rep = fleet_redis_cmd(l2->r_wr, l2->fc.timeout_ms,
			    "PING");
			fleet_reply_free(rep);
			if (rep != NULL)
				maybe_resync(l2);
			keepalive(l2, l2->r_pol, &l2->pol_mu);
			keepalive(l2, l2->r_ver, &l2->ver_mu);
			pthread_mutex_lock(&l2->q_mu);
			if (l2->q_head == NULL && !l2->q_stop)
				q_wait(l2, IDLE_MS);
			continue;
		}
		j = l2->q_head;
		q_unlink(l2, j);
		l2->q_busy = 1;
		pthread_mutex_unlock(&l2->q_mu);
		if (write_job(l2, j) == 0) {
			job_free(j);
			maybe_resync(l2);
			pthread_mutex_lock(&l2->q_mu);
			l2->q_busy = 0;
			pthread_cond_broadcast(&l2->q_cv);
			continue;
		}
		pthread_mutex_lock(&l2->q_mu);	/* Redis away: keep it */
		l2->q_busy = 0;
		if (l2->q_stop) {
			job_free(j);
			break;
		}
		q_insert(l2, j, 1);
		pthread_cond_broadcast(&l2->q_cv);
		q_wait(l2, RETRY_MS);
	}
	l2->q_busy = 0;
	pthread_cond_broadcast(&l2->q_cv);
	pthread_mutex_unlock(&l2->q_mu);
	return NULL;
}

/* --- the rest --------------------------------------------------------- */

struct fleet_l2 *
fleet_l2_new(const struct fleet_conf *fc, const struct conf *c)
{
	struct fleet_l2	*l2 = xcalloc(1, sizeof(*l2));

	l2->fc = *fc;
	l2->po.txt_check_interval = c->txt_check_interval;
	l2->po.refresh_interval = c->refresh_interval;
	snprintf(l2->token, sizeof(l2->token), "%s:%ld", fc->node,
	    (long)getpid());
	if (c->state_dir != NULL && c->state_dir[0] != '\0')
		l2->cache_dir = statedir_cache(c->state_dir);
	l2->hooks.get = pol_get;
	l2->hooks.put = pol_put;
	l2->hooks.forget = pol_forget;
	l2->hooks.arg = l2;
	l2->r_pol = fleet_redis_new(fc, "cache");
	l2->r_ver = fleet_redis_new(fc, "verdicts");
	l2->r_wr = fleet_redis_new(fc, "cache writer");
	pthread_mutex_init(&l2->pol_mu, NULL);
	pthread_mutex_init(&l2->ver_mu, NULL);
	pthread_mutex_init(&l2->q_mu, NULL);
	pthread_cond_init(&l2->q_cv, NULL);
	if (pthread_create(&l2->writer, NULL, writer_run, l2) != 0) {
		log_err("fleet cache: cannot start its writer thread");
		fleet_l2_free(l2);
		return NULL;
	}
	l2->started = 1;
	return l2;
}

int
fleet_l2_flush(struct fleet_l2 *l2, int timeout_ms)
{
	int64_t	end = clock_mono_ms() + timeout_ms;
	int	rc;

	pthread_mutex_lock(&l2->q_mu);
	while ((l2->q_head != NULL || l2->q_busy) && clock_mono_ms() < end)
		q_wait(l2, 20);
	rc = l2->q_head != NULL || l2->q_busy ? -1 : 0;
	pthread_mutex_unlock(&l2->q_mu);
	return rc;
}

void
fleet_l2_free(struct fleet_l2 *l2)
{
	struct fleet_redis_stats rs;
	struct job		*j;

	if (l2 == NULL)
		return;
	if (l2->started) {
		fleet_redis_stats(l2->r_wr, &rs);
		if (rs.up)	/* else a stop would wait for nothing */
			(void)fleet_l2_flush(l2, l2->fc.timeout_ms);
		pthread_mutex_lock(&l2->q_mu);
		l2->q_stop = 1;
		pthread_cond_broadcast(&l2->q_cv);
		pthread_mutex_unlock(&l2->q_mu);
		pthread_join(l2->writer, NULL);
	}
	while ((j = l2->q_head) != NULL) {
		q_unlink(l2, j);
		job_free(j);
	}
	fleet_redis_free(l2->r_pol);
	fleet_redis_free(l2->r_ver);
	fleet_redis_free(l2->r_wr);
	pthread_mutex_destroy(&l2->pol_mu);
	pthread_mutex_destroy(&l2->ver_mu);
	pthread_mutex_destroy(&l2->q_mu);
	pthread_cond_destroy(&l2->q_cv);
	free(l2->cache_dir);
	free(l2);
}

const struct sts_cache_l2 *
fleet_l2_policies(struct fleet_l2 *l2)
{
	return &l2->hooks;
}

void
fleet_l2_stats(struct fleet_l2 *l2, struct fleet_l2_stats *s)
{
#define LOAD(f)	atomic_load_explicit(&l2->f, memory_order_relaxed)
	s->pol_fresh = LOAD(s_fresh);
	s->pol_base = LOAD(s_base);
	s->pol_none = LOAD(s_none);
	s->lock_owned = LOAD(s_owned);
	s->lock_waited = LOAD(s_waited);
	s->lock_alone = LOAD(s_alone);
	s->verdict_hits = LOAD(s_vhit);
	s->verdict_misses = LOAD(s_vmiss);
	s->unavailable = LOAD(s_unavail);
	s->written = LOAD(s_written);
	s->dropped = LOAD(s_dropped);
	s->resynced = LOAD(s_resynced);
#undef LOAD
	pthread_mutex_lock(&l2->q_mu);
	s->queued = l2->q_n;
	pthread_mutex_unlock(&l2->q_mu);
}
