/*
 * test_pmap_dane.c - the policy map under DANE, every flavour and state
 * (STS-DANE-1: no reply that switches the MTA's DANE off for a domain
 * whose MX hosts have usable TLSA; bogus never downgrades)
 */
#include <string.h>

#include "buf.h"
#include "dane.h"
#include "pmap_dane.h"
#include "pmap_reply.h"

#include "../harness.h"

static const struct {
	enum pmap_flavour name;
	enum dane_state	 st;
	int		 enforce, host;
	int		 decided;
	const char	*want;		/* NULL: the MTA-STS reply stands */
} cases[] = {
	/* Postfix: never secure for a DANE domain */
	{ PMAP_POSTFIX, DANE_ALL, 0, 0, 1, "OK dane-only" },
	{ PMAP_POSTFIX, DANE_ALL, 1, 0, 1, "OK dane-only" },
	{ PMAP_POSTFIX, DANE_SOME, 0, 0, 1, "OK dane" },
	{ PMAP_POSTFIX, DANE_SOME, 1, 0, 1, "OK dane-only" },	/* weakens neither */
	{ PMAP_POSTFIX, DANE_BOGUS, 1, 0, 1, "TEMP DNSSEC validation failed (bogus) for d.test" },
	{ PMAP_POSTFIX, DANE_BOGUS, 0, 0, 1, "TEMP DNSSEC validation failed (bogus) for d.test" },
	{ PMAP_POSTFIX, DANE_TEMPFAIL, 0, 0, 1, "TEMP DANE lookup failed for d.test" },
	{ PMAP_POSTFIX, DANE_NONE, 1, 0, 0, NULL },
	{ PMAP_POSTFIX_TLSRPT, DANE_ALL, 1, 0, 1, "OK dane-only" },	/* no STS attributes */
	{ PMAP_POSTFIX_TLSRPT, DANE_SOME, 0, 0, 1, "OK dane" },
	{ PMAP_POSTFIX_TLSRPT, DANE_BOGUS, 0, 0, 1, "TEMP DNSSEC validation failed (bogus) for d.test" },
	{ PMAP_POSTFIX_TLSRPT, DANE_NONE, 0, 0, 0, NULL },
	/* Sendmail: its binary puts DANE first (CHKMTASTS) */
	{ PMAP_SENDMAIL, DANE_ALL, 1, 0, 0, NULL },
	{ PMAP_SENDMAIL, DANE_SOME, 1, 0, 0, NULL },
	{ PMAP_SENDMAIL, DANE_ALL, 0, 0, 0, NULL },
	{ PMAP_SENDMAIL, DANE_BOGUS, 1, 0, 1, "TEMP DNSSEC validation failed (bogus) for d.test" },
	{ PMAP_SENDMAIL, DANE_TEMPFAIL, 0, 0, 1, "TEMP DANE lookup failed for d.test" },
	{ PMAP_SENDMAIL, DANE_NONE, 1, 0, 0, NULL },
	/* Exim */
	{ PMAP_EXIM, DANE_ALL, 1, 0, 1, "dane-only" },
	{ PMAP_EXIM, DANE_ALL, 0, 0, 1, "dane-only" },
	{ PMAP_EXIM, DANE_SOME, 0, 0, 1, "dane" },
	{ PMAP_EXIM, DANE_SOME, 1, 0, 1, "dane-only" },	/* as Postfix */
	{ PMAP_EXIM, DANE_BOGUS, 0, 0, 1, "temp DANE: DNSSEC validation failed (bogus) for d.test" },
	{ PMAP_EXIM, DANE_TEMPFAIL, 1, 0, 1, "temp DANE: DANE lookup failed for d.test" },
	{ PMAP_EXIM, DANE_ALL, 1, 1, 1, "" },			/* no MTA-STS veto */
	{ PMAP_EXIM, DANE_BOGUS, 1, 1, 1, "DANE: DNSSEC validation failed (bogus) for the domain" },
	{ PMAP_EXIM, DANE_NONE, 1, 1, 0, NULL },
	/* other flavours: the caller's reply */
	{ PMAP_UNKNOWN, DANE_ALL, 0, 0, 0, NULL },
	{ PMAP_EXIM_TLSRPT, DANE_ALL, 0, 0, 0, NULL },
};

static void
test_pmap_dane_table(void)
{
	struct buf	out = BUF_INIT;
	enum pmap_kind	kind;
	size_t		i;
	int		d;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		kind = PMAP_PERM;
		d = pmap_dane_reply(cases[i].name, "d.test", cases[i].st,
		    cases[i].enforce, cases[i].host, &out, &kind);
		if (d)
			CHECKF(kind == (strncmp(buf_str(&out), "TEMP", 4) == 0 ||
			    strncmp(buf_str(&out), "temp ", 5) == 0 ||
			    strncmp(buf_str(&out), "DANE:", 5) == 0 ? PMAP_TEMP :
			    buf_str(&out)[0] == '\0' ? PMAP_CONNECT : PMAP_DANE),
			    "row %zu: kind %s", i, pmap_reply_kind_name(kind));
		CHECKF(d == cases[i].decided, "row %zu: decided %d", i, d);
		if (cases[i].want != NULL)
			CHECKF(strcmp(buf_str(&out), cases[i].want) == 0,
			    "row %zu: \"%s\"", i, buf_str(&out));
		else
			CHECKF(buf_str(&out)[0] == '\0', "row %zu: \"%s\"", i,
			    buf_str(&out));
	}
	buf_free(&out);
}

/* STS-DANE-1 as a property: over every state but NONE, no Postfix
 * reply is "secure" or carries STS attributes, and no Exim reply routes
 * the domain to the MTA-STS transport ("enforce", "testing"). */
static void
test_pmap_dane_never_secure(void)
{
	static const enum pmap_flavour names[] = { PMAP_POSTFIX,
	    PMAP_POSTFIX_TLSRPT, PMAP_EXIM };
	struct buf		 out = BUF_INIT;
	enum pmap_kind		 kind;
	enum dane_state		 st;
	size_t			 i;
	int			 enf;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (st = DANE_ALL; st <= DANE_TEMPFAIL; st++)
			for (enf = 0; enf <= 1; enf++) {
				buf_reset(&out);
				CHECK(pmap_dane_reply(names[i], "d.test", st,
				    enf, 0, &out, &kind) == 1);
				CHECKF(strstr(buf_str(&out), "secure") == NULL &&
				    strstr(buf_str(&out), "policy_type") == NULL &&
				    strstr(buf_str(&out), "match=") == NULL &&
				    strncmp(buf_str(&out), "enforce", 7) != 0 &&
				    strncmp(buf_str(&out), "testing", 7) != 0 &&
				    kind != PMAP_SECURE,
				    "%s state %s: \"%s\"",
				    pmap_reply_flavour_name(names[i]),
				    dane_state_str(st), buf_str(&out));
			}
	buf_free(&out);
}

int
main(void)
{
	RUN(test_pmap_dane_table);
	RUN(test_pmap_dane_never_secure);
	return harness_done("test_pmap_dane");
}
