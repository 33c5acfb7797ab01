/*
 * policymap.c - socketmap (Postfix, Sendmail) and readsocket (Exim)
 * listener answering TLS policy queries from the policy cache
 *
 * SYNOPSIS
 *	#include "policymap.h"
 *
 *	struct policymap *policymap_new(const char *spec,
 *	    struct sts_cache *cache, const struct conf *conf,
 *	    struct buf *why);
 *	int policymap_start(struct policymap *pm);
 *	void policymap_set_overrides(struct policymap *pm,
 *	    const struct override *ov);
 *	void policymap_stop(struct policymap *pm);
 *	void policymap_reply(const char *name, const char *key,
 *	    enum status st, const struct sts_lookup *l,
 *	    enum override_action ov, int tempfail_on_dns, struct buf *out);
 *
 * DESCRIPTION
 *	Threads.  Reactor threads (half the CPUs, at least one; the
 *	environment variable STS_POLICYMAP_REACTORS overrides), each with
 *	its own epoll set, own the connections; reactor 0 also accepts and
 *	deals new connections round-robin.  A connection is in exactly one
 *	reactor's set (level-triggered) or with exactly one worker (out of
 *	every set), so no connection state is locked.  A reactor answers a
 *	request itself when the cache can answer it without network I/O
 *	(sts_cache_lookup with STS_LOOKUP_CACHED: the hot path, no
 *	epoll_ctl, no allocation but the cache's policy copy; a reply it
 *	made in the same clock second from an unchanged cache entry and
 *	override table is sent again from its memo); anything
 *	else (a cold domain, a due TXT check, a negative entry that ran
 *	out) goes to a small worker pool that calls sts_cache_lookup
 *	(STS_LOOKUP_ASYNC), which blocks only when nothing is known yet,
 *	writes the reply and gives the connection back.  Idle connections
 *	cost one epoll registration and a few hundred bytes; there is no
 *	thread per connection.
 *
 *	Framing.  A request starting with decimal digits and ':' is a
 *	netstring; its length is checked against POLICYMAP_MAX_QUERY as
 *	soon as the digits are read (oversize: "PERM", close), so an
 *	oversize request is never buffered.  Several requests per
 *	connection are answered in order.  Anything else is a line
 *	request (Exim ${readsocket}): it ends at LF or at the client's
 *	half-close; the reply is one line without terminator, then close.
 *	Sends use MSG_NOSIGNAL; a client that vanishes mid-request costs
 *	a lookup and an EPIPE, nothing else.
 *
 *	Replies (policymap_reply; see doc/README-policymap.md for the
 *	tables):
 *	  postfix, sendmail/sts: enforce -> "OK secure match=P:P
 *	      servername=hostname" with "*.d" written ".d" (Postfix and
 *	      Sendmail parent-domain syntax; see the README for the
 *	      difference to RFC 8461 4.1).  Everything else NOTFOUND.
 *	  postfix-tlsrpt: the same plus policy_type=sts policy_domain=
 *	      mx_host_pattern= (the "*." form kept) and { policy_string =
 *	      line } per policy line; testing -> "OK may" with the same
 *	      attributes, so Postfix 3.10+ reports testing-mode sessions
 *	      (STS-APP-2) without enforcing anything.
 *	  exim: "enforce domain=D mx=P:P id=I", "testing ...", "none";
 *	      with a key "D host" the reply is empty when Exim may connect
 *	      to host and a reason when it must not (tcp:connect veto).
 *	NOTFOUND (exim: "none") for no policy, mode none, overrides
 *	"skip", keys starting with ".", address literals, and single
 *	labels.  Patterns that are not DNS names (IP addresses) are left
 *	out of match=; an enforce policy with no usable pattern gets
 *	NOTFOUND, never an empty match= (postfix-tlspol #95).  Replies are
 *	kept under POLICYMAP_MAX_REPLY by dropping policy_string, then the
 *	TLS-RPT attributes.  TEMP only with policymap_tempfail = yes and
 *	only when DNS failed with nothing cached; otherwise NOTFOUND (fail
 *	open, RFC 8461 5).
 *
 * DIAGNOSTICS
 *	policymap_new() returns NULL with one line in why.  At run time
 *	protocol errors are logged (rate limited) and answered with PERM.
 *
 * SEE ALSO
 *	enforcement-anchors.md 4.1-4.3, rfc-checklist.md 1.1, 1.7, 1.8,
 *	doc/README-policymap.md
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "domain.h"
#include "log.h"
#include "mx_match.h"
#include "override.h"
#include "policymap.h"
#include "sts_cache.h"
#include "sts_policy.h"
#include "xmalloc.h"

#define PM_MAX_LISTEN	8
#define PM_MAX_REACTORS	4
#define PM_WORKERS	8
#define PM_IN_INIT	256
#define PM_EVENTS	64
#define PM_REPLY_ROOM	(POLICYMAP_MAX_REPLY - 16)	/* "100000:" + "," */
#define PM_MEMO_SLOTS	2048	/* reply memo per reactor, direct-mapped */
#define PM_MEMO_KEY_MAX	256	/* longer requests are not memoized */
#define PM_MEMO_REPLY_MAX 1024	/* nor longer (framed) replies */

/* --- the pure part: replies ------------------------------------------- */

enum policymap_flavour
policymap_flavour(const char *name)
{
	if (name == NULL)
		return PM_FLAVOUR_UNKNOWN;
	if (strcmp(name, "postfix") == 0)
		return PM_FLAVOUR_POSTFIX;
	if (strcmp(name, "postfix-tlsrpt") == 0)
		return PM_FLAVOUR_POSTFIX_TLSRPT;
	if (strcmp(name, "sendmail") == 0 || strcmp(name, "sts") == 0)
		return PM_FLAVOUR_SENDMAIL;
	if (strcmp(name, "exim") == 0)
		return PM_FLAVOUR_EXIM;
	if (strcmp(name, "exim-tlsrpt") == 0)
		return PM_FLAVOUR_REPORT;
	return PM_FLAVOUR_UNKNOWN;
}

/* all_digits_labels - 1 if every dot-separated label is all digits */
static int
all_digit_labels(const char *s)
{
	int	digit_only = 1, any = 0;

	for (; *s; s++) {
		if (*s == '.') {
			if (!any)
				return 0;
			any = 0;
			continue;
		}
		any = 1;
		if (!isdigit((unsigned char)*s))
			digit_only = 0;
	}
	return digit_only;
}

/* why_puts - a reason for a caller that wants one */
static void
why_puts(struct buf *why, const char *s)
{
	if (why != NULL)
		buf_puts(why, s);
}

