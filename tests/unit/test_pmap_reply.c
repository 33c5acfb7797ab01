/*
 * test_pmap_reply.c - the policy map's replies without I/O (pmap_reply.h):
 * every flavour x scenario x reply kind, the deadline's "pending"
 * answers, requests as read from the wire, and when a cached answer is
 * fresh enough to give (enforcement-anchors 4.1-4.3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "domain.h"
#include "harness.h"
#include "pmap_reply.h"
#include "sts_cache.h"
#include "sts_policy.h"
#include "xmalloc.h"

static const char *POL_ENF =
    "version: STSv1\nmode: enforce\nmx: mx1.example.com\n"
    "mx: *.example.net\nmax_age: 86400\n";
static const char *POL_TST =
    "version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 604800\n";
static const char *POL_NONE =
    "version: STSv1\nmode: none\nmax_age: 86400\n";
static const char *POL_IP =
    "version: STSv1\nmode: enforce\nmx: 192.0.2.1\nmx: mx.example.com\n"
    "max_age: 86400\n";
static const char *POL_ONLY_IP =
    "version: STSv1\nmode: enforce\nmx: 192.0.2.1\nmax_age: 86400\n";
static const char *POL_BRACE =
    "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
    "ext: a{b}\nmax_age: 86400\n";

static struct sts_policy *
pol(const char *text)
{
	struct sts_policy	*p = NULL;
	struct buf		 why = BUF_INIT;

	if (sts_policy_parse(text, strlen(text), &p, &why) != ST_OK)
		fprintf(stderr, "policy: %s\n", buf_str(&why));
	buf_free(&why);
	return p;
}

/* reply_kind - pmap_reply_make() for request "name key" (netstring
 * form) and the observation; the kind in *kind (may be NULL) */
static char *
reply_kind(const char *name, const char *key, enum status st,
    const char *text, enum override_action ov, int tempfail, int pending,
    enum pmap_kind *kind)
{
	struct sts_lookup	 l;
	struct pmap_obs		 o;
	struct pmap_req		*q = xmalloc(sizeof(*q));
	struct buf		 out = BUF_INIT, req = BUF_INIT;
	enum pmap_kind		 k;

	memset(&l, 0, sizeof(l));
	if (text != NULL)
		l.policy = pol(text);
	snprintf(l.id, sizeof(l.id), "id1");
	if (st == ST_TEMPFAIL)
		snprintf(l.reason, sizeof(l.reason), "SERVFAIL");
	buf_printf(&req, "%s %s", name, key);
	pmap_reply_read(buf_str(&req), req.b_len, 0, q);
	memset(&o, 0, sizeof(o));
	o.st = st;
	o.lookup = &l;
	o.ov = ov;
	o.tempfail = tempfail;
	o.pending = pending;
	buf_puts(&out, "");
	k = pmap_reply_make(q, &o, &out);
	if (kind != NULL)
		*kind = k;
	sts_lookup_clear(&l);
	buf_free(&req);
	free(q);
	return buf_release(&out);
}

static char *
reply(const char *name, const char *key, enum status st, const char *text,
    enum override_action ov, int tempfail)
{
	return reply_kind(name, key, st, text, ov, tempfail, 0, NULL);
}

/* want_kind - the kind a reply text is of, told from the text alone */
static enum pmap_kind
want_kind(const char *name, const char *key, const char *want)
{
	static const struct {
		const char	*prefix;
		enum pmap_kind	 kind;
	} k[] = {
		{ "OK secure ", PMAP_SECURE }, { "OK may ", PMAP_MAY },
		{ "NOTFOUND ", PMAP_NONE }, { "none", PMAP_NONE },
		{ "TEMP ", PMAP_TEMP }, { "temp ", PMAP_TEMP },
		{ "PERM ", PMAP_PERM }, { "enforce domain=", PMAP_POLICY },
		{ "testing domain=", PMAP_POLICY }, { "MX host ", PMAP_VETO },
	};
	size_t	i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (strncmp(want, k[i].prefix, strlen(k[i].prefix)) == 0)
			return k[i].kind;
	if (strcmp(name, "exim-tlsrpt") == 0)
		return PMAP_EMPTY;
	return strchr(key, ' ') != NULL ? PMAP_CONNECT : (enum pmap_kind)-1;
}

