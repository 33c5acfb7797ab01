/*
 * sts_cache.c - the MTA-STS policy cache
 *
 * Layout: NSHARD shards, each a mutex, a condition variable and a
 * chained hash table that doubles when full.  An entry is one domain:
 * its policy (or none), the TXT id and times, the negative-answer
 * deadline and the last failed fetch.  e_busy marks an entry whose
 * discovery is running without the lock; other threads wait on the
 * shard condition (or use the valid cached policy).
 *
 * The network part (discover) works on a snapshot taken under the lock
 * and its outcome is applied under the lock, so a reader never sees a
 * half-updated entry and no lock is held across I/O.
 *
 * On-disk format of <state_dir>/cache/<domain> (one file a domain):
 *	sts-milter-cache 1\n
 *	id <id>\n
 *	fetched <unix time>\n
 *	checked <unix time>\n
 *	length <n>\n
 *	\n
 *	<n bytes of policy body as received>
 * written to a temporary name, fsync'ed and renamed into place.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "domain.h"
#include "fsutil.h"
#include "statedir.h"
#include "sts_cache.h"
#include "xmalloc.h"

#define NSHARD		64
#define CACHE_FILE_MAX	(STS_BODY_MAX * 16 + 4096)

struct entry {
	struct entry		*e_next;
	uint32_t		 e_hash;
	char			*e_domain;
	struct sts_policy	*e_policy;
	char			 e_id[STS_ID_MAX + 1];
	char			 e_txt_id[STS_ID_MAX + 1];
	time_t			 e_fetched;
	time_t			 e_checked;
	time_t			 e_neg_until;
	enum status		 e_neg_status;
	char			*e_reason;	/* why negative / last failure */
	char			 e_fail_id[STS_ID_MAX + 1];
	time_t			 e_fail_time;
	enum tlsrpt_result	 e_fail_rt;
	int			 e_failed;	/* last fetch attempt failed */
	int			 e_busy;
	int			 e_queued;
};

struct shard {
	pthread_mutex_t		  s_mu;
	pthread_cond_t		  s_cv;
	struct entry		**s_tab;
	size_t			  s_nbuckets;
	size_t			  s_count;
	size_t			  s_evict;	/* rotating eviction cursor */
	/* Bumped (under s_mu) whenever an entry's answer may change;
	 * read without the lock by sts_cache_stamp_valid(). */
	atomic_uint		  s_gen;
};

struct queue_item {
	struct queue_item	*q_next;
	char			*q_domain;
};

struct sts_cache {
	struct sts_cache_opts	 c_o;
	char			*c_dir;		/* <state_dir>/cache or NULL */
	struct shard		 c_shard[NSHARD];
	pthread_mutex_t		 c_qmu;
	pthread_cond_t		 c_qcv;
	struct queue_item	*c_qhead, *c_qtail;
	int			 c_stop;
	int			 c_nthreads;
	void			(*c_fail_fn)(void *, const char *,
				    const struct sts_lookup *);
	void			*c_fail_arg;
	pthread_t		*c_threads;
};

/* what discover() learned, applied under the lock by apply() */
struct outcome {
	enum status		 o_txt_st;
	char			 o_txt_id[STS_ID_MAX + 1];
	int			 o_fetched;	/* a fetch was attempted */
	struct sts_policy	*o_policy;	/* fetched policy, or NULL */
	enum tlsrpt_result	 o_rt;
	struct buf		 o_why;
};

