/*
 * report_make.c - from an aggregated domain to the bytes that are sent
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "policy_archive.h"
#include "report_make.h"
#include "report_mime.h"
#include "sts_policy.h"
#include "timefmt.h"
#include "xmalloc.h"

#define PT_BUCKETS	4096

struct ptext_ent {
	struct ptext_ent	*next;
	char			 hash[65];
	int			 missing;
	struct report_ptext	 t;
};

static void
ptext_free_all(struct report_make_ctx *x)
{
	struct ptext_ent	**tab = x->ptexts, *e, *n;
	size_t			  i, j;

	if (tab == NULL)
		return;
	for (i = 0; i < PT_BUCKETS; i++)
		for (e = tab[i]; e != NULL; e = n) {
			n = e->next;
			for (j = 0; j < e->t.nlines; j++)
				free(e->t.lines[j]);
			for (j = 0; j < e->t.nmx; j++)
				free(e->t.mx[j]);
			free(e->t.lines);
			free(e->t.mx);
			free(e);
		}
	free(tab);
	x->ptexts = NULL;
}

struct report_make_ctx *
report_make_ctx_new(const struct conf *c, struct buf *why)
{
	struct report_make_ctx	*x = xcalloc(1, sizeof(*x));
	const char		*sub;
	char			 host[256];

	x->conf = c;
	conf_host_name(c, host, sizeof(host));
	x->org = xstrdup(c->report_org_name && *c->report_org_name ?
	    c->report_org_name : host);
	x->contact = xstrdup(conf_report_contact(c));
	x->from = xstrdup(conf_report_from(c));
	x->helo = xstrdup(host);
	if ((sub = report_build_contact_domain(x->contact)) == NULL) {
		buf_printf(why, "report_contact: \"%s\" is not a mailbox "
		    "local@domain.tld (RFC 8460 contact-info)", x->contact);
		goto bad;
	}
	x->submitter = xstrdup(sub);
	for (char *p = x->submitter; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
	if (report_build_contact_domain(x->from) == NULL) {
		buf_printf(why, "report_from: \"%s\" is not a mailbox", x->from);
		goto bad;
	}
	if (strpbrk(x->org, "\r\n") != NULL) {
		buf_printf(why, "report_org_name: control characters");
		goto bad;
	}
	if (strcmp(c->report_smtp_tls, "none") != 0 &&
	    strcmp(c->report_smtp_tls, "starttls") != 0) {
		buf_printf(why, "report_smtp_tls: \"%s\" is neither none nor "
		    "starttls", c->report_smtp_tls);
		goto bad;
	}
	if (c->dkim_domain != NULL && c->dkim_domain[0] != '\0') {
		if (c->dkim_selector == NULL || c->dkim_selector[0] == '\0' ||
		    c->dkim_key_file == NULL || c->dkim_key_file[0] == '\0') {
			buf_printf(why, "dkim_domain is set: dkim_selector and "
			    "dkim_key_file are required");
			goto bad;
		}
		if ((x->dkim = dkim_key_load(c->dkim_key_file,
		    c->dkim_algorithm, why)) == NULL)
			goto bad;
	}
	return x;
bad:
	report_make_ctx_free(x);
	return NULL;
}

void
report_make_ctx_free(struct report_make_ctx *x)
{
	if (x == NULL)
		return;
	ptext_free_all(x);
	dkim_key_free(x->dkim);
	free(x->org);
	free(x->contact);
	free(x->submitter);
	free(x->from);
	free(x->helo);
	free(x);
}

static struct ptext_ent *
ptext_get(struct report_make_ctx *x, const char *hash)
{
	struct ptext_ent	**tab, *e;
	struct sts_policy	 *pol = NULL;
	struct buf		  why = BUF_INIT;
	unsigned		  h = 5381;
	const char		 *s;
	char			 *text;
	size_t			  len = 0, i;

	if (x->ptexts == NULL)
		x->ptexts = xcalloc(PT_BUCKETS, sizeof(struct ptext_ent *));
	tab = x->ptexts;
	for (s = hash; *s; s++)
		h = h * 33 + (unsigned char)*s;
	for (e = tab[h % PT_BUCKETS]; e != NULL; e = e->next)
		if (strcmp(e->hash, hash) == 0)
			return e;
	e = xcalloc(1, sizeof(*e));
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
	e->next = tab[h % PT_BUCKETS];
	tab[h % PT_BUCKETS] = e;
	text = x->ptext_load != NULL ? x->ptext_load(x->ptext_arg, hash, &len) :
	    policy_archive_text(x->conf->state_dir, hash, &len);
	if (text == NULL) {
		e->missing = 1;
		x->ptext_missing++;
		return e;
	}
	if (sts_policy_parse(text, len, &pol, &why) == ST_OK) {
		e->t.nlines = sts_policy_lines(pol, &e->t.lines);
		e->t.nmx = pol->p_nmx;
		e->t.mx = xreallocarray(NULL, pol->p_nmx + 1, sizeof(char *));
		for (i = 0; i < pol->p_nmx; i++)
			e->t.mx[i] = xstrdup(pol->p_mx[i]);
		sts_policy_free(pol);
	} else {
		/* an invalid policy is quoted as is, "including any errors" */
		e->t.nlines = sts_text_lines(text, len, &e->t.lines);
	}
	buf_free(&why);
	free(text);
	return e;
}

