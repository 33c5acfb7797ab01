/*
 * test_tlsrpt_txt.c - "_smtp._tls" TXT parsing, selection, rua URIs
 *
 * Rows R-1 .. R-10 are rfc-checklist.md 5.3; TV-8460-2, TV-8460-3 and
 * TV-8460-4 are 5.2.  A row's "rua" is the kept URI list joined with
 * '|'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "status.h"
#include "tlsrpt_txt.h"

#include "../harness.h"

/* S - a literal with its length, so rows may hold NUL bytes */
#define S(x)	x, sizeof(x) - 1

static const struct {
	const char	*tag;
	const char	*rec;
	size_t		 len;
	enum status	 want;
	const char	*rua;		/* on ST_OK */
	const char	*why;		/* substring of the reason, or NULL */
} cases[] = {
	/* R-1, TV-8460-2, TV-8460-4 A.1 */
	{ "R-1 TV-8460-2", S("v=TLSRPTv1;rua=mailto:reports@example.com"),
	    ST_OK, "mailto:reports@example.com", NULL },
	/* R-2, TV-8460-3, TV-8460-4 A.2 */
	{ "R-2 TV-8460-3",
	    S("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"),
	    ST_OK, "https://reporting.example.com/v1/tlsrpt", NULL },
	/* R-3: *WSP "," *WSP */
	{ "R-3", S("v=TLSRPTv1; rua=mailto:a@example.com, "
	    "https://r.example.net/x"), ST_OK,
	    "mailto:a@example.com|https://r.example.net/x", NULL },
	{ "R-3 no WSP", S("v=TLSRPTv1; rua=mailto:a@example.com,"
	    "https://r.example.net/x"), ST_OK,
	    "mailto:a@example.com|https://r.example.net/x", NULL },
	{ "R-3 WSP both sides", S("v=TLSRPTv1; rua=mailto:a@example.com \t,"
	    "\t https://r.example.net/x ;"), ST_OK,
	    "mailto:a@example.com|https://r.example.net/x", NULL },
	/* R-4, decision: merge in order, drop exact duplicates */
	{ "R-4", S("v=TLSRPTv1; rua=mailto:a@example.com; "
	    "rua=mailto:b@example.com"), ST_OK,
	    "mailto:a@example.com|mailto:b@example.com", NULL },
	{ "R-4 duplicates", S("v=TLSRPTv1; rua=mailto:a@example.com,"
	    "mailto:a@example.com; rua=mailto:b@example.com,"
	    "mailto:a@example.com"), ST_OK,
	    "mailto:a@example.com|mailto:b@example.com", NULL },
	{ "R-4 case differs", S("v=TLSRPTv1; rua=mailto:a@example.com,"
	    "MAILTO:a@example.com"), ST_OK,
	    "mailto:a@example.com|MAILTO:a@example.com", NULL },
	/* R-6: rua required */
	{ "R-6", S("v=TLSRPTv1;"), ST_INVALID, NULL, "missing rua" },
	{ "R-6 ext only", S("v=TLSRPTv1; x=1"), ST_INVALID, NULL,
	    "missing rua" },
	{ "R-6 RUA", S("v=TLSRPTv1; RUA=mailto:a@example.com"), ST_INVALID,
	    NULL, "missing rua" },
	/* R-7, decision: drop just that URI */
	{ "R-7", S("v=TLSRPTv1; rua=mailto:a@example.com!10m"), ST_INVALID,
	    NULL, "no usable rua URI" },
	{ "R-7 with another", S("v=TLSRPTv1; rua=mailto:a@example.com!10m,"
	    "mailto:b@example.com"), ST_OK, "mailto:b@example.com", NULL },
	{ "R-7 encoded", S("v=TLSRPTv1; rua=mailto:a@example.com%2110m"),
	    ST_OK, "mailto:a@example.com%2110m", NULL },
	/* R-8: case-sensitive version */
	{ "R-8", S("v=tlsrptv1; rua=mailto:a@example.com"), ST_NOTFOUND, NULL,
	    NULL },
	{ "R-8 V", S("V=TLSRPTv1; rua=mailto:a@example.com"), ST_NOTFOUND,
	    NULL, NULL },
	/* R-9: extensions ignored */
	{ "R-9", S("v=TLSRPTv1; rua=mailto:a@example.com; x-ext=1"), ST_OK,
	    "mailto:a@example.com", NULL },
	{ "R-9 before rua", S("v=TLSRPTv1; x-ext=1; rua=mailto:a@example.com;"),
	    ST_OK, "mailto:a@example.com", NULL },
	{ "R-9 bad ext value", S("v=TLSRPTv1; rua=mailto:a@example.com; "
	    "x=a=b"), ST_INVALID, NULL, "'='" },
	/* R-10: one URI with an encoded comma */
	{ "R-10", S("v=TLSRPTv1; rua=mailto:reports%2Cx@example.com"), ST_OK,
	    "mailto:reports%2Cx@example.com", NULL },
	/* version then *WSP ";" */
	{ "WSP before ;", S("v=TLSRPTv1 ; rua=mailto:a@example.com"), ST_OK,
	    "mailto:a@example.com", NULL },
	{ "v=TLSRPTv10", S("v=TLSRPTv10; rua=mailto:a@example.com"),
	    ST_NOTFOUND, NULL, NULL },
	{ "no ;", S("v=TLSRPTv1 rua=mailto:a@example.com"), ST_NOTFOUND,
	    NULL, NULL },
	{ "version only", S("v=TLSRPTv1"), ST_NOTFOUND, NULL, NULL },
	{ "empty", S(""), ST_NOTFOUND, NULL, NULL },
	{ "STS record", S("v=STSv1; id=1"), ST_NOTFOUND, NULL, NULL },
	/* unknown schemes are kept (RUA_UNSUPPORTED) */
	{ "other scheme", S("v=TLSRPTv1; rua=ftp://x.example/,"
	    "mailto:a@example.com"), ST_OK,
	    "ftp://x.example/|mailto:a@example.com", NULL },
	{ "URI with = and ?", S("v=TLSRPTv1; rua=https://r.example/x?a=b&c=d"),
	    ST_OK, "https://r.example/x?a=b&c=d", NULL },
	/* syntax */
	{ "empty rua", S("v=TLSRPTv1; rua="), ST_INVALID, NULL,
	    "empty URI" },
	{ "empty rua ;", S("v=TLSRPTv1; rua=;"), ST_INVALID, NULL,
	    "empty URI" },
	{ "WSP after rua=", S("v=TLSRPTv1; rua= mailto:a@example.com"),
	    ST_INVALID, NULL, "whitespace after" },
	{ "empty URI", S("v=TLSRPTv1; rua=mailto:a@example.com,,"
	    "mailto:b@example.com"), ST_INVALID, NULL, "empty URI" },
	{ "trailing comma", S("v=TLSRPTv1; rua=mailto:a@example.com,"),
	    ST_INVALID, NULL, "empty URI" },
	{ "leading comma", S("v=TLSRPTv1; rua=,mailto:a@example.com"),
	    ST_INVALID, NULL, "empty URI" },
	{ "space inside", S("v=TLSRPTv1; rua=mailto:a@example.com x"),
	    ST_INVALID, NULL, "missing ';'" },
	{ "trailing WSP", S("v=TLSRPTv1; rua=mailto:a@example.com "),
	    ST_INVALID, NULL, "trailing whitespace" },
	{ "trailing ;", S("v=TLSRPTv1; rua=mailto:a@example.com;  "), ST_OK,
	    "mailto:a@example.com", NULL },
	{ "empty field", S("v=TLSRPTv1;; rua=mailto:a@example.com"),
	    ST_INVALID, NULL, "empty field" },
	{ "rua =", S("v=TLSRPTv1; rua =mailto:a@example.com"), ST_INVALID,
	    NULL, "before '='" },
	/* hostile */
	{ "NUL in URI", S("v=TLSRPTv1; rua=mailto:a\0@example.com"),
	    ST_INVALID, NULL, "NUL" },
	{ "NUL at end", S("v=TLSRPTv1; rua=mailto:a@example.com\0"),
	    ST_INVALID, NULL, "NUL" },
	{ "non-ASCII URI", S("v=TLSRPTv1; rua=mailto:r\xc3\xa9@example.com"),
	    ST_INVALID, NULL, "\\xc3" },
	{ "bare CR", S("v=TLSRPTv1; rua=mailto:a@example.com\r"), ST_INVALID,
	    NULL, "\\x0d" },
	{ "CR in URI", S("v=TLSRPTv1; rua=mailto:a\r@example.com"),
	    ST_INVALID, NULL, "\\x0d" },
	{ "LF", S("v=TLSRPTv1; rua=mailto:a@example.com\n"), ST_INVALID,
	    NULL, "\\x0a" },
	{ "DEL", S("v=TLSRPTv1; rua=mailto:a\x7f@example.com"), ST_INVALID,
	    NULL, "\\x7f" },
};

