/*
 * tlsrpt_dgram.c - parse one libtlsrpt datagram (see tlsrpt_dgram.h)
 *
 * reporting-anchors.md 3.3 (wire format), 10 (what a collector must
 * honour).  json-c does the JSON; everything after is checked here.
 */
#include <json-c/json.h>

#include <stdint.h>
#include <string.h>

#include "domain.h"
#include "lex.h"
#include "tlsrpt_dgram.h"
#include "xmalloc.h"

#define DGRAM_DEPTH	6	/* object > array > object > array > object */

static const struct {
	long			code;
	enum tlsrpt_result	result;
} codes[] = {				/* libtlsrpt.h, RFC 8460 4.3 */
	{ 201, TLSRPT_STARTTLS_NOT_SUPPORTED },
	{ 202, TLSRPT_CERTIFICATE_HOST_MISMATCH },
	{ 203, TLSRPT_CERTIFICATE_NOT_TRUSTED },
	{ 204, TLSRPT_CERTIFICATE_EXPIRED },
	{ 205, TLSRPT_VALIDATION_FAILURE },
	{ 301, TLSRPT_STS_POLICY_FETCH_ERROR },
	{ 302, TLSRPT_STS_POLICY_INVALID },
	{ 303, TLSRPT_STS_WEBPKI_INVALID },
	{ 304, TLSRPT_TLSA_INVALID },
	{ 305, TLSRPT_DNSSEC_INVALID },
	{ 306, TLSRPT_DANE_REQUIRED },
};

int
dgram_result(long code, enum tlsrpt_result *out)
{
	size_t	i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code) {
			*out = codes[i].result;
			return 0;
		}
	return -1;
}

const char *
dgram_ptype_str(enum dgram_ptype t)
{
	switch (t) {
	case DGRAM_TLSA:
		return "tlsa";
	case DGRAM_STS:
		return "sts";
	default:
		return "no-policy-found";
	}
}

/*
 * clean - copy s[0..len) into dst (size), controls to ' ', bad UTF-8 to
 * '?', cut at a character boundary; -1 if s holds a NUL
 */
static int
clean(char *dst, size_t size, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, o = 0, k;

	if (memchr(s, '\0', len) != NULL)
		return -1;
	while (i < len && o + 1 < size) {
		k = p[i] < 0x80 ? 1 : utf8_len(p + i, len - i);
		if (k == 0) {
			dst[o++] = '?';
			i++;
		} else if (k == 1) {
			dst[o++] = p[i] < 0x20 || p[i] == 0x7f ? ' ' : (char)p[i];
			i++;
		} else {
			if (o + k >= size)
				break;
			memcpy(dst + o, p + i, k);
			o += k;
			i += k;
		}
	}
	dst[o] = '\0';
	return 0;
}

/* get - member key of o with type t; 0 absent, 1 found, -1 wrong type */
static int
get(json_object *o, const char *key, json_type t, json_object **v)
{
	if (!json_object_object_get_ex(o, key, v))
		return 0;
	return json_object_is_type(*v, t) ? 1 : -1;
}

/* get_str - optional string member into dst; -1 (why set) when bad */
static int
get_str(json_object *o, const char *key, char *dst, size_t size,
    const char *where, struct buf *why)
{
	json_object	*v;
	int		 k = get(o, key, json_type_string, &v);

	dst[0] = '\0';
	if (k == 0)
		return 0;
	if (k < 0) {
		whyf(why, "%s: \"%s\" is not a string", where, key);
		return -1;
	}
	if (clean(dst, size, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)) < 0) {
		whyf(why, "%s: \"%s\" holds a NUL byte", where, key);
		return -1;
	}
	return 1;
}

/* get_int - required int member; -1 (why set) when absent or bad */
static int
get_int(json_object *o, const char *key, int64_t *out, const char *where,
    struct buf *why)
{
	json_object	*v;
	int		 k = get(o, key, json_type_int, &v);

	if (k <= 0) {
		whyf(why, "%s: \"%s\" is %s", where, key, k == 0 ?
		    "missing" : "not an integer");
		return -1;
	}
	*out = json_object_get_int64(v);
	return 0;
}

