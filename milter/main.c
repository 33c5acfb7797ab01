/*
 * main.c - sts-milter: the daemon
 *
 * sts-milter [-f [-s]] [-n] [-c config] | -h | -V
 *	-f	stay in the foreground and log to stderr (-s: to syslog)
 *	-n	check the configuration, print it and exit
 *	-h	usage on stdout; -V: version and library versions
 *
 * Start-up order: configuration, milter and policy-map sockets (as
 * root), privilege drop, detach, then threads.  libmilter runs in a
 * thread of its own; every other thread blocks SIGHUP, SIGTERM and
 * SIGINT, and the main thread never does: Linux hands a process-directed
 * signal to the main thread when it does not block it, so libmilter's
 * own signal thread (which would stop the filter on SIGHUP) does not
 * get them.  The handler (SA_NODEFER, so the signal stays unblocked
 * while it runs) only writes the signal number to a pipe that the main
 * loop reads.
 *
 * SIGHUP re-reads the configuration: the override map, log level,
 * report sender and local mailers change at once; keys that need new
 * sockets or resolvers are reported as needing a restart.  An invalid
 * file keeps the old configuration (LOG_ERR).  SIGTERM and SIGINT stop
 * accepting, let running callbacks finish and exit 0.
 *
 * The main loop also answers stsctl's requests (ctlreq.h: "stsctl cache
 * flush" is one) and writes the status file every status_interval.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <idn2.h>
#include <libmilter/mfapi.h>

#include "clock.h"
#include "collect.h"
#include "conf.h"
#include "control.h"
#include "ctlreq.h"
#include "dane_cache.h"
#include "dns.h"
#include "fleet_conf.h"
#include "fleet_l2.h"
#include "fsutil.h"
#include "gate.h"
#include "http.h"
#include "journal.h"
#include "log.h"
#include "logtail.h"
#include "metrics_listen.h"
#include "mlfi.h"
#include "override.h"
#include "pmap_server.h"
#include "priv.h"
#include "ship.h"
#include "sockspec.h"
#include "srcaddr.h"
#include "statedir.h"
#include "statusfile.h"
#include "sts_cache.h"
#include "tcache.h"
#include "thr.h"
#include "tls_lib.h"
#include "trust.h"
#include "version.h"
#include "xmalloc.h"

static int	sigpipe_fd[2] = { -1, -1 };

/* on_signal - hand the signal to the main loop through a pipe */
static void
on_signal(int sig)
{
	unsigned char	b = (unsigned char)sig;
	int		saved = errno;

	(void)write(sigpipe_fd[1], &b, 1);
	errno = saved;
}

/* usage - on stdout and 0 when asked for (-h), else on stderr and 64 */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: sts-milter [-f [-s]] [-n] [-c config]\n"
	    "       sts-milter -h | -V\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  -f, --foreground   do not detach; log to stderr\n"
	    "  -s, --syslog       with -f: log to syslog instead\n"
	    "  -n, --check        check the configuration, print it, exit\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      version and library versions\n",
	    CONF_DEFAULT_PATH);
	exit(status);
}

/* version - -V: ours, the common libraries', libidn2's and libmilter's */
static void
version(void)
{
	unsigned int	 maj = 0, min = 0, pl = 0;
	char		 milter[64], idn[64];
	const char	*extra[] = { idn, milter, NULL };

	(void)smfi_version(&maj, &min, &pl);
	snprintf(milter, sizeof(milter), "libmilter %u.%u.%u", maj, min, pl);
	snprintf(idn, sizeof(idn), "libidn2 %s", idn2_check_version(NULL));
	version_print(stdout, "sts-milter", extra);
	exit(0);
}

