/*
 * test_domain.c - domain_normalize() and domain_syntax()
 *
 * One table row per input.  Rows quote the rfc-checklist.md rule they
 * exercise; "why" rows also check the reason text.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "domain.h"
#include "status.h"

#include "../harness.h"

/* rep - a string of n copies of c (caller frees) */
static char *
rep(char c, size_t n)
{
	char	*s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* name_of - labels of lab octets joined by '.', total length exactly n */
static char *
name_of(size_t n, size_t lab, int trailing_dot)
{
	char	*s = malloc(n + 2);
	size_t	 i;

	for (i = 0; i < n; i++)
		s[i] = (i + 1) % (lab + 1) == 0 ? '.' : 'a';
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = 'b';
	if (trailing_dot)
		s[n++] = '.';
	s[n] = '\0';
	return s;
}

static const struct {
	const char	*in;
	enum status	 want;
	const char	*out;		/* on ST_OK */
	const char	*why;		/* substring of the reason, or NULL */
} norm_cases[] = {
	{ "example.com",		ST_OK,	"example.com",	NULL },
	/* STS-PD-5: lower case, one trailing dot stripped */
	{ "Example.COM.",		ST_OK,	"example.com",	NULL },
	{ "MAIL.Example.Com",		ST_OK,	"mail.example.com", NULL },
	{ "example.com..",		ST_INVALID, NULL,	"trailing dot" },
	{ "localhost",			ST_OK,	"localhost",	NULL },
	{ "xn--bcher-kva.example",	ST_OK,	"xn--bcher-kva.example", NULL },
	{ "a-b.example",		ST_OK,	"a-b.example",	NULL },
	{ "3com.example",		ST_OK,	"3com.example",	NULL },
	/* STS-PD-4: address literals */
	{ "[192.0.2.1]",		ST_INVALID, NULL,	"address literal" },
	{ "[IPv6:2001:db8::1]",		ST_INVALID, NULL,	"address literal" },
	{ "192.0.2.1",			ST_INVALID, NULL,	"address literal" },
	{ "192.0.2.1.",			ST_INVALID, NULL,	"address literal" },
	{ "127.1",			ST_INVALID, NULL,	"address literal" },
	{ "2130706433",			ST_INVALID, NULL,	"address literal" },
	{ "2001:db8::1",		ST_INVALID, NULL,	"address literal" },
	{ "::1",			ST_INVALID, NULL,	"address literal" },
	{ "example.123",		ST_INVALID, NULL,	"all-numeric" },
	{ "1.2.3.4.5",			ST_INVALID, NULL,	"address literal" },
	/* STS-PD-5: A-labels only, no IDNA here */
	{ "b\xc3\xbc" "cher.example",	ST_INVALID, NULL,	"not an A-label domain" },
	{ "\xff.example",		ST_INVALID, NULL,	"not an A-label domain" },
	/* LDH */
	{ "_mta-sts.example.com",	ST_INVALID, NULL,	"'_'" },
	{ "a_b.example",		ST_INVALID, NULL,	"'_'" },
	{ "-a.example",			ST_INVALID, NULL,	"begins with '-'" },
	{ "a-.example",			ST_INVALID, NULL,	"ends with '-'" },
	{ "a..example",			ST_INVALID, NULL,	"empty label" },
	{ ".example",			ST_INVALID, NULL,	"empty label" },
	{ "",				ST_INVALID, NULL,	"empty" },
	{ ".",				ST_INVALID, NULL,	"empty" },
	{ "exa mple.com",		ST_INVALID, NULL,	"\\x20" },
	{ "example.com\r",		ST_INVALID, NULL,	"\\x0d" },
	{ "ex\tample.com",		ST_INVALID, NULL,	"\\x09" },
	{ "*.example.com",		ST_INVALID, NULL,	"'*'" },
	{ "user@example.com",		ST_INVALID, NULL,	"'@'" },
};

static void
test_domain_normalize_table(void)
{
	struct buf	why = BUF_INIT;
	char		out[DOMAIN_MAX + 1];
	enum status	st;
	size_t		i;

	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		buf_reset(&why);
		memset(out, 'x', sizeof(out));
		st = domain_normalize(norm_cases[i].in, out, &why);
		CHECKF(st == norm_cases[i].want, "row %zu \"%s\": %s (%s)",
		    i, norm_cases[i].in, status_str(st), buf_str(&why));
		if (norm_cases[i].out != NULL)
			CHECKF(strcmp(out, norm_cases[i].out) == 0,
			    "row %zu: got \"%s\"", i, out);
		if (st != ST_OK) {
			CHECKF(out[0] == '\0', "row %zu: out not cleared", i);
			CHECKF(why.b_len > 0 &&
			    strchr(buf_str(&why), '\n') == NULL,
			    "row %zu: reason not one line", i);
		}
		if (norm_cases[i].why != NULL)
			CHECKF(strstr(buf_str(&why), norm_cases[i].why) !=
			    NULL, "row %zu: reason \"%s\"", i, buf_str(&why));
	}
	buf_free(&why);
}

