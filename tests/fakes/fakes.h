/*
 * fakes.h - programmable stand-ins for the DNS, HTTP and clock seams
 *
 * Unit tests link these instead of common/net/dns.c, common/net/http.c and
 * common/util/clock.c.  Each fake answers from a table the test fills and
 * counts the calls it served, so a test can assert "no network I/O".
 */
#ifndef FAKES_H
#define FAKES_H

#include <time.h>

#include "dns.h"
#include "http.h"
#include "status.h"
#include "sts_cache.h"
#include "tlsrpt_types.h"

void	fake_clock_set(time_t);
void	fake_clock_advance(time_t);

/* fake_dns_set - answer (type, name) with st and n records (NULL-ended
 * list); type is "TXT", "MX" (records "pref host"), "A" */
void	fake_dns_set(const char *type, const char *name, enum status st,
	    ...);
/* fake_dns_set_sec - what validated lookups (dns_mx_sec, dns_addr_sec,
 * dns_tlsa: type "TLSA") of an entry set before report; default insecure */
void	fake_dns_set_sec(const char *type, const char *name, enum dns_sec);
/* fake_dns_set_cname - the entry's answer came through a CNAME chain
 * ending at target (dns_rrset.cname) */
void	fake_dns_set_cname(const char *type, const char *name,
	    const char *target);
/* fake_dns_delay_ms - every lookup sleeps this long (reset: 0) */
void	fake_dns_delay_ms(int);
void	fake_dns_reset(void);
/* fake_dns_dnssec_unusable - dns_dnssec_usable() says 0 (1) or 1 (0) */
void	fake_dns_dnssec_unusable(int);
int	fake_dns_calls(void);

/* fake_http_set - answer url with an HTTP response, or with fail */
void	fake_http_set(const char *url, long status, const char *ctype,
	    const char *body, enum http_fail fail);
/* fake_http_set_n - the same with a body of blen bytes (NULs too) */
void	fake_http_set_n(const char *url, long status, const char *ctype,
	    const char *body, size_t blen, enum http_fail fail);
void	fake_http_reset(void);
int	fake_http_calls(void);
/* fake_http_delay_ms - every request sleeps this long (coalescing tests) */
void	fake_http_delay_ms(int);

/* fake_tls_probe_set - answer probes of host at ip: ST_OK with result
 * (TLSRPT_SUCCESS or the policy failure) and reason, or a failed probe:
 * ST_TEMPFAIL (transient) or ST_INTERNAL with reason.  Unlisted: refused */
void	fake_tls_probe_set(const char *host, const char *ip, enum status st,
	    enum tlsrpt_result result, const char *reason);
void	fake_tls_probe_reset(void);
int	fake_tls_probe_calls(void);
/* fake_tls_probe_delay_ms - every probe takes this long (at most the
 * caller's total_timeout_ms, then it is a connect-timeout) */
void	fake_tls_probe_delay_ms(int);

/* fake_sts_domain - domain publishes "v=STSv1; id=ID" and body (policy
 * host at 192.0.2.1) */
void	fake_sts_domain(const char *domain, const char *id, const char *body);
/* fake_sts_policy - domain with a policy (id p1, max_age 86400) of mode
 * with the one MX pattern */
void	fake_sts_policy(const char *domain, const char *mode,
	    const char *pattern);
/* fake_sts_mx - domain with a policy (id p1) of mode for pattern, its
 * one MX host mx, at ip, and what a probe of it finds */
void	fake_sts_mx(const char *domain, const char *mode, const char *pattern,
	    const char *mx, const char *ip, enum tlsrpt_result result,
	    const char *reason);
/* fake_sts_one_mx - fake_sts_mx with mx its own pattern */
void	fake_sts_one_mx(const char *domain, const char *mode, const char *mx,
	    const char *ip, enum tlsrpt_result result, const char *reason);

/* a DANE-EE (3 1 1) TLSA record */
#define FAKE_DANE_EE	"3 1 1 0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef"
/* fake_dane_addr - host's address (192.0.2.1) answered with st, the
 * answer validated as sec */
void	fake_dane_addr(const char *host, enum status st, enum dns_sec sec);
/* fake_dane_tlsa - the TLSA records rr1 and rr2 (NULL: fewer) of host
 * (at _25._tcp.host) answered with st, the answer validated as sec */
void	fake_dane_tlsa(const char *host, enum status st, enum dns_sec sec,
	    const char *rr1, const char *rr2);
/* fake_dane_domain - domain with one MX host mx, both secure, and its
 * DANE-EE TLSA record (FAKE_DANE_EE) validated as tlsa_sec */
void	fake_dane_domain(const char *domain, const char *mx,
	    enum dns_sec tlsa_sec);
/* fake_cache_opts - the options the tests share (state_dir may be NULL:
 * memory only); change what a test needs after */
void	fake_cache_opts(struct sts_cache_opts *, const char *state_dir);
/* fake_dir_entries - how many names dir holds besides . and .. (-1: it
 * cannot be read) */
int	fake_dir_entries(const char *dir);
/* fake_rm_rf - remove a test's directory under /tmp */
void	fake_rm_rf(const char *dir);

#endif
