/*
 * collect.c - the TLS-RPT datagram collector (see collect.h)
 *
 * reporting-anchors.md 3.3 and 10: AF_UNIX, SOCK_DGRAM, one datagram
 * per TLS handshake, sent with MSG_DONTWAIT by libtlsrpt, so a full
 * receive queue loses events.  The kernel's queue is short (at most
 * net.unix.max_dgram_qlen datagrams: 10 without systemd, 512 with it),
 * so one thread only receives, into a queue in memory (at most
 * COLLECT_QMAX datagrams and COLLECT_QBYTES bytes; an oversize datagram
 * is queued as its first QUARANTINE_KEEP bytes), and another parses and
 * journals.  On stop the receiver empties the socket and the worker the
 * queue, so a restart loses nothing that reached the socket.
 *
 * The socket is 0666: any local process may report.  What a report can
 * cost is bounded: memory by the queue, disk by NEW_TEXTS_PER_MIN new
 * policy texts a minute in the archive (an STS policy equal to the
 * cached one costs nothing), the cache not at all (looked up with
 * STS_LOOKUP_PEEK: a domain the daemon does not know is not added).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

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
#include "collect.h"
#include "domain.h"
#include "dane_cache.h"
#include "exim_event.h"
#include "hash.h"
#include "log.h"
#include "policy_archive.h"
#include "priv.h"
#include "srcaddr.h"
#include "statedir.h"
#include "sts_policy.h"
#include "truth.h"
#include "xmalloc.h"

#define COLLECT_RCVBUF		(4 << 20)
#define QUARANTINE_MAX		(1 << 20)
#define QUARANTINE_KEEP		4096	/* bytes of one datagram kept */
#define COLLECT_QMAX		100000	/* datagrams waiting in memory */
#define COLLECT_QBYTES		(32 << 20)	/* and their bytes */
#define NEW_TEXTS_PER_MIN	60	/* new archive entries, burst too */
#define CONN_SLOTS		4096	/* Exim connections remembered */
#define CONN_TTL		600
#define TRUTH_DEADLINE_MS	15000	/* probing for one datagram */

struct cslot {
	char			 k[192];
	time_t			 t;
};

struct qitem {
	struct qitem		*q_next;
	time_t			 q_time;	/* received */
	size_t			 q_len;		/* bytes in q_data */
	size_t			 q_size;	/* the datagram's, when oversize */
	char			 q_data[];
};

struct collect {
	int			 c_fd;
	int			 c_stop[2];	/* pipe: stop the thread */
	char			*c_path;
	char			*c_state_dir;
	struct sts_cache	*c_cache;
	struct journal		*c_journal;
	pthread_t		 c_thread, c_worker;
	int			 c_started, c_drained;
	pthread_mutex_t		 c_qmu;
	pthread_cond_t		 c_qcv;
	struct qitem		*c_qhead, *c_qtail;
	size_t			 c_qlen, c_qbytes;
	int			 c_qdone;	/* receiver gone: drain, exit */
	atomic_ulong		 c_datagrams, c_records, c_invalid, c_lost;
	atomic_ulong		 c_dropped, c_unarchived;
	atomic_ulong		 c_exim, c_exim_invalid, c_unverified;
	struct dane_cache	*c_dane;	/* DANE verdicts; NULL: off */
	collect_truth_fn	 c_truth;	/* MX verdicts (the gate) */
	void			*c_truth_arg;
	pthread_mutex_t		 c_connmu;
	struct cslot		*c_conns;	/* CONN_SLOTS */
	atomic_long		 c_lastexim;
	time_t			 c_lastwarn, c_lastdpv, c_lastdrop, c_lastarch;
	double			 c_tokens;	/* archive budget */
	time_t			 c_tokens_at;
};

struct collect *
collect_new(const char *path, const char *state_dir, struct sts_cache *cache,
    struct buf *why)
{
	struct collect		*c = xcalloc(1, sizeof(*c));
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 sz = COLLECT_RCVBUF;
	mode_t			 old;

