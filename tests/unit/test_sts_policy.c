/*
 * test_sts_policy.c - MTA-STS policy body parsing
 *
 * Rows P-1 .. P-18 are rfc-checklist.md 5.3; TV-8461-4 and TV-8461-7
 * are 5.1; TV-8460-8 (the policy-string) is 5.2.  A row's "json" is
 * the sts_policy_json() output, which pins mode, mx list and max_age.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mx_match.h"
#include "status.h"
#include "sts_policy.h"

#include "../harness.h"

/* S - a literal with its length, so rows may hold NUL bytes */
#define S(x)	x, sizeof(x) - 1

#define TV4_JSON "{\"version\":\"STSv1\",\"mode\":\"enforce\",\"mx\":" \
	"[\"mail.example.com\",\"*.example.net\",\"backupmx.example.com\"]," \
	"\"max_age\":604800}"
#define TV7_JSON "{\"version\":\"STSv1\",\"mode\":\"testing\",\"mx\":" \
	"[\"mx1.example.com\",\"mx2.example.com\",\"mx.backup-example.com\"]," \
	"\"max_age\":1296000}"
#define V	"version: STSv1\n"
#define ME	"mode: enforce\n"
#define MX	"mx: mx.example.com\n"
#define MA	"max_age: 86400\n"
#define OK_JSON(mode, mx, age) "{\"version\":\"STSv1\",\"mode\":\"" mode \
	"\",\"mx\":[" mx "],\"max_age\":" age "}"
#define MXJ	"\"mx.example.com\""