enum status
policymap_key_domain(const char *key, char *domain, struct buf *why)
{
	char		 tmp[DOMAIN_MAX + 2];
	const char	*p, *end;
	size_t		 len;

	domain[0] = '\0';
	if (key == NULL || *key == '\0') {
		why_puts(why, "empty key");
		return ST_INVALID;
	}
	if (key[0] == '.') {			/* STS-PD-3: no parent lookups */
		why_puts(why, "parent-domain key");
		return ST_NOTFOUND;
	}
	p = key;
	if (*p == '[') {			/* [relay] or [relay]:port */
		if ((end = strchr(p, ']')) == NULL) {
			why_puts(why, "unbalanced '['");
			return ST_INVALID;
		}
		p++;
		len = (size_t)(end - p);
		end++;
		if (*end == ':')
			end++;
		else if (*end != '\0') {
			why_puts(why, "junk after ']'");
			return ST_INVALID;
		}
		for (; *end; end++)
			if (!isdigit((unsigned char)*end) &&
			    !isalpha((unsigned char)*end)) {
				why_puts(why, "bad port");
				return ST_INVALID;
			}
		if (len >= 5 && strncasecmp(p, "ipv6:", 5) == 0) {
			why_puts(why, "address literal");
			return ST_NOTFOUND;		/* STS-PD-4 */
		}
	} else if ((end = strchr(p, ':')) != NULL) {	/* relay:port */
		len = (size_t)(end - p);
		if (strchr(end + 1, ':') != NULL) {
			why_puts(why, "address literal");	/* bare IPv6 */
			return ST_NOTFOUND;
		}
	} else
		len = strlen(p);
	if (len == 0 || len > DOMAIN_MAX + 1) {
		why_puts(why, len ? "name too long" : "empty name");
		return ST_INVALID;
	}
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	if (all_digit_labels(tmp)) {
		why_puts(why, "address literal");	/* STS-PD-4 */
		return ST_NOTFOUND;
	}
	if (domain_normalize(tmp, domain, why) != ST_OK) {
		domain[0] = '\0';
		return ST_INVALID;
	}
	if (strchr(domain, '.') == NULL) {
		/* Decision: no MTA-STS lookups for single labels (no TLD
		 * publishes one; saves a query per local next hop). */
		why_puts(why, "single-label name");
		domain[0] = '\0';
		return ST_NOTFOUND;
	}
	return ST_OK;
}

/* usable_pattern - a policy mx pattern we may hand to an MTA */
static int
usable_pattern(const char *p)
{
	const char	*d = p[0] == '*' && p[1] == '.' ? p + 2 : p;

	if (mx_pattern_check(p, NULL) != ST_OK)
		return 0;
	if (all_digit_labels(d))			/* never an IP */
		return 0;
	return 1;
}

/* seen_before - 1 if pattern i repeats an earlier usable one */
static int
seen_before(const struct sts_policy *pol, size_t i)
{
	size_t	j;

	for (j = 0; j < i; j++)
		if (strcmp(pol->p_mx[j], pol->p_mx[i]) == 0)
			return 1;
	return 0;
}

/* put_match - "match=a:.b"; returns the number of patterns written */
static size_t
put_match(struct buf *out, const struct sts_policy *pol)
{
	size_t		i, n = 0;
	const char	*p;

	for (i = 0; i < pol->p_nmx; i++) {
		p = pol->p_mx[i];
		if (!usable_pattern(p) || seen_before(pol, i))
			continue;
		buf_puts(out, n++ ? ":" : "match=");
		/* "*.d" -> ".d": Postfix/Sendmail parent-domain syntax */
		buf_puts(out, p[0] == '*' ? p + 1 : p);
	}
	return n;
}

/* usable_count - patterns put_match() would write */
static size_t
usable_count(const struct sts_policy *pol)
{
	size_t	i, n = 0;

	for (i = 0; i < pol->p_nmx; i++)
		if (usable_pattern(pol->p_mx[i]) && !seen_before(pol, i))
			n++;
	return n;
}

/* policy_string_ok - a policy line Postfix can carry in { } */
static int
policy_string_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s == '{' || *s == '}' || (unsigned char)*s < 0x20 ||
		    *s == 0x7f)
			return 0;
	return 1;
}

/* put_tlsrpt - the Postfix 3.10 STS attributes */
static void
put_tlsrpt(struct buf *out, const struct sts_policy *pol, const char *domain,
    int with_strings)
{
	char	**lines = NULL;
	size_t	  i, n;

	buf_printf(out, " policy_type=sts policy_domain=%s", domain);
	for (i = 0; i < pol->p_nmx; i++)
		if (usable_pattern(pol->p_mx[i]) && !seen_before(pol, i))
			buf_printf(out, " mx_host_pattern=%s", pol->p_mx[i]);
	if (!with_strings)
		return;
	n = sts_policy_lines(pol, &lines);
	for (i = 0; i < n; i++) {
		if (policy_string_ok(lines[i]))
			buf_printf(out, " { policy_string = %s }", lines[i]);
		free(lines[i]);
	}
	free(lines);
}

/* put_socketmap - the postfix, postfix-tlsrpt and sendmail replies */
static void
put_socketmap(struct buf *out, enum policymap_flavour fl,
    const struct sts_policy *pol, enum sts_mode mode, const char *domain)
{
	size_t	start = out->b_len;

	if (fl == PM_FLAVOUR_POSTFIX_TLSRPT && mode == STS_MODE_TESTING) {
		/* STS-APP-2: report, deliver as if no policy */
		buf_puts(out, "OK may");
		put_tlsrpt(out, pol, domain, 1);
		if (out->b_len - start > PM_REPLY_ROOM) {
			out->b_len = start;
			buf_puts(out, "OK may");
			put_tlsrpt(out, pol, domain, 0);
		}
		if (out->b_len - start > PM_REPLY_ROOM) {
			out->b_len = start;
			out->b_data[start] = '\0';
			buf_puts(out, "NOTFOUND ");
		}
		return;
	}
	if (mode != STS_MODE_ENFORCE) {
		buf_puts(out, "NOTFOUND ");
		return;
	}
	buf_puts(out, "OK secure ");
	put_match(out, pol);
	buf_puts(out, " servername=hostname");
	if (fl != PM_FLAVOUR_POSTFIX_TLSRPT)
		return;
	{
		size_t	base = out->b_len;

		put_tlsrpt(out, pol, domain, 1);
		if (out->b_len - start > PM_REPLY_ROOM) {
			out->b_len = base;
			out->b_data[base] = '\0';
			put_tlsrpt(out, pol, domain, 0);
		}
		if (out->b_len - start > PM_REPLY_ROOM) {
			/* Plain "secure": still enforces, no TLS-RPT. */
			out->b_len = base;
			out->b_data[base] = '\0';
		}
	}
}

/* put_exim - the one-line readsocket reply */
static void
put_exim(struct buf *out, const struct sts_policy *pol, enum sts_mode mode,
    const char *domain, const char *id, const char *host)
{
	size_t	i, n = 0;

	if (host != NULL) {
		/* tcp:connect veto: empty = connect; text = do not */
		if (mode != STS_MODE_ENFORCE || mx_match_policy(pol, host))
			return;
		buf_printf(out, "MX host %s does not match the MTA-STS policy "
		    "of %s", host, domain);
		return;
	}
	buf_printf(out, "%s domain=%s mx=", mode == STS_MODE_ENFORCE ?
	    "enforce" : "testing", domain);
	for (i = 0; i < pol->p_nmx; i++)
		if (usable_pattern(pol->p_mx[i]) && !seen_before(pol, i))
			buf_printf(out, "%s%s", n++ ? ":" : "", pol->p_mx[i]);
	if (id != NULL && *id != '\0')
		buf_printf(out, " id=%s", id);
}