#define PF_ENF	"OK secure match=mx1.example.com:.example.net servername=hostname"
#define TLSRPT_ENF_ATTRS " policy_type=sts policy_domain=example.com " \
	"mx_host_pattern=mx1.example.com mx_host_pattern=*.example.net " \
	"{ policy_string = version: STSv1 } { policy_string = mode: enforce } " \
	"{ policy_string = mx: mx1.example.com } " \
	"{ policy_string = mx: *.example.net } " \
	"{ policy_string = max_age: 86400 }"
#define TLSRPT_TST "OK may policy_type=sts policy_domain=example.com " \
	"mx_host_pattern=*.example.com { policy_string = version: STSv1 } " \
	"{ policy_string = mode: testing } " \
	"{ policy_string = mx: *.example.com } " \
	"{ policy_string = max_age: 604800 }"

static const struct {
	const char		*name, *key;
	enum status		 st;
	const char		**text;
	enum override_action	 ov;
	int			 tempfail;
	const char		*want;
} rows[] = {
	/* enforce */
	{ "postfix", "example.com", ST_OK, &POL_ENF, 0, 0, PF_ENF },
	{ "sendmail", "example.com", ST_OK, &POL_ENF, 0, 0, PF_ENF },
	{ "sts", "example.com", ST_OK, &POL_ENF, 0, 0, PF_ENF },
	{ "postfix-tlsrpt", "example.com", ST_OK, &POL_ENF, 0, 0,
	  PF_ENF TLSRPT_ENF_ATTRS },
	{ "exim", "example.com", ST_OK, &POL_ENF, 0, 0,
	  "enforce domain=example.com mx=mx1.example.com:*.example.net id=id1" },
	/* testing: only postfix-tlsrpt says anything (STS-APP-2) */
	{ "postfix", "example.com", ST_OK, &POL_TST, 0, 0, "NOTFOUND " },
	{ "sendmail", "example.com", ST_OK, &POL_TST, 0, 0, "NOTFOUND " },
	{ "postfix-tlsrpt", "example.com", ST_OK, &POL_TST, 0, 0, TLSRPT_TST },
	{ "exim", "example.com", ST_OK, &POL_TST, 0, 0,
	  "testing domain=example.com mx=*.example.com id=id1" },
	/* mode none (STS-APP-3) */
	{ "postfix", "example.com", ST_OK, &POL_NONE, 0, 0, "NOTFOUND " },
	{ "postfix-tlsrpt", "example.com", ST_OK, &POL_NONE, 0, 0, "NOTFOUND " },
	{ "sendmail", "example.com", ST_OK, &POL_NONE, 0, 0, "NOTFOUND " },
	{ "exim", "example.com", ST_OK, &POL_NONE, 0, 0, "none" },
	/* no policy */
	{ "postfix", "example.com", ST_NOTFOUND, NULL, 0, 0, "NOTFOUND " },
	{ "postfix-tlsrpt", "example.com", ST_NOTFOUND, NULL, 0, 1, "NOTFOUND " },
	{ "sendmail", "example.com", ST_NOTFOUND, NULL, 0, 1, "NOTFOUND " },
	{ "exim", "example.com", ST_NOTFOUND, NULL, 0, 0, "none" },
	/* DNS trouble, nothing cached: fail open unless configured */
	{ "postfix", "example.com", ST_TEMPFAIL, NULL, 0, 0, "NOTFOUND " },
	{ "postfix", "example.com", ST_TEMPFAIL, NULL, 0, 1, "TEMP SERVFAIL" },
	{ "postfix-tlsrpt", "example.com", ST_TEMPFAIL, NULL, 0, 1,
	  "TEMP SERVFAIL" },
	{ "sendmail", "example.com", ST_TEMPFAIL, NULL, 0, 0, "NOTFOUND " },
	{ "sendmail", "example.com", ST_TEMPFAIL, NULL, 0, 1, "TEMP SERVFAIL" },
	{ "exim", "example.com", ST_TEMPFAIL, NULL, 0, 0, "none" },
	{ "exim", "example.com", ST_TEMPFAIL, NULL, 0, 1, "temp SERVFAIL" },
	/* overrides */
	{ "postfix", "example.com", ST_OK, &POL_ENF, OVERRIDE_SKIP, 0,
	  "NOTFOUND " },
	{ "exim", "example.com", ST_OK, &POL_ENF, OVERRIDE_SKIP, 0, "none" },
	{ "postfix", "example.com", ST_OK, &POL_TST, OVERRIDE_ENFORCE, 0,
	  "OK secure match=.example.com servername=hostname" },
	{ "postfix", "example.com", ST_OK, &POL_ENF, OVERRIDE_TESTING, 0,
	  "NOTFOUND " },
	{ "postfix", "example.com", ST_NOTFOUND, NULL, OVERRIDE_ENFORCE, 0,
	  "NOTFOUND " },
	/* keys that never have a policy */
	{ "postfix", ".example.com", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "postfix", "[192.0.2.1]", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "postfix", "[192.0.2.1]:25", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "postfix", "[ipv6:2001:db8::1]", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "postfix", "192.0.2.1", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "postfix", "localhost", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "postfix", "bad_name.com", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "sendmail", ".example.com", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "exim", ".example.com", ST_OK, &POL_ENF, 0, 0, "none" },
	/* smart hosts: the relay is the Policy Domain (STS-PD-2) */
	{ "postfix", "[example.com]", ST_OK, &POL_ENF, 0, 0, PF_ENF },
	{ "postfix", "[example.com]:587", ST_OK, &POL_ENF, 0, 0, PF_ENF },
	{ "postfix", "example.com:587", ST_OK, &POL_ENF, 0, 0, PF_ENF },
	{ "postfix-tlsrpt", "[example.com]:587", ST_OK, &POL_ENF, 0, 0,
	  PF_ENF TLSRPT_ENF_ATTRS },
	/* never an IP, never an empty match= (tlspol #70, #95) */
	{ "postfix", "example.com", ST_OK, &POL_IP, 0, 0,
	  "OK secure match=mx.example.com servername=hostname" },
	{ "postfix", "example.com", ST_OK, &POL_ONLY_IP, 0, 0, "NOTFOUND " },
	{ "postfix-tlsrpt", "example.com", ST_OK, &POL_ONLY_IP, 0, 0,
	  "NOTFOUND " },
	{ "exim", "example.com", ST_OK, &POL_ONLY_IP, 0, 0, "none" },
	/* a policy line Postfix cannot carry in { } is left out */
	{ "postfix-tlsrpt", "example.com", ST_OK, &POL_BRACE, 0, 0,
	  "OK secure match=mx.example.com servername=hostname "
	  "policy_type=sts policy_domain=example.com "
	  "mx_host_pattern=mx.example.com "
	  "{ policy_string = version: STSv1 } "
	  "{ policy_string = mode: enforce } "
	  "{ policy_string = mx: mx.example.com } "
	  "{ policy_string = max_age: 86400 }" },
	/* exim tcp:connect veto: empty = connect (STS-VAL-2 one label) */
	{ "exim", "example.com mx1.example.com", ST_OK, &POL_ENF, 0, 0, "" },
	{ "exim", "example.com a.example.net", ST_OK, &POL_ENF, 0, 0, "" },
	{ "exim", "example.com MX1.EXAMPLE.COM.", ST_OK, &POL_ENF, 0, 0, "" },
	{ "exim", "example.com a.b.example.net", ST_OK, &POL_ENF, 0, 0,
	  "MX host a.b.example.net does not match the MTA-STS policy of "
	  "example.com" },
	{ "exim", "example.com evil.example", ST_OK, &POL_ENF, 0, 0,
	  "MX host evil.example does not match the MTA-STS policy of "
	  "example.com" },
	{ "exim", "example.com evil.example", ST_OK, &POL_TST, 0, 0, "" },
	{ "exim", "example.com evil.example", ST_NOTFOUND, NULL, 0, 0, "" },
	{ "exim", "example.com evil.example", ST_TEMPFAIL, NULL, 0, 1, "" },
	{ "exim", "example.com evil.example", ST_OK, &POL_ENF,
	  OVERRIDE_SKIP, 0, "" },
	/* unknown map name: a configuration error, PERM */
	{ "postfixx", "example.com", ST_OK, &POL_ENF, 0, 0,
	  "PERM unknown map name" },
	/* Exim TLS outcomes: always "" */
	{ "exim-tlsrpt", "domain=example.com tls=t verified=1", ST_OK,
	  &POL_ENF, 0, 0, "" },
	{ "exim-tlsrpt", "junk", ST_NOTFOUND, NULL, 0, 0, "" },
	/* no key at all */
	{ "postfix", "", ST_OK, &POL_ENF, 0, 0, "NOTFOUND " },
	{ "exim", "", ST_OK, &POL_ENF, 0, 0, "none" },
	/* exim: a host that is not a name is not judged (fail open) */
	{ "exim", "example.com bad_host!", ST_OK, &POL_ENF, 0, 0, "" },
	{ "exim", "bad_name.com mx1.example.com", ST_OK, &POL_ENF, 0, 0, "" },
};