static const struct {
	const char	*tag;
	const char	*body;
	size_t		 len;
	enum status	 want;
	const char	*json;		/* on ST_OK, or NULL */
	const char	*why;		/* substring of the reason, or NULL */
} cases[] = {
	/* P-1, TV-8461-4 */
	{ "P-1 TV-8461-4", S("version: STSv1\nmode: enforce\n"
	    "mx: mail.example.com\nmx: *.example.net\n"
	    "mx: backupmx.example.com\nmax_age: 604800\n"),
	    ST_OK, TV4_JSON, NULL },
	/* P-2, TV-8461-7: LF, CRLF, mixed, no final terminator */
	{ "P-2 TV-8461-7 LF", S("version: STSv1\nmode: testing\n"
	    "mx: mx1.example.com\nmx: mx2.example.com\n"
	    "mx: mx.backup-example.com\nmax_age: 1296000\n"),
	    ST_OK, TV7_JSON, NULL },
	{ "P-2 TV-8461-7 CRLF", S("version: STSv1\r\nmode: testing\r\n"
	    "mx: mx1.example.com\r\nmx: mx2.example.com\r\n"
	    "mx: mx.backup-example.com\r\nmax_age: 1296000\r\n"),
	    ST_OK, TV7_JSON, NULL },
	{ "P-2 TV-8461-7 mixed", S("version: STSv1\r\nmode: testing\n"
	    "mx: mx1.example.com\r\nmx: mx2.example.com\n"
	    "mx: mx.backup-example.com\r\nmax_age: 1296000"),
	    ST_OK, TV7_JSON, NULL },
	{ "P-2 no final LF", S("version: STSv1\nmode: testing\n"
	    "mx: mx1.example.com\nmx: mx2.example.com\n"
	    "mx: mx.backup-example.com\nmax_age: 1296000"),
	    ST_OK, TV7_JSON, NULL },
	/* TV-8461-3: the <CRLF> marker as a real CRLF */
	{ "TV-8461-3", S(V ME "mx: mail.example.com \r\nmx: *.example.net\n"
	    MA), ST_OK, OK_JSON("enforce",
	    "\"mail.example.com\",\"*.example.net\"", "86400"), NULL },
	/* P-3: order is free */
	{ "P-3", S("max_age: 86400\nmx: mx.example.com\nmode: enforce\n"
	    "version: STSv1\n"), ST_OK, OK_JSON("enforce", MXJ, "86400"),
	    NULL },
	/* P-4, STS-POL-2: case-sensitive */
	{ "P-4", S(V "mode: Enforce\n" MX MA), ST_INVALID, NULL,
	    "mode: invalid value \"Enforce\"" },
	{ "P-4 key", S(V "Mode: enforce\n" MX MA), ST_INVALID, NULL,
	    "missing mode" },
	{ "P-4 version", S("version: stsv1\n" ME MX MA), ST_INVALID, NULL,
	    "version: unsupported" },
	/* P-5: no space before ':' */
	{ "P-5", S(V "mode : enforce\n" MX MA), ST_INVALID, NULL,
	    "line 2: whitespace before ':'" },
	/* P-6: no space needed after ':' */
	{ "P-6", S("version:STSv1\nmode:enforce\nmx:mail.example.com\n"
	    "max_age:86400\n"), ST_OK, OK_JSON("enforce",
	    "\"mail.example.com\"", "86400"), NULL },
	{ "P-6 tabs", S("version:\tSTSv1\nmode:\t \tenforce\n"
	    "mx:\tmx.example.com\t\nmax_age: \t86400\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	/* P-7: required fields */
	{ "P-7", S(V ME MX), ST_INVALID, NULL, "missing max_age" },
	{ "P-7 version", S(ME MX MA), ST_INVALID, NULL, "missing version" },
	{ "P-7 mode", S(V MX MA), ST_INVALID, NULL, "missing mode" },
	/* P-8, STS-POL-1 */
	{ "P-8", S(V ME MA), ST_INVALID, NULL,
	    "mode enforce requires at least one mx" },
	{ "P-8 testing", S(V "mode: testing\n" MA), ST_INVALID, NULL,
	    "mode testing requires" },
	/* P-9 */
	{ "P-9", S("version: STSv1\nmode: none\nmax_age: 86400\n"), ST_OK,
	    OK_JSON("none", "", "86400"), NULL },
	{ "P-9 with mx", S(V "mode: none\n" MX MA), ST_OK,
	    OK_JSON("none", MXJ, "86400"), NULL },
	/* P-10, STS-POL-6: first wins */
	{ "P-10", S(V "mode: testing\nmode: enforce\n" MX MA), ST_OK,
	    OK_JSON("testing", MXJ, "86400"), NULL },
	{ "P-10 max_age", S(V ME MX MA "max_age: 5\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "P-10 version", S(V "version: STSv2\n" ME MX MA), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	/* decision: the first occurrence must be valid */
	{ "P-10 first invalid", S(V "mode: Enforce\nmode: enforce\n" MX MA),
	    ST_INVALID, NULL, "line 2: mode" },
	{ "P-10 version first invalid", S("version: STSv2\n" V ME MX MA),
	    ST_INVALID, NULL, "line 1: version" },
	{ "P-10 later ignored, still checked", S(V ME MX MA
	    "mode: bad\x01value\n"), ST_INVALID, NULL, "control character" },
	/* P-11 */
	{ "P-11", S(V ME MX "max_age: 31557600\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "31557600"), NULL },
	/* P-12, decision: clamp */
	{ "P-12", S(V ME MX "max_age: 31557601\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "31557600"), NULL },
	{ "P-12 ten digits", S(V ME MX "max_age: 9999999999\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "31557600"), NULL },
	/* P-13: 1*10 DIGIT */
	{ "P-13", S(V ME MX "max_age: 12345678901\n"), ST_INVALID, NULL,
	    "more than 10 digits" },
	{ "P-13 zeros", S(V ME MX "max_age: 00000000001\n"), ST_INVALID,
	    NULL, "more than 10 digits" },
	{ "max_age leading zeros", S(V ME MX "max_age: 0000086400\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "max_age 0", S(V ME MX "max_age: 0\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "0"), NULL },
	{ "max_age -1", S(V ME MX "max_age: -1\n"), ST_INVALID, NULL,
	    "not a number" },
	{ "max_age +1", S(V ME MX "max_age: +1\n"), ST_INVALID, NULL,
	    "not a number" },
	{ "max_age 1e5", S(V ME MX "max_age: 1e5\n"), ST_INVALID, NULL,
	    "not a number" },
	{ "max_age unit", S(V ME MX "max_age: 86400 s\n"), ST_INVALID, NULL,
	    "not a number" },
	{ "max_age huge", S(V ME MX "max_age: 99999999999999999999999\n"),
	    ST_INVALID, NULL, "more than 10 digits" },
	/* P-14, STS-POL-10, decision: one bad mx line invalidates all */
	{ "P-14 *example.net", S(V ME MX "mx: *example.net\n" MA),
	    ST_INVALID, NULL, "line 4: mx \"*example.net\": wildcard" },
	{ "P-14 mail.*.example.net", S(V ME MX "mx: mail.*.example.net\n" MA),
	    ST_INVALID, NULL, "wildcard" },
	{ "P-14 *", S(V ME MX "mx: *\n" MA), ST_INVALID, NULL, "wildcard" },
	{ "P-14 trailing dot", S(V ME MX "mx: mail.example.com.\n" MA),
	    ST_INVALID, NULL, "trailing dot" },
	{ "P-14 underscore", S(V ME MX "mx: _mx.example.com\n" MA),
	    ST_INVALID, NULL, "'_'" },
	{ "P-14 IP literal", S(V ME MX "mx: [192.0.2.1]\n" MA),
	    ST_INVALID, NULL, "address literal" },
	/* P-15, STS-POL-11 */
	{ "P-15 U-label", S(V ME "mx: b\xc3\xbc" "cher.example\n" MA),
	    ST_INVALID, NULL, "not an A-label" },
	{ "P-15 A-label", S(V ME "mx: xn--bcher-kva.example\n" MA), ST_OK,
	    OK_JSON("enforce", "\"xn--bcher-kva.example\"", "86400"), NULL },
	/* P-16, STS-POL-7 */
	{ "P-16", S(V ME MX MA "foo_bar: some value\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	/* P-17: trailing WSP */
	{ "P-17", S(V "mode: enforce   \n" MX MA), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "P-17 tab", S(V "mode: enforce\t\r\n" MX MA), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	/* P-18, decisions: strict inside, a trailing blank line is fine */
	{ "P-18 leading space", S(V " mode: enforce\n" MX MA), ST_INVALID,
	    NULL, "line 2: whitespace before the key" },
	{ "P-18 leading tab", S("\tversion: STSv1\n" ME MX MA), ST_INVALID,
	    NULL, "line 1: whitespace before the key" },
	{ "P-18 empty line between", S(V ME "\n" MX MA), ST_INVALID, NULL,
	    "line 3: empty line followed by a field" },
	{ "P-18 empty CRLF line between", S(V ME "\r\n" MX MA), ST_INVALID,
	    NULL, "line 3: empty line" },
	{ "P-18 leading empty line", S("\n" V ME MX MA), ST_INVALID, NULL,
	    "line 1: empty line" },
	{ "P-18 trailing blank line", S(V ME MX MA "\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "P-18 trailing blank lines", S(V ME MX MA "\r\n\n\r\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "P-18 whitespace-only line", S(V ME MX MA " \n"), ST_INVALID,
	    NULL, "whitespace before the key" },
	/* decisions: BOM, bare CR, NUL */
	{ "BOM", S("\xef\xbb\xbf" V ME MX MA), ST_INVALID, NULL,
	    "byte order mark" },
	{ "bare CR mid-line", S(V "mode: en\rforce\n" MX MA), ST_INVALID,
	    NULL, "line 2: bare CR" },
	{ "bare CR as terminator", S(V "mode: enforce\r" MX MA), ST_INVALID,
	    NULL, "line 2: bare CR" },
	{ "CR at end of body", S(V ME MX "max_age: 86400\r"), ST_INVALID,
	    NULL, "line 4: bare CR" },
	{ "CR CR LF", S(V ME MX "max_age: 86400\r\r\n"), ST_INVALID, NULL,
	    "bare CR" },
	{ "NUL in value", S(V "mode: enforce\0\n" MX MA), ST_INVALID, NULL,
	    "NUL byte at offset 28" },
	{ "NUL at end", S(V ME MX MA "\0"), ST_INVALID, NULL, "NUL" },
	{ "NUL in mx", S(V ME "mx: a\0.example.com\n" MA), ST_INVALID, NULL,
	    "NUL" },
	{ "empty", S(""), ST_INVALID, NULL, "empty policy" },
	{ "only LF", S("\n"), ST_INVALID, NULL, "missing version" },
	/* keys: sts-policy-ext-name */
	{ "key 32", S(V ME MX MA "abcdefghijabcdefghijabcdefghij12: x\n"),
	    ST_OK, OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "key 33", S(V ME MX MA "abcdefghijabcdefghijabcdefghij123: x\n"),
	    ST_INVALID, NULL, "key longer than 32" },
	{ "key _", S(V ME MX MA "_foo: x\n"), ST_INVALID, NULL,
	    "invalid key" },
	{ "key non-ASCII", S(V ME MX MA "k\xc3\xa9y: x\n"), ST_INVALID, NULL,
	    "invalid key" },
	{ "no colon", S(V ME MX MA "foo\n"), ST_INVALID, NULL,
	    "no ':' after the key" },
	{ "empty value", S(V ME "mx:   \n" MA), ST_INVALID, NULL,
	    "empty value for \"mx\"" },
	{ "equals", S(V "mode=enforce\n" MX MA), ST_INVALID, NULL,
	    "invalid key" },
	/* extension values: UTF-8, internal spaces, no CTLs */
	{ "ext UTF-8", S(V ME MX MA "note: gr\xc3\xbc\xc3\x9f" "e aus "
	    "k\xc3\xb6ln \xe2\x82\xac \xf0\x9f\x93\xa7\n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "ext spaces", S(V ME MX MA "note:   a  b   c   \n"), ST_OK,
	    OK_JSON("enforce", MXJ, "86400"), NULL },
	{ "ext inner tab", S(V ME MX MA "note: a\tb\n"), ST_INVALID, NULL,
	    "control character \\x09" },
	{ "ext DEL", S(V ME MX MA "note: a\x7f\n"), ST_INVALID, NULL,
	    "control character \\x7f" },
	{ "ext ESC", S(V ME MX MA "note: \x1b[31m\n"), ST_INVALID, NULL,
	    "control character \\x1b" },
	{ "ext bad UTF-8", S(V ME MX MA "note: \xc3\x28\n"), ST_INVALID,
	    NULL, "invalid UTF-8" },
	{ "ext overlong", S(V ME MX MA "note: \xc0\xaf\n"), ST_INVALID, NULL,
	    "invalid UTF-8" },
	{ "ext surrogate", S(V ME MX MA "note: \xed\xa0\x80\n"), ST_INVALID,
	    NULL, "invalid UTF-8" },
	{ "ext past U+10FFFF", S(V ME MX MA "note: \xf4\x90\x80\x80\n"),
	    ST_INVALID, NULL, "invalid UTF-8" },
	{ "ext truncated UTF-8", S(V ME MX MA "note: \xe2\x82"), ST_INVALID,
	    NULL, "invalid UTF-8" },
	{ "ext Latin-1", S(V ME MX MA "note: caf\xe9\n"), ST_INVALID, NULL,
	    "invalid UTF-8" },
	/* mx: lower-cased on store, duplicates kept */
	{ "mx lower-cased", S(V ME "mx: MX1.Example.COM\nmx: *.EXAMPLE.net\n"
	    MA), ST_OK, OK_JSON("enforce",
	    "\"mx1.example.com\",\"*.example.net\"", "86400"), NULL },
	{ "mx single label", S(V ME "mx: localhost\n" MA), ST_OK,
	    OK_JSON("enforce", "\"localhost\"", "86400"), NULL },
	{ "mx two names", S(V ME "mx: a.example b.example\n" MA), ST_INVALID,
	    NULL, "\\x20" },
	{ "mx non-ASCII", S(V ME "mx: \xff.example\n" MA), ST_INVALID, NULL,
	    "invalid UTF-8" },
};

static void
test_sts_policy_parse_table(void)
{
	struct buf		 why = BUF_INIT, js = BUF_INIT;
	struct sts_policy	*p;
	enum status		 st;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&why);
		buf_reset(&js);
		p = (struct sts_policy *)&why;		/* must be reset */
		st = sts_policy_parse(cases[i].body, cases[i].len, &p, &why);
		CHECKF(st == cases[i].want, "%s: %s (%s)", cases[i].tag,
		    status_str(st), buf_str(&why));
		if (st != ST_OK) {
			CHECKF(p == NULL, "%s: *out not NULL", cases[i].tag);
			CHECKF(why.b_len > 0 &&
			    strchr(buf_str(&why), '\n') == NULL,
			    "%s: reason not one line", cases[i].tag);
		} else {
			CHECKF(why.b_len == 0, "%s: reason on success",
			    cases[i].tag);
			CHECKF(p->p_text_len == cases[i].len &&
			    memcmp(p->p_text, cases[i].body, cases[i].len) ==
			    0 && p->p_text[cases[i].len] == '\0',
			    "%s: p_text", cases[i].tag);
			sts_policy_json(p, &js);
			if (cases[i].json != NULL)
				CHECKF(strcmp(buf_str(&js), cases[i].json) ==
				    0, "%s: json %s", cases[i].tag,
				    buf_str(&js));
			sts_policy_free(p);
		}
		if (cases[i].why != NULL)
			CHECKF(strstr(buf_str(&why), cases[i].why) != NULL,
			    "%s: reason \"%s\"", cases[i].tag, buf_str(&why));
	}
	buf_free(&why);
	buf_free(&js);
}

/* build - a body of the given size: header, then filler lines */
static char *
build(size_t *lenp, size_t nmx, const char *mxline, size_t pad_to)
{
	struct buf	b = BUF_INIT;
	size_t		i;

	buf_init(&b, 1 << 20);
	(void)buf_puts(&b, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
	for (i = 0; i < nmx; i++)
		(void)buf_puts(&b, mxline);
	if (pad_to > b.b_len) {
		size_t	n = pad_to - b.b_len;

		/* one extension line "x: aaaa...a\n" of exactly n bytes */
		(void)buf_puts(&b, "x: ");
		for (i = 0; i + 4 < n; i++)
			(void)buf_putc(&b, 'a');
		(void)buf_putc(&b, '\n');
	}
	*lenp = b.b_len;
	return buf_release(&b);
}

/* test_sts_policy_body_max - STS-HTTP-4: 64 KiB is fine, one more not */
static void
test_sts_policy_body_max(void)
{
	struct sts_policy	*p = NULL;
	struct buf		 why = BUF_INIT;
	char			*s;
	size_t			 len;

	s = build(&len, 1, "mx: mx.example.com\n", STS_BODY_MAX);
	CHECK_INT(len, STS_BODY_MAX);
	CHECK(sts_policy_parse(s, len, &p, NULL) == ST_OK);
	sts_policy_free(p);
	free(s);

	s = build(&len, 1, "mx: mx.example.com\n", STS_BODY_MAX + 1);
	CHECK_INT(len, STS_BODY_MAX + 1);
	CHECK(sts_policy_parse(s, len, &p, &why) == ST_INVALID);
	CHECK(p == NULL);
	CHECK(strstr(buf_str(&why), "over the limit") != NULL);
	free(s);
	buf_free(&why);
}

/* test_sts_policy_mx_max - our STS_MX_MAX limit, incl. 10,000 lines */
static void
test_sts_policy_mx_max(void)
{
	struct sts_policy	*p = NULL;
	struct buf		 why = BUF_INIT;
	char			*s;
	size_t			 len;

	s = build(&len, STS_MX_MAX, "mx:a\n", 0);
	CHECK(sts_policy_parse(s, len, &p, NULL) == ST_OK);
	CHECK(p != NULL && p->p_nmx == STS_MX_MAX);
	sts_policy_free(p);
	free(s);

	s = build(&len, STS_MX_MAX + 1, "mx:a\n", 0);
	CHECK(sts_policy_parse(s, len, &p, &why) == ST_INVALID);
	CHECK(strstr(buf_str(&why), "more than 256 mx lines") != NULL);
	free(s);

	s = build(&len, 10000, "mx:a\n", 0);		/* under 64 KiB */
	CHECK(len <= STS_BODY_MAX);
	CHECK(sts_policy_parse(s, len, &p, NULL) == ST_INVALID);
	CHECK(p == NULL);
	free(s);
	buf_free(&why);
}

/* test_sts_policy_hostile - long labels, long names, 64 KiB lines */
static void
test_sts_policy_hostile(void)
{
	struct sts_policy	*p = NULL;
	struct buf		 b = BUF_INIT;
	size_t			 i;

	/* label of 64 octets */
	(void)buf_puts(&b, V ME MA "mx: ");
	for (i = 0; i < 64; i++)
		(void)buf_putc(&b, 'a');
	(void)buf_puts(&b, ".example\n");
	CHECK(sts_policy_parse(b.b_data, b.b_len, &p, NULL) == ST_INVALID);

	/* name of 254 octets */
	buf_reset(&b);
	(void)buf_puts(&b, V ME MA "mx: ");
	for (i = 0; i < 254; i++)
		(void)buf_putc(&b, i % 40 == 39 ? '.' : 'a');
	(void)buf_putc(&b, '\n');
	CHECK(sts_policy_parse(b.b_data, b.b_len, &p, NULL) == ST_INVALID);

	/* name of 253 octets */
	buf_reset(&b);
	(void)buf_puts(&b, V ME MA "mx: ");
	for (i = 0; i < 253; i++)
		(void)buf_putc(&b, i % 40 == 39 ? '.' : 'a');
	(void)buf_putc(&b, '\n');
	CHECK(sts_policy_parse(b.b_data, b.b_len, &p, NULL) == ST_OK);
	sts_policy_free(p);

	/* one 60 KiB mx line */
	buf_reset(&b);
	(void)buf_puts(&b, V ME MA "mx: ");
	for (i = 0; i < 60000; i++)
		(void)buf_putc(&b, 'a');
	CHECK(sts_policy_parse(b.b_data, b.b_len, &p, NULL) == ST_INVALID);

	/* 60 KiB of LF after the fields: all trailing blank lines */
	buf_reset(&b);
	(void)buf_puts(&b, V ME MA MX);
	for (i = 0; i < 60000; i++)
		(void)buf_putc(&b, '\n');
	CHECK(sts_policy_parse(b.b_data, b.b_len, &p, NULL) == ST_OK);
	sts_policy_free(p);

	/* 60 KiB of CR */
	buf_reset(&b);
	(void)buf_puts(&b, V ME MA MX);
	for (i = 0; i < 60000; i++)
		(void)buf_putc(&b, '\r');
	CHECK(sts_policy_parse(b.b_data, b.b_len, &p, NULL) == ST_INVALID);
	buf_free(&b);

	CHECK(sts_policy_parse(NULL, 0, &p, NULL) == ST_INVALID);
	CHECK(sts_policy_parse(NULL, 10, &p, NULL) == ST_INVALID);
}

/* test_sts_policy_len_bounds - nothing past len is read */
static void
test_sts_policy_len_bounds(void)
{
	static const char	 body[] = V ME MX MA;
	struct sts_policy	*p = NULL;
	char			*s = malloc(sizeof(body) - 1);

	memcpy(s, body, sizeof(body) - 1);
	CHECK(sts_policy_parse(s, sizeof(body) - 1, &p, NULL) == ST_OK);
	sts_policy_free(p);
	/* cut inside "max_age: 86400\n": "max_age: 8" */
	CHECK(sts_policy_parse(s, sizeof(body) - 6, &p, NULL) == ST_OK);
	CHECK(p != NULL && p->p_max_age == 8);
	sts_policy_free(p);
	free(s);
}

/* test_sts_policy_lines_tv8460_8 - STS-POL-12: the policy-string */
static void
test_sts_policy_lines_tv8460_8(void)
{
	static const char	*want[] = {
		"version: STSv1",
		"mode: testing",
		"mx: mx1.example.com",
		"mx: mx2.example.com",
		"mx: mx.backup-example.com",
		"max_age: 604800",
	};
	static const char	*bodies[] = {
		"version: STSv1\nmode: testing\nmx: mx1.example.com\n"
		"mx: mx2.example.com\nmx: mx.backup-example.com\n"
		"max_age: 604800\n",
		"version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\n"
		"mx: mx2.example.com\r\nmx: mx.backup-example.com\r\n"
		"max_age: 604800",
	};
	struct sts_policy	*p;
	char			**lines;
	size_t			 n, i, j;

	for (j = 0; j < 2; j++) {
		p = NULL;
		CHECK(sts_policy_parse(bodies[j], strlen(bodies[j]), &p,
		    NULL) == ST_OK);
		if (p == NULL)
			continue;
		n = sts_policy_lines(p, &lines);
		CHECK_INT(n, 6);
		for (i = 0; i < n && i < 6; i++)
			CHECK_STR(lines[i], want[i]);
		for (i = 0; i < n; i++)
			free(lines[i]);
		free(lines);
		sts_policy_free(p);
	}
}

static const struct {
	const char	*text;
	size_t		 len;
	size_t		 n;
	const char	*joined;	/* lines joined with '|' */
} lines_cases[] = {
	{ S("a\nb\n"),		2,	"a|b" },
	{ S("a\nb"),		2,	"a|b" },
	{ S("a\r\nb\r\n"),	2,	"a|b" },
	{ S("a\n\n"),		2,	"a|" },		/* trailing blank kept */
	{ S("a\n\nb"),		3,	"a||b" },	/* invalid body, kept */
	{ S("a\rb\n"),		1,	"a\rb" },	/* bare CR kept */
	{ S("a\r"),		1,	"a\r" },
	{ S("\n"),		1,	"" },
	{ S(""),		0,	"" },
};

/* test_sts_text_lines - the split for invalid bodies too */
static void
test_sts_text_lines(void)
{
	struct buf	  b = BUF_INIT;
	char		**lines;
	size_t		  n, i, k;

	for (k = 0; k < sizeof(lines_cases) / sizeof(lines_cases[0]); k++) {
		buf_reset(&b);
		n = sts_text_lines(lines_cases[k].text, lines_cases[k].len,
		    &lines);
		CHECKF(n == lines_cases[k].n, "row %zu: %zu lines", k, n);
		for (i = 0; i < n; i++) {
			if (i > 0)
				(void)buf_putc(&b, '|');
			(void)buf_puts(&b, lines[i]);
			free(lines[i]);
		}
		free(lines);
		CHECKF(strcmp(buf_str(&b), lines_cases[k].joined) == 0,
		    "row %zu: \"%s\"", k, buf_str(&b));
	}
	buf_free(&b);
	CHECK(sts_policy_lines(NULL, &lines) == 0 && lines == NULL);
}

/* test_sts_policy_dup - deep copy, same JSON, independent storage */
static void
test_sts_policy_dup(void)
{
	static const char	 body[] = "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmx: *.b.example\nmax_age: 86400\n";
	struct sts_policy	*p = NULL, *q;
	struct buf		 j1 = BUF_INIT, j2 = BUF_INIT;

	CHECK(sts_policy_parse(body, sizeof(body) - 1, &p, NULL) == ST_OK);
	if (p == NULL)
		return;
	q = sts_policy_dup(p);
	sts_policy_json(p, &j1);
	sts_policy_json(q, &j2);
	/* the exact stsctl check-policy format */
	CHECK_STR(buf_str(&j1), "{\"version\":\"STSv1\",\"mode\":\"enforce\","
	    "\"mx\":[\"a.example\",\"*.b.example\"],\"max_age\":86400}");
	CHECK_STR(buf_str(&j1), buf_str(&j2));
	CHECK(q->p_mx != p->p_mx && q->p_mx[0] != p->p_mx[0]);
	CHECK(q->p_text != p->p_text && q->p_text_len == p->p_text_len &&
	    memcmp(q->p_text, p->p_text, p->p_text_len) == 0);
	sts_policy_free(p);
	buf_reset(&j2);
	sts_policy_json(q, &j2);		/* q survives p */
	CHECK_STR(buf_str(&j1), buf_str(&j2));
	sts_policy_free(q);
	CHECK(sts_policy_dup(NULL) == NULL);
	sts_policy_free(NULL);
	buf_free(&j1);
	buf_free(&j2);
}

/* test_sts_policy_mx_valid - every stored mx passes mx_pattern_check */
static void
test_sts_policy_mx_valid(void)
{
	static const char	 body[] = V ME "mx: A.EXAMPLE\nmx: *.B.Example\n"
	    MA;
	struct sts_policy	*p = NULL;
	size_t			 i;

	CHECK(sts_policy_parse(body, sizeof(body) - 1, &p, NULL) == ST_OK);
	for (i = 0; p != NULL && i < p->p_nmx; i++)
		CHECK(mx_pattern_check(p->p_mx[i], NULL) == ST_OK);
	CHECK(p != NULL && mx_match_policy(p, "x.b.example.") == 1);
	sts_policy_free(p);
}

static void
test_sts_mode_str(void)
{
	CHECK_STR(sts_mode_str(STS_MODE_NONE), "none");
	CHECK_STR(sts_mode_str(STS_MODE_TESTING), "testing");
	CHECK_STR(sts_mode_str(STS_MODE_ENFORCE), "enforce");
	CHECK_STR(sts_mode_str((enum sts_mode)42), "unknown");
}

int
main(void)
{
	RUN(test_sts_policy_parse_table);
	RUN(test_sts_policy_body_max);
	RUN(test_sts_policy_mx_max);
	RUN(test_sts_policy_hostile);
	RUN(test_sts_policy_len_bounds);
	RUN(test_sts_policy_lines_tv8460_8);
	RUN(test_sts_text_lines);
	RUN(test_sts_policy_dup);
	RUN(test_sts_policy_mx_valid);
	RUN(test_sts_mode_str);
	return harness_done("test_sts_policy");
}