static uint32_t
hash_domain(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static void
entry_free(struct entry *e)
{
	sts_policy_free(e->e_policy);
	free(e->e_domain);
	free(e->e_reason);
	free(e);
}

static void
set_reason(struct entry *e, const char *why)
{
	free(e->e_reason);
	e->e_reason = xstrdup(why);
}

static time_t
policy_expires(const struct entry *e)
{
	return e->e_fetched + (time_t)e->e_policy->p_max_age;
}

/* refresh_due - STS-CACHE-3: refresh daily, or at half of a short max_age */
static int
refresh_due(const struct sts_cache *c, const struct entry *e, time_t now)
{
	long long	iv = c->c_o.refresh_interval;

	if (e->e_policy->p_max_age / 2 < iv)
		iv = e->e_policy->p_max_age / 2;
	return now - e->e_fetched >= iv;
}

/* --- persistence ------------------------------------------------------ */

static char *
cache_path(const struct sts_cache *c, const char *domain)
{
	return xasprintf("%s/%s", c->c_dir, domain);
}

/* persist - replace the domain's file (FS_SYNC_DATA: after a crash the
 * old entry or the new one, refetched when lost) */
static void
persist(struct sts_cache *c, const struct entry *e)
{
	struct buf	 b = BUF_INIT;
	char		*path;

	if (c->c_dir == NULL || e->e_policy == NULL)
		return;
	path = cache_path(c, e->e_domain);
	buf_printf(&b, "sts-milter-cache 1\nid %s\nfetched %lld\nchecked %lld\n",
	    e->e_id, (long long)e->e_fetched, (long long)e->e_checked);
	if (e->e_failed)	/* STS-HTTP-5: the back-off survives restarts */
		buf_printf(&b, "failed %s %lld %d\n", e->e_fail_id,
		    (long long)e->e_fail_time, (int)e->e_fail_rt);
	buf_printf(&b, "length %zu\n\n", e->e_policy->p_text_len);
	buf_append(&b, e->e_policy->p_text, e->e_policy->p_text_len);
	if (!b.b_trunc)
		(void)fs_write_atomic(path, b.b_data, b.b_len, 0640,
		    FS_SYNC_DATA);
	buf_free(&b);
	free(path);
}

static void
unpersist(struct sts_cache *c, const char *domain)
{
	char	*path;

	if (c->c_dir == NULL)
		return;
	path = cache_path(c, domain);
	(void)unlink(path);
	free(path);
}

/* load_file - read one cache file into e (policy, times, failure) */
static int
load_file(const char *path, struct entry *e)
{
	FILE		*f;
	char		*data, *p, *end, *nl, fid[STS_ID_MAX + 1];
	size_t		 n, len = 0;
	long long	 v;
	int		 rt, have_len = 0, rc = -1;
	struct buf	 why = BUF_INIT;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	data = xmalloc(CACHE_FILE_MAX + 1);
	n = fread(data, 1, CACHE_FILE_MAX, f);
	fclose(f);
	data[n] = '\0';
	end = data + n;
	if (strncmp(data, "sts-milter-cache 1\n", 19) != 0)
		goto out;
	for (p = data + 19; p < end && *p != '\n'; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			goto out;
		*nl = '\0';
		if (sscanf(p, "id %32[A-Za-z0-9]", e->e_id) == 1)
			;
		else if (sscanf(p, "fetched %lld", &v) == 1)
			e->e_fetched = (time_t)v;
		else if (sscanf(p, "checked %lld", &v) == 1)
			e->e_checked = (time_t)v;
		else if (sscanf(p, "failed %32[A-Za-z0-9] %lld %d", fid, &v,
		    &rt) == 3 && rt > 0 && rt < TLSRPT_RESULT_MAX) {
			memcpy(e->e_fail_id, fid, sizeof(fid));
			e->e_fail_time = (time_t)v;
			e->e_fail_rt = (enum tlsrpt_result)rt;
			e->e_failed = 1;
		} else if (sscanf(p, "length %zu", &len) == 1)
			have_len = 1;
	}
	if (p >= end || !have_len || e->e_id[0] == '\0')
		goto out;
	p++;
	if ((size_t)(end - p) != len)
		goto out;		/* torn write: ignore the file */
	if (sts_policy_parse(p, len, &e->e_policy, &why) != ST_OK)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		e->e_id[0] = '\0';
		e->e_failed = 0;
	}
	free(data);
	buf_free(&why);
	return rc;
}

static void
load_entry(struct sts_cache *c, struct entry *e)
{
	char	*path;

	if (c->c_dir == NULL)
		return;
	path = cache_path(c, e->e_domain);
	if (load_file(path, e) == 0) {
		memcpy(e->e_txt_id, e->e_failed ? e->e_fail_id : e->e_id,
		    sizeof(e->e_id));
		if (e->e_failed)
			set_reason(e, "a fetch of this policy id failed before "
			    "the restart");
	}
	free(path);
}

