/*
 * stsctl_cmds.c - stsctl probe, journal and deferrals
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "dane.h"
#include "journal.h"
#include "mx_match.h"
#include "srcaddr.h"
#include "stsctl.h"
#include "stsctl_table.h"
#include "timefmt.h"
#include "tls_probe.h"
#include "xmalloc.h"

static void
cmd_usage(const char *u)
{
	fprintf(stderr, "usage: stsctl [-c config] %s\n", u);
	exit(EX_USAGE);
}

/* stsctl probe HOST [IP] */
int
stsctl_cmd_probe(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct tls_probe_opts	 o;
	struct tls_probe_result	 r;
	struct dns_rrset	 addrs;
	struct buf		 why = BUF_INIT, out = BUF_INIT;
	struct dns		*dns;
	struct dane_host	 dh;
	struct srcaddr_bind	 bind;
	char			 host[256];
	size_t			 i;
	int			 rc = EX_OK;
	enum status		 st;

	if (argc < 2 || argc > 3)
		cmd_usage("probe HOST [IP]");
	signal(SIGPIPE, SIG_IGN);
	if (mx_host_check(argv[1], &why) != ST_OK) {
		fprintf(stderr, "stsctl: %s: %s\n", argv[1], buf_str(&why));
		return EX_DATAERR;
	}
	if (srcaddr_bind_parse(c->probe_bind_address, &bind, &why) != ST_OK) {
		fprintf(stderr, "stsctl: probe_bind_address: %s\n",
		    buf_str(&why));
		buf_free(&why);
		return EX_CONFIG;
	}
	snprintf(host, sizeof(host), "%s", argv[1]);
	memset(&addrs, 0, sizeof(addrs));
	memset(&dh, 0, sizeof(dh));
	memset(&o, 0, sizeof(o));
	/* RFC 7672: a host with usable TLSA is verified by DANE */
	if (c->dane) {
		dns = stsctl_dns(c);
		if (dns_set_trust_anchors(dns, c->dnssec_trust_anchors,
		    &why) == -1) {
			fprintf(stderr, "stsctl: dnssec_trust_anchors: %s\n",
			    buf_str(&why));
			dns_free(dns);
			return EX_CONFIG;
		}
		switch (dane_host(dns, host, &dh, &why)) {
		case DANE_H_USABLE:
			o.tlsa = (const char *const *)dh.tlsa;
			o.ntlsa = dh.ntlsa;
			o.dane_cname = dh.cname;
			break;
		case DANE_H_BOGUS:
			/* RFC 8460 4.3.2: no probe on bogus DNSSEC data */
			memset(&r, 0, sizeof(r));
			r.result = TLSRPT_DNSSEC_INVALID;
			r.dane = 1;
			snprintf(r.mx_host, sizeof(r.mx_host), "%s", host);
			snprintf(r.reason, sizeof(r.reason), "%s",
			    dane_host_bogus(&dh));
			tls_probe_json(&r, &out);
			printf("%s\n", buf_str(&out));
			buf_free(&out);
			dns_free(dns);
			dane_host_clear(&dh);
			return 1;
		case DANE_H_TEMPFAIL:
			fprintf(stderr, "stsctl: %s: DANE lookup failed: %s\n",
			    host, buf_str(&why));
			dns_free(dns);
			dane_host_clear(&dh);
			return EX_TEMPFAIL;
		case DANE_H_NONE:
			break;
		}
		buf_reset(&why);
		dns_free(dns);
	}
	if (argc == 3) {
		addrs.n = 1;
		addrs.rr = xcalloc(1, sizeof(char *));
		addrs.len = xcalloc(1, sizeof(size_t));
		addrs.rr[0] = xstrdup(argv[2]);
	} else {
		dns = stsctl_dns(c);
		st = dns_addr(dns, host, &addrs, &why);
		dns_free(dns);
		if (st != ST_OK) {
			fprintf(stderr, "stsctl: %s: %s\n", host, buf_str(&why));
			return EX_NOHOST;
		}
	}
	o.helo_name = c->hostname[0] ? c->hostname : NULL;
	o.ca_file = c->ca_file;
	o.port = c->smtp_probe_port;
	o.timeout_ms = c->probe_timeout * 1000;
	for (i = 0; i < addrs.n; i++) {
		buf_reset(&why);
		/* the daemon's source address (sending-mta-ip) */
		o.local_addr = srcaddr_bind_pick(&bind, addrs.rr[i]);
		st = tls_probe(host, addrs.rr[i], &o, &r, &why);
		if (st == ST_INVALID || st == ST_INTERNAL) {
			fprintf(stderr, "stsctl: probe %s [%s]: %s\n", host,
			    addrs.rr[i], buf_str(&why));
			rc = st == ST_INVALID ? EX_DATAERR : EX_SOFTWARE;
			continue;
		}
		buf_reset(&out);
		tls_probe_json(&r, &out);
		printf("%s\n", buf_str(&out));
		if (st != ST_OK || r.result != TLSRPT_SUCCESS)
			rc = rc == EX_OK ? 1 : rc;
	}
	dns_rrset_clear(&addrs);
	dane_host_clear(&dh);
	buf_free(&why);
	buf_free(&out);
	return rc;
}

static int
print_rec(void *arg, const struct journal_rec *r)
{
	struct buf	*b = arg;

	buf_reset(b);
	journal_json(r, b);
	printf("%s\n", buf_str(b));
	return 0;
}

/* read_error - a journal day that exists but cannot be read: say so and
 * give the exit status (no file for the day is not an error) */