/* helo_name - the host name of the first line of an EHLO reply */
static void
helo_name(char *h)
{
	char	*p = h, *e;

	if (strncmp(p, "250-", 4) == 0 || strncmp(p, "250 ", 4) == 0)
		p += 4;
	while (*p == ' ')
		p++;
	e = p + strcspn(p, " \r\n");	/* clean() made CR LF spaces */
	memmove(h, p, (size_t)(e - p));
	h[e - p] = '\0';
}

static int
parse_fail(json_object *o, struct dgram_fail *f, struct buf *why)
{
	int64_t	c;

	if (!json_object_is_type(o, json_type_object)) {
		whyf(why, "failure-details: an entry is not an object");
		return -1;
	}
	if (get_int(o, "c", &c, "failure-details", why) < 0)
		return -1;
	if (c < 0 || c > 999 || dgram_result((long)c, &f->result) < 0) {
		whyf(why, "failure-details: unknown result code %lld",
		    (long long)c);
		return -1;
	}
	if (get_str(o, "s", f->sip, sizeof(f->sip), "failure-details",
	    why) < 0 ||
	    get_str(o, "n", f->mx, sizeof(f->mx), "failure-details", why) < 0 ||
	    get_str(o, "h", f->helo, sizeof(f->helo), "failure-details",
	    why) < 0 ||
	    get_str(o, "r", f->rip, sizeof(f->rip), "failure-details",
	    why) < 0 ||
	    get_str(o, "a", f->info, sizeof(f->info), "failure-details",
	    why) < 0 ||
	    get_str(o, "f", f->reason, sizeof(f->reason), "failure-details",
	    why) < 0)
		return -1;
	helo_name(f->helo);
	return 0;
}

/* parse_lines - "policy-string": join the lines with LF into p->text */
static int
parse_lines(json_object *arr, struct dgram_policy *p, struct buf *why)
{
	size_t		 i, n = json_object_array_length(arr), used = 0, l;
	char		 line[1024];
	json_object	*v;

	if (n > DGRAM_LINES_MAX) {
		whyf(why, "policy-string: more than %d lines", DGRAM_LINES_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string) ||
		    clean(line, sizeof(line), json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)) < 0) {
			whyf(why, "policy-string: line %zu is not a clean string",
			    i + 1);
			return -1;
		}
		l = strlen(line);
		if (used + l + 2 > sizeof(p->text)) {
			whyf(why, "policy-string: longer than %d bytes",
			    DGRAM_TEXT_MAX);
			return -1;
		}
		memcpy(p->text + used, line, l);
		used += l;
		p->text[used++] = '\n';
		p->text[used] = '\0';
		if (strncmp(line, "mode:", 5) == 0) {
			const char *m = line + 5;

			while (*m == ' ' || *m == '\t')
				m++;
			if (strcmp(m, "enforce") == 0 ||
			    strcmp(m, "testing") == 0 || strcmp(m, "none") == 0)
				memcpy(p->mode, m, strlen(m) + 1);
		}
	}
	p->nlines = n;
	return 0;
}

static int
parse_policy(json_object *o, const char *d, struct dgram_policy *p,
    struct buf *why)
{
	json_object	*v;
	int64_t		 n;
	size_t		 i, nf;
	int		 k;

