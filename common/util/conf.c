/*
 * conf.c - read the key = value configuration
 *
 * One typed table (conf_keys) lists every key with its default and
 * bounds; defaults are applied by parsing the table's own default
 * strings, so a default can never be out of range.  conf/sts-milter.conf
 * documents the same keys (a test checks the two agree).
 *
 * Decision: an empty value ("ca_file =") means "use the built-in
 * behaviour" for string keys (system resolvers, system CA store).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "lex.h"
#include "xmalloc.h"

#define O(f)	offsetof(struct conf, f)
#define DAY	86400LL

const struct conf_key conf_keys[] = {
	{ "state_dir", CONF_STR, O(state_dir), "/var/lib/sts-milter", 0, 0,
	  "policy cache, journal, policy archive and reporter state" },
	{ "dns_resolvers", CONF_STR, O(dns_resolvers), "", 0, 0,
	  "resolvers as IP or IP:port, space-separated; empty: /etc/resolv.conf" },
	{ "dns_timeout", CONF_TIME, O(dns_timeout), "5s", 1, 60,
	  "timeout of one DNS query" },
	{ "ca_file", CONF_STR, O(ca_file), "", 0, 0,
	  "CA bundle for policy hosts, MX certificates and https rua; empty: system store" },
	{ "hostname", CONF_STR, O(hostname), "", 0, 0,
	  "our host name (EHLO of probes, report defaults); empty: gethostname()" },
	{ "syslog_facility", CONF_STR, O(syslog_facility), "mail", 0, 0,
	  "syslog facility: mail, daemon or local0..local7" },
	{ "log_level", CONF_INT, O(log_level), "0", 0, 3,
	  "debug verbosity: 0 decisions, 1 events (probes, sessions), 2 every policy-map answer, 3 all" },
	{ "dane", CONF_BOOL, O(dane), "yes", 0, 1,
	  "DANE for SMTP (RFC 7672) with DNSSEC validation; DANE takes precedence over MTA-STS (STS-DANE-1); the resolvers must pass DNSSEC records" },
	{ "dnssec_trust_anchors", CONF_STR, O(dnssec_trust_anchors), "/usr/share/dns/root.key", 0, 0,
	  "file of DS or DNSKEY records (zone-file format, like unbound's trust-anchor-file)" },

	{ "fetch_timeout", CONF_TIME, O(fetch_timeout), "15s", 1, 120,
	  "whole HTTPS policy fetch; keep well under the MTA's milter timeout" },
	{ "fetch_connect_timeout", CONF_TIME, O(fetch_connect_timeout), "5s", 1, 60,
	  "TCP+TLS connect to the policy host" },
	{ "policy_max_size", CONF_SIZE, O(policy_max_size), "64k", 1024, 1048576,
	  "largest policy body accepted (STS-HTTP-4)" },
	{ "fetch_backoff", CONF_TIME, O(fetch_backoff), "5m", 300, 7 * DAY,
	  "wait at least this long before refetching a policy id that failed (STS-HTTP-5)" },
	{ "txt_check_interval", CONF_TIME, O(txt_check_interval), "5m", 0, 7 * DAY,
	  "re-check the _mta-sts TXT id of a cached policy when used after this long" },
	{ "refresh_interval", CONF_TIME, O(refresh_interval), "1d", 60, 366 * DAY,
	  "refetch a cached policy this often even if its id is unchanged (STS-CACHE-3)" },
	{ "negative_ttl", CONF_TIME, O(negative_ttl), "1h", 0, 7 * DAY,
	  "remember that a domain has no policy for this long" },
	{ "tempfail_ttl", CONF_TIME, O(tempfail_ttl), "1m", 0, DAY,
	  "remember a DNS failure for this long" },
	{ "fetch_concurrency", CONF_INT, O(fetch_concurrency), "256", 1, 4096,
	  "policy discoveries (DNS + HTTPS) in flight at once; 16 times as many wait, then \"no policy yet\"" },
	{ "cache_max_entries", CONF_INT, O(cache_max_entries), "2000000", 100, 100000000,
	  "policy cache entries kept in memory" },

	{ "milter_socket", CONF_STR, O(milter_socket), "unix:/run/sts-milter/milter.sock", 0, 0,
	  "libmilter socket: unix:/path or inet:port@host" },
	{ "policymap_socket", CONF_STR, O(policymap_socket), "unix:/run/sts-milter/policymap.sock", 0, 0,
	  "socketmap/readsocket listener: unix:/path or inet:port@host; empty: off" },
	{ "tlsrpt_socket", CONF_STR, O(tlsrpt_socket), "", 0, 0,
	  "TLS-RPT datagram collector (Postfix 3.10+ smtp_tlsrpt_socket_name): absolute path; empty: off" },
	{ "postfix_log", CONF_STR, O(postfix_log), "", 0, 0,
	  "Postfix < 3.10: follow this mail log for smtp(8) TLS sessions (needs smtp_tls_loglevel >= 1); empty: off" },
	{ "status_interval", CONF_TIME, O(status_interval), "30s", 1, 3600,
	  "how often the daemon writes state_dir/status.json (stsctl status)" },
	{ "metrics_listen", CONF_STR, O(metrics_listen), "", 0, 0,
	  "Prometheus GET /metrics listener: inet:port@host (e.g. inet:9469@127.0.0.1); empty: off" },
	{ "user", CONF_STR, O(user), "", 0, 0,
	  "drop root to this user after opening sockets; empty: stay" },
	{ "socket_owner", CONF_STR, O(socket_owner), "", 0, 0,
	  "owner of unix: sockets (milter, policy map, datagrams); empty: user, else the daemon's" },
	{ "socket_group", CONF_STR, O(socket_group), "", 0, 0,
	  "group of unix: sockets, one the MTA's user is in; empty: user's primary group, else the daemon's" },
	{ "socket_mode", CONF_MODE, O(socket_mode), "0660", 0, 0777,
	  "permissions of unix: sockets, octal (the MTA needs read and write)" },
	{ "pid_file", CONF_STR, O(pid_file), "/run/sts-milter/sts-milter.pid", 0, 0,
	  "pid file of the daemon; empty: none" },
	{ "smtp_probe_port", CONF_INT, O(smtp_probe_port), "25", 1, 65535,
	  "TCP port of MX probes" },
	{ "probe_bind_address", CONF_STR, O(probe_bind_address), "", 0, 0,
	  "source address of MX probes, like Postfix's smtp_bind_address: one IPv4 and/or one IPv6 literal (space or comma between); each probe binds the one of the MX address's family; empty: the kernel's choice; read at start" },
	{ "probe_timeout", CONF_TIME, O(probe_timeout), "10s", 1, 120,
	  "deadline of each step of an MX probe" },
	{ "probe_cache_ttl", CONF_TIME, O(probe_cache_ttl), "1h", 0, 7 * DAY,
	  "how long a probe verdict per MX host and IP is reused" },
	{ "gate_dane", CONF_BOOL, O(gate_dane), "yes", 0, 1,
	  "the RCPT gate holds a domain with usable TLSA to DANE; bogus DNSSEC defers (needs dane = yes)" },
	{ "gate_deadline", CONF_TIME, O(gate_deadline), "20s", 1, 300,
	  "longest the RCPT gate waits for discovery and probes" },
	{ "override_file", CONF_STR, O(override_file), "", 0, 0,
	  "per-domain overrides: 'domain skip|enforce|testing' lines; empty: none" },
	{ "local_mailers", CONF_STR, O(local_mailers), "local lmtp cyrus cyrusv2 virtual prog", 0, 0,
	  "{rcpt_mailer} values that mean local delivery (not gated)" },
	{ "policymap_tempfail", CONF_BOOL, O(policymap_tempfail), "no", 0, 1,
	  "answer TEMP to the MTA when DNS fails and nothing is cached" },
	{ "policymap_deadline", CONF_TIME, O(policymap_deadline), "3s", 1, 60,
	  "answer every map lookup within this long, \"no policy\" while a fetch runs (under the MTA's map timeout)" },
	{ "policymap_realtime", CONF_BOOL, O(policymap_realtime), "yes", 0, 1,
	  "run the policy map's reactors at SCHED_RR priority 1, so cached answers do not wait for a CPU behind policy fetches" },

	{ "report_org_name", CONF_STR, O(report_org_name), "", 0, 0,
	  "RFC 8460 organization-name; empty: the host name" },
	{ "report_contact", CONF_STR, O(report_contact), "", 0, 0,
	  "RFC 8460 contact-info mailbox; empty: postmaster@<host name>" },
	{ "report_from", CONF_STR, O(report_from), "", 0, 0,
	  "From and envelope sender of report mail; empty: report_contact" },
	{ "report_smtp", CONF_STR, O(report_smtp), "localhost:25", 0, 0,
	  "host:port that report mail is submitted to" },
	{ "report_sending_ip", CONF_BOOL, O(report_sending_ip), "yes", 0, 1,
	  "list sending-mta-ip in failure-details; no: left out (privacy), failures merged" },
	{ "report_max_failure_details", CONF_INT, O(report_max_failure_details), "10000", 0, 1000000,
	  "failure-details per policy in a report, the most frequent kept (receivers cap reports near 10 MB); 0: all" },
	{ "report_smtp_tls", CONF_STR, O(report_smtp_tls), "none", 0, 0,
	  "none (a local relay) or starttls (required, certificate and host name verified against ca_file)" },
	{ "dkim_domain", CONF_STR, O(dkim_domain), "", 0, 0,
	  "DKIM d= of report mail; empty: unsigned (consumers will drop it)" },
	{ "dkim_selector", CONF_STR, O(dkim_selector), "", 0, 0, "DKIM s=" },
	{ "dkim_key_file", CONF_STR, O(dkim_key_file), "", 0, 0,
	  "PEM private key (RSA or Ed25519)" },
	{ "dkim_algorithm", CONF_STR, O(dkim_algorithm), "rsa-sha256", 0, 0,
	  "rsa-sha256 or ed25519-sha256" },
	{ "journal_retention", CONF_INT, O(journal_retention), "14", 1, 3650,
	  "days of journal kept once their reports are done" },
	{ "report_metrics_file", CONF_STR, O(report_metrics_file), "", 0, 0,
	  "write each run's figures here for node-exporter's textfile collector (e.g. /var/lib/prometheus/node-exporter/tlsrpt-reporter.prom); empty: off" },
	{ "report_clock", CONF_STR, O(report_clock), "", 0, 0,
	  "pretend it is this UTC time (YYYY-MM-DDTHH:MM:SSZ); for tests" },

	{ "fleet_redis", CONF_STR, O(fleet_redis), "", 0, 0,
	  "Redis endpoint of the fleet: unix:/path or host:port; empty: single host (no Redis)" },
	{ "fleet_node", CONF_STR, O(fleet_node), "", 0, 0,
	  "this node's name in the fleet (letters, digits, '.', '_', '-'); empty: the host name" },
	{ "fleet_redis_password_file", CONF_STR, O(fleet_redis_password_file), "", 0, 0,
	  "file whose first line is the Redis password (AUTH), or \"user password\" (ACL); empty: no AUTH" },
	{ "fleet_redis_db", CONF_INT, O(fleet_redis_db), "0", 0, 1000,
	  "Redis database number (SELECT)" },
	{ "fleet_prefix", CONF_STR, O(fleet_prefix), "sts:", 0, 0,
	  "prefix of every Redis key of the fleet (several fleets may share one Redis)" },
	{ "fleet_timeout", CONF_TIME, O(fleet_timeout), "5s", 1, 300,
	  "connect and command timeout of background Redis work (journal shipping, reporter, stsctl)" },
	{ "fleet_budget_ms", CONF_INT, O(fleet_budget_ms), "50", 1, 10000,
	  "longest the RCPT path and the policy map wait for Redis per lookup, in milliseconds" },
	{ "fleet_lock_ms", CONF_INT, O(fleet_lock_ms), "10000", 100, 600000,
	  "lock that lets one node of the fleet fetch a policy while the others wait, in milliseconds" },
	{ "fleet_report_grace", CONF_TIME, O(fleet_report_grace), "6h", 0, 7 * DAY,
	  "how long after a day the reporter waits for every node that shipped it to close it" },
	{ "fleet_close_delay", CONF_TIME, O(fleet_close_delay), "10m", 0, DAY,
	  "a node declares a UTC day closed this long after it ended, once all its records of the day are shipped" },
	{ NULL, CONF_STR, 0, NULL, 0, 0, NULL }
};

static const struct conf_key *
conf_find(const char *name, size_t len)
{
	const struct conf_key *k;

	for (k = conf_keys; k->name != NULL; k++)
		if (strlen(k->name) == len && memcmp(k->name, name, len) == 0)
			return k;
	return NULL;
}

/* conf_number - parse a number with an optional unit; -1 on error */
static int
conf_number(const char *s, enum conf_type t, long long *out)
{
	long long	v = 0, mult = 1;
	const char	*p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > 1000000000000LL)
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	if (t == CONF_TIME && *p) {
		switch (*p++) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = DAY; break;
		case 'w': mult = 7 * DAY; break;
		default: return -1;
		}
	} else if (t == CONF_MODE) {	/* the digits again, in octal */
		for (v = 0, p = s; *p >= '0' && *p <= '7'; p++)
			if ((v = v * 8 + (*p - '0')) > 07777)
				return -1;
	} else if (t == CONF_SIZE && *p) {
		switch (*p++) {
		case 'k': case 'K': mult = 1024; break;
		case 'm': case 'M': mult = 1024 * 1024; break;
		default: return -1;
		}
	}
	if (*p != '\0')
		return -1;
	*out = v * mult;
	return 0;
}

