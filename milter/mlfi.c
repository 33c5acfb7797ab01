/*
 * mlfi.c - libmilter callbacks: translate, call the gate, map verdicts
 *
 * Only mlfi_envrcpt() turns a gate verdict into SMFIS_*: a deferral is
 * SMFIS_TEMPFAIL with "451 4.7.5" for that recipient alone (STS-APP-4).
 *
 * The milter API seam: mlfi.h brings in <libmilter/mfapi.h> for the
 * callback table (mlfi_desc) that main.c registers and runs with
 * smfi_main().  During a session the callbacks make five libmilter
 * calls and no others: smfi_getpriv, smfi_setpriv, smfi_getsymval,
 * smfi_setreply and smfi_setsymlist.  Unit tests link
 * tests/fakes/fake_milter.c in their place (as they link the DNS, HTTP,
 * clock and probe fakes) and drive mlfi_desc without libmilter, root or
 * the lab: test_mlfi.
 *
 * Not gated: recipients of mail from the TLS-RPT report sender
 * (RPT-MAIL-8/9: report mail must never be held by MTA-STS), recipients
 * the MTA delivers locally ({rcpt_mailer} in local_mailers), address
 * literals (STS-PD-4), and recipients routed to a bracketed relay
 * ({rcpt_host} "[host]").  Postfix non_smtpd_milters: Postfix emulates
 * the SMTP events for sendmail(1)/pickup mail and treats a RCPT
 * tempfail there as a configuration error (mail stays queued).  We
 * recognise that path by its connect event (client address 127.0.0.1
 * port 0, or no address) and never defer there; the policy map
 * enforces at delivery instead.  README "Postfix" says so.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "domain.h"
#include "log.h"
#include "mlfi.h"
#include "xmalloc.h"

struct mlfi_conn {
	int	cc_nonsmtp;
	int	mc_exempt;		/* sender is the report sender */
	char	mc_qid[32];
};

/*
 * The settings callbacks read on every MAIL and RCPT: an immutable
 * snapshot behind one atomic pointer, so the hot path takes no lock.
 * A replaced snapshot is never freed (a callback may still read it); a
 * reload keeps a few hundred bytes, which is the price of no lock.  The
 * old snapshots stay chained to the new one, so they are held, not lost.
 */
struct mlfi_settings {
	char			*report_from;
	char			*local_mailers;	/* " a b c " */
	struct mlfi_settings	*older;
};

static struct gate		*mlfi_gate;
static struct mlfi_settings	*mlfi_cur;

void
mlfi_set_conf(const struct conf *c)
{
	struct mlfi_settings	*s = xcalloc(1, sizeof(*s));

	s->report_from = xstrdup(conf_report_from(c));
	s->local_mailers = xasprintf(" %s ", c->local_mailers);
	s->older = __atomic_load_n(&mlfi_cur, __ATOMIC_ACQUIRE);
	__atomic_store_n(&mlfi_cur, s, __ATOMIC_RELEASE);
}

static const struct mlfi_settings *
settings(void)
{
	return __atomic_load_n(&mlfi_cur, __ATOMIC_ACQUIRE);
}

void
mlfi_init(struct gate *g, const struct conf *c)
{
	mlfi_gate = g;
	mlfi_set_conf(c);
}

void
mlfi_rcpt_addr(const char *in, char *out, size_t size)
{
	size_t	n;

	while (*in == ' ')
		in++;
	if (*in == '<')
		in++;
	n = strcspn(in, ">");
	if (n >= size)
		n = size - 1;
	memcpy(out, in, n);
	out[n] = '\0';
}

int
mlfi_rcpt_domain(const char *rcpt, char *domain, size_t size)
{
	const char	*at = strrchr(rcpt, '@');
	char		*ascii = NULL, norm[DOMAIN_MAX + 1];
	struct buf	 why = BUF_INIT;
	const char	*p;
	int		 nonascii = 0, rc = -1;

	if (at == NULL || at[1] == '\0' || at[1] == '[')	/* STS-PD-4 */
		return -1;
	for (p = at + 1; *p; p++)
		if ((unsigned char)*p >= 0x80)
			nonascii = 1;
	if (nonascii) {					/* STS-PD-5 */
		if (idn2_to_ascii_8z(at + 1, &ascii, IDN2_NONTRANSITIONAL) !=
		    IDN2_OK)
			return -1;
		p = ascii;
	} else
		p = at + 1;
	if (domain_normalize(p, norm, &why) == ST_OK &&
	    strlen(norm) < size) {
		memcpy(domain, norm, strlen(norm) + 1);
		rc = 0;
	}
	free(ascii);
	buf_free(&why);
	return rc;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct mlfi_conn	*cc = xcalloc(1, sizeof(*cc));

	if (sa == NULL)
		cc->cc_nonsmtp = 1;
	else if (sa->sa_family == AF_INET &&
	    ((struct sockaddr_in *)(void *)sa)->sin_port == 0 &&
	    ((struct sockaddr_in *)(void *)sa)->sin_addr.s_addr ==
	    htonl(INADDR_LOOPBACK))
		cc->cc_nonsmtp = 1;
	smfi_setpriv(ctx, cc);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct mlfi_conn	*cc = smfi_getpriv(ctx);
	char			 from[320];
	const char		*qid;

	if (cc == NULL)
		return SMFIS_CONTINUE;
	mlfi_rcpt_addr(argv[0] ? argv[0] : "", from, sizeof(from));
	cc->mc_exempt = from[0] != '\0' && settings()->report_from[0] != '\0' &&
	    strcasecmp(from, settings()->report_from) == 0;
	qid = smfi_getsymval(ctx, "i");
	snprintf(cc->mc_qid, sizeof(cc->mc_qid), "%s", qid ? qid : "");
	return SMFIS_CONTINUE;
}

