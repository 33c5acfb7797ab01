/*
 * test_truth.c - the testing-mode truth rule (truth.h, issue 11,
 * STS-APP-2): a session Postfix reported as successful under a testing
 * policy counts as a success only if the MX host it most likely used
 * would have passed the policy's validation.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "truth.h"

/* one row: hosts as "pref:state" letters, P pass, F fail, U unknown,
 * X unreachable; the expected result and failing host */
struct row {
	const char	*hosts;		/* e.g. "10P 20F" */
	enum truth_res	 want;
	int		 which;		/* TRUTH_FAILURE: index */
	const char	*why;		/* TRUTH_UNDECIDED */
};

static const struct row rows[] = {
	{ "10P", TRUTH_SUCCESS, 0, NULL },
	{ "10F", TRUTH_FAILURE, 0, NULL },		/* wrong-name MX */
	{ "10U", TRUTH_UNDECIDED, 0, "MX host verdict unknown" },
	{ "10X", TRUTH_UNDECIDED, 0, "no MX host reachable" },
	{ "", TRUTH_UNDECIDED, 0, "no MX host known" },
	/* preference order: the first reachable group decides */
	{ "10F 20P", TRUTH_FAILURE, 0, NULL },	/* Postfix used the first */
	{ "10P 20F", TRUTH_SUCCESS, 0, NULL },
	{ "10X 20P", TRUTH_SUCCESS, 0, NULL },	/* first one down */
	{ "10X 20F", TRUTH_FAILURE, 1, NULL },
	{ "10X 10X 20F 30P", TRUTH_FAILURE, 2, NULL },
	{ "10U 20P", TRUTH_UNDECIDED, 0, "MX host verdict unknown" },
	{ "10P 20U", TRUTH_SUCCESS, 0, NULL },	/* never reached */
	/* equal preferences: Postfix picks at random */
	{ "10P 10P", TRUTH_SUCCESS, 0, NULL },
	{ "10F 10F", TRUTH_FAILURE, 0, NULL },
	{ "10X 10F 10F", TRUTH_FAILURE, 1, NULL },
	{ "10P 10F", TRUTH_UNDECIDED, 0,
	    "MX hosts of equal preference disagree" },
	{ "10P 10X", TRUTH_SUCCESS, 0, NULL },
	{ "10P 10U", TRUTH_UNDECIDED, 0, "MX host verdict unknown" },
};

static size_t
parse(const char *s, struct truth_host *h)
{
	size_t	n = 0;
	char	*end;

	while (*s) {
		memset(&h[n], 0, sizeof(h[n]));
		h[n].pref = (unsigned)strtoul(s, &end, 10);
		switch (*end) {
		case 'P': h[n].state = TRUTH_PASS; break;
		case 'F':
			h[n].state = TRUTH_FAIL;
			h[n].result = TLSRPT_CERTIFICATE_HOST_MISMATCH;
			break;
		case 'U': h[n].state = TRUTH_UNKNOWN; break;
		default: h[n].state = TRUTH_UNREACHABLE; break;
		}
		n++;
		s = end + 1;
		while (*s == ' ')
			s++;
	}
	return n;
}

static void
test_truth_table(void)
{
	struct truth_host	h[TRUTH_MAX_HOSTS];
	const char		*why;
	size_t			 i, n, which;
	enum truth_res		 r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = parse(rows[i].hosts, h);
		r = truth_decide(h, n, &which, &why);
		CHECKF(r == rows[i].want, "row %zu \"%s\": %s", i,
		    rows[i].hosts, truth_res_str(r));
		if (r == TRUTH_FAILURE && rows[i].want == TRUTH_FAILURE)
			CHECKF(which == (size_t)rows[i].which,
			    "row %zu: host %zu", i, which);
		if (r == TRUTH_UNDECIDED && rows[i].why)
			CHECKF(strcmp(why, rows[i].why) == 0,
			    "row %zu: \"%s\"", i, why);
	}
}

int
main(void)
{
	RUN(test_truth_table);
	return harness_done("test_truth");
}
