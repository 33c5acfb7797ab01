/*
 * fake_dns.c - DNS answers from a table the test fills
 *
 * A name with no entry is ST_NOTFOUND (NXDOMAIN).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns.h"
#include "fakes.h"
#include "xmalloc.h"

#define FAKE_MAX	256

struct fake_rr {
	char		 type[8];
	char		*name;
	enum status	 st;
	size_t		 n;
	char		*rr[16];
	enum dns_sec	 sec;		/* what validated lookups report */
	char		*cname;		/* the answer came through a CNAME */
};

static struct fake_rr	fake[FAKE_MAX];
static int		nfake, ncalls, delay_ms;
static pthread_mutex_t	fake_mu = PTHREAD_MUTEX_INITIALIZER;

struct dns {
	int	unused;
};

struct dns *
dns_new(const char *resolvers, int timeout_ms, struct buf *why)
{
	return xcalloc(1, sizeof(struct dns));
}

void
dns_free(struct dns *d)
{
	free(d);
}

void
dns_set_max_queries(struct dns *d, int n)
{
	(void)d;
	(void)n;
}

void
fake_dns_reset(void)
{
	int	i;
	size_t	j;

	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++) {
		free(fake[i].name);
		free(fake[i].cname);
		for (j = 0; j < fake[i].n; j++)
			free(fake[i].rr[j]);
	}
	nfake = 0;
	ncalls = 0;
	delay_ms = 0;
	pthread_mutex_unlock(&fake_mu);
}

void
fake_dns_set(const char *type, const char *name, enum status st, ...)
{
	struct fake_rr	*f = NULL;
	const char	*s;
	va_list		 ap;
	int		 i;
	size_t		 j;

	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++)
		if (!strcmp(fake[i].type, type) && !strcasecmp(fake[i].name, name))
			f = &fake[i];
	if (f == NULL) {
		if (nfake == FAKE_MAX)
			abort();
		f = &fake[nfake++];
		memset(f, 0, sizeof(*f));
		strncpy(f->type, type, sizeof(f->type) - 1);
		f->name = xstrdup(name);
	}
	for (j = 0; j < f->n; j++)
		free(f->rr[j]);
	f->n = 0;
	f->st = st;
	f->sec = DNS_SEC_INSECURE;
	va_start(ap, st);
	while ((s = va_arg(ap, const char *)) != NULL && f->n < 16)
		f->rr[f->n++] = xstrdup(s);
	va_end(ap);
	pthread_mutex_unlock(&fake_mu);
}

void
fake_dns_set_sec(const char *type, const char *name, enum dns_sec sec)
{
	int	i;

	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++)
		if (!strcmp(fake[i].type, type) && !strcasecmp(fake[i].name, name))
			fake[i].sec = sec;
	pthread_mutex_unlock(&fake_mu);
}

void
fake_dns_set_cname(const char *type, const char *name, const char *target)
{
	int	i;

	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++)
		if (!strcmp(fake[i].type, type) &&
		    !strcasecmp(fake[i].name, name)) {
			free(fake[i].cname);
			fake[i].cname = xstrdup(target);
		}
	pthread_mutex_unlock(&fake_mu);
}

void
fake_dns_delay_ms(int ms)
{
	pthread_mutex_lock(&fake_mu);
	delay_ms = ms;
	pthread_mutex_unlock(&fake_mu);
}

int
fake_dns_calls(void)
{
	int	n;

	pthread_mutex_lock(&fake_mu);
	n = ncalls;
	pthread_mutex_unlock(&fake_mu);
	return n;
}

/* fake_lookup - a name without an entry is NXDOMAIN, insecure when
 * validated (no entry, no signatures) */
static enum status
fake_lookup(const char *type, const char *name, int validate,
    struct dns_rrset *out, struct buf *why)
{
	enum status	st = ST_NOTFOUND;
	enum dns_sec	sec = DNS_SEC_INSECURE;
	int		i;
	size_t		j;