	c->c_fd = -1;
	c->c_stop[0] = c->c_stop[1] = -1;
	pthread_mutex_init(&c->c_qmu, NULL);
	pthread_cond_init(&c->c_qcv, NULL);
	pthread_mutex_init(&c->c_connmu, NULL);
	c->c_conns = xcalloc(CONN_SLOTS, sizeof(*c->c_conns));
	c->c_state_dir = xstrdup(state_dir ? state_dir : "");
	c->c_cache = cache;
	if (path == NULL || path[0] == '\0')	/* no socket: unit tests */
		return c;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		buf_printf(why, "%s: not an absolute path that fits a unix "
		    "socket", path);
		goto fail;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			buf_printf(why, "%s exists and is not a socket", path);
			goto fail;
		}
		(void)unlink(path);		/* stale, from a crash */
	}
	if ((c->c_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		buf_printf(why, "socket: %s", strerror(errno));
		goto fail;
	}
	/* Root may go past rmem_max; otherwise take what we get. */
	if (setsockopt(c->c_fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
	    sizeof(sz)) < 0)
		(void)setsockopt(c->c_fd, SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz));
	/* owner only until the daemon applies socket_mode (priv.h):
	 * smtp(8) runs as another user, a member of socket_group */
	old = umask(PRIV_SOCKET_UMASK);
	if (bind(c->c_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		buf_printf(why, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	umask(old);
	c->c_path = xstrdup(path);
	if (pipe2(c->c_stop, O_CLOEXEC) < 0) {
		buf_printf(why, "pipe: %s", strerror(errno));
		goto fail;
	}
	return c;
fail:
	collect_stop(c);
	return NULL;
}

/* limited - 1 at most once per clock second (*last: the last one) */
static int
limited(time_t *last)
{
	time_t	now = clock_now();

	if (now == *last)
		return 0;
	*last = now;
	return 1;
}

/* quarantine - keep an invalid datagram for the operator, bounded */
static void
quarantine(struct collect *c, const char *d, size_t len, const char *why,
    time_t now)
{
	struct buf	 b = BUF_INIT;
	struct stat	 st;
	char		*path;
	size_t		 i;
	int		 fd;

	if (c->c_state_dir[0] == '\0')
		return;
	path = statedir_quarantine(c->c_state_dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	free(path);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size < QUARANTINE_MAX) {
		buf_printf(&b, "{\"time\":%lld,\"reason\":", (long long)now);
		buf_json_str(&b, why);
		buf_printf(&b, ",\"bytes\":%zu,\"datagram\":\"", len);
		for (i = 0; i < len && i < QUARANTINE_KEEP; i++) {
			unsigned char u = (unsigned char)d[i];

			if (u == '"' || u == '\\')
				buf_printf(&b, "\\%c", u);
			else if (u < 0x20 || u >= 0x7f)
				buf_printf(&b, "\\u%04x", u);
			else
				buf_putc(&b, (char)u);
		}
		buf_puts(&b, "\"}\n");
		(void)write(fd, buf_str(&b), b.b_len);
	}
	close(fd);
	buf_free(&b);
}

/* same_lines - 1 if text is the lines of pol, each ended by LF */
static int
same_lines(const struct sts_policy *pol, const char *text)
{
	char	**lines;
	size_t	  n = sts_policy_lines(pol, &lines), i, l;
	int	  same = 1;

	for (i = 0; i < n; i++) {
		l = strlen(lines[i]);
		if (same && (strncmp(text, lines[i], l) != 0 ||
		    text[l] != '\n'))
			same = 0;
		else if (same)
			text += l + 1;
		free(lines[i]);
	}
	free(lines);
	return same && *text == '\0';
}

/* may_archive - 1 if the budget allows one more new policy text */
static int
may_archive(struct collect *c, time_t now)
{
	if (c->c_tokens_at == 0)
		c->c_tokens = NEW_TEXTS_PER_MIN;
	else if (now > c->c_tokens_at)
		c->c_tokens += (double)(now - c->c_tokens_at) *
		    NEW_TEXTS_PER_MIN / 60.0;
	if (c->c_tokens > NEW_TEXTS_PER_MIN)
		c->c_tokens = NEW_TEXTS_PER_MIN;
	c->c_tokens_at = now;
	if (c->c_tokens < 1.0)
		return 0;
	c->c_tokens -= 1.0;
	return 1;
}

/* policy_ref - phash (and pid) of the policy p names */
static void
policy_ref(struct collect *c, const struct dgram_policy *p,
    struct journal_rec *r)
{
	struct sts_lookup	l;

	if (p->ptype == DGRAM_NO_POLICY || p->text[0] == '\0')
		return;
	if (p->ptype == DGRAM_STS && c->c_cache != NULL &&
	    sts_cache_lookup(c->c_cache, p->pdomain, STS_LOOKUP_CACHED |
	    STS_LOOKUP_PEEK, &l) == ST_OK) {
		if (l.policy != NULL && same_lines(l.policy, p->text) &&
		    policy_archive_put(c->c_state_dir, l.policy->p_text,
		    l.policy->p_text_len, r->phash) == 0) {
			JREC_SET(r, pid, l.id);
			sts_lookup_clear(&l);
			return;
		}
		sts_lookup_clear(&l);
	}
	if (policy_archive_has(c->c_state_dir, p->text, strlen(p->text),
	    r->phash))
		return;
	if (!may_archive(c, r->time)) {
		/* journaled without its policy-string, not dropped */
		r->phash[0] = '\0';
		atomic_fetch_add(&c->c_unarchived, 1);
		if (limited(&c->c_lastarch))
			log_warnx("tlsrpt: more than %d new policy texts a "
			    "minute; journaling sessions without them",
			    NEW_TEXTS_PER_MIN);
		return;
	}
	if (policy_archive_put(c->c_state_dir, p->text, strlen(p->text),
	    r->phash) != 0)
		r->phash[0] = '\0';
}

void
collect_set_dane(struct collect *c, struct dane_cache *dc)
{
	c->c_dane = dc;
}

void
collect_set_truth(struct collect *c, collect_truth_fn fn, void *arg)
{
	c->c_truth = fn;
	c->c_truth_arg = arg;
}

/*
 * testing_truth - a testing-mode session Postfix reported as successful
 * (STS-APP-2; truth.h): 1 with r as the session really was (the success,
 * or the failure of the MX host Postfix most likely used), 0 when that
 * is not known (not journaled: no success is claimed for it).
 */
static int
testing_truth(struct collect *c, const struct dgram_policy *p,
    struct journal_rec *r)
{
	struct truth_host	 h[TRUTH_MAX_HOSTS];
	struct sts_lookup	 l;
	const char		*why = "the policy is not the one cached";
	size_t			 n = 0, k;
	enum truth_res		 res = TRUTH_UNDECIDED;

	if (c->c_cache != NULL && sts_cache_lookup(c->c_cache, p->pdomain,
	    STS_LOOKUP_CACHED | STS_LOOKUP_PEEK, &l) == ST_OK) {
		if (l.policy != NULL && same_lines(l.policy, p->text)) {
			why = "no MX verdicts here";
			if (c->c_truth != NULL) {
				n = c->c_truth(c->c_truth_arg, p->pdomain,
				    l.policy, l.id, clock_mono_ms() +
				    TRUTH_DEADLINE_MS, h, TRUTH_MAX_HOSTS);
				res = truth_decide(h, n, &k, &why);
			}
		}
		sts_lookup_clear(&l);
	}
	log_debug(LOG_LEVEL_EVENTS, "tlsrpt: testing-mode success domain=%s mx_hosts=%zu "
	    "truth=%s%s%s", p->pdomain, n, truth_res_str(res),
	    res == TRUTH_UNDECIDED ? " why=" : "",
	    res == TRUTH_UNDECIDED ? why : "");
	switch (res) {
	case TRUTH_SUCCESS:
		return 1;
	case TRUTH_FAILURE:
		r->result = h[k].result;
		JREC_SET(r, mx, h[k].mx);
		JREC_SET(r, rip, h[k].ip);
		JREC_SET(r, reason, h[k].reason);
		return 1;
	case TRUTH_UNDECIDED:
		break;
	}
	atomic_fetch_add(&c->c_unverified, 1);
	return 0;
}

int
collect_datagram(struct collect *c, const char *d, size_t len, time_t now,
    struct buf *why)
{
	struct tlsrpt_dgram	*g;
	struct journal_rec	 r;
	const struct dgram_fail	*f;
	size_t			 i;
	int			 n = 0;

	atomic_fetch_add(&c->c_datagrams, 1);
	if (tlsrpt_dgram_parse(d, len, &g, why) != ST_OK) {
		atomic_fetch_add(&c->c_invalid, 1);
		quarantine(c, d, len, buf_str(why), now);
		return -1;
	}
	if (g->dpv_unknown && now - c->c_lastdpv >= 3600) {
		c->c_lastdpv = now;
		log_warnx("tlsrpt: datagram protocol version is not \"1\"; "
		    "reading it as version 1");
	}
	for (i = 0; i < g->npol; i++) {
		const struct dgram_policy *p = &g->pol[i];

		memset(&r, 0, sizeof(r));
		r.type = JREC_SESSION;
		r.time = now;
		JREC_SET(&r, src, "postfix");
		JREC_SET(&r, ptype, dgram_ptype_str(p->ptype));
		/* The report goes to the next-hop domain "d"; for STS it
		 * is the policy domain too. */
		JREC_SET(&r, domain, p->ptype == DGRAM_STS ? p->pdomain :
		    g->domain);
		JREC_SET(&r, mode, p->mode);
		policy_ref(c, p, &r);
		r.result = TLSRPT_SUCCESS;
		if (p->failed) {
			/* One session; libtlsrpt lists its first failure
			 * first (Postfix sends exactly one). */
			if (p->nfails > 0) {
				f = &p->fails[0];
				r.result = f->result;
				JREC_SET(&r, mx, f->mx);
				JREC_SET(&r, sip, f->sip);
				JREC_SET(&r, rip, f->rip);
				JREC_SET(&r, helo, f->helo);
				JREC_SET(&r, reason, f->reason);
				JREC_SET(&r, info, f->info);
			} else {
				r.result = TLSRPT_VALIDATION_FAILURE;
				JREC_SET(&r, reason, "no-failure-details");
			}
		} else if (p->ptype == DGRAM_STS &&
		    strcmp(p->mode, "testing") == 0 &&
		    !testing_truth(c, p, &r))
			continue;
		if (c->c_journal == NULL ||
		    journal_append(c->c_journal, &r) != 0) {
			atomic_fetch_add(&c->c_lost, 1);  /* journal logs */
			continue;
		}
		atomic_fetch_add(&c->c_records, 1);
		n++;
		log_debug(LOG_LEVEL_EVENTS, "tlsrpt: src=postfix domain=%s "
		    "policy_type=%s result=%s mx=%s", r.domain, r.ptype,
		    tlsrpt_result_str(r.result), r.mx[0] ? r.mx : "-");
	}
	tlsrpt_dgram_free(g);
	return n;
}

/* worker - parse and journal what the receiver queued */
static void *
worker(void *arg)
{
	struct collect	*c = arg;
	struct qitem	*q;
	struct buf	 why = BUF_INIT;

	for (;;) {
		pthread_mutex_lock(&c->c_qmu);
		while (c->c_qhead == NULL && !c->c_qdone)
			pthread_cond_wait(&c->c_qcv, &c->c_qmu);
		if ((q = c->c_qhead) == NULL) {		/* done and drained */
			pthread_mutex_unlock(&c->c_qmu);
			break;
		}
		if ((c->c_qhead = q->q_next) == NULL)
			c->c_qtail = NULL;
		c->c_qlen--;
		c->c_qbytes -= q->q_len;
		pthread_mutex_unlock(&c->c_qmu);
		buf_reset(&why);
		if (q->q_size > 0) {		/* oversize: its head only */
			atomic_fetch_add(&c->c_datagrams, 1);
			atomic_fetch_add(&c->c_invalid, 1);
			buf_printf(&why, "datagram longer than %d bytes",
			    DGRAM_MAX);
			quarantine(c, q->q_data, q->q_len, buf_str(&why),
			    q->q_time);
		} else if (collect_datagram(c, q->q_data, q->q_len, q->q_time,
		    &why) >= 0) {
			free(q);
			continue;
		}
		if (limited(&c->c_lastwarn))
			log_warnx("tlsrpt: invalid datagram (%zu bytes) "
			    "quarantined: %s", q->q_size ? q->q_size : q->q_len,
			    buf_str(&why));
		free(q);
	}
	buf_free(&why);
	return NULL;
}

/* drain - queue everything the socket holds now */
static void
drain(struct collect *c, char *d)
{
	struct qitem	*q;
	ssize_t		 n;
	size_t		 len, size;

	for (;;) {
		/* MSG_TRUNC: the real length even when it did not fit */
		n = recv(c->c_fd, d, DGRAM_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("tlsrpt: recv");
			return;
		}
		size = (size_t)n > DGRAM_MAX ? (size_t)n : 0;
		len = size ? QUARANTINE_KEEP : (size_t)n;
		pthread_mutex_lock(&c->c_qmu);
		if (c->c_qlen >= COLLECT_QMAX ||
		    c->c_qbytes + len > COLLECT_QBYTES) {
			pthread_mutex_unlock(&c->c_qmu);
			atomic_fetch_add(&c->c_datagrams, 1);
			atomic_fetch_add(&c->c_dropped, 1);
			if (limited(&c->c_lastdrop))
				log_err("tlsrpt: %lu datagrams dropped so far: "
				    "the journal does not keep up (queue full)",
				    atomic_load(&c->c_dropped));
			continue;
		}
		c->c_qbytes += len;
		pthread_mutex_unlock(&c->c_qmu);
		q = xmalloc(sizeof(*q) + len);
		q->q_next = NULL;
		q->q_time = clock_now();
		q->q_len = len;
		q->q_size = size;
		memcpy(q->q_data, d, len);
		pthread_mutex_lock(&c->c_qmu);
		if (c->c_qtail != NULL)
			c->c_qtail->q_next = q;
		else
			c->c_qhead = q;
		c->c_qtail = q;
		c->c_qlen++;
		pthread_cond_signal(&c->c_qcv);
		pthread_mutex_unlock(&c->c_qmu);
	}
}

/* receiver - drain the socket into the queue, nothing else */
static void *
receiver(void *arg)
{
	struct collect	*c = arg;
	struct pollfd	 p[2];
	char		*d = xmalloc(DGRAM_MAX + 1);

	p[0].fd = c->c_fd;
	p[0].events = POLLIN;
	p[1].fd = c->c_stop[0];
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("tlsrpt: poll");
			break;
		}
		drain(c, d);
		if (p[1].revents)
			break;			/* after a last drain */
	}
	free(d);
	return NULL;
}