/* --- the table -------------------------------------------------------- */

/* changed - an entry of s changed what lookups answer; s locked */
static void
changed(struct shard *s)
{
	atomic_fetch_add_explicit(&s->s_gen, 1, memory_order_release);
}

static struct shard *
shard_of(struct sts_cache *c, uint32_t h)
{
	return &c->c_shard[h % NSHARD];
}

static void
shard_grow(struct shard *s)
{
	size_t		  nb = s->s_nbuckets * 2, i;
	struct entry	**tab = xcalloc(nb, sizeof(*tab)), *e, *next;

	for (i = 0; i < s->s_nbuckets; i++)
		for (e = s->s_tab[i]; e != NULL; e = next) {
			next = e->e_next;
			e->e_next = tab[(e->e_hash / NSHARD) % nb];
			tab[(e->e_hash / NSHARD) % nb] = e;
		}
	free(s->s_tab);
	s->s_tab = tab;
	s->s_nbuckets = nb;
}

/* shard_evict - drop one idle entry other than keep (memory bound) */
static void
shard_evict(struct shard *s, const struct entry *keep)
{
	size_t		 i, b;
	struct entry	**pp, *e;

	for (i = 0; i < s->s_nbuckets; i++) {
		b = (s->s_evict + i) % s->s_nbuckets;
		for (pp = &s->s_tab[b]; (e = *pp) != NULL; pp = &e->e_next) {
			if (e == keep || e->e_busy || e->e_queued)
				continue;
			*pp = e->e_next;
			entry_free(e);
			s->s_count--;
			s->s_evict = b + 1;
			changed(s);
			return;
		}
	}
}

static struct entry *
shard_find(struct shard *s, uint32_t h, const char *domain)
{
	struct entry	*e;

	for (e = s->s_tab[(h / NSHARD) % s->s_nbuckets]; e; e = e->e_next)
		if (e->e_hash == h && strcmp(e->e_domain, domain) == 0)
			return e;
	return NULL;
}

static struct entry *
shard_get(struct sts_cache *c, struct shard *s, uint32_t h, const char *domain)
{
	struct entry	*e;
	size_t		 b, limit;

	if ((e = shard_find(s, h, domain)) != NULL)
		return e;
	e = xcalloc(1, sizeof(*e));
	e->e_hash = h;
	e->e_domain = xstrdup(domain);
	load_entry(c, e);
	if (s->s_count >= s->s_nbuckets)
		shard_grow(s);
	b = (h / NSHARD) % s->s_nbuckets;
	e->e_next = s->s_tab[b];
	s->s_tab[b] = e;
	s->s_count++;
	limit = c->c_o.max_entries / NSHARD + 1;
	if (s->s_count > limit)
		shard_evict(s, e);
	return e;
}

/* --- lookups ---------------------------------------------------------- */

static void
answer(const struct entry *e, struct sts_lookup *out)
{
	out->policy = sts_policy_ref(e->e_policy);	/* shared, immutable */
	memcpy(out->id, e->e_id, sizeof(out->id));
	memcpy(out->txt_id, e->e_txt_id, sizeof(out->txt_id));
	out->fetched = e->e_fetched;
	out->expires = e->e_policy ? policy_expires(e) : 0;
	out->checked = e->e_checked;
	out->fetch_failed = e->e_failed;
	out->fetch_result = e->e_failed ? e->e_fail_rt : TLSRPT_SUCCESS;
	if (e->e_reason != NULL) {		/* hot path: no printf */
		size_t n = strnlen(e->e_reason, sizeof(out->reason) - 1);

		memcpy(out->reason, e->e_reason, n);
		out->reason[n] = '\0';
	} else
		out->reason[0] = '\0';
}

/*
 * discover - the network part: TXT, then the policy if needed.
 * have_policy/old_id/fetch_due/backoff describe the entry when the
 * caller took its snapshot.
 */
