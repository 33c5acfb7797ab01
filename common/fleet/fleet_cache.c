/*
 * fleet_cache.c - the pure half of the fleet's shared cache (see
 * fleet_cache.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_cache.h"
#include "sts_store.h"
#include "xmalloc.h"

#define NONE_MAGIC	"sts-milter-none 1\n"
#define VERDICT_MAGIC	"sts-milter-verdict 1\n"
#define REASON_MAX	200
#define TIME_MAX	((long long)1 << 33)	/* year 2242: a sane time */

void
fleet_cache_key(struct buf *out, const char *prefix, const char *kind,
    const char *name)
{
	buf_reset(out);
	buf_printf(out, "%s%s%s", prefix, kind, name);
}

time_t
fleet_pol_expiry(const struct sts_state *st, time_t now)
{
	time_t	until;

	if (st->st_policy != NULL)			/* STS-CACHE-1 */
		until = sts_state_expires(st);
	else if (st->st_neg_status == ST_NOTFOUND)
		until = st->st_neg_until;
	else
		return 0;	/* nothing known, or a DNS failure */
	return until > now ? until : 0;
}

/* one_line - s without control characters, at most REASON_MAX bytes */
static void
one_line(struct buf *out, const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && s[i] != '\0' && i < REASON_MAX; i++)
		buf_putc(out, (unsigned char)s[i] < 0x20 ||
		    s[i] == 0x7f ? ' ' : s[i]);
}

int
fleet_pol_format(const struct sts_state *st, time_t now, struct buf *out,
    time_t *expires)
{
	struct sts_store_rec	r;

	if ((*expires = fleet_pol_expiry(st, now)) == 0)
		return -1;
	if (st->st_policy != NULL) {		/* the cache file's text */
		sts_state_to_rec(st, &r);	/* borrows the policy */
		sts_store_format(&r, out);
		return 0;
	}
	buf_printf(out, "%suntil %lld\nchecked %lld\n", NONE_MAGIC,
	    (long long)st->st_neg_until, (long long)st->st_checked);
	if (st->st_failed)			/* STS-HTTP-5, -8 */
		buf_printf(out, "failed %s %lld %d\n", st->st_fail_id,
		    (long long)st->st_fail_time, (int)st->st_fail_rt);
	buf_printf(out, "reason ");
	one_line(out, st->st_reason);
	buf_printf(out, "\n");
	return 0;
}

/* none_line - one line of a "no policy" value into st */
static void
none_line(const char *p, struct sts_state *st, int *have_until)
{
	char		id[STS_ID_MAX + 1];
	long long	v;
	int		rt;

	if (sscanf(p, "until %lld", &v) == 1) {
		st->st_neg_until = (time_t)v;
		*have_until = 1;
	} else if (sscanf(p, "checked %lld", &v) == 1)
		st->st_checked = (time_t)v;
	else if (sscanf(p, "failed %32[A-Za-z0-9] %lld %d", id, &v,
	    &rt) == 3 && rt > 0 && rt < TLSRPT_RESULT_MAX) {
		memcpy(st->st_fail_id, id, sizeof(id));
		memcpy(st->st_txt_id, id, sizeof(id));
		st->st_fail_time = (time_t)v;
		st->st_fail_rt = (enum tlsrpt_result)rt;
		st->st_failed = 1;
	} else if (strncmp(p, "reason ", 7) == 0)
		sts_state_set_reason(st, p + 7);
}

/* none_parse - a "no policy" value (after its magic line) */
static int
none_parse(const char *data, size_t n, struct sts_state *st)
{
	char	*copy = xmalloc(n + 1), *p, *nl;
	int	 have_until = 0;

	memcpy(copy, data, n);
	copy[n] = '\0';
	for (p = copy; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (strlen(p) != (size_t)(nl - p))
			break;			/* a NUL inside: not ours */
		none_line(p, st, &have_until);
	}
	free(copy);
	if (!have_until || st->st_neg_until <= 0)
		return -1;
	st->st_neg_status = ST_NOTFOUND;
	if (st->st_reason == NULL)
		sts_state_set_reason(st, "");
	return 0;
}