/* socket_dir - create the directory of a unix: socket, reachable by the MTA */
static void
socket_dir(const char *spec, uid_t uid, gid_t gid)
{
	struct sockspec	 ss;
	char		*slash;

	if (sockspec_parse(spec, &ss, NULL) != ST_OK ||
	    ss.kind != SOCKSPEC_UNIX)
		return;
	if ((slash = strrchr(ss.path, '/')) != NULL && slash != ss.path) {
		struct stat	st;

		*slash = '\0';
		if (stat(ss.path, &st) != 0 && fs_mkdir_p(ss.path, 0755) == 0 &&
		    uid != (uid_t)-1)
			(void)fchownat(AT_FDCWD, ss.path, uid, gid,
			    AT_SYMLINK_NOFOLLOW);	/* the last one only */
	}
}

/* open_pidfile - opened as root, written after daemon(): -1 if none */
static int
open_pidfile(const char *path)
{
	char	*spec;
	int	 fd;

	if (path[0] == '\0')
		return -1;
	spec = xasprintf("unix:%s", path);
	socket_dir(spec, (uid_t)-1, (gid_t)-1);
	free(spec);
	/* O_NOFOLLOW: root never writes through a planted symlink */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) < 0)
		log_warn("pid file %s", path);
	return fd;
}

/* write_pidfile - our pid; the fd stays open for end_pidfile() */
static void
write_pidfile(int fd)
{
	char	b[32];
	int	n;

	if (fd < 0)
		return;
	n = snprintf(b, sizeof(b), "%ld\n", (long)getpid());
	if (write(fd, b, (size_t)n) != n)
		log_warn("pid file");
}

/* end_pidfile - at stop: removed when we may, emptied anyway (after
 * the privilege drop the directory may not be ours) */
static void
end_pidfile(int fd, const char *path)
{
	if (fd < 0)
		return;
	if (unlink(path) != 0)
		(void)ftruncate(fd, 0);
	close(fd);
}

/* status_now - write state_dir/status.json (statusfile.h; col NULL: no
 * collector counts, e.g. while it is being stopped) */
static void
status_now(const struct conf *c, time_t started, int stopped,
    struct sts_cache *cache, struct journal *j, struct gate *g,
    struct pmap_server *pm, struct collect *col, struct logtail *lt,
    struct fleet_l2 *fl2)
{
	static int			 warned;
	struct statusfile_head		 h;
	struct statusfile_group		 grp[6];
	struct fleet_l2_stats		 fs;
	struct gate_stats		 gs;
	struct pmap_server_stats	 ps;
	struct collect_stats		 cs;
	struct logtail_stats		 ls;
	int				 have_lt, n = 0;

	memset(&ps, 0, sizeof(ps));
	memset(&cs, 0, sizeof(cs));
	memset(&ls, 0, sizeof(ls));
	memset(&fs, 0, sizeof(fs));
	if (fl2 != NULL)
		fleet_l2_stats(fl2, &fs);
	h.pid = (long)getpid();
	h.started = started;
	h.written = time(NULL);
	h.interval = c->status_interval;
	h.stopped = stopped;
	gate_stats(g, &gs);
	if (pm != NULL)
		pmap_server_stats(pm, &ps);
	if (col != NULL)
		collect_stats(col, &cs);
	if ((have_lt = lt != NULL && c->postfix_log[0] != '\0'))
		logtail_stats(lt, &ls);