/* joined - the kept URIs joined with '|' into b */
static void
joined(const struct tlsrpt_txt *t, struct buf *b)
{
	size_t	i;

	buf_reset(b);
	for (i = 0; i < t->t_nrua; i++) {
		if (i > 0)
			(void)buf_putc(b, '|');
		(void)buf_puts(b, t->t_rua[i]);
	}
}

static void
test_tlsrpt_txt_parse_table(void)
{
	struct buf		 why = BUF_INIT, j = BUF_INIT;
	struct tlsrpt_txt	*t;
	enum status		 st;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&why);
		t = (struct tlsrpt_txt *)&why;		/* must be reset */
		st = tlsrpt_txt_parse(cases[i].rec, cases[i].len, &t, &why);
		CHECKF(st == cases[i].want, "%s: %s (%s)", cases[i].tag,
		    status_str(st), buf_str(&why));
		if (st == ST_OK) {
			joined(t, &j);
			if (cases[i].rua != NULL)
				CHECKF(strcmp(buf_str(&j), cases[i].rua) == 0,
				    "%s: rua %s", cases[i].tag, buf_str(&j));
			CHECKF(t->t_nrua >= 1 && t->t_nrua <= TLSRPT_RUA_MAX,
			    "%s: nrua %zu", cases[i].tag, t->t_nrua);
			tlsrpt_txt_free(t);
		} else {
			CHECKF(t == NULL, "%s: *out not NULL", cases[i].tag);
			CHECKF(why.b_len > 0 &&
			    strchr(buf_str(&why), '\n') == NULL,
			    "%s: reason not one line", cases[i].tag);
		}
		if (cases[i].why != NULL)
			CHECKF(strstr(buf_str(&why), cases[i].why) != NULL,
			    "%s: reason \"%s\"", cases[i].tag, buf_str(&why));
	}
	buf_free(&why);
	buf_free(&j);
}

