/*
 * report_agg.c - aggregate one UTC day of journal sessions
 *
 * The hot path (report_agg_add) runs once per record: it hashes the
 * domain, finds or makes the domain and policy group, and for a
 * failure hashes the tuple and finds or makes its group.  Nothing is
 * allocated unless a new group appears; strings live in an arena.
 * Tables are chained hash tables that double at load factor 1.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "report_agg.h"
#include "xmalloc.h"

#define ARENA_CHUNK	(256 * 1024)

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 used, size;
	char			 data[];
};

struct report_agg {
	char			 *only;
	struct arena_chunk	 *arena;
	size_t			  arena_bytes;
	struct report_domain	**dtab;
	size_t			  dsize, dcount;
	struct report_fail	**ftab;
	size_t			  fsize, fcount;
	struct report_domain	**sorted;
	struct report_agg_stats	  st;
	int			  omit_sip;	/* report_sending_ip = no */
};

static void *
arena_alloc(struct report_agg *a, size_t n)
{
	struct arena_chunk	*c = a->arena;
	void			*p;

	n = (n + 7) & ~(size_t)7;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = a->arena;
		a->arena = c;
		a->arena_bytes += sizeof(*c) + size;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static const char *
arena_str(struct report_agg *a, const char *s)
{
	size_t	 n = strlen(s);
	char	*p;

	if (n == 0)
		return "";
	p = arena_alloc(a, n + 1);
	memcpy(p, s, n + 1);
	return p;
}

/* hash_str - s and a separator folded into the running hash h */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	h = hash_fnv64_str(h, s);
	return hash_fnv64(h, "\xff", 1);	/* field separator */
}

void
report_agg_omit_sending_ip(struct report_agg *a)
{
	a->omit_sip = 1;
}

struct report_agg *
report_agg_new(const char *only_domain)
{
	struct report_agg	*a = xcalloc(1, sizeof(*a));

	if (only_domain != NULL && *only_domain)
		a->only = xstrdup(only_domain);
	a->dsize = 1024;
	a->dtab = xcalloc(a->dsize, sizeof(*a->dtab));
	a->fsize = 1024;
	a->ftab = xcalloc(a->fsize, sizeof(*a->ftab));
	return a;
}