/* test_domain_normalize_lengths - 63-octet labels, 253-octet names */
static void
test_domain_normalize_lengths(void)
{
	struct buf	 why = BUF_INIT;
	char		 out[DOMAIN_MAX + 1], *s, *l;

	l = rep('a', 63);
	s = malloc(80);
	snprintf(s, 80, "%s.example", l);
	CHECK(domain_normalize(s, out, NULL) == ST_OK);
	CHECK_STR(out, s);
	free(s);
	free(l);

	l = rep('a', 64);				/* label > 63 */
	s = malloc(80);
	snprintf(s, 80, "%s.example", l);
	CHECK(domain_normalize(s, out, &why) == ST_INVALID);
	CHECK(strstr(buf_str(&why), "label longer than 63") != NULL);
	free(s);
	free(l);

	s = name_of(253, 63, 0);			/* exactly 253 */
	CHECK_INT(strlen(s), 253);
	CHECK(domain_normalize(s, out, NULL) == ST_OK);
	CHECK_INT(strlen(out), 253);
	free(s);

	s = name_of(253, 63, 1);			/* 253 + root dot */
	CHECK(domain_normalize(s, out, NULL) == ST_OK);
	CHECK_INT(strlen(out), 253);
	free(s);

	buf_reset(&why);
	s = name_of(254, 63, 0);			/* name > 253 */
	CHECK(domain_normalize(s, out, &why) == ST_INVALID);
	CHECK(strstr(buf_str(&why), "longer than 253") != NULL);
	free(s);

	s = name_of(100000, 20, 0);			/* hostile length */
	CHECK(domain_normalize(s, out, NULL) == ST_INVALID);
	free(s);
	buf_free(&why);
}

static const struct {
	const char	*name;
	size_t		 len;		/* 0: strlen */
	enum status	 want;
} syntax_cases[] = {
	{ "example.com",	0,	ST_OK },
	{ "EXAMPLE.com",	0,	ST_OK },	/* case is kept, not checked */
	{ "a",			0,	ST_OK },	/* RFC 5321: one label */
	{ "192.0.2.1",		0,	ST_OK },	/* ABNF-valid */
	{ "example.com.",	0,	ST_INVALID },	/* no trailing dot */
	{ "exa\0mple.com",	12,	ST_INVALID },	/* NUL inside */
	{ "example.com\0",	12,	ST_INVALID },
	{ "example.comXYZ",	11,	ST_OK },	/* len bounds the read */
	{ "[192.0.2.1]",	0,	ST_INVALID },
	{ "ex_ample.com",	0,	ST_INVALID },
	{ "",			0,	ST_INVALID },
};

static void
test_domain_syntax_table(void)
{
	size_t	i, len;

	for (i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
		len = syntax_cases[i].len ? syntax_cases[i].len :
		    strlen(syntax_cases[i].name);
		CHECKF(domain_syntax(syntax_cases[i].name, len, NULL) ==
		    syntax_cases[i].want, "row %zu", i);
	}
	CHECK(domain_syntax(NULL, 0, NULL) == ST_INVALID);
}

/* test_domain_normalize_null - NULL input is refused, not a crash */
static void
test_domain_normalize_null(void)
{
	char	out[DOMAIN_MAX + 1];

	CHECK(domain_normalize(NULL, out, NULL) == ST_INVALID);
	CHECK_STR(out, "");
}

int
main(void)
{
	RUN(test_domain_normalize_table);
	RUN(test_domain_normalize_lengths);
	RUN(test_domain_syntax_table);
	RUN(test_domain_normalize_null);
	return harness_done("test_domain");
}