static void
discover(struct sts_cache *c, const char *domain, int have_policy,
    const char *old_id, int fetch_due, int in_backoff_for_id,
    const char *fail_id, struct outcome *o)
{
	struct sts_txt	txt;

	memset(o, 0, sizeof(*o));
	buf_init(&o->o_why, 512);
	o->o_txt_st = sts_fetch_txt(c->c_o.dns, domain, &txt, &o->o_why);
	if (o->o_txt_st != ST_OK) {
		/*
		 * STS-CACHE-4, RFC 8461 10.2: refresh a cached policy even
		 * when its TXT record is missing or failing, or an attacker
		 * who hides the record only has to wait for max_age.
		 */
		if (have_policy && fetch_due) {
			struct buf fwhy = BUF_INIT;

			o->o_fetched = 1;
			(void)sts_fetch_policy(c->c_o.dns, &c->c_o.fetch, domain,
			    &o->o_policy, &o->o_rt, &fwhy);
			if (o->o_policy == NULL)
				buf_printf(&o->o_why, "; refresh: %s",
				    buf_str(&fwhy));
			buf_free(&fwhy);
		}
		return;
	}
	memcpy(o->o_txt_id, txt.id, sizeof(o->o_txt_id));
	if (have_policy && strcmp(txt.id, old_id) == 0 && !fetch_due)
		return;					/* STS-CACHE-2 */
	if (in_backoff_for_id && strcmp(txt.id, fail_id) == 0) {
		buf_printf(&o->o_why, "fetch of policy id %s failed less than "
		    "%d s ago; not retrying yet", txt.id, c->c_o.fetch_backoff);
		return;					/* STS-HTTP-5 */
	}
	o->o_fetched = 1;
	(void)sts_fetch_policy(c->c_o.dns, &c->c_o.fetch, domain, &o->o_policy,
	    &o->o_rt, &o->o_why);
}

/* apply - fold an outcome into the entry; called with the shard locked */
static void
apply(struct sts_cache *c, struct entry *e, struct outcome *o, time_t now)
{
	int	have = e->e_policy != NULL;

	e->e_checked = now;
	if (o->o_txt_st != ST_OK) {
		if (have && o->o_policy != NULL) {	/* STS-CACHE-4 */
			sts_policy_free(e->e_policy);
			e->e_policy = o->o_policy;	/* id unchanged */
			o->o_policy = NULL;
			e->e_fetched = now;
			set_reason(e, buf_str(&o->o_why));
			persist(c, e);
			return;
		}
		if (have) {				/* STS-CACHE-6, STS-TXT-5 */
			if (o->o_fetched) {		/* refresh failed too */
				e->e_failed = 1;
				e->e_fail_rt = o->o_rt;
				e->e_fail_time = now;
				memcpy(e->e_fail_id, e->e_id,
				    sizeof(e->e_fail_id));
			}
			set_reason(e, buf_str(&o->o_why));
			return;
		}
		e->e_neg_status = o->o_txt_st == ST_TEMPFAIL ? ST_TEMPFAIL :
		    ST_NOTFOUND;
		e->e_neg_until = now + (o->o_txt_st == ST_TEMPFAIL ?
		    c->c_o.tempfail_ttl : c->c_o.negative_ttl);
		e->e_failed = 0;
		e->e_txt_id[0] = '\0';
		set_reason(e, buf_str(&o->o_why));
		return;
	}
	memcpy(e->e_txt_id, o->o_txt_id, sizeof(e->e_txt_id));
	if (o->o_policy != NULL) {			/* STS-CACHE-2, -4 */
		sts_policy_free(e->e_policy);
		e->e_policy = o->o_policy;
		o->o_policy = NULL;
		memcpy(e->e_id, o->o_txt_id, sizeof(e->e_id));
		e->e_fetched = now;
		e->e_failed = 0;
		e->e_fail_id[0] = '\0';
		e->e_neg_until = 0;
		set_reason(e, "");
		persist(c, e);
		return;
	}
	if (o->o_fetched) {				/* the fetch failed */
		e->e_failed = 1;
		e->e_fail_rt = o->o_rt;
		e->e_fail_time = now;
		memcpy(e->e_fail_id, o->o_txt_id, sizeof(e->e_fail_id));
		set_reason(e, buf_str(&o->o_why));
		persist(c, e);
	} else if (buf_str(&o->o_why)[0] != '\0')
		set_reason(e, buf_str(&o->o_why));	/* in back-off */
	if (!have && (o->o_fetched || e->e_failed)) {	/* STS-HTTP-8 */
		e->e_neg_status = ST_NOTFOUND;
		e->e_neg_until = e->e_fail_time + c->c_o.fetch_backoff;
		if (e->e_neg_until > now + c->c_o.negative_ttl)
			e->e_neg_until = now + c->c_o.negative_ttl;
	}
	/* STS-CACHE-7: a valid policy stays in force. */
}