/*
 * conn_seen - 1 if connection key k was journaled in the last
 * CONN_TTL seconds, else remember it and 0.  Exim reports a session
 * after STARTTLS and again at close; a TCP 4-tuple is not reused within
 * CONN_TTL (TIME_WAIT), so the key names one connection.  Direct-mapped:
 * a collision forgets the older key (one session may then count twice).
 */
static int
conn_seen(struct collect *c, const char *k, time_t now)
{
	uint32_t	 h = hash_fnv32(k);
	struct cslot	*s;
	int		 seen;

	pthread_mutex_lock(&c->c_connmu);
	s = &c->c_conns[h % CONN_SLOTS];
	seen = s->t != 0 && now - s->t < CONN_TTL && strcmp(s->k, k) == 0;
	if (!seen) {
		snprintf(s->k, sizeof(s->k), "%s", k);
		s->t = now;
	}
	pthread_mutex_unlock(&c->c_connmu);
	return seen;
}

/* exim_invalid - count an event that could not be read; one log line
 * a second at most */
static void
exim_invalid(struct collect *c, const char *why, time_t now)
{
	long	last;

	atomic_fetch_add(&c->c_exim_invalid, 1);
	last = atomic_load(&c->c_lastexim);
	if ((long)now != last && atomic_compare_exchange_strong(
	    &c->c_lastexim, &last, (long)now))
		log_warnx("tlsrpt: invalid Exim event: %s", why);
}

