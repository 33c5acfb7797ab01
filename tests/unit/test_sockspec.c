/*
 * test_sockspec.c - sockspec_parse(): every form the config takes
 */
#include <sys/socket.h>

#include <string.h>

#include "buf.h"
#include "sockspec.h"
#include "status.h"

#include "../harness.h"

static const struct {
	const char		*in;
	enum status		 want;
	enum sockspec_kind	 kind;
	int			 family;
	const char		*path_or_host;
	const char		*port;
	const char		*why;		/* substring of the reason */
} cases[] = {
	{ "unix:/run/sts-milter/milter.sock", ST_OK, SOCKSPEC_UNIX, 0,
	  "/run/sts-milter/milter.sock", NULL, NULL },
	{ "local:/tmp/x.sock",	ST_OK, SOCKSPEC_UNIX, 0, "/tmp/x.sock", NULL, NULL },
	{ "/tmp/y.sock",	ST_OK, SOCKSPEC_UNIX, 0, "/tmp/y.sock", NULL, NULL },
	{ "unix:relative.sock",	ST_INVALID, 0, 0, NULL, NULL, "absolute path" },
	{ "inet:10025@127.0.0.1", ST_OK, SOCKSPEC_INET, AF_INET, "127.0.0.1",
	  "10025", NULL },
	{ "inet:127.0.0.1:9469", ST_OK, SOCKSPEC_INET, AF_INET, "127.0.0.1",
	  "9469", NULL },
	{ "inet:8891",		ST_OK, SOCKSPEC_INET, AF_INET, "", "8891", NULL },
	{ "inet6:25@::1",	ST_OK, SOCKSPEC_INET, AF_INET6, "::1", "25", NULL },
	{ "inet:[::1]:25",	ST_OK, SOCKSPEC_INET, AF_INET6, "::1", "25", NULL },
	{ "inet:25@::1",	ST_OK, SOCKSPEC_INET, AF_INET6, "::1", "25", NULL },
	{ "inet:localhost:x",	ST_INVALID, 0, 0, NULL, NULL, "bad port" },
	{ "inet:@127.0.0.1",	ST_INVALID, 0, 0, NULL, NULL, "bad port" },
	{ "inet:0@127.0.0.1",	ST_INVALID, 0, 0, NULL, NULL, "out of range" },
	{ "inet:65536@127.0.0.1", ST_INVALID, 0, 0, NULL, NULL, "out of range" },
	{ "inet:1234567@h",	ST_INVALID, 0, 0, NULL, NULL, "bad port" },
	{ "tcp:25@h",		ST_INVALID, 0, 0, NULL, NULL, "expected unix:" },
	{ "",			ST_INVALID, 0, 0, NULL, NULL, "no socket" },
};

static void
test_sockspec_table(void)
{
	struct sockspec	s;
	struct buf	why = BUF_INIT;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&why);
		CHECKF(sockspec_parse(cases[i].in, &s, &why) == cases[i].want,
		    "%s", cases[i].in);
		if (cases[i].want != ST_OK) {
			CHECKF(strstr(buf_str(&why), cases[i].why) != NULL,
			    "%s: %s", cases[i].in, buf_str(&why));
			continue;
		}
		CHECKF(s.kind == cases[i].kind, "%s", cases[i].in);
		if (s.kind == SOCKSPEC_UNIX) {
			CHECK_STR(s.path, cases[i].path_or_host);
			continue;
		}
		CHECKF(s.family == cases[i].family, "%s", cases[i].in);
		CHECK_STR(s.host, cases[i].path_or_host);
		CHECK_STR(s.port, cases[i].port);
	}
	buf_free(&why);
}

static void
test_sockspec_long_path(void)
{
	char		spec[200];
	struct sockspec	s;

	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	memcpy(spec, "unix:/", 6);
	CHECK(sockspec_parse(spec, &s, NULL) == ST_INVALID);
}

int
main(void)
{
	RUN(test_sockspec_table);
	RUN(test_sockspec_long_path);
	return harness_done("test_sockspec");
}
