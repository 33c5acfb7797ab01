/*
 * test_fleet_cache.c - the fleet's shared cache: values, lifetimes, the
 * lock protocol's decisions (table-driven), and two policy caches
 * ("nodes") sharing one second-level store through sts_cache_set_l2()
 * (the DNS, HTTP and clock fakes; the store is an in-memory table that
 * uses the same values and decisions as the Redis one)
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fakes.h"
#include "fleet_cache.h"
#include "harness.h"
#include "sts_cache.h"
#include "xmalloc.h"

#define T0	1700000000
#define POL_ENF	"version: STSv1\nmode: enforce\nmx: mx.example.com\n" \
		"max_age: 86400\n"
#define POL_SHORT "version: STSv1\nmode: testing\nmx: mx.example.com\n" \
		"max_age: 600\n"

static struct sts_policy *
policy(const char *text)
{
	struct sts_policy	*p = NULL;
	struct buf		 why = BUF_INIT;

	CHECK_INT(sts_policy_parse(text, strlen(text), &p, &why), ST_OK);
	buf_free(&why);
	return p;
}

/* a state with a policy fetched at f, checked at k */
static void
pol_state(struct sts_state *st, const char *text, const char *id, time_t f,
    time_t k)
{
	memset(st, 0, sizeof(*st));
	st->st_policy = policy(text);
	snprintf(st->st_id, sizeof(st->st_id), "%s", id);
	memcpy(st->st_txt_id, st->st_id, sizeof(st->st_txt_id));
	st->st_fetched = f;
	st->st_checked = k;
}

static void
neg_state(struct sts_state *st, enum status s, time_t until, time_t k)
{
	memset(st, 0, sizeof(*st));
	st->st_neg_status = s;
	st->st_neg_until = until;
	st->st_checked = k;
	sts_state_set_reason(st, "no _mta-sts TXT record\nat all");
}

static void
test_keys(void)
{
	struct buf	k = BUF_INIT;

	fleet_cache_key(&k, "sts:", FLEET_KEY_POL, "example.com");
	CHECK_STR(buf_str(&k), "sts:pol:example.com");
	fleet_cache_key(&k, "f1:", FLEET_KEY_LOCK, "example.com");
	CHECK_STR(buf_str(&k), "f1:lock:pol:example.com");
	fleet_cache_key(&k, "", FLEET_KEY_MX, "mx.example.com|192.0.2.1|25");
	CHECK_STR(buf_str(&k), "mx:mx.example.com|192.0.2.1|25");
	buf_free(&k);
}

/* STS-CACHE-1: entries live as long as the entry itself, never without
 * an expiry; DNS failures are this node's own and are not shared */
static void
test_expiry(void)
{
	static const struct {
		int	 kind;		/* 0 policy, 1 notfound, 2 tempfail, 3 empty */
		time_t	 fetched_or_until;
		time_t	 now;
		time_t	 want;
	} t[] = {
		{ 0, T0, T0, T0 + 86400 },
		{ 0, T0, T0 + 86399, T0 + 86400 },
		{ 0, T0, T0 + 86400, 0 },		/* expired */
		{ 1, T0 + 3600, T0, T0 + 3600 },
		{ 1, T0, T0, 0 },			/* negative_ttl 0 */
		{ 2, T0 + 60, T0, 0 },
		{ 3, 0, T0, 0 },
	};
	struct sts_state	st;
	struct buf		b = BUF_INIT;
	time_t			exp;
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].kind == 0)
			pol_state(&st, POL_ENF, "A1", t[i].fetched_or_until,
			    t[i].fetched_or_until);
		else if (t[i].kind == 3)
			memset(&st, 0, sizeof(st));
		else
			neg_state(&st, t[i].kind == 1 ? ST_NOTFOUND :
			    ST_TEMPFAIL, t[i].fetched_or_until, T0);
		CHECKF(fleet_pol_expiry(&st, t[i].now) == t[i].want, "row %zu",
		    i);
		buf_reset(&b);
		CHECKF(fleet_pol_format(&st, t[i].now, &b, &exp) ==
		    (t[i].want ? 0 : -1), "row %zu", i);
		CHECKF(t[i].want == 0 || exp == t[i].want, "row %zu", i);
		CHECKF(t[i].want != 0 || b.b_len == 0, "row %zu", i);
		sts_state_clear(&st);
	}
	buf_free(&b);
}