/* put_none - "no policy" in the flavour's words */
static void
put_none(struct buf *out, enum policymap_flavour fl, int mx_check)
{
	if (fl == PM_FLAVOUR_EXIM) {
		if (!mx_check)
			buf_puts(out, "none");
	} else
		buf_puts(out, "NOTFOUND ");
}

/*
 * reply_domain - the reply for a key already reduced to domain (and,
 * exim "domain host", host); policymap_reply() after the key checks
 */
static void
reply_domain(enum policymap_flavour fl, const char *domain, const char *host,
    enum status st, const struct sts_lookup *l, enum override_action ov,
    int tempfail_on_dns, struct buf *out)
{
	const struct sts_policy	*pol = l != NULL ? l->policy : NULL;
	enum sts_mode		 mode;

	if (ov == OVERRIDE_SKIP) {
		put_none(out, fl, host != NULL);
		return;
	}
	if (st == ST_TEMPFAIL && pol == NULL) {
		/* RFC 8461 5: fail open unless the operator wants TEMP */
		if (!tempfail_on_dns)
			put_none(out, fl, host != NULL);
		else if (fl == PM_FLAVOUR_EXIM) {
			if (host == NULL)
				buf_printf(out, "temp %s", l && l->reason[0] ?
				    l->reason : "DNS failure");
		} else
			buf_printf(out, "TEMP %s", l && l->reason[0] ?
			    l->reason : "DNS failure");
		return;
	}
	if (st != ST_OK || pol == NULL) {
		put_none(out, fl, host != NULL);
		return;
	}
	mode = pol->p_mode;
	if (ov == OVERRIDE_ENFORCE)
		mode = STS_MODE_ENFORCE;
	else if (ov == OVERRIDE_TESTING)
		mode = STS_MODE_TESTING;
	if (fl == PM_FLAVOUR_POSTFIX || fl == PM_FLAVOUR_SENDMAIL) {
		/* The hot path: one pass over the patterns. */
		size_t	start = out->b_len;

		if (mode != STS_MODE_ENFORCE) {
			buf_puts(out, "NOTFOUND ");
			return;
		}
		buf_puts(out, "OK secure ");
		if (put_match(out, pol) == 0) {	/* never an empty match= */
			out->b_len = start;
			out->b_data[start] = '\0';
			buf_puts(out, "NOTFOUND ");
			return;
		}
		buf_puts(out, " servername=hostname");
		return;
	}
	if (mode == STS_MODE_NONE || usable_count(pol) == 0) {
		/* STS-APP-3; and never an empty match= */
		put_none(out, fl, host != NULL);
		return;
	}
	if (fl == PM_FLAVOUR_EXIM)
		put_exim(out, pol, mode, domain, l->id, host);
	else
		put_socketmap(out, fl, pol, mode, domain);
}

void
policymap_reply(const char *name, const char *key, enum status st,
    const struct sts_lookup *l, enum override_action ov, int tempfail_on_dns,
    struct buf *out)
{
	enum policymap_flavour	 fl = policymap_flavour(name);
	char			 domain[DOMAIN_MAX + 1], dkey[DOMAIN_MAX + 8];
	const char		*host = NULL, *sp;
	enum status		 kst;
	size_t			 n;

	if (fl == PM_FLAVOUR_UNKNOWN) {
		buf_puts(out, "PERM unknown map name");
		return;
	}
	if (fl == PM_FLAVOUR_REPORT)
		return;				/* reports get "" */
	if (key == NULL)
		key = "";
	/* exim: "domain host" asks whether Exim may connect to host */
	if (fl == PM_FLAVOUR_EXIM && (sp = strchr(key, ' ')) != NULL) {
		n = (size_t)(sp - key);
		if (n >= sizeof(dkey) || mx_host_check(sp + 1, NULL) != ST_OK) {
			buf_puts(out, "");		/* fail open */
			return;
		}
		memcpy(dkey, key, n);
		dkey[n] = '\0';
		key = dkey;
		host = sp + 1;
	}
	kst = policymap_key_domain(key, domain, NULL);
	if (kst == ST_INVALID) {
		if (fl == PM_FLAVOUR_EXIM)
			buf_puts(out, host ? "" : "none");
		else
			buf_puts(out, "NOTFOUND ");	/* not ours to judge */
		return;
	}
	if (kst != ST_OK) {
		put_none(out, fl, host != NULL);
		return;
	}
	reply_domain(fl, domain, host, st, l, ov, tempfail_on_dns, out);
}

/* --- the listener ------------------------------------------------------ */

enum conn_mode { CM_UNKNOWN = 0, CM_NETSTRING, CM_LINE };

struct conn {
	int		 c_fd;
	int		 c_reactor;
	enum conn_mode	 c_mode;
	int		 c_eof;		/* peer half-closed or gone */
	int		 c_closing;	/* close once out is drained */
	char		*c_in;
	size_t		 c_inlen, c_incap;
	size_t		 c_need;	/* netstring: bytes of the frame */
	char		*c_out;
	size_t		 c_outlen, c_outoff, c_outcap;
	char		*c_req;		/* request parked for a worker */
	size_t		 c_consume;	/* bytes of c_in the request used */
	uint32_t	 c_events;	/* registered epoll events; 0: none */
	int		 c_inset;	/* in its reactor's epoll set */
	struct conn	*c_qnext;	/* worker queue */
	struct conn	*c_prev, *c_next;	/* all connections */
	/* The kernel orders the hand-over through epoll_ctl/epoll_wait;
	 * this release/acquire pair says so to the compiler and TSan. */
	atomic_uint	 c_handoff;
};

/*
 * The reply memo.  A reply is a pure function of the request, the
 * cache entry of its domain, the override table and the clock second
 * (every time rule of the cache and of answer() counts whole seconds).
 * A reactor keeps the framed replies it made, each with what it was
 * made from: the cache's stamp for the entry, the override generation
 * and the second.  While all three are unchanged the same reply is
 * sent again without parsing or looking anything up; any change makes
 * the next request take the full path.  Owned by one reactor: no locks.
 */
struct memo {
	uint64_t	 m_hash;
	uint64_t	 m_stamp;
	time_t		 m_second;
	unsigned	 m_ovgen;
	int		 m_hasstamp;	/* 0: the reply needs no cache entry */
	size_t		 m_klen, m_rlen, m_cap;
	char		*m_data;	/* request, then the framed reply */
};

/* what answer() made its reply from, when it may be memoized */
struct memo_note {
	int		 ok;
	int		 hasstamp;
	uint64_t	 stamp;
	time_t		 second;
	unsigned	 ovgen;
};

struct reactor {
	struct policymap	*r_pm;
	int			 r_idx;
	int			 r_ep;
	pthread_t		 r_thread;
	int			 r_started;
	struct memo		*r_memo;	/* PM_MEMO_SLOTS */
};