/* test_tlsrpt_txt_r7_note - R-7: a dropped URI is noted on success */
static void
test_tlsrpt_txt_r7_note(void)
{
	static const char	 rec[] = "v=TLSRPTv1; rua=mailto:a@example.com!10m,"
	    "mailto:b@example.com,https://x.example/!";
	struct buf		 why = BUF_INIT;
	struct tlsrpt_txt	*t = NULL;

	CHECK(tlsrpt_txt_parse(rec, sizeof(rec) - 1, &t, &why) == ST_OK);
	CHECK(t != NULL && t->t_nrua == 1);
	CHECK_STR(buf_str(&why), "dropped 2 rua URIs with a raw '!'");
	tlsrpt_txt_free(t);
	buf_free(&why);
}

/* test_tlsrpt_txt_rua_max - keep the first TLSRPT_RUA_MAX URIs */
static void
test_tlsrpt_txt_rua_max(void)
{
	struct buf		 b = BUF_INIT, why = BUF_INIT;
	struct tlsrpt_txt	*t = NULL;
	char			 want[64];
	size_t			 i;

	(void)buf_puts(&b, "v=TLSRPTv1; rua=");
	for (i = 0; i < 20; i++)
		(void)buf_printf(&b, "%smailto:r%zu@example.com", i ? "," : "",
		    i);
	CHECK(tlsrpt_txt_parse(b.b_data, b.b_len, &t, &why) == ST_OK);
	CHECK(t != NULL && t->t_nrua == TLSRPT_RUA_MAX);
	for (i = 0; t != NULL && i < t->t_nrua; i++) {
		snprintf(want, sizeof(want), "mailto:r%zu@example.com", i);
		CHECK_STR(t->t_rua[i], want);
	}
	CHECK(strstr(buf_str(&why), "ignored 4 rua URIs") != NULL);
	tlsrpt_txt_free(t);

	/* exactly TLSRPT_RUA_MAX: no note */
	buf_reset(&b);
	buf_reset(&why);
	(void)buf_puts(&b, "v=TLSRPTv1; rua=");
	for (i = 0; i < TLSRPT_RUA_MAX; i++)
		(void)buf_printf(&b, "%smailto:r%zu@example.com", i ? "," : "",
		    i);
	CHECK(tlsrpt_txt_parse(b.b_data, b.b_len, &t, &why) == ST_OK);
	CHECK(t != NULL && t->t_nrua == TLSRPT_RUA_MAX);
	CHECK(why.b_len == 0);
	tlsrpt_txt_free(t);
	buf_free(&b);
	buf_free(&why);
}