static void
test_policy_roundtrip(void)
{
	struct sts_state	st, got;
	struct buf		b = BUF_INIT;
	time_t			exp;

	pol_state(&st, POL_ENF, "A1", T0, T0 + 10);
	st.st_failed = 1;			/* STS-HTTP-5 travels */
	snprintf(st.st_fail_id, sizeof(st.st_fail_id), "B2");
	st.st_fail_time = T0 + 10;
	st.st_fail_rt = TLSRPT_STS_POLICY_FETCH_ERROR;
	CHECK_INT(fleet_pol_format(&st, T0 + 20, &b, &exp), 0);
	CHECK(strncmp(buf_str(&b), "sts-milter-cache 1\n", 19) == 0);
	CHECK_INT(fleet_pol_stamp(b.b_data, b.b_len), T0 + 10);
	CHECK_INT(fleet_pol_parse(b.b_data, b.b_len, &got), 0);
	CHECK(got.st_policy && got.st_policy->p_mode == STS_MODE_ENFORCE);
	CHECK_STR(got.st_id, "A1");
	CHECK_STR(got.st_txt_id, "B2");
	CHECK_INT(got.st_fetched, T0);
	CHECK_INT(got.st_checked, T0 + 10);
	CHECK_INT(got.st_failed, 1);
	CHECK_STR(got.st_fail_id, "B2");
	CHECK_INT(got.st_fail_rt, TLSRPT_STS_POLICY_FETCH_ERROR);
	sts_state_clear(&got);
	sts_state_clear(&st);

	/* STS-HTTP-8: no policy, the fetch failed: shared with its reason */
	neg_state(&st, ST_NOTFOUND, T0 + 300, T0 + 5);
	st.st_failed = 1;
	snprintf(st.st_fail_id, sizeof(st.st_fail_id), "C3");
	st.st_fail_time = T0 + 5;
	st.st_fail_rt = TLSRPT_STS_WEBPKI_INVALID;
	buf_reset(&b);
	CHECK_INT(fleet_pol_format(&st, T0 + 6, &b, &exp), 0);
	CHECK_INT(exp, T0 + 300);
	CHECK_INT(fleet_pol_stamp(b.b_data, b.b_len), T0 + 5);
	CHECK_INT(fleet_pol_parse(b.b_data, b.b_len, &got), 0);
	CHECK(got.st_policy == NULL);
	CHECK_INT(got.st_neg_status, ST_NOTFOUND);
	CHECK_INT(got.st_neg_until, T0 + 300);
	CHECK_INT(got.st_checked, T0 + 5);
	CHECK_INT(got.st_failed, 1);
	CHECK_STR(got.st_fail_id, "C3");
	CHECK_STR(got.st_txt_id, "C3");
	CHECK_INT(got.st_fail_rt, TLSRPT_STS_WEBPKI_INVALID);
	CHECK_STR(got.st_reason, "no _mta-sts TXT record at all");
	sts_state_clear(&got);
	sts_state_clear(&st);
	buf_free(&b);
}

