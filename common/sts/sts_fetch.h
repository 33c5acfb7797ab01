/*
 * sts_fetch.h - MTA-STS discovery (TXT) and policy fetch (HTTPS)
 *
 * sts_fetch_txt() looks up "_mta-sts.<domain>" and applies STS-TXT-4:
 * ST_OK with the id; ST_NOTFOUND when there is no usable record (none,
 * no v=STSv1 record, or several); ST_INVALID when the one record is
 * syntactically invalid (also "no policy" for delivery); ST_TEMPFAIL on
 * DNS trouble.
 *
 * sts_fetch_policy() resolves "mta-sts.<domain>" through our resolver,
 * pins the address into the HTTPS client and GETs
 * /.well-known/mta-sts.txt (STS-HTTP-1).  On failure *rt names the RFC
 * 8460 result type: sts-policy-fetch-error (unreachable, timeout,
 * status other than 200, redirects, oversize body), sts-webpki-invalid
 * (policy host certificate) or sts-policy-invalid (media type, grammar).
 *
 * Neither function logs; why carries one line for the caller.
 * Thread-safe if the dns handle is.
 */
#ifndef STS_FETCH_H
#define STS_FETCH_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"
#include "status.h"
#include "sts_policy.h"
#include "sts_txt.h"
#include "tlsrpt_types.h"

struct sts_fetch_opts {
	const char	*ca_file;		/* NULL or "" = system store */
	int		 connect_timeout_ms;
	int		 timeout_ms;
	size_t		 max_body;
};

enum status	sts_fetch_txt(struct dns *, const char *domain,
		    struct sts_txt *out, struct buf *why);
enum status	sts_fetch_policy(struct dns *, const struct sts_fetch_opts *,
		    const char *domain, struct sts_policy **out,
		    enum tlsrpt_result *rt, struct buf *why);
/*
 * The same without a thread waiting: sts_fetch_txt_start() asks the TXT
 * record through dns_txt_start() (dns.h), sts_fetch_policy_start() the
 * policy host's addresses through dns_addr_start() and then the policy
 * through loop (http.h).  done() is called once with what
 * sts_fetch_txt() or sts_fetch_policy() would have returned (txt is the
 * caller's during the call; policy is the callee's to keep), on the
 * DNS or HTTPS loop's thread, or on this one before the call returns
 * (no loop, or nothing to wait for).
 */
typedef void	sts_txt_done_fn(void *arg, enum status, const struct sts_txt *,
		    const char *why);
void		sts_fetch_txt_start(struct dns *, const char *domain,
		    sts_txt_done_fn *, void *arg);
struct http_loop;
typedef void	sts_fetch_done_fn(void *arg, enum status,
		    struct sts_policy *, enum tlsrpt_result, const char *why);
void		sts_fetch_policy_start(struct dns *,
		    const struct sts_fetch_opts *, const char *domain,
		    struct http_loop *, sts_fetch_done_fn *, void *arg);
/* sts_content_type_ok - STS-HTTP-3: media type text/plain, any params */
int		sts_content_type_ok(const char *ctype);

#endif