/* conf_set - set one key from a value string */
static enum status
conf_set(struct conf *c, const struct conf_key *k, const char *val,
    struct buf *why)
{
	char		**sp;
	int		 *ip;
	long long	  v;

	if (k->type == CONF_STR) {
		sp = (char **)((char *)c + k->off);
		free(*sp);
		*sp = xstrdup(val);
		return ST_OK;
	}
	ip = (int *)((char *)c + k->off);
	if (k->type == CONF_BOOL) {
		if (!strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1"))
			*ip = 1;
		else if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "0"))
			*ip = 0;
		else {
			buf_printf(why, "%s: expected yes or no", k->name);
			return ST_INVALID;
		}
		return ST_OK;
	}
	if (conf_number(val, k->type, &v) != 0) {
		buf_printf(why, "%s: bad %s", k->name,
		    k->type == CONF_TIME ? "duration (e.g. 30s, 5m, 1h, 1d)" :
		    k->type == CONF_SIZE ? "size (e.g. 64k)" :
		    k->type == CONF_MODE ? "octal mode (e.g. 0660)" : "number");
		return ST_INVALID;
	}
	if (v < k->min || v > k->max) {
		buf_printf(why, k->type == CONF_MODE ?
		    "%s: %04llo out of range %04llo..%04llo" :
		    "%s: %lld out of range %lld..%lld", k->name,
		    v, k->min, k->max);
		return ST_INVALID;
	}
	*ip = (int)v;
	return ST_OK;
}

