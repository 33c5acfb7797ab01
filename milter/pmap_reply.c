/*
 * pmap_reply.c - the policy map's replies for every MTA flavour (see
 * pmap_reply.h)
 *
 * SEE ALSO
 *	enforcement-anchors.md 4.1-4.3, rfc-checklist.md 1.1, 1.3, 1.7,
 *	1.8, README.md "The MTA policy maps"
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "domain.h"
#include "mx_match.h"
#include "override.h"
#include "pmap_dane.h"
#include "pmap_reply.h"
#include "sts_cache.h"
#include "sts_policy.h"

#define REPLY_ROOM	(PMAP_MAX_REPLY - 16)	/* "100000:" + "," */

static const struct {
	const char		*name;
	enum pmap_flavour	 fl;
} flavours[] = {
	{ "postfix", PMAP_POSTFIX },
	{ "postfix-tlsrpt", PMAP_POSTFIX_TLSRPT },
	{ "sendmail", PMAP_SENDMAIL },
	{ "sts", PMAP_SENDMAIL },		/* FEATURE(sts)'s map name */
	{ "exim", PMAP_EXIM },
	{ "exim-tlsrpt", PMAP_EXIM_TLSRPT },
};

/* flavour_n - the flavour of map name s[0..n) */
static enum pmap_flavour
flavour_n(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < sizeof(flavours) / sizeof(flavours[0]); i++)
		if (strlen(flavours[i].name) == n &&
		    memcmp(flavours[i].name, s, n) == 0)
			return flavours[i].fl;
	return PMAP_UNKNOWN;
}

enum pmap_flavour
pmap_reply_flavour(const char *name)
{
	return name == NULL ? PMAP_UNKNOWN : flavour_n(name, strlen(name));
}

const char *
pmap_reply_flavour_name(enum pmap_flavour fl)
{
	size_t	i;

	for (i = 0; i < sizeof(flavours) / sizeof(flavours[0]); i++)
		if (flavours[i].fl == fl)
			return flavours[i].name;
	return "unknown";
}