struct policymap {
	struct sts_cache	*pm_cache;
	int			 pm_tempfail;
	int			 pm_txt_check;
	int			 pm_refresh;
	int			 pm_lfd[PM_MAX_LISTEN];
	char			*pm_lpath[PM_MAX_LISTEN];
	int			 pm_nlisten;
	int			 pm_evfd;		/* stop signal */
	int			 pm_nreactors;
	struct reactor		 pm_r[PM_MAX_REACTORS];
	atomic_uint		 pm_rr;
	atomic_int		 pm_stop;
	int			 pm_started;

	pthread_rwlock_t	 pm_ovlock;
	const struct override	*pm_ov;
	atomic_uint		 pm_ovgen;	/* bumped with pm_ov */

	void			(*pm_report)(void *, const char *);
	void			*pm_report_arg;

	atomic_ulong		 pm_requests, pm_memo_hits, pm_nconns;

	pthread_mutex_t		 pm_qmu;	/* worker queue */
	pthread_cond_t		 pm_qcv;
	struct conn		*pm_qhead, *pm_qtail;
	pthread_t		 pm_workers[PM_WORKERS];
	int			 pm_nworkers;

	pthread_mutex_t		 pm_cmu;	/* connection list */
	struct conn		*pm_conns;
	atomic_long		 pm_lastwarn;
};

static void	conn_run(struct policymap *, struct reactor *, struct conn *,
		    struct buf *);

/* warn_limited - at most one protocol warning per second */
static void
warn_limited(struct policymap *pm, const char *what, int fd)
{
	long	now = (long)time(NULL), last = atomic_load(&pm->pm_lastwarn);

	if (now == last || !atomic_compare_exchange_strong(&pm->pm_lastwarn,
	    &last, now))
		return;
	log_warnx("policymap: fd=%d %s", fd, what);
}