/* test_tlsrpt_txt_hostile_sizes - 64 KiB records */
static void
test_tlsrpt_txt_hostile_sizes(void)
{
	struct tlsrpt_txt	*t = NULL;
	size_t			 n = 65536, i;
	char			*p = malloc(n);

	/* one 64 KiB URI */
	memset(p, 'a', n);
	memcpy(p, "v=TLSRPTv1; rua=https://", 24);
	CHECK(tlsrpt_txt_parse(p, n, &t, NULL) == ST_OK);
	CHECK(t != NULL && t->t_nrua == 1 && strlen(t->t_rua[0]) == n - 16);
	tlsrpt_txt_free(t);

	/* 64 KiB of commas */
	memset(p, ',', n);
	memcpy(p, "v=TLSRPTv1; rua=a", 17);
	CHECK(tlsrpt_txt_parse(p, n, &t, NULL) == ST_INVALID);
	CHECK(t == NULL);

	/* thousands of duplicate URIs */
	memcpy(p, "v=TLSRPTv1; rua=mailto:a@b.example", 34);
	for (i = 34; i + 21 <= n; i += 21)
		memcpy(p + i, ",mailto:a@b.example  ", 21);
	CHECK(tlsrpt_txt_parse(p, i - 2, &t, NULL) == ST_OK);
	CHECK(t != NULL && t->t_nrua == 1);
	tlsrpt_txt_free(t);

	/* thousands of distinct URIs with a '!' each */
	for (i = 16; i + 8 <= n; i += 8)
		memcpy(p + i, "x:a!bcd,", 8);
	CHECK(tlsrpt_txt_parse(p, i - 1, &t, NULL) == ST_INVALID);
	free(p);

	CHECK(tlsrpt_txt_parse(NULL, 0, &t, NULL) == ST_NOTFOUND);
	CHECK(tlsrpt_txt_parse(NULL, 40, &t, NULL) == ST_NOTFOUND);
	tlsrpt_txt_free(NULL);
}