static void
outcome_clear(struct outcome *o)
{
	sts_policy_free(o->o_policy);
	buf_free(&o->o_why);
}

/* run_check - discover for e and apply; shard locked on entry and exit */
static void
run_check(struct sts_cache *c, struct shard *s, struct entry *e, int force)
{
	struct outcome	o;
	char		domain[DOMAIN_MAX + 1], old_id[STS_ID_MAX + 1];
	char		fail_id[STS_ID_MAX + 1];
	time_t		now = clock_now();
	int		have = e->e_policy != NULL, due, backoff;

	due = force || !have || refresh_due(c, e, now);
	backoff = !force && e->e_failed &&
	    now - e->e_fail_time < c->c_o.fetch_backoff;
	snprintf(domain, sizeof(domain), "%s", e->e_domain);
	memcpy(old_id, e->e_id, sizeof(old_id));
	memcpy(fail_id, e->e_fail_id, sizeof(fail_id));
	e->e_busy = 1;
	pthread_mutex_unlock(&s->s_mu);

	discover(c, domain, have, old_id, due, backoff, fail_id, &o);

	pthread_mutex_lock(&s->s_mu);
	apply(c, e, &o, clock_now());
	changed(s);
	e->e_busy = 0;
	pthread_cond_broadcast(&s->s_cv);
	outcome_clear(&o);
}

static void enqueue(struct sts_cache *, struct entry *);

enum status
sts_cache_lookup(struct sts_cache *c, const char *domain, int flags,
    struct sts_lookup *out)
{
	uint32_t	 h = hash_domain(domain);
	struct shard	*s = shard_of(c, h);
	struct entry	*e;
	time_t		 now;
	int		 checked_here = 0, rc;
	enum status	 st;
	struct timespec	 dl = { 0, 0 };
	int64_t		 ms;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->s_mu);
	if ((flags & STS_LOOKUP_PEEK) && shard_find(s, h, domain) == NULL) {
		pthread_mutex_unlock(&s->s_mu);
		snprintf(out->reason, sizeof(out->reason), "not cached");
		return ST_TEMPFAIL;
	}
	e = shard_get(c, s, h, domain);
	for (;;) {
		now = clock_now();
		if (e->e_policy != NULL && now >= policy_expires(e) &&
		    !checked_here) {
			/* STS-CACHE-1: an expired policy no longer applies. */
			sts_policy_free(e->e_policy);
			e->e_policy = NULL;
			e->e_id[0] = '\0';
			unpersist(c, e->e_domain);
			changed(s);
		}
		if (e->e_policy != NULL) {
			int due = (flags & STS_LOOKUP_FORCE) ||
			    now - e->e_checked >= c->c_o.txt_check_interval ||
			    refresh_due(c, e, now);

			if (!due || checked_here || e->e_busy ||
			    (flags & STS_LOOKUP_CACHED))
				break;
			if (flags & STS_LOOKUP_ASYNC) {
				enqueue(c, e);
				break;
			}
			run_check(c, s, e, flags & STS_LOOKUP_FORCE);
			checked_here = 1;
			continue;
		}
		if (e->e_busy) {
			if (flags & STS_LOOKUP_CACHED)
				break;
			if (dl.tv_sec == 0) {	/* the first wait sets it */
				clock_gettime(CLOCK_REALTIME, &dl);
				ms = (int64_t)dl.tv_nsec / 1000000 +
				    c->c_o.wait_ms;
				dl.tv_sec += ms / 1000;
				dl.tv_nsec = (long)(ms % 1000) * 1000000;
			}
			rc = pthread_cond_timedwait(&s->s_cv, &s->s_mu, &dl);
			/* While we waited the entry may have been evicted or
			 * flushed: find it again. */
			e = shard_get(c, s, h, domain);
			if (rc == ETIMEDOUT && e->e_busy) {
				pthread_mutex_unlock(&s->s_mu);
				snprintf(out->reason, sizeof(out->reason),
				    "policy discovery still running");
				return ST_TEMPFAIL;
			}
			continue;
		}
		if (checked_here || (flags & STS_LOOKUP_CACHED) ||
		    (now < e->e_neg_until && !(flags & STS_LOOKUP_FORCE)))
			break;
		run_check(c, s, e, flags & STS_LOOKUP_FORCE);
		checked_here = 1;
	}
	answer(e, out);
	out->from_cache = !checked_here;
	out->stamp = (uint64_t)(s - c->c_shard) << 32 |
	    atomic_load_explicit(&s->s_gen, memory_order_relaxed);
	if (e->e_policy != NULL)
		st = ST_OK;
	else if (now < e->e_neg_until || checked_here)
		st = e->e_neg_status == ST_TEMPFAIL ? ST_TEMPFAIL : ST_NOTFOUND;
	else {
		st = ST_TEMPFAIL;	/* CACHED only and nothing known */
		snprintf(out->reason, sizeof(out->reason), "not cached");
	}
	pthread_mutex_unlock(&s->s_mu);
	return st;
}