/*
 * exim_dane_rec - r for an Exim connection to an MX host with usable
 * TLSA (STS-DANE-1: DANE, not MTA-STS, decided; policy type tlsa, the
 * host's records as policy-string, as the gate's probes); 0 when the
 * host has none in the cached DANE verdict, or no TLS outcome
 */
static int
exim_dane_rec(struct collect *c, struct exim_event *ev,
    struct journal_rec *r)
{
	struct buf	t = BUF_INIT;
	int		rc = 0;

	if (c->c_dane == NULL || !dane_cache_peek_host(c->c_dane, ev->domain,
	    ev->mx, &t) || exim_event_classify_dane(ev) != ST_OK)
		goto out;
	JREC_SET(r, ptype, "tlsa");
	if (policy_archive_put(c->c_state_dir, t.b_data, t.b_len,
	    r->phash) != 0)
		r->phash[0] = '\0';
	rc = 1;
out:
	buf_free(&t);
	return rc;
}

int
collect_exim_event(struct collect *c, const struct exim_event *in,
    time_t now)
{
	struct exim_event	 ev = *in;
	struct sts_lookup	 l;
	struct journal_rec	 r;
	enum status		 st, pst = ST_TEMPFAIL;
	int			 rc = 0;

	memset(&l, 0, sizeof(l));
	memset(&r, 0, sizeof(r));
	if (exim_dane_rec(c, &ev, &r)) {	/* STS-DANE-1 */
		if (ev.conn[0] != '\0' && conn_seen(c, ev.conn, now))
			goto out;
		goto journal;
	}
	/* The domain's policy first, then classify for it. */
	if (c->c_cache != NULL) {
		pst = sts_cache_lookup(c->c_cache, ev.domain,
		    STS_LOOKUP_CACHED | STS_LOOKUP_PEEK, &l);
		if (pst == ST_OK && l.policy != NULL && l.policy->p_mode ==
		    STS_MODE_NONE)
			pst = ST_NOTFOUND;	/* mode none: no policy */
	}
	st = exim_event_classify(&ev, now, pst != ST_OK);
	if (st != ST_OK || (pst != ST_OK && pst != ST_NOTFOUND))
		goto out;		/* no TLS outcome, or an unknown domain */
	if (ev.conn[0] != '\0' && conn_seen(c, ev.conn, now))
		goto out;		/* this connection is journaled */
	if (pst == ST_OK)
		policy_archive_rec_sts(&r, c->c_state_dir, l.policy, l.id);
	else
		JREC_SET(&r, ptype, "no-policy-found");
journal:
	r.type = JREC_SESSION;
	r.time = now;
	JREC_SET(&r, src, "exim");
	JREC_SET(&r, domain, ev.domain);
	r.result = ev.result;
	JREC_SET(&r, mx, ev.mx);
	JREC_SET(&r, rip, ev.ip);
	JREC_SET(&r, sip, ev.sip);
	/* a veto's connection was never made: our address towards the
	 * host is what it would have been (RFC 8460 4.3 sending-mta-ip) */
	if (r.sip[0] == '\0' && r.rip[0] != '\0')
		(void)srcaddr_for(r.rip, r.sip, sizeof(r.sip));
	JREC_SET(&r, reason, ev.reason);
	if (c->c_journal == NULL || journal_append(c->c_journal, &r) != 0) {
		atomic_fetch_add(&c->c_lost, 1);	/* journal logs */
		goto out;
	}
	atomic_fetch_add(&c->c_exim, 1);
	log_debug(LOG_LEVEL_EVENTS, "tlsrpt: src=exim domain=%s "
	    "policy_type=%s result=%s mx=%s", r.domain, r.ptype,
	    tlsrpt_result_str(r.result), r.mx[0] ? r.mx : "-");
	rc = 1;
out:
	sts_lookup_clear(&l);
	return rc;
}