	const struct statusfile_counter top[] = {
		{ "cache_entries", (unsigned long)sts_cache_size(cache) },
		{ "journal_errors", j != NULL ? journal_errors(j) : 0 },
	}, gate[] = {
		{ "rcpts", gs.rcpts }, { "deferred", gs.deferred },
	}, pmc[] = {
		{ "requests", ps.requests }, { "memo_hits", ps.memo_hits },
		{ "connections", ps.connections }, { "deadline", ps.deadline },
	}, tlsrpt[] = {
		{ "datagrams", cs.datagrams }, { "records", cs.records },
		{ "invalid", cs.invalid }, { "dropped", cs.dropped },
		{ "lost", cs.lost }, { "unarchived", cs.unarchived },
		{ "exim", cs.exim }, { "exim_invalid", cs.exim_invalid },
	}, ltc[] = {
		{ "lines", ls.lines }, { "smtp_lines", ls.recognised },
		{ "sessions", ls.sessions }, { "journaled", ls.journaled },
		{ "lines_bsd", ls.formats[PFF_BSD] },
		{ "lines_rfc3339", ls.formats[PFF_RFC3339] },
		{ "lines_rfc5424", ls.formats[PFF_RFC5424] },
		{ "lines_other", ls.formats[PFF_OTHER] },
	}, flc[] = {				/* fleet_l2.h */
		{ "policy_fresh", fs.pol_fresh }, { "policy_base", fs.pol_base },
		{ "policy_none", fs.pol_none }, { "lock_owned", fs.lock_owned },
		{ "lock_waited", fs.lock_waited },
		{ "lock_alone", fs.lock_alone },
		{ "verdict_hits", fs.verdict_hits },
		{ "verdict_misses", fs.verdict_misses },
		{ "unavailable", fs.unavailable }, { "written", fs.written },
		{ "dropped", fs.dropped }, { "resynced", fs.resynced },
		{ "queued", fs.queued },
	};
#define GROUP(name, a) \
	(grp[n++] = (struct statusfile_group){ name, a, sizeof(a) / sizeof(a[0]) })
	GROUP(NULL, top);
	GROUP("gate", gate);
	if (pm != NULL)
		GROUP("policymap", pmc);
	GROUP("tlsrpt", tlsrpt);
	if (have_lt)
		GROUP("postfix_log", ltc);
	if (fl2 != NULL)
		GROUP("fleet_cache", flc);
#undef GROUP
	if (statusfile_write(c->state_dir, &h, grp, (size_t)n) != 0 &&
	    !warned++)
		log_warn("status file in %s", c->state_dir);
}

/* what a metrics scrape reads: the same counters as status_now() */
struct metrics_src {
	time_t			 started;
	struct dns		*dns;
	struct sts_cache	*cache;
	struct journal		*j;
	struct gate		*g;
	struct pmap_server	*pm;
	struct collect		*col;
	struct logtail		*lt;	/* NULL: postfix_log off */
	struct ship		*ship;	/* NULL: single host */
	struct fleet_l2		*fl2;	/* NULL: single host */
};

/* metrics_fill - metrics_listen's callback, in its thread */
static void
metrics_fill(void *arg, struct metrics_snap *s)
{
	const struct metrics_src *m = arg;

	s->now = time(NULL);
	s->started = m->started;
	s->version = version_string();
	s->cache_entries = (unsigned long)sts_cache_size(m->cache);
	s->journal_errors = m->j != NULL ? journal_errors(m->j) : 0;
	gate_stats(m->g, &s->gate);
	sts_cache_stats(m->cache, &s->cache);
	dns_stats(m->dns, &s->dns);
	if (m->pm != NULL) {
		s->have_pm = 1;
		pmap_server_stats(m->pm, &s->pm);
	}
	collect_stats(m->col, &s->col);
	if (m->lt != NULL) {
		s->have_lt = 1;
		logtail_stats(m->lt, &s->lt);
	}
	if (m->fl2 != NULL) {
		s->have_fleet_cache = 1;
		fleet_l2_stats(m->fl2, &s->fleet_cache);
	}
	if (m->ship != NULL) {
		s->have_ship = 1;
		ship_stats(m->ship, &s->ship);
	}
}

static void *
milter_thread(void *arg)
{
	int	*rc = arg;

	*rc = smfi_main();
	on_signal(SIGTERM);		/* wake the main thread */
	return NULL;
}

/* reload - SIGHUP: a new configuration, or the old one if invalid */
static void
reload(const char *path, struct conf **cur, struct gate *g,
    struct pmap_server *pm, struct override **ov)
{
	struct buf	 why = BUF_INIT;
	struct conf	*nc;
	struct override	*nov;
	static const char *const restart_keys[] = { "milter_socket",
	    "policymap_socket", "tlsrpt_socket", "state_dir", "dns_resolvers",
	    "ca_file", "user", "postfix_log", "metrics_listen", "fleet_redis",
	    "fleet_node", "fleet_prefix", "socket_owner", "socket_group", NULL };
	int		 i;