void
sts_lookup_clear(struct sts_lookup *l)
{
	sts_policy_free(l->policy);
	memset(l, 0, sizeof(*l));
}

/* --- background refresh ----------------------------------------------- */

/* enqueue - queue e for a background check; shard locked */
static void
enqueue(struct sts_cache *c, struct entry *e)
{
	struct queue_item *q;

	if (e->e_queued || c->c_nthreads == 0)
		return;
	e->e_queued = 1;
	q = xcalloc(1, sizeof(*q));
	q->q_domain = xstrdup(e->e_domain);
	pthread_mutex_lock(&c->c_qmu);
	if (c->c_qtail)
		c->c_qtail->q_next = q;
	else
		c->c_qhead = q;
	c->c_qtail = q;
	pthread_cond_signal(&c->c_qcv);
	pthread_mutex_unlock(&c->c_qmu);
}

/* scan_due - queue every cached policy whose refresh is due */
static void
scan_due(struct sts_cache *c)
{
	struct shard	*s;
	struct entry	*e;
	size_t		 i, b;
	time_t		 now = clock_now();

	for (i = 0; i < NSHARD; i++) {
		s = &c->c_shard[i];
		pthread_mutex_lock(&s->s_mu);
		for (b = 0; b < s->s_nbuckets; b++)
			for (e = s->s_tab[b]; e; e = e->e_next)
				if (e->e_policy && !e->e_busy &&
				    refresh_due(c, e, now))
					enqueue(c, e);
		pthread_mutex_unlock(&s->s_mu);
	}
}

