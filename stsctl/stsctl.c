/*
 * stsctl.c - the operator's tool
 *
 * Every command prints one JSON object per line on stdout (UTF-8, no
 * NULs), a reason on stderr when it fails, and exits with a sysexits.h
 * code, so scripts can rely on it.  See doc/stsctl.8 and README.md.
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "ctlreq.h"
#include "dane.h"
#include "dns.h"
#include "domain.h"
#include "fsutil.h"
#include "http.h"
#include "log.h"
#include "mx_match.h"
#include "override.h"
#include "srcaddr.h"
#include "status.h"
#include "statusfile.h"
#include "stsctl.h"
#include "stsctl_table.h"
#include "sts_cache.h"
#include "sts_fetch.h"
#include "sts_policy.h"
#include "sts_txt.h"
#include "timefmt.h"
#include "tlsrpt_txt.h"
#include "version.h"
#include "xmalloc.h"

static const char *conf_path;

/* print_usage - the commands; -h asks for it on stdout */
static void
print_usage(FILE *f)
{
	fprintf(f,
	    "usage: stsctl [-c config] command [args]\n"
	    "       stsctl -h | -V     this text | version and library versions\n"
	    "  check-policy FILE|-        parse a policy body (RFC 8461 3.2)\n"
	    "  parse-sts-txt 'TXT'        parse an _mta-sts TXT string\n"
	    "  parse-tlsrpt-txt 'TXT'     parse an _smtp._tls TXT string\n"
	    "  mx-match PATTERN HOST      RFC 8461 4.1 MX matching\n"
	    "  policy [--refresh|--cached] DOMAIN\n"
	    "                             discover, fetch and cache a policy\n"
	    "  cache list | show DOMAIN | flush [DOMAIN]\n"
	    "  probe HOST [IP]            STARTTLS probe of an MX host\n"
	    "  journal [--day YYYY-MM-DD] print journal records\n"
	    "  deferrals [--since YYYY-MM-DD]\n"
	    "                             summarise enforced deferrals\n"
	    "  reports [--since D|--day D] the reports built, and where each\n"
	    "                             stands per destination\n"
	    "  status                     is sts-milter running; its counters\n"
	    "  fleet                      the fleet's nodes in Redis: shipping,\n"
	    "                             lag, closed days\n"
	    "  config                     print the effective configuration\n"
	    "deferrals, reports, status, fleet and cache list print a table on a\n"
	    "terminal; --json (or a pipe) gives JSON lines.\n");
}

static void
usage(void)
{
	print_usage(stderr);
	exit(EX_USAGE);
}

struct conf *
stsctl_conf(void)
{
	static struct conf	*c;
	struct buf		 why = BUF_INIT;

	if (c != NULL)
		return c;
	if ((c = conf_load(conf_path, &why)) == NULL) {
		fprintf(stderr, "stsctl: %s\n", buf_str(&why));
		exit(EX_CONFIG);
	}
	buf_free(&why);
	return c;
}

struct dns *
stsctl_dns(const struct conf *c)
{
	struct buf	 why = BUF_INIT;
	struct dns	*d;

	if ((d = dns_new(c->dns_resolvers, c->dns_timeout * 1000, &why)) == NULL) {
		fprintf(stderr, "stsctl: resolver: %s\n", buf_str(&why));
		exit(EX_CONFIG);
	}
	buf_free(&why);
	return d;
}