static void
test_reply_table(void)
{
	enum pmap_kind	 kind, want;
	unsigned	 seen = 0;
	size_t		 i;
	char		*got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		got = reply_kind(rows[i].name, rows[i].key, rows[i].st,
		    rows[i].text ? *rows[i].text : NULL, rows[i].ov,
		    rows[i].tempfail, 0, &kind);
		want = want_kind(rows[i].name, rows[i].key, rows[i].want);
		CHECKF(strcmp(got, rows[i].want) == 0,
		    "row %zu %s %s: got \"%s\", want \"%s\"", i, rows[i].name,
		    rows[i].key, got, rows[i].want);
		CHECKF(kind == want, "row %zu %s %s: kind %s, want %s", i,
		    rows[i].name, rows[i].key, pmap_reply_kind_name(kind),
		    pmap_reply_kind_name(want));
		seen |= 1u << kind;
		free(got);
	}
	/* every flavour's every kind is in the table */
	CHECK_INT(seen, (1u << (PMAP_PERM + 1)) - 1);
}

/*
 * The deadline passed with the fetch still running (RFC 8461 3.3): a
 * cached policy still applies (STS-HTTP-9); with none, deliver as though
 * there were no policy (STS-HTTP-8) -- never TEMP, even when the
 * operator asked for TEMP on DNS trouble.
 */
