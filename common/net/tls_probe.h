/*
 * tls_probe.h - STARTTLS probe of one MX address (RFC 8461 section 4.2)
 *
 * tls_probe() connects to ip:port, reads the greeting, sends EHLO,
 * STARTTLS, does a TLS (1.2 or later, STS-VAL-5) handshake with SNI set
 * to mx_host (STS-VAL-4), verifies the certificate chain against
 * ca_file (or the system store) and the host name against SAN dNSName
 * entries only, a wildcard matching one whole left-most label
 * (STS-VAL-3), then says QUIT.  The outcome is one RFC 8460 result
 * type in out->result, with a failure-reason-code in out->reason.
 *
 * Status:
 *	ST_OK		the probe completed; out->result is TLSRPT_SUCCESS
 *			or the policy failure (starttls-not-supported,
 *			certificate-*, validation-failure).
 *	ST_TEMPFAIL	transient (RFC 8460 section 4.3.4): connect refused
 *			or timed out, 4xx/5xx greeting, malformed or
 *			oversized replies, a step or total deadline hit.
 *			out->transient is 1, out->result is
 *			TLSRPT_VALIDATION_FAILURE, out->reason says why.
 *	ST_INVALID	bad arguments (ip not numeric, bad host names).
 *	ST_INTERNAL	our side: TLS context, ca_file, local_addr bind.
 *
 * out is always filled in (zeroed first).  why (may be NULL) gets one
 * line on any status other than ST_OK.  Never logs.
 *
 * Blocking: every step (connect, each reply, handshake) has a deadline
 * of opts->timeout_ms, and the whole call one of total_timeout_ms.  The
 * socket is non-blocking and all waits are poll(); QUIT is best effort
 * with a short deadline.
 *
 * Thread safety: safe; each call builds its own SSL_CTX.  The caller
 * must ignore SIGPIPE (TLS writes go through OpenSSL's socket BIO).
 */
#ifndef TLS_PROBE_H
#define TLS_PROBE_H

#include "buf.h"
#include "status.h"
#include "tlsrpt_types.h"

#define TLS_PROBE_PORT		25
#define TLS_PROBE_TIMEOUT_MS	10000	/* per step, when opts say <= 0 */
#define TLS_PROBE_TOTAL_MS	30000	/* whole call, when opts say <= 0 */

struct tls_probe_opts {
	const char	*helo_name;	/* EHLO argument; NULL = "localhost" */
	const char	*ca_file;	/* NULL or "" = system store */
	int		 port;		/* <= 0: 25 */
	int		 timeout_ms;	/* per step; <= 0: default */
	int		 total_timeout_ms; /* whole probe; <= 0: default */
	const char	*local_addr;	/* numeric source address, or NULL */
	/* DANE (RFC 7672): usable TLSA records "usage selector mtype hex"
	 * of the host; ntlsa > 0 verifies by them instead of WebPKI:
	 * DANE-EE(3) checks no name and no dates, DANE-TA(2) the chain to
	 * the TA and the MX name; no match is tlsa-invalid (RFC 8460
	 * 4.3.2), failure-reason-code X509_V_ERR_DANE_NO_MATCH; none of
	 * them usable is tlsa-invalid "no usable TLSA record" */
	const char *const *tlsa;
	size_t		 ntlsa;
	/* with tlsa: the host's secure CNAME expansion, a reference
	 * identifier for DANE-TA beside the host name (RFC 7672 3.2.2) */
	const char	*dane_cname;
};

struct tls_probe_result {
	enum tlsrpt_result result;	/* TLSRPT_SUCCESS or a failure type */
	char	reason[128];		/* failure-reason-code; "" on success */
	char	mx_host[256];		/* receiving-mx-hostname */
	char	receiving_ip[64];	/* RFC 5952 text for IPv6 */
	char	sending_ip[64];		/* our end of the socket */
	char	helo[256];		/* receiving-mx-helo (EHLO reply) */
	char	banner[256];		/* first greeting line */
	char	tls_version[16];	/* e.g. "TLSv1.3", once handshaken */
	char	cipher[64];
	int	transient;		/* 1: not a policy failure */
	int	dane;			/* 1: verified by TLSA (opts->ntlsa) */
};

/* tls_probe - probe mx_host at ip; opts may be NULL (all defaults) */
enum status	tls_probe(const char *mx_host, const char *ip,
		    const struct tls_probe_opts *opts,
		    struct tls_probe_result *out, struct buf *why);
/* tls_probe_json - append the result as one JSON object */
void		tls_probe_json(const struct tls_probe_result *, struct buf *);

#endif