int
collect_exim_line(struct collect *c, const char *line, time_t now)
{
	struct exim_event	 ev;
	struct buf		 why = BUF_INIT;
	int			 rc = -1;

	if (exim_event_read(line, &ev, &why) == ST_OK)
		rc = collect_exim_event(c, &ev, now);
	else
		exim_invalid(c, buf_str(&why), now);
	buf_free(&why);
	return rc;
}

void
collect_exim(void *arg, const struct exim_event *ev)
{
	(void)collect_exim_event(arg, ev, clock_now());
}

void
collect_exim_invalid(void *arg, const char *why)
{
	exim_invalid(arg, why, clock_now());
}

int
collect_start(struct collect *c, struct journal *j)
{
	c->c_journal = j;
	if (c->c_fd < 0)
		return 0;		/* no socket: journal only */
	if (pthread_create(&c->c_worker, NULL, worker, c) != 0)
		return -1;
	if (pthread_create(&c->c_thread, NULL, receiver, c) != 0) {
		pthread_mutex_lock(&c->c_qmu);
		c->c_qdone = 1;
		pthread_cond_signal(&c->c_qcv);
		pthread_mutex_unlock(&c->c_qmu);
		pthread_join(c->c_worker, NULL);
		return -1;
	}
	c->c_started = 1;
	return 0;
}

