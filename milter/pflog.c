/*
 * pflog.c - TLS sessions from Postfix smtp(8) log lines (see pflog.h)
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "pflog.h"

/* copy - bounded copy of s[0..n) into dst (size); 0 if it did not fit */
static int
copy(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return 0;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 1;
}

/* find - memmem for a C string */
static const char *
find(const char *p, const char *end, const char *s)
{
	size_t	n = strlen(s);

	for (; p != NULL && (size_t)(end - p) >= n; p++)
		if (*p == *s && memcmp(p, s, n) == 0)
			return p;
	return NULL;
}

/* host_ip - "HOST[IP]" at p (up to end); 0 if it is not one */
static int
host_ip(const char *p, const char *end, struct pflog_line *l)
{
	const char	*lb, *rb;

	for (lb = p; lb < end && *lb != '[' && *lb != ' '; lb++)
		;
	if (lb == p || lb >= end || *lb != '[')
		return 0;
	for (rb = lb + 1; rb < end && *rb != ']'; rb++)
		;
	if (rb >= end || rb == lb + 1)
		return 0;
	if (!copy(l->host, sizeof(l->host), p, (size_t)(lb - p)) ||
	    !copy(l->ip, sizeof(l->ip), lb + 1, (size_t)(rb - lb - 1)) ||
	    domain_syntax(l->host, strlen(l->host), NULL) != ST_OK)
		return 0;
	return 1;
}

/* postfix_smtp - t..e names a Postfix smtp(8) client: "postfix[-X]
 * [/SERVICE]/smtp" but not our report transport (see program) */
static int
postfix_smtp(const char *t, const char *e)
{
	return e - t >= 12 && memcmp(t, "postfix", 7) == 0 &&
	    memcmp(e - 5, "/smtp", 5) == 0 &&
	    find(t, e - 4, "/smtp-tlsrpt/") == NULL;
}

/*
 * program - the message after "postfix[-X][/SERVICE]/smtp[PID]: "; NULL
 * if the line is not from a Postfix smtp(8) client ("postfix/relay/smtp"
 * is Debian's relay transport).  "postfix/smtp-tlsrpt/smtp", our report
 * transport's syslog_name, is not counted (RPT-MAIL-8: report traffic
 * never feeds reports).
 */
static const char *
program(const char *line, const char *end, long *pid)
{
	const char	*p = line, *t, *q, *e;
	long		 n;

	*pid = 0;
	while ((p = find(p, end, "/smtp[")) != NULL) {
		for (t = p; t > line && t[-1] != ' '; t--)
			;
		q = p + 6;
		/* the pid: digits within the line (it is not NUL-ended) */
		for (n = 0, e = q; e < end && *e >= '0' && *e <= '9' &&
		    n < 100000000; e++)
			n = n * 10 + (*e - '0');
		if (postfix_smtp(t, p + 5) && e > q &&
		    e + 3 <= end && memcmp(e, "]: ", 3) == 0 && n > 0) {
			*pid = n;
			return e + 3;
		}
		p += 6;
	}
	return NULL;
}

static const char *const fmt_names[PFF_MAX] = {
	"other", "bsd", "rfc3339", "rfc5424"
};

const char *
pflog_fmt_str(enum pflog_fmt f)
{
	return (unsigned)f < PFF_MAX ? fmt_names[f] : fmt_names[PFF_OTHER];
}

/*
 * The header scanners: each takes p (NULL: an earlier part failed) and
 * returns the position after what it matched, or NULL.
 */

/* num - exactly n decimal digits */
static const char *
num(const char *p, const char *end, size_t n)
{
	for (; p != NULL && n > 0; n--, p++)
		if (p >= end || *p < '0' || *p > '9')
			return NULL;
	return p;
}

/* chr - the character c */
static const char *
chr(const char *p, const char *end, char c)
{
	return p != NULL && p < end && *p == c ? p + 1 : NULL;
}

/* hms - "hh:mm:ss" with an optional fraction of 1 to 9 digits */
static const char *
hms(const char *p, const char *end)
{
	size_t	n = 0;

	p = num(chr(num(chr(num(p, end, 2), end, ':'), end, 2), end, ':'),
	    end, 2);
	if (p == NULL || p >= end || *p != '.')
		return p;
	for (p++; p < end && *p >= '0' && *p <= '9' && n < 9; p++)
		n++;
	return n > 0 ? p : NULL;
}

/* bsd_time - "Mmm dd hh:mm:ss" (RFC 3164 4.1.2: the day space-padded) */
static const char *
bsd_time(const char *p, const char *end)
{
	static const char	months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	size_t			i;

	if (end - p < 15)
		return NULL;
	for (i = 0; i < 36 && memcmp(p, months + i, 3) != 0; i += 3)
		;
	if (i == 36 || p[3] != ' ')
		return NULL;
	p += 4;
	if (*p == ' ')
		p = num(p + 1, end, 1);
	else
		p = num(p, end, 2);
	return hms(chr(p, end, ' '), end);
}

