/*
 * test_override.c - the per-domain override map
 */
#include <string.h>

#include "harness.h"
#include "override.h"

static void
test_override_lookup(void)
{
	const char	*text =
	    "# comment\n"
	    "broken.example   skip\n"
	    "Strict.Example   enforce   # trailing comment\n"
	    ".lab.example     testing\n"
	    "a.lab.example    skip\n";
	struct override	*o;
	struct buf	 why = BUF_INIT;

	CHECK_INT(override_parse(text, strlen(text), "ov", &o, &why), ST_OK);
	CHECK_INT(override_lookup(o, "broken.example"), OVERRIDE_SKIP);
	CHECK_INT(override_lookup(o, "strict.example"), OVERRIDE_ENFORCE);
	CHECK_INT(override_lookup(o, "x.strict.example"), OVERRIDE_NONE);
	CHECK_INT(override_lookup(o, "b.lab.example"), OVERRIDE_TESTING);
	CHECK_INT(override_lookup(o, "c.b.lab.example"), OVERRIDE_TESTING);
	CHECK_INT(override_lookup(o, "lab.example"), OVERRIDE_NONE);
	CHECK_INT(override_lookup(o, "a.lab.example"), OVERRIDE_SKIP);
	CHECK_INT(override_lookup(o, "other.example"), OVERRIDE_NONE);
	CHECK_STR(override_str(OVERRIDE_TESTING), "testing");
	override_free(o);
	CHECK_INT(override_lookup(NULL, "x.example"), OVERRIDE_NONE);
	buf_free(&why);
}

static const struct {
	const char	*text;
	const char	*why;
} bad[] = {
	{ "example.com\n", "ov:1: expected" },
	{ "example.com skip extra\n", "ov:1: expected" },
	{ "\nexample.com allow\n", "ov:2: unknown action \"allow\"" },
	{ "[192.0.2.1] skip\n", "ov:1: [192.0.2.1]" },
	{ "exa_mple.com skip\n", "ov:1:" },
};

static void
test_override_errors(void)
{
	struct override	*o;
	struct buf	 why = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&why);
		CHECKF(override_parse(bad[i].text, strlen(bad[i].text), "ov", &o,
		    &why) == ST_INVALID, "row %zu", i);
		CHECKF(o == NULL, "row %zu", i);
		CHECKF(strstr(buf_str(&why), bad[i].why) != NULL,
		    "row %zu: \"%s\"", i, buf_str(&why));
	}
	CHECK_INT(override_load("/nonexistent/ov", &o, &why), ST_NOTFOUND);
	CHECK_INT(override_load("", &o, &why), ST_OK);
	CHECK_INT(override_lookup(o, "a.example"), OVERRIDE_NONE);
	override_free(o);
	buf_free(&why);
}

int
main(void)
{
	RUN(test_override_lookup);
	RUN(test_override_errors);
	return harness_done("test_override");
}