static void *
refresher(void *arg)
{
	struct sts_cache	*c = arg;
	struct queue_item	*q;
	struct timespec		 ts;
	struct sts_lookup	 l;
	uint32_t		 h;
	struct shard		*s;
	struct entry		*e;

	for (;;) {
		pthread_mutex_lock(&c->c_qmu);
		while (c->c_qhead == NULL && !c->c_stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 60;
			if (pthread_cond_timedwait(&c->c_qcv, &c->c_qmu, &ts) ==
			    ETIMEDOUT) {
				pthread_mutex_unlock(&c->c_qmu);
				scan_due(c);
				pthread_mutex_lock(&c->c_qmu);
			}
		}
		if (c->c_stop) {
			pthread_mutex_unlock(&c->c_qmu);
			return NULL;
		}
		q = c->c_qhead;
		c->c_qhead = q->q_next;
		if (c->c_qhead == NULL)
			c->c_qtail = NULL;
		pthread_mutex_unlock(&c->c_qmu);

		h = hash_domain(q->q_domain);
		s = shard_of(c, h);
		pthread_mutex_lock(&s->s_mu);
		if ((e = shard_find(s, h, q->q_domain)) != NULL)
			e->e_queued = 0;
		pthread_mutex_unlock(&s->s_mu);
		(void)sts_cache_lookup(c, q->q_domain, 0, &l);
		/* RFC 8461 6: a failed refresh is reportable (not for none) */
		if (l.fetch_failed && !l.from_cache && c->c_fail_fn != NULL &&
		    (l.policy == NULL || l.policy->p_mode != STS_MODE_NONE))
			c->c_fail_fn(c->c_fail_arg, q->q_domain, &l);
		sts_lookup_clear(&l);
		free(q->q_domain);
		free(q);
	}
}

void
sts_cache_on_fetch_failure(struct sts_cache *c, void (*fn)(void *,
    const char *, const struct sts_lookup *), void *arg)
{
	c->c_fail_arg = arg;
	c->c_fail_fn = fn;
}

int
sts_cache_start_refresher(struct sts_cache *c, int n)
{
	int	i;

	c->c_threads = xcalloc((size_t)n, sizeof(pthread_t));
	for (i = 0; i < n; i++) {
		if (pthread_create(&c->c_threads[i], NULL, refresher, c) != 0)
			return -1;
		c->c_nthreads++;
	}
	return 0;
}

/* --- the rest --------------------------------------------------------- */

void
sts_cache_opts_conf(struct sts_cache_opts *o, const struct conf *c,
    struct dns *dns)
{
	memset(o, 0, sizeof(*o));
	o->state_dir = c->state_dir;
	o->dns = dns;
	o->fetch.ca_file = c->ca_file;
	o->fetch.connect_timeout_ms = c->fetch_connect_timeout * 1000;
	o->fetch.timeout_ms = c->fetch_timeout * 1000;
	o->fetch.max_body = (size_t)c->policy_max_size;
	o->txt_check_interval = c->txt_check_interval;
	o->refresh_interval = c->refresh_interval;
	o->fetch_backoff = c->fetch_backoff;
	o->negative_ttl = c->negative_ttl;
	o->tempfail_ttl = c->tempfail_ttl;
	o->max_entries = (size_t)c->cache_max_entries;
	o->wait_ms = c->gate_deadline * 1000;
}

struct sts_cache *
sts_cache_new(const struct sts_cache_opts *o)
{
	struct sts_cache	*c = xcalloc(1, sizeof(*c));
	int			 i;

	c->c_o = *o;
	/* The configuration that lent these strings may be freed (SIGHUP). */
	c->c_o.state_dir = o->state_dir ? xstrdup(o->state_dir) : NULL;
	c->c_o.fetch.ca_file = o->fetch.ca_file ? xstrdup(o->fetch.ca_file) :
	    NULL;
	if (c->c_o.max_entries == 0)
		c->c_o.max_entries = 2000000;
	if (o->state_dir != NULL && o->state_dir[0] != '\0') {
		c->c_dir = statedir_cache(o->state_dir);
		(void)mkdir(o->state_dir, 0750);
		if (mkdir(c->c_dir, 0750) != 0 && errno != EEXIST) {
			free(c->c_dir);
			c->c_dir = NULL;
		}
	}
	for (i = 0; i < NSHARD; i++) {
		pthread_mutex_init(&c->c_shard[i].s_mu, NULL);
		pthread_cond_init(&c->c_shard[i].s_cv, NULL);
		c->c_shard[i].s_nbuckets = 16;
		c->c_shard[i].s_tab = xcalloc(16, sizeof(struct entry *));
	}
	pthread_mutex_init(&c->c_qmu, NULL);
	pthread_cond_init(&c->c_qcv, NULL);
	return c;
}