	if ((nc = conf_load(path, &why)) == NULL) {
		log_err("reload: %s; keeping the running configuration",
		    buf_str(&why));
		buf_free(&why);
		return;
	}
	if (override_load(nc->override_file, &nov, &why) != ST_OK) {
		log_err("reload: override_file: %s; keeping the running "
		    "configuration", buf_str(&why));
		conf_free(nc);
		buf_free(&why);
		return;
	}
	for (i = 0; restart_keys[i] != NULL; i++) {
		const struct conf_key *k;

		for (k = conf_keys; k->name != NULL; k++)
			if (strcmp(k->name, restart_keys[i]) == 0 &&
			    strcmp(*(char **)((char *)nc + k->off),
			    *(char **)((char *)*cur + k->off)) != 0)
				log_warnx("reload: %s changed; restart "
				    "sts-milter to apply it", k->name);
	}
	if (nc->socket_mode != (*cur)->socket_mode)
		log_warnx("reload: socket_mode changed; restart sts-milter "
		    "to apply it");
	if (nc->policymap_realtime != (*cur)->policymap_realtime)
		log_warnx("reload: policymap_realtime changed; restart "
		    "sts-milter to apply it");
	gate_set_overrides(g, nov);
	if (pm != NULL)
		pmap_server_set_overrides(pm, nov);
	mlfi_set_conf(nc);
	log_setverbose(nc->log_level);
	trust_reload();		/* a CA bundle updated on disk: read it again */
	override_free(*ov);
	*ov = nov;
	/* the old struct conf is referenced by nobody now */
	conf_free(*cur);
	*cur = nc;
	log_info("reload: configuration reloaded");
	buf_free(&why);
}

/* truth_hosts - the collector's view of the gate's MX verdicts */
static size_t
truth_hosts(void *g, const char *domain, const struct sts_policy *p,
    const char *pid, int64_t deadline, struct truth_host *h, size_t max)
{
	return gate_truth_hosts(g, domain, p, pid, deadline, h, max);
}

/* the daemon's parts, from start-up to stop */
struct daemon {
	const char		*path;		/* -c, or NULL */
	int			 fg, use_syslog;
	struct conf		*c;
	struct override		*ov;
	struct passwd		*pw;		/* user, or NULL: stay root */
	struct priv_sock	 sock;		/* unix: sockets' owner, mode */
	struct dns		*dns;
	struct dane_cache	*dane;		/* dane = yes, or NULL */
	struct sts_cache	*cache;
	struct journal		*j;
	struct gate		*g;
	struct pmap_server	*pm;		/* NULL: no policy map */
	struct collect		*col;
	struct logtail		*lt;
	struct fleet_conf	 fc;		/* fc.on: fleet mode */
	struct ship		*ship;		/* fleet mode: journal shipper */
	struct metrics_listen	*ml;		/* NULL: no metrics */
	struct fleet_l2		*fl2;		/* fleet_redis set, or NULL */
	struct metrics_src	 msrc;
	int			 pidfd, ctlfd, mrc;
	char			*pid_path;
	time_t			 started;
	pthread_t		 mt;
	sigset_t		 oldmask;	/* the main thread's */
};