/* what no node wrote is "nothing shared", never a crash */
static void
test_parse_garbage(void)
{
	static const char *const bad[] = {
		"",
		"sts-milter-none 1\n",
		"sts-milter-none 1\nuntil 0\n",
		"sts-milter-none 1\nuntil x\nchecked 5\n",
		"sts-milter-none 1\nuntil 5",		/* no newline */
		"sts-milter-none 1\nuntil 17000\nchecked -17\n",	/* fuzz */
		"sts-milter-none 1\nuntil 99999999999999999999\nchecked 1\n",
		"sts-milter-cache 1\nid A\nfetched -5\nlength 55\n\n"
		    "version: STSv1\nmode: none\nmx: a.example\nmax_age: 86400\n",
		"sts-milter-cache 1\nid A\nlength 3\n\nabc",
		"sts-milter-cache 1\nid A\nlength 99\n\nversion: STSv1\n",
		"sts-milter-verdict 1\nresult 99\n",
		"garbage",
	};
	struct sts_state	st;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECKF(fleet_pol_parse(bad[i], strlen(bad[i]), &st) == -1,
		    "row %zu", i);
		CHECKF(st.st_policy == NULL && st.st_reason == NULL,
		    "row %zu", i);
	}
	CHECK_INT(fleet_pol_stamp("x\nchecked 12\n", 13), 12);
	CHECK_INT(fleet_pol_stamp("x\nchecked 12", 12), -1);
	CHECK_INT(fleet_pol_stamp("checked 12\n", 11), -1);
	CHECK_INT(fleet_pol_stamp("x\nchecked \n", 11), -1);
	CHECK_INT(fleet_pol_stamp("", 0), -1);
}

/* which shared state a node takes, and whether it still checks */
static void
test_use(void)
{
	static const struct {
		int		 kind;	/* 0 policy (86400), 1 short (600),
					 * 2 notfound, 3 tempfail */
		time_t		 fetched, checked;
		time_t		 local;	/* the node's fetch time; 0 none */
		time_t		 now;
		enum sts_l2_use	 want;
	} t[] = {
		/* checked 100 s ago, no refresh due: use it */
		{ 0, T0, T0 + 100, 0, T0 + 200, STS_L2_FRESH },
		{ 0, T0, T0 + 100, T0 + 150, T0 + 200, STS_L2_FRESH },
		/* STS-CACHE-2: the TXT check is due: newer base, then check */
		{ 0, T0, T0 + 100, 0, T0 + 400, STS_L2_BASE },
		{ 0, T0 + 50, T0 + 100, T0, T0 + 400, STS_L2_BASE },
		/* ours is as new or newer: our own check */
		{ 0, T0, T0 + 100, T0, T0 + 400, STS_L2_NONE },
		{ 0, T0, T0 + 100, T0 + 1, T0 + 400, STS_L2_NONE },
		/* STS-CACHE-3: refresh due (half of max_age 600) */
		{ 1, T0, T0 + 299, 0, T0 + 300, STS_L2_BASE },
		{ 1, T0, T0 + 250, 0, T0 + 299, STS_L2_FRESH },
		/* STS-CACHE-1: expired */
		{ 1, T0, T0 + 599, 0, T0 + 600, STS_L2_NONE },
		/* "no policy" until its time, for a node without one */
		{ 2, T0 + 3600, T0, 0, T0 + 3599, STS_L2_FRESH },
		{ 2, T0 + 3600, T0, 0, T0 + 3600, STS_L2_NONE },
		/* STS-TXT-5: never drops a node's valid policy */
		{ 2, T0 + 3600, T0, T0 - 10, T0 + 10, STS_L2_NONE },
		{ 3, T0 + 60, T0, 0, T0 + 10, STS_L2_NONE },
	};
	struct fleet_pol_opts	o = { 300, 86400 };
	struct sts_state	st;
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].kind <= 1)
			pol_state(&st, t[i].kind ? POL_SHORT : POL_ENF, "A1",
			    t[i].fetched, t[i].checked);
		else
			neg_state(&st, t[i].kind == 2 ? ST_NOTFOUND :
			    ST_TEMPFAIL, t[i].fetched, t[i].checked);
		CHECKF(fleet_pol_use(&st, t[i].local, t[i].now, &o) ==
		    t[i].want, "row %zu: got %d", i,
		    (int)fleet_pol_use(&st, t[i].local, t[i].now, &o));
		sts_state_clear(&st);
	}
}

