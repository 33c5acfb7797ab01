/*
 * conf.h - the one configuration file of all three programs
 *
 * Format: "key = value" lines, '#' comments, blank lines; no includes.
 * Durations take s/m/h/d suffixes (a bare number is seconds), sizes take
 * k/m.  Every key has an embedded default, so a missing default file is
 * not an error; a file named with -c must exist.  Unknown keys, repeated
 * keys and out-of-range values are errors naming file, line and key.
 *
 * conf_parse() is pure (it is fuzzed); conf_load() reads a file.
 * A struct conf is immutable once loaded; the milter swaps whole
 * snapshots on SIGHUP.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "status.h"

#define CONF_DEFAULT_PATH	"/etc/sts-milter/sts-milter.conf"

struct conf {
	/* shared */
	char	*state_dir;
	char	*dns_resolvers;
	int	 dns_timeout;		/* seconds */
	char	*ca_file;
	char	*hostname;
	char	*syslog_facility;
	int	 log_level;
	int	 dane;			/* DANE for SMTP, DNSSEC validation */
	char	*dnssec_trust_anchors;	/* DS/DNSKEY zone file */

	/* policy discovery and cache (RFC 8461 section 3) */
	int	 fetch_timeout;		/* seconds, whole HTTPS fetch */
	int	 fetch_connect_timeout;
	int	 policy_max_size;	/* bytes */
	int	 fetch_backoff;		/* STS-HTTP-5, >= 300 s */
	int	 txt_check_interval;	/* re-check the TXT id after */
	int	 refresh_interval;	/* STS-CACHE-3 proactive refresh */
	int	 negative_ttl;		/* remember "no policy" */
	int	 tempfail_ttl;		/* remember DNS trouble */
	int	 cache_max_entries;
	int	 fetch_concurrency;	/* discoveries in flight */

	/* milter */
	char	*milter_socket;
	char	*policymap_socket;
	char	*tlsrpt_socket;		/* libtlsrpt datagrams; "" off */
	int	 status_interval;	/* seconds between status.json writes */
	char	*metrics_listen;	/* Prometheus /metrics; "" off */
	char	*postfix_log;		/* mail log to follow; "" off */
	char	*user;
	char	*socket_owner;		/* unix: sockets; "" user's */
	char	*socket_group;		/* "" user's primary group */
	int	 socket_mode;		/* permission bits, 0660 */
	char	*pid_file;
	int	 smtp_probe_port;
	char	*probe_bind_address;	/* IPv4 and/or IPv6 literal; "" */
	int	 probe_timeout;		/* seconds per step */
	int	 probe_cache_ttl;
	int	 gate_dane;		/* gate DANE domains by DANE */
	int	 gate_deadline;		/* seconds the RCPT gate may wait */
	char	*override_file;
	char	*local_mailers;		/* space-separated {rcpt_mailer} values */
	int	 policymap_tempfail;	/* answer TEMP on DNS trouble */
	int	 policymap_deadline;	/* seconds a map lookup may take */
	int	 policymap_realtime;	/* reactors at SCHED_RR (thr.h) */

	/* reporter */
	char	*report_org_name;
	char	*report_contact;
	char	*report_from;
	char	*report_smtp;
	char	*report_smtp_tls;	/* "none" or "starttls" */
	int	 report_sending_ip;	/* sending-mta-ip in reports */
	int	 report_max_failure_details;	/* per policy; 0: all */
	char	*dkim_domain;
	char	*dkim_selector;
	char	*dkim_key_file;
	char	*dkim_algorithm;
	int	 journal_retention;	/* days */
	char	*report_clock;		/* "YYYY-MM-DDTHH:MM:SSZ" override */
	char	*report_metrics_file;	/* node-exporter textfile; "" off */

	/* fleet mode (common/fleet/fleet_conf.h); fleet_redis "" = off */
	char	*fleet_redis;		/* unix:/path or host:port */
	char	*fleet_node;		/* "": the host name */
	char	*fleet_redis_password_file;
	int	 fleet_redis_db;
	char	*fleet_prefix;		/* of every Redis key */
	int	 fleet_timeout;		/* seconds, background Redis work */
	int	 fleet_budget_ms;	/* RCPT path's Redis budget */
	int	 fleet_lock_ms;		/* policy fetch lock */
	int	 fleet_report_grace;	/* seconds the reporter waits */
	int	 fleet_close_delay;	/* a day is closed this long after */
};

enum conf_type { CONF_STR, CONF_INT, CONF_TIME, CONF_SIZE, CONF_BOOL,
		 CONF_MODE };	/* CONF_MODE: octal permission bits */

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	const char	*def;
	long long	 min, max;
	const char	*help;
};

extern const struct conf_key conf_keys[];

struct conf	*conf_defaults(void);
/* conf_parse - apply text to c; ST_INVALID with "file:line: reason" */
enum status	 conf_parse(struct conf *c, const char *text, size_t len,
		    const char *fname, struct buf *why);
/* conf_load - defaults, then path (NULL: CONF_DEFAULT_PATH if it exists) */
struct conf	*conf_load(const char *path, struct buf *why);
void		 conf_free(struct conf *);
void		 conf_dump(const struct conf *, FILE *);
/* derived values */
char		*conf_host_name(const struct conf *, char *buf, size_t len);
const char	*conf_report_contact(const struct conf *);
const char	*conf_report_from(const struct conf *);

#endif