/* local_mailer - {rcpt_mailer} is one of local_mailers */
static int
local_mailer(const char *mailer)
{
	char	key[80];

	if (mailer == NULL || mailer[0] == '\0' || strlen(mailer) > 64)
		return 0;
	snprintf(key, sizeof(key), " %s ", mailer);
	return strstr(settings()->local_mailers, key) != NULL;
}

/* reply_escape - smfi_setreply text: no CR/LF, '%' doubled */
static void
reply_escape(const char *in, char *out, size_t size)
{
	size_t	n = 0;

	for (; *in && n + 2 < size; in++) {
		if (*in == '%') {
			out[n++] = '%';
			out[n++] = '%';
		} else
			out[n++] = (*in == '\r' || *in == '\n' ||
			    (unsigned char)*in < 0x20) ? ' ' : *in;
	}
	out[n] = '\0';
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mlfi_conn	*cc = smfi_getpriv(ctx);
	struct gate_verdict	 v;
	char			 rcpt[320], domain[DOMAIN_MAX + 1], text[980];
	const char		*host, *qid;

	if (cc == NULL || argv[0] == NULL)
		return SMFIS_CONTINUE;
	mlfi_rcpt_addr(argv[0], rcpt, sizeof(rcpt));
	if ((qid = smfi_getsymval(ctx, "i")) != NULL && qid[0] != '\0')
		snprintf(cc->mc_qid, sizeof(cc->mc_qid), "%s", qid);
	if (cc->mc_exempt) {			/* RPT-MAIL-8, RPT-MAIL-9 */
		log_info("%s: exempt rcpt=<%s> reason=report-sender",
		    cc->mc_qid[0] ? cc->mc_qid : "NOQUEUE", rcpt);
		return SMFIS_CONTINUE;
	}
	if (local_mailer(smfi_getsymval(ctx, "{rcpt_mailer}")))
		return SMFIS_CONTINUE;
	host = smfi_getsymval(ctx, "{rcpt_host}");
	if (host != NULL && host[0] == '[')
		return SMFIS_CONTINUE;		/* explicit relay */
	if (mlfi_rcpt_domain(rcpt, domain, sizeof(domain)) != 0)
		return SMFIS_CONTINUE;
	gate_rcpt(mlfi_gate, cc->mc_qid, rcpt, domain, &v);
	if (v.action != GATE_DEFER)
		return SMFIS_CONTINUE;
	if (cc->cc_nonsmtp) {
		log_warnx("%s: not deferring rcpt=<%s>: non-SMTP submission "
		    "(Postfix non_smtpd_milters); the MTA's policy map holds it",
		    cc->mc_qid[0] ? cc->mc_qid : "NOQUEUE", rcpt);
		return SMFIS_CONTINUE;
	}
	reply_escape(v.text, text, sizeof(text));
	(void)smfi_setreply(ctx, "451", "4.7.5", text);
	return SMFIS_TEMPFAIL;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct mlfi_conn	*cc = smfi_getpriv(ctx);

	if (cc != NULL) {
		cc->mc_exempt = 0;
		cc->mc_qid[0] = '\0';
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	return mlfi_eom(ctx);
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct mlfi_conn	*cc = smfi_getpriv(ctx);

	free(cc);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* We need no body, headers or replies; ask the MTA to skip them. */
	*pf0 = 0;
	*pf1 = f1 & (SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH |
	    SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOHELO);
	*pf2 = *pf3 = 0;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		*pf0 |= SMFIF_SETSYMLIST;
		(void)smfi_setsymlist(ctx, SMFIM_ENVRCPT,
		    "i {rcpt_mailer} {rcpt_host} {rcpt_addr}");
		(void)smfi_setsymlist(ctx, SMFIM_ENVFROM, "i");
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc mlfi_desc = {
	"sts-milter",
	SMFI_VERSION,
	SMFIF_SETSYMLIST,
	mlfi_connect,
	NULL,			/* helo */
	mlfi_envfrom,
	mlfi_envrcpt,
	NULL,			/* header */
	NULL,			/* eoh */
	NULL,			/* body */
	mlfi_eom,
	mlfi_abort,
	mlfi_close,
	NULL,			/* unknown */
	NULL,			/* data */
	mlfi_negotiate
};