/* rfc3339 - "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm)"; also
 * "+hhmm" (no colon) as some programs write it */
static const char *
rfc3339(const char *p, const char *end)
{
	p = num(chr(num(chr(num(p, end, 4), end, '-'), end, 2), end, '-'),
	    end, 2);
	if (p == NULL || p >= end || (*p != 'T' && *p != 't'))
		return NULL;
	if ((p = hms(p + 1, end)) == NULL || p >= end)
		return NULL;
	if (*p == 'Z' || *p == 'z')
		return p + 1;
	if (*p != '+' && *p != '-')
		return NULL;
	p = num(p + 1, end, 2);
	if (p != NULL && p < end && *p == ':')
		p++;
	return num(p, end, 2);
}

/* token - a non-empty run of non-space characters, and the space after
 * it; *tend is its end */
static const char *
token(const char *p, const char *end, const char **tend)
{
	const char	*q;

	if (p == NULL)
		return NULL;
	for (q = p; q < end && *q != ' '; q++)
		;
	if (q == p || q >= end)
		return NULL;
	*tend = q;
	return q + 1;
}

/*
 * rfc5424 - an RFC 5424 line (section 6): "<PRI>1 TIMESTAMP HOSTNAME
 * APP-NAME PROCID MSGID STRUCTURED-DATA[ MSG]".  *fmt is set once the
 * header is RFC 5424's; the message is returned when APP-NAME is a
 * Postfix smtp(8) client and PROCID its pid, else NULL.
 */
static const char *
rfc5424(const char *line, const char *end, enum pflog_fmt *fmt, long *pid)
{
	const char	*p = chr(line, end, '<'), *q, *e;
	long		 n = 0;

	for (q = p; q != NULL && q < end && *q >= '0' && *q <= '9' &&
	    q - p < 3; q++)
		n = n * 10 + (*q - '0');
	if (q == p || n > 191 || (p = chr(chr(chr(q, end, '>'), end, '1'),
	    end, ' ')) == NULL)
		return NULL;
	if (p < end && *p == '-')
		p++;				/* NILVALUE time stamp */
	else
		p = rfc3339(p, end);
	if ((p = chr(p, end, ' ')) == NULL)
		return NULL;
	*fmt = PFF_RFC5424;
	p = token(p, end, &e);			/* HOSTNAME */
	q = p;
	if ((p = token(p, end, &e)) == NULL || !postfix_smtp(q, e))
		return NULL;			/* APP-NAME */
	for (n = 0, q = p; q < end && *q >= '0' && *q <= '9' &&
	    n < 100000000; q++)
		n = n * 10 + (*q - '0');	/* PROCID */
	if (q == p || n <= 0 || (p = chr(q, end, ' ')) == NULL)
		return NULL;
	p = token(p, end, &e);			/* MSGID */
	if (p != NULL && p < end && *p == '-')	/* STRUCTURED-DATA */
		p++;
	else if (p != NULL && p < end && *p == '[') {
		while (p < end && *p == '[') {	/* SD-ELEMENTs */
			for (p++; p < end && *p != ']'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;	/* \" \\ \] (6.3.3) */
			if (p >= end)
				return NULL;
			p++;
		}
	} else
		return NULL;
	if ((p = chr(p, end, ' ')) == NULL)
		return NULL;
	if (p < end && *p == ' ')	/* rsyslog's %msg% of a local BSD */
		p++;			/* message starts with a space */
	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;				/* BOM (6.4) */
	*pid = n;
	return p;
}

/* message - the format of line, and the message of a Postfix smtp(8)
 * client line in it (NULL for any other line) */
static const char *
message(const char *line, const char *end, enum pflog_fmt *fmt, long *pid)
{
	const char	*m;

	*fmt = PFF_OTHER;
	*pid = 0;
	if (line < end && *line == '<' &&
	    ((m = rfc5424(line, end, fmt, pid)) != NULL || *fmt != PFF_OTHER))
		return m;
	if (bsd_time(line, end) != NULL)
		*fmt = PFF_BSD;
	else if (rfc3339(line, end) != NULL)
		*fmt = PFF_RFC3339;
	return program(line, end, pid);
}

void
pflog_line(const char *line, size_t len, struct pflog_line *l)
{
	const char	*end = line + len, *m, *p, *q;
	static const struct {
		const char	*word;
		enum pflog_tls	 tls;
	} kinds[] = {
		{ "Verified ", PFT_VERIFIED }, { "Trusted ", PFT_TRUSTED },
		{ "Untrusted ", PFT_UNTRUSTED }, { "Anonymous ", PFT_ANONYMOUS },
	};
	size_t		 i, n;

	memset(l, 0, sizeof(*l));
	if ((m = message(line, end, &l->fmt, &l->pid)) == NULL)
		return;
	/* TLS connection established */
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = strlen(kinds[i].word);
		if ((size_t)(end - m) > n && memcmp(m, kinds[i].word, n) == 0 &&
		    (p = find(m + n, end, "TLS connection established to ")) ==
		    m + n) {
			if (host_ip(p + 30, end, l)) {
				l->kind = PFL_TLS;
				l->tls = kinds[i].tls;
			}
			return;
		}
	}
	/* [server ]certificate verification failed for H[IP]:P: REASON */
	p = m;
	if ((size_t)(end - p) > 7 && memcmp(p, "server ", 7) == 0)
		p += 7;
	if ((size_t)(end - p) > 36 &&
	    memcmp(p, "certificate verification failed for ", 36) == 0) {
		if (!host_ip(p + 36, end, l))
			return;
		q = find(p + 36, end, "]:");
		if (q != NULL && (q = find(q + 2, end, ": ")) != NULL) {
			n = (size_t)(end - q - 2);
			if (n >= sizeof(l->reason))
				n = sizeof(l->reason) - 1;
			copy(l->reason, sizeof(l->reason), q + 2, n);
		}
		l->kind = PFL_CERT_FAIL;
		return;
	}
	/* QID: to=<R@D>, ..., relay=H[IP]:P, ...  Any such line ends the
	 * delivery in progress, also one we cannot use (relay=none, an
	 * address literal): PFL_DELIVERY_END. */
	if ((p = find(m, end, ": to=<")) == NULL || p - m > 40)
		return;
	l->kind = PFL_DELIVERY_END;
	p += 6;
	if ((q = memchr(p, '>', (size_t)(end - p))) == NULL)
		return;
	{
		const char *at = NULL, *s;

		for (s = p; s < q; s++)
			if (*s == '@')
				at = s;
		if (at == NULL || !copy(l->domain, sizeof(l->domain), at + 1,
		    (size_t)(q - at - 1)))
			return;
	}
	if ((p = find(q, end, ", relay=")) == NULL || !host_ip(p + 8, end, l))
		return;
	{
		char	norm[DOMAIN_MAX + 1];

		if (domain_normalize(l->domain, norm, NULL) != ST_OK)
			return;
		memcpy(l->domain, norm, strlen(norm) + 1);
	}
	l->no_starttls = find(p, end, "TLS is required, but was not offered "
	    "by host") != NULL;
	l->kind = PFL_DELIVERY;
}