static int
read_error(const char *state_dir, const char *day)
{
	int	e = errno;

	if (e == ENOENT)
		return EX_OK;
	fprintf(stderr, "stsctl: %s/journal/%s.jnl: %s\n", state_dir, day,
	    strerror(e));
	return e == EACCES || e == EPERM ? EX_NOPERM : EX_IOERR;
}

/* stsctl journal [--day YYYY-MM-DD] */
int
stsctl_cmd_journal(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct journal_stats	 st;
	struct buf		 b = BUF_INIT;
	char			 day[11];
	time_t			 t;
	int			 rc;

	timefmt_day(clock_now(), day);
	if (argc == 3 && strcmp(argv[1], "--day") == 0) {
		if (timefmt_parse(argv[2], &t) != 0 || strlen(argv[2]) != 10)
			cmd_usage("journal [--day YYYY-MM-DD]");
		snprintf(day, sizeof(day), "%s", argv[2]);
	} else if (argc != 1)
		cmd_usage("journal [--day YYYY-MM-DD]");
	rc = EX_OK;
	if (journal_read_day(c->state_dir, day, print_rec, &b, &st) != 0)
		rc = read_error(c->state_dir, day);
	else if (st.bad > 0)
		fprintf(stderr, "stsctl: %s: %lu torn or corrupt records "
		    "skipped\n", day, st.bad);
	buf_free(&b);
	return rc;
}

struct dgroup {
	char		domain[256];
	char		result[40];
	char		pid[33];
	char		mx[256];
	char		text[512];
	time_t		first, last;
	unsigned long	count;
};

struct dsum {
	struct dgroup	*g;
	size_t		 n;
};

static int
add_deferral(void *arg, const struct journal_rec *r)
{
	struct dsum	*s = arg;
	const char	*res = tlsrpt_result_str(r->result);
	size_t		 i;

	if (r->type != JREC_DEFERRAL)
		return 0;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->g[i].domain, r->domain) &&
		    !strcmp(s->g[i].result, res))
			break;
	if (i == s->n) {
		s->g = xreallocarray(s->g, s->n + 1, sizeof(*s->g));
		memset(&s->g[i], 0, sizeof(s->g[i]));
		snprintf(s->g[i].domain, sizeof(s->g[i].domain), "%s", r->domain);
		snprintf(s->g[i].result, sizeof(s->g[i].result), "%s", res);
		s->g[i].first = r->time;
		s->n++;
	}
	s->g[i].count++;
	s->g[i].last = r->time;
	snprintf(s->g[i].pid, sizeof(s->g[i].pid), "%s", r->pid);
	snprintf(s->g[i].mx, sizeof(s->g[i].mx), "%s", r->mx);
	snprintf(s->g[i].text, sizeof(s->g[i].text), "%s", r->text);
	return 0;
}

static int
dgroup_cmp(const void *a, const void *b)
{
	const struct dgroup *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

static const struct stsctl_col deferral_cols[] = {
	{ "DOMAIN", "domain" }, { "RESULT", "result" }, { "COUNT", "count" },
	{ "FIRST", "first" }, { "LAST", "last" },
	{ "POLICY-ID", "policy_id" }, { "MX", "mx" },
	{ NULL, NULL }
};

/* stsctl deferrals [--since YYYY-MM-DD]: by domain and result type */
int
stsctl_cmd_deferrals(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct journal_stats	 st;
	struct dsum		 s = { NULL, 0 };
	struct stsctl_table	*t;
	struct buf		 b = BUF_INIT;
	char			 day[11], t1[TIMEFMT_LEN], t2[TIMEFMT_LEN];
	time_t			 since, now = clock_now(), d;
	size_t			 i;
	int			 rc = EX_OK, k;

	since = timefmt_day_start(now) - 6 * 86400;	/* a week */
	if (argc == 3 && strcmp(argv[1], "--since") == 0) {
		if (timefmt_parse(argv[2], &since) != 0)
			cmd_usage("deferrals [--since YYYY-MM-DD]");
	} else if (argc != 1)
		cmd_usage("deferrals [--since YYYY-MM-DD]");
	for (d = timefmt_day_start(since); d <= now; d += 86400) {
		timefmt_day(d, day);
		if (journal_read_day(c->state_dir, day, add_deferral, &s,
		    &st) != 0 && (k = read_error(c->state_dir, day)) != EX_OK)
			rc = k;
	}
	qsort(s.g, s.n, sizeof(*s.g), dgroup_cmp);
	t = stsctl_table_new(deferral_cols);
	for (i = 0; i < s.n; i++) {
		buf_reset(&b);
		buf_puts(&b, "{\"domain\":");
		buf_json_str(&b, s.g[i].domain);
		buf_printf(&b, ",\"result\":\"%s\",\"count\":%lu,\"first\":\"%s\","
		    "\"last\":\"%s\",\"policy_id\":", s.g[i].result, s.g[i].count,
		    timefmt_rfc3339(s.g[i].first, t1),
		    timefmt_rfc3339(s.g[i].last, t2));
		buf_json_str(&b, s.g[i].pid);
		buf_puts(&b, ",\"mx\":");
		buf_json_str(&b, s.g[i].mx);
		buf_puts(&b, ",\"last_reply\":");
		buf_json_str(&b, s.g[i].text);
		buf_putc(&b, '}');
		stsctl_table_line(t, buf_str(&b));
	}
	if ((k = stsctl_table_end(t)) != EX_OK)
		rc = k;
	free(s.g);
	buf_free(&b);
	return rc;
}
