/*
 * report_build.c - the RFC 8460 report: JSON, report-id, file name, gzip
 *
 * json-c ownership: every leaf is attached to its parent at once
 * (json_object_object_add and json_object_array_add take the
 * reference), so only the root is put, and the text is copied out
 * before the put, so no json-c object leaves this file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "report_build.h"
#include "timefmt.h"
#include "xmalloc.h"

void
report_build_id(const char *submitter, const char *domain, const char *day,
    char id[REPORT_ID_LEN])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	size_t		j, k = 0;

	/* NUL separators: no two different triples hash the same input */
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, "tlsrpt-report-id", 17);
	EVP_DigestUpdate(ctx, submitter, strlen(submitter) + 1);
	EVP_DigestUpdate(ctx, domain, strlen(domain) + 1);
	EVP_DigestUpdate(ctx, day, strlen(day) + 1);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (j = 0; day[j] && k < 8; j++)
		if (day[j] >= '0' && day[j] <= '9')
			id[k++] = day[j];
	while (k < 8)
		id[k++] = '0';
	for (i = 0; i < 12 && i < mdlen; i++) {
		snprintf(id + k, 3, "%02x", md[i]);
		k += 2;
	}
	id[k] = '\0';
}

const char *
report_build_contact_domain(const char *contact)
{
	const char	*at, *d;
	size_t		 n;

	if (contact == NULL || (at = strrchr(contact, '@')) == NULL ||
	    at == contact)
		return NULL;
	d = at + 1;
	n = strlen(d);
	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.' ||
	    strchr(d, '.') == NULL)
		return NULL;
	for (; *d; d++)
		if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
		    (*d >= '0' && *d <= '9') || *d == '-' || *d == '.'))
			return NULL;
	for (d = contact; d < at; d++)
		if ((unsigned char)*d <= ' ' || *d == '<' || *d == '>' ||
		    *d == '(' || *d == ')' || *d == ',' || *d == ';' ||
		    *d == ':' || *d == '"' || *d == '\\' || *d == '[' ||
		    *d == ']' || (unsigned char)*d >= 0x7f)
			return NULL;
	return at + 1;
}

/* add_str - obj[key] = s, unless s is empty (never a null) */
static void
add_str(json_object *obj, const char *key, const char *s)
{
	if (s != NULL && *s != '\0')
		json_object_object_add(obj, key, json_object_new_string(s));
}

