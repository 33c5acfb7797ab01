/*
 * test_stsctl_table.c - stsctl's tables for a person: cells taken from
 * the JSON lines by dotted path, and the aligned rendering
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "stsctl_table.h"

static const char *const doc =
    "{\"day\":\"2026-11-01\",\"domain\":\"a.example\",\"final\":false,"
    "\"sessions\":{\"success\":3,\"failure\":1},\"none\":null,"
    "\"text\":\"a\\u001b[31mb\\nc\","
    "\"destinations\":[{\"uri\":\"mailto:r@a.example\",\"state\":"
    "\"delivered\"},{\"uri\":\"https://r.a.example/x\",\"state\":"
    "\"pending\",\"next\":\"2026-11-02T03:05:00Z\"}],"
    "\"policy\":{\"mx\":[\"mx1.a.example\",\"*.a.example\"],\"max_age\":86400}}";

static const struct {
	const char	*path, *want;
} cell_cases[] = {
	{ "day",			"2026-11-01" },
	{ "sessions.success",		"3" },
	{ "sessions.failure",		"1" },
	{ "final",			"false" },
	{ "destinations.uri",		"mailto:r@a.example,https://r.a.example/x" },
	{ "destinations.state",		"delivered,pending" },
	{ "destinations.next",		"2026-11-02T03:05:00Z" },
	{ "policy.mx",			"mx1.a.example,*.a.example" },
	{ "policy.max_age",		"86400" },
	{ "none",			"-" },		/* null */
	{ "missing",			"-" },
	{ "sessions.missing",		"-" },
	{ "day.deeper",			"-" },		/* not an object */
	{ "text",			"a?[31mb?c" },	/* no escapes */
};

static void
test_stsctl_table_cell(void)
{
	struct json_object	*o = json_tokener_parse(doc);
	struct buf		 b = BUF_INIT;
	size_t			 i;

	CHECK(o != NULL);
	for (i = 0; i < sizeof(cell_cases) / sizeof(cell_cases[0]); i++) {
		buf_reset(&b);
		stsctl_table_cell(o, cell_cases[i].path, &b);
		CHECKF(strcmp(buf_str(&b), cell_cases[i].want) == 0,
		    "row %zu: %s: \"%s\"", i, cell_cases[i].path, buf_str(&b));
	}
	json_object_put(o);
	buf_free(&b);
}

static void
test_stsctl_table_render(void)
{
	char		*cells[] = {
		"DOMAIN", "COUNT", "MX",
		"a.example", "12", "mx1.a.example",
		"bücher.example", "3", "-",
		"b", "", "x",
	};
	struct buf	 b = BUF_INIT;

	stsctl_table_render(cells, 4, 3, &b);
	CHECK_STR(buf_str(&b),
	    "DOMAIN          COUNT  MX\n"
	    "a.example       12     mx1.a.example\n"
	    "bücher.example  3      -\n"
	    "b                      x\n");
	buf_reset(&b);
	stsctl_table_render(cells, 1, 3, &b);	/* titles only */
	CHECK_STR(buf_str(&b), "DOMAIN  COUNT  MX\n");
	buf_free(&b);
}

static void
test_stsctl_out_setup(void)
{
	char	*argv[] = { "deferrals", "--json", "--since", "2026-11-01",
	    "--json", NULL };
	int	 argc;

	argc = stsctl_out_setup(5, argv);
	CHECK_INT(argc, 3);
	CHECK_STR(argv[1], "--since");
	CHECK_STR(argv[2], "2026-11-01");
	CHECK(argv[3] == NULL);
	CHECK_INT(stsctl_out_table(), 0);	/* --json */
}

int
main(void)
{
	RUN(test_stsctl_table_cell);
	RUN(test_stsctl_table_render);
	RUN(test_stsctl_out_setup);
	return harness_done("test_stsctl_table");
}