static int
emit(struct buf *out)
{
	printf("%s\n", buf_str(out));
	buf_free(out);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

static int
cmd_check_policy(int argc, char **argv)
{
	struct buf		 why = BUF_INIT, out = BUF_INIT;
	struct sts_policy	*p;
	char			*text;
	size_t			 len;

	if (argc != 2)
		usage();
	text = fs_read_file(strcmp(argv[1], "-") ? argv[1] : "/dev/stdin",
	    STS_BODY_MAX, &len);
	if (text == NULL && errno == EFBIG) {
		fprintf(stderr, "stsctl: invalid policy: larger than %d bytes\n",
		    STS_BODY_MAX);
		return EX_DATAERR;
	}
	if (text == NULL) {
		fprintf(stderr, "stsctl: %s: %s\n", argv[1], strerror(errno));
		return EX_NOINPUT;
	}
	if (sts_policy_parse(text, len, &p, &why) != ST_OK) {
		fprintf(stderr, "stsctl: invalid policy: %s\n", buf_str(&why));
		free(text);
		return EX_DATAERR;
	}
	sts_policy_json(p, &out);
	sts_policy_free(p);
	free(text);
	buf_free(&why);
	return emit(&out);
}

static int
cmd_parse_sts_txt(int argc, char **argv)
{
	struct sts_txt	t;
	struct buf	why = BUF_INIT, out = BUF_INIT;
	enum status	st;

	if (argc != 2)
		usage();
	st = sts_txt_parse(argv[1], strlen(argv[1]), &t, &why);
	if (st != ST_OK) {
		fprintf(stderr, "stsctl: invalid _mta-sts record: %s\n",
		    st == ST_NOTFOUND && buf_str(&why)[0] == '\0' ?
		    "does not begin with v=STSv1;" : buf_str(&why));
		return EX_DATAERR;
	}
	buf_puts(&out, "{\"v\":\"STSv1\",\"id\":");
	buf_json_str(&out, t.id);
	buf_putc(&out, '}');
	buf_free(&why);
	return emit(&out);
}

static int
cmd_parse_tlsrpt_txt(int argc, char **argv)
{
	struct tlsrpt_txt	*t;
	struct buf		 why = BUF_INIT, out = BUF_INIT;
	size_t			 i;
	enum status		 st;

	if (argc != 2)
		usage();
	st = tlsrpt_txt_parse(argv[1], strlen(argv[1]), &t, &why);
	if (st != ST_OK) {
		fprintf(stderr, "stsctl: invalid _smtp._tls record: %s\n",
		    st == ST_NOTFOUND && buf_str(&why)[0] == '\0' ?
		    "does not begin with v=TLSRPTv1;" : buf_str(&why));
		return EX_DATAERR;
	}
	buf_puts(&out, "{\"v\":\"TLSRPTv1\",\"rua\":[");
	for (i = 0; i < t->t_nrua; i++) {
		if (i)
			buf_putc(&out, ',');
		buf_json_str(&out, t->t_rua[i]);
	}
	buf_puts(&out, "]}");
	tlsrpt_txt_free(t);
	buf_free(&why);
	return emit(&out);
}

static int
cmd_mx_match(int argc, char **argv)
{
	struct buf	why = BUF_INIT;

	if (argc != 3)
		usage();
	if (mx_pattern_check(argv[1], &why) != ST_OK) {
		fprintf(stderr, "stsctl: bad pattern: %s\n", buf_str(&why));
		return EX_DATAERR;
	}
	if (mx_host_check(argv[2], &why) != ST_OK) {
		fprintf(stderr, "stsctl: bad host: %s\n", buf_str(&why));
		return EX_DATAERR;
	}
	buf_free(&why);
	if (mx_match(argv[1], argv[2])) {
		printf("{\"pattern\":\"%s\",\"host\":\"%s\",\"match\":true}\n",
		    argv[1], argv[2]);
		return EX_OK;
	}
	printf("{\"pattern\":\"%s\",\"host\":\"%s\",\"match\":false}\n",
	    argv[1], argv[2]);
	return 1;
}

struct sts_cache *
stsctl_cache(const struct conf *c, struct dns *dns)
{
	struct sts_cache_opts	o;

	sts_cache_opts_conf(&o, c, dns);
	/* stsctl waits for discovery as long as a fetch may take */
	o.wait_ms = (c->fetch_timeout + c->dns_timeout * 2) * 1000;
	return sts_cache_new(&o);
}

/* lookup_json - the JSON line for one lookup */
void
stsctl_lookup_json(struct buf *out, const char *domain, enum status st,
    const struct sts_lookup *l)
{
	char	t[TIMEFMT_LEN];

	buf_puts(out, "{\"domain\":");
	buf_json_str(out, domain);
	buf_printf(out, ",\"status\":\"%s\"", st == ST_OK ? "policy" :
	    st == ST_TEMPFAIL ? "temporary-failure" :
	    l->fetch_failed ? "fetch-failed" : "no-policy");
	if (l->policy != NULL) {
		buf_puts(out, ",\"policy\":");
		sts_policy_json(l->policy, out);
		buf_puts(out, ",\"id\":");
		buf_json_str(out, l->id);
		buf_printf(out, ",\"fetched\":\"%s\"",
		    timefmt_rfc3339(l->fetched, t));
		buf_printf(out, ",\"expires\":\"%s\"",
		    timefmt_rfc3339(l->expires, t));
	}
	if (l->txt_id[0] != '\0') {
		buf_puts(out, ",\"txt_id\":");
		buf_json_str(out, l->txt_id);
	}
	if (l->checked)
		buf_printf(out, ",\"checked\":\"%s\"",
		    timefmt_rfc3339(l->checked, t));
	buf_printf(out, ",\"cache\":\"%s\"", l->from_cache ? "hit" : "refreshed");
	if (l->fetch_failed)
		buf_printf(out, ",\"result\":\"%s\"",
		    tlsrpt_result_str(l->fetch_result));
	if (l->reason[0] != '\0') {
		buf_puts(out, ",\"reason\":");
		buf_json_str(out, l->reason);
	}
	buf_putc(out, '}');
}

/* dane_json - ,"dane":{...}: the DANE verdict and each MX host's state */
static void
dane_json(struct buf *out, const struct dane_result *r, const char *why)
{
	size_t	i, j;

	buf_printf(out, ",\"dane\":{\"state\":\"%s\",\"mx\":\"%s\"",
	    dane_state_str(r->state), dane_sec_str(r->mx_sec));
	if (why != NULL && why[0] != '\0' && (r->state == DANE_BOGUS ||
	    r->state == DANE_TEMPFAIL || r->mx_sec != DNS_SEC_SECURE)) {
		buf_puts(out, ",\"reason\":");
		buf_json_str(out, why);
	}
	buf_puts(out, ",\"hosts\":[");
	for (i = 0; i < r->nhost; i++) {
		buf_printf(out, "%s{\"host\":", i ? "," : "");
		buf_json_str(out, r->host[i].name);
		if (r->host[i].cname != NULL) {	/* RFC 7672 2.2.2 */
			buf_puts(out, ",\"cname\":");
			buf_json_str(out, r->host[i].cname);
			buf_printf(out, ",\"tlsa_base\":\"%s\"",
			    r->host[i].tlsa_at_cname ? "cname" : "host");
		}
		buf_printf(out, ",\"state\":\"%s\",\"addr\":\"%s\","
		    "\"tlsa\":\"%s\",\"records\":[",
		    dane_host_state_str(r->host[i].state),
		    dane_sec_str(r->host[i].addr_sec),
		    dane_sec_str(r->host[i].tlsa_sec));
		for (j = 0; j < r->host[i].ntlsa; j++) {
			buf_puts(out, j ? "," : "");
			buf_json_str(out, r->host[i].tlsa[j]);
		}
		buf_puts(out, "]}");
	}
	buf_puts(out, "]}");
}

static int
cmd_policy(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct dns		*dns;
	struct sts_cache	*cache;
	struct sts_lookup	 l;
	struct stsctl_pfleet	*pf;
	struct buf		 why = BUF_INIT, out = BUF_INIT;
	char			 domain[DOMAIN_MAX + 1];
	int			 flags = 0, rc;
	enum status		 st;

	for (argc--, argv++; argc > 0 && argv[0][0] == '-'; argc--, argv++) {
		if (!strcmp(argv[0], "--refresh"))
			flags |= STS_LOOKUP_FORCE;
		else if (!strcmp(argv[0], "--cached"))
			flags |= STS_LOOKUP_CACHED | STS_LOOKUP_LOAD;
		else
			usage();
	}
	if (argc != 1)
		usage();
	if (domain_normalize(argv[0], domain, &why) != ST_OK) {
		fprintf(stderr, "stsctl: %s: %s\n", argv[0], buf_str(&why));
		return EX_DATAERR;
	}
	http_init();
	dns = stsctl_dns(c);
	cache = stsctl_cache(c, dns);
	/* fleet mode: the fleet's shared entry, as the daemon reads it */
	if ((pf = stsctl_pfleet_new(c)) != NULL)
		stsctl_pfleet_attach(pf, cache);
	st = sts_cache_lookup(cache, domain, flags, &l);
	if (flags & STS_LOOKUP_CACHED)		/* nothing of its own */
		st = stsctl_pfleet_cached(pf, domain, st, &l);
	stsctl_lookup_json(&out, domain, st, &l);
	if (pf != NULL) {
		out.b_len--;			/* reopen the object */
		stsctl_pfleet_json(pf, domain, &out);
		buf_putc(&out, '}');
	}
	/* DANE (RFC 7672): what precedes MTA-STS for this domain */
	if (c->dane && !(flags & STS_LOOKUP_CACHED)) {
		struct dane_result	dr;
		struct buf		dwhy = BUF_INIT;

		if (dns_set_trust_anchors(dns, c->dnssec_trust_anchors,
		    &dwhy) == 0)
			dane_lookup(dns, domain, &dr, &dwhy);
		else {
			memset(&dr, 0, sizeof(dr));
			dr.state = DANE_TEMPFAIL;
		}
		out.b_len--;			/* reopen the object */
		dane_json(&out, &dr, buf_str(&dwhy));
		buf_putc(&out, '}');
		dane_result_clear(&dr);
		buf_free(&dwhy);
	}
	if (st == ST_OK)
		rc = EX_OK;
	else if (st == ST_TEMPFAIL)
		rc = EX_TEMPFAIL;
	else if (l.fetch_failed)
		rc = EX_UNAVAILABLE;
	else
		rc = 1;
	if (rc != EX_OK && l.reason[0] != '\0')
		fprintf(stderr, "stsctl: %s: %s\n", domain, l.reason);
	emit(&out);
	sts_lookup_clear(&l);
	sts_cache_free(cache);
	stsctl_pfleet_free(pf);
	dns_free(dns);
	buf_free(&why);
	return rc;
}

static const struct stsctl_col cache_cols[] = {
	{ "DOMAIN", "domain" }, { "MODE", "policy.mode" }, { "ID", "id" },
	{ "MX", "policy.mx" }, { "MAX-AGE", "policy.max_age" },
	{ "FETCHED", "fetched" }, { "EXPIRES", "expires" },
	{ NULL, NULL }
};

static void
list_one(void *arg, const char *domain, const struct sts_lookup *l)
{
	struct buf	out = BUF_INIT;

	stsctl_lookup_json(&out, domain, ST_OK, l);
	stsctl_table_line(arg, buf_str(&out));
	buf_free(&out);
}

#define FLUSH_TIMEOUT_MS	10000

/*
 * cache_flush - forget domain's policy (NULL: every policy).  A running
 * sts-milter holds the cache in memory and would write it back: it is
 * asked to flush (ctlreq.h).  Without one, the files are the cache.
 */
static int
cache_flush(struct conf *c, const char *domain)
{
	struct statusfile_info	 in;
	struct buf		 json = BUF_INIT, reply = BUF_INIT;
	struct buf		 why = BUF_INIT;
	struct sts_cache	*cache;
	char			*req;
	int			 n = 0, rc = EX_OK;

	if (statusfile_read(c->state_dir, clock_now(), &in, &json) != ST_OK ||
	    !in.running) {
		cache = stsctl_cache(c, NULL);
		n = sts_cache_flush(cache, domain);
		sts_cache_free(cache);
		printf("{\"flushed\":%d}\n", n);
		goto out;
	}
	req = domain ? xasprintf("cache-flush %s", domain) :
	    xstrdup("cache-flush");
	switch (ctlreq_send(c->state_dir, req, FLUSH_TIMEOUT_MS, &reply,
	    &why)) {
	case ST_OK:
		if (sscanf(buf_str(&reply), "flushed %d", &n) == 1)
			printf("{\"flushed\":%d}\n", n);
		else {
			fprintf(stderr, "stsctl: sts-milter: %s\n",
			    buf_str(&reply));
			rc = EX_SOFTWARE;
		}
		break;
	case ST_TEMPFAIL:
		fprintf(stderr, "stsctl: sts-milter (pid %ld) did not answer: "
		    "%s; nothing flushed\n", in.pid, buf_str(&why));
		rc = EX_TEMPFAIL;
		break;
	default:
		fprintf(stderr, "stsctl: cannot ask sts-milter (pid %ld): %s\n",
		    in.pid, buf_str(&why));
		rc = EX_CANTCREAT;
		break;
	}
	free(req);
out:
	buf_free(&json);
	buf_free(&reply);
	buf_free(&why);
	return rc;
}

static int
cmd_cache(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct sts_cache	*cache;
	struct sts_lookup	 l;
	struct buf		 why = BUF_INIT, out = BUF_INIT;
	char			 domain[DOMAIN_MAX + 1];
	int			 rc = EX_OK;
	enum status		 st;

	if (argc < 2)
		usage();
	if (argc == 3 && domain_normalize(argv[2], domain, &why) != ST_OK) {
		fprintf(stderr, "stsctl: %s: %s\n", argv[2], buf_str(&why));
		return EX_DATAERR;
	}
	if (!strcmp(argv[1], "flush") && argc <= 3) {
		buf_free(&why);
		return cache_flush(c, argc == 3 ? domain : NULL);
	}
	cache = stsctl_cache(c, NULL);
	if (!strcmp(argv[1], "list") && argc == 2) {
		struct stsctl_table *t = stsctl_table_new(cache_cols);

		sts_cache_foreach(cache, list_one, t);
		rc = stsctl_table_end(t);
	} else if (!strcmp(argv[1], "show") && argc == 3) {
		st = sts_cache_lookup(cache, domain, STS_LOOKUP_CACHED |
		    STS_LOOKUP_LOAD, &l);
		if (st == ST_OK) {
			stsctl_lookup_json(&out, domain, st, &l);
			emit(&out);
		} else {
			fprintf(stderr, "stsctl: %s: not in the cache\n", domain);
			rc = 1;
		}
		sts_lookup_clear(&l);
	} else
		usage();
	sts_cache_free(cache);
	buf_free(&why);
	return rc;
}

/* cmd_config - print the effective configuration and check what the
 * daemon checks at start-up (so "OK" here means it will start) */
static int
cmd_config(int argc, char **argv)
{
	struct conf	*c = stsctl_conf();
	struct override	*ov = NULL;
	struct srcaddr_bind bind;
	struct buf	 why = BUF_INIT;
	int		 bad = 0;

	conf_dump(c, stdout);
	if (log_facility(c->syslog_facility) < 0) {
		fprintf(stderr, "stsctl: syslog_facility: unknown facility "
		    "\"%s\"\n", c->syslog_facility);
		bad = 1;
	}
	if (override_load(c->override_file, &ov, &why) != ST_OK) {
		fprintf(stderr, "stsctl: override_file: %s\n", buf_str(&why));
		bad = 1;
	}
	override_free(ov);
	if (c->user[0] != '\0' && getpwnam(c->user) == NULL) {
		fprintf(stderr, "stsctl: user %s: no such user\n", c->user);
		bad = 1;
	}
	if (srcaddr_bind_parse(c->probe_bind_address, &bind, &why) !=
	    ST_OK) {
		fprintf(stderr, "stsctl: probe_bind_address: %s\n",
		    buf_str(&why));
		bad = 1;
	}
	if (strcmp(c->report_smtp_tls, "none") != 0 &&
	    strcmp(c->report_smtp_tls, "starttls") != 0) {
		fprintf(stderr, "stsctl: report_smtp_tls: \"%s\" is neither "
		    "none nor starttls\n", c->report_smtp_tls);
		bad = 1;
	}
	buf_free(&why);
	if (bad)
		return EX_CONFIG;
	printf("configuration OK\n");
	return EX_OK;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "check-policy", cmd_check_policy },
	{ "parse-sts-txt", cmd_parse_sts_txt },
	{ "parse-tlsrpt-txt", cmd_parse_tlsrpt_txt },
	{ "mx-match", cmd_mx_match },
	{ "policy", cmd_policy },
	{ "cache", cmd_cache },
	{ "config", cmd_config },
	STSCTL_EXTRA_COMMANDS
	{ NULL, NULL }
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, i;

	log_init("stsctl", 0, 1);
	while ((ch = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return EX_OK;
		case 'V':
			version_print(stdout, "stsctl", NULL);
			return EX_OK;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	argc = stsctl_out_setup(argc, argv);	/* --json: JSON on a tty too */
	for (i = 0; commands[i].name != NULL; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(argc, argv);
	fprintf(stderr, "stsctl: unknown command \"%s\"\n", argv[0]);
	usage();
	return EX_USAGE;
}
