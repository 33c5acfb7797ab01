/*
 * main.c - tlsrpt-reporter: daily RFC 8460 reports from the journal
 *
 * SYNOPSIS
 *	tlsrpt-reporter [-c CONFIG] [--day YYYY-MM-DD] [--domain D]
 *	    [--dry-run [--to ADDR]] [-d] [-v]
 *	tlsrpt-reporter [-c CONFIG] --dkim-txt
 *	tlsrpt-reporter -h | -V
 *
 * DESCRIPTION
 *	See doc/tlsrpt-reporter.8 and report_run.h.  This file only reads
 *	the command line and the configuration, checks the reporter's
 *	identity at start-up, and maps the outcome to a sysexits.h code
 *	that cron and systemd can act on.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "dns.h"
#include "fleet_conf.h"
#include "fleet_redis.h"
#include "http.h"
#include "log.h"
#include "report_fleet.h"
#include "report_metrics.h"
#include "report_run.h"
#include "version.h"
#include "xmalloc.h"

/* usage - on stdout and 0 when asked for (-h), else on stderr and 64 */
static void
usage(int status)
{
	fprintf(status == EX_OK ? stdout : stderr,
	    "usage: tlsrpt-reporter [-c config] [--day YYYY-MM-DD] "
	    "[--domain D]\n"
	    "                       [--dry-run [--to ADDR]] [-d] [-v]\n"
	    "       tlsrpt-reporter [-c config] --dkim-txt\n"
	    "       tlsrpt-reporter -h | -V\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  --day D            report this UTC day only\n"
	    "  --domain D         only this policy domain\n"
	    "  --dry-run          build and print the reports, send nothing\n"
	    "  --to ADDR          with --dry-run: address them to ADDR\n"
	    "  --dkim-txt         print the DKIM key's DNS TXT record\n"
	    "  -d                 log to stderr, print a summary\n"
	    "  -v                 more debug logging (repeatable)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      version and library versions\n",
	    CONF_DEFAULT_PATH);
	exit(status);
}

/* lower_domain - --domain as the journal writes it: lower case, no
 * trailing dot */
static const char *
lower_domain(const char *arg, char *dom, size_t size)
{
	size_t	i;

	snprintf(dom, size, "%s", arg);
	for (i = 0; dom[i]; i++)
		if (dom[i] >= 'A' && dom[i] <= 'Z')
			dom[i] += 32;
	if (i > 0 && dom[i - 1] == '.')
		dom[i - 1] = '\0';
	return dom;
}

/* print_dkim_txt - --dkim-txt: the DNS record of the signing key */
static int
print_dkim_txt(const struct conf *c, const struct report_make_ctx *x)
{
	char	*txt;

	if (x->dkim == NULL) {
		log_warnx("dkim_domain, dkim_selector and dkim_key_file "
		    "are not set");
		return EX_CONFIG;
	}
	if ((txt = dkim_pubkey_txt(x->dkim)) == NULL)
		return EX_SOFTWARE;
	printf("%s._domainkey.%s. IN TXT \"%s\"\n", c->dkim_selector,
	    c->dkim_domain, txt);
	free(txt);
	return EX_OK;
}

/* print_summary - a table and a line for a person at a terminal, one
 * line with -d, nothing for cron and systemd */
static void
print_summary(const struct report_run_opts *o,
    const struct report_run_stats *st, int fg)
{
	if (o->progress && st->ran) {
		if (st->days > 0)
			report_run_table(stdout, "total", st);
		printf("%u days, %lu sessions, %u reports built, %u delivered "
		    "(%u by mail, %u by https), %u pending retry, %u given up, "
		    "%u domains without rua\n", st->days, st->sessions,
		    st->built, st->delivered, st->sent[0], st->sent[1],
		    st->pending, st->gaveup, st->norua);
	} else if (fg && !o->dry_run)
		printf("%u days, %lu sessions, %u reports built, %u delivered, "
		    "%u pending retry, %u given up, %u domains without rua\n",
		    st->days, st->sessions, st->built, st->delivered,
		    st->pending, st->gaveup, st->norua);
}

/* run - the fleet's reports from Redis when fleet_redis is set
 * (report_fleet.h), else this host's from its journal (report_run.h) */
static int
run(const struct conf *c, const struct report_run_opts *o,
    struct report_make_ctx *x, struct report_send *s,
    struct report_run_stats *st)
{
	struct report_fleet_conf	 rfc;
	struct fleet_conf		 fc;
	struct fleet_redis		*redis;
	struct buf			 why = BUF_INIT;
	int				 rc;