static void
test_lock_next(void)
{
	static const struct {
		enum sts_l2_use		use;
		int			took;
		int64_t			waited, max;
		enum fleet_lock_act	want;
	} t[] = {
		{ STS_L2_NONE, 1, 0, 1000, FLEET_LOCK_OWN },
		{ STS_L2_BASE, 1, 5000, 1000, FLEET_LOCK_OWN },
		{ STS_L2_FRESH, 0, 10, 1000, FLEET_LOCK_ADOPT },
		{ STS_L2_FRESH, 1, 10, 1000, FLEET_LOCK_ADOPT },
		{ STS_L2_FRESH, 0, 5000, 1000, FLEET_LOCK_ADOPT },
		{ STS_L2_NONE, 0, 10, 1000, FLEET_LOCK_WAIT },
		{ STS_L2_BASE, 0, 999, 1000, FLEET_LOCK_WAIT },
		{ STS_L2_BASE, 0, 1000, 1000, FLEET_LOCK_ALONE },
		{ STS_L2_NONE, 0, 0, 0, FLEET_LOCK_ALONE },
	};
	size_t	i;
	int	total = 0, a;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECKF(fleet_lock_next(t[i].use, t[i].took, t[i].waited,
		    t[i].max) == t[i].want, "row %zu", i);
	for (a = 0; a < 10; a++) {
		CHECK(fleet_lock_delay_ms(a) > 0 && fleet_lock_delay_ms(a) <= 50);
		CHECK(a == 0 || fleet_lock_delay_ms(a) >=
		    fleet_lock_delay_ms(a - 1));
		total += fleet_lock_delay_ms(a);
	}
	CHECK(total < 500);		/* ten polls within half a second */
}

static void
test_verdict(void)
{
	struct tls_probe_result	r, got;
	struct buf		b = BUF_INIT;
	static const char	*bad[] = { "", "sts-milter-verdict 1\n",
	    "sts-milter-verdict 1\nresult -1\n", "sts-milter-none 1\n" };
	size_t			i;

	memset(&r, 0, sizeof(r));
	r.result = TLSRPT_CERTIFICATE_EXPIRED;
	r.dane = 1;
	snprintf(r.reason, sizeof(r.reason), "certificate-expired\r\n");
	snprintf(r.sending_ip, sizeof(r.sending_ip), "192.0.2.9");
	fleet_verdict_format(&r, &b);
	CHECK_INT(fleet_verdict_parse(b.b_data, b.b_len, &got), 0);
	CHECK_INT(got.result, TLSRPT_CERTIFICATE_EXPIRED);
	CHECK_INT(got.dane, 1);
	CHECK_STR(got.reason, "certificate-expired  ");
	CHECK_STR(got.sending_ip, "");		/* a node's own: not shared */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(fleet_verdict_parse(bad[i], strlen(bad[i]), &got) == -1,
		    "row %zu", i);
	buf_free(&b);
}

/* --- two nodes, one store ------------------------------------------- */

/* the store: one value a domain, "newer checked wins", as in Redis */
struct mem_l2 {
	char		 val[4][4096];
	char		 dom[4][64];
	size_t		 len[4];
	int		 gets, puts, fresh, forgot;
};

static int
mem_slot(struct mem_l2 *m, const char *domain)
{
	int	i;

	for (i = 0; i < 4; i++)
		if (strcmp(m->dom[i], domain) == 0 || m->dom[i][0] == '\0') {
			snprintf(m->dom[i], sizeof(m->dom[i]), "%s", domain);
			return i;
		}
	return 0;
}