	if (!json_object_is_type(o, json_type_object)) {
		whyf(why, "policies: an entry is not an object");
		return -1;
	}
	if (get_int(o, "policy-type", &n, "policy", why) < 0)
		return -1;
	if (n != DGRAM_TLSA && n != DGRAM_STS && n != DGRAM_NO_POLICY) {
		whyf(why, "policy: unknown policy-type %lld", (long long)n);
		return -1;
	}
	p->ptype = (enum dgram_ptype)n;
	if (get_int(o, "f", &n, "policy", why) < 0)
		return -1;
	if (n != 0 && n != 1) {
		whyf(why, "policy: final result \"f\" is %lld, not 0 or 1",
		    (long long)n);
		return -1;
	}
	p->failed = (int)n;
	if ((k = get_str(o, "policy-domain", p->pdomain, sizeof(p->pdomain),
	    "policy", why)) < 0)
		return -1;
	if (k == 0 || p->pdomain[0] == '\0')	/* sys4 tlsrpt #51 */
		memcpy(p->pdomain, d, strlen(d) + 1);
	else {
		char	norm[DOMAIN_MAX + 1];

		if (domain_normalize(p->pdomain, norm, NULL) != ST_OK) {
			whyf(why, "policy: \"policy-domain\" is not a domain "
			    "name");
			return -1;
		}
		memcpy(p->pdomain, norm, strlen(norm) + 1);
	}
	if ((k = get(o, "policy-string", json_type_array, &v)) < 0) {
		whyf(why, "policy: \"policy-string\" is not an array");
		return -1;
	}
	if (k > 0 && parse_lines(v, p, why) < 0)
		return -1;
	if (get(o, "mx-host", json_type_array, &v) < 0) {
		whyf(why, "policy: \"mx-host\" is not an array");
		return -1;
	}
	if ((k = get(o, "failure-details", json_type_array, &v)) < 0) {
		whyf(why, "policy: \"failure-details\" is not an array");
		return -1;
	}
	if (k > 0) {
		nf = json_object_array_length(v);
		if (nf > DGRAM_FAILS_MAX) {
			whyf(why, "policy: more than %d failure-details",
			    DGRAM_FAILS_MAX);
			return -1;
		}
		for (i = 0; i < nf; i++)
			if (parse_fail(json_object_array_get_idx(v, i),
			    &p->fails[i], why) < 0)
				return -1;
		p->nfails = nf;
	}
	if (get(o, "t", json_type_int, &v) != 1 ||
	    json_object_get_int64(v) != (int64_t)p->nfails)
		p->t_mismatch = 1;
	return 0;
}

enum status
tlsrpt_dgram_parse(const char *buf, size_t len, struct tlsrpt_dgram **out,
    struct buf *why)
{
	struct json_tokener	*tok;
	struct tlsrpt_dgram	*g = NULL;
	json_object		*root = NULL, *v;
	char			 d[256];
	size_t			 i, n;
	int			 k;

	*out = NULL;
	if (len == 0 || len > DGRAM_MAX) {
		whyf(why, len ? "datagram longer than %d bytes" :
		    "empty datagram", DGRAM_MAX);
		return ST_INVALID;
	}
	if (memchr(buf, '\0', len) != NULL) {
		whyf(why, "NUL byte in datagram");
		return ST_INVALID;
	}
	if ((tok = json_tokener_new_ex(DGRAM_DEPTH)) == NULL) {
		whyf(why, "out of memory");
		return ST_INVALID;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		whyf(why, "not one JSON object: %s", root == NULL ?
		    json_tokener_error_desc(json_tokener_get_error(tok)) :
		    "trailing bytes");
		goto bad;
	}
	if (!json_object_is_type(root, json_type_object)) {
		whyf(why, "not a JSON object");
		goto bad;
	}
	g = xcalloc(1, sizeof(*g));
	if ((k = get(root, "dpv", json_type_string, &v)) < 0) {
		whyf(why, "\"dpv\" is not a string");
		goto bad;
	}
	if (k > 0 && strcmp(json_object_get_string(v), "1") != 0)
		g->dpv_unknown = 1;
	if (get_str(root, "d", d, sizeof(d), "datagram", why) <= 0) {
		if (why != NULL && why->b_len == 0)
			whyf(why, "\"d\" (the policy domain) is missing");
		goto bad;
	}
	if (domain_normalize(d, g->domain, NULL) != ST_OK) {
		whyf(why, "\"d\" is not a domain name");
		goto bad;
	}
	if (get(root, "pr", json_type_string, &v) < 0) {
		whyf(why, "\"pr\" is not a string");
		goto bad;
	}
	if (get(root, "policies", json_type_array, &v) != 1 ||
	    (n = json_object_array_length(v)) == 0) {
		whyf(why, "\"policies\" is missing, empty or not an array");
		goto bad;
	}
	if (n > DGRAM_POLICIES_MAX) {
		whyf(why, "more than %d policies", DGRAM_POLICIES_MAX);
		goto bad;
	}
	for (i = 0; i < n; i++)
		if (parse_policy(json_object_array_get_idx(v, i), g->domain,
		    &g->pol[i], why) < 0)
			goto bad;
	g->npol = n;
	json_object_put(root);
	json_tokener_free(tok);
	*out = g;
	return ST_OK;
bad:
	free(g);
	if (root != NULL)
		json_object_put(root);
	json_tokener_free(tok);
	return ST_INVALID;
}

void
tlsrpt_dgram_free(struct tlsrpt_dgram *g)
{
	free(g);
}
