/*
 * test_srcaddr.c - our address towards a peer (the sending-mta-ip of a
 * record whose connection was never made)
 */
#include <string.h>

#include "harness.h"
#include "srcaddr.h"

static void
test_srcaddr_rows(void)
{
	static const struct {
		const char	*ip;
		int		 rc;
		const char	*want;	/* NULL: any address of the family */
	} rows[] = {
		{ "127.0.0.1", 0, "127.0.0.1" },
		{ "127.0.1.22", 0, "127.0.0.1" },	/* the loopback route */
		{ "mx.example.com", -1, "" },		/* numeric only */
		{ "", -1, "" },
		{ "127.0.0.1:25", -1, "" },
	};
	char	out[64];
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(out, 'x', sizeof(out));
		CHECKF(srcaddr_for(rows[i].ip, out, sizeof(out)) == rows[i].rc,
		    "row %zu (%s)", i, rows[i].ip);
		CHECKF(strcmp(out, rows[i].want) == 0, "row %zu: got \"%s\"",
		    i, out);
	}
	CHECK(srcaddr_for("127.0.0.1", out, 4) == -1);	/* no room */
	CHECK(srcaddr_for(NULL, out, sizeof(out)) == -1);
	/* IPv6 loopback, where the host has one (the lab's ::1 MX hosts) */
	if (srcaddr_for("::1", out, sizeof(out)) == 0)
		CHECK_STR(out, "::1");
}

/* probe_bind_address: one IPv4 and/or one IPv6 literal */
static void
test_srcaddr_bind_parse(void)
{
	static const struct {
		const char	*spec;
		enum status	 st;
		const char	*v4, *v6;	/* ST_OK: the split */
		const char	*why;		/* ST_INVALID: in the reason */
	} rows[] = {
		{ "", ST_OK, "", "", NULL },
		{ "   ", ST_OK, "", "", NULL },
		{ "127.0.20.2", ST_OK, "127.0.20.2", "", NULL },
		{ "2001:db8::25", ST_OK, "", "2001:db8::25", NULL },
		{ "192.0.2.1 2001:db8::1", ST_OK, "192.0.2.1", "2001:db8::1", NULL },
		{ "2001:db8::1,192.0.2.1", ST_OK, "192.0.2.1", "2001:db8::1", NULL },
		{ " 192.0.2.1 , 2001:DB8:0:0:0:0:0:1 ", ST_OK, "192.0.2.1", "2001:db8::1", NULL },
		{ "::ffff:192.0.2.1", ST_OK, "", "::ffff:192.0.2.1", NULL },
		{ "192.0.2.1 192.0.2.2", ST_INVALID, NULL, NULL, "a second IPv4" },
		{ "::1 2001:db8::1", ST_INVALID, NULL, NULL, "a second IPv6" },
		{ "mx.example.com", ST_INVALID, NULL, NULL, "not a numeric" },
		{ "192.0.2.1:25", ST_INVALID, NULL, NULL, "not a numeric" },
		{ "[2001:db8::1]", ST_INVALID, NULL, NULL, "not a numeric" },
		{ "fe80::1%eth0", ST_INVALID, NULL, NULL, "not a numeric" },
		{ "192.0.2", ST_INVALID, NULL, NULL, "not a numeric" },
		{ "0.0.0.0", ST_INVALID, NULL, NULL, "not a unicast" },
		{ "::", ST_INVALID, NULL, NULL, "not a unicast" },
		{ "224.0.0.1", ST_INVALID, NULL, NULL, "not a unicast" },
		{ "ff02::1", ST_INVALID, NULL, NULL, "not a unicast" },
		{ "255.255.255.255", ST_INVALID, NULL, NULL, "not a unicast" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999", ST_INVALID, NULL, NULL, "not a numeric" },
		{ "2001:db8::1 x", ST_INVALID, NULL, NULL, "x: not a numeric" },
	};
	struct srcaddr_bind	b;
	struct buf		why = BUF_INIT;
	size_t			i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_reset(&why);
		memset(&b, 'x', sizeof(b));
		CHECKF(srcaddr_bind_parse(rows[i].spec, &b, &why) ==
		    rows[i].st, "row %zu (%s): %s", i, rows[i].spec,
		    buf_str(&why));
		if (rows[i].st == ST_OK) {
			CHECKF(strcmp(b.v4, rows[i].v4) == 0 &&
			    strcmp(b.v6, rows[i].v6) == 0,
			    "row %zu: \"%s\" \"%s\"", i, b.v4, b.v6);
		} else {
			CHECKF(strstr(buf_str(&why), rows[i].why) != NULL,
			    "row %zu: why \"%s\"", i, buf_str(&why));
			CHECKF(b.v4[0] == '\0' && b.v6[0] == '\0',
			    "row %zu: emptied", i);
		}
	}
	CHECK(srcaddr_bind_parse(NULL, &b, &why) == ST_OK && b.v4[0] == '\0');
	buf_free(&why);
}

/* the bound address of the peer's family; else the kernel's choice */
static void
test_srcaddr_bind_pick(void)
{
	static const struct {
		const char	*spec, *ip, *want;	/* want NULL: none */
	} rows[] = {
		{ "127.0.20.2 ::1", "127.0.1.1", "127.0.20.2" },
		{ "127.0.20.2 ::1", "::1", "::1" },
		{ "127.0.20.2", "2001:db8::25", NULL },
		{ "2001:db8::1", "192.0.2.25", NULL },
		{ "", "192.0.2.25", NULL },
		{ "127.0.20.2", "mx.example", NULL },
		{ "127.0.20.2", "", NULL },
	};
	struct srcaddr_bind	b;
	struct buf		why = BUF_INIT;
	const char		*got;
	size_t			i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK(srcaddr_bind_parse(rows[i].spec, &b, &why) == ST_OK);
		got = srcaddr_bind_pick(&b, rows[i].ip);
		CHECKF(rows[i].want == NULL ? got == NULL : got != NULL &&
		    strcmp(got, rows[i].want) == 0, "row %zu: %s", i,
		    got ? got : "(null)");
	}
	CHECK(srcaddr_bind_pick(NULL, "127.0.0.1") == NULL);
	buf_free(&why);
}

/* srcaddr_for_bound: what the probe bound to that address would use */
static void
test_srcaddr_for_bound(void)
{
	struct srcaddr_bind	b;
	struct buf		why = BUF_INIT;
	char			out[64];

	CHECK(srcaddr_bind_parse("127.0.20.2", &b, &why) == ST_OK);
	CHECK(srcaddr_for_bound(&b, "127.0.1.1", out, sizeof(out)) == 0);
	CHECK_STR(out, "127.0.20.2");			/* not 127.0.0.1 */
	CHECK(srcaddr_for_bound(NULL, "127.0.1.1", out, sizeof(out)) == 0);
	CHECK_STR(out, "127.0.0.1");
	/* an address of no interface cannot be bound: unknown */
	CHECK(srcaddr_bind_parse("192.0.2.77", &b, &why) == ST_OK);
	CHECK(srcaddr_for_bound(&b, "127.0.1.1", out, sizeof(out)) == -1);
	CHECK_STR(out, "");
	buf_free(&why);
}

int
main(void)
{
	RUN(test_srcaddr_rows);
	RUN(test_srcaddr_bind_parse);
	RUN(test_srcaddr_bind_pick);
	RUN(test_srcaddr_for_bound);
	return harness_done("test_srcaddr");
}