void
sts_cache_free(struct sts_cache *c)
{
	struct entry		*e, *next;
	struct queue_item	*q;
	size_t			 i, b;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->c_qmu);
	c->c_stop = 1;
	pthread_cond_broadcast(&c->c_qcv);
	pthread_mutex_unlock(&c->c_qmu);
	for (i = 0; i < (size_t)c->c_nthreads; i++)
		pthread_join(c->c_threads[i], NULL);
	free(c->c_threads);
	while ((q = c->c_qhead) != NULL) {
		c->c_qhead = q->q_next;
		free(q->q_domain);
		free(q);
	}
	for (i = 0; i < NSHARD; i++) {
		for (b = 0; b < c->c_shard[i].s_nbuckets; b++)
			for (e = c->c_shard[i].s_tab[b]; e; e = next) {
				next = e->e_next;
				entry_free(e);
			}
		free(c->c_shard[i].s_tab);
		pthread_mutex_destroy(&c->c_shard[i].s_mu);
		pthread_cond_destroy(&c->c_shard[i].s_cv);
	}
	free(c->c_dir);
	free((char *)(uintptr_t)c->c_o.state_dir);
	free((char *)(uintptr_t)c->c_o.fetch.ca_file);
	free(c);
}

int
sts_cache_flush(struct sts_cache *c, const char *domain)
{
	size_t		 i, b;
	struct entry	**pp, *e;
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	/* The disk first: a lookup between the two steps then still finds
	 * the entry in memory, never reloads what is being flushed. */
	if (c->c_dir != NULL && domain != NULL) {
		char *path = cache_path(c, domain);

		n = unlink(path) == 0;
		free(path);
	} else if (c->c_dir != NULL && (d = opendir(c->c_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *path;

			if (de->d_name[0] == '.')
				continue;
			path = cache_path(c, de->d_name);
			n += unlink(path) == 0;
			free(path);
		}
		closedir(d);
	}
	for (i = 0; i < NSHARD; i++) {
		struct shard *s = &c->c_shard[i];

		pthread_mutex_lock(&s->s_mu);
		for (b = 0; b < s->s_nbuckets; b++)
			for (pp = &s->s_tab[b]; (e = *pp) != NULL;) {
				if (e->e_busy || e->e_queued || (domain &&
				    strcmp(domain, e->e_domain))) {
					pp = &e->e_next;
					continue;
				}
				*pp = e->e_next;
				entry_free(e);
				s->s_count--;
				changed(s);
			}
		pthread_mutex_unlock(&s->s_mu);
	}
	return n;
}

int
sts_cache_foreach(struct sts_cache *c, void (*fn)(void *, const char *,
    const struct sts_lookup *), void *arg)
{
	DIR		*d;
	struct dirent	*de;
	struct sts_lookup l;
	struct entry	 tmp;
	int		 n = 0;

	if (c->c_dir == NULL || (d = opendir(c->c_dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
			continue;
		memset(&l, 0, sizeof(l));
		memset(&tmp, 0, sizeof(tmp));
		path = cache_path(c, de->d_name);
		if (load_file(path, &tmp) == 0) {
			memcpy(tmp.e_txt_id, tmp.e_id, sizeof(tmp.e_id));
			answer(&tmp, &l);
			l.from_cache = 1;
			fn(arg, de->d_name, &l);
			n++;
		}
		sts_lookup_clear(&l);
		sts_policy_free(tmp.e_policy);
		free(path);
	}
	closedir(d);
	return n;
}

int
sts_cache_stamp_valid(struct sts_cache *c, uint64_t stamp)
{
	size_t	i = (size_t)(stamp >> 32);

	return i < NSHARD && atomic_load_explicit(&c->c_shard[i].s_gen,
	    memory_order_acquire) == (unsigned)(stamp & 0xffffffffu);
}

size_t
sts_cache_size(struct sts_cache *c)
{
	size_t	i, n = 0;

	for (i = 0; i < NSHARD; i++) {
		pthread_mutex_lock(&c->c_shard[i].s_mu);
		n += c->c_shard[i].s_count;
		pthread_mutex_unlock(&c->c_shard[i].s_mu);
	}
	return n;
}