/* configure - options and configuration; -n checks, prints and exits */
static void
configure(struct daemon *d, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "foreground",	no_argument,	   NULL, 'f' },
		{ "syslog",	no_argument,	   NULL, 's' },
		{ "check",	no_argument,	   NULL, 'n' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct srcaddr_bind bind;
	struct buf	 why = BUF_INIT;
	int		 ch, check = 0, fac;

	while ((ch = getopt_long(argc, argv, "c:fnshV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			d->path = optarg;
			break;
		case 'f':
			d->fg = 1;
			break;
		case 's':			/* syslog in the foreground */
			d->use_syslog = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 'V':
			version();
			break;
		default:
			usage(64);
		}
	}
	if (optind != argc)
		usage(64);
	log_init("sts-milter", LOG_MAIL, 1);
	if ((d->c = conf_load(d->path, &why)) == NULL)
		fatalx("configuration: %s", buf_str(&why));
	if ((fac = log_facility(d->c->syslog_facility)) < 0)
		fatalx("configuration: syslog_facility: unknown facility \"%s\"",
		    d->c->syslog_facility);
	if (override_load(d->c->override_file, &d->ov, &why) != ST_OK)
		fatalx("override_file: %s", buf_str(&why));
	if (fleet_conf_from(&d->fc, d->c, &why) != ST_OK)
		fatalx("configuration: %s", buf_str(&why));
	if (srcaddr_bind_parse(d->c->probe_bind_address, &bind, &why) != ST_OK)
		fatalx("configuration: probe_bind_address: %s", buf_str(&why));
	if (d->c->user[0] != '\0' && getpwnam(d->c->user) == NULL)
		fatalx("configuration: user %s: no such user", d->c->user);
	if (priv_sock_conf(d->c, NULL, &d->sock, &why) != ST_OK)
		fatalx("configuration: %s", buf_str(&why));
	if (check) {
		conf_dump(d->c, stdout);
		printf("configuration OK\n");
		exit(0);
	}
	log_init("sts-milter", fac, d->fg && !d->use_syslog);
	log_setverbose(d->c->log_level);
	if (d->c->user[0] != '\0' && (d->pw = getpwnam(d->c->user)) == NULL)
		fatalx("user %s: no such user", d->c->user);
	if (priv_sock_conf(d->c, d->pw, &d->sock, &why) != ST_OK)
		fatalx("configuration: %s", buf_str(&why));
	if (priv_can_become(d->pw, &why) != 0)
		fatalx("user %s: %s", d->c->user, buf_str(&why));
	buf_free(&why);
}

/* socket_perm - socket_owner, socket_group, socket_mode on a unix:
 * socket of ours (key names it in the message) */
static void
socket_perm(const struct daemon *d, const char *key, const char *spec)
{
	struct buf	why = BUF_INIT;

	if (priv_sock_apply(&d->sock, spec, &why) != 0)
		fatalx("%s %s: %s", key, spec, buf_str(&why));
	buf_free(&why);
}

/* open_as_root - every socket, and what they need, before the drop */
static void
open_as_root(struct daemon *d)
{
	const struct conf	*c = d->c;
	struct buf		 why = BUF_INIT;
	struct sts_cache_opts	 co;
	mode_t			 old;
	uid_t			 uid = d->pw ? d->pw->pw_uid : (uid_t)-1;
	gid_t			 gid = d->pw ? d->pw->pw_gid : (gid_t)-1;

	socket_dir(c->milter_socket, uid, gid);
	if (smfi_setconn(c->milter_socket) == MI_FAILURE)
		fatalx("milter_socket %s: bad socket specification",
		    c->milter_socket);
	if (smfi_register(mlfi_desc) == MI_FAILURE)
		fatalx("smfi_register failed");
	/* every socket owner-only until socket_mode is applied (priv.h) */
	old = umask(PRIV_SOCKET_UMASK);
	if (smfi_opensocket(1) == MI_FAILURE)
		fatalx("milter_socket %s: cannot open (in use, or directory "
		    "missing?)", c->milter_socket);
	umask(old);
	socket_perm(d, "milter_socket", c->milter_socket);
	/*
	 * The policy cache starts no thread here; the policy-map listener
	 * needs it and must open its socket while we are still root.
	 */
	(void)mkdir(c->state_dir, 0750);
	if ((d->dns = dns_new(c->dns_resolvers, c->dns_timeout * 1000,
	    &why)) == NULL)
		fatalx("dns_resolvers: %s", buf_str(&why));
	/* DANE (RFC 7672): getdns validates up to these anchors */
	if (c->dane && dns_set_trust_anchors(d->dns, c->dnssec_trust_anchors,
	    &why) == -1)
		fatalx("dnssec_trust_anchors: %s (or set dane = no)",
		    buf_str(&why));
	if (c->dane) {				/* STS-DANE-1 */
		d->dane = dane_cache_new(d->dns, (size_t)c->cache_max_entries);
		buf_reset(&why);
		if (!dns_dnssec_usable(d->dns, &why))
			log_warnx("dane: DNSSEC validation does not work "
			    "through dns_resolvers with dnssec_trust_anchors "
			    "(%s): DANE is off until it does (checked again "
			    "every minute)", buf_str(&why));
	}
	sts_cache_opts_conf(&co, c, d->dns);
	d->cache = sts_cache_new(&co);
	if (c->policymap_socket[0] != '\0') {
		struct pmap_server_opts	po;

		socket_dir(c->policymap_socket, uid, gid);
		pmap_server_opts_conf(&po, c);
		if ((d->pm = pmap_server_new(c->policymap_socket, d->cache,
		    &po, &why)) == NULL)
			fatalx("policymap_socket %s: %s", c->policymap_socket,
			    buf_str(&why));
		if (d->dane != NULL)
			pmap_server_set_dane(d->pm, d->dane);
		socket_perm(d, "policymap_socket", c->policymap_socket);
	}
	/* The collector journals Exim's reports (through the policy map)
	 * and, with tlsrpt_socket, Postfix's datagrams. */
	if (c->tlsrpt_socket[0] != '\0')
		socket_dir(c->tlsrpt_socket, uid, gid);
	if ((d->col = collect_new(c->tlsrpt_socket, c->state_dir, d->cache,
	    &why)) == NULL)
		fatalx("tlsrpt_socket %s: %s", c->tlsrpt_socket, buf_str(&why));
	if (c->tlsrpt_socket[0] != '\0') {
		char	*spec = xasprintf("unix:%s", c->tlsrpt_socket);

		socket_perm(d, "tlsrpt_socket", spec);
		free(spec);
	}
	if (c->metrics_listen[0] != '\0' &&
	    (d->ml = metrics_listen_new(c->metrics_listen, &why)) == NULL)
		fatalx("metrics_listen: %s", buf_str(&why));
	d->pidfd = open_pidfile(c->pid_file);	/* as root: /run is root's */
	d->pid_path = xstrdup(c->pid_file);	/* a reload may change it */
	buf_free(&why);
}

/* fleet_cache_start - issue 12: with fleet_redis the policy cache and
 * the probe verdicts are shared through the fleet's Redis (fleet_l2.h) */
static void
fleet_cache_start(struct daemon *d)
{
	static struct tcache_l2	 vs = { fleet_l2_verdict_get,
				    fleet_l2_verdict_put, NULL, NULL, NULL };

	if (d->fc.on && (d->fl2 = fleet_l2_new(&d->fc, d->c)) != NULL) {
		sts_cache_set_l2(d->cache, fleet_l2_policies(d->fl2));
		vs.arg = d->fl2;
		gate_share_verdicts(d->g, &vs);
	}
}

/* drop_privileges - to user (priv.h) */
static void
drop_privileges(struct daemon *d)
{
	struct buf	why = BUF_INIT;
	int		e;

	/* policymap_realtime: the user may then ask for SCHED_RR 1 (the
	 * limit outlives setuid; thr.h) */
	if (d->pw != NULL && d->c->policymap_realtime &&
	    d->c->policymap_socket[0] != '\0' && geteuid() == 0 &&
	    thr_realtime_allow(THR_RT_PRIO) != 0) {
		e = errno;
		log_warnx("policymap_realtime: cannot raise RLIMIT_RTPRIO to "
		    "%d for user %s (%s%s)", THR_RT_PRIO, d->pw->pw_name,
		    strerror(e), e == EPERM ? ": no CAP_SYS_RESOURCE" : "");
	}
	if (priv_drop(d->pw, d->c->state_dir, &why) != 0)
		fatalx("%s", buf_str(&why));
	buf_free(&why);
}

/* sweep_tmp - what writers that died mid-write left in the state dirs */
static void
sweep_tmp(const char *state_dir)
{
	const char *const	*sub = statedir_dirs;
	int			 i, n = 0;

	for (i = 0; sub[i] != NULL; i++) {
		char	*dir = xasprintf("%s%s", state_dir, sub[i]);

		n += fs_sweep_tmp(dir);
		free(dir);
	}
	if (n > 0)
		log_info("removed %d temporary file%s left by a crash", n,
		    n == 1 ? "" : "s");
}

/* start - the threads: journal, gate, collectors, map, milter, metrics */
static void
start(struct daemon *d)
{
	const struct conf	*c = d->c;
	struct buf		 why = BUF_INIT;
	struct sigaction	 sa;
	sigset_t		 block;

	if (pipe2(sigpipe_fd, O_CLOEXEC) != 0)
		fatal("pipe");
	sweep_tmp(c->state_dir);
	/* stsctl's requests (cache flush), as the user that owns them */
	if ((d->ctlfd = ctlreq_listen(c->state_dir)) < 0)
		log_warn("%s/requests: stsctl requests are answered only "
		    "every status_interval", c->state_dir);
	/* Threads from here on; they must not take our signals. */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &d->oldmask);
	signal(SIGPIPE, SIG_IGN);

	http_init();
	if ((d->j = journal_open(c->state_dir, &why)) == NULL)
		log_err("journal: %s (outcomes will not be journaled)",
		    buf_str(&why));
	d->g = gate_new(c, d->cache, d->dns, d->j);
	if (d->dane != NULL && c->gate_dane)
		gate_set_dane(d->g, d->dane);
	sts_cache_on_fetch_failure(d->cache, gate_fetch_failed, d->g);
	if (d->dane != NULL)
		dane_cache_on_bogus(d->dane, gate_dane_bogus, d->g);
	fleet_cache_start(d);
	dns_set_max_queries(d->dns, c->fetch_concurrency);
	sts_cache_start_refresher(d->cache, 2);
	gate_set_overrides(d->g, d->ov);
	mlfi_init(d->g, c);

	collect_set_truth(d->col, truth_hosts, d->g);
	if (d->dane != NULL)
		collect_set_dane(d->col, d->dane);
	if (collect_start(d->col, d->j) != 0)
		fatalx("tlsrpt: cannot start the collector");
	if (c->postfix_log[0] != '\0' && c->tlsrpt_socket[0] != '\0')
		log_warnx("postfix_log and tlsrpt_socket are both set: a "
		    "Postfix that sends datagrams has each session counted "
		    "twice");
	d->lt = logtail_new(c->postfix_log, c->state_dir, d->cache);
	if (logtail_start(d->lt, d->j) != 0)
		fatalx("postfix_log: cannot start the log follower");
	if (d->pm != NULL) {
		struct pmap_exim_hook	hook = { collect_exim,
					    collect_exim_invalid, d->col };

		pmap_server_set_overrides(d->pm, d->ov);
		pmap_server_on_exim(d->pm, &hook);
		if (pmap_server_start(d->pm) != 0)
			fatalx("policymap: cannot start");
	}

	if (d->fc.on && ship_start(d->ship = ship_new(&d->fc,
	    c->state_dir)) != 0)
		fatalx("fleet: cannot start the journal shipper");
	if (pthread_create(&d->mt, NULL, milter_thread, &d->mrc) != 0)
		fatal("pthread_create");
	d->started = time(NULL);
	if (d->ml != NULL) {
		d->msrc = (struct metrics_src){ d->started, d->dns, d->cache,
		    d->j, d->g, d->pm, d->col,
		    c->postfix_log[0] != '\0' ? d->lt : NULL, d->ship,
		    d->fl2 };
		if (metrics_listen_start(d->ml, metrics_fill, &d->msrc) != 0)
			fatalx("metrics_listen: cannot start");
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (*tls_lib_why() != '\0')
		log_warnx("TLS client context: %s", tls_lib_why());
	log_info("started: milter_socket=%s policymap_socket=%s "
	    "tlsrpt_socket=%s metrics_listen=%s state_dir=%s", c->milter_socket,
	    c->policymap_socket[0] ? c->policymap_socket : "off",
	    c->tlsrpt_socket[0] ? c->tlsrpt_socket : "off",
	    c->metrics_listen[0] ? c->metrics_listen : "off", c->state_dir);
	pthread_sigmask(SIG_SETMASK, &d->oldmask, NULL);
	buf_free(&why);
}

/* write_status - status_now() with the daemon's parts */
static void
write_status(struct daemon *d, int stopped)
{
	status_now(d->c, d->started, stopped, d->cache, d->j, d->g, d->pm,
	    d->col, d->lt, d->fl2);
}

/* serve - the main loop: signals, stsctl requests, the status file */
static void
serve(struct daemon *d)
{
	int64_t	next_status;

	write_status(d, 0);
	next_status = clock_mono_ms() + d->c->status_interval * 1000LL;
	for (;;) {
		unsigned char	sig;
		struct pollfd	pfd[2] = { { sigpipe_fd[0], POLLIN, 0 },
				    { d->ctlfd, POLLIN, 0 } };
		ssize_t		n;
		int64_t		wait = next_status - clock_mono_ms();

		/* the status file every status_interval, signals and
		 * requests between (they do not postpone it) */
		if (wait <= 0 || poll(pfd, d->ctlfd >= 0 ? 2 : 1, (int)wait) ==
		    0) {
			write_status(d, 0);
			next_status = clock_mono_ms() +
			    d->c->status_interval * 1000LL;
			if (d->ctlfd < 0)	/* no inotify: now and then */
				(void)ctlreq_serve(d->c->state_dir, -1,
				    control_answer, d->cache);
			continue;
		}
		if (d->ctlfd >= 0 && (pfd[1].revents & POLLIN)) {
			(void)ctlreq_serve(d->c->state_dir, d->ctlfd,
			    control_answer, d->cache);
			if (!(pfd[0].revents & POLLIN))
				continue;
		}
		n = read(sigpipe_fd[0], &sig, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != 1 || sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			reload(d->path, &d->c, d->g, d->pm, &d->ov);
			/* at once: status_interval may have changed */
			write_status(d, 0);
			next_status = clock_mono_ms() +
			    d->c->status_interval * 1000LL;
		}
	}
}

/* stop - in the order that lets each part finish what it holds */
static int
stop(struct daemon *d)
{
	log_info("stopping");
	(void)smfi_stop();
	pthread_join(d->mt, NULL);
	collect_drain(d->col);		/* log their counts */
	logtail_drain(d->lt);
	write_status(d, 1);
	metrics_listen_stop(d->ml);	/* before what it reads is freed */
	if (d->pm != NULL)
		pmap_server_stop(d->pm); /* frees pm: after its counts */
	if (d->ctlfd >= 0)
		close(d->ctlfd);
	collect_stop(d->col);
	logtail_stop(d->lt);
	ship_stop(d->ship);		/* after the journal's writers */
	gate_free(d->g);
	dane_cache_free(d->dane);
	sts_cache_free(d->cache);
	fleet_l2_free(d->fl2);		/* after its users: writes the rest */
	journal_close(d->j);
	dns_free(d->dns);
	override_free(d->ov);
	end_pidfile(d->pidfd, d->pid_path);
	free(d->pid_path);
	conf_free(d->c);
	log_info("stopped");
	return d->mrc == MI_SUCCESS ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct daemon	d;

	memset(&d, 0, sizeof(d));
	d.ctlfd = d.pidfd = -1;
	configure(&d, argc, argv);
	open_as_root(&d);
	drop_privileges(&d);
	if (!d.fg && daemon(0, 0) != 0)
		fatal("daemon");
	write_pidfile(d.pidfd);
	start(&d);
	serve(&d);
	return stop(&d);
}