/* proc - the table entry of pid (LRU reuse when full) */
static struct pflog_proc *
proc(struct pflog *f, long pid, int create)
{
	struct pflog_proc	*lru = NULL;
	size_t			 i;

	for (i = 0; i < PFLOG_PROCS; i++) {
		if (f->procs[i].pid == pid) {
			f->procs[i].used = ++f->clock;
			return &f->procs[i];
		}
		if (lru == NULL || f->procs[i].used < lru->used)
			lru = &f->procs[i];
	}
	if (!create)
		return NULL;
	memset(lru, 0, sizeof(*lru));
	lru->pid = pid;
	lru->used = ++f->clock;
	return lru;
}

/* start - l begins a new connection in p: the open one, if any, was a
 * failed MX of the same delivery */
static void
start(struct pflog_proc *p, const struct pflog_line *l)
{
	if (!p->open && p->nearlier == 0)
		p->first = l->off;		/* a new delivery */
	if (p->open) {
		if (p->nearlier == PFLOG_EARLIER) {
			memmove(&p->earlier[0], &p->earlier[1],
			    (PFLOG_EARLIER - 1) * sizeof(p->earlier[0]));
			p->nearlier--;
		}
		p->earlier[p->nearlier++] = p->cur;
	}
	memset(&p->cur, 0, sizeof(p->cur));
	memcpy(p->cur.host, l->host, sizeof(p->cur.host));
	memcpy(p->cur.ip, l->ip, sizeof(p->cur.ip));
	p->open = 1;
}

static int
same(const struct pflog_proc *p, const struct pflog_line *l)
{
	return p->open && strcmp(p->cur.host, l->host) == 0 &&
	    strcmp(p->cur.ip, l->ip) == 0;
}

