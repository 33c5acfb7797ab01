/*
 * pmap_dane.c - what the policy map answers for a domain whose MX hosts
 * have usable TLSA records (RFC 7672), so that no reply ever switches
 * an MTA's own DANE off (STS-DANE-1, RFC 8461 2)
 *
 * SYNOPSIS
 *	#include "pmap_dane.h"
#include "pmap_reply.h"
 *
 *	int pmap_dane_reply(enum pmap_flavour fl, const char *domain,
 *	    enum dane_state st, int sts_enforce, int exim_host,
 *	    struct buf *out, enum pmap_kind *kind);
 *
 * DESCRIPTION
 *	DANE_NONE: 0, the MTA-STS reply stands.  Otherwise:
 *
 *	Postfix (postfix, postfix-tlsrpt).  A `secure` reply would
 *	replace Postfix's DANE for the domain (postfix-mta-sts-resolver
 *	#67), so a DANE domain never gets it, nor STS attributes (Postfix
 *	refuses them with a DANE level; it reports tlsa policies itself):
 *	  DANE_ALL	"OK dane-only": Postfix verifies every MX by DANE.
 *	  DANE_SOME	without an enforce policy "OK dane" (what
 *			postfix-tlspol answers: DANE where TLSA exists,
 *			opportunistic TLS elsewhere); with an enforce
 *			policy "OK dane-only": `dane` would let Postfix
 *			fall back to unauthenticated TLS on the MX hosts
 *			without TLSA, weaker than the policy; `dane-only`
 *			weakens neither (every delivery is DANE-verified)
 *			at the price of not using those hosts: mail waits
 *			in the queue if only they answer.
 *	  DANE_BOGUS,
 *	  DANE_TEMPFAIL	"TEMP <reason>": Postfix defers (a failed table
 *			lookup), never a silent downgrade to MTA-STS or
 *			to plain TLS.
 *	Sendmail (sendmail, sts).  Sendmail checks MTA-STS only for a
 *	host without TLSA (CHKMTASTS: DANE first, in the binary), so the
 *	MTA-STS reply stands for DANE_ALL and DANE_SOME (0); DANE_BOGUS and
 *	DANE_TEMPFAIL are "TEMP <reason>" (Sendmail: 4xx).
 *	Exim.  The Postfix levels in Exim's words: "dane-only" where
 *	Postfix gets "OK dane-only" (conf/exim routes it to the transport
 *	with hosts_require_dane = *), "dane" where Postfix gets "OK dane"
 *	(hosts_try_dane = *: DANE where TLSA exists, opportunistic TLS
 *	elsewhere).  Exim's DANE decides; no MTA-STS veto: the "domain
 *	host" request answers "" = connect.  DANE_BOGUS and DANE_TEMPFAIL:
 *	"temp DANE: <reason> for <domain>" (conf/exim defers the address
 *	with that text); to "domain host", a veto reason.
 *	Other flavours: 0.  Kinds: PMAP_DANE for the DANE levels and
 *	"dane", PMAP_TEMP for TEMP, "temp" and an Exim refusal,
 *	PMAP_CONNECT for Exim's "".
 *
 * SEE ALSO
 *	enforcement-anchors.md (postfix-tlspol, Sendmail CHKMTASTS, Exim
 *	DANE options), rfc-checklist.md STS-DANE-1, dane.c
 */
#include <string.h>

#include "buf.h"
#include "dane.h"
#include "pmap_dane.h"
#include "pmap_reply.h"

static const char *
pmap_dane_why(enum dane_state st)
{
	return st == DANE_BOGUS ? "DNSSEC validation failed (bogus)" :
	    "DANE lookup failed";
}

int
pmap_dane_reply(enum pmap_flavour fl, const char *domain, enum dane_state st,
    int sts_enforce, int exim_host, struct buf *out, enum pmap_kind *kind)
{
	int	defer = st == DANE_BOGUS || st == DANE_TEMPFAIL;

	if (st == DANE_NONE)
		return 0;
	*kind = defer ? PMAP_TEMP : PMAP_DANE;
	switch (fl) {
	case PMAP_POSTFIX:
	case PMAP_POSTFIX_TLSRPT:
		if (defer)
			buf_printf(out, "TEMP %s for %s", pmap_dane_why(st),
			    domain);
		else if (st == DANE_ALL || sts_enforce)
			buf_puts(out, "OK dane-only");
		else
			buf_puts(out, "OK dane");
		return 1;
	case PMAP_SENDMAIL:
		if (!defer)
			return 0;
		buf_printf(out, "TEMP %s for %s", pmap_dane_why(st), domain);
		return 1;
	case PMAP_EXIM:
		if (!exim_host && defer)
			buf_printf(out, "temp DANE: %s for %s",
			    pmap_dane_why(st), domain);
		else if (!exim_host)
			buf_puts(out, st == DANE_ALL || sts_enforce ?
			    "dane-only" : "dane");
		else if (defer)
			buf_printf(out, "DANE: %s for the domain",
			    pmap_dane_why(st));
		else
			*kind = PMAP_CONNECT;
		return 1;
	default:
		return 0;
	}
}
