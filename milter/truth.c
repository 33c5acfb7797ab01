/*
 * truth.c - the testing-mode truth rule (see truth.h)
 */
#include <stddef.h>

#include "truth.h"

enum truth_res
truth_decide(const struct truth_host *h, size_t n, size_t *which,
    const char **why)
{
	size_t	i, j, end, first_fail;
	int	pass, fail;

	*which = 0;
	*why = "no MX host reachable";
	if (n == 0) {
		*why = "no MX host known";
		return TRUTH_UNDECIDED;
	}
	for (i = 0; i < n; i = end) {
		pass = fail = 0;
		first_fail = n;
		for (end = i; end < n && h[end].pref == h[i].pref; end++)
			;
		for (j = i; j < end; j++) {
			switch (h[j].state) {
			case TRUTH_UNKNOWN:
				*why = "MX host verdict unknown";
				return TRUTH_UNDECIDED;
			case TRUTH_PASS:
				pass++;
				break;
			case TRUTH_FAIL:
				if (fail++ == 0)
					first_fail = j;
				break;
			case TRUTH_UNREACHABLE:
				break;
			}
		}
		if (pass == 0 && fail == 0)
			continue;		/* Postfix went past it too */
		if (fail == 0)
			return TRUTH_SUCCESS;
		if (pass == 0) {
			*which = first_fail;
			return TRUTH_FAILURE;
		}
		*why = "MX hosts of equal preference disagree";
		return TRUTH_UNDECIDED;
	}
	return TRUTH_UNDECIDED;
}

const char *
truth_res_str(enum truth_res r)
{
	switch (r) {
	case TRUTH_SUCCESS:
		return "success";
	case TRUTH_FAILURE:
		return "failure";
	case TRUTH_UNDECIDED:
		break;
	}
	return "undecided";
}