	memset(st, 0, sizeof(*st));
	if (fleet_conf_from(&fc, c, &why) != ST_OK) {
		log_warnx("configuration: %s", buf_str(&why));
		buf_free(&why);
		return EX_CONFIG;
	}
	if (!fc.on)
		return report_run(o, x, s, st);
	memset(&rfc, 0, sizeof(rfc));
	rfc.prefix = fc.prefix;
	rfc.node = fc.node;
	rfc.grace = fc.report_grace;
	rfc.budget_ms = fc.timeout_ms;
	/* the lease outlasts one delivery (renewed before each) */
	rfc.lease_ms = REPORT_FLEET_LEASE_MS;
	redis = fleet_redis_new(&fc, "tlsrpt-reporter");
	rc = report_fleet_run(o, &rfc, redis, x, s, st);
	fleet_redis_free(redis);
	buf_free(&why);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "day",	required_argument, NULL, 'D' },
		{ "domain",	required_argument, NULL, 'o' },
		{ "dry-run",	no_argument,	   NULL, 'n' },
		{ "to",		required_argument, NULL, 't' },
		{ "dkim-txt",	no_argument,	   NULL, 'k' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct report_run_opts	 o;
	struct report_run_stats	 st;
	struct report_make_ctx	*x;
	struct report_send	*s;
	struct conf		*c;
	struct dns		*dns;
	struct buf		 why = BUF_INIT;
	const char		*cfg = NULL;
	char			 dom[256];
	int			 ch, fg = 0, verbose = 0, dkimtxt = 0, rc;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "c:dvhnV", longopts, NULL)) != -1)
		switch (ch) {
		case 'c': cfg = optarg; break;
		case 'D': o.day = optarg; break;
		case 'o':
			o.only_domain = lower_domain(optarg, dom, sizeof(dom));
			break;
		case 'n': o.dry_run = 1; break;
		case 't': o.dry_to = optarg; break;
		case 'k': dkimtxt = 1; break;
		case 'd': fg = 1; break;
		case 'v': verbose++; break;
		case 'h': usage(EX_OK); break;
		case 'V':
			version_print(stdout, "tlsrpt-reporter", NULL);
			return EX_OK;
		default: usage(EX_USAGE);
		}
	if (optind != argc || (o.dry_to != NULL && !o.dry_run))
		usage(EX_USAGE);
	/* a dry run is for a person: its diagnostics go to the terminal */
	log_init("tlsrpt-reporter", LOG_MAIL, fg || o.dry_run || dkimtxt);
	if ((c = conf_load(cfg, &why)) == NULL) {
		log_warnx("%s", buf_str(&why));
		return EX_CONFIG;
	}
	if (log_facility(c->syslog_facility) < 0) {
		log_warnx("configuration: syslog_facility: unknown facility "
		    "\"%s\"", c->syslog_facility);
		conf_free(c);
		return EX_CONFIG;
	}
	log_init("tlsrpt-reporter", log_facility(c->syslog_facility),
	    fg || o.dry_run || dkimtxt);
	log_setverbose(verbose > c->log_level ? verbose : c->log_level);
	signal(SIGPIPE, SIG_IGN);

	if ((x = report_make_ctx_new(c, &why)) == NULL) {
		log_warnx("configuration: %s", buf_str(&why));
		conf_free(c);
		return EX_CONFIG;
	}
	if (dkimtxt) {
		rc = print_dkim_txt(c, x);
		report_make_ctx_free(x);
		conf_free(c);
		return rc;
	}
	if (x->dkim == NULL && !o.dry_run)
		log_warnx("dkim_domain is not set: report mail is not signed, "
		    "and RFC 8460 receivers must ignore unsigned reports "
		    "(RPT-DKIM-1)");
	if (report_run_now(c, &o.now) != 0) {
		log_warnx("report_clock: \"%s\" is not YYYY-MM-DDTHH:MM:SSZ",
		    c->report_clock);
		report_make_ctx_free(x);
		conf_free(c);
		return EX_CONFIG;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || http_init() != 0) {
		log_warnx("libcurl initialisation failed");
		report_make_ctx_free(x);
		conf_free(c);
		return EX_SOFTWARE;
	}
	if ((dns = dns_new(c->dns_resolvers, c->dns_timeout * 1000,
	    &why)) == NULL) {
		log_warnx("dns: %s", buf_str(&why));
		report_make_ctx_free(x);
		conf_free(c);
		return EX_CONFIG;
	}
	s = report_send_new(c, dns, x->from, x->helo);
	o.out = stdout;
	/* a person at a terminal sees progress and a table; cron and
	 * systemd (no terminal) only the log lines */
	o.progress = !o.dry_run && isatty(STDOUT_FILENO);
	rc = run(c, &o, x, s, &st);
	print_summary(&o, &st, fg);
	if (!o.dry_run && st.ran && c->report_metrics_file[0] != '\0' &&
	    report_metrics_write(c->report_metrics_file, &st, o.now, rc,
	    &why) != 0)
		log_warnx("report_metrics_file: %s", buf_str(&why));
	report_send_free(s);
	dns_free(dns);
	report_make_ctx_free(x);
	conf_free(c);
	buf_free(&why);
	curl_global_cleanup();
	return rc;
}