struct conf *
conf_defaults(void)
{
	struct conf		*c = xcalloc(1, sizeof(*c));
	const struct conf_key	*k;
	struct buf		 why = BUF_INIT;

	for (k = conf_keys; k->name != NULL; k++)
		if (conf_set(c, k, k->def, &why) != ST_OK)
			abort();	/* a bad default is a bug */
	buf_free(&why);
	return c;
}

enum status
conf_parse(struct conf *c, const char *text, size_t len, const char *fname,
    struct buf *why)
{
	const char	*p = text, *end = text + len, *eol, *eq, *ks, *ke, *vs, *ve;
	unsigned char	 seen[sizeof(conf_keys) / sizeof(conf_keys[0])];
	const struct conf_key *k;
	struct buf	 kwhy = BUF_INIT;
	char		*val;
	int		 line = 0;
	enum status	 st;

	memset(seen, 0, sizeof(seen));
	for (; p < end; p = eol + 1) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL) {
			buf_printf(why, "%s:%d: NUL byte", fname, line);
			return ST_INVALID;
		}
		ks = p;
		while (ks < eol && is_wsp(*ks))
			ks++;
		ve = eol;
		if (ve > ks && ve[-1] == '\r')
			ve--;
		if (ks == ve || *ks == '#')
			continue;
		if ((eq = memchr(ks, '=', (size_t)(ve - ks))) == NULL) {
			buf_printf(why, "%s:%d: expected \"key = value\"", fname, line);
			return ST_INVALID;
		}
		ke = eq;
		while (ke > ks && is_wsp(ke[-1]))
			ke--;
		vs = eq + 1;
		while (vs < ve && is_wsp(*vs))
			vs++;
		while (ve > vs && is_wsp(ve[-1]))
			ve--;
		if ((k = conf_find(ks, (size_t)(ke - ks))) == NULL) {
			buf_printf(why, "%s:%d: unknown key \"%.*s\"", fname, line,
			    (int)(ke - ks > 64 ? 64 : ke - ks), ks);
			return ST_INVALID;
		}
		if (seen[k - conf_keys]++) {
			buf_printf(why, "%s:%d: %s: repeated key", fname, line,
			    k->name);
			return ST_INVALID;
		}
		val = xstrndup(vs, (size_t)(ve - vs));
		st = conf_set(c, k, val, &kwhy);
		free(val);
		if (st != ST_OK) {
			buf_printf(why, "%s:%d: %s", fname, line, buf_str(&kwhy));
			buf_free(&kwhy);
			return st;
		}
	}
	return ST_OK;
}

