/*
 * dane_query.c - ask common/net/dane.c (or one validated lookup of
 * common/net/dns.c) from the command line
 *
 * SYNOPSIS
 *	dane_query [-a TRUST_ANCHORS] [-t TIMEOUT_MS] RESOLVER DOMAIN
 *	dane_query [-a TRUST_ANCHORS] [-t TIMEOUT_MS] RESOLVER mx|addr|tlsa NAME
 *
 * DESCRIPTION
 *	RESOLVER is the dns_new() resolver list ("system" for
 *	/etc/resolv.conf); -a loads trust anchors (dns_set_trust_anchors).
 *	With a DOMAIN, prints dane_lookup()'s verdict:
 *
 *		state=<state> mx=<sec> hosts=<n> ttl=<ttl>
 *		host=<name> state=<host state> addr=<sec> tlsa=<sec> n=<usable>
 *		tlsa=<usage selector mtype hex>        (each usable record)
 *
 *	With a type and NAME, one validated lookup:
 *
 *		status=<status> sec=<sec> n=<records>
 *		<record>...
 *
 *	The exit status is 0, or 70 when the resolver or the anchors
 *	cannot be set up.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dane.h"
#include "dns.h"
#include "status.h"

static void
usage(void)
{
	fprintf(stderr, "usage: dane_query [-a anchors] [-t timeout_ms] "
	    "resolver [mx|addr|tlsa] name\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct dns		*d;
	struct dns_rrset	 rs;
	struct dane_result	 r;
	struct buf		 why = BUF_INIT;
	const char		*anchors = NULL, *res;
	enum status		 st;
	size_t			 i, j;
	int			 c, timeout = 3000;

	while ((c = getopt(argc, argv, "a:t:")) != -1) {
		switch (c) {
		case 'a':
			anchors = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 && argc != 3)
		usage();
	res = strcmp(argv[0], "system") == 0 ? NULL : argv[0];
	if ((d = dns_new(res, timeout, &why)) == NULL ||
	    (anchors != NULL && dns_set_trust_anchors(d, anchors, &why))) {
		printf("error: %s\n", buf_str(&why));
		return 70;
	}
	if (argc == 2) {
		dane_lookup(d, argv[1], &r, &why);
		printf("state=%s mx=%s hosts=%zu ttl=%u\n",
		    dane_state_str(r.state), dane_sec_str(r.mx_sec), r.nhost,
		    r.ttl);
		for (i = 0; i < r.nhost; i++) {
			printf("host=%s state=%s addr=%s tlsa=%s n=%zu\n",
			    r.host[i].name,
			    dane_host_state_str(r.host[i].state),
			    dane_sec_str(r.host[i].addr_sec),
			    dane_sec_str(r.host[i].tlsa_sec), r.host[i].ntlsa);
			for (j = 0; j < r.host[i].ntlsa; j++)
				printf("tlsa=%s\n", r.host[i].tlsa[j]);
		}
		dane_result_clear(&r);
	} else {
		/* as dane_lookup() does: is validation usable at all? */
		if (!dns_dnssec_usable(d, &why))
			printf("dnssec-unusable\n");
		buf_reset(&why);
		if (strcmp(argv[1], "mx") == 0)
			st = dns_mx_sec(d, argv[2], &rs, &why);
		else if (strcmp(argv[1], "addr") == 0)
			st = dns_addr_sec(d, argv[2], &rs, &why);
		else if (strcmp(argv[1], "tlsa") == 0)
			st = dns_tlsa(d, argv[2], &rs, &why);
		else
			usage();
		printf("status=%s sec=%s n=%zu\n", status_str(st),
		    dane_sec_str(rs.sec), rs.n);
		for (i = 0; i < rs.n; i++)
			printf("%s\n", rs.rr[i]);
		dns_rrset_clear(&rs);
	}
	if (buf_str(&why)[0] != '\0')
		printf("why: %s\n", buf_str(&why));
	buf_free(&why);
	dns_free(d);
	return 0;
}