static json_object *
str_array(char *const *v, size_t n)
{
	json_object	*a = json_object_new_array();
	size_t		 i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static int
cmp_count_desc(const void *x, const void *y)
{
	uint64_t	a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

/* keep_from - with more than max groups, the count a group needs to be
 * listed, and how many of those with exactly that count fit */
static uint64_t
keep_from(const struct report_policy *p, size_t max, size_t *at_cut)
{
	const struct report_fail	*f;
	uint64_t			*c, cut;
	size_t				 i = 0, above = 0;

	c = xreallocarray(NULL, p->p_nfails, sizeof(*c));
	for (f = p->p_fails; f != NULL && i < p->p_nfails; f = f->f_next)
		c[i++] = f->f_count;
	qsort(c, i, sizeof(*c), cmp_count_desc);
	cut = c[max - 1];
	while (above < i && c[above] > cut)
		above++;
	*at_cut = max - above;
	free(c);
	return cut;
}

static json_object *
policy_json(const struct report_domain *d, const struct report_policy *p,
    size_t max_fails)
{
	const struct report_ptext	*t = p->p_user;
	const struct report_fail	*f;
	json_object	*o, *pol, *sum, *fd, *e;
	uint64_t	 cut = 0;
	size_t		 at_cut = 0;
	int		 capped = max_fails > 0 && p->p_nfails > max_fails;

	o = json_object_new_object();
	pol = json_object_new_object();
	json_object_object_add(pol, "policy-type",
	    json_object_new_string(p->p_ptype));
	json_object_object_add(pol, "policy-string",
	    t ? str_array(t->lines, t->nlines) : json_object_new_array());
	json_object_object_add(pol, "policy-domain",
	    json_object_new_string(d->d_name));
	if (strcmp(p->p_ptype, "sts") == 0)
		json_object_object_add(pol, "mx-host",
		    t ? str_array(t->mx, t->nmx) : json_object_new_array());
	json_object_object_add(o, "policy", pol);

	sum = json_object_new_object();
	json_object_object_add(sum, "total-successful-session-count",
	    json_object_new_int64((int64_t)p->p_success));
	json_object_object_add(sum, "total-failure-session-count",
	    json_object_new_int64((int64_t)p->p_failure));
	json_object_object_add(o, "summary", sum);

	if (capped)
		cut = keep_from(p, max_fails, &at_cut);
	fd = json_object_new_array();
	for (f = p->p_fails; f != NULL; f = f->f_next) {
		if (capped && f->f_count < cut)
			continue;
		if (capped && f->f_count == cut) {
			if (at_cut == 0)
				continue;	/* the ties that do not fit */
			at_cut--;
		}
		e = json_object_new_object();
		json_object_object_add(e, "result-type",
		    json_object_new_string(tlsrpt_result_str(f->f_result)));
		add_str(e, "sending-mta-ip", f->f_sip);
		add_str(e, "receiving-mx-hostname", f->f_mx);
		add_str(e, "receiving-mx-helo", f->f_helo);
		add_str(e, "receiving-ip", f->f_rip);
		json_object_object_add(e, "failed-session-count",
		    json_object_new_int64((int64_t)f->f_count));
		add_str(e, "additional-information", f->f_info);
		add_str(e, "failure-reason-code", f->f_reason);
		json_object_array_add(fd, e);
	}
	json_object_object_add(o, "failure-details", fd);
	return o;
}

enum status
report_build_json(const struct report_meta *m, const struct report_domain *d,
    char **json, struct buf *why)
{
	json_object			*root, *dr, *pols;
	const struct report_policy	*p;
	const char			*s;
	char				 t0[TIMEFMT_LEN], t1[TIMEFMT_LEN];

	*json = NULL;
	if (m->org == NULL || *m->org == '\0' || m->report_id == NULL ||
	    report_build_contact_domain(m->contact) == NULL) {
		buf_printf(why, "report metadata incomplete");
		return ST_INTERNAL;
	}
	root = json_object_new_object();
	json_object_object_add(root, "organization-name",
	    json_object_new_string(m->org));
	dr = json_object_new_object();
	json_object_object_add(dr, "start-datetime",
	    json_object_new_string(timefmt_rfc3339(m->start, t0)));
	json_object_object_add(dr, "end-datetime",
	    json_object_new_string(timefmt_rfc3339(m->end, t1)));
	json_object_object_add(root, "date-range", dr);
	json_object_object_add(root, "contact-info",
	    json_object_new_string(m->contact));
	json_object_object_add(root, "report-id",
	    json_object_new_string(m->report_id));
	pols = json_object_new_array();		/* RPT-JSON-2: always an array */
	for (p = d->p_list; p != NULL; p = p->p_next)
		json_object_array_add(pols, policy_json(d, p, m->max_fails));
	json_object_object_add(root, "policies", pols);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL) {
		json_object_put(root);
		buf_printf(why, "json-c: cannot serialise the report");
		return ST_INTERNAL;
	}
	*json = xasprintf("%s\n", s);
	json_object_put(root);
	return ST_OK;
}

void
report_build_filename(const struct report_meta *m, const char *domain, char *name,
    size_t size)
{
	snprintf(name, size, "%s!%s!%lld!%lld!%s.json.gz", m->submitter,
	    domain, (long long)m->start, (long long)m->end, m->report_id);
}

enum status
report_build_gzip(const char *data, size_t len, struct buf *out, struct buf *why)
{
	z_stream	z;
	unsigned char	chunk[65536];
	int		rc;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip wrapper with mtime 0 and no name */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		buf_printf(why, "zlib: deflateInit2 failed");
		return ST_INTERNAL;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		if (rc == Z_STREAM_ERROR) {
			deflateEnd(&z);
			buf_printf(why, "zlib: deflate failed");
			return ST_INTERNAL;
		}
		if (buf_append(out, chunk, sizeof(chunk) - z.avail_out) != 0 ||
		    out->b_trunc) {
			deflateEnd(&z);
			buf_printf(why, "compressed report too large");
			return ST_INTERNAL;
		}
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return ST_OK;
}
