/*
 * exim_event.h - one TLS outcome reported by Exim's event_action
 * (conf/exim/sts-milter.conf, STS_TLSRPT_EVENTS), parsed and classified
 * as an RFC 8460 result
 *
 * Exim has no TLS-RPT of its own.  The fragment's transports ask
 * ${readsocket} with a line "exim-tlsrpt KEY=VALUE ..." at tcp:close
 * (one per SMTP connection: the session) and at smtp:ehlo when the
 * server offers no STARTTLS; the daemon makes "veto=1" events itself
 * (exim_event_veto) when it tells Exim not to connect to an MX host.  Keys (unknown ones are
 * ignored, values have no spaces, any may be empty):
 *	domain	the recipient domain ($domain): required
 *	mx	the MX host name ($host)
 *	ip	its address ($host_address)
 *	sip	the sending address ($sending_ip_address)
 *	tls	the cipher ($tls_out_cipher): empty = no TLS session
 *	verified  $tls_out_certificate_verified (0 or 1)
 *	notafter  the leaf certificate's notAfter, seconds since the epoch
 *	san	the subjectAltNames that could cover mx, comma-separated
 *		("DNS=mx.example" or "DNS=*.example"; the fragment sends no
 *		others, so the line stays short and holds nothing the
 *		server chose freely)
 *	dns	"yes" if the certificate has any DNS name at all
 *	dane	"yes": verified by DANE (not an MTA-STS session: ignored)
 *	conn	the TCP connection ("sip.sport-rip.rport"): the same
 *		session reported twice (after STARTTLS, then at close) is
 *		journaled once
 *	starttls  "no": the EHLO reply offered no STARTTLS
 *	veto	"1": the MX host matches no pattern of the enforce policy
 * A key given twice makes the line invalid.
 *
 * Classification (first that applies), for a policy domain:
 *	veto=1              validation-failure, mx-host-not-in-policy
 *	starttls=no         starttls-not-supported
 *	a certificate (notafter or san) and it was not verified, or its
 *	    DNS names do not cover mx: expired (notafter < now) ->
 *	    certificate-expired; no DNS name covers mx ->
 *	    certificate-host-mismatch; else certificate-not-trusted
 *	    (reason chain-not-verified)
 *	tls set and verified=1 (and the names cover mx)  success
 *	anything else: ST_NOTFOUND (no TLS outcome: a connection that
 *	    failed before STARTTLS is not a TLS session, as in Postfix)
 * With no_policy set (the domain has no MTA-STS policy) only the
 * session's TLS counts: success when tls is set, starttls-not-supported
 * as above, certificate problems are not failures.
 *
 * Pure: no I/O.  Reading and classifying are apart, so a caller that
 * learns from the domain whether there is a policy reads the line once.
 * ST_INVALID (one line in why) for a line that is not
 * KEY=VALUE words, a bad domain, or a value with control characters.
 */
#ifndef EXIM_EVENT_H
#define EXIM_EVENT_H

#include <time.h>

#include "buf.h"
#include "status.h"
#include "tlsrpt_types.h"

#define EXIM_EVENT_MAX	4096	/* bytes of one line */

struct exim_event {
	char			domain[256];	/* normalised */
	char			mx[256];
	char			ip[64];
	char			sip[64];
	char			conn[192];
	/* what Exim saw, as read (exim_event_read) */
	char			tls[128], verified[4], san[2048];
	char			dns[8], dane[8], starttls[8], veto[4];
	int			have_notafter;
	long long		notafter;
	/* the classification (exim_event_classify) */
	enum tlsrpt_result	result;
	char			reason[64];	/* failure-reason-code */
};

/* exim_event_read - the fields of one line: ST_OK or ST_INVALID */
enum status	exim_event_read(const char *line, struct exim_event *,
		    struct buf *why);
/* exim_event_veto - the event of an MX host the daemon told Exim not
 * to connect to (veto=1) at address ip (NULL or "": not known): ST_OK,
 * or ST_INVALID for a domain or host that is not a name or an address
 * that does not fit (as exim_event_read would judge them) */
enum status	exim_event_veto(struct exim_event *, const char *domain,
		    const char *mx, const char *ip, struct buf *why);
/* exim_event_classify - result and reason of what was read: ST_OK, or
 * ST_NOTFOUND (no TLS outcome to report) */
enum status	exim_event_classify(struct exim_event *, time_t now,
		    int no_policy);
/* exim_event_classify_dane - the same for a connection to an MX host
 * with usable TLSA (RFC 7672: DANE decides, policy type tlsa): success
 * when Exim verified it by DANE, starttls-not-supported, tlsa-invalid
 * when a certificate was seen or TLS was up without DANE verification;
 * ST_NOTFOUND when there is no TLS outcome (a connection that failed
 * before STARTTLS) */
enum status	exim_event_classify_dane(struct exim_event *);
/* exim_event_parse - read, then classify */
enum status	exim_event_parse(const char *line, time_t now, int no_policy,
		    struct exim_event *, struct buf *why);

#endif