static void
test_reply_pending(void)
{
	static const struct {
		const char		*name, *key;
		enum status		 st;
		const char		**text;
		int			 tempfail;
		const char		*want;
	} p[] = {
		{ "postfix", "example.com", ST_TEMPFAIL, NULL, 1, "NOTFOUND " },
		{ "postfix", "example.com", ST_TEMPFAIL, NULL, 0, "NOTFOUND " },
		{ "postfix-tlsrpt", "example.com", ST_TEMPFAIL, NULL, 1,
		  "NOTFOUND " },
		{ "sendmail", "example.com", ST_TEMPFAIL, NULL, 1, "NOTFOUND " },
		{ "sts", "example.com", ST_NOTFOUND, NULL, 1, "NOTFOUND " },
		{ "exim", "example.com", ST_TEMPFAIL, NULL, 1, "none" },
		{ "exim", "example.com mx.evil.example", ST_TEMPFAIL, NULL, 1,
		  "" },
		/* a policy in the cache is applied at the deadline */
		{ "postfix", "example.com", ST_OK, &POL_ENF, 1, PF_ENF },
		{ "sendmail", "example.com", ST_OK, &POL_ENF, 0, PF_ENF },
		{ "exim", "example.com evil.example", ST_OK, &POL_ENF, 0,
		  "MX host evil.example does not match the MTA-STS policy of "
		  "example.com" },
		{ "postfix-tlsrpt", "example.com", ST_OK, &POL_TST, 0,
		  TLSRPT_TST },
	};
	size_t	i;
	char	*got;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		got = reply_kind(p[i].name, p[i].key, p[i].st,
		    p[i].text ? *p[i].text : NULL, 0, p[i].tempfail, 1, NULL);
		CHECKF(strcmp(got, p[i].want) == 0, "%zu %s %s: got \"%s\"",
		    i, p[i].name, p[i].key, got);
		free(got);
	}
}

