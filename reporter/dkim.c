/*
 * dkim.c - DKIM signatures (RFC 6376, RFC 8463) for report mail
 *
 * The message is ours (built by report_mime.c), so header parsing only
 * has to be correct for well-formed input: fields start at a line
 * beginning with a non-WSP character and continue over folded lines.
 * Where a field occurs more than once, the last one is signed
 * (RFC 6376 section 5.4.2); ours occur once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim.h"
#include "lex.h"
#include "xmalloc.h"

struct dkim_key {
	EVP_PKEY	*pkey;
	int		 ed25519;
	char		 alg[16];
};

static void
ssl_why(struct buf *why, const char *what)
{
	unsigned long	e = ERR_get_error();
	char		msg[256];

	if (e != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		buf_printf(why, "%s: %s", what, msg);
	} else
		buf_printf(why, "%s", what);
	ERR_clear_error();
}

static struct dkim_key *
key_check(EVP_PKEY *pkey, const char *algorithm, struct buf *why)
{
	struct dkim_key	*k;
	int		 ed;

	if (algorithm == NULL || *algorithm == '\0')
		algorithm = "rsa-sha256";
	if (strcmp(algorithm, "rsa-sha256") == 0)
		ed = 0;
	else if (strcmp(algorithm, "ed25519-sha256") == 0)
		ed = 1;
	else {
		buf_printf(why, "dkim_algorithm: %s: use rsa-sha256 or "
		    "ed25519-sha256", algorithm);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if ((ed && EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) ||
	    (!ed && EVP_PKEY_get_id(pkey) != EVP_PKEY_RSA)) {
		buf_printf(why, "DKIM key is not an %s key",
		    ed ? "Ed25519" : "RSA");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if (!ed && EVP_PKEY_get_bits(pkey) < 1024) {
		buf_printf(why, "DKIM RSA key has %d bits; RFC 8301 wants "
		    "at least 1024 (2048 recommended)", EVP_PKEY_get_bits(pkey));
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->ed25519 = ed;
	snprintf(k->alg, sizeof(k->alg), "%s", algorithm);
	return k;
}

struct dkim_key *
dkim_key_pem(const char *pem, size_t len, const char *algorithm,
    struct buf *why)
{
	BIO		*bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY	*pkey;

	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (pkey == NULL) {
		ssl_why(why, "cannot read the DKIM private key (PEM)");
		return NULL;
	}
	return key_check(pkey, algorithm, why);
}

struct dkim_key *
dkim_key_load(const char *path, const char *algorithm, struct buf *why)
{
	FILE		*f;
	EVP_PKEY	*pkey;

	if ((f = fopen(path, "r")) == NULL) {
		buf_printf(why, "%s: cannot open the DKIM key", path);
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		ssl_why(why, "cannot read the DKIM private key (PEM)");
		return NULL;
	}
	return key_check(pkey, algorithm, why);
}

void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

struct dkim_key *
dkim_key_dup(const struct dkim_key *k)
{
	struct dkim_key	*d;
	EVP_PKEY	*pk;

	if ((pk = EVP_PKEY_dup(k->pkey)) == NULL)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	*d = *k;
	d->pkey = pk;
	return d;
}

static char *
b64(const unsigned char *p, size_t n)
{
	char	*out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

char *
dkim_pubkey_txt(const struct dkim_key *k)
{
	unsigned char	*der = NULL, raw[64];
	size_t		 rawlen = sizeof(raw);
	char		*p, *txt;
	int		 n;

	if (k->ed25519) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1)
			return NULL;
		p = b64(raw, rawlen);
	} else {
		if ((n = i2d_PUBKEY(k->pkey, &der)) <= 0)
			return NULL;
		p = b64(der, (size_t)n);
		OPENSSL_free(der);
	}
	txt = xasprintf("v=DKIM1; k=%s; s=tlsrpt; p=%s",
	    k->ed25519 ? "ed25519" : "rsa", p);
	free(p);
	return txt;
}

/*
 * dkim_canon_header - relaxed header canonicalisation (3.4.2): name
 * lower-cased, unfolded, WSP runs to one SP, WSP at the value's ends
 * and around the colon removed; CRLF appended.
 */