int
fleet_pol_parse(const char *data, size_t n, struct sts_state *st)
{
	struct sts_store_rec	r;
	size_t			m = sizeof(NONE_MAGIC) - 1;

	memset(st, 0, sizeof(*st));
	if (n >= m && memcmp(data, NONE_MAGIC, m) == 0) {
		if (none_parse(data + m, n - m, st) != 0)
			goto bad;
	} else if (sts_store_parse(data, n, &r) == 0) {
		sts_state_from_rec(st, &r);	/* takes the policy */
		sts_store_rec_clear(&r);
		sts_state_set_reason(st, st->st_failed ? "a fetch of the "
		    "policy failed on a node of the fleet" : "");
	} else
		return -1;
	/* times before 1970 or far ahead are not a node's (fleet_pol_stamp
	 * reads digits; fetched + max_age must not overflow) */
	if (st->st_fetched >= 0 && st->st_fetched < TIME_MAX &&
	    st->st_checked >= 0 && st->st_checked < TIME_MAX &&
	    st->st_fail_time >= 0 && st->st_fail_time < TIME_MAX &&
	    st->st_neg_until < TIME_MAX)
		return 0;
bad:
	sts_state_clear(st);
	return -1;
}

long long
fleet_pol_stamp(const char *data, size_t n)
{
	const char	*p, *end = data + n;
	long long	 v = -1;
	char		 num[24];
	size_t		 k;

	for (p = data; p < end; p++) {
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if ((size_t)(end - p) > 9 && memcmp(p, "\nchecked ", 9) == 0) {
			for (k = 0; k + 1 < sizeof(num) && p + 9 + k < end &&
			    p[9 + k] >= '0' && p[9 + k] <= '9'; k++)
				num[k] = p[9 + k];
			num[k] = '\0';
			if (k > 0 && p + 9 + k < end && p[9 + k] == '\n')
				v = strtoll(num, NULL, 10);
			break;
		}
	}
	return v;
}

enum sts_l2_use
fleet_pol_use(const struct sts_state *sh, time_t local_fetched, time_t now,
    const struct fleet_pol_opts *o)
{
	if (sh->st_policy == NULL)	/* STS-TXT-5: never drop a policy */
		return local_fetched == 0 && sh->st_neg_status == ST_NOTFOUND &&
		    now < sh->st_neg_until ? STS_L2_FRESH : STS_L2_NONE;
	if (now >= sts_state_expires(sh))		/* STS-CACHE-1 */
		return STS_L2_NONE;
	if (now - sh->st_checked < o->txt_check_interval &&	/* -2 */
	    !sts_state_refresh_due(sh, o->refresh_interval, now))  /* -3 */
		return STS_L2_FRESH;
	return local_fetched == 0 || sh->st_fetched > local_fetched ?
	    STS_L2_BASE : STS_L2_NONE;
}

enum fleet_lock_act
fleet_lock_next(enum sts_l2_use use, int took_lock, int64_t waited_ms,
    int64_t max_wait_ms)
{
	if (use == STS_L2_FRESH)	/* (a lock taken then is released) */
		return FLEET_LOCK_ADOPT;
	if (took_lock)
		return FLEET_LOCK_OWN;
	return waited_ms >= max_wait_ms ? FLEET_LOCK_ALONE : FLEET_LOCK_WAIT;
}

int
fleet_lock_delay_ms(int attempt)
{
	static const int	delay[] = { 2, 5, 10, 20, 30 };

	return attempt >= 0 && (size_t)attempt < sizeof(delay) /
	    sizeof(delay[0]) ? delay[attempt] : 50;
}

void
fleet_verdict_format(const struct tls_probe_result *r, struct buf *out)
{
	buf_printf(out, "%sresult %d\ndane %d\nreason ", VERDICT_MAGIC,
	    (int)r->result, r->dane ? 1 : 0);
	one_line(out, r->reason);
	buf_printf(out, "\n");
}

int
fleet_verdict_parse(const char *data, size_t n, struct tls_probe_result *r)
{
	size_t	 m = sizeof(VERDICT_MAGIC) - 1;
	char	*copy, *p, *nl;
	int	 v, have = 0;

	memset(r, 0, sizeof(*r));
	if (n < m || memcmp(data, VERDICT_MAGIC, m) != 0)
		return -1;
	copy = xmalloc(n - m + 1);
	memcpy(copy, data + m, n - m);
	copy[n - m] = '\0';
	for (p = copy; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (sscanf(p, "result %d", &v) == 1 && v >= 0 &&
		    v < TLSRPT_RESULT_MAX) {
			r->result = (enum tlsrpt_result)v;
			have = 1;
		} else if (sscanf(p, "dane %d", &v) == 1)
			r->dane = v != 0;
		else if (strncmp(p, "reason ", 7) == 0)
			snprintf(r->reason, sizeof(r->reason), "%s", p + 7);
	}
	free(copy);
	return have ? 0 : -1;
}
