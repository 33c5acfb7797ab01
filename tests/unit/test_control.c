/*
 * test_control.c - the daemon's answers to stsctl's requests: a flush of
 * one domain and of all forgets memory and disk, a name that is not a
 * domain (a path, say) is refused, anything else is unknown
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "fakes.h"
#include "harness.h"
#include "sts_cache.h"

static const char *POL =
    "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";

static char	dir[64];

static struct sts_cache *
filled(void)
{
	struct sts_cache_opts	 o;
	struct sts_cache	*c;
	struct sts_lookup	 l;
	const char		*d[] = { "example.com", "example.net" };
	size_t			 i;

	fake_dns_reset();
	fake_http_reset();
	fake_clock_set(1700000000);
	fake_cache_opts(&o, dir);
	c = sts_cache_new(&o);
	for (i = 0; i < 2; i++) {
		char	txt[64], host[64], url[128];

		snprintf(txt, sizeof(txt), "_mta-sts.%s", d[i]);
		snprintf(host, sizeof(host), "mta-sts.%s", d[i]);
		snprintf(url, sizeof(url),
		    "https://mta-sts.%s/.well-known/mta-sts.txt", d[i]);
		fake_dns_set("TXT", txt, ST_OK, "v=STSv1; id=A1", NULL);
		fake_dns_set("A", host, ST_OK, "192.0.2.1", NULL);
		fake_http_set(url, 200, "text/plain", POL, HTTP_FAIL_NONE);
		CHECK_INT(sts_cache_lookup(c, d[i], 0, &l), ST_OK);
		sts_lookup_clear(&l);
	}
	CHECK_INT(sts_cache_size(c), 2);
	return c;
}

static int
on_disk(const char *domain)
{
	char	path[256];

	snprintf(path, sizeof(path), "%s/cache/%s", dir, domain);
	return access(path, F_OK) == 0;
}

static void
test_control_flush_table(void)
{
	static const struct {
		const char	*req, *reply;
		size_t		 left;		/* entries in memory after */
	} t[] = {
		{ "cache-flush example.com", "flushed 1", 1 },
		{ "cache-flush EXAMPLE.com.", "flushed 1", 1 },	/* normalised */
		{ "cache-flush other.example", "flushed 0", 2 },
		{ "cache-flush", "flushed 2", 0 },
		{ "cache-flush ../../etc/passwd", "error ", 2 },
		{ "cache-flush ", "error ", 2 },
		{ "cache-flush  example.com", "error ", 2 },
		{ "cache-flushexample.com", "error unknown request", 2 },
		{ "", "error unknown request", 2 },
		{ "reload", "error unknown request", 2 },
	};
	struct sts_cache	*c;
	struct buf		 reply = BUF_INIT;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c = filled();
		buf_reset(&reply);
		control_answer(c, t[i].req, &reply);
		CHECKF(strncmp(buf_str(&reply), t[i].reply,
		    strlen(t[i].reply)) == 0, "row %zu: %s", i,
		    buf_str(&reply));
		CHECKF(sts_cache_size(c) == t[i].left, "row %zu: %zu", i,
		    sts_cache_size(c));
		CHECKF(on_disk("example.com") + on_disk("example.net") ==
		    (int)t[i].left, "row %zu", i);
		sts_cache_free(c);
		c = filled();			/* put back what a row removed */
		sts_cache_free(c);
	}
	c = filled();
	control_answer(c, "cache-flush", &reply);
	sts_cache_free(c);
	buf_free(&reply);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_control.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_control_flush_table);
	{
		char	p[128];

		snprintf(p, sizeof(p), "%s/cache", dir);
		(void)rmdir(p);
	}
	(void)rmdir(dir);
	return harness_done("test_control");
}