struct rrset {
	const char	*tag;
	size_t		 n;
	const char	*recs[4];
	enum status	 want;
	const char	*rua;
	const char	*why;
};

static const struct rrset select_cases[] = {
	{ "R-1", 1, { "v=TLSRPTv1;rua=mailto:reports@example.com" }, ST_OK,
	    "mailto:reports@example.com", NULL },
	/* R-5, RPT-TXT-6 */
	{ "R-5", 2, { "v=TLSRPTv1; rua=mailto:a@example.com",
	    "v=TLSRPTv1; rua=mailto:b@example.com" }, ST_NOTFOUND, NULL,
	    "2 v=TLSRPTv1 records" },
	/* R-8: discarded */
	{ "R-8", 1, { "v=tlsrptv1; rua=mailto:a@example.com" }, ST_NOTFOUND,
	    NULL, "0 v=TLSRPTv1 records" },
	{ "R-8 + valid", 2, { "v=tlsrptv1; rua=mailto:a@example.com",
	    "v=TLSRPTv1; rua=mailto:b@example.com" }, ST_OK,
	    "mailto:b@example.com", NULL },
	/* RPT-TXT-6: literal "v=TLSRPTv1;" prefix */
	{ "WSP before ;", 1, { "v=TLSRPTv1 ; rua=mailto:a@example.com" },
	    ST_NOTFOUND, NULL, "0 v=TLSRPTv1 records" },
	{ "other records", 3, { "v=spf1 -all", "v=STSv1; id=1",
	    "v=TLSRPTv1; rua=mailto:a@example.com" }, ST_OK,
	    "mailto:a@example.com", NULL },
	/* R-6 survivor: invalid */
	{ "R-6", 1, { "v=TLSRPTv1;" }, ST_INVALID, NULL, "missing rua" },
	{ "empty RRset", 0, { NULL }, ST_NOTFOUND, NULL,
	    "0 v=TLSRPTv1 records" },
};

static void
test_tlsrpt_txt_select_table(void)
{
	struct buf		 why = BUF_INIT, j = BUF_INIT;
	struct tlsrpt_txt	*t;
	enum status		 st;
	char			*recs[4];
	size_t			 lens[4], i, k;

	for (i = 0; i < sizeof(select_cases) / sizeof(select_cases[0]); i++) {
		const struct rrset *c = &select_cases[i];

		for (k = 0; k < c->n; k++) {
			recs[k] = (char *)(uintptr_t)c->recs[k];
			lens[k] = strlen(c->recs[k]);
		}
		buf_reset(&why);
		st = tlsrpt_txt_select(recs, lens, c->n, &t, &why);
		CHECKF(st == c->want, "%s: %s (%s)", c->tag, status_str(st),
		    buf_str(&why));
		if (st == ST_OK) {
			joined(t, &j);
			CHECKF(c->rua == NULL || strcmp(buf_str(&j), c->rua) ==
			    0, "%s: rua %s", c->tag, buf_str(&j));
			tlsrpt_txt_free(t);
		} else
			CHECKF(t == NULL, "%s: *out not NULL", c->tag);
		if (c->why != NULL)
			CHECKF(strstr(buf_str(&why), c->why) != NULL,
			    "%s: reason \"%s\"", c->tag, buf_str(&why));
		st = tlsrpt_txt_select(recs, NULL, c->n, &t, NULL);
		CHECKF(st == c->want, "%s: lens NULL", c->tag);
		tlsrpt_txt_free(t);
	}
	buf_free(&why);
	buf_free(&j);
}