const char *
pmap_reply_kind_name(enum pmap_kind k)
{
	static const char *const names[] = { "secure", "may", "policy",
	    "none", "temp", "connect", "veto", "empty", "perm", "dane" };

	return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
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
pmap_reply_key_domain(const char *key, char *domain, struct buf *why)
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

/*
 * next_pattern - the next usable pattern from *i on (and *i past it),
 * each once; NULL at the end.  Every reply lists these and no others.
 */
static const char *
next_pattern(const struct sts_policy *pol, size_t *i)
{
	size_t	j;

	for (; *i < pol->p_nmx; (*i)++) {
		if (!usable_pattern(pol->p_mx[*i]))
			continue;
		for (j = 0; j < *i; j++)
			if (strcmp(pol->p_mx[j], pol->p_mx[*i]) == 0)
				break;
		if (j == *i)
			return pol->p_mx[(*i)++];
	}
	return NULL;
}

/* put_match - "match=a:.b"; returns the number of patterns written */
static size_t
put_match(struct buf *out, const struct sts_policy *pol)
{
	const char	*p;
	size_t		 i = 0, n = 0;

	while ((p = next_pattern(pol, &i)) != NULL) {
		buf_puts(out, n++ ? ":" : "match=");
		/* "*.d" -> ".d": Postfix/Sendmail parent-domain syntax */
		buf_puts(out, p[0] == '*' ? p + 1 : p);
	}
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
	char		**lines = NULL;
	const char	 *p;
	size_t		  i = 0, n;

	buf_printf(out, " policy_type=sts policy_domain=%s", domain);
	while ((p = next_pattern(pol, &i)) != NULL)
		buf_printf(out, " mx_host_pattern=%s", p);
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

/* cut - drop what was appended to out since at */
static void
cut(struct buf *out, size_t at)
{
	out->b_len = at;
	if (out->b_data != NULL)
		out->b_data[at] = '\0';
}

/* put_tlsrpt_fit - the TLS-RPT attributes that fit under the reply
 * limit (start: where the reply began): with policy_string, without,
 * or none */
static int
put_tlsrpt_fit(struct buf *out, size_t start, const struct sts_policy *pol,
    const char *domain)
{
	size_t	base = out->b_len;

	put_tlsrpt(out, pol, domain, 1);
	if (out->b_len - start <= REPLY_ROOM)
		return 1;
	cut(out, base);
	put_tlsrpt(out, pol, domain, 0);
	if (out->b_len - start <= REPLY_ROOM)
		return 1;
	cut(out, base);
	return 0;
}

/* put_socketmap - the postfix, postfix-tlsrpt and sendmail replies for
 * a policy in force (mode after overrides) */
static enum pmap_kind
put_socketmap(struct buf *out, enum pmap_flavour fl,
    const struct sts_policy *pol, enum sts_mode mode, const char *domain)
{
	size_t	start = out->b_len;

	if (fl == PMAP_POSTFIX_TLSRPT && mode == STS_MODE_TESTING) {
		/* STS-APP-2: report, deliver as if no policy */
		buf_puts(out, "OK may");
		if (put_tlsrpt_fit(out, start, pol, domain))
			return PMAP_MAY;
		cut(out, start);
		buf_puts(out, "NOTFOUND ");
		return PMAP_NONE;
	}
	if (mode != STS_MODE_ENFORCE) {
		buf_puts(out, "NOTFOUND ");
		return PMAP_NONE;
	}
	buf_puts(out, "OK secure ");
	if (put_match(out, pol) == 0) {		/* never an empty match= */
		cut(out, start);
		buf_puts(out, "NOTFOUND ");
		return PMAP_NONE;
	}
	buf_puts(out, " servername=hostname");
	/* Without room for them, plain "secure": still enforces. */
	if (fl == PMAP_POSTFIX_TLSRPT)
		(void)put_tlsrpt_fit(out, start, pol, domain);
	return PMAP_SECURE;
}

/* put_exim - the one-line readsocket reply for a policy in force */
static enum pmap_kind
put_exim(struct buf *out, const struct sts_policy *pol, enum sts_mode mode,
    const char *domain, const char *id, const char *host)
{
	const char	*p;
	size_t		 i = 0, n = 0;

	if (host != NULL) {
		/* tcp:connect veto: empty = connect; text = do not */
		if (mode != STS_MODE_ENFORCE || mx_match_policy(pol, host))
			return PMAP_CONNECT;
		buf_printf(out, "MX host %s does not match the MTA-STS policy "
		    "of %s", host, domain);
		return PMAP_VETO;
	}
	buf_printf(out, "%s domain=%s mx=", mode == STS_MODE_ENFORCE ?
	    "enforce" : "testing", domain);
	while ((p = next_pattern(pol, &i)) != NULL)
		buf_printf(out, "%s%s", n++ ? ":" : "", p);
	if (id != NULL && *id != '\0')
		buf_printf(out, " id=%s", id);
	return PMAP_POLICY;
}

/* put_none - "no policy" in the flavour's words */
static enum pmap_kind
put_none(struct buf *out, const struct pmap_req *q)
{
	if (q->fl != PMAP_EXIM) {
		buf_puts(out, "NOTFOUND ");
		return PMAP_NONE;
	}
	if (q->host != NULL)
		return PMAP_CONNECT;
	buf_puts(out, "none");
	return PMAP_NONE;
}

/* put_temp - DNS failed and nothing is cached, and the operator asked
 * for TEMP (RFC 8461 5 would fail open) */
static enum pmap_kind
put_temp(struct buf *out, const struct pmap_req *q, const struct sts_lookup *l)
{
	const char	*why = l != NULL && l->reason[0] ? l->reason :
			    "DNS failure";

	if (q->fl != PMAP_EXIM)
		buf_printf(out, "TEMP %s", why);
	else if (q->host == NULL)
		buf_printf(out, "temp %s", why);
	else
		return PMAP_CONNECT;
	return PMAP_TEMP;
}

/* usable - 1 if pol has a pattern an MTA may be given */
static int
usable(const struct sts_policy *pol)
{
	size_t	i = 0;

	return next_pattern(pol, &i) != NULL;
}

enum pmap_kind
pmap_reply_make(const struct pmap_req *q, const struct pmap_obs *o,
    struct buf *out)
{
	const struct sts_policy	*pol = o->lookup ? o->lookup->policy : NULL;
	enum sts_mode		 mode;
	enum pmap_kind		 kind;
	int			 enforce;

	switch (q->fl) {
	case PMAP_UNKNOWN:
		buf_puts(out, "PERM unknown map name");
		return PMAP_PERM;
	case PMAP_EXIM_TLSRPT:
		return PMAP_EMPTY;			/* reports get "" */
	default:
		break;
	}
	if (!pmap_reply_lookup(q) || o->ov == OVERRIDE_SKIP)
		return put_none(out, q);
	/* STS-DANE-1: DANE first, whatever the MTA-STS policy says */
	enforce = o->st == ST_OK && pol != NULL && o->ov != OVERRIDE_TESTING &&
	    (pol->p_mode == STS_MODE_ENFORCE || (o->ov == OVERRIDE_ENFORCE &&
	    pol->p_mode != STS_MODE_NONE));
	if (pmap_dane_reply(q->fl, q->domain, o->dane, enforce, q->host != NULL,
	    out, &kind))
		return kind;
	if (o->st == ST_TEMPFAIL && pol == NULL && o->tempfail && !o->pending)
		return put_temp(out, q, o->lookup);
	if (o->st != ST_OK || pol == NULL)
		return put_none(out, q);	/* STS-HTTP-8, RFC 8461 5 */
	mode = pol->p_mode;
	if (o->ov == OVERRIDE_ENFORCE)
		mode = STS_MODE_ENFORCE;
	else if (o->ov == OVERRIDE_TESTING)
		mode = STS_MODE_TESTING;
	if (q->fl == PMAP_POSTFIX || q->fl == PMAP_SENDMAIL)
		return put_socketmap(out, q->fl, pol, mode, q->domain);
	if (mode == STS_MODE_NONE || !usable(pol))
		return put_none(out, q);	/* STS-APP-3; no empty match= */
	if (q->fl == PMAP_EXIM)
		return put_exim(out, pol, mode, q->domain, o->lookup->id,
		    q->host);
	return put_socketmap(out, q->fl, pol, mode, q->domain);
}

int
pmap_reply_lookup(const struct pmap_req *q)
{
	if (q->fl == PMAP_UNKNOWN || q->fl == PMAP_EXIM_TLSRPT)
		return 0;
	if (q->host != NULL && !q->host_ok)
		return 0;			/* exim: fail open */
	return q->kst == ST_OK;
}

int
pmap_reply_fresh(enum status st, const struct sts_lookup *l, time_t now,
    int txt_check_interval, int refresh_interval)
{
	time_t	iv = refresh_interval;

	if (st == ST_NOTFOUND)
		return 1;		/* a remembered "no policy" */
	if (st != ST_OK || l->policy == NULL)
		return 0;		/* unknown, or DNS trouble */
	if (l->policy->p_max_age / 2 < (long long)iv)
		iv = (time_t)(l->policy->p_max_age / 2);
	return now - l->checked < txt_check_interval &&	/* STS-CACHE-2 */
	    now - l->fetched < iv;			/* STS-CACHE-3 */
}

/* numeric_ip - 1 if s is an IPv4 or IPv6 address in text */
static int
numeric_ip(const char *s)
{
	unsigned char	a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

void
pmap_reply_read(const char *req, size_t len, int line, struct pmap_req *q)
{
	char		 dkey[DOMAIN_MAX + 8], *ip;
	const char	*sp, *key;
	size_t		 i, n;

	if (len > PMAP_MAX_QUERY)
		len = PMAP_MAX_QUERY;
	for (i = 0; i < len; i++)
		q->text[i] = (char)tolower((unsigned char)req[i]);
	q->text[len] = '\0';
	q->host = q->ip = NULL;
	q->host_ok = 0;
	q->domain[0] = '\0';
	/* "name key"; a line without a known map name is an exim key */
	sp = memchr(q->text, ' ', len);
	q->fl = flavour_n(q->text, sp ? (size_t)(sp - q->text) : len);
	if (line && (sp == NULL || q->fl == PMAP_UNKNOWN)) {
		q->fl = PMAP_EXIM;
		q->key = q->text;
	} else
		q->key = sp ? sp + 1 : q->text + len;
	key = q->key;
	/* exim: "domain host [ip]" asks whether Exim may connect to host
	 * (at ip: what a veto's session names as receiving-ip) */
	if (q->fl == PMAP_EXIM && (sp = strchr(key, ' ')) != NULL) {
		n = (size_t)(sp - key);
		q->host = sp + 1;
		if ((ip = strchr(q->host, ' ')) != NULL) {
			*ip++ = '\0';		/* key: "domain host" */
			q->ip = numeric_ip(ip) ? ip : NULL;
		}
		q->host_ok = n < sizeof(dkey) &&
		    mx_host_check(q->host, NULL) == ST_OK;
		if (!q->host_ok) {
			q->kst = ST_INVALID;
			return;
		}
		memcpy(dkey, key, n);
		dkey[n] = '\0';
		key = dkey;
	}
	q->kst = pmap_reply_key_domain(key, q->domain, NULL);
}
