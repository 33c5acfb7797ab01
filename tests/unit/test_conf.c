/*
 * test_conf.c - the configuration reader: defaults, units, errors that
 * name file and line, and the sample file listing every key
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "harness.h"

static void
test_conf_defaults(void)
{
	struct conf	*c = conf_defaults();

	CHECK_STR(c->state_dir, "/var/lib/sts-milter");
	CHECK_STR(c->dns_resolvers, "");
	CHECK_INT(c->smtp_probe_port, 25);
	CHECK_INT(c->fetch_backoff, 300);
	CHECK_INT(c->policy_max_size, 65536);
	CHECK_STR(c->milter_socket, "unix:/run/sts-milter/milter.sock");
	CHECK_STR(c->report_smtp, "localhost:25");
	conf_free(c);
}

static const struct {
	const char	*text;
	int		 ok;
	const char	*why;		/* substring of the error */
} rows[] = {
	{ "state_dir = /tmp/x\n", 1, NULL },
	{ "  # comment\n\nsmtp_probe_port=2525\r\n", 1, NULL },
	{ "fetch_timeout = 30s\nnegative_ttl = 2h\nrefresh_interval = 1d\n", 1, NULL },
	{ "policy_max_size = 128k\n", 1, NULL },
	{ "policymap_tempfail = yes\n", 1, NULL },
	{ "no_such_key = 1\n", 0, "t.conf:1: unknown key \"no_such_key\"" },
	{ "\nsmtp_probe_port = 0\n", 0, "t.conf:2: smtp_probe_port: 0 out of range" },
	{ "fetch_timeout = 10x\n", 0, "t.conf:1: fetch_timeout: bad duration" },
	{ "fetch_backoff = 60s\n", 0, "fetch_backoff: 60 out of range" },
	{ "state_dir\n", 0, "t.conf:1: expected \"key = value\"" },
	{ "state_dir = a\nstate_dir = b\n", 0, "t.conf:2: state_dir: repeated key" },
	{ "policymap_tempfail = maybe\n", 0, "expected yes or no" },
	{ "smtp_probe_port = 99999999999999999999\n", 0, "bad number" },
	{ "socket_mode = 0600\n", 1, NULL },
	{ "socket_mode = 660\n", 1, NULL },
	{ "socket_mode = 0680\n", 0, "socket_mode: bad octal mode" },
	{ "socket_mode = 01777\n", 0, "socket_mode: 1777 out of range 0000..0777" },
	{ "socket_mode = rw\n", 0, "socket_mode: bad octal mode" },
};

static void
test_conf_rows(void)
{
	struct buf	 why = BUF_INIT;
	struct conf	*c;
	size_t		 i;
	enum status	 st;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		c = conf_defaults();
		buf_reset(&why);
		st = conf_parse(c, rows[i].text, strlen(rows[i].text), "t.conf",
		    &why);
		CHECKF((st == ST_OK) == rows[i].ok, "row %zu: %s", i,
		    buf_str(&why));
		if (rows[i].why)
			CHECKF(strstr(buf_str(&why), rows[i].why) != NULL,
			    "row %zu: got \"%s\"", i, buf_str(&why));
		conf_free(c);
	}
	c = conf_defaults();
	CHECK_INT(conf_parse(c, "fetch_timeout = 30s\nnegative_ttl = 2h\n",
	    38, "t", &why), ST_OK);
	CHECK_INT(c->fetch_timeout, 30);
	CHECK_INT(c->negative_ttl, 7200);
	conf_free(c);
	/* socket_mode is octal, default 0660, and printed as such */
	c = conf_defaults();
	CHECK_INT(c->socket_mode, 0660);
	CHECK_INT(conf_parse(c, "socket_mode = 0666\n", 19, "t", &why), ST_OK);
	CHECK_INT(c->socket_mode, 0666);
	conf_free(c);
	buf_free(&why);
}

static void
test_conf_load(void)
{
	struct buf	 why = BUF_INIT;
	struct conf	*c;

	c = conf_load("/nonexistent/sts.conf", &why);
	CHECK(c == NULL);
	CHECK(strstr(buf_str(&why), "/nonexistent/sts.conf") != NULL);
	buf_free(&why);
}

/* every key of the table is documented in conf/sts-milter.conf */
static void
test_conf_sample_lists_every_key(void)
{
	const struct conf_key	*k;
	struct buf		 why = BUF_INIT;
	struct conf		*c;
	FILE			*f = fopen("conf/sts-milter.conf", "r");
	char			 line[512], *text = NULL;
	size_t			 len = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		text = realloc(text, len + strlen(line) + 1);
		memcpy(text + len, line, strlen(line) + 1);
		len += strlen(line);
	}
	fclose(f);
	for (k = conf_keys; k->name != NULL; k++) {
		char want[128];

		snprintf(want, sizeof(want), "\n#%s = ", k->name);
		CHECKF(strstr(text, want) != NULL, "sample lacks \"%s\"",
		    k->name);
		snprintf(want, sizeof(want), "\n#%s = %s\n", k->name, k->def);
		CHECKF(strstr(text, want) != NULL, "sample default of %s is "
		    "not \"%s\"", k->name, k->def);
	}
	/* And the sample itself, uncommented, parses. */
	c = conf_defaults();
	CHECK_INT(conf_parse(c, text, len, "sample", &why), ST_OK);
	conf_free(c);
	free(text);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_conf_defaults);
	RUN(test_conf_rows);
	RUN(test_conf_load);
	RUN(test_conf_sample_lists_every_key);
	return harness_done("test_conf");
}