static enum sts_l2_use
mem_get(void *arg, const char *domain, time_t local, struct sts_state *out)
{
	struct mem_l2		*m = arg;
	struct fleet_pol_opts	 o = { 300, 86400 };
	int			 i = mem_slot(m, domain);
	enum sts_l2_use		 use;

	m->gets++;
	if (m->len[i] == 0 || fleet_pol_parse(m->val[i], m->len[i], out) != 0)
		return STS_L2_NONE;
	if ((use = fleet_pol_use(out, local, clock_now(), &o)) ==
	    STS_L2_NONE)
		sts_state_clear(out);
	m->fresh += use == STS_L2_FRESH;
	return use;
}

static void
mem_put(void *arg, const char *domain, const struct sts_state *st)
{
	struct mem_l2	*m = arg;
	int		 i = mem_slot(m, domain);
	struct buf	 b = BUF_INIT;
	time_t		 exp;

	m->puts++;
	if (fleet_pol_format(st, clock_now(), &b, &exp) == 0 &&
	    b.b_len < sizeof(m->val[i]) && fleet_pol_stamp(b.b_data,
	    b.b_len) >= fleet_pol_stamp(m->val[i], m->len[i])) {
		memcpy(m->val[i], b.b_data, b.b_len);
		m->len[i] = b.b_len;
	}
	buf_free(&b);
}

static void
mem_forget(void *arg, const char *domain)
{
	struct mem_l2	*m = arg;
	int		 i = mem_slot(m, domain ? domain : "");

	m->forgot++;
	m->len[i] = 0;
}

static int	failures;

static void
count_failure(void *arg, const char *domain, const struct sts_lookup *l)
{
	failures++;
}

static struct sts_cache *
node(struct sts_cache_l2 *l2)
{
	struct sts_cache_opts	 o;
	struct sts_cache	*c;

	fake_cache_opts(&o, NULL);
	c = sts_cache_new(&o);
	sts_cache_set_l2(c, l2);
	sts_cache_on_fetch_failure(c, count_failure, NULL);
	return c;
}

static enum status
look(struct sts_cache *c, const char *domain, struct sts_lookup *l)
{
	sts_lookup_clear(l);
	return sts_cache_lookup(c, domain, 0, l);
}

/* one fetch for the fleet; the others take the policy and its checks */
static void
test_nodes_share_policy(void)
{
	struct mem_l2		 m;
	struct sts_cache_l2	 l2 = { mem_get, mem_put, mem_forget, &m };
	struct sts_cache	*a, *b;
	struct sts_lookup	 l;

	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(T0);
	fake_sts_domain("example.com", "A1", POL_ENF);
	a = node(&l2);
	b = node(&l2);
	CHECK_INT(look(a, "example.com", &l), ST_OK);
	CHECK_INT(fake_http_calls(), 1);
	CHECK_INT(m.puts, 1);
	fake_clock_advance(10);
	CHECK_INT(look(b, "example.com", &l), ST_OK);	/* FRESH */
	CHECK(l.policy && l.policy->p_mode == STS_MODE_ENFORCE);
	CHECK_STR(l.id, "A1");
	CHECK_INT(l.fetched, T0);
	CHECK_INT(l.expires, T0 + 86400);		/* its own lifetime */
	CHECK_INT(fake_http_calls(), 1);
	CHECK_INT(fake_dns_calls(), 2);			/* a's TXT + A only */
	CHECK_INT(m.puts, 1);				/* nothing to put */
	/* STS-CACHE-2: b's TXT check is due: it checks from the shared
	 * base (a checked at T0, b took it at T0 + 10) */
	fake_clock_advance(400);
	CHECK_INT(look(b, "example.com", &l), ST_OK);
	CHECK_INT(fake_http_calls(), 1);		/* id unchanged */
	CHECK_INT(fake_dns_calls(), 3);
	CHECK_INT(m.puts, 2);				/* b's check shared */
	/* now a's check is due too: b's is fresh, a takes it */
	fake_clock_advance(10);
	CHECK_INT(look(a, "example.com", &l), ST_OK);
	CHECK_INT(fake_dns_calls(), 3);
	CHECK_INT(l.checked, T0 + 410);
	/* a new id: one node fetches it, the other takes it */
	fake_clock_advance(400);
	fake_sts_domain("example.com", "B2", POL_SHORT);
	CHECK_INT(look(a, "example.com", &l), ST_OK);
	CHECK_STR(l.id, "B2");
	CHECK_INT(fake_http_calls(), 2);
	CHECK_INT(look(b, "example.com", &l), ST_OK);
	CHECK_STR(l.id, "B2");
	CHECK(l.policy && l.policy->p_mode == STS_MODE_TESTING);
	CHECK_INT(fake_http_calls(), 2);
	CHECK_INT(failures, 0);
	/* a flush of a's cache forgets the shared copy: a fetches anew */
	sts_cache_flush(a, "example.com");
	CHECK_INT(m.forgot, 1);
	CHECK_INT(look(a, "example.com", &l), ST_OK);
	CHECK_INT(fake_http_calls(), 3);
	sts_lookup_clear(&l);
	sts_cache_free(a);
	sts_cache_free(b);
}

