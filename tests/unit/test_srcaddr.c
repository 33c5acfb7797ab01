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

int
main(void)
{
	RUN(test_srcaddr_rows);
	return harness_done("test_srcaddr");
}
