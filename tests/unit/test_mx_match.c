/*
 * test_mx_match.c - RFC 8461 section 4.1 matching and mx pattern syntax
 *
 * Rows M-1 .. M-5 come from rfc-checklist.md 5.3, TV-8461-5 and
 * TV-8461-7 from 5.1; P-14 and P-15 pattern rows from 5.3.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mx_match.h"
#include "status.h"
#include "sts_policy.h"

#include "../harness.h"

static const struct {
	const char	*pattern;
	const char	*host;
	int		 want;
} match_cases[] = {
	/* M-1, TV-8461-5, STS-VAL-2: one left-most label only */
	{ "*.example.com",	"mail.example.com",		1 },
	{ "*.example.com",	"example.com",			0 },
	{ "*.example.com",	"foo.bar.example.com",		0 },
	/* M-3: case-insensitive */
	{ "mail.example.com",	"MAIL.Example.COM",		1 },
	{ "*.example.com",	"MX1.EXAMPLE.COM",		1 },
	{ "MAIL.EXAMPLE.COM",	"mail.example.com",		1 },
	/* M-4: one trailing dot on the host is ignored */
	{ "mail.example.com",	"mail.example.com.",		1 },
	{ "*.example.com",	"mail.example.com.",		1 },
	{ "mail.example.com",	"mail.example.com..",		0 },
	{ "mail.example.com.",	"mail.example.com",		0 },
	/* M-5: suffix tricks */
	{ "*.example.net",	"a.example.net.evil.test",	0 },
	{ "*.example.net",	"aexample.net",			0 },
	{ "*.example.net",	"a.bexample.net",		0 },
	{ "example.net",	"xexample.net",			0 },
	{ "example.net",	"example.ne",			0 },
	{ "mail.example.com",	"mail.example.com.evil",	0 },
	/* pattern "*" alone, "*." and partial wildcards never match */
	{ "*",			"example.com",			0 },
	{ "*",			"com",				0 },
	{ "*.",			"a.",				0 },
	{ "*example.com",	"mailexample.com",		0 },
	{ "mail.*.example.com",	"mail.a.example.com",		0 },
	{ "*.*.example.com",	"a.b.example.com",		0 },
	/* empty or malformed hosts never match */
	{ "*.example.com",	"",				0 },
	{ "*.example.com",	".example.com",			0 },
	{ "*.example.com",	"_x.example.com",		0 },
	{ "*.example.com",	"*.example.com",		0 },
	{ "*.example.com",	"-a.example.com",		0 },
	{ "*.example.com",	".",				0 },
	{ "example.com",	"",				0 },
	{ "",			"",				0 },
	{ "",			"example.com",			0 },
	/* literal patterns are exact names */
	{ "mail.example.com",	"mail.example.com",		1 },
	{ "mail.example.com",	"mx.mail.example.com",		0 },
	{ "localhost",		"LOCALHOST.",			1 },
	{ "xn--bcher-kva.example", "XN--BCHER-KVA.example",	1 },
	/* non-ASCII host (a U-label) never matches */
	{ "*.example",		"b\xc3\xbc" "cher.example",	0 },
};

static void
test_mx_match_table(void)
{
	size_t	i;
	int	got;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		got = mx_match(match_cases[i].pattern, match_cases[i].host);
		CHECKF(got == match_cases[i].want, "row %zu: \"%s\" vs \"%s\""
		    " = %d", i, match_cases[i].pattern, match_cases[i].host,
		    got);
	}
	CHECK(mx_match(NULL, "example.com") == 0);
	CHECK(mx_match("example.com", NULL) == 0);
	CHECK(mx_match(NULL, NULL) == 0);
}

/* test_mx_match_policy_tv8461_7 - M-2 against the Appendix A policy */
static void
test_mx_match_policy_tv8461_7(void)
{
	static const char	 body[] =
	    "version: STSv1\n"
	    "mode: testing\n"
	    "mx: mx1.example.com\n"
	    "mx: mx2.example.com\n"
	    "mx: mx.backup-example.com\n"
	    "max_age: 1296000\n";
	struct sts_policy	*p = NULL;

	CHECK(sts_policy_parse(body, sizeof(body) - 1, &p, NULL) == ST_OK);
	if (p == NULL)
		return;
	CHECK(mx_match_policy(p, "mx1.example.com") == 1);	/* M-2 */
	CHECK(mx_match_policy(p, "mx.backup-example.com") == 1);
	CHECK(mx_match_policy(p, "mx3.example.com") == 0);
	CHECK(mx_match_policy(p, "MX2.EXAMPLE.COM.") == 1);
	CHECK(mx_match_policy(p, "") == 0);
	CHECK(mx_match_policy(NULL, "mx1.example.com") == 0);
	sts_policy_free(p);
}

/* test_mx_match_policy_none - mode none with no mx matches nothing */
static void
test_mx_match_policy_none(void)
{
	static const char	 body[] =
	    "version: STSv1\nmode: none\nmax_age: 86400\n";
	struct sts_policy	*p = NULL;

	CHECK(sts_policy_parse(body, sizeof(body) - 1, &p, NULL) == ST_OK);
	CHECK(mx_match_policy(p, "mx1.example.com") == 0);
	sts_policy_free(p);
}