static const struct {
	const char		*uri;
	enum tlsrpt_rua_kind	 want;
} kind_cases[] = {
	{ "mailto:reports@example.com",			RUA_MAILTO },
	{ "MAILTO:reports@example.com",			RUA_MAILTO },
	{ "https://reporting.example.com/v1/tlsrpt",	RUA_HTTPS },
	{ "HTTPS://reporting.example.com/",		RUA_HTTPS },
	{ "http://reporting.example.com/",		RUA_UNSUPPORTED },
	{ "ftp://x.example/",				RUA_UNSUPPORTED },
	{ "mailto:",					RUA_UNSUPPORTED },
	{ "https://",					RUA_UNSUPPORTED },
	{ "https:///path",				RUA_UNSUPPORTED },
	{ "https:x.example",				RUA_UNSUPPORTED },
	{ "mailt",					RUA_UNSUPPORTED },
	{ "",						RUA_UNSUPPORTED },
};

static void
test_tlsrpt_rua_kind_table(void)
{
	size_t	i;

	for (i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++)
		CHECKF(tlsrpt_rua_kind(kind_cases[i].uri) == kind_cases[i].want,
		    "row %zu \"%s\"", i, kind_cases[i].uri);
	CHECK(tlsrpt_rua_kind(NULL) == RUA_UNSUPPORTED);
}

static const struct {
	const char	*uri;
	enum status	 want;
	const char	*addr;
	const char	*why;
} mailto_cases[] = {
	/* R-1 */
	{ "mailto:reports@example.com", ST_OK, "reports@example.com", NULL },
	/* R-10: "%2C" decodes to a ',' in the local part */
	{ "mailto:reports%2Cx@example.com", ST_OK, "reports,x@example.com",
	    NULL },
	{ "MailTo:a@example.com", ST_OK, "a@example.com", NULL },
	{ "mailto:a@example.com?subject=report", ST_OK, "a@example.com",
	    NULL },
	{ "mailto:%61%62@example.com", ST_OK, "ab@example.com", NULL },
	{ "mailto:a%2bb@example.com", ST_OK, "a+b@example.com", NULL },
	{ "mailto:a%21b@example.com", ST_OK, "a!b@example.com", NULL },
	{ "mailto:a%3Bb@example.com", ST_OK, "a;b@example.com", NULL },
	/* R-7: a raw '!' stays in the address if called directly */
	{ "mailto:a@example.com!10m", ST_INVALID, NULL, "invalid domain" },
	/* not local@domain */
	{ "mailto:a%40b@example.com", ST_INVALID, NULL, "not local@domain" },
	{ "mailto:a@b@example.com", ST_INVALID, NULL, "not local@domain" },
	{ "mailto:@example.com", ST_INVALID, NULL, "not local@domain" },
	{ "mailto:a@", ST_INVALID, NULL, "not local@domain" },
	{ "mailto:example.com", ST_INVALID, NULL, "not local@domain" },
	{ "mailto:", ST_INVALID, NULL, "not local@domain" },
	{ "mailto:?to=a@example.com", ST_INVALID, NULL, "not local@domain" },
	{ "mailto:a@ex_ample.com", ST_INVALID, NULL, "invalid domain" },
	{ "mailto:a@example.com.", ST_INVALID, NULL, "invalid domain" },
	{ "mailto:a@[192.0.2.1]", ST_INVALID, NULL, "invalid domain" },
	/* percent-encoding */
	{ "mailto:a%2@example.com", ST_INVALID, NULL, "percent" },
	{ "mailto:a%@example.com", ST_INVALID, NULL, "percent" },
	{ "mailto:a%zz@example.com", ST_INVALID, NULL, "percent" },
	{ "mailto:a%", ST_INVALID, NULL, "percent" },
	/* controls, spaces, non-ASCII after decoding */
	{ "mailto:a%00@example.com", ST_INVALID, NULL, "\\x00" },
	{ "mailto:a%0D%0Ab@example.com", ST_INVALID, NULL, "\\x0d" },
	{ "mailto:a%20b@example.com", ST_INVALID, NULL, "\\x20" },
	{ "mailto:a%7f@example.com", ST_INVALID, NULL, "\\x7f" },
	{ "mailto:r%C3%A9@example.com", ST_INVALID, NULL, "\\xc3" },
	{ "mailto:a b@example.com", ST_INVALID, NULL, "\\x20" },
	/* envelope and command-line safety */
	{ "mailto:-oQ%2Ftmp@example.com", ST_INVALID, NULL, "begins with '-'" },
	{ "mailto:a%3E@example.com", ST_INVALID, NULL, "'>'" },
	{ "mailto:%3Ca@example.com", ST_INVALID, NULL, "'<'" },
	{ "mailto:%22a%22@example.com", ST_INVALID, NULL, "'\"'" },
	{ "mailto:a\\b@example.com", ST_INVALID, NULL, "'\\'" },
	{ "mailto:a-b@example.com", ST_OK, "a-b@example.com", NULL },
	/* a raw ',' is an RFC 6068 list */
	{ "mailto:a@example.com,b@example.com", ST_INVALID, NULL, "','" },
	/* not mailto */
	{ "https://reporting.example.com/", ST_INVALID, NULL, "not a mailto" },
	{ "mailt:a@example.com", ST_INVALID, NULL, "not a mailto" },
};

