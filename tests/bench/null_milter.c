/*
 * null_milter.c - a libmilter filter that does nothing: the ceiling of
 * the RCPT benchmark
 *
 * null_milter -s SOCKET
 *	SOCKET: unix:/path or inet:port@host (libmilter syntax)
 *
 * Every callback returns SMFIS_CONTINUE at once.  Option negotiation
 * asks for what sts-milter asks for (skip HELO, headers, body, DATA,
 * unknown commands; the same macro lists), so that the MTA side sends
 * the same commands and bytes to both filters and the difference
 * between them is the work of the gate alone.  SIGTERM or SIGINT stops
 * it (libmilter's signal handling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static sfsistat
n_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_helo(SMFICTX *ctx, char *helo)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_envfrom(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_envrcpt(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_header(SMFICTX *ctx, char *name, char *value)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_ctx(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_unknown(SMFICTX *ctx, const char *cmd)
{
	return SMFIS_CONTINUE;
}

static sfsistat
n_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* the same request as sts-milter's mlfi_negotiate() */
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

static struct smfiDesc null_desc = {
	"null-milter",
	SMFI_VERSION,
	SMFIF_SETSYMLIST,
	n_connect,
	n_helo,
	n_envfrom,
	n_envrcpt,
	n_header,
	n_ctx,			/* eoh */
	n_body,
	n_ctx,			/* eom */
	n_ctx,			/* abort */
	n_ctx,			/* close */
	n_unknown,
	n_ctx,			/* data */
	n_negotiate
};

static void
usage(void)
{
	fprintf(stderr, "usage: null_milter -s SOCKET\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*sock = NULL;
	int		 ch;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || sock == NULL)
		usage();
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_register(null_desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
