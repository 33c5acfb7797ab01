/*
 * test_fleet_conf.c - the fleet keys (fleet_conf_from, the endpoint
 * forms, node names, key building) and fleet_redis against an endpoint
 * where nothing listens: NULL at once, counted, back-off, logged once
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "fleet_conf.h"
#include "fleet_redis.h"
#include "status.h"

#include "../harness.h"

static const struct {
	const char	*in;
	enum status	 want;
	int		 is_unix;
	const char	*host;
	int		 port;
	const char	*why;		/* substring of the reason */
} endpoints[] = {
	{ "unix:/run/redis/redis.sock", ST_OK, 1, "/run/redis/redis.sock", 0, NULL },
	{ "unix:redis.sock",	ST_INVALID, 0, NULL, 0, "absolute path" },
	{ "127.0.0.1:6379",	ST_OK, 0, "127.0.0.1", 6379, NULL },
	{ "redis.example:6380",	ST_OK, 0, "redis.example", 6380, NULL },
	{ "redis.example",	ST_OK, 0, "redis.example", 6379, NULL },
	{ "[::1]:6379",		ST_OK, 0, "::1", 6379, NULL },
	{ "[::1]",		ST_OK, 0, "::1", 6379, NULL },
	{ "::1:6379",		ST_INVALID, 0, NULL, 0, "brackets" },
	{ "[]:6379",		ST_INVALID, 0, NULL, 0, "bad [address]" },
	{ "[::1]x",		ST_INVALID, 0, NULL, 0, "bad [address]" },
	{ ":6379",		ST_INVALID, 0, NULL, 0, "no host" },
	{ "h:0",		ST_INVALID, 0, NULL, 0, "bad port" },
	{ "h:65536",		ST_INVALID, 0, NULL, 0, "bad port" },
	{ "h:",			ST_INVALID, 0, NULL, 0, "bad port" },
	{ "h:63a",		ST_INVALID, 0, NULL, 0, "bad port" },
	{ "h o:1",		ST_INVALID, 0, NULL, 0, "bad host" },
};

static void
test_fleet_endpoints(void)
{
	size_t	i;

	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		struct fleet_conf	fc;
		struct buf		why = BUF_INIT;
		enum status		st;

		memset(&fc, 0, sizeof(fc));
		st = fleet_endpoint_parse(&fc, endpoints[i].in, &why);
		CHECKF(st == endpoints[i].want, "%s: %s", endpoints[i].in,
		    buf_str(&why));
		if (st == ST_OK && endpoints[i].want == ST_OK) {
			CHECK_INT(fc.is_unix, endpoints[i].is_unix);
			CHECK_STR(fc.host, endpoints[i].host);
			CHECK_INT(fc.port, endpoints[i].port);
		}
		if (endpoints[i].why != NULL)
			CHECKF(strstr(buf_str(&why), endpoints[i].why) != NULL,
			    "%s: \"%s\" lacks \"%s\"", endpoints[i].in,
			    buf_str(&why), endpoints[i].why);
		buf_free(&why);
	}
}

/* conf_with - defaults and these lines */
static struct conf *
conf_with(const char *text)
{
	struct conf	*c = conf_defaults();
	struct buf	 why = BUF_INIT;

	CHECKF(conf_parse(c, text, strlen(text), "t", &why) == ST_OK, "%s",
	    buf_str(&why));
	buf_free(&why);
	return c;
}

static const struct {
	const char	*text;
	enum status	 want;
	int		 on;
	const char	*node, *prefix;
	const char	*why;
} confs[] = {
	{ "", ST_OK, 0, "", "", NULL },
	/* single host: nothing else is checked */
	{ "fleet_node = bad name\n", ST_OK, 0, "", "", NULL },
	{ "fleet_redis = 127.0.0.1:6379\nhostname = mx1.example\n", ST_OK, 1,
	  "mx1.example", "sts:", NULL },
	{ "fleet_redis = unix:/r.sock\nfleet_node = n-1_a.b\n"
	  "fleet_prefix = acme:sts:\n", ST_OK, 1, "n-1_a.b", "acme:sts:", NULL },
	{ "fleet_redis = unix:/r.sock\nfleet_node = n1\nfleet_prefix =\n",
	  ST_OK, 1, "n1", "", NULL },
	{ "fleet_redis = unix:/r.sock\nfleet_node = a:b\n", ST_INVALID, 0,
	  NULL, NULL, "fleet_node" },
	{ "fleet_redis = unix:/r.sock\nfleet_node = "
	  "n1234567890123456789012345678901234567890123456789012345678901234\n",
	  ST_INVALID, 0, NULL, NULL, "not a node name" },
	{ "fleet_redis = unix:/r.sock\nhostname = bad/host\n", ST_INVALID, 0,
	  NULL, NULL, "set fleet_node" },
	{ "fleet_redis = unix:/r.sock\nfleet_node = n\nfleet_prefix = a b\n",
	  ST_INVALID, 0, NULL, NULL, "fleet_prefix" },
	{ "fleet_redis = unix:/r.sock\nfleet_node = n\nfleet_prefix = "
	  "p12345678901234567890123456789012345678901234567890123456789012345\n",
	  ST_INVALID, 0, NULL, NULL, "longer than" },
	{ "fleet_redis = x:y\n", ST_INVALID, 0, NULL, NULL, "bad port" },
};