	struct timespec	ts;
	int		ms;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&fake_mu);
	ncalls++;
	ms = delay_ms;
	pthread_mutex_unlock(&fake_mu);
	if (ms > 0) {		/* outside the lock: lookups overlap */
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++) {
		if (strcmp(fake[i].type, type) || strcasecmp(fake[i].name, name))
			continue;
		st = fake[i].st;
		sec = fake[i].sec;
		if (st != ST_OK)
			break;
		out->n = fake[i].n;
		out->rr = xcalloc(out->n + 1, sizeof(char *));
		out->len = xcalloc(out->n + 1, sizeof(size_t));
		out->pref = xcalloc(out->n + 1, sizeof(unsigned));
		out->ttl = 300;
		if (fake[i].cname != NULL)
			out->cname = xstrdup(fake[i].cname);
		for (j = 0; j < out->n; j++) {
			const char *r = fake[i].rr[j];

			if (!strcmp(type, "MX")) {
				out->pref[j] = (unsigned)strtoul(r, NULL, 10);
				r = strchr(r, ' ') ? strchr(r, ' ') + 1 : r;
			}
			out->rr[j] = xstrdup(r);
			out->len[j] = strlen(r);
		}
		break;
	}
	pthread_mutex_unlock(&fake_mu);
	if (validate)
		out->sec = sec;
	if (st == ST_OK && out->n == 0)
		st = ST_NOTFOUND;
	if (st != ST_OK)
		buf_printf(why, "%s %s: %s", name, type,
		    st == ST_NOTFOUND ? "no such record" : "server failure");
	return st;
}

enum status
dns_txt(struct dns *d, const char *name, struct dns_rrset *out, struct buf *why)
{
	return fake_lookup("TXT", name, 0, out, why);
}

enum status
dns_mx(struct dns *d, const char *name, struct dns_rrset *out, struct buf *why)
{
	return fake_lookup("MX", name, 0, out, why);
}

enum status
dns_addr(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return fake_lookup("A", name, 0, out, why);
}

enum status
dns_mx_sec(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return fake_lookup("MX", name, 1, out, why);
}

enum status
dns_addr_sec(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return fake_lookup("A", name, 1, out, why);
}

enum status
dns_tlsa(struct dns *d, const char *name, struct dns_rrset *out,
    struct buf *why)
{
	return fake_lookup("TLSA", name, 1, out, why);
}

int
dns_set_trust_anchors(struct dns *d, const char *file, struct buf *why)
{
	return 0;
}

static int	fake_unusable;

void
fake_dns_dnssec_unusable(int v)
{
	fake_unusable = v;
}

int
dns_dnssec_usable(struct dns *d, struct buf *why)
{
	if (fake_unusable)
		buf_puts(why, ". DNSKEY: bogus");
	return !fake_unusable;
}

/* dns_dnssec_known - the fake's verdict is always known */
int
dns_dnssec_known(struct dns *d, int *usable)
{
	(void)d;
	*usable = !fake_unusable;
	return 1;
}

/* dns_stats - the fake answers from a table: it counts nothing */
void
dns_stats(struct dns *d, struct dns_stats *s)
{
	memset(s, 0, sizeof(*s));
}

void
dns_rrset_clear(struct dns_rrset *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		free(r->rr[i]);
	free(r->rr);
	free(r->len);
	free(r->pref);
	free(r->cname);
	memset(r, 0, sizeof(*r));
}

/* The loop of dns_async.c: the fake answers at once, on the caller's
 * thread (the contract allows it). */
int
dns_async_start(struct dns *d, struct buf *why)
{
	(void)d;
	(void)why;
	return 0;
}

void
dns_async_stop(struct dns *d)
{
	(void)d;
}

void
dns_txt_start(struct dns *d, const char *name, dns_done_fn *done, void *arg)
{
	struct dns_rrset	out;
	struct buf		why = BUF_INIT;
	enum status		st;

	st = dns_txt(d, name, &out, &why);
	done(arg, st, &out, buf_str(&why));
	dns_rrset_clear(&out);
	buf_free(&why);
}

void
dns_addr_start(struct dns *d, const char *name, dns_done_fn *done, void *arg)
{
	struct dns_rrset	out;
	struct buf		why = BUF_INIT;
	enum status		st;

	st = dns_addr(d, name, &out, &why);
	done(arg, st, &out, buf_str(&why));
	dns_rrset_clear(&out);
	buf_free(&why);
}
