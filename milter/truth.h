/*
 * truth.h - what a session that Postfix reported as successful under a
 * testing-mode STS policy really was (issue 11, STS-APP-2)
 *
 * Postfix 3.10 answers a testing policy at TLS level "may": it connects
 * to the MX hosts in preference order, whether or not they match the
 * policy, and accepts any certificate; its TLS-RPT datagram then says
 * "success" and names no MX host.  What the session would have got
 * under the policy's validation is decided from the domain's MX hosts,
 * in Postfix's order, and the verdicts the daemon holds for them:
 *
 *   - hosts are taken by preference group, lowest first;
 *   - a group with a host whose verdict is unknown: undecided;
 *   - a group whose hosts were all unreachable (the probe never got to
 *     TLS): Postfix went past it too, so the next group;
 *   - the reachable hosts of the first group that has any: all pass ->
 *     success; all fail -> that failure (the first host's type and
 *     reason); some pass, some fail -> undecided (Postfix picks among
 *     equal preferences at random);
 *   - no group reachable: undecided.
 *
 * A host that matches no "mx" pattern (STS-VAL-2) fails with
 * validation-failure, mx-host-not-in-policy, without a probe.
 * "Undecided" never becomes a success.  Pure: no I/O, no logging.
 */
#ifndef TRUTH_H
#define TRUTH_H

#include <stddef.h>

#include "tlsrpt_types.h"

#define TRUTH_MAX_HOSTS	32	/* (MX host, address) pairs looked at */

enum truth_state {
	TRUTH_UNKNOWN = 0,	/* no verdict (not probed, probe timed out) */
	TRUTH_PASS,		/* validated: chain and name, STS-VAL-2/3 */
	TRUTH_FAIL,		/* a policy failure: result, reason */
	TRUTH_UNREACHABLE	/* no TLS session (refused, no address) */
};

struct truth_host {
	char			 mx[256];
	char			 ip[64];	/* "" when no address */
	unsigned		 pref;		/* MX preference */
	enum truth_state	 state;
	enum tlsrpt_result	 result;	/* TRUTH_FAIL */
	char			 reason[128];	/* TRUTH_FAIL */
};

enum truth_res {
	TRUTH_SUCCESS,		/* the success stands */
	TRUTH_FAILURE,		/* hosts[*which] is what the session got */
	TRUTH_UNDECIDED		/* not known: claim no success */
};

/*
 * truth_decide - the rule above over hosts[0..n) (in MX preference
 * order); *which is the failing host for TRUTH_FAILURE, *why one line
 * for TRUTH_UNDECIDED (static text).
 */
enum truth_res	 truth_decide(const struct truth_host *hosts, size_t n,
		    size_t *which, const char **why);
const char	*truth_res_str(enum truth_res);

#endif