/* Exim's veto question "exim domain host ip": the address (numeric
 * only) is what the veto's session names as receiving-ip */
static void
test_reply_read_ip(void)
{
	static const struct {
		const char	*req, *ip;	/* ip NULL: none */
	} r[] = {
		{ "exim a.example mx.a.example 192.0.2.25", "192.0.2.25" },
		{ "exim a.example mx.a.example 2001:DB8::25", "2001:db8::25" },
		{ "exim a.example mx.a.example ::1", "::1" },
		{ "exim a.example mx.a.example not-an-ip", NULL },
		{ "exim a.example mx.a.example 192.0.2.300", NULL },
		{ "exim a.example mx.a.example", NULL },
		{ "exim a.example", NULL },
	};
	struct pmap_req	*q = xmalloc(sizeof(*q));
	size_t		 i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		pmap_reply_read(r[i].req, strlen(r[i].req), 1, q);
		CHECKF((q->ip == NULL) == (r[i].ip == NULL) && (q->ip == NULL ||
		    strcmp(q->ip, r[i].ip) == 0), "\"%s\": ip \"%s\"",
		    r[i].req, q->ip ? q->ip : "-");
		if (q->host != NULL)
			CHECKF(strcmp(q->host, "mx.a.example") == 0,
			    "\"%s\": host \"%s\"", r[i].req, q->host);
	}
	free(q);
}

/* Requests as they come off the wire: netstring "name key" or an Exim
 * line, folded to lower case, key and host split. */
static void
test_reply_read(void)
{
	static const struct {
		const char		*req;
		int			 line;
		enum pmap_flavour	 fl;
		const char		*key, *domain, *host;
		enum status		 kst;
	} r[] = {
		{ "postfix Example.COM", 0, PMAP_POSTFIX, "example.com",
		  "example.com", NULL, ST_OK },
		{ "POSTFIX-TLSRPT [Relay.Example]:587", 0, PMAP_POSTFIX_TLSRPT,
		  "[relay.example]:587", "relay.example", NULL, ST_OK },
		{ "sts a.example", 0, PMAP_SENDMAIL, "a.example", "a.example",
		  NULL, ST_OK },
		{ "sendmail .a.example", 0, PMAP_SENDMAIL, ".a.example", "",
		  NULL, ST_NOTFOUND },
		{ "postfix", 0, PMAP_POSTFIX, "", "", NULL, ST_INVALID },
		{ "nosuch a.example", 0, PMAP_UNKNOWN, "a.example", "a.example",
		  NULL, ST_OK },
		{ "a.example", 1, PMAP_EXIM, "a.example", "a.example", NULL,
		  ST_OK },
		{ "exim a.example MX.A.Example", 1, PMAP_EXIM,
		  "a.example mx.a.example", "a.example", "mx.a.example", ST_OK },
		{ "exim a.example mx.a.example", 0, PMAP_EXIM,
		  "a.example mx.a.example", "a.example", "mx.a.example", ST_OK },
		/* the fragment's veto question passes $host_address too:
		 * the key stays "domain host" */
		{ "exim a.example mx.a.example 192.0.2.25", 1, PMAP_EXIM,
		  "a.example mx.a.example", "a.example", "mx.a.example", ST_OK },
		{ "exim a.example mx.a.example 2001:DB8::25", 1, PMAP_EXIM,
		  "a.example mx.a.example", "a.example", "mx.a.example", ST_OK },
		{ "exim a.example mx.a.example not-an-ip", 1, PMAP_EXIM,
		  "a.example mx.a.example", "a.example", "mx.a.example", ST_OK },
		{ "nosuch a.example", 1, PMAP_EXIM, "nosuch a.example", "",
		  "a.example", ST_NOTFOUND },		/* single label */
		{ "exim-tlsrpt domain=A.example tls=X", 1, PMAP_EXIM_TLSRPT,
		  "domain=a.example tls=x", "", NULL, ST_INVALID },
	};
	struct pmap_req	*q = xmalloc(sizeof(*q));
	size_t		 i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		pmap_reply_read(r[i].req, strlen(r[i].req), r[i].line, q);
		CHECKF(q->fl == r[i].fl, "\"%s\": flavour %d", r[i].req, q->fl);
		CHECKF(strcmp(q->key, r[i].key) == 0, "\"%s\": key \"%s\"",
		    r[i].req, q->key);
		if (r[i].fl == PMAP_EXIM_TLSRPT)
			continue;		/* the key is an event line */
		CHECKF(q->kst == r[i].kst, "\"%s\": %s", r[i].req,
		    status_str(q->kst));
		CHECKF(strcmp(q->domain, r[i].domain) == 0,
		    "\"%s\": domain \"%s\"", r[i].req, q->domain);
		CHECKF((q->host == NULL) == (r[i].host == NULL) &&
		    (q->host == NULL || strcmp(q->host, r[i].host) == 0),
		    "\"%s\": host \"%s\"", r[i].req, q->host ? q->host : "-");
	}
	/* the input is never written to, and a long one is cut, not
	 * overrun */
	{
		char	*big = xmalloc(PMAP_MAX_QUERY + 100);

		memset(big, 'A', PMAP_MAX_QUERY + 100);
		memcpy(big, "postfix ", 8);
		pmap_reply_read(big, PMAP_MAX_QUERY + 100, 0, q);
		CHECK_INT(strlen(q->text), PMAP_MAX_QUERY);
		CHECK(big[8] == 'A');
		free(big);
	}
	free(q);
}