struct conf *
conf_load(const char *path, struct buf *why)
{
	struct conf	*c = conf_defaults();
	const char	*fname = path ? path : CONF_DEFAULT_PATH;
	FILE		*f;
	struct buf	 text;
	char		 chunk[4096];
	size_t		 n;

	if ((f = fopen(fname, "r")) == NULL) {
		if (path == NULL && errno == ENOENT)
			return c;	/* embedded defaults */
		buf_printf(why, "%s: %s", fname, strerror(errno));
		conf_free(c);
		return NULL;
	}
	buf_init(&text, 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&text, chunk, n) != 0)
			break;
	if (ferror(f) || text.b_trunc) {
		buf_printf(why, "%s: %s", fname, text.b_trunc ?
		    "file too large" : strerror(errno));
		fclose(f);
		buf_free(&text);
		conf_free(c);
		return NULL;
	}
	fclose(f);
	if (conf_parse(c, buf_str(&text), text.b_len, fname, why) != ST_OK) {
		buf_free(&text);
		conf_free(c);
		return NULL;
	}
	buf_free(&text);
	return c;
}

void
conf_free(struct conf *c)
{
	const struct conf_key *k;

	if (c == NULL)
		return;
	for (k = conf_keys; k->name != NULL; k++)
		if (k->type == CONF_STR)
			free(*(char **)((char *)c + k->off));
	free(c);
}