static void
session(struct pflog_session *s, const struct pflog_conn *c,
    const struct pflog_line *l, int n)
{
	memset(s, 0, sizeof(*s));
	s->off = l->off;
	s->n = n;
	memcpy(s->domain, l->domain, sizeof(s->domain));
	memcpy(s->host, c->host, sizeof(s->host));
	memcpy(s->ip, c->ip, sizeof(s->ip));
	s->tls = c->tls;
	memcpy(s->reason, c->reason, sizeof(s->reason));
}

int
pflog_feed(struct pflog *f, const struct pflog_line *l,
    struct pflog_session *s)
{
	struct pflog_proc	*p;
	int			 i, n = 0;

	switch (l->kind) {
	case PFL_CERT_FAIL:
		p = proc(f, l->pid, 1);
		if (!same(p, l) || p->cur.tls != PFT_NONE)
			start(p, l);		/* a new connection */
		if (p->cur.reason[0] == '\0')	/* the first failure */
			memcpy(p->cur.reason, l->reason,
			    sizeof(p->cur.reason));
		return 0;
	case PFL_TLS:
		p = proc(f, l->pid, 1);
		if (!same(p, l) || p->cur.tls != PFT_NONE)
			start(p, l);		/* (the failure came first) */
		p->cur.tls = l->tls;
		return 0;
	case PFL_DELIVERY:
		p = proc(f, l->pid, 0);
		if (p != NULL && same(p, l)) {
			for (i = 0; i < p->nearlier; i++, n++)
				session(&s[n], &p->earlier[i], l, n);
			session(&s[n], &p->cur, l, n);
			n++;
			p->open = 0;		/* its first recipient only */
			p->nearlier = 0;
			return n;
		}
		if (p != NULL) {		/* not this delivery's */
			p->open = 0;
			p->nearlier = 0;
		}
		if (l->no_starttls) {
			memset(&s[0], 0, sizeof(s[0]));
			memcpy(s[0].domain, l->domain, sizeof(s[0].domain));
			memcpy(s[0].host, l->host, sizeof(s[0].host));
			memcpy(s[0].ip, l->ip, sizeof(s[0].ip));
			s[0].no_starttls = 1;
			s[0].off = l->off;
			return 1;
		}
		return 0;			/* a reused connection */
	case PFL_DELIVERY_END:			/* nothing we can use, but */
		if ((p = proc(f, l->pid, 0)) != NULL) {	/* it ends the */
			p->open = 0;			/* delivery */
			p->nearlier = 0;
		}
		return 0;
	default:
		return 0;
	}
}

long long
pflog_pending(struct pflog *f, long long floor)
{
	long long	min = -1;
	size_t		i;

	for (i = 0; i < PFLOG_PROCS; i++) {
		struct pflog_proc *p = &f->procs[i];

		if (p->pid == 0 || (!p->open && p->nearlier == 0) ||
		    p->first < 0)
			continue;
		if (p->first < floor)
			p->first = -1;		/* stale */
		else if (min < 0 || p->first < min)
			min = p->first;
	}
	return min;
}

void
pflog_unpin(struct pflog *f)
{
	size_t	i;

	for (i = 0; i < PFLOG_PROCS; i++)
		f->procs[i].first = -1;
}

int
pflog_classify(const struct pflog_session *s, int has_policy,
    enum tlsrpt_result *rt, char *reason, size_t reasonsize)
{
	const char	*r = s->reason;

	reason[0] = '\0';
	if (s->no_starttls) {
		*rt = TLSRPT_STARTTLS_NOT_SUPPORTED;
		return 1;
	}
	if (!has_policy) {
		if (s->tls == PFT_NONE)
			return 0;
		*rt = TLSRPT_SUCCESS;
		return 1;
	}
	if (r[0] != '\0') {
		if (strcasestr(r, "expired") != NULL)
			*rt = TLSRPT_CERTIFICATE_EXPIRED;
		else if (strcasestr(r, "hostname mismatch") != NULL ||
		    strcasestr(r, "name mismatch") != NULL)
			*rt = TLSRPT_CERTIFICATE_HOST_MISMATCH;
		else if (strcasestr(r, "untrusted issuer") != NULL ||
		    strcasestr(r, "self-signed") != NULL ||
		    strcasestr(r, "self signed") != NULL ||
		    strcasestr(r, "local issuer") != NULL)
			*rt = TLSRPT_CERTIFICATE_NOT_TRUSTED;
		else
			*rt = TLSRPT_VALIDATION_FAILURE;
		copy(reason, reasonsize, r, strnlen(r, reasonsize - 1));
		return 1;
	}
	switch (s->tls) {
	case PFT_VERIFIED:
		*rt = TLSRPT_SUCCESS;
		return 1;
	case PFT_UNTRUSTED:
		*rt = TLSRPT_CERTIFICATE_NOT_TRUSTED;
		return 1;
	default:
		return 0;		/* Trusted, Anonymous: name unchecked */
	}
}