/* When a lookup made without the network may be answered as it is
 * (STS-CACHE-2 TXT re-check, STS-CACHE-3 refresh at most max_age/2). */
static void
test_reply_fresh(void)
{
	enum { NOW = 1700000000, TXT = 300, REFRESH = 86400 };
	static const struct {
		const char	*what;
		enum status	 st;
		int		 policy;
		long long	 max_age;
		time_t		 checked, fetched;
		int		 want;
	} f[] = {
		{ "checked and fetched just now", ST_OK, 1, 604800, NOW, NOW,
		  1 },
		{ "TXT check due", ST_OK, 1, 604800, NOW - TXT, NOW, 0 },
		{ "TXT checked a second ago", ST_OK, 1, 604800, NOW - TXT + 1,
		  NOW, 1 },
		{ "refresh due", ST_OK, 1, 604800, NOW, NOW - REFRESH, 0 },
		{ "half max_age passed", ST_OK, 1, 7200, NOW, NOW - 3600, 0 },
		{ "under half max_age", ST_OK, 1, 7200, NOW, NOW - 3599, 1 },
		{ "remembered no policy", ST_NOTFOUND, 0, 0, 0, 0, 1 },
		{ "nothing known / DNS trouble", ST_TEMPFAIL, 0, 0, 0, 0, 0 },
		{ "OK without a policy", ST_OK, 0, 0, NOW, NOW, 0 },
	};
	struct sts_lookup	l;
	size_t			i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		memset(&l, 0, sizeof(l));
		if (f[i].policy) {
			l.policy = pol(POL_ENF);
			l.policy->p_max_age = f[i].max_age;
		}
		l.checked = f[i].checked;
		l.fetched = f[i].fetched;
		CHECKF(pmap_reply_fresh(f[i].st, &l, NOW, TXT, REFRESH) ==
		    f[i].want, "%s", f[i].what);
		sts_lookup_clear(&l);
	}
}