static void
test_tlsrpt_rua_mailto_table(void)
{
	struct buf	 why = BUF_INIT;
	enum status	 st;
	char		*addr;
	size_t		 i;

	for (i = 0; i < sizeof(mailto_cases) / sizeof(mailto_cases[0]); i++) {
		buf_reset(&why);
		addr = (char *)&why;			/* must be reset */
		st = tlsrpt_rua_mailto(mailto_cases[i].uri, &addr, &why);
		CHECKF(st == mailto_cases[i].want, "row %zu \"%s\": %s (%s)",
		    i, mailto_cases[i].uri, status_str(st), buf_str(&why));
		if (st == ST_OK) {
			CHECKF(addr != NULL && strcmp(addr,
			    mailto_cases[i].addr) == 0, "row %zu: \"%s\"", i,
			    addr ? addr : "(null)");
			free(addr);
		} else
			CHECKF(addr == NULL, "row %zu: addr not NULL", i);
		if (mailto_cases[i].why != NULL)
			CHECKF(strstr(buf_str(&why), mailto_cases[i].why) !=
			    NULL, "row %zu: reason \"%s\"", i, buf_str(&why));
	}
	CHECK(tlsrpt_rua_mailto(NULL, &addr, NULL) == ST_INVALID);
	CHECK(addr == NULL);
	buf_free(&why);
}

/* test_tlsrpt_r10_end_to_end - R-10 from the record to the address */
static void
test_tlsrpt_r10_end_to_end(void)
{
	static const char	 rec[] =
	    "v=TLSRPTv1; rua=mailto:reports%2Cx@example.com";
	struct tlsrpt_txt	*t = NULL;
	char			*addr = NULL;

	CHECK(tlsrpt_txt_parse(rec, sizeof(rec) - 1, &t, NULL) == ST_OK);
	if (t == NULL)
		return;
	CHECK_INT(t->t_nrua, 1);
	CHECK(tlsrpt_rua_kind(t->t_rua[0]) == RUA_MAILTO);
	CHECK(tlsrpt_rua_mailto(t->t_rua[0], &addr, NULL) == ST_OK);
	CHECK_STR(addr, "reports,x@example.com");
	free(addr);
	tlsrpt_txt_free(t);
}

int
main(void)
{
	RUN(test_tlsrpt_txt_parse_table);
	RUN(test_tlsrpt_txt_r7_note);
	RUN(test_tlsrpt_txt_rua_max);
	RUN(test_tlsrpt_txt_hostile_sizes);
	RUN(test_tlsrpt_txt_select_table);
	RUN(test_tlsrpt_rua_kind_table);
	RUN(test_tlsrpt_rua_mailto_table);
	RUN(test_tlsrpt_r10_end_to_end);
	return harness_done("test_tlsrpt_txt");
}
