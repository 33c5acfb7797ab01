/*
 * test_sts_txt.c - "_mta-sts" TXT parsing and RRset selection
 *
 * Rows T-1 .. T-15 are rfc-checklist.md 5.3 (T-16 is a DNS matter and
 * belongs to the fetch tests); TV-8461-1 is 5.1.  "NP" in the RFC
 * checklist is ST_NOTFOUND (not an STS record / no policy) or
 * ST_INVALID (an STS record that fails the grammar); both mean no
 * policy to the caller.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "status.h"
#include "sts_txt.h"

#include "../harness.h"

/* S - a literal with its length, so rows may hold NUL bytes */
#define S(x)	x, sizeof(x) - 1

static const struct {
	const char	*rec;
	size_t		 len;
	enum status	 want;
	const char	*id;		/* on ST_OK */
	const char	*why;		/* substring of the reason, or NULL */
} parse_cases[] = {
	/* T-1, TV-8461-1 */
	{ S("v=STSv1; id=20160831085700Z;"), ST_OK, "20160831085700Z", NULL },
	/* T-2: WSP optional, trailing ";" optional */
	{ S("v=STSv1;id=abc"),			ST_OK,	"abc",	NULL },
	/* T-3: id is ALPHA / DIGIT only */
	{ S("v=STSv1; id=2016-08-31"),		ST_INVALID, NULL, "'-'" },
	/* T-4: at most 32 characters */
	{ S("v=STSv1; id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
						ST_INVALID, NULL, "longer than 32" },
	{ S("v=STSv1; id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
				ST_OK, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
	/* T-5: must start with v=STSv1 (STS-TXT-3) */
	{ S("id=1; v=STSv1"),			ST_NOTFOUND, NULL, NULL },
	/* T-6: the prefix includes ';' */
	{ S("v=STSv10; id=1"),			ST_NOTFOUND, NULL, NULL },
	/* T-7: case-sensitive */
	{ S("V=STSv1; id=1"),			ST_NOTFOUND, NULL, NULL },
	{ S("v=stsv1; id=1"),			ST_NOTFOUND, NULL, NULL },
	/* T-8: unknown field ignored (STS-TXT-8) */
	{ S("v=STSv1; id=1; foo=bar"),		ST_OK,	"1",	NULL },
	/* T-9: duplicate id, first wins */
	{ S("v=STSv1; id=1; id=2"),		ST_OK,	"1",	NULL },
	/* T-12: two strings joined without spaces (STS-TXT-6) */
	{ S("v=STSv1; id=2016" "0831085700Z;"),	ST_OK, "20160831085700Z", NULL },
	/* T-13: decision, the literal prefix rule wins (erratum 6285) */
	{ S("v=STSv1 ; id=1"),			ST_NOTFOUND, NULL, NULL },
	{ S("v=STSv1\t; id=1"),			ST_NOTFOUND, NULL, NULL },
	/* T-14: id required */
	{ S("v=STSv1;"),			ST_INVALID, NULL, "missing id" },
	{ S("v=STSv1;  "),			ST_INVALID, NULL, "missing id" },
	/* T-15: "=" cannot appear in an ext-value */
	{ S("v=STSv1; id=1; ext=a=b"),		ST_INVALID, NULL, "'='" },

	/* STS-TXT-9: whitespace around ';' but not around '=' */
	{ S("v=STSv1;\tid=1\t;\t"),		ST_OK,	"1",	NULL },
	{ S("v=STSv1;   id=1   ;   x=y   ;"),	ST_OK,	"1",	NULL },
	{ S("v=STSv1; id =1"),			ST_INVALID, NULL, "before '='" },
	{ S("v=STSv1; id= 1"),			ST_INVALID, NULL, "after '='" },
	/* decision: WSP at the end with no ';' is outside the ABNF */
	{ S("v=STSv1; id=1 "),			ST_INVALID, NULL, "trailing" },
	{ S("v=STSv1; id=1 foo=bar"),		ST_INVALID, NULL, "missing ';'" },
	{ S("v=STSv1; id=1;;"),			ST_INVALID, NULL, "empty field" },
	{ S("v=STSv1; ;id=1"),			ST_INVALID, NULL, "empty field" },
	{ S("v=STSv1;;id=1"),			ST_INVALID, NULL, "empty field" },
	/* decision: first id field must be a valid sts-id */
	{ S("v=STSv1; id=a-b; id=1"),		ST_INVALID, NULL, "'-'" },
	{ S("v=STSv1; id=1; id=a-b"),		ST_OK,	"1",	NULL },
	{ S("v=STSv1; id=1; id="),		ST_INVALID, NULL, "empty value" },
	/* "ID" is an extension, not the id (%s"id=") */
	{ S("v=STSv1; ID=1"),			ST_INVALID, NULL, "missing id" },
	{ S("v=STSv1; id=1; ID=2"),		ST_OK,	"1",	NULL },
	{ S("v=STSv1; id=1; v=STSv2"),		ST_OK,	"1",	NULL },
	/* sts-ext-name: ALPHA/DIGIT then *31 of ALPHA/DIGIT/_/-/. */
	{ S("v=STSv1; id=1; a_b-c.d=x"),	ST_OK,	"1",	NULL },
	{ S("v=STSv1; id=1; abcdefghijabcdefghijabcdefghij12=x"),
						ST_OK,	"1",	NULL },
	{ S("v=STSv1; id=1; abcdefghijabcdefghijabcdefghij123=x"),
					ST_INVALID, NULL, "longer than 32" },
	{ S("v=STSv1; id=1; _a=x"),		ST_INVALID, NULL, "field name" },
	{ S("v=STSv1; id=1; -a=x"),		ST_INVALID, NULL, "field name" },
	{ S("v=STSv1; id=1; a!b=x"),		ST_INVALID, NULL, "'!'" },
	{ S("v=STSv1; id=1; foo"),		ST_INVALID, NULL, "without '='" },
	{ S("v=STSv1; id=1; foo;"),		ST_INVALID, NULL, "without '='" },
	{ S("v=STSv1; id=1; foo="),		ST_INVALID, NULL, "empty value" },
	/* sts-ext-value: %x21-3A / %x3C / %x3E-7E */
	{ S("v=STSv1; id=1; x=!\"#$%&'()*+,-./0123456789:<>?@[\\]^_`{|}~"),
						ST_OK,	"1",	NULL },
	{ S("v=STSv1; id=1; x=a\x7f"),		ST_INVALID, NULL, "\\x7f" },
	{ S("v=STSv1; id=1; x=\xc3\xa9"),	ST_INVALID, NULL, "\\xc3" },
	{ S("v=STSv1; id=\xc3\xa9"),		ST_INVALID, NULL, "\\xc3" },
	/* hostile: NUL bytes, bare CR, other controls */
	{ S("v=STSv1; id=1\0"),			ST_INVALID, NULL, "NUL" },
	{ S("v=STSv1; id=a\0b"),		ST_INVALID, NULL, "NUL" },
	{ S("v=STSv1;\0id=1"),			ST_INVALID, NULL, "NUL" },
	{ S("v=STSv\0; id=1"),			ST_NOTFOUND, NULL, NULL },
	{ S("v=STSv1; id=1\r"),			ST_INVALID, NULL, "\\x0d" },
	{ S("v=STSv1; id=1\r\n"),		ST_INVALID, NULL, "\\x0d" },
	{ S("v=STSv1;\rid=1"),			ST_INVALID, NULL, NULL },
	{ S("v=STSv1; id=1\n"),			ST_INVALID, NULL, "\\x0a" },
	{ S(""),				ST_NOTFOUND, NULL, NULL },
	{ S("v=STSv1"),				ST_NOTFOUND, NULL, NULL },
	{ S("v=spf1 -all"),			ST_NOTFOUND, NULL, NULL },
	{ S("\xef\xbb\xbfv=STSv1; id=1"),	ST_NOTFOUND, NULL, NULL },
};

static void
test_sts_txt_parse_table(void)
{
	struct buf	why = BUF_INIT;
	struct sts_txt	t;
	enum status	st;
	size_t		i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		buf_reset(&why);
		memset(&t, 'x', sizeof(t));
		st = sts_txt_parse(parse_cases[i].rec, parse_cases[i].len, &t,
		    &why);
		CHECKF(st == parse_cases[i].want, "row %zu \"%s\": %s (%s)",
		    i, parse_cases[i].rec, status_str(st), buf_str(&why));
		if (st == ST_OK && parse_cases[i].id != NULL)
			CHECKF(strcmp(t.id, parse_cases[i].id) == 0,
			    "row %zu: id \"%s\"", i, t.id);
		if (st == ST_OK)
			CHECKF(why.b_len == 0, "row %zu: reason on success", i);
		else {
			CHECKF(t.id[0] == '\0', "row %zu: id not cleared", i);
			CHECKF(why.b_len > 0 &&
			    strchr(buf_str(&why), '\n') == NULL,
			    "row %zu: reason not one line", i);
		}
		if (parse_cases[i].why != NULL)
			CHECKF(strstr(buf_str(&why), parse_cases[i].why) !=
			    NULL, "row %zu: reason \"%s\"", i, buf_str(&why));
	}
	buf_free(&why);
}

/* test_sts_txt_parse_null - a NULL record is not an STS record */
static void
test_sts_txt_parse_null(void)
{
	struct sts_txt	t;

	CHECK(sts_txt_parse(NULL, 0, &t, NULL) == ST_NOTFOUND);
	CHECK(sts_txt_parse(NULL, 10, &t, NULL) == ST_NOTFOUND);
}

/* test_sts_txt_parse_len_bounds - nothing past len is read */
static void
test_sts_txt_parse_len_bounds(void)
{
	static const char	rec[] = "v=STSv1; id=123456";
	struct sts_txt		t;
	char			*p;

	/* a heap copy without a terminator: ASan catches an overread */
	p = malloc(sizeof(rec) - 1);
	memcpy(p, rec, sizeof(rec) - 1);
	CHECK(sts_txt_parse(p, sizeof(rec) - 1, &t, NULL) == ST_OK);
	CHECK_STR(t.id, "123456");
	CHECK(sts_txt_parse(p, sizeof(rec) - 4, &t, NULL) == ST_OK);
	CHECK_STR(t.id, "123");
	CHECK(sts_txt_parse(p, 8, &t, NULL) == ST_INVALID);	/* "v=STSv1;" */
	CHECK(sts_txt_parse(p, 7, &t, NULL) == ST_NOTFOUND);
	free(p);
}

/* test_sts_txt_parse_hostile_sizes - 64 KiB records */
static void
test_sts_txt_parse_hostile_sizes(void)
{
	struct sts_txt	t;
	size_t		n = 65536, i;
	char		*p = malloc(n);

	/* a long but valid extension value */
	memset(p, 'a', n);
	memcpy(p, "v=STSv1; id=1; x=", 17);
	CHECK(sts_txt_parse(p, n, &t, NULL) == ST_OK);
	CHECK_STR(t.id, "1");

	/* 64 KiB of delimiters */
	memcpy(p, "v=STSv1; id=1", 13);
	for (i = 13; i < n; i++)
		p[i] = i % 2 ? ';' : ' ';
	CHECK(sts_txt_parse(p, n, &t, NULL) == ST_INVALID);

	/* a 64 KiB id */
	memset(p, '7', n);
	memcpy(p, "v=STSv1; id=", 12);
	CHECK(sts_txt_parse(p, n, &t, NULL) == ST_INVALID);

	/* 64 KiB of WSP and nothing else */
	memset(p, ' ', n);
	memcpy(p, "v=STSv1;", 8);
	CHECK(sts_txt_parse(p, n, &t, NULL) == ST_INVALID);

	/* thousands of valid fields */
	memcpy(p, "v=STSv1; id=9; ", 15);
	for (i = 15; i + 6 <= n; i += 6)
		memcpy(p + i, "ab=c; ", 6);
	CHECK(sts_txt_parse(p, i, &t, NULL) == ST_OK);
	CHECK_STR(t.id, "9");
	free(p);
}

struct rrset {
	const char	*tag;
	size_t		 n;
	const char	*recs[4];
	enum status	 want;
	const char	*id;
	const char	*why;
};

static const struct rrset select_cases[] = {
	{ "T-1 TV-8461-1", 1, { "v=STSv1; id=20160831085700Z;" },
	    ST_OK, "20160831085700Z", NULL },
	/* T-10: two STS records, count != 1 */
	{ "T-10", 2, { "v=STSv1; id=1", "v=STSv1; id=2" },
	    ST_NOTFOUND, NULL, "2 v=STSv1 records" },
	/* T-11: the SPF record is discarded */
	{ "T-11", 2, { "v=STSv1; id=1", "v=spf1 -all" }, ST_OK, "1", NULL },
	{ "T-11 reversed", 2, { "v=spf1 -all", "v=STSv1; id=1" },
	    ST_OK, "1", NULL },
	/* T-6, T-7: discarded; the valid one survives */
	{ "T-6", 2, { "v=STSv10; id=1", "v=STSv1; id=5" }, ST_OK, "5", NULL },
	{ "T-7", 3, { "V=STSv1; id=1", "v=stsv1; id=2", "v=STSv1; id=3" },
	    ST_OK, "3", NULL },
	/* T-13: discarded by the literal prefix rule */
	{ "T-13", 1, { "v=STSv1 ; id=1" }, ST_NOTFOUND, NULL,
	    "0 v=STSv1 records" },
	{ "T-13 + valid", 2, { "v=STSv1 ; id=1", "v=STSv1; id=2" },
	    ST_OK, "2", NULL },
	/* STS-TXT-4: an invalid survivor means no policy */
	{ "T-3 survivor", 2, { "v=spf1 -all", "v=STSv1; id=2016-08-31" },
	    ST_INVALID, NULL, "'-'" },
	{ "T-14 survivor", 1, { "v=STSv1;" }, ST_INVALID, NULL, "missing id" },
	/* an invalid STS record still counts towards "not one" */
	{ "valid + invalid", 2, { "v=STSv1; id=1", "v=STSv1; id=-" },
	    ST_NOTFOUND, NULL, "2 v=STSv1 records" },
	{ "empty RRset", 0, { NULL }, ST_NOTFOUND, NULL,
	    "0 v=STSv1 records" },
	{ "three", 3, { "v=STSv1; id=1", "v=STSv1; id=1", "v=STSv1; id=1" },
	    ST_NOTFOUND, NULL, "3 v=STSv1 records" },
};

static void
test_sts_txt_select_table(void)
{
	struct buf	 why = BUF_INIT;
	struct sts_txt	 t;
	enum status	 st;
	char		*recs[4];
	size_t		 lens[4], i, j;

	for (i = 0; i < sizeof(select_cases) / sizeof(select_cases[0]); i++) {
		const struct rrset *c = &select_cases[i];

		for (j = 0; j < c->n; j++) {
			recs[j] = (char *)(uintptr_t)c->recs[j];
			lens[j] = strlen(c->recs[j]);
		}
		buf_reset(&why);
		st = sts_txt_select(recs, lens, c->n, &t, &why);
		CHECKF(st == c->want, "%s: %s (%s)", c->tag, status_str(st),
		    buf_str(&why));
		if (c->id != NULL)
			CHECKF(st == ST_OK && strcmp(t.id, c->id) == 0,
			    "%s: id \"%s\"", c->tag, t.id);
		if (c->why != NULL)
			CHECKF(strstr(buf_str(&why), c->why) != NULL,
			    "%s: reason \"%s\"", c->tag, buf_str(&why));
		/* lens == NULL: C strings */
		CHECKF(sts_txt_select(recs, NULL, c->n, &t, NULL) == c->want,
		    "%s: lens NULL", c->tag);
	}
	buf_free(&why);
}

/* test_sts_txt_select_nul - a NUL-bearing record survives, then fails */
static void
test_sts_txt_select_nul(void)
{
	static char	 r0[] = "v=STSv1; id=1\0junk";
	char		*recs[1] = { r0 };
	size_t		 lens[1] = { sizeof(r0) - 1 };
	struct sts_txt	 t;

	CHECK(sts_txt_select(recs, lens, 1, &t, NULL) == ST_INVALID);
}

int
main(void)
{
	RUN(test_sts_txt_parse_table);
	RUN(test_sts_txt_parse_null);
	RUN(test_sts_txt_parse_len_bounds);
	RUN(test_sts_txt_parse_hostile_sizes);
	RUN(test_sts_txt_select_table);
	RUN(test_sts_txt_select_nul);
	return harness_done("test_sts_txt");
}