void
report_agg_free(struct report_agg *a)
{
	struct arena_chunk	*c, *n;

	if (a == NULL)
		return;
	for (c = a->arena; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(a->dtab);
	free(a->ftab);
	free(a->sorted);
	free(a->only);
	free(a);
}

const struct report_agg_stats *
report_agg_stats(const struct report_agg *a)
{
	return &a->st;
}

size_t
report_agg_memory(const struct report_agg *a)
{
	return a->arena_bytes + (a->dsize + a->fsize) * sizeof(void *) +
	    a->dcount * sizeof(void *);
}

static void
dgrow(struct report_agg *a)
{
	struct report_domain	**t, *d, *n;
	size_t			  i, size = a->dsize * 2;

	t = xcalloc(size, sizeof(*t));
	for (i = 0; i < a->dsize; i++)
		for (d = a->dtab[i]; d != NULL; d = n) {
			n = d->d_hnext;
			d->d_hnext = t[d->d_hash & (size - 1)];
			t[d->d_hash & (size - 1)] = d;
		}
	free(a->dtab);
	a->dtab = t;
	a->dsize = size;
}

static void
fgrow(struct report_agg *a)
{
	struct report_fail	**t, *f, *n;
	size_t			  i, size = a->fsize * 2;

	t = xcalloc(size, sizeof(*t));
	for (i = 0; i < a->fsize; i++)
		for (f = a->ftab[i]; f != NULL; f = n) {
			n = f->f_hnext;
			f->f_hnext = t[f->f_hash & (size - 1)];
			t[f->f_hash & (size - 1)] = f;
		}
	free(a->ftab);
	a->ftab = t;
	a->fsize = size;
}

static struct report_domain *
domain_get(struct report_agg *a, const char *name)
{
	struct report_domain	*d;
	uint64_t		 h = hash_str(HASH_FNV64_INIT, name);

	for (d = a->dtab[h & (a->dsize - 1)]; d != NULL; d = d->d_hnext)
		if (d->d_hash == (unsigned long)h && strcmp(d->d_name, name) == 0)
			return d;
	if (a->dcount >= a->dsize)
		dgrow(a);
	d = arena_alloc(a, sizeof(*d));
	memset(d, 0, sizeof(*d));
	d->d_name = arena_str(a, name);
	d->d_hash = (unsigned long)h;
	d->d_hnext = a->dtab[h & (a->dsize - 1)];
	a->dtab[h & (a->dsize - 1)] = d;
	a->dcount++;
	return d;
}

static struct report_policy *
policy_get(struct report_agg *a, struct report_domain *d, const char *ptype,
    const char *phash)
{
	struct report_policy	*p;

	for (p = d->p_list; p != NULL; p = p->p_next)
		if (strcmp(p->p_phash, phash) == 0 &&
		    strcmp(p->p_ptype, ptype) == 0)
			return p;
	p = arena_alloc(a, sizeof(*p));
	memset(p, 0, sizeof(*p));
	journal_rec_set(p->p_ptype, sizeof(p->p_ptype), ptype);
	journal_rec_set(p->p_phash, sizeof(p->p_phash), phash);
	p->p_next = d->p_list;
	d->p_list = p;
	d->d_npolicies++;
	return p;
}

/* norm_ip - RPT-JSON-5: canonical text of an IP address, else as is */
static const char *
norm_ip(const char *ip, char *buf, size_t size)
{
	unsigned char	bin[16];

	if (strchr(ip, ':') == NULL)
		return ip;
	if (inet_pton(AF_INET6, ip, bin) != 1 ||
	    inet_ntop(AF_INET6, bin, buf, (socklen_t)size) == NULL)
		return ip;
	return buf;
}

static void
fail_count(struct report_agg *a, struct report_policy *p,
    const struct journal_rec *r)
{
	struct report_fail	*f;
	char			 sbuf[64], rbuf[64];
	const char		*sip, *rip;
	uint64_t		 h = HASH_FNV64_INIT;

	sip = a->omit_sip ? "" : norm_ip(r->sip, sbuf, sizeof(sbuf));
	rip = norm_ip(r->rip, rbuf, sizeof(rbuf));
	h ^= (uint64_t)(uintptr_t)p;
	h *= HASH_FNV64_PRIME;
	h ^= (uint64_t)r->result;
	h *= HASH_FNV64_PRIME;
	h = hash_str(h, sip);
	h = hash_str(h, r->mx);
	h = hash_str(h, r->helo);
	h = hash_str(h, rip);
	h = hash_str(h, r->info);
	h = hash_str(h, r->reason);
	for (f = a->ftab[h & (a->fsize - 1)]; f != NULL; f = f->f_hnext)
		if (f->f_hash == (unsigned long)h && f->f_policy == p &&
		    f->f_result == r->result && !strcmp(f->f_sip, sip) &&
		    !strcmp(f->f_mx, r->mx) && !strcmp(f->f_helo, r->helo) &&
		    !strcmp(f->f_rip, rip) && !strcmp(f->f_info, r->info) &&
		    !strcmp(f->f_reason, r->reason)) {
			f->f_count++;
			return;
		}
	if (a->fcount >= a->fsize)
		fgrow(a);
	f = arena_alloc(a, sizeof(*f));
	f->f_hash = (unsigned long)h;
	f->f_policy = p;
	f->f_result = r->result;
	f->f_sip = arena_str(a, sip);
	f->f_mx = arena_str(a, r->mx);
	f->f_helo = arena_str(a, r->helo);
	f->f_rip = arena_str(a, rip);
	f->f_info = arena_str(a, r->info);
	f->f_reason = arena_str(a, r->reason);
	f->f_count = 1;
	f->f_hnext = a->ftab[h & (a->fsize - 1)];
	a->ftab[h & (a->fsize - 1)] = f;
	a->fcount++;
	f->f_next = p->p_fails;
	p->p_fails = f;
	p->p_nfails++;
}

int
report_agg_add(struct report_agg *a, const struct journal_rec *r)
{
	struct report_domain	*d;
	struct report_policy	*p;
	char			 dom[256];
	const char		*ptype;
	size_t			 i, n;

	a->st.records++;
	if (r->type != JREC_SESSION) {
		a->st.ignored++;
		return 0;
	}
	if (strcmp(r->src, "report") == 0) {	/* RPT-MAIL-8 */
		a->st.own_reports++;
		return 0;
	}
	/* the journal writer normalises; lower-case again to be sure */
	for (i = 0; r->domain[i] && i < sizeof(dom) - 1; i++) {
		unsigned char c = (unsigned char)r->domain[i];

		dom[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	n = i;
	if (n > 0 && dom[n - 1] == '.')
		n--;
	dom[n] = '\0';
	ptype = r->ptype;
	if (n == 0 || (strcmp(ptype, "sts") != 0 &&
	    strcmp(ptype, "no-policy-found") != 0 &&
	    strcmp(ptype, "tlsa") != 0)) {
		a->st.bad++;
		return 0;
	}
	if (a->only != NULL && strcmp(a->only, dom) != 0) {
		a->st.ignored++;
		return 0;
	}
	d = domain_get(a, dom);
	p = policy_get(a, d, ptype,
	    strcmp(ptype, "no-policy-found") == 0 ? "" : r->phash);
	d->d_sessions++;
	a->st.sessions++;
	if (r->result == TLSRPT_SUCCESS) {
		p->p_success++;
		return 1;
	}
	p->p_failure++;
	fail_count(a, p, r);
	return 1;
}

int
report_agg_cb(void *arg, const struct journal_rec *r)
{
	(void)report_agg_add(arg, r);
	return 0;
}

static int
cmp_domain(const void *x, const void *y)
{
	const struct report_domain *a = *(const struct report_domain *const *)x;
	const struct report_domain *b = *(const struct report_domain *const *)y;

	return strcmp(a->d_name, b->d_name);
}

static int
cmp_policy(const void *x, const void *y)
{
	const struct report_policy *a = *(const struct report_policy *const *)x;
	const struct report_policy *b = *(const struct report_policy *const *)y;
	int c;

	if ((c = strcmp(a->p_ptype, b->p_ptype)) != 0)
		return c;
	return strcmp(a->p_phash, b->p_phash);
}

static int
cmp_fail(const void *x, const void *y)
{
	const struct report_fail *a = *(const struct report_fail *const *)x;
	const struct report_fail *b = *(const struct report_fail *const *)y;
	int c;

	if ((c = strcmp(tlsrpt_result_str(a->f_result),
	    tlsrpt_result_str(b->f_result))) != 0)
		return c;
	if ((c = strcmp(a->f_sip, b->f_sip)) != 0)
		return c;
	if ((c = strcmp(a->f_mx, b->f_mx)) != 0)
		return c;
	if ((c = strcmp(a->f_helo, b->f_helo)) != 0)
		return c;
	if ((c = strcmp(a->f_rip, b->f_rip)) != 0)
		return c;
	if ((c = strcmp(a->f_info, b->f_info)) != 0)
		return c;
	return strcmp(a->f_reason, b->f_reason);
}

/* sort_list - sort a singly linked list through a temporary array */
#define SORT_LIST(head, type, next, n, cmp) do {			\
	type	**v_, *e_;						\
	size_t	  i_ = 0;						\
									\
	if ((n) < 2)							\
		break;							\
	v_ = xreallocarray(NULL, (n), sizeof(*v_));			\
	for (e_ = (head); e_ != NULL; e_ = e_->next)			\
		v_[i_++] = e_;						\
	qsort(v_, i_, sizeof(*v_), cmp);				\
	for (i_ = 0; i_ + 1 < (n); i_++)				\
		v_[i_]->next = v_[i_ + 1];				\
	v_[i_]->next = NULL;						\
	(head) = v_[0];							\
	free(v_);							\
} while (0)

size_t
report_agg_domains(struct report_agg *a, struct report_domain ***out)
{
	struct report_domain	*d;
	struct report_policy	*p;
	size_t			 i, n = 0;

	free(a->sorted);
	a->sorted = xreallocarray(NULL, a->dcount + 1, sizeof(*a->sorted));
	for (i = 0; i < a->dsize; i++)
		for (d = a->dtab[i]; d != NULL; d = d->d_hnext)
			a->sorted[n++] = d;
	qsort(a->sorted, n, sizeof(*a->sorted), cmp_domain);
	for (i = 0; i < n; i++) {
		d = a->sorted[i];
		SORT_LIST(d->p_list, struct report_policy, p_next,
		    d->d_npolicies, cmp_policy);
		for (p = d->p_list; p != NULL; p = p->p_next)
			SORT_LIST(p->p_fails, struct report_fail, f_next,
			    p->p_nfails, cmp_fail);
	}
	*out = a->sorted;
	return n;
}