/* "no policy" and failed fetches: shared, reported by one node only */
static void
test_nodes_share_negative(void)
{
	struct mem_l2		 m;
	struct sts_cache_l2	 l2 = { mem_get, mem_put, mem_forget, &m };
	struct sts_cache	*a, *b, *c;
	struct sts_lookup	 l;

	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	failures = 0;
	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(T0);
	a = node(&l2);
	b = node(&l2);
	c = node(&l2);
	/* none published: one TXT lookup for the fleet */
	CHECK_INT(look(a, "none.example", &l), ST_NOTFOUND);
	CHECK_INT(fake_dns_calls(), 1);
	CHECK_INT(look(b, "none.example", &l), ST_NOTFOUND);
	CHECK_INT(fake_dns_calls(), 1);
	/* STS-HTTP-8: TXT but the fetch fails: one fetch, one report */
	fake_dns_set("TXT", "_mta-sts.broken.example", ST_OK,
	    "v=STSv1; id=F1", NULL);
	CHECK_INT(look(a, "broken.example", &l), ST_NOTFOUND);
	CHECK_INT(l.fetch_failed, 1);
	CHECK_INT(failures, 1);
	fake_clock_advance(5);
	CHECK_INT(look(b, "broken.example", &l), ST_NOTFOUND);
	CHECK_INT(l.fetch_failed, 1);			/* stsctl shows it */
	CHECK_INT(l.ran_check, 0);
	CHECK_INT(failures, 1);				/* not reported twice */
	/* STS-TXT-5: c has a valid policy; the record vanishes; another
	 * node's "no policy" never drops c's policy */
	fake_sts_domain("keep.example", "K1", POL_ENF);
	CHECK_INT(look(c, "keep.example", &l), ST_OK);
	fake_dns_set("TXT", "_mta-sts.keep.example", ST_NOTFOUND, NULL);
	fake_clock_advance(400);
	memset(m.val, 0, sizeof(m.val));		/* the store lost it */
	memset(m.len, 0, sizeof(m.len));
	memset(m.dom, 0, sizeof(m.dom));
	CHECK_INT(look(a, "keep.example", &l), ST_NOTFOUND);
	CHECK_INT(look(c, "keep.example", &l), ST_OK);
	CHECK(l.policy != NULL);
	sts_lookup_clear(&l);
	sts_cache_free(a);
	sts_cache_free(b);
	sts_cache_free(c);
}

int
main(void)
{
	RUN(test_keys);
	RUN(test_expiry);
	RUN(test_policy_roundtrip);
	RUN(test_parse_garbage);
	RUN(test_use);
	RUN(test_lock_next);
	RUN(test_verdict);
	RUN(test_nodes_share_policy);
	RUN(test_nodes_share_negative);
	return harness_done("test_fleet_cache");
}