static void
test_names(void)
{
	CHECK_INT(pmap_reply_flavour("postfix"), PMAP_POSTFIX);
	CHECK_INT(pmap_reply_flavour("sts"), PMAP_SENDMAIL);
	CHECK_INT(pmap_reply_flavour("exim-tlsrpt"), PMAP_EXIM_TLSRPT);
	CHECK_INT(pmap_reply_flavour("Postfix"), PMAP_UNKNOWN);
	CHECK_INT(pmap_reply_flavour(NULL), PMAP_UNKNOWN);
	CHECK_STR(pmap_reply_flavour_name(PMAP_SENDMAIL), "sendmail");
	CHECK_STR(pmap_reply_flavour_name(PMAP_UNKNOWN), "unknown");
	CHECK_STR(pmap_reply_kind_name(PMAP_VETO), "veto");
}

static void
test_key_domain(void)
{
	static const struct {
		const char	*key;
		enum status	 st;
		const char	*domain;
	} k[] = {
		{ "example.com", ST_OK, "example.com" },
		{ "Example.COM.", ST_OK, "example.com" },
		{ "[relay.example.com]", ST_OK, "relay.example.com" },
		{ "[relay.example.com]:587", ST_OK, "relay.example.com" },
		{ "[relay.example.com]:submission", ST_OK, "relay.example.com" },
		{ "relay.example.com:587", ST_OK, "relay.example.com" },
		{ ".example.com", ST_NOTFOUND, "" },
		{ "[192.0.2.1]", ST_NOTFOUND, "" },
		{ "[IPv6:2001:db8::1]", ST_NOTFOUND, "" },
		{ "2001:db8::1", ST_NOTFOUND, "" },
		{ "10.1.2.3", ST_NOTFOUND, "" },
		{ "localhost", ST_NOTFOUND, "" },
		{ "", ST_INVALID, "" },
		{ "[relay.example.com", ST_INVALID, "" },
		{ "[relay.example.com]x", ST_INVALID, "" },
		{ "a b.com", ST_INVALID, "" },
		{ "xn--bcher-kva.example", ST_OK, "xn--bcher-kva.example" },
	};
	char		d[DOMAIN_MAX + 1];
	struct buf	why = BUF_INIT;
	size_t		i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		buf_reset(&why);
		CHECKF(pmap_reply_key_domain(k[i].key, d, &why) == k[i].st,
		    "key \"%s\" (%s)", k[i].key, buf_str(&why));
		CHECKF(strcmp(d, k[i].domain) == 0, "key \"%s\": \"%s\"",
		    k[i].key, d);
	}
	buf_free(&why);
}

/* A policy with 256 long patterns: the reply must stay < 100000 bytes
 * and keep enforcing (policy_string dropped first). */
static void
test_reply_size_cap(void)
{
	struct buf	 text = BUF_INIT;
	char		*got;
	int		 i;

	buf_puts(&text, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
	for (i = 0; i < 256; i++)
		buf_printf(&text, "mx: *.m%03d.%.60s.%.60s.%.60s.example\n", i,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	got = reply("postfix-tlsrpt", "example.com", ST_OK, buf_str(&text), 0, 0);
	CHECKF(strlen(got) < PMAP_MAX_REPLY, "%zu bytes", strlen(got));
	CHECK(strncmp(got, "OK secure match=.m000.", 22) == 0);
	CHECK(strstr(got, "policy_string") == NULL);
	free(got);
	got = reply("postfix", "example.com", ST_OK, buf_str(&text), 0, 0);
	CHECKF(strlen(got) < PMAP_MAX_REPLY, "%zu bytes", strlen(got));
	CHECK(strstr(got, ".m255.") != NULL);
	free(got);
	got = reply("postfix-tlsrpt", "example.com", ST_OK, buf_str(&text), 0, 0);
	free(got);
	buf_free(&text);
}

int
main(void)
{
	RUN(test_reply_table);
	RUN(test_reply_pending);
	RUN(test_reply_read);
	RUN(test_reply_read_ip);
	RUN(test_reply_fresh);
	RUN(test_key_domain);
	RUN(test_reply_size_cap);
	RUN(test_names);
	return harness_done("test_pmap_reply");
}