void
collect_drain(struct collect *c)
{
	if (c == NULL || c->c_drained)
		return;
	c->c_drained = 1;
	if (c->c_started) {
		struct collect_stats cs;

		(void)write(c->c_stop[1], "x", 1);
		pthread_join(c->c_thread, NULL);
		pthread_mutex_lock(&c->c_qmu);	/* journal what is queued */
		c->c_qdone = 1;
		pthread_cond_signal(&c->c_qcv);
		pthread_mutex_unlock(&c->c_qmu);
		pthread_join(c->c_worker, NULL);
		collect_stats(c, &cs);
		log_info("tlsrpt: %lu datagrams, %lu records journaled, %lu "
		    "invalid, %lu dropped (queue full), %lu not journaled "
		    "(journal errors), %lu without their policy text, %lu "
		    "testing-mode successes not verified", cs.datagrams,
		    cs.records, cs.invalid, cs.dropped, cs.lost, cs.unarchived,
		    cs.unverified);
	}
	if (atomic_load(&c->c_exim) + atomic_load(&c->c_exim_invalid) > 0)
		log_info("tlsrpt: %lu Exim events journaled, %lu invalid",
		    (unsigned long)atomic_load(&c->c_exim),
		    (unsigned long)atomic_load(&c->c_exim_invalid));
}

void
collect_stop(struct collect *c)
{
	if (c == NULL)
		return;
	collect_drain(c);
	pthread_mutex_destroy(&c->c_qmu);
	pthread_cond_destroy(&c->c_qcv);
	pthread_mutex_destroy(&c->c_connmu);
	free(c->c_conns);
	if (c->c_fd >= 0)
		close(c->c_fd);
	if (c->c_path != NULL)
		(void)unlink(c->c_path);
	if (c->c_stop[0] >= 0) {
		close(c->c_stop[0]);
		close(c->c_stop[1]);
	}
	free(c->c_path);
	free(c->c_state_dir);
	free(c);
}

void
collect_stats(struct collect *c, struct collect_stats *s)
{
	s->datagrams = atomic_load(&c->c_datagrams);
	s->records = atomic_load(&c->c_records);
	s->invalid = atomic_load(&c->c_invalid);
	s->lost = atomic_load(&c->c_lost);
	s->dropped = atomic_load(&c->c_dropped);
	s->unarchived = atomic_load(&c->c_unarchived);
	s->exim = atomic_load(&c->c_exim);
	s->exim_invalid = atomic_load(&c->c_exim_invalid);
	s->unverified = atomic_load(&c->c_unverified);
}