void
dkim_canon_header(const char *field, size_t len, struct buf *out)
{
	const char	*colon = memchr(field, ':', len), *p, *end;
	int		 sp = 0, started = 0;

	if (colon == NULL)
		return;
	for (p = field; p < colon; p++)
		if (!is_wsp((unsigned char)*p))
			buf_putc(out, (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	buf_putc(out, ':');
	end = field + len;
	while (end > colon + 1 && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	for (p = colon + 1; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			continue;		/* unfold */
		if (is_wsp((unsigned char)*p)) {
			sp = started;
			continue;
		}
		if (sp)
			buf_putc(out, ' ');
		sp = 0;
		started = 1;
		buf_putc(out, *p);
	}
	buf_append(out, "\r\n", 2);
}

/*
 * dkim_canon_body - relaxed body canonicalisation (3.4.4): WSP at line
 * ends removed, WSP runs to one SP, empty lines at the end removed,
 * a non-empty body ends in CRLF.
 */
void
dkim_canon_body(const char *body, size_t len, struct buf *out)
{
	const char	*p = body, *end = body + len, *eol, *q;
	size_t		 blank = 0;

	while (p < end) {
		size_t	ll;

		eol = memchr(p, '\n', (size_t)(end - p));
		ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		while (ll > 0 && is_wsp((unsigned char)p[ll - 1]))
			ll--;
		if (ll == 0) {
			blank++;
		} else {
			for (; blank > 0; blank--)
				buf_append(out, "\r\n", 2);
			/* copy runs without WSP whole (base64 lines have none) */
			for (q = p; q < p + ll; ) {
				const char *r = q;

				while (r < p + ll && !is_wsp((unsigned char)*r))
					r++;
				buf_append(out, q, (size_t)(r - q));
				if (r == p + ll)
					break;
				while (r < p + ll && is_wsp((unsigned char)*r))
					r++;
				buf_putc(out, ' ');
				q = r;
			}
			buf_append(out, "\r\n", 2);
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
}

/* find_header - the last field named name in the header block */
static int
find_header(const char *hdr, size_t hlen, const char *name,
    const char **fstart, size_t *flen)
{
	const char	*p = hdr, *end = hdr + hlen, *e;
	size_t		 nl = strlen(name);
	int		 found = 0;

	while (p < end) {
		e = p;
		/* a field runs until a line that does not start with WSP */
		for (;;) {
			const char *nlp = memchr(e, '\n', (size_t)(end - e));

			e = nlp ? nlp + 1 : end;
			if (e >= end || !is_wsp((unsigned char)*e))
				break;
		}
		if ((size_t)(e - p) > nl && p[nl] == ':' &&
		    strncasecmp(p, name, nl) == 0) {
			*fstart = p;
			*flen = (size_t)(e - p);
			found = 1;
		}
		p = e;
	}
	return found;
}

enum status
dkim_sign(const struct dkim_key *k, const char *domain, const char *selector,
    time_t t, const char *msg, size_t len, char **hdr, struct buf *why)
{
	struct buf	 canon = BUF_INIT, h = BUF_INIT, names = BUF_INIT;
	const char	*sep, *f, *list = DKIM_SIGNED_HEADERS, *c;
	unsigned char	 md[EVP_MAX_MD_SIZE], sig[1024];
	unsigned int	 mdlen = 0;
	size_t		 hlen, flen, siglen = sizeof(sig), i, col;
	EVP_MD_CTX	*ctx = NULL;
	char		*bh = NULL, *b = NULL, name[64];
	enum status	 st = ST_INTERNAL;

	*hdr = NULL;
	if ((sep = strstr(msg, "\r\n\r\n")) == NULL) {
		buf_printf(why, "message has no header/body separator");
		return ST_INVALID;
	}
	hlen = (size_t)(sep - msg) + 2;

	/* bh= : hash of the canonical body */
	buf_init(&canon, len + 1024);
	dkim_canon_body(sep + 4, len - hlen - 2, &canon);
	EVP_Digest(canon.b_data ? canon.b_data : "", canon.b_len, md, &mdlen,
	    EVP_sha256(), NULL);
	bh = b64(md, mdlen);

	/* h= : the listed fields that are present */
	for (c = list; *c; ) {
		size_t n = strcspn(c, ":");

		snprintf(name, sizeof(name), "%.*s", (int)n, c);
		c += n + (c[n] == ':');
		if (find_header(msg, hlen, name, &f, &flen))
			buf_printf(&names, "%s%s", names.b_len ? ":" : "", name);
	}
	buf_printf(&h, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;\r\n"
	    "\td=%s; s=%s; t=%lld;\r\n\th=%s;\r\n\tbh=%s;\r\n\tb=", k->alg,
	    domain, selector, (long long)t, buf_str(&names), bh);

	/* the data to sign: canonical signed fields, then this field */
	buf_reset(&canon);
	for (c = buf_str(&names); *c; ) {
		size_t n = strcspn(c, ":");

		snprintf(name, sizeof(name), "%.*s", (int)n, c);
		c += n + (c[n] == ':');
		if (find_header(msg, hlen, name, &f, &flen))
			dkim_canon_header(f, flen, &canon);
	}
	dkim_canon_header(buf_str(&h), h.b_len, &canon);
	canon.b_len -= 2;		/* no CRLF after the signature field */
	canon.b_data[canon.b_len] = '\0';

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto ssl;
	if (k->ed25519) {
		/* RFC 8463: Ed25519 over the SHA-256 hash */
		EVP_Digest(canon.b_data, canon.b_len, md, &mdlen, EVP_sha256(),
		    NULL);
		if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
		    EVP_DigestSign(ctx, sig, &siglen, md, mdlen) != 1)
			goto ssl;
	} else {
		if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
		    k->pkey) != 1 ||
		    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)canon.b_data,
		    canon.b_len) != 1 || siglen > sizeof(sig) ||
		    EVP_DigestSign(ctx, sig, &siglen,
		    (unsigned char *)canon.b_data, canon.b_len) != 1)
			goto ssl;
	}
	b = b64(sig, siglen);
	/* fold the signature: whitespace inside b= is ignored (3.5) */
	col = 3;
	for (i = 0; b[i]; i++) {
		if (col >= 72) {
			buf_append(&h, "\r\n\t ", 4);
			col = 2;
		}
		buf_putc(&h, b[i]);
		col++;
	}
	buf_append(&h, "\r\n", 2);
	if (h.b_trunc) {
		buf_printf(why, "DKIM-Signature too long");
		goto out;
	}
	*hdr = buf_release(&h);
	st = ST_OK;
	goto out;
ssl:
	ssl_why(why, "DKIM signing failed");
out:
	EVP_MD_CTX_free(ctx);
	buf_free(&canon);
	buf_free(&h);
	buf_free(&names);
	free(bh);
	free(b);
	return st;
}