void
conf_dump(const struct conf *c, FILE *f)
{
	const struct conf_key *k;

	for (k = conf_keys; k->name != NULL; k++) {
		const void *p = (const char *)c + k->off;

		switch (k->type) {
		case CONF_STR:
			fprintf(f, "%s = %s\n", k->name, *(char *const *)p);
			break;
		case CONF_BOOL:
			fprintf(f, "%s = %s\n", k->name,
			    *(const int *)p ? "yes" : "no");
			break;
		case CONF_TIME:
			fprintf(f, "%s = %ds\n", k->name, *(const int *)p);
			break;
		case CONF_MODE:
			fprintf(f, "%s = %04o\n", k->name, *(const int *)p);
			break;
		default:
			fprintf(f, "%s = %d\n", k->name, *(const int *)p);
			break;
		}
	}
}

/* conf_host_name - hostname, else gethostname(), else "localhost" */
char *
conf_host_name(const struct conf *c, char *buf, size_t len)
{
	if (c->hostname[0] != '\0') {
		snprintf(buf, len, "%s", c->hostname);
		return buf;
	}
	if (gethostname(buf, len) != 0 || buf[0] == '\0')
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	return buf;
}

/* conf_report_contact - report_contact or postmaster@<host name> */
const char *
conf_report_contact(const struct conf *c)
{
	static __thread char	 addr[300];
	char			 host[256];

	if (c->report_contact[0] != '\0')
		return c->report_contact;
	snprintf(addr, sizeof(addr), "postmaster@%s",
	    conf_host_name(c, host, sizeof(host)));
	return addr;
}

const char *
conf_report_from(const struct conf *c)
{
	if (c->report_from[0] != '\0')
		return c->report_from;
	return conf_report_contact(c);
}