static void
test_fleet_conf_from(void)
{
	size_t	i;

	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		struct conf		*c = conf_with(confs[i].text);
		struct fleet_conf	 fc;
		struct buf		 why = BUF_INIT;
		enum status		 st = fleet_conf_from(&fc, c, &why);

		CHECKF(st == confs[i].want, "row %zu: %s", i, buf_str(&why));
		if (st == ST_OK) {
			CHECK_INT(fc.on, confs[i].on);
			CHECK_STR(fc.node, confs[i].node);
			CHECK_STR(fc.prefix, confs[i].prefix);
		}
		if (confs[i].why != NULL)
			CHECKF(strstr(buf_str(&why), confs[i].why) != NULL,
			    "row %zu: \"%s\" lacks \"%s\"", i, buf_str(&why),
			    confs[i].why);
		buf_free(&why);
		conf_free(c);
	}
}

/* the defaults of the numbers, and that they reach fleet_conf */
static void
test_fleet_conf_numbers(void)
{
	struct conf		*c = conf_with("fleet_redis = h:1\nfleet_node = n\n"
				    "fleet_timeout = 2s\nfleet_redis_db = 3\n"
				    "fleet_redis_password_file = /etc/pw\n");
	struct fleet_conf	 fc;
	struct buf		 why = BUF_INIT;

	CHECK_INT(fleet_conf_from(&fc, c, &why), ST_OK);
	CHECK_INT(fc.timeout_ms, 2000);
	CHECK_INT(fc.db, 3);
	CHECK_INT(fc.budget_ms, 50);
	CHECK_INT(fc.lock_ms, 10000);
	CHECK_INT(fc.report_grace, 6 * 3600);
	CHECK_INT(fc.close_delay, 600);
	CHECK_INT(fc.retention_days, 14);
	CHECK_STR(fc.password_file, "/etc/pw");
	conf_free(c);
	c = conf_defaults();				/* below the minimum */
	CHECK_INT(conf_parse(c, "fleet_budget_ms = 0\n", 19, "t", &why),
	    ST_INVALID);
	conf_free(c);
	buf_free(&why);
}

static void
test_fleet_key(void)
{
	struct fleet_conf	fc;
	char			k[32];

	memset(&fc, 0, sizeof(fc));
	strcpy(fc.prefix, "sts:");
	CHECK_STR(fleet_key(&fc, k, sizeof(k), "pos:%s", "n1"), "sts:pos:n1");
	CHECK(fleet_key(&fc, k, 8, "pos:%s", "n1") == NULL);
	CHECK(fleet_key(&fc, k, 4, "x") == NULL);
	CHECK_STR(fleet_key(&fc, k, sizeof(k), "j:%s:%s", "2026-01-02", "n"),
	    "sts:j:2026-01-02:n");
}

/* nothing listens: every call NULL, the first one counted as an error,
 * calls within the back-off skipped without waiting */
static void
test_fleet_redis_down(void)
{
	struct fleet_conf		 fc;
	struct fleet_redis		*r;
	struct fleet_redis_stats	 st;
	struct buf			 why = BUF_INIT;
	char				 path[64], err[600];
	redisReply			*rep;

	snprintf(path, sizeof(path), "unix:/nonexistent/fleet-%ld.sock",
	    (long)getpid());
	memset(&fc, 0, sizeof(fc));
	CHECK_INT(fleet_endpoint_parse(&fc, path, &why), ST_OK);
	fc.timeout_ms = 1000;
	strcpy(fc.node, "n");
	r = fleet_redis_new(&fc, "test");
	CHECK(fleet_redis_cmd(r, 50, "PING") == NULL);
	rep = fleet_redis_cmd(r, 50, "PING");		/* in the back-off */
	CHECK(rep == NULL);
	fleet_redis_stats(r, &st);
	CHECK_INT(st.errors, 1);
	CHECK_INT(st.skipped, 1);
	CHECK_INT(st.up, 0);
	CHECK(st.down_since > 0);
	CHECK_INT(fleet_redis_generation(r), 0);
	fleet_redis_last_error(r, err, sizeof(err));
	CHECKF(strstr(err, "No such file") != NULL, "%s", err);
	usleep((FLEET_BACKOFF_MIN_MS + 20) * 1000);
	CHECK(fleet_redis_eval(r, "return 1", 50, 0, 0, NULL, NULL) == NULL);
	fleet_redis_stats(r, &st);
	CHECK_INT(st.errors, 2);
	fleet_redis_free(r);
	buf_free(&why);
}

static void
test_fleet_script_sha(void)
{
	char	sha[41];

	/* redis-cli SCRIPT LOAD "return 1" */
	fleet_script_sha("return 1", sha);
	CHECK_STR(sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

int
main(void)
{
	RUN(test_fleet_endpoints);
	RUN(test_fleet_conf_from);
	RUN(test_fleet_conf_numbers);
	RUN(test_fleet_key);
	RUN(test_fleet_redis_down);
	RUN(test_fleet_script_sha);
	return harness_done("test_fleet_conf");
}