void
report_make_ctx_attach(struct report_make_ctx *x, struct report_domain **d, size_t n)
{
	struct report_policy	*p;
	struct ptext_ent	*e;
	size_t			 i;

	for (i = 0; i < n; i++)
		for (p = d[i]->p_list; p != NULL; p = p->p_next) {
			p->p_user = NULL;
			if (p->p_phash[0] == '\0')
				continue;
			e = ptext_get(x, p->p_phash);
			if (!e->missing)
				p->p_user = &e->t;
		}
}

void
report_make_meta(const struct report_make_ctx *x, const char *day,
    const char *domain, struct report_made *r)
{
	struct report_meta	m;
	time_t			t = 0;

	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	snprintf(r->day, sizeof(r->day), "%s", day);
	(void)timefmt_parse(day, &t);
	r->start = t;
	r->end = t + 86400;
	report_build_id(x->submitter, domain, day, r->report_id);
	memset(&m, 0, sizeof(m));
	m.submitter = x->submitter;
	m.report_id = r->report_id;
	m.start = r->start;
	m.end = r->end;
	report_build_filename(&m, domain, r->filename, sizeof(r->filename));
}

enum status
report_make(const struct report_make_ctx *x, const char *day,
    const struct report_domain *d, struct report_made *r, struct buf *why)
{
	struct report_meta		m;
	const struct report_policy	*p;
	enum status			st;

	memset(r, 0, sizeof(*r));
	buf_init(&r->gz, 64 * 1024 * 1024);
	report_make_meta(x, day, d->d_name, r);
	for (p = d->p_list; p != NULL; p = p->p_next) {
		r->nsuccess += p->p_success;
		r->nfailure += p->p_failure;
	}
	m.org = x->org;
	m.contact = x->contact;
	m.submitter = x->submitter;
	m.report_id = r->report_id;
	m.start = r->start;
	m.end = r->end;
	m.max_fails = (size_t)x->conf->report_max_failure_details;
	if ((st = report_build_json(&m, d, &r->json, why)) != ST_OK)
		return st;
	return report_build_gzip(r->json, strlen(r->json), &r->gz, why);
}

enum status
report_make_mail(const struct report_make_ctx *x, const struct report_made *r,
    const char *to, time_t date, char **msg, size_t *len, struct buf *why)
{
	struct report_mail	 m;
	struct buf		 out = BUF_INIT;
	char			*sig = NULL, *all;
	enum status		 st;

	*msg = NULL;
	memset(&m, 0, sizeof(m));
	m.from = x->from;
	m.to = to;
	m.domain = r->domain;
	m.submitter = x->submitter;
	m.report_id = r->report_id;
	m.org = x->org;
	m.date = date;
	m.start = r->start;
	m.end = r->end;
	m.nsuccess = r->nsuccess;
	m.nfailure = r->nfailure;
	m.filename = r->filename;
	m.gz = r->gz.b_data;
	m.gzlen = r->gz.b_len;
	buf_init(&out, 128 * 1024 * 1024);
	if ((st = report_mime(&m, &out, why)) != ST_OK) {
		buf_free(&out);
		return st;
	}
	if (x->dkim != NULL) {
		st = dkim_sign(x->dkim, x->conf->dkim_domain,
		    x->conf->dkim_selector, date, buf_str(&out), out.b_len,
		    &sig, why);
		if (st != ST_OK) {
			buf_free(&out);
			return st;
		}
		*len = strlen(sig) + out.b_len;
		all = xmalloc(*len + 1);
		memcpy(all, sig, strlen(sig));
		memcpy(all + strlen(sig), buf_str(&out), out.b_len + 1);
		free(sig);
		buf_free(&out);
		*msg = all;
		return ST_OK;
	}
	*len = out.b_len;
	*msg = buf_release(&out);
	return ST_OK;
}

void
report_make_clear(struct report_made *r)
{
	free(r->json);
	r->json = NULL;
	buf_free(&r->gz);
}