static const struct {
	const char	*pattern;
	enum status	 want;
	const char	*why;		/* substring of the reason */
} pattern_cases[] = {
	{ "mail.example.com",		ST_OK,		NULL },
	{ "*.example.net",		ST_OK,		NULL },
	{ "MAIL.EXAMPLE.COM",		ST_OK,		NULL },
	{ "localhost",			ST_OK,		NULL },	/* one label */
	{ "*.com",			ST_OK,		NULL },
	{ "192.0.2.1",			ST_OK,		NULL },	/* ABNF Domain */
	/* P-15, STS-POL-11 */
	{ "xn--bcher-kva.example",	ST_OK,		NULL },
	{ "b\xc3\xbc" "cher.example",	ST_INVALID,	"not an A-label" },
	/* P-14, STS-POL-10: each of these is invalid */
	{ "*example.net",		ST_INVALID,	"wildcard" },
	{ "mail.*.example.net",		ST_INVALID,	"wildcard" },
	{ "*",				ST_INVALID,	"wildcard" },
	{ "mail.example.com.",		ST_INVALID,	"trailing dot" },
	{ "_mx.example.com",		ST_INVALID,	"'_'" },
	{ "[192.0.2.1]",		ST_INVALID,	"address literal" },
	/* more hostile shapes */
	{ "*.",				ST_INVALID,	"nothing after" },
	{ "**.example.com",		ST_INVALID,	"wildcard" },
	{ "*.*.example.com",		ST_INVALID,	"wildcard" },
	{ "*.example.*",		ST_INVALID,	"wildcard" },
	{ ".example.com",		ST_INVALID,	"empty label" },
	{ "*..example.com",		ST_INVALID,	"empty label" },
	{ "-mx.example.com",		ST_INVALID,	"begins with '-'" },
	{ "mx-.example.com",		ST_INVALID,	"ends with '-'" },
	{ "mx example.com",		ST_INVALID,	"\\x20" },
	{ "mx.example.com\r",		ST_INVALID,	"\\x0d" },
	{ "",				ST_INVALID,	"empty" },
};

static void
test_mx_pattern_check_table(void)
{
	struct buf	why = BUF_INIT;
	enum status	st;
	size_t		i;

	for (i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]);
	    i++) {
		buf_reset(&why);
		st = mx_pattern_check(pattern_cases[i].pattern, &why);
		CHECKF(st == pattern_cases[i].want, "row %zu \"%s\": %s (%s)",
		    i, pattern_cases[i].pattern, status_str(st),
		    buf_str(&why));
		if (pattern_cases[i].why != NULL)
			CHECKF(strstr(buf_str(&why), pattern_cases[i].why) !=
			    NULL, "row %zu: reason \"%s\"", i, buf_str(&why));
		if (st == ST_OK)
			CHECKF(why.b_len == 0, "row %zu: reason on success", i);
	}
	CHECK(mx_pattern_check(NULL, NULL) == ST_INVALID);
	buf_free(&why);
}

/* test_mx_pattern_check_lengths - labels > 63, names > 253 */
static void
test_mx_pattern_check_lengths(void)
{
	char	s[600];
	size_t	i;

	memset(s, 'a', sizeof(s));
	memcpy(s, "*.", 2);
	memcpy(s + 2 + 63, ".example", 9);		/* 63-octet label */
	CHECK(mx_pattern_check(s, NULL) == ST_OK);
	memset(s, 'a', sizeof(s));
	memcpy(s + 2 + 64, ".example", 9);		/* 64-octet label */
	memcpy(s, "*.", 2);
	CHECK(mx_pattern_check(s, NULL) == ST_INVALID);

	/* "*." + 253 octets of Domain is fine; 254 is not */
	for (i = 0; i < 253; i++)
		s[2 + i] = (i % 50 == 49) ? '.' : 'b';
	s[2 + 253] = '\0';
	CHECK(mx_pattern_check(s, NULL) == ST_OK);
	CHECK(mx_match(s, "x.") == 0);
	s[2 + 253] = 'c';
	s[2 + 254] = '\0';
	CHECK(mx_pattern_check(s, NULL) == ST_INVALID);
}

static const struct {
	const char	*host;
	enum status	 want;
} host_cases[] = {
	{ "mx1.example.com",	ST_OK },
	{ "mx1.example.com.",	ST_OK },	/* resolver output */
	{ "MX1.Example.COM",	ST_OK },
	{ "mx1.example.com..",	ST_INVALID },
	{ ".",			ST_INVALID },
	{ "",			ST_INVALID },
	{ "*.example.com",	ST_INVALID },
	{ "mx_1.example.com",	ST_INVALID },
	{ "[192.0.2.1]",	ST_INVALID },
	{ "mx\xc3\xa9.example",	ST_INVALID },
};

static void
test_mx_host_check_table(void)
{
	size_t	i;

	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++)
		CHECKF(mx_host_check(host_cases[i].host, NULL) ==
		    host_cases[i].want, "row %zu \"%s\"", i,
		    host_cases[i].host);
	CHECK(mx_host_check(NULL, NULL) == ST_INVALID);
}

int
main(void)
{
	RUN(test_mx_match_table);
	RUN(test_mx_match_policy_tv8461_7);
	RUN(test_mx_match_policy_none);
	RUN(test_mx_pattern_check_table);
	RUN(test_mx_pattern_check_lengths);
	RUN(test_mx_host_check_table);
	return harness_done("test_mx_match");
}