static int
set_nonblock(int fd)
{
	int	fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* listen_unix - bind a unix socket, replacing a stale one */
static int
listen_unix(const char *path, struct buf *why)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;
	mode_t			old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		buf_printf(why, "%s: path too long", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		buf_printf(why, "socket: %s", strerror(errno));
		return -1;
	}
	/* Postfix's smtp(8) runs as another user: anyone may query. */
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		buf_printf(why, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (listen(fd, 1024) < 0) {
		buf_printf(why, "listen %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* listen_inet - bind host:port ("" host: every address) */
static int
listen_inet(const char *host, const char *port, int family, struct buf *why)
{
	struct addrinfo	hints, *res, *ai;
	int		fd = -1, on = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		buf_printf(why, "%s port %s: %s", *host ? host : "*", port,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0)
		buf_printf(why, "bind %s port %s: %s", *host ? host : "*",
		    port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* open_one - one socket spec */
static int
open_one(struct policymap *pm, const char *spec, struct buf *why)
{
	char		 host[300], port[32];
	const char	*a, *at, *colon;
	int		 fd, family = AF_UNSPEC;

	if (pm->pm_nlisten == PM_MAX_LISTEN) {
		buf_printf(why, "too many sockets");
		return -1;
	}
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		a = strchr(spec, ':') + 1;
		if ((fd = listen_unix(a, why)) < 0)
			return -1;
		pm->pm_lpath[pm->pm_nlisten] = xstrdup(a);
	} else if (strncmp(spec, "inet:", 5) == 0 ||
	    strncmp(spec, "inet6:", 6) == 0) {
		family = spec[4] == '6' ? AF_INET6 : AF_INET;
		a = strchr(spec, ':') + 1;
		host[0] = '\0';
		if ((at = strchr(a, '@')) != NULL) {		/* port@host */
			snprintf(port, sizeof(port), "%.*s", (int)(at - a), a);
			snprintf(host, sizeof(host), "%s", at + 1);
		} else if ((colon = strrchr(a, ':')) != NULL) {	/* host:port */
			snprintf(host, sizeof(host), "%.*s", (int)(colon - a),
			    a);
			snprintf(port, sizeof(port), "%s", colon + 1);
			if (host[0] == '[' && host[strlen(host) - 1] == ']') {
				memmove(host, host + 1, strlen(host));
				host[strlen(host) - 1] = '\0';
				family = AF_INET6;
			}
		} else
			snprintf(port, sizeof(port), "%s", a);
		if (port[0] == '\0' || strspn(port, "0123456789") !=
		    strlen(port)) {
			buf_printf(why, "%s: bad port", spec);
			return -1;
		}
		if (strchr(host, ':') != NULL)
			family = AF_INET6;
		if ((fd = listen_inet(host, port, family, why)) < 0)
			return -1;
	} else {
		buf_printf(why, "%s: expected unix:/path or inet:port@host",
		    spec);
		return -1;
	}
	if (set_nonblock(fd) < 0) {
		buf_printf(why, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	pm->pm_lfd[pm->pm_nlisten++] = fd;
	return 0;
}

struct policymap *
policymap_new(const char *spec, struct sts_cache *cache, const struct conf *c,
    struct buf *why)
{
	struct policymap	*pm = xcalloc(1, sizeof(*pm));
	char			*copy, *tok, *save = NULL;
	int			 i;

	pm->pm_cache = cache;
	pm->pm_tempfail = c ? c->policymap_tempfail : 0;
	pm->pm_txt_check = c ? c->txt_check_interval : 300;
	pm->pm_refresh = c ? c->refresh_interval : 86400;
	pm->pm_evfd = -1;
	for (i = 0; i < PM_MAX_REACTORS; i++)
		pm->pm_r[i].r_ep = -1;
	pthread_rwlock_init(&pm->pm_ovlock, NULL);
	pthread_mutex_init(&pm->pm_qmu, NULL);
	pthread_cond_init(&pm->pm_qcv, NULL);
	pthread_mutex_init(&pm->pm_cmu, NULL);

	copy = xstrdup(spec ? spec : "");
	for (tok = strtok_r(copy, " \t,", &save); tok;
	    tok = strtok_r(NULL, " \t,", &save))
		if (open_one(pm, tok, why) < 0) {
			free(copy);
			policymap_stop(pm);
			return NULL;
		}
	free(copy);

	/* Half the CPUs: the MTA's own processes (the clients) need the
	 * rest, and a reactor that sleeps less answers sooner. */
	i = (int)sysconf(_SC_NPROCESSORS_ONLN) / 2;
	if (getenv("STS_POLICYMAP_REACTORS") != NULL)
		i = atoi(getenv("STS_POLICYMAP_REACTORS"));
	pm->pm_nreactors = i < 1 ? 1 : i > PM_MAX_REACTORS ? PM_MAX_REACTORS : i;
	if ((pm->pm_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		buf_printf(why, "eventfd: %s", strerror(errno));
		policymap_stop(pm);
		return NULL;
	}
	for (i = 0; i < pm->pm_nreactors; i++) {
		struct epoll_event	ev;
		int			j;

		pm->pm_r[i].r_pm = pm;
		pm->pm_r[i].r_idx = i;
		pm->pm_r[i].r_memo = xcalloc(PM_MEMO_SLOTS,
		    sizeof(struct memo));
		if ((pm->pm_r[i].r_ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
			buf_printf(why, "epoll_create1: %s", strerror(errno));
			policymap_stop(pm);
			return NULL;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = NULL;			/* NULL: the stop fd */
		(void)epoll_ctl(pm->pm_r[i].r_ep, EPOLL_CTL_ADD, pm->pm_evfd,
		    &ev);
		if (i != 0)
			continue;
		for (j = 0; j < pm->pm_nlisten; j++) {
			ev.events = EPOLLIN;
			/* listeners: small integers cast to pointers */
			ev.data.ptr = (void *)(intptr_t)(j + 1);
			(void)epoll_ctl(pm->pm_r[0].r_ep, EPOLL_CTL_ADD,
			    pm->pm_lfd[j], &ev);
		}
	}
	return pm;
}

/* --- connections -------------------------------------------------------- */

static struct conn *
conn_new(struct policymap *pm, int fd)
{
	struct conn	*c = xcalloc(1, sizeof(*c));

	c->c_fd = fd;
	c->c_reactor = (int)(atomic_fetch_add(&pm->pm_rr, 1) %
	    (unsigned)pm->pm_nreactors);
	atomic_fetch_add_explicit(&pm->pm_nconns, 1, memory_order_relaxed);
	pthread_mutex_lock(&pm->pm_cmu);
	c->c_next = pm->pm_conns;
	if (pm->pm_conns)
		pm->pm_conns->c_prev = c;
	pm->pm_conns = c;
	pthread_mutex_unlock(&pm->pm_cmu);
	return c;
}

static void
conn_free(struct policymap *pm, struct conn *c)
{
	pthread_mutex_lock(&pm->pm_cmu);
	if (c->c_prev)
		c->c_prev->c_next = c->c_next;
	else
		pm->pm_conns = c->c_next;
	if (c->c_next)
		c->c_next->c_prev = c->c_prev;
	pthread_mutex_unlock(&pm->pm_cmu);
	atomic_fetch_sub_explicit(&pm->pm_nconns, 1, memory_order_relaxed);
	if (c->c_fd >= 0)
		close(c->c_fd);		/* also leaves the epoll set */
	free(c->c_in);
	free(c->c_out);
	free(c->c_req);
	free(c);
}

/*
 * conn_arm - make c's reactor wait for want (EPOLLIN, EPOLLOUT or 0 =
 * nothing, while a worker has it).  Level-triggered: the hot path (a
 * reactor answering from the cache) never calls epoll_ctl.  Only the
 * thread that owns c calls this; with want != 0 c goes (back) to its
 * reactor and the caller must not touch it afterwards.
 */
static int
conn_arm(struct policymap *pm, struct conn *c, uint32_t want)
{
	struct epoll_event	ev;
	int			fd = c->c_fd, ep = pm->pm_r[c->c_reactor].r_ep;
	int			op = c->c_inset ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (want == 0) {
		/* Out of the set: EPOLLHUP/EPOLLERR come even with no
		 * events asked for, and the reactor must not see c. */
		if (!c->c_inset)
			return 0;
		c->c_inset = 0;
		c->c_events = 0;
		if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) < 0) {
			log_warn("policymap: epoll_ctl");
			conn_free(pm, c);
			return -1;
		}
		return 0;
	}
	if (c->c_inset && c->c_events == want)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = want | EPOLLRDHUP;
	ev.data.ptr = c;
	c->c_events = want;
	c->c_inset = 1;
	/* From here on c may belong to the reactor: touch nothing of it. */
	atomic_fetch_add_explicit(&c->c_handoff, 1, memory_order_release);
	if (epoll_ctl(ep, op, fd, &ev) < 0) {
		log_warn("policymap: epoll_ctl");
		conn_free(pm, c);	/* the reactor never saw it */
		return -1;
	}
	return 0;
}

static void
out_append(struct conn *c, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (c->c_outlen + n > c->c_outcap) {
		c->c_outcap = (c->c_outlen + n) * 2 + 64;
		c->c_out = xrealloc(c->c_out, c->c_outcap);
	}
	memcpy(c->c_out + c->c_outlen, s, n);
	c->c_outlen += n;
}

/* put_reply - frame one reply for the connection's mode */
static void
put_reply(struct conn *c, const struct buf *r)
{
	char	 hdr[24], *p = hdr + sizeof(hdr);
	size_t	 len = r->b_len, hlen, need;

	if (c->c_mode == CM_LINE) {
		out_append(c, buf_str(r), r->b_len);
		c->c_closing = 1;
		return;
	}
	/* "len:" + reply + ",": no printf on the hot path */
	*--p = ':';
	do {
		*--p = (char)('0' + len % 10);
		len /= 10;
	} while (len > 0);
	hlen = (size_t)(hdr + sizeof(hdr) - p);
	need = c->c_outlen + hlen + r->b_len + 1;
	if (need > c->c_outcap) {
		c->c_outcap = need * 2 + 64;
		c->c_out = xrealloc(c->c_out, c->c_outcap);
	}
	memcpy(c->c_out + c->c_outlen, p, hlen);
	if (r->b_len > 0)
		memcpy(c->c_out + c->c_outlen + hlen, r->b_data, r->b_len);
	c->c_out[need - 1] = ',';
	c->c_outlen = need;
}

/* perm_close - a protocol error: PERM reply, then close */
static void
perm_close(struct policymap *pm, struct conn *c, const char *what)
{
	struct buf	r = BUF_INIT;

	warn_limited(pm, what, c->c_fd);
	buf_printf(&r, c->c_mode == CM_LINE ? "error %s" : "PERM %s", what);
	if (c->c_mode == CM_UNKNOWN)
		c->c_mode = CM_NETSTRING;
	put_reply(c, &r);
	buf_free(&r);
	c->c_closing = 1;
	c->c_inlen = 0;
}

/* split_request - "name key" in place; a line without a known map name
 * is an exim key */
static void
split_request(char *req, int line, const char **name, const char **key)
{
	char	*sp = strchr(req, ' ');

	if (sp != NULL) {
		*sp = '\0';
		if (!line || policymap_flavour(req) != PM_FLAVOUR_UNKNOWN) {
			*name = req;
			*key = sp + 1;
			return;
		}
		*sp = ' ';
	}
	if (line) {
		*name = "exim";
		*key = req;
	} else {
		*name = req;
		*key = "";
	}
}

/* lower_key - Postfix folds keys; Sendmail and Exim may not */
static void
lower_key(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * answer - reply to one request into r.  may_block 0: only from the
 * cache without I/O; returns 0 when a worker must do it.
 */
static int
answer(struct policymap *pm, char *req, int line, int may_block, struct buf *r,
    struct memo_note *mn)
{
	const char		*name, *key, *sp, *dk;
	char			 domain[DOMAIN_MAX + 1], dkey[DOMAIN_MAX + 8];
	struct sts_lookup	 l;
	enum policymap_flavour	 fl;
	enum override_action	 ov;
	enum status		 st;
	time_t			 now, iv;
	size_t			 n;
	int			 due;
	struct memo_note	 note;

	memset(&note, 0, sizeof(note));
	note.second = now = clock_now();	/* before anything is read */
	note.ovgen = atomic_load_explicit(&pm->pm_ovgen, memory_order_acquire);
	note.ok = 1;			/* so far: depends on the request only */
	lower_key(req);
	split_request(req, line, &name, &key);
	/* req stays whole for a worker: answer() may run twice on it */
	fl = policymap_flavour(name);
	if (fl == PM_FLAVOUR_REPORT) {		/* a TLS outcome from Exim */
		note.ok = 0;			/* a side effect: no memo */
		if (!may_block)
			goto defer;		/* it writes the journal */
		if (pm->pm_report != NULL)
			pm->pm_report(pm->pm_report_arg, key);
		goto done;			/* empty reply */
	}
	if (fl == PM_FLAVOUR_UNKNOWN || *key == '\0') {
		policymap_reply(name, key, ST_NOTFOUND, NULL, OVERRIDE_NONE, 0,
		    r);
		goto done;
	}
	dk = key;
	if ((sp = strchr(key, ' ')) != NULL) {		/* exim "domain host" */
		n = (size_t)(sp - key);
		if (n >= sizeof(dkey))
			n = 0;
		memcpy(dkey, key, n);
		dkey[n] = '\0';
		dk = dkey;
	}
	if (policymap_key_domain(dk, domain, NULL) != ST_OK) {
		policymap_reply(name, key, ST_NOTFOUND, NULL, OVERRIDE_NONE, 0,
		    r);
		goto done;
	}
	pthread_rwlock_rdlock(&pm->pm_ovlock);
	note.ovgen = atomic_load_explicit(&pm->pm_ovgen, memory_order_relaxed);
	ov = override_lookup(pm->pm_ov, domain);	/* the table of ovgen */
	pthread_rwlock_unlock(&pm->pm_ovlock);
	if (ov == OVERRIDE_SKIP) {
		policymap_reply(name, key, ST_NOTFOUND, NULL, ov, 0, r);
		goto done;
	}
	if (!may_block) {
		st = sts_cache_lookup(pm->pm_cache, domain, STS_LOOKUP_CACHED,
		    &l);
		note.hasstamp = 1;
		note.stamp = l.stamp;
		if (st == ST_OK && l.policy != NULL) {
			iv = pm->pm_refresh;
			if (l.policy->p_max_age / 2 < iv)
				iv = (time_t)(l.policy->p_max_age / 2);
			due = now - l.checked >= pm->pm_txt_check ||
			    now - l.fetched >= iv;
			if (due) {			/* let ASYNC queue it */
				sts_lookup_clear(&l);
				goto defer;
			}
		} else if (st != ST_NOTFOUND) {
			sts_lookup_clear(&l);
			goto defer;			/* unknown, or DNS trouble */
		}
	} else {
		st = sts_cache_lookup(pm->pm_cache, domain, STS_LOOKUP_ASYNC,
		    &l);
		note.ok = 0;		/* may have queued a check: not pure */
	}
	if (fl != PM_FLAVOUR_EXIM && dk == key)	/* key is the domain's */
		reply_domain(fl, domain, NULL, st, &l, ov, pm->pm_tempfail, r);
	else
		policymap_reply(name, key, st, &l, ov, pm->pm_tempfail, r);
	if (fl == PM_FLAVOUR_EXIM && dk != key && r->b_len > 0 &&
	    st == ST_OK && pm->pm_report != NULL) {
		/* Exim is told not to connect to this MX host: a session
		 * the policy refused (a reply text is only ever a veto).
		 * Journaling is file I/O: a worker's, not a reactor's. */
		char	ev[DOMAIN_MAX * 2 + 32];

		if (!may_block) {
			sts_lookup_clear(&l);
			buf_reset(r);
			goto defer;
		}

		snprintf(ev, sizeof(ev), "domain=%s mx=%s veto=1", domain,
		    sp + 1);
		pm->pm_report(pm->pm_report_arg, ev);
	}
	if (st == ST_TEMPFAIL && log_getverbose() > 0)
		log_debug(1, "policymap: domain=%s result=temperror reason=%s",
		    domain, l.reason);
	sts_lookup_clear(&l);
done:
	if (mn != NULL)
		*mn = note;
	return 1;
defer:
	if (key != req && key[-1] == '\0')
		((char *)key)[-1] = ' ';	/* undo split_request() */
	return 0;
}

/* next_request - the next complete request, NUL-terminated in place in
 * c_in (c_consume bytes to drop once answered); 0 when more input is
 * needed; -1 after perm_close() */
static int
next_request(struct policymap *pm, struct conn *c, char **req, size_t *reqlen)
{
	size_t	i, len = 0, hdr;
	char	*nl;

	*req = NULL;
	*reqlen = 0;
	if (c->c_inlen == 0)
		return 0;
	if (c->c_mode == CM_UNKNOWN) {
		for (i = 0; i < c->c_inlen && isdigit((unsigned char)c->c_in[i]);
		    i++)
			;
		if (i == c->c_inlen && i < 7 && !c->c_eof)
			return 0;			/* digits so far */
		c->c_mode = i > 0 && i < c->c_inlen && c->c_in[i] == ':' ?
		    CM_NETSTRING : CM_LINE;
		if (i >= 7 && i == c->c_inlen)
			c->c_mode = CM_NETSTRING;	/* oversize length */
	}
	if (c->c_mode == CM_LINE) {
		nl = memchr(c->c_in, '\n', c->c_inlen);
		if (nl == NULL && !c->c_eof) {
			if (c->c_inlen > POLICYMAP_LINE_MAX) {
				perm_close(pm, c, "request line too long");
				return -1;
			}
			return 0;
		}
		len = nl ? (size_t)(nl - c->c_in) : c->c_inlen;
		if (len > POLICYMAP_LINE_MAX) {
			perm_close(pm, c, "request line too long");
			return -1;
		}
		while (len > 0 && (c->c_in[len - 1] == '\r' ||
		    c->c_in[len - 1] == ' ' || c->c_in[len - 1] == '\t'))
			len--;
		if (memchr(c->c_in, '\0', len) != NULL) {
			perm_close(pm, c, "NUL in request");
			return -1;
		}
		c->c_in[len] = '\0';		/* c_in has room for it */
		*req = c->c_in;
		*reqlen = len;
		c->c_consume = c->c_inlen;	/* one request per line conn */
		return 1;
	}
	/* netstring */
	for (i = 0; i < c->c_inlen && isdigit((unsigned char)c->c_in[i]); i++) {
		len = len * 10 + (size_t)(c->c_in[i] - '0');
		if (len > POLICYMAP_MAX_QUERY) {
			perm_close(pm, c, "request longer than "
			    "POLICYMAP_MAX_QUERY");
			return -1;
		}
	}
	if (i == c->c_inlen)
		return 0;
	if (i == 0 || c->c_in[i] != ':') {
		perm_close(pm, c, "malformed netstring");
		return -1;
	}
	hdr = i + 1;
	if (c->c_inlen < hdr + len + 1) {
		c->c_need = hdr + len + 1;
		return 0;
	}
	if (c->c_in[hdr + len] != ',') {
		perm_close(pm, c, "netstring without ','");
		return -1;
	}
	if (len == 0 || memchr(c->c_in + hdr, '\0', len) != NULL) {
		perm_close(pm, c, len ? "NUL in request" : "empty request");
		return -1;
	}
	c->c_in[hdr + len] = '\0';		/* was ',' */
	*req = c->c_in + hdr;
	*reqlen = len;
	c->c_consume = hdr + len + 1;
	c->c_need = 0;
	return 1;
}

/* conn_read - drain the socket into c_in; -1 on a hard error */
static int
conn_read(struct conn *c)
{
	ssize_t	n;
	size_t	cap_max = POLICYMAP_MAX_QUERY + 32;

	while (!c->c_eof) {
		if (c->c_inlen + 1 >= c->c_incap) {	/* room for a NUL */
			if (c->c_incap >= cap_max)
				return 0;	/* next_request() judges it */
			c->c_incap = c->c_incap ? c->c_incap * 2 : PM_IN_INIT;
			if (c->c_incap > cap_max)
				c->c_incap = cap_max;
			c->c_in = xrealloc(c->c_in, c->c_incap);
		}
		n = recv(c->c_fd, c->c_in + c->c_inlen,
		    c->c_incap - c->c_inlen - 1, 0);
		if (n > 0) {
			c->c_inlen += (size_t)n;
			if (c->c_inlen + 1 < c->c_incap)
				return 0;	/* short read: socket drained */
			continue;
		}
		if (n == 0) {
			c->c_eof = 1;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	return 0;
}

/* conn_write - send what is pending; 1 done, 0 would block, -1 error */
static int
conn_write(struct conn *c)
{
	ssize_t	n;

	while (c->c_outoff < c->c_outlen) {
		n = send(c->c_fd, c->c_out + c->c_outoff,
		    c->c_outlen - c->c_outoff, MSG_NOSIGNAL);
		if (n > 0) {
			c->c_outoff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;			/* EPIPE, ECONNRESET: gone */
	}
	c->c_outoff = c->c_outlen = 0;
	return 1;
}

static void
enqueue(struct policymap *pm, struct conn *c)
{
	pthread_mutex_lock(&pm->pm_qmu);
	c->c_qnext = NULL;
	if (pm->pm_qtail)
		pm->pm_qtail->c_qnext = c;
	else
		pm->pm_qhead = c;
	pm->pm_qtail = c;
	pthread_cond_signal(&pm->pm_qcv);
	pthread_mutex_unlock(&pm->pm_qmu);
}

/* --- the reply memo (see struct memo) -------------------------------- */

static uint64_t
memo_hash(const char *s, size_t n)
{
	uint64_t	h = 14695981039346656037ull;	/* FNV-1a */

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* memo_get - append the memoized reply to req to c's output; 0: none */
static int
memo_get(struct policymap *pm, struct reactor *rx, uint64_t h,
    const char *req, size_t n, struct conn *c)
{
	struct memo	*m = &rx->r_memo[h % PM_MEMO_SLOTS];

	if (m->m_data == NULL || m->m_hash != h || m->m_klen != n ||
	    memcmp(m->m_data, req, n) != 0 || m->m_second != clock_now() ||
	    m->m_ovgen != atomic_load_explicit(&pm->pm_ovgen,
	    memory_order_acquire) ||
	    (m->m_hasstamp && !sts_cache_stamp_valid(pm->pm_cache,
	    m->m_stamp)))
		return 0;
	out_append(c, m->m_data + n, m->m_rlen);
	return 1;
}

static void
memo_put(struct reactor *rx, uint64_t h, const char *req, size_t n,
    const char *reply, size_t rlen, const struct memo_note *mn)
{
	struct memo	*m = &rx->r_memo[h % PM_MEMO_SLOTS];

	if (!mn->ok || n > PM_MEMO_KEY_MAX || rlen > PM_MEMO_REPLY_MAX)
		return;
	if (m->m_cap < n + rlen) {
		m->m_cap = n + rlen + 64;
		m->m_data = xrealloc(m->m_data, m->m_cap);
	}
	memcpy(m->m_data, req, n);
	memcpy(m->m_data + n, reply, rlen);
	m->m_hash = h;
	m->m_klen = n;
	m->m_rlen = rlen;
	m->m_stamp = mn->stamp;
	m->m_hasstamp = mn->hasstamp;
	m->m_second = mn->second;
	m->m_ovgen = mn->ovgen;
}

/* consume - drop the request just answered from c_in */
static void
consume(struct conn *c)
{
	if (c->c_consume < c->c_inlen)
		memmove(c->c_in, c->c_in + c->c_consume,
		    c->c_inlen - c->c_consume);
	c->c_inlen -= c->c_consume;
	c->c_consume = 0;
}

/*
 * conn_run - answer what can be answered, write, and hand c on: back to
 * its reactor, to a worker, or to close().  The caller owns c and must
 * not touch it afterwards.  r is the caller's scratch buffer; rx the
 * calling reactor (its memo), NULL in a worker.
 */
static void
conn_run(struct policymap *pm, struct reactor *rx, struct conn *c,
    struct buf *r)
{
	char			 *req, key[PM_MEMO_KEY_MAX];
	size_t			  reqlen, at;
	uint64_t		  h = 0;
	struct memo_note	  mn;
	int			  k, memo;

	for (;;) {
		if (c->c_outlen > 0) {
			k = conn_write(c);
			if (k < 0)
				goto gone;
			if (k == 0) {
				(void)conn_arm(pm, c, EPOLLOUT);
				return;
			}
		}
		if (c->c_closing)
			goto gone;
		k = next_request(pm, c, &req, &reqlen);
		if (k < 0)
			continue;			/* write the PERM */
		if (k == 0) {
			if (c->c_eof)
				goto gone;
			break;				/* EPOLLIN */
		}
		memo = rx != NULL && c->c_mode == CM_NETSTRING &&
		    reqlen <= PM_MEMO_KEY_MAX;
		if (memo) {
			h = memo_hash(req, reqlen);
			if (memo_get(pm, rx, h, req, reqlen, c)) {
				consume(c);
				atomic_fetch_add_explicit(&pm->pm_memo_hits, 1,
				    memory_order_relaxed);
				atomic_fetch_add_explicit(&pm->pm_requests, 1,
				    memory_order_relaxed);
				continue;
			}
			memcpy(key, req, reqlen);	/* answer() edits req */
		}
		buf_reset(r);
		if (!answer(pm, req, c->c_mode == CM_LINE, 0, r,
		    memo ? &mn : NULL)) {
			c->c_req = xstrdup(req);
			consume(c);
			if (conn_arm(pm, c, 0) == 0)	/* quiet while away */
				enqueue(pm, c);
			return;
		}
		consume(c);
		atomic_fetch_add_explicit(&pm->pm_requests, 1,
		    memory_order_relaxed);
		at = c->c_outlen;
		put_reply(c, r);
		if (memo)
			memo_put(rx, h, key, reqlen, c->c_out + at,
			    c->c_outlen - at, &mn);
		/* Lock-step clients wait for this reply: send it now. */
	}
	(void)conn_arm(pm, c, EPOLLIN);
	return;
gone:
	conn_free(pm, c);
}

static void *
worker(void *arg)
{
	struct policymap	*pm = arg;
	struct conn		*c;
	struct buf		 r = BUF_INIT;

	buf_init(&r, 1 << 20);
	for (;;) {
		pthread_mutex_lock(&pm->pm_qmu);
		while (pm->pm_qhead == NULL && !atomic_load(&pm->pm_stop))
			pthread_cond_wait(&pm->pm_qcv, &pm->pm_qmu);
		if (atomic_load(&pm->pm_stop)) {
			pthread_mutex_unlock(&pm->pm_qmu);
			break;
		}
		c = pm->pm_qhead;
		pm->pm_qhead = c->c_qnext;
		if (pm->pm_qhead == NULL)
			pm->pm_qtail = NULL;
		pthread_mutex_unlock(&pm->pm_qmu);

		buf_reset(&r);
		(void)answer(pm, c->c_req, c->c_mode == CM_LINE, 1, &r, NULL);
		atomic_fetch_add_explicit(&pm->pm_requests, 1,
		    memory_order_relaxed);
		free(c->c_req);
		c->c_req = NULL;
		put_reply(c, &r);
		conn_run(pm, NULL, c, &r);
	}
	buf_free(&r);
	return NULL;
}

/* accept_all - take every pending connection on listener lfd */
static void
accept_all(struct policymap *pm, int lfd)
{
	struct conn	*c;
	int		 fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				warn_limited(pm, "out of file descriptors",
				    lfd);
				/* Level-triggered: back off, do not spin. */
				usleep(10000);
			}
			return;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));			/* fails on unix: fine */
		c = conn_new(pm, fd);
		(void)conn_arm(pm, c, EPOLLIN);
	}
}

static void *
reactor(void *arg)
{
	struct reactor		*rx = arg;
	struct policymap	*pm = rx->r_pm;
	struct epoll_event	 ev[PM_EVENTS];
	struct conn		*c;
	struct buf		 r = BUF_INIT;
	int			 n, i;

	buf_init(&r, 1 << 20);
	while (!atomic_load(&pm->pm_stop)) {
		n = epoll_wait(rx->r_ep, ev, PM_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("policymap: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				goto out;		/* stop */
			if ((uintptr_t)ev[i].data.ptr <= PM_MAX_LISTEN) {
				accept_all(pm, pm->pm_lfd[
				    (uintptr_t)ev[i].data.ptr - 1]);
				continue;
			}
			c = ev[i].data.ptr;
			(void)atomic_load_explicit(&c->c_handoff,
			    memory_order_acquire);
			if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR)) {
				if (conn_read(c) < 0) {
					conn_free(pm, c);
					continue;
				}
			}
			conn_run(pm, rx, c, &r);
		}
	}
out:
	buf_free(&r);
	return NULL;
}

int
policymap_add_fd(struct policymap *pm, int fd)
{
	struct conn	*c;

	if (set_nonblock(fd) < 0)
		return -1;
	c = conn_new(pm, fd);
	return conn_arm(pm, c, EPOLLIN);
}

int
policymap_start(struct policymap *pm)
{
	int	i;

	for (i = 0; i < PM_WORKERS; i++) {
		if (pthread_create(&pm->pm_workers[i], NULL, worker, pm) != 0)
			return -1;
		pm->pm_nworkers++;
	}
	for (i = 0; i < pm->pm_nreactors; i++) {
		if (pthread_create(&pm->pm_r[i].r_thread, NULL, reactor,
		    &pm->pm_r[i]) != 0)
			return -1;
		pm->pm_r[i].r_started = 1;
	}
	pm->pm_started = 1;
	return 0;
}

void
policymap_stats(struct policymap *pm, struct policymap_stats *s)
{
	s->requests = atomic_load_explicit(&pm->pm_requests,
	    memory_order_relaxed);
	s->memo_hits = atomic_load_explicit(&pm->pm_memo_hits,
	    memory_order_relaxed);
	s->connections = atomic_load_explicit(&pm->pm_nconns,
	    memory_order_relaxed);
}

void
policymap_on_report(struct policymap *pm, void (*fn)(void *, const char *),
    void *arg)
{
	pm->pm_report = fn;
	pm->pm_report_arg = arg;
}

void
policymap_set_overrides(struct policymap *pm, const struct override *ov)
{
	pthread_rwlock_wrlock(&pm->pm_ovlock);
	pm->pm_ov = ov;
	atomic_fetch_add_explicit(&pm->pm_ovgen, 1, memory_order_release);
	pthread_rwlock_unlock(&pm->pm_ovlock);
}

void
policymap_stop(struct policymap *pm)
{
	uint64_t	one = 1;
	int		i;

	if (pm == NULL)
		return;
	atomic_store(&pm->pm_stop, 1);
	if (pm->pm_evfd >= 0)
		(void)write(pm->pm_evfd, &one, sizeof(one));
	pthread_mutex_lock(&pm->pm_qmu);
	pthread_cond_broadcast(&pm->pm_qcv);
	pthread_mutex_unlock(&pm->pm_qmu);
	for (i = 0; i < PM_MAX_REACTORS; i++)
		if (pm->pm_r[i].r_started)
			pthread_join(pm->pm_r[i].r_thread, NULL);
	for (i = 0; i < pm->pm_nworkers; i++)
		pthread_join(pm->pm_workers[i], NULL);
	/* Everything left is parked in an epoll set or the queue. */
	while (pm->pm_conns)
		conn_free(pm, pm->pm_conns);
	for (i = 0; i < pm->pm_nlisten; i++) {
		close(pm->pm_lfd[i]);
		if (pm->pm_lpath[i]) {
			(void)unlink(pm->pm_lpath[i]);
			free(pm->pm_lpath[i]);
		}
	}
	for (i = 0; i < PM_MAX_REACTORS; i++) {
		if (pm->pm_r[i].r_ep >= 0)
			close(pm->pm_r[i].r_ep);
		if (pm->pm_r[i].r_memo != NULL) {
			int j;

			for (j = 0; j < PM_MEMO_SLOTS; j++)
				free(pm->pm_r[i].r_memo[j].m_data);
			free(pm->pm_r[i].r_memo);
		}
	}
	if (pm->pm_evfd >= 0)
		close(pm->pm_evfd);
	pthread_rwlock_destroy(&pm->pm_ovlock);
	pthread_mutex_destroy(&pm->pm_qmu);
	pthread_cond_destroy(&pm->pm_qcv);
	pthread_mutex_destroy(&pm->pm_cmu);
	free(pm);
}
